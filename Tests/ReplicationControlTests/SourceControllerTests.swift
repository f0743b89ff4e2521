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

    @Test("MySQL 8: the fence is persisted (SET PERSIST) and a failback resets it")
    func persistReadOnlyOnMySQL8() async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SELECT @@GLOBAL.persisted_globals_load AS value"), columns: ["value"], rows: [["1"]])
        session.expect("SET PERSIST read_only = ON")
        session.expect("SET PERSIST super_read_only = ON")
        session.expect(.exact("SELECT @@GLOBAL.persisted_globals_load AS value"), columns: ["value"], rows: [["1"]])
        session.expect("SET GLOBAL super_read_only = OFF")
        session.expect("SET GLOBAL read_only = OFF")
        session.expect("RESET PERSIST IF EXISTS super_read_only")
        session.expect("RESET PERSIST IF EXISTS read_only")
        let source = SourceController(session: session, dialect: Dialects.mysql84)
        #expect(try await source.persistReadOnly(true, timeout: .seconds(5), logger: logger))
        #expect(try await source.persistReadOnly(false, timeout: .seconds(5), logger: logger))
        try session.verifyAllConsumed()
    }

    @Test("MySQL 8 without SYSTEM_VARIABLES_ADMIN, or with persisted_globals_load off: runtime only, not durable")
    func persistReadOnlyRefused() async throws {
        let refused = ScriptedSQLSession()
        refused.expect(.exact("SELECT @@GLOBAL.persisted_globals_load AS value"), columns: ["value"], rows: [["1"]])
        refused.expect(
            .exact("SET PERSIST read_only = ON"),
            reply: .error(
                MariaDBError(
                    code: .server, serverErrorNumber: 1227, sqlState: "42000",
                    message: "Access denied; you need (at least one of) the SUPER or SYSTEM_VARIABLES_ADMIN privilege(s)")))
        refused.expect("SET GLOBAL super_read_only = ON")
        #expect(
            try await SourceController(session: refused, dialect: Dialects.mysql84).persistReadOnly(
                true, timeout: .seconds(5), logger: logger) == false)
        try refused.verifyAllConsumed()

        let notLoaded = ScriptedSQLSession()
        notLoaded.expect(.exact("SELECT @@GLOBAL.persisted_globals_load AS value"), columns: ["value"], rows: [["0"]])
        notLoaded.expect("SET GLOBAL super_read_only = ON")
        #expect(
            try await SourceController(session: notLoaded, dialect: Dialects.mysql84).persistReadOnly(
                true, timeout: .seconds(5), logger: logger) == false)
        try notLoaded.verifyAllConsumed()
    }

    @Test("MariaDB and MySQL 5.7 have no SET PERSIST: runtime only, and the option-file lines say what to keep")
    func persistReadOnlyWithoutSetPersist() async throws {
        let mariaDB = ScriptedSQLSession()
        mariaDB.expect("SET GLOBAL read_only = ON")
        mariaDB.expect("SET GLOBAL read_only = OFF")
        let source = SourceController(session: mariaDB, dialect: Dialects.mariaDB)
        #expect(try await source.persistReadOnly(true, timeout: .seconds(5), logger: logger) == false)
        #expect(try await source.persistReadOnly(false, timeout: .seconds(5), logger: logger) == false)
        try mariaDB.verifyAllConsumed()
        #expect(Dialects.mariaDB.readOnlyOptionFileLines == ["read_only = ON"])
        #expect(Dialects.mysql57.readOnlyOptionFileLines == ["read_only = ON", "super_read_only = ON"])
        #expect(!Dialects.mysql57.supportsPersistedVariables && !Dialects.mariaDB.supportsPersistedVariables)
        #expect(Dialects.mysql8021.supportsPersistedVariables && !Dialects.auroraV3.supportsPersistedVariables)
        #expect(
            Dialects.mariaDB.replicationFilterOptionFileLines(.ignoreRDSTables)
                == ["replicate_wild_ignore_table = mysql.rds\\_%"])
        #expect(Dialects.mariaDB.replicationFilterOptionFileLines(.none).isEmpty)
        await #expect(throws: ReplicationError.self) {
            try await SourceController(session: ScriptedSQLSession(), dialect: Dialects.auroraV3).persistReadOnly(
                true, timeout: .seconds(1), logger: logger)
        }
    }

    @Test("where read_only's value came from: option file, SET PERSIST, SET GLOBAL, default")
    func readOnlyState() async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SELECT @@GLOBAL.read_only AS read_only"), columns: ["read_only"], rows: [["0"]])
        session.expect(
            .exact(
                "SELECT GLOBAL_VALUE_ORIGIN AS origin FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = 'READ_ONLY'"
            ), columns: ["origin"], rows: [["SQL"]])
        let state = try await SourceController(session: session, dialect: Dialects.mariaDB).readOnlySetting(            logger: logger)
        #expect(state == ReadOnlySetting(readOnly: false, superReadOnly: nil, origin: .runtime))
        #expect(state.survivesRestart == false)
        try session.verifyAllConsumed()

        // MySQL 8: performance_schema.variables_info; an account that may not read it gets "unknown".
        let mysql = ScriptedSQLSession()
        mysql.expect(
            .exact("SELECT @@GLOBAL.read_only AS read_only, @@GLOBAL.super_read_only AS super_read_only"),
            columns: ["read_only", "super_read_only"], rows: [["1", "1"]])
        mysql.expect(
            .regex("performance_schema\\.variables_info"),
            reply: .error(MariaDBError(code: .server, serverErrorNumber: 1142, sqlState: "42000", message: "denied")))
        let unknown = try await SourceController(session: mysql, dialect: Dialects.mysql84).readOnlySetting(            logger: logger)
        #expect(unknown.origin == .unknown && unknown.survivesRestart == nil && unknown.superReadOnly == true)

        #expect(SourceController.readOnlyOrigin("CONFIG") == .startup)
        #expect(SourceController.readOnlyOrigin("COMMAND-LINE") == .startup)
        #expect(SourceController.readOnlyOrigin("PERSISTED") == .persisted)
        #expect(SourceController.readOnlyOrigin("DYNAMIC") == .runtime)
        #expect(SourceController.readOnlyOrigin("COMPILE-TIME") == .compiledDefault)
        #expect(ReadOnlySetting(readOnly: false, superReadOnly: nil, origin: .compiledDefault).survivesRestart == true)
        #expect(ReadOnlySetting(readOnly: true, superReadOnly: nil, origin: .startup).survivesRestart == true)
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
