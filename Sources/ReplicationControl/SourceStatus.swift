public import MariaDB

/// Where a server's own binary log stands: `SHOW MASTER STATUS` / `SHOW BINARY LOG STATUS` / `SHOW BINLOG STATUS`,
/// plus the server's executed GTIDs.
///
/// Capture it **after** fencing writes, never before: a position read before the fence misses the last writes.
public struct SourceStatus: Sendable, Hashable, CustomStringConvertible {
    /// The server's GTID state, in its own dialect.
    public enum GTIDState: Sendable, Hashable, CustomStringConvertible {
        /// MySQL `@@gtid_executed` (or the `Executed_Gtid_Set` column).
        case mysql(MySQLGTIDSet)
        /// MariaDB `@@gtid_binlog_pos`.
        case mariaDB(MariaDBGTIDPosition)

        public var description: String {
            switch self {
            case .mysql(let set): set.description
            case .mariaDB(let position): position.description
            }
        }
    }

    /// The position after the last event written to the binary log.
    public var position: BinlogPosition
    /// `Binlog_Do_DB`.
    public var binlogDoDatabases: [String]
    /// `Binlog_Ignore_DB`.
    public var binlogIgnoreDatabases: [String]
    /// The executed GTIDs, when known (nil when GTIDs are off or were not asked for).
    public var gtid: GTIDState?

    /// Creates a source status.
    public init(
        position: BinlogPosition,
        binlogDoDatabases: [String] = [],
        binlogIgnoreDatabases: [String] = [],
        gtid: GTIDState? = nil
    ) {
        self.position = position
        self.binlogDoDatabases = binlogDoDatabases
        self.binlogIgnoreDatabases = binlogIgnoreDatabases
        self.gtid = gtid
    }

    /// Parses the row of `SHOW MASTER STATUS` (or its newer names) by column name.
    ///
    /// - Parameters:
    ///   - row: the status row (`File`, `Position`, `Binlog_Do_DB`, `Binlog_Ignore_DB`, and on MySQL
    ///     `Executed_Gtid_Set`).
    ///   - mariaDBGTIDBinlogPosition: MariaDB's `@@gtid_binlog_pos`, read separately; nil when not read.
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedStatus``) for a missing or malformed
    ///   column.
    public init(row: Row, mariaDBGTIDBinlogPosition: String? = nil) throws {
        guard let file = row["File"]?.string, let offsetText = row["Position"]?.string else {
            throw ReplicationError(code: .malformedStatus, message: "source status row has no File/Position value")
        }
        do {
            position = try BinlogPosition(file: file, offsetText: offsetText)
        } catch let error as ReplicationError {
            throw ReplicationError(
                code: .malformedStatus, message: "source status: \(error.message)", underlying: error)
        }
        binlogDoDatabases = Self.list(row["Binlog_Do_DB"]?.string)
        binlogIgnoreDatabases = Self.list(row["Binlog_Ignore_DB"]?.string)
        do {
            if let mariaDBGTIDBinlogPosition {
                gtid = .mariaDB(try MariaDBGTIDPosition(parsing: mariaDBGTIDBinlogPosition))
            } else if let executed = row["Executed_Gtid_Set"]?.string {
                gtid = .mysql(try MySQLGTIDSet(parsing: executed))
            } else {
                gtid = nil
            }
        } catch let error as ReplicationError {
            throw ReplicationError(
                code: .malformedStatus, message: "source status GTIDs: \(error.message)", underlying: error)
        }
    }

    /// Parses the result of a source-status statement.
    ///
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/binaryLogDisabled`` when the result has no row (the
    ///   binary log is off), ``ReplicationError/Code/malformedStatus`` for a malformed row.
    public static func parse(_ result: SQLResult, mariaDBGTIDBinlogPosition: String? = nil) throws -> SourceStatus {
        guard let row = result.resultSets.first?.first else {
            throw ReplicationError(
                code: .binaryLogDisabled,
                message: "the server reports no binary log position (binary logging is off)"
            )
        }
        return try SourceStatus(row: row, mariaDBGTIDBinlogPosition: mariaDBGTIDBinlogPosition)
    }

    /// `file:offset` and the GTIDs when known.
    public var description: String {
        gtid.map { "\(position) gtid=\($0)" } ?? position.description
    }

    private static func list(_ text: String?) -> [String] {
        guard let text else { return [] }
        return text.split(separator: ",").map { String($0.trimmingWhitespace()) }.filter { !$0.isEmpty }
    }
}
