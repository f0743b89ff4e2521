public import Logging
public import MariaDB

/// The `mysql.time_zone*` tables behind `CONVERT_TZ` and named zones (`SET time_zone = 'Europe/Paris'`): counting
/// them, and copying their rows to a server that has none.
public enum TimeZoneTables {
    /// The tables, in the order they are copied.
    public static let tables = [
        "time_zone", "time_zone_name", "time_zone_transition", "time_zone_transition_type", "time_zone_leap_second",
    ]

    /// `SELECT COUNT(*) AS count FROM mysql.<table>`.
    public static func countStatement(_ table: String) -> SQLStatement {
        "SELECT COUNT(*) AS count FROM mysql.\(identifier: table)"
    }

    /// `SELECT * FROM mysql.<table>`.
    public static func selectStatement(_ table: String) -> SQLStatement {
        "SELECT * FROM mysql.\(identifier: table)"
    }

    /// `SELECT @@global.time_zone AS time_zone, @@system_time_zone AS system_time_zone`.
    public static let settingsStatement: SQLStatement =
        "SELECT @@global.time_zone AS time_zone, @@system_time_zone AS system_time_zone"

    /// The command that loads the tables from the operating system's zone files, for the operator to run.
    public static func loadCommand(host: String, port: Int, user: String) -> String {
        "mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql --host=\(host) --port=\(port) --user=\(user) -p mysql"
    }

    /// The rows of each table on `session`.
    ///
    /// - Throws: `MariaDBError`.
    public static func counts(on session: any SQLSession) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in tables {
            counts[table] = try await session.queryFirst(countStatement(table))?["count"]?.int ?? 0
        }
        return counts
    }

    /// `INSERT INTO mysql.<table> (<columns>) VALUES (...), ...` for `rows` (values as quoted literals).
    public static func insertStatement(_ table: String, columns: [String], rows: ArraySlice<[SQLValue]>) -> SQLStatement {
        let columnList = SQLStatement.joined(columns.map { "\(identifier: $0)" }, separator: ", ")
        let values = SQLStatement.joined(
            rows.map { row in "(" + SQLStatement.joined(row.map { "\($0.string)" }, separator: ", ") + ")" },
            separator: ", "
        )
        return "INSERT INTO mysql.\(identifier: table) (\(columnList)) VALUES \(values)"
    }

    /// Copies every row of the tables from `source` to `target`, in batches of `batchSize` rows, when `target`'s
    /// tables are all empty.
    ///
    /// - Returns: rows copied per table.
    /// - Throws: `MariaDBError`; ``ReplicationError`` (``ReplicationError/Code/invalidArgument``) when the target
    ///   has rows already (nothing is changed then).
    public static func copy(
        from source: any SQLSession,
        to target: any SQLSession,
        batchSize: Int = 1000,
        logger: Logger
    ) async throws -> [String: Int] {
        let existing = try await counts(on: target)
        guard existing.values.allSatisfy({ $0 == 0 }) else {
            throw ReplicationError(
                code: .invalidArgument,
                message: "the target's time zone tables are not empty; nothing was copied",
                endpoint: target.endpointDescription
            )
        }
        var copied: [String: Int] = [:]
        for table in tables {
            let result = try await source.execute(selectStatement(table))
            guard let resultSet = result.resultSets.first else { continue }
            let columns = resultSet.columns.map(\.name)
            let rows = resultSet.rows.map { row in (0..<columns.count).map { row[$0] } }
            var start = 0
            while start < rows.count {
                let end = min(start + batchSize, rows.count)
                try await target.run(insertStatement(table, columns: columns, rows: rows[start..<end]))
                start = end
            }
            copied[table] = rows.count
            logger.debug("time zone table copied", metadata: ["replication.table": "\(table)", "replication.rows": "\(rows.count)"])
        }
        return copied
    }
}
