/// One cell of a result: the bytes the server sent, or SQL `NULL`.
///
/// `NULL` is distinct from the empty string. The text protocol sends every value as text, so the typed
/// accessors parse it (ProxySQL's admin interface, for one, types every column as a string).
public struct SQLValue: Sendable, Hashable, CustomStringConvertible {
    /// The cell's bytes, shared with the result set they came from (no copy), or nil for SQL `NULL`.
    let storage: ArraySlice<UInt8>?

    /// Creates a value from raw bytes (nil is SQL `NULL`).
    public init(bytes: [UInt8]?) {
        self.storage = bytes.map { $0[...] }
    }

    init(slice: ArraySlice<UInt8>?) {
        self.storage = slice
    }

    /// Creates a text value, or `NULL` when `string` is nil.
    public init(_ string: String?) {
        self.storage = string.map { Array($0.utf8)[...] }
    }

    /// SQL `NULL`.
    public static let null = SQLValue(bytes: nil)

    /// The raw bytes (a copy), or nil for SQL `NULL`.
    public var bytes: [UInt8]? { storage.map { Array($0) } }

    /// The number of bytes, or nil for SQL `NULL`.
    public var byteCount: Int? { storage?.count }

    /// Calls `body` with the bytes without copying them; returns nil for SQL `NULL`.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        guard let storage else { return nil }
        return try storage.withUnsafeBytes(body)
    }

    /// Whether the value is SQL `NULL`.
    public var isNull: Bool { storage == nil }

    /// The value as UTF-8 text (invalid sequences repaired), or nil for `NULL`.
    public var string: String? { storage.map { String(decoding: $0, as: UTF8.self) } }

    /// The value as a signed integer, or nil for `NULL` or text that is not an integer.
    public var int64: Int64? { string.flatMap { Int64($0.trimmingASCIIWhitespace()) } }

    /// The value as an `Int`, or nil for `NULL` or text that is not an integer.
    public var int: Int? { string.flatMap { Int($0.trimmingASCIIWhitespace()) } }

    /// The value as an unsigned integer, or nil for `NULL` or text that is not one.
    public var uint64: UInt64? { string.flatMap { UInt64($0.trimmingASCIIWhitespace()) } }

    /// The value as a floating-point number, or nil for `NULL` or text that is not a number.
    public var double: Double? { string.flatMap { Double($0.trimmingASCIIWhitespace()) } }

    /// The value as a boolean: `1`/`0`, `Yes`/`No`, `ON`/`OFF`, `true`/`false` (any case); nil otherwise.
    public var bool: Bool? {
        guard let text = string?.trimmingASCIIWhitespace().lowercased() else { return nil }
        switch text {
        case "1", "yes", "on", "true": return true
        case "0", "no", "off", "false": return false
        default: return Int64(text).map { $0 != 0 }
        }
    }

    /// The text, or `NULL`.
    public var description: String { string ?? "NULL" }
}

/// A type that can be read from a ``SQLValue`` with ``Row/decode(_:_:file:line:)``.
public protocol SQLValueDecodable: Sendable {
    /// Creates a value from a non-`NULL` cell, or returns nil when the text does not fit the type.
    init?(sqlValue: SQLValue)
}

extension String: SQLValueDecodable {
    /// Reads the value as `String`, nil for `NULL` or text that does not parse.
    public init?(sqlValue: SQLValue) {
        guard let string = sqlValue.string else { return nil }
        self = string
    }
}

extension Int: SQLValueDecodable {
    /// Reads the value as `Int`, nil for `NULL` or text that does not parse.
    public init?(sqlValue: SQLValue) {
        guard let value = sqlValue.int else { return nil }
        self = value
    }
}

extension Int64: SQLValueDecodable {
    /// Reads the value as `Int64`, nil for `NULL` or text that does not parse.
    public init?(sqlValue: SQLValue) {
        guard let value = sqlValue.int64 else { return nil }
        self = value
    }
}

extension UInt64: SQLValueDecodable {
    /// Reads the value as `UInt64`, nil for `NULL` or text that does not parse.
    public init?(sqlValue: SQLValue) {
        guard let value = sqlValue.uint64 else { return nil }
        self = value
    }
}

extension UInt32: SQLValueDecodable {
    /// Reads the value as `UInt32`, nil for `NULL` or text that does not parse.
    public init?(sqlValue: SQLValue) {
        guard let value = sqlValue.uint64, let narrowed = UInt32(exactly: value) else { return nil }
        self = narrowed
    }
}

extension Double: SQLValueDecodable {
    /// Reads the value as `Double`, nil for `NULL` or text that does not parse.
    public init?(sqlValue: SQLValue) {
        guard let value = sqlValue.double else { return nil }
        self = value
    }
}

extension Bool: SQLValueDecodable {
    /// Reads the value as `Bool`, nil for `NULL` or text that does not parse.
    public init?(sqlValue: SQLValue) {
        guard let value = sqlValue.bool else { return nil }
        self = value
    }
}

extension [UInt8]: SQLValueDecodable {
    /// Reads the value as `[UInt8]`, nil for `NULL` or text that does not parse.
    public init?(sqlValue: SQLValue) {
        guard let bytes = sqlValue.bytes else { return nil }
        self = bytes
    }
}

extension String {
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return self[start...end]
    }
}
