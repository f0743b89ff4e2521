import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

@Suite("NativeReplicaController (scripted)")
struct NativeReplicaControllerTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func controller(
        _ session: ScriptedSQLSession,
        _ dialect: ReplicationDialect = Dialects.mariaDB,
        filter: ReplicationFilter = .ignoreRDSTables
    ) throws -> NativeReplicaController {
        try NativeReplicaController(
            session: session,
            dialect: dialect,
            options: .init(
                filter: filter, verificationTimeout: .milliseconds(300), verificationInterval: .milliseconds(1))
        )
    }

    @Test func reverseReplicationOnMariaDBIgnoresTheRDSTables() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.notConfigured)
        session.expect(
            "CHANGE MASTER TO MASTER_HOST = 'aurora.local', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'pw', "
                + "MASTER_LOG_FILE = 'mysql-bin-changelog.000002', MASTER_LOG_POS = 157, MASTER_USE_GTID = no, MASTER_SSL = 0"
        )
        session.expect("SET GLOBAL replicate_wild_ignore_table = 'mysql.rds\\\\_%'")
        session.expect("SET GLOBAL replicate_ignore_db = ''")
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.stopped.legacy)
        session.expect("START SLAVE")
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.running.legacy)
        let native = try controller(session)
        let position = try BinlogPosition(file: "mysql-bin-changelog.000002", offset: 157)
        try await native.configureSource(
            ReplicationSource(
                host: "aurora.local", port: 3306, user: "repl", password: "pw", startPoint: .position(position)),
            logger: logger
        )
        let status = try await native.startReplication(logger: logger)
        #expect(status.isRunning)
        try session.verifyAllConsumed()
    }

    @Test func mysql84WithAutoPositionAndSchemaFilter() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.stopped.modern)
        session.expect(
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'aurora', SOURCE_PORT = 3306, SOURCE_USER = 'repl', SOURCE_PASSWORD = 'pw', "
                + "SOURCE_AUTO_POSITION = 1, SOURCE_SSL = 0, GET_SOURCE_PUBLIC_KEY = 1 FOR CHANNEL ''"
        )
        session.expect("CHANGE REPLICATION FILTER REPLICATE_WILD_IGNORE_TABLE = (), REPLICATE_IGNORE_DB = (mysql) FOR CHANNEL ''")
        try await controller(session, Dialects.mysql84, filter: .ignoreMySQLSchema).configureSource(
            ReplicationSource(host: "aurora", port: 3306, user: "repl", password: "pw", startPoint: .autoPosition),
            logger: logger
        )
        try session.verifyAllConsumed()
    }

    @Test func configureWhileRunningIsRefused() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.running.legacy)
        let error = try await #require(throws: ReplicationError.self) {
            try await controller(session).configureSource(
                ReplicationSource(host: "h", port: 3306, user: "u", password: "p", startPoint: .autoPosition),
                logger: logger
            )
        }
        #expect(error.code == .alreadyRunning)
        try session.verifyAllConsumed()
    }

    @Test func startRefusesWhenRunningOrUnconfigured() async throws {
        let running = ScriptedSQLSession()
        running.expect("SHOW SLAVE STATUS", answer: StatusRow.running.legacy)
        await #expect(throws: ReplicationError(code: .alreadyRunning, message: "")) {
            try await controller(running).startReplication(logger: logger)
        }
        let empty = ScriptedSQLSession()
        empty.expect("SHOW SLAVE STATUS", answer: StatusRow.notConfigured)
        await #expect(throws: ReplicationError(code: .notConfigured, message: "")) {
            try await controller(empty).startReplication(logger: logger)
        }
        try running.verifyAllConsumed()
        try empty.verifyAllConsumed()
    }

    @Test func stopAndResetOnMySQL84() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.running.modern)
        session.expect("STOP REPLICA FOR CHANNEL ''")
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.stopped.modern)
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.stopped.modern)
        session.expect("RESET REPLICA ALL FOR CHANNEL ''")
        session.expect(
            "SHOW REPLICA STATUS",
            answer: SQLResult(resultSets: [ResultSet(columnNames: ["Replica_IO_Running"], rows: [])]))
        let native = try controller(session, Dialects.mysql84)
        #expect(try await native.stopReplication(logger: logger).isStopped)
        try await native.resetReplication(logger: logger)
        try session.verifyAllConsumed()
    }

    @Test func resetStopsARunningReplicaFirst() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.running.legacy)
        session.expect("STOP SLAVE")
        session.expect("RESET SLAVE ALL")
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.notConfigured)
        try await controller(session).resetReplication(logger: logger)
        try session.verifyAllConsumed()
    }

    @Test func stopWhenStoppedIsTyped() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.stopped.legacy)
        await #expect(throws: ReplicationError(code: .notRunning, message: "")) {
            try await controller(session).stopReplication(logger: logger)
        }
    }

    @Test func startUntil() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.stopped.legacy)
        session.expect("START SLAVE UNTIL MASTER_LOG_FILE = 'mysql-bin.000003', MASTER_LOG_POS = 2000")
        session.expect("SHOW SLAVE STATUS", answer: StatusRow(sql: "No").legacy)
        let status = try await controller(session).startReplication(
            until: try BinlogPosition(file: "mysql-bin.000003", offset: 2000), logger: logger)
        #expect(status.sqlThread == .stopped)
        try session.verifyAllConsumed()
    }

    @Test func skipOnMariaDB() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            "SHOW SLAVE STATUS", answer: StatusRow.sqlError(1062, "Duplicate entry '4' for key 'PRIMARY'").legacy)
        session.expect("STOP SLAVE")
        session.expect("SET GLOBAL sql_slave_skip_counter = 1")
        session.expect("START SLAVE")
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.running.legacy)
        #expect(try await controller(session).skipReplicationError(logger: logger).isRunning)
        try session.verifyAllConsumed()
    }

    @Test func skipOnMySQLWithAutoPositionIsUnsupported() async throws {
        let session = ScriptedSQLSession()
        var row = StatusRow.sqlError(1062, "dup")
        row.executedGTIDSet = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"
        session.expect("SHOW REPLICA STATUS", answer: row.modern)
        await #expect(throws: ReplicationError(code: .unsupported, message: "")) {
            try await controller(session, Dialects.mysql84).skipReplicationError(logger: logger)
        }
        let clean = ScriptedSQLSession()
        clean.expect("SHOW REPLICA STATUS", answer: StatusRow.running.modern)
        await #expect(throws: ReplicationError(code: .nothingToSkip, message: "")) {
            try await controller(clean, Dialects.mysql84).skipReplicationError(logger: logger)
        }
    }

    @Test func auroraIsRefused() {
        #expect(throws: ReplicationError(code: .unsupported, message: "")) {
            try NativeReplicaController(session: ScriptedSQLSession(), dialect: Dialects.auroraV3)
        }
    }

    @Test func serverErrorsAreWrapped() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.stopped.legacy)
        session.expect(
            .exact("START SLAVE"), failingWith: 1227, sqlState: "42000",
            message:
                "Access denied; you need (at least one of) the SUPER, REPLICATION SLAVE ADMIN privilege(s) for this operation"
        )
        let error = try await #require(throws: ReplicationError.self) {
            try await controller(session).startReplication(logger: logger)
        }
        #expect(error.code == .permissionDenied)
        #expect(error.serverErrorNumber == 1227)
        #expect(error.statement == "START SLAVE")
    }
}
