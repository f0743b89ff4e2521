extension ServerInspection {
    /// One line of `SHOW GRANTS FOR`, parsed into privileges and the object they apply to.
    ///
    /// Only the privilege list and the `ON` target are kept: the account, and any `IDENTIFIED BY PASSWORD '*…'`
    /// hash that MariaDB appends, are dropped, so a grant can be shown in a report.
    public struct Grant: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The privileges, upper-cased, with column lists removed (`SELECT (a, b)` becomes `SELECT`), in the
        /// order granted.
        public var privileges: [String]
        /// What they apply to, without quotes (`*.*`, `app.*`, `app.orders`).
        public var target: String
        /// Whether the line ends `WITH GRANT OPTION`.
        public var withGrantOption: Bool

        /// Creates a grant.
        public init(privileges: [String], target: String, withGrantOption: Bool = false) {
            self.privileges = privileges
            self.target = target
            self.withGrantOption = withGrantOption
        }

        /// Parses one line of `SHOW GRANTS` (`GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'%'`);
        /// nil for a line that grants no privileges on an object (a role grant `GRANT r TO u`, or text that is
        /// not a `GRANT`).
        public init?(parsing line: String) {
            let text = line.trimmingCharacters(in: " \t\r\n")
            guard text.uppercased().hasPrefix("GRANT ") else { return nil }
            let body = String(text.dropFirst(6))
            guard let onRange = Self.topLevelRange(of: " ON ", in: body) else { return nil }
            let afterOn = String(body[onRange.upperBound...])
            guard let toRange = Self.topLevelRange(of: " TO ", in: afterOn) else { return nil }
            let list = String(body[..<onRange.lowerBound])
            var target = String(afterOn[..<toRange.lowerBound])
            target.removeAll { $0 == "`" || $0 == "\"" }
            let privileges = Self.splitTopLevel(list).map { item -> String in
                var privilege = item
                if let paren = privilege.firstIndex(of: "(") { privilege = String(privilege[..<paren]) }
                return privilege.trimmingCharacters(in: " \t").uppercased()
            }.filter { !$0.isEmpty }
            guard !privileges.isEmpty else { return nil }
            self.init(
                privileges: privileges,
                target: target.trimmingCharacters(in: " \t"),
                withGrantOption: text.uppercased().hasSuffix("WITH GRANT OPTION")
            )
        }

        /// Whether the grant applies to every object (`ON *.*`).
        public var isGlobal: Bool { target == "*.*" }

        /// Other spellings of the same privilege: MariaDB 10.5 renamed `REPLICATION CLIENT` to `BINLOG MONITOR`,
        /// and MySQL 8.0 accepts `REPLICATION REPLICA` for `REPLICATION SLAVE`.
        static let synonyms: [String: Set<String>] = [
            "REPLICATION CLIENT": ["REPLICATION CLIENT", "BINLOG MONITOR"],
            "BINLOG MONITOR": ["REPLICATION CLIENT", "BINLOG MONITOR"],
            "REPLICATION SLAVE": ["REPLICATION SLAVE", "REPLICATION REPLICA"],
            "REPLICATION REPLICA": ["REPLICATION SLAVE", "REPLICATION REPLICA"],
        ]

        /// Whether this grant gives `privilege` (any spelling; `ALL [PRIVILEGES]` gives every one).
        public func grants(_ privilege: String) -> Bool {
            let wanted = privilege.uppercased()
            let names = Self.synonyms[wanted] ?? [wanted]
            return privileges.contains { $0 == "ALL" || $0 == "ALL PRIVILEGES" || names.contains($0) }
        }

        /// Whether any of `grants` gives `privilege` on `*.*`.
        public static func grantsGlobally(_ privilege: String, in grants: [Grant]) -> Bool {
            grants.contains { $0.isGlobal && $0.grants(privilege) }
        }

        /// `REPLICATION SLAVE, REPLICATION CLIENT ON *.*`.
        public var description: String {
            privileges.joined(separator: ", ") + " ON \(target)" + (withGrantOption ? " WITH GRANT OPTION" : "")
        }

        /// The first occurrence of `needle` (case-insensitive) in `text` outside quotes and parentheses.
        static func topLevelRange(of needle: String, in text: String) -> Range<String.Index>? {
            let upper = needle.uppercased()
            var depth = 0
            var quote: Character?
            var index = text.startIndex
            while index < text.endIndex {
                let character = text[index]
                if let open = quote {
                    if character == open { quote = nil }
                } else if character == "'" || character == "`" || character == "\"" {
                    quote = character
                } else if character == "(" {
                    depth += 1
                } else if character == ")" {
                    depth = max(0, depth - 1)
                } else if depth == 0, text[index...].uppercased().hasPrefix(upper) {
                    return index..<text.index(index, offsetBy: needle.count)
                }
                index = text.index(after: index)
            }
            return nil
        }

        /// `text` split on commas outside parentheses and quotes.
        static func splitTopLevel(_ text: String) -> [String] {
            var parts: [String] = []
            var current = ""
            var depth = 0
            var quote: Character?
            for character in text {
                if let open = quote {
                    if character == open { quote = nil }
                } else if character == "'" || character == "`" || character == "\"" {
                    quote = character
                } else if character == "(" {
                    depth += 1
                } else if character == ")" {
                    depth = max(0, depth - 1)
                } else if character == ",", depth == 0 {
                    parts.append(current)
                    current = ""
                    continue
                }
                current.append(character)
            }
            parts.append(current)
            return parts
        }
    }
}

extension String {
    /// The string without leading and trailing characters of `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        guard let start = firstIndex(where: { !set.contains($0) }) else { return "" }
        let end = lastIndex(where: { !set.contains($0) })!
        return String(self[start...end])
    }
}
