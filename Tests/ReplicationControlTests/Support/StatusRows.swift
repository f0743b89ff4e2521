import CutoverTestSupport
import MariaDB
import ReplicationControl

/// Builds replica-status answers for scripted sessions.
struct StatusRow {
    var io = "Yes"
    var sql = "Yes"
    var receivedFile = "mysql-bin.000003"
    var receivedOffset = "2000"
    var executedFile = "mysql-bin.000003"
    var executedOffset = "2000"
    var secondsBehind: String? = "0"
    var lastIOErrno = "0"
    var lastIOError = ""
    var lastSQLErrno = "0"
    var lastSQLError = ""
    var executedGTIDSet: String?
    var usingGTID = "No"

    static let running = StatusRow()
    static let stopped = StatusRow(io: "No", sql: "No", secondsBehind: nil)
    static let connecting = StatusRow(io: "Connecting", sql: "Yes", secondsBehind: nil)
    static func sqlError(_ number: Int, _ message: String) -> StatusRow {
        StatusRow(
            sql: "No", executedOffset: "1500", secondsBehind: nil, lastSQLErrno: String(number), lastSQLError: message)
    }

    /// MariaDB / legacy spelling.
    var legacy: SQLResult {
        let columns = [
            "Slave_IO_State", "Master_Host", "Master_User", "Master_Port", "Master_Log_File", "Read_Master_Log_Pos",
            "Relay_Master_Log_File", "Slave_IO_Running", "Slave_SQL_Running", "Exec_Master_Log_Pos",
            "Seconds_Behind_Master", "Last_IO_Errno", "Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error", "Using_Gtid",
        ]
        let row: [String?] = [
            io == "Yes" ? "Waiting for master to send event" : "", "10.0.0.1", "repl", "3306", receivedFile,
            receivedOffset,
            executedFile, io, sql, executedOffset, secondsBehind, lastIOErrno, lastIOError, lastSQLErrno, lastSQLError,
            usingGTID,
        ]
        return SQLResult(resultSets: [ResultSet(columnNames: columns, rows: [row])])
    }

    /// MySQL 8.0.22+ spelling.
    var modern: SQLResult {
        let columns = [
            "Replica_IO_State", "Source_Host", "Source_User", "Source_Port", "Source_Log_File", "Read_Source_Log_Pos",
            "Relay_Source_Log_File", "Replica_IO_Running", "Replica_SQL_Running", "Exec_Source_Log_Pos",
            "Seconds_Behind_Source", "Last_IO_Errno", "Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error",
            "Executed_Gtid_Set", "Auto_Position", "Channel_Name",
        ]
        let row: [String?] = [
            io == "Yes" ? "Waiting for source to send event" : "", "10.0.0.1", "repl", "3306", receivedFile,
            receivedOffset,
            executedFile, io, sql, executedOffset, secondsBehind, lastIOErrno, lastIOError, lastSQLErrno, lastSQLError,
            executedGTIDSet ?? "", executedGTIDSet == nil ? "0" : "1", "",
        ]
        return SQLResult(resultSets: [ResultSet(columnNames: columns, rows: [row])])
    }

    /// An empty status (no source configured).
    static var notConfigured: SQLResult {
        SQLResult(resultSets: [
            ResultSet(columnNames: ["Slave_IO_State", "Slave_IO_Running", "Slave_SQL_Running"], rows: [])
        ])
    }
}

/// One-row, one-column results.
func single(_ column: String, _ value: String?) -> SQLResult {
    SQLResult(resultSets: [ResultSet(columnNames: [column], rows: [[value]])])
}

/// A procedure's one-row message result.
func message(_ text: String, column: String = "Message") -> SQLResult {
    single(column, text)
}

extension ScriptedSQLSession {
    func expect(_ statement: String, answer: SQLResult, file: String = #fileID, line: Int = #line) {
        expect(.exact(statement), reply: .result(answer), file: file, line: line)
    }
}

/// Dialects used across the tests.
enum Dialects {
    static let mariaDB = ReplicationDialect(server: .mariaDB, version: ServerVersion(10, 11, 19))
    static let mariaDB104 = ReplicationDialect(server: .mariaDB, version: ServerVersion(10, 4, 30))
    static let mysql57 = ReplicationDialect(server: .mysql, version: ServerVersion(5, 7, 44))
    static let mysql8021 = ReplicationDialect(server: .mysql, version: ServerVersion(8, 0, 21))
    static let mysql8022 = ReplicationDialect(server: .mysql, version: ServerVersion(8, 0, 22))
    static let mysql8023 = ReplicationDialect(server: .mysql, version: ServerVersion(8, 0, 23))
    static let mysql8026 = ReplicationDialect(server: .mysql, version: ServerVersion(8, 0, 26))
    static let mysql84 = ReplicationDialect(server: .mysql, version: ServerVersion(8, 4, 3))
    static let auroraV2 = ReplicationDialect(
        server: .auroraMySQL(auroraVersion: ServerVersion(2, 11, 2)),
        version: ServerVersion(5, 7, 12),
        rdsProcedures: .auroraVersion2
    )
    static let auroraV3 = ReplicationDialect(
        server: .auroraMySQL(auroraVersion: ServerVersion(3, 5, 2)),
        version: ServerVersion(8, 0, 0),
        rdsProcedures: .auroraVersion3
    )
    /// The sandbox stand-in: MariaDB with the shim's procedures.
    static let mariaDBWithShim = ReplicationDialect(
        server: .mariaDB,
        version: ServerVersion(10, 11, 19),
        rdsProcedures: try! RDSProcedures(availableProcedures: [
            "rds_set_external_master", "rds_set_external_master_with_auto_position", "rds_reset_external_master",
            "rds_start_replication", "rds_stop_replication", "rds_start_replication_until", "rds_skip_repl_error",
            "rds_set_configuration", "rds_show_configuration",
        ])
    )
}
