/// Metadata of one result column.
public struct ColumnMetadata: Sendable, Hashable {
    /// The column name (or alias) as the server sent it.
    public let name: String
    /// The table (or alias) the column came from; empty for expressions.
    public let table: String
    /// The wire type.
    public let type: ColumnType
    /// Whether the column holds binary data (binary character set).
    public let isBinary: Bool

    /// Creates column metadata (tests build results with it).
    public init(name: String, table: String = "", type: ColumnType = .varString, isBinary: Bool = false) {
        self.name = name
        self.table = table
        self.type = type
        self.isBinary = isBinary
    }
}

/// A column's wire type (`MYSQL_TYPE_*`).
public struct ColumnType: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    /// The `enum_field_types` value.
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `MYSQL_TYPE_` DECIMAL.
    public static let decimal = ColumnType(rawValue: 0)
    /// `MYSQL_TYPE_` TINYINT.
    public static let tiny = ColumnType(rawValue: 1)
    /// `MYSQL_TYPE_` SMALLINT.
    public static let short = ColumnType(rawValue: 2)
    /// `MYSQL_TYPE_` INT.
    public static let long = ColumnType(rawValue: 3)
    /// `MYSQL_TYPE_` FLOAT.
    public static let float = ColumnType(rawValue: 4)
    /// `MYSQL_TYPE_` DOUBLE.
    public static let double = ColumnType(rawValue: 5)
    /// `MYSQL_TYPE_` NULL.
    public static let null = ColumnType(rawValue: 6)
    /// `MYSQL_TYPE_` TIMESTAMP.
    public static let timestamp = ColumnType(rawValue: 7)
    /// `MYSQL_TYPE_` BIGINT.
    public static let longLong = ColumnType(rawValue: 8)
    /// `MYSQL_TYPE_` MEDIUMINT.
    public static let int24 = ColumnType(rawValue: 9)
    /// `MYSQL_TYPE_` DATE.
    public static let date = ColumnType(rawValue: 10)
    /// `MYSQL_TYPE_` TIME.
    public static let time = ColumnType(rawValue: 11)
    /// `MYSQL_TYPE_` DATETIME.
    public static let datetime = ColumnType(rawValue: 12)
    /// `MYSQL_TYPE_` YEAR.
    public static let year = ColumnType(rawValue: 13)
    /// `MYSQL_TYPE_` VARCHAR.
    public static let varchar = ColumnType(rawValue: 15)
    /// `MYSQL_TYPE_` BIT.
    public static let bit = ColumnType(rawValue: 16)
    /// `MYSQL_TYPE_` JSON.
    public static let json = ColumnType(rawValue: 245)
    /// `MYSQL_TYPE_` NEWDECIMAL.
    public static let newDecimal = ColumnType(rawValue: 246)
    /// `MYSQL_TYPE_` BLOB and TEXT.
    public static let blob = ColumnType(rawValue: 252)
    /// `MYSQL_TYPE_` VAR_STRING (ProxySQL's admin interface types every column so).
    public static let varString = ColumnType(rawValue: 253)
    /// `MYSQL_TYPE_` STRING (CHAR).
    public static let string = ColumnType(rawValue: 254)

    /// Whether values of this type are integers.
    public var isInteger: Bool {
        [Self.tiny, .short, .long, .longLong, .int24, .year].contains(self)
    }

    public var description: String { "ColumnType(\(rawValue))" }
}

/// The rows of one result set, stored compactly (one byte buffer for all cells).
public struct ResultSet: Sendable, RandomAccessCollection {
    /// The columns, in order.
    public let columns: [ColumnMetadata]
    let storage: Storage

    final class Storage: Sendable {
        let columnIndex: [String: Int]
        let bytes: [UInt8]
        /// Per cell: start offset into `bytes`, or -1 for NULL; lengths follow from `ends`.
        let starts: [Int]
        let ends: [Int]
        let columnCount: Int

        init(columns: [ColumnMetadata], bytes: [UInt8], starts: [Int], ends: [Int]) {
            var index: [String: Int] = [:]
            for (position, column) in columns.enumerated() {
                let key = column.name.lowercased()
                if index[key] == nil { index[key] = position }
            }
            self.columnIndex = index
            self.bytes = bytes
            self.starts = starts
            self.ends = ends
            self.columnCount = columns.count
        }
    }

    /// Creates a result set from column metadata and cells (row-major; nil is `NULL`).
    public init(columns: [ColumnMetadata], rows: [[SQLValue]]) {
        var builder = Builder(columns: columns)
        for row in rows {
            precondition(row.count == columns.count, "row has \(row.count) cells for \(columns.count) columns")
            for cell in row { builder.append(cell.storage.map { Array($0) }) }
        }
        self = builder.build()
    }

    /// Creates a result set of text columns from rows of optional strings (nil is `NULL`). Handy in tests.
    public init(columnNames: [String], rows: [[String?]]) {
        self.init(
            columns: columnNames.map { ColumnMetadata(name: $0) },
            rows: rows.map { $0.map(SQLValue.init) }
        )
    }

    init(columns: [ColumnMetadata], storage: Storage) {
        self.columns = columns
        self.storage = storage
    }

    /// Accumulates cells without a per-cell allocation.
    struct Builder {
        let columns: [ColumnMetadata]
        var bytes: [UInt8] = []
        var starts: [Int] = []
        var ends: [Int] = []

        init(columns: [ColumnMetadata], expectedRows: Int = 0) {
            self.columns = columns
            starts.reserveCapacity(expectedRows * columns.count)
            ends.reserveCapacity(expectedRows * columns.count)
        }

        mutating func append(_ cell: [UInt8]?) {
            if let cell {
                starts.append(bytes.count)
                bytes.append(contentsOf: cell)
                ends.append(bytes.count)
            } else {
                starts.append(-1)
                ends.append(-1)
            }
        }

        mutating func append(_ pointer: UnsafeRawBufferPointer?) {
            if let pointer {
                starts.append(bytes.count)
                bytes.append(contentsOf: pointer)
                ends.append(bytes.count)
            } else {
                starts.append(-1)
                ends.append(-1)
            }
        }

        func build() -> ResultSet {
            ResultSet(columns: columns, storage: Storage(columns: columns, bytes: bytes, starts: starts, ends: ends))
        }
    }

    /// The position of the column called `name` (case-insensitive, first match), or nil.
    public func columnIndex(named name: String) -> Int? {
        storage.columnIndex[name.lowercased()]
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.columnCount == 0 ? 0 : storage.starts.count / storage.columnCount }

    /// The row at `position`.
    public subscript(position: Int) -> Row {
        precondition(position >= 0 && position < endIndex, "row \(position) out of range 0..<\(endIndex)")
        return Row(resultSet: self, index: position)
    }

    /// The rows as an array.
    public var rows: [Row] { Array(self) }
}

/// One row of a ``ResultSet``: cells addressable by position and by column name (case-insensitive).
public struct Row: Sendable, RandomAccessCollection, CustomStringConvertible {
    let resultSet: ResultSet
    let index: Int

    /// The columns of this row's result set.
    public var columns: [ColumnMetadata] { resultSet.columns }

    public var startIndex: Int { 0 }
    public var endIndex: Int { resultSet.storage.columnCount }

    /// The cell in column `position`.
    public subscript(position: Int) -> SQLValue {
        let storage = resultSet.storage
        precondition(position >= 0 && position < storage.columnCount, "column \(position) out of range")
        let cell = index * storage.columnCount + position
        let start = storage.starts[cell]
        if start < 0 { return .null }
        return SQLValue(slice: storage.bytes[start..<storage.ends[cell]])
    }

    /// The cell in the column called `name`, or nil when there is no such column. (A `NULL` cell is
    /// ``SQLValue/null``, not nil.)
    public subscript(name: String) -> SQLValue? {
        guard let position = resultSet.columnIndex(named: name) else { return nil }
        return self[position]
    }

    /// Whether the row has a column called `name`.
    public func hasColumn(_ name: String) -> Bool {
        resultSet.columnIndex(named: name) != nil
    }

    /// The non-`NULL` value of column `name` as `T`.
    ///
    /// - Throws: ``MariaDBError`` with code ``MariaDBError/Code/decoding`` when the column is missing, `NULL`, or
    ///   does not hold a `T`.
    public func decode<T: SQLValueDecodable>(
        _ type: T.Type,
        _ name: String,
        file: String = #fileID,
        line: Int = #line
    ) throws -> T {
        guard let value = self[name] else {
            throw MariaDBError(code: .decoding, message: "no column named \(name)", file: file, line: line)
        }
        guard !value.isNull else {
            throw MariaDBError(code: .decoding, message: "column \(name) is NULL", file: file, line: line)
        }
        guard let decoded = T(sqlValue: value) else {
            throw MariaDBError(code: .decoding, message: "column \(name) does not hold a \(T.self)", file: file, line: line)
        }
        return decoded
    }

    /// The value of column `name` as `T`, nil when it is `NULL`.
    ///
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/decoding``) when the column is missing or not a `T`.
    public func decodeIfPresent<T: SQLValueDecodable>(
        _ type: T.Type,
        _ name: String,
        file: String = #fileID,
        line: Int = #line
    ) throws -> T? {
        guard let value = self[name] else {
            throw MariaDBError(code: .decoding, message: "no column named \(name)", file: file, line: line)
        }
        if value.isNull { return nil }
        guard let decoded = T(sqlValue: value) else {
            throw MariaDBError(code: .decoding, message: "column \(name) does not hold a \(T.self)", file: file, line: line)
        }
        return decoded
    }

    /// The row as (column name, value) pairs, in column order.
    public var fields: [(name: String, value: SQLValue)] {
        columns.indices.map { (columns[$0].name, self[$0]) }
    }

    public var description: String {
        "[" + fields.map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
    }
}

/// Everything one statement returned: all of its result sets (a `CALL` returns several) and the status of its
/// final OK packet.
public struct SQLResult: Sendable {
    /// Every result set, in the order the server sent them.
    public var resultSets: [ResultSet]
    /// Rows changed by the statement (the last OK packet's count).
    public var affectedRows: UInt64
    /// The AUTO_INCREMENT value generated by the statement, or 0.
    public var lastInsertID: UInt64
    /// Warnings raised by the statement.
    public var warningCount: UInt32

    /// Creates a result (tests and fakes build results with it).
    public init(resultSets: [ResultSet] = [], affectedRows: UInt64 = 0, lastInsertID: UInt64 = 0, warningCount: UInt32 = 0) {
        self.resultSets = resultSets
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
        self.warningCount = warningCount
    }

    /// The rows of the first result set (empty when the statement returned none).
    public var rows: [Row] { resultSets.first?.rows ?? [] }
}
