import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

@Suite("SourceController (scripted)")
struct SourceControllerTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static let masterStatusColumns = ["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"]

    @Test func sourceStatusOnMariaDB() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact("SHOW BINLOG STATUS"), columns: Self.masterStatusColumns,
            rows: [["mysql-bin.000001", "1814", "", ""]])
        session.expect("SELECT @@GLOBAL.gtid_binlog_pos AS gtid_binlog_pos", answer: single("gtid_binlog_pos", "1-1-8"))
        let status = try await SourceController(session: session, dialect: Dialects.mariaDB).sourceStatus(
            logger: logger)
        #expect(status.position == (try BinlogPosition(file: "mysql-bin.000001", offset: 1814)))
        #expect(status.gtid == .mariaDB(try MariaDBGTIDPosition(parsing: "1-1-8")))
        try session.verifyAllConsumed()
    }

    @Test func sourceStatusOnOlderMariaDBAndMySQL() async throws {
        let old = ScriptedSQLSession()
        old.expect(
            .exact("SHOW MASTER STATUS"), columns: Self.masterStatusColumns, rows: [["mysql-bin.000002", "4", "", ""]])
        old.expect("SELECT @@GLOBAL.gtid_binlog_pos AS gtid_binlog_pos", answer: single("gtid_binlog_pos", ""))
        _ = try await SourceController(session: old, dialect: Dialects.mariaDB104).sourceStatus(logger: logger)
        try old.verifyAllConsumed()

        let mysql = ScriptedSQLSession()
        mysql.expect(
            .exact("SHOW BINARY LOG STATUS"),
            columns: Self.masterStatusColumns + ["Executed_Gtid_Set"],
            rows: [["binlog.000012", "157", "", "", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"]]
        )
        let status = try await SourceController(session: mysql, dialect: Dialects.mysql84).sourceStatus(logger: logger)
        #expect(status.gtid == .mysql(try MySQLGTIDSet(parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")))
        try mysql.verifyAllConsumed()
    }

    @Test func binaryLogOff() async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SHOW MASTER STATUS"), columns: Self.masterStatusColumns, rows: [])
        let error = try await #require(throws: ReplicationError.self) {
            try await SourceController(session: session, dialect: Dialects.auroraV3).sourceStatus(logger: logger)
        }
        #expect(error.code == .binaryLogDisabled)
        #expect(error.endpoint == "scripted")
    }

    @Test func fenceAndLiftOnMySQL() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact("SELECT @@GLOBAL.read_only AS read_only, @@GLOBAL.super_read_only AS super_read_only"),
            columns: ["read_only", "super_read_only"],
            rows: [["0", "0"]]
        )
        session.expect("SET GLOBAL super_read_only = ON")
        session.expect("SET GLOBAL super_read_only = OFF")
        session.expect("SET GLOBAL read_only = OFF")
        let source = SourceController(session: session, dialect: Dialects.mysql84)
        let fence = try await source.fenceWrites(timeout: .seconds(5), logger: logger)
        #expect(!fence.previousReadOnly)
        #expect(fence.previousSuperReadOnly == false)
        try await source.liftFence(fence, logger: logger)
        try session.verifyAllConsumed()
    }

    @Test func fenceOnMariaDBKeepsAPreviousReadOnly() async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SELECT @@GLOBAL.read_only AS read_only"), columns: ["read_only"], rows: [["1"]])
        session.expect("SET GLOBAL read_only = ON")
        let source = SourceController(session: session, dialect: Dialects.mariaDB)
        let fence = try await source.fenceWrites(timeout: .seconds(5), logger: logger)
        try await source.liftFence(fence, logger: logger)  // was read-only before: nothing to undo
        try session.verifyAllConsumed()
    }

    @Test func fenceTimesOut() async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SELECT @@GLOBAL.read_only AS read_only"), columns: ["read_only"], rows: [["0"]])
        session.expect(
            .exact("SET GLOBAL read_only = ON"),
            reply: .error(MariaDBError(code: .deadlineExceeded, message: "deadline")))
        let error = try await #require(throws: ReplicationError.self) {
            try await SourceController(session: session, dialect: Dialects.mariaDB).fenceWrites(
                timeout: .seconds(1), logger: logger)
        }
        #expect(error.code == .fenceTimedOut)
        try session.verifyAllConsumed()
    }

    @Test func auroraCannotBeFenced() async throws {
        let session = ScriptedSQLSession()
        await #expect(throws: ReplicationError(code: .unsupported, message: "")) {
            try await SourceController(session: session, dialect: Dialects.auroraV3).fenceWrites(
                timeout: .seconds(1), logger: logger)
        }
        #expect(session.receivedStatements.isEmpty)
    }

    @Test func longRunningWriteTransactions() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .regex(
                #"FROM information_schema\.INNODB_TRX trx .* INTERVAL 2500000 MICROSECOND ORDER BY trx\.trx_started$"#),
            columns: [
                "trx_id", "connection_id", "age_seconds", "rows_modified", "user", "host", "db", "command", "state",
                "info",
            ],
            rows: [["1234", "42", "7", "3", "app", "10.0.0.5:51234", "shop", "Sleep", "", nil]]
        )
        let transactions = try await SourceController(session: session, dialect: Dialects.mariaDB)
            .longRunningWriteTransactions(
                olderThan: .milliseconds(2500), logger: logger)
        #expect(transactions.count == 1)
        #expect(transactions[0].connectionID == 42)
        #expect(transactions[0].ageSeconds == 7)
        #expect(transactions[0].rowsModified == 3)
        #expect(transactions[0].description == "connection 42 (app@10.0.0.5:51234): 7 s, 3 rows")
        try session.verifyAllConsumed()
    }
}
