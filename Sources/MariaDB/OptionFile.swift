/// A parsed MySQL option file (`my.cnf`, `[client]`-style), for validation and preflight.
///
/// libmariadb reads the file itself at connect time (see ``MariaDBConnection/Configuration/OptionFile``); this
/// parser lets the program tell the operator, before connecting, which settings a file provides. It follows
/// MySQL's rules (`mysys/my_default.cc`):
/// - `[group]` headers (matched case-insensitively); options before the first group are an error;
/// - `name = value` or a bare `name` (a flag); `_` and `-` are the same in names, and a `loose-` prefix is
///   ignored when looking names up;
/// - whole-line comments start with `#` or `;`; a `#` outside quotes ends the line;
/// - values are trimmed; one pair of matching outer quotes (`"…"` or `'…'`) is removed; the escapes `\n`, `\t`,
///   `\r`, `\b`, `\s` (space), `\"`, `\'` and `\\` are decoded, any other backslash is kept;
/// - `!include` and `!includedir` are not followed: they are listed in ``unsupportedDirectives``.
///
/// The description and dump list groups and option names only, never values (a file may hold a password).
public struct OptionFile: Sendable, CustomStringConvertible, CustomReflectable {
    /// One `name[=value]` line.
    public struct Option: Sendable, Hashable {
        /// The name as written (trimmed).
        public var name: String
        /// The decoded value, or nil for a bare flag such as `skip-ssl`.
        public var value: String?
        /// The 1-based line number.
        public var line: Int

        /// Creates an option.
        public init(name: String, value: String?, line: Int) {
            self.name = name
            self.value = value
            self.line = line
        }

        /// The name for lookups: `_` replaced by `-`, a `loose-` prefix removed.
        public var canonicalName: String { OptionFile.canonicalName(name) }
    }

    /// One `[group]` and its options, in file order.
    public struct Group: Sendable, Hashable {
        /// The group name as written, without brackets.
        public var name: String
        /// The options, in file order.
        public var options: [Option]
        /// The 1-based line number of the header.
        public var line: Int

        /// Creates a group.
        public init(name: String, options: [Option] = [], line: Int = 0) {
            self.name = name
            self.options = options
            self.line = line
        }
    }

    /// An `!include` or `!includedir` directive, which this parser does not follow.
    public struct Directive: Sendable, Hashable {
        /// `include` or `includedir`.
        public var keyword: String
        /// The path after the keyword.
        public var argument: String
        /// The 1-based line number.
        public var line: Int
    }

    /// Where the text came from, when it was read from a file.
    public let path: String?
    /// The groups in file order. A group that appears twice is listed twice.
    public let groups: [Group]
    /// Directives that were seen but not followed.
    public let unsupportedDirectives: [Directive]

    /// Parses option-file text.
    ///
    /// - Parameters:
    ///   - text: the contents of the file.
    ///   - path: where it came from, used in error messages only.
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/optionFile``) for an option outside any group or a
    ///   group header without `]`; the message names the line, never its content.
    public init(parsing text: String, path: String? = nil) throws {
        do {
            let parsed = try Self.parse(lines: Self.splitLines(Array(text.utf8)), trailingComments: true)
            self.init(path: path, groups: parsed.groups, directives: parsed.directives)
        } catch {
            throw MariaDBError(code: .optionFile, message: error.message(path: path))
        }
    }

    /// Reads and parses the option file at `path`.
    ///
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/optionFile``) when the file cannot be read or does not parse.
    public init(contentsOf path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path).bytes
        } catch {
            throw MariaDBError(code: .optionFile, message: "option file \(path) \(error.reason)")
        }
        do {
            let parsed = try Self.parse(lines: Self.splitLines(bytes), trailingComments: true)
            self.init(path: path, groups: parsed.groups, directives: parsed.directives)
        } catch {
            throw MariaDBError(code: .optionFile, message: error.message(path: path))
        }
    }

    init(path: String?, groups: [Group], directives: [Directive]) {
        self.path = path
        self.groups = groups
        self.unsupportedDirectives = directives
    }

    /// The distinct group names, in order of first appearance.
    public var groupNames: [String] {
        var seen = Set<String>()
        return groups.map(\.name).filter { seen.insert($0.lowercased()).inserted }
    }

    /// The options that a client reading `groupNames` would see, merged in file order (a later line wins, as
    /// in MySQL), keyed by ``Option/canonicalName``.
    public func options(inGroups groupNames: [String]) -> [String: Option] {
        let wanted = Set(groupNames.map { $0.lowercased() })
        var merged: [String: Option] = [:]
        for group in groups where wanted.contains(group.name.lowercased()) {
            for option in group.options { merged[option.canonicalName] = option }
        }
        return merged
    }

    /// The value of option `name` for a client reading `groupNames`; nil when absent. A bare flag has value nil
    /// and is reported by ``options(inGroups:)`` instead.
    public func value(of name: String, inGroups groupNames: [String]) -> String? {
        options(inGroups: groupNames)[Self.canonicalName(name)]?.value
    }

    /// The canonical names of the options a client reading `groupNames` would see, sorted.
    public func optionNames(inGroups groupNames: [String]) -> [String] {
        options(inGroups: groupNames).keys.sorted()
    }

    public var description: String {
        var parts = groups.map { group in "[\(group.name)] " + group.options.map(\.name).joined(separator: ", ") }
        if !unsupportedDirectives.isEmpty {
            parts.append(
                "unsupported: " + unsupportedDirectives.map { "!\($0.keyword) \($0.argument)" }.joined(separator: ", "))
        }
        return "OptionFile(\(path ?? "<text>"): " + parts.joined(separator: "; ") + ")"
    }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "path": path as Any,
                "groups": groups.map { "[\($0.name)] " + $0.options.map(\.name).joined(separator: ", ") },
                "unsupportedDirectives": unsupportedDirectives,
            ],
            displayStyle: .struct
        )
    }

    static func canonicalName(_ name: String) -> String {
        var canonical = String(name.map { $0 == "_" ? "-" : $0 })
        if canonical.hasPrefix("loose-") { canonical.removeFirst(6) }
        return canonical
    }

    // MARK: Parsing (byte-based, like the C original)

    struct ParseFailure: Error {
        var line: Int
        var problem: String

        func message(path: String?) -> String {
            "\(path ?? "option text") line \(line): \(problem)"
        }
    }

    struct Parsed {
        var groups: [Group]
        var directives: [Directive]
    }

    static func splitLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// Parses lines; `trailingComments` is false for login-path files, where MySQL does not strip `# …`.
    static func parse(lines: [ArraySlice<UInt8>], trailingComments: Bool) throws(ParseFailure) -> Parsed {
        var groups: [Group] = []
        var directives: [Directive] = []
        for (offset, rawLine) in lines.enumerated() {
            let number = offset + 1
            var line = rawLine.drop(while: isSpace)
            guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: ";") else { continue }

            if first == UInt8(ascii: "!") {
                let body = trimmed(line.dropFirst())
                for keyword in ["includedir", "include"] {
                    let keywordBytes = Array(keyword.utf8)
                    if body.starts(with: keywordBytes), body.count > keywordBytes.count,
                        isSpace(body[body.startIndex + keywordBytes.count])
                    {
                        let argument = trimmed(body.dropFirst(keywordBytes.count))
                        directives.append(Directive(keyword: keyword, argument: text(argument), line: number))
                        break
                    }
                }
                continue  // MySQL ignores other directives.
            }

            if first == UInt8(ascii: "[") {
                guard let close = line.firstIndex(of: UInt8(ascii: "]")) else {
                    throw ParseFailure(line: number, problem: "group header has no closing ]")
                }
                let name = line[(line.startIndex + 1)..<close]
                groups.append(Group(name: text(trimmedEnd(name)), line: number))
                continue
            }

            guard !groups.isEmpty else {
                throw ParseFailure(line: number, problem: "option outside of any [group]")
            }

            if trailingComments { line = removeTrailingComment(line) }
            let option: Option
            if let equals = line.firstIndex(of: UInt8(ascii: "=")) {
                let name = trimmedEnd(line[..<equals])
                option = Option(name: text(name), value: decodeValue(line[(equals + 1)...]), line: number)
            } else {
                option = Option(name: text(trimmedEnd(line)), value: nil, line: number)
            }
            groups[groups.count - 1].options.append(option)
        }
        return Parsed(groups: groups, directives: directives)
    }

    /// Trims, removes one pair of matching outer quotes and decodes escapes, as `my_default.cc` does.
    static func decodeValue(_ raw: ArraySlice<UInt8>) -> String {
        var value = trimmed(raw)
        if value.count > 1, let first = value.first, first == UInt8(ascii: "\"") || first == UInt8(ascii: "'"),
            value.last == first
        {
            value = value.dropFirst().dropLast()
        }
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        var index = value.startIndex
        while index < value.endIndex {
            let byte = value[index]
            if byte == UInt8(ascii: "\\"), index + 1 < value.endIndex {
                index += 1
                switch value[index] {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "s"): out.append(0x20)
                case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "\\"): out.append(value[index])
                default: out += [UInt8(ascii: "\\"), value[index]]
                }
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Cuts the line at the first `#` that is outside quotes (MySQL's `remove_end_comment`).
    static func removeTrailingComment(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var quote: UInt8?
        var escaped = false
        for index in line.indices {
            let byte = line[index]
            if (byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"")) && !escaped {
                if quote == nil { quote = byte } else if quote == byte { quote = nil }
            }
            if quote == nil && byte == UInt8(ascii: "#") { return line[..<index] }
            escaped = quote != nil && byte == UInt8(ascii: "\\") && !escaped
        }
        return line
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        trimmedEnd(bytes.drop(while: isSpace))
    }

    static func trimmedEnd(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var end = bytes.endIndex
        while end > bytes.startIndex, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[bytes.startIndex..<end]
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

extension MariaDBConnection.Configuration.OptionFile {
    /// The groups libmariadb reads from this file: `client`, `client-server`, `client-mariadb` and ``group``.
    public var groupsRead: [String] {
        var names = ["client", "client-server", "client-mariadb"]
        if let group, !names.contains(group.lowercased()) { names.append(group) }
        return names
    }

    /// Reads and parses the file, without connecting (for preflight).
    ///
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/optionFile``) when it cannot be read or parsed.
    public func load() throws -> MariaDB.OptionFile {
        try MariaDB.OptionFile(contentsOf: path)
    }

    /// The names of the options this file provides to the connection (``groupsRead``), sorted: for example
    /// `["host", "password", "ssl-ca"]`. Values are not returned.
    ///
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/optionFile``) when it cannot be read or parsed.
    public func providedOptionNames() throws -> [String] {
        try load().optionNames(inGroups: groupsRead)
    }
}
