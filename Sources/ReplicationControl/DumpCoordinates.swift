/// The replication coordinates a logical dump recorded in its header: where a replica restored from that dump must
/// start reading the source's binary log.
///
/// `mysqldump --source-data` (8.0.26+) writes `CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='…', SOURCE_LOG_POS=…;`,
/// older `mysqldump --master-data` and `mariadb-dump --master-data` write `CHANGE MASTER TO MASTER_LOG_FILE='…',
/// MASTER_LOG_POS=…;`, either commented out (`-- ` prefix, option value 2) or not (value 1). `mysqldump` with GTIDs
/// adds `SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'uuid:1-5,\nuuid:1-3';` (the set may span lines);
/// `mariadb-dump --gtid` adds `SET GLOBAL gtid_slave_pos='0-1-5';` and `CHANGE MASTER TO MASTER_USE_GTID=slave_pos;`.
/// ``parse(_:)`` reads them all, and refuses a header that contradicts itself or has nothing to start from.
public struct DumpCoordinates: Sendable, Hashable, CustomStringConvertible {
    /// Which statement the coordinates came from.
    public enum Syntax: String, Sendable, Hashable {
        /// `CHANGE MASTER TO` (mysqldump before 8.0.26, mariadb-dump).
        case changeMaster = "CHANGE MASTER TO"
        /// `CHANGE REPLICATION SOURCE TO` (mysqldump 8.0.26+ with `--source-data`).
        case changeReplicationSource = "CHANGE REPLICATION SOURCE TO"
    }

    /// The source's binlog coordinates at the moment of the dump; nil when the header has only a GTID state.
    public var position: BinlogPosition?
    /// The statement the position came from.
    public var syntax: Syntax?
    /// Whether that statement was commented out (`--source-data=2`): restoring the dump did not execute it.
    public var positionCommented: Bool
    /// MySQL: the executed GTID set at the dump (`SET @@GLOBAL.GTID_PURGED`), whitespace removed.
    public var mySQLGTIDPurged: String?
    /// MySQL 8.0: the `GTID_PURGED` statement adds to the restored server's set (`'+'`) instead of replacing it.
    public var gtidPurgedAppends: Bool
    /// MariaDB: the GTID position to start from (`SET GLOBAL gtid_slave_pos`).
    public var mariaDBGTIDSlavePosition: String?
    /// Whether the header says `MASTER_USE_GTID=slave_pos` (mariadb-dump `--gtid`).
    public var mariaDBUsesGTID: Bool
    /// The host named in the coordinates statement: present only in a dump taken **from a replica** with
    /// `--dump-slave` / `--dump-replica`, whose coordinates are those of that replica's own source.
    public var namedSourceHost: String?

    /// Creates coordinates (the parser fills them; tests build them directly).
    public init(
        position: BinlogPosition? = nil,
        syntax: Syntax? = nil,
        positionCommented: Bool = false,
        mySQLGTIDPurged: String? = nil,
        gtidPurgedAppends: Bool = false,
        mariaDBGTIDSlavePosition: String? = nil,
        mariaDBUsesGTID: Bool = false,
        namedSourceHost: String? = nil
    ) {
        self.position = position
        self.syntax = syntax
        self.positionCommented = positionCommented
        self.mySQLGTIDPurged = mySQLGTIDPurged
        self.gtidPurgedAppends = gtidPurgedAppends
        self.mariaDBGTIDSlavePosition = mariaDBGTIDSlavePosition
        self.mariaDBUsesGTID = mariaDBUsesGTID
        self.namedSourceHost = namedSourceHost
    }

    public var description: String {
        var parts: [String] = []
        if let position { parts.append("position \(position)") }
        if let mySQLGTIDPurged { parts.append("GTID_PURGED \(gtidPurgedAppends ? "+" : "")'\(mySQLGTIDPurged)'") }
        if let mariaDBGTIDSlavePosition { parts.append("gtid_slave_pos '\(mariaDBGTIDSlavePosition)'") }
        return parts.isEmpty ? "no coordinates" : parts.joined(separator: ", ")
    }

    /// The header lines a parser reads at most: the coordinates come before the first table.
    public static let headerLineLimit = 10_000

    /// Reads the coordinates from the beginning of a dump.
    ///
    /// Stops at the first `CREATE TABLE` or `INSERT INTO` (the coordinates and GTID state come before any data), or
    /// after ``headerLineLimit`` lines. Pass only the beginning of a large dump: a few hundred kilobytes hold any
    /// header.
    ///
    /// `mariadb-dump --gtid` (10.11) writes its `SET GLOBAL gtid_slave_pos` at the **end** of the dump ("The deferred
    /// gtid setting for slave ... follows"): pass the dump's last lines as `trailer` to read it too.
    ///
    /// - Parameters:
    ///   - text: the dump's first lines.
    ///   - trailer: the dump's last lines (a few kilobytes), where mariadb-dump defers the GTID state.
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/invalidArgument``) when the header has no coordinates
    ///   (the dump was taken without `--source-data` / `--master-data`), names two different positions, or has a
    ///   malformed one.
    public static func parse(_ text: some StringProtocol, trailer: String? = nil) throws -> DumpCoordinates {
        var result = DumpCoordinates()
        if let trailer {
            for rawLine in trailer.split(separator: "\n") {
                var line = rawLine.drop { $0 == " " || $0 == "\t" }
                if line.hasPrefix("-- ") { line = line.dropFirst(3).drop { $0 == " " } }
                if line.hasSuffix("\r") { line = line.dropLast() }
                let upper = line.uppercased()
                if upper.hasPrefix("SET GLOBAL GTID_SLAVE_POS") || upper.hasPrefix("SET @@GLOBAL.GTID_SLAVE_POS") {
                    try result.absorb(String(line), commented: false)
                }
            }
        }
        var pending: (statement: String, commented: Bool)?
        var lineCount = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineCount += 1
            if lineCount > headerLineLimit { break }
            var line = Substring(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            var commented = false
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("-- ") || trimmed == "--" {
                commented = true
                line = trimmed.dropFirst(2).drop { $0 == " " || $0 == "\t" }
            } else {
                line = trimmed
            }
            if var open = pending {
                open.statement += " " + line
                pending = open
                if line.contains(";") {
                    try result.absorb(open.statement, commented: open.commented)
                    pending = nil
                }
                continue
            }
            let upper = line.uppercased()
            if !commented, upper.hasPrefix("CREATE TABLE") || upper.hasPrefix("INSERT INTO") { break }
            let starts =
                upper.hasPrefix("CHANGE MASTER ") || upper.hasPrefix("CHANGE REPLICATION SOURCE TO")
                || upper.hasPrefix("SET @@GLOBAL.GTID_PURGED") || upper.hasPrefix("SET GLOBAL GTID_SLAVE_POS")
                || upper.hasPrefix("SET @@GLOBAL.GTID_SLAVE_POS")
            guard starts else { continue }
            if line.contains(";") {
                try result.absorb(String(line), commented: commented)
            } else {
                pending = (String(line), commented)
            }
        }
        if let pending { try result.absorb(pending.statement, commented: pending.commented) }
        guard result.position != nil || result.mySQLGTIDPurged != nil || result.mariaDBGTIDSlavePosition != nil else {
            throw ReplicationError(
                code: .invalidArgument,
                message: "the dump's header has no replication coordinates (no CHANGE MASTER TO / CHANGE REPLICATION "
                    + "SOURCE TO with a log file and position, no GTID_PURGED, no gtid_slave_pos): take the dump with "
                    + "mysqldump --source-data=2 (or --master-data=2) or mariadb-dump --master-data=2, or pass "
                    + "--file and --position read from where the copy was taken"
            )
        }
        return result
    }

    /// Folds one statement of the header into the result.
    private mutating func absorb(_ statement: String, commented: Bool) throws {
        let upper = statement.uppercased()
        if upper.hasPrefix("SET @@GLOBAL.GTID_PURGED") {
            guard let equals = statement.firstIndex(of: "=") else { return }
            let value = statement[statement.index(after: equals)...]
            // `/*!80000 '+'*/ 'set'`: the version comment holds the '+'; the set is the last quoted string.
            let literals = Self.quotedLiterals(in: value)
            guard let set = literals.last else {
                throw ReplicationError(code: .invalidArgument, message: "malformed GTID_PURGED in the dump's header: \(statement.prefix(200))")
            }
            let cleaned = set.filter { !$0.isWhitespace }
            let appends = literals.count > 1 && literals.dropLast().contains("+")
            if let existing = mySQLGTIDPurged, existing != cleaned {
                throw ReplicationError(code: .invalidArgument, message: "the dump's header sets GTID_PURGED twice, to different sets")
            }
            mySQLGTIDPurged = cleaned
            gtidPurgedAppends = appends
            return
        }
        if upper.hasPrefix("SET GLOBAL GTID_SLAVE_POS") || upper.hasPrefix("SET @@GLOBAL.GTID_SLAVE_POS") {
            guard let value = Self.quotedLiterals(in: Substring(statement)).last else {
                throw ReplicationError(code: .invalidArgument, message: "malformed gtid_slave_pos in the dump's header: \(statement.prefix(200))")
            }
            mariaDBGTIDSlavePosition = value.filter { !$0.isWhitespace }
            return
        }
        // CHANGE MASTER ['name'] TO k=v, ... ; / CHANGE REPLICATION SOURCE TO k=v, ... [FOR CHANNEL 'x'];
        guard let toRange = Self.rangeIgnoringCase(of: " TO ", in: Substring(statement)) else { return }
        let syntax: Syntax = upper.hasPrefix("CHANGE REPLICATION SOURCE") ? .changeReplicationSource : .changeMaster
        var body = statement[toRange.upperBound...]
        if let semicolon = Self.firstUnquoted(";", in: body) { body = body[..<semicolon] }
        var file: String?
        var offsetText: String?
        for assignment in Self.splitUnquoted(body, on: ",") {
            let parts = assignment.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingSpaces().uppercased()
            var value = parts[1].trimmingSpaces()
            if let forChannel = Self.rangeIgnoringCase(of: " FOR CHANNEL", in: Substring(value)) {
                value = String(value[..<forChannel.lowerBound]).trimmingSpaces()
            }
            let unquoted = Self.quotedLiterals(in: Substring(value)).first ?? value
            switch key {
            case "MASTER_LOG_FILE", "SOURCE_LOG_FILE": file = unquoted
            case "MASTER_LOG_POS", "SOURCE_LOG_POS": offsetText = unquoted
            case "MASTER_HOST", "SOURCE_HOST": namedSourceHost = unquoted
            case "MASTER_USE_GTID": mariaDBUsesGTID = unquoted.lowercased() != "no"
            default: break
            }
        }
        guard file != nil || offsetText != nil else { return }
        guard let file, let offsetText else {
            throw ReplicationError(code: .invalidArgument, message: "the dump's header names a log file or a position but not both: \(statement.prefix(200))")
        }
        let position = try BinlogPosition(file: file, offsetText: offsetText)
        if let existing = self.position, existing.file != position.file || existing.offset != position.offset {
            throw ReplicationError(
                code: .invalidArgument,
                message: "the dump's header names two different positions (\(existing) and \(position)); pass --file and --position explicitly"
            )
        }
        self.position = position
        self.syntax = syntax
        self.positionCommented = commented
    }

    /// The contents of every single-quoted literal in `text` (a doubled quote or a backslash escapes a quote).
    static func quotedLiterals(in text: Substring) -> [String] {
        var literals: [String] = []
        var current: String?
        var iterator = text.makeIterator()
        var lookahead: Character? = iterator.next()
        while let character = lookahead {
            lookahead = iterator.next()
            if var open = current {
                if character == "\\", let next = lookahead {
                    open.append(next)
                    lookahead = iterator.next()
                    current = open
                } else if character == "'" {
                    if lookahead == "'" {
                        open.append("'")
                        lookahead = iterator.next()
                        current = open
                    } else {
                        literals.append(open)
                        current = nil
                    }
                } else {
                    open.append(character)
                    current = open
                }
            } else if character == "'" {
                current = ""
            }
        }
        return literals
    }

    /// The first range of `needle` (upper case, ASCII) in `text`, ignoring case.
    static func rangeIgnoringCase(of needle: String, in text: Substring) -> Range<Substring.Index>? {
        var index = text.startIndex
        while index < text.endIndex {
            let candidate = text[index...].prefix(needle.count)
            if candidate.count == needle.count, candidate.uppercased() == needle {
                return index..<candidate.endIndex
            }
            index = text.index(after: index)
        }
        return nil
    }

    static func firstUnquoted(_ target: Character, in text: Substring) -> Substring.Index? {
        var quoted = false
        for index in text.indices {
            let character = text[index]
            if character == "'" { quoted.toggle() } else if character == target, !quoted { return index }
        }
        return nil
    }

    static func splitUnquoted(_ text: Substring, on separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var quoted = false
        for index in text.indices {
            let character = text[index]
            if character == "'" {
                quoted.toggle()
            } else if character == separator, !quoted {
                parts.append(text[start..<index])
                start = text.index(after: index)
            }
        }
        parts.append(text[start...])
        return parts
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
