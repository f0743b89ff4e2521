/// A coordinate in a server's binary log: a file name and a byte offset in it.
///
/// Positions in the same log (the same base name) order by the numeric suffix of the file name, then by the
/// offset: `mysql-bin.000010` comes after `mysql-bin.000009`. Positions in logs of different base names
/// (`mysql-bin.000200` and Aurora's `mysql-bin-changelog.000123`) come from different servers (or a renamed log)
/// and are **incomparable**: ``compare(with:)`` throws rather than inventing an order, so a replica reading the
/// wrong binlog can never look caught up. The initializers throw on malformed input instead of defaulting to zero.
///
/// ```swift
/// let executed = try BinlogPosition(file: "mysql-bin.000010", offset: 4)
/// let target = try BinlogPosition(parsing: "mysql-bin.000009:1234")
/// try executed.isAtOrPast(target) // true
/// ```
public struct BinlogPosition: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The binary log file name as the server spells it (`mysql-bin.000010`).
    public let file: String
    /// The byte offset in ``file``.
    public let offset: UInt64
    /// The numeric suffix of ``file`` (`10` for `mysql-bin.000010`).
    public let fileSequence: UInt64

    /// Creates a position.
    ///
    /// - Parameters:
    ///   - file: the file name; it must end in `.` followed by digits (`mysql-bin.000010`), with a non-empty base
    ///     name and no whitespace or control characters.
    ///   - offset: the byte offset in the file.
    /// - Throws: ``ReplicationError`` with code ``ReplicationError/Code/malformedPosition`` when `file` is malformed.
    public init(file: String, offset: UInt64) throws {
        guard let sequence = Self.sequence(ofFile: file) else {
            throw ReplicationError(
                code: .malformedPosition,
                message: "binlog file name \(Self.quoted(file)) does not end in '.' and a number"
            )
        }
        self.file = file
        self.offset = offset
        self.fileSequence = sequence
    }

    /// Creates a position from a file name and an offset given as text (as in a status row).
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedPosition``) when either part is malformed.
    public init(file: String, offsetText: some StringProtocol) throws {
        guard let offset = Self.parseOffset(offsetText) else {
            throw ReplicationError(
                code: .malformedPosition,
                message: "binlog offset \(Self.quoted(String(offsetText))) is not a non-negative integer"
            )
        }
        try self.init(file: file, offset: offset)
    }

    /// Parses `file:offset` (`mysql-bin.000010:1234`), the form ``description`` produces.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedPosition``) when the text is malformed.
    public init(parsing text: some StringProtocol) throws {
        guard let colon = text.lastIndex(of: ":") else {
            throw ReplicationError(
                code: .malformedPosition,
                message: "binlog position \(Self.quoted(String(text))) is not of the form file:offset"
            )
        }
        try self.init(file: String(text[..<colon]), offsetText: text[text.index(after: colon)...])
    }

    /// The file name without its numeric suffix (`mysql-bin` for `mysql-bin.000010`).
    public var baseName: Substring {
        file[..<file.lastIndex(of: ".")!]
    }

    /// `file:offset`.
    public var description: String { "\(file):\(offset)" }

    /// Where a position lies relative to another in the same log.
    public enum Order: Sendable, Hashable {
        case before, same, after
    }

    /// Whether `other` lies in the same binary log (the same base name), so the two can be ordered.
    public func sharesLog(with other: BinlogPosition) -> Bool { baseName == other.baseName }

    /// Orders `self` against `other` by file sequence, then offset.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/incomparablePositions``) when the two lie in logs of
    ///   different base names: they are not points of one history.
    public func compare(with other: BinlogPosition) throws -> Order {
        guard sharesLog(with: other) else {
            throw ReplicationError(
                code: .incomparablePositions,
                message: "binlog positions \(self) and \(other) lie in different logs ('\(baseName)' and "
                    + "'\(other.baseName)'): they come from different servers or a renamed log and cannot be compared"
            )
        }
        if fileSequence != other.fileSequence { return fileSequence < other.fileSequence ? .before : .after }
        if offset != other.offset { return offset < other.offset ? .before : .after }
        return .same
    }

    /// Whether `self` is at `other` or past it in the same log.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/incomparablePositions``) for different logs.
    public func isAtOrPast(_ other: BinlogPosition) throws -> Bool { try compare(with: other) != .before }

    /// Whether `self` is strictly before `other` in the same log.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/incomparablePositions``) for different logs.
    public func isBefore(_ other: BinlogPosition) throws -> Bool { try compare(with: other) == .before }

    public static func == (lhs: BinlogPosition, rhs: BinlogPosition) -> Bool {
        lhs.offset == rhs.offset && lhs.file == rhs.file
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(file)
        hasher.combine(offset)
    }

    /// How far `self` lies ahead of `other`: whole files and, within the same file, bytes.
    ///
    /// - Returns: the distance, or nil when `self` is behind `other` or lies in another log.
    public func distance(from other: BinlogPosition) -> PositionDistance? {
        guard (try? isAtOrPast(other)) == true else { return nil }
        if fileSequence == other.fileSequence {
            return PositionDistance(files: 0, bytes: offset - other.offset)
        }
        return PositionDistance(files: fileSequence - other.fileSequence, bytes: nil)
    }

    // MARK: Codable as "file:offset"

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    // MARK: Parsing helpers

    /// The numeric suffix of a well-formed binlog file name, or nil.
    static func sequence(ofFile file: String) -> UInt64? {
        let utf8 = file.utf8
        guard !utf8.isEmpty, utf8.count <= 512 else { return nil }
        for byte in utf8 where byte < 0x21 || byte == 0x7F { return nil }  // whitespace and control characters
        guard let dot = utf8.lastIndex(of: UInt8(ascii: ".")), dot != utf8.startIndex else { return nil }
        let digits = utf8[utf8.index(after: dot)...]
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func parseOffset(_ text: some StringProtocol) -> UInt64? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }

    static func quoted(_ text: String) -> String {
        let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
        return "'" + shown + "'"
    }
}

/// The distance between two binlog positions.
public struct PositionDistance: Sendable, Hashable, CustomStringConvertible {
    /// Whole binlog files between the two positions (0 when they are in the same file).
    public let files: UInt64
    /// Bytes between the two positions when they are in the same file; nil otherwise (file sizes are unknown).
    public let bytes: UInt64?

    /// Creates a distance.
    public init(files: UInt64, bytes: UInt64?) {
        self.files = files
        self.bytes = bytes
    }

    /// Whether the positions are equal.
    public var isZero: Bool { files == 0 && bytes == 0 }

    public var description: String {
        if let bytes, files == 0 { return "\(bytes) bytes" }
        return "\(files) files"
    }
}
