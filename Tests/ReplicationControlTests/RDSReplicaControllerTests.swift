import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

@Suite("RDSReplicaController (scripted)")
struct RDSReplicaControllerTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let options = RDSReplicaController.Options(
        verificationTimeout: .milliseconds(300), verificationInterval: .milliseconds(1))

    func controller(_ session: ScriptedSQLSession, _ dialect: ReplicationDialect = Dialects.auroraV3) throws
        -> RDSReplicaController
    {
        try RDSReplicaController(session: session, dialect: dialect, options: options)
    }

    @Test func configureByPositionOnAuroraV3() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            "CALL mysql.rds_set_external_source('10.0.0.7', 3306, 'repl', 'pa''ss', 'mysql-bin.000002', 157, 0)"
        )
        let position = try BinlogPosition(file: "mysql-bin.000002", offset: 157)
        try await controller(session).configureSource(
            ReplicationSource(
                host: "10.0.0.7", port: 3306, user: "repl", password: "pa'ss", startPoint: .position(position)),
            logger: logger
        )
        try session.verifyAllConsumed()
    }

    @Test func configureByPositionOnAuroraV2AndWithAutoPosition() async throws {
        let session = ScriptedSQLSession()
        session.expect("CALL mysql.rds_set_external_master('src', 3306, 'repl', 'pw', 'mysql-bin.000010', 4, 1)")
        session.expect("CALL mysql.rds_set_external_master_with_auto_position('src', 3306, 'repl', 'pw', 0)")
        let rds = try controller(session, Dialects.auroraV2)
        try await rds.configureSource(
            ReplicationSource(
                host: "src", port: 3306, user: "repl", password: "pw",
                startPoint: .position(try BinlogPosition(file: "mysql-bin.000010", offset: 4)), useTLS: true
            ),
            logger: logger
        )
        try await rds.configureSource(
            ReplicationSource(host: "src", port: 3306, user: "repl", password: "pw", startPoint: .autoPosition),
            logger: logger
        )
        try session.verifyAllConsumed()
    }

    @Test func startReadsTheStatusUntilBothThreadsRun() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            "CALL mysql.rds_start_replication", answer: message("Replication started. Slave is now running normally."))
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.connecting.modern)
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.running.modern)
        let status = try await controller(session).startReplication(logger: logger)
        #expect(status.isRunning)
        try session.verifyAllConsumed()
    }

    @Test func aSuccessMessageIsNoProof() async throws {
        let session = ScriptedSQLSession()
        session.expect("CALL mysql.rds_start_replication", answer: message("Slave running normally."))
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.sqlError(1146, "Table 'app.t' doesn't exist").modern)
        let error = try await #require(throws: ReplicationError.self) {
            try await controller(session).startReplication(logger: logger)
        }
        #expect(error.code == .replicationFailed)
        #expect(error.sqlThreadError?.number == 1146)
        try session.verifyAllConsumed()
    }

    @Test func startThatNeverRunsReportsStateNotReached() async throws {
        let session = ScriptedSQLSession()
        session.expect("CALL mysql.rds_start_replication", answer: message("Slave running normally."))
        for _ in 0..<2000 { session.expect(.exact("SHOW REPLICA STATUS"), reply: .result(StatusRow.connecting.modern)) }
        let error = try await #require(throws: ReplicationError.self) {
            try await controller(session).startReplication(logger: logger)
        }
        #expect(error.code == .stateNotReached)
        #expect(session.failures.isEmpty)
    }

    static let procedureErrors: [(String, ReplicationError.Code)] = [
        ("Replication may already be running. Call rds_stop_replication to stop replication", .alreadyRunning),
        (
            "You can't start replication because the replica isn't configured. First call mysql.rds_set_external_master.",
            .notConfigured
        ),
        ("Replication might be running. First call mysql.rds_stop_replication.", .alreadyRunning),
        ("Slave has encountered an error. Run SHOW SLAVE STATUS\\G; to see the error.", .replicationFailed),
        ("Permission Denied: Replication for Multi-AZ clusters is managed exclusively by RDS.", .permissionDenied),
    ]

    @Test(arguments: procedureErrors)
    func startErrorsAreTyped(text: String, code: ReplicationError.Code) async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("CALL mysql.rds_start_replication"), failingWith: 1644, sqlState: "45000", message: text)
        if code == .replicationFailed {
            // The controller reads the status to attach the thread errors.
            session.expect(
                "SHOW REPLICA STATUS",
                answer: StatusRow(io: "Connecting", lastIOErrno: "1045", lastIOError: "Access denied").modern)
        }
        let error = try await #require(throws: ReplicationError.self) {
            try await controller(session).startReplication(logger: logger)
        }
        #expect(error.code == code)
        #expect(error.sqlState == "45000")
        #expect(error.message.contains(text))
        if code == .replicationFailed { #expect(error.ioThreadError?.number == 1045) }
        try session.verifyAllConsumed()
    }

    @Test func stopAndReset() async throws {
        let session = ScriptedSQLSession()
        session.expect("CALL mysql.rds_stop_replication", answer: message("Slave is now down or disabled"))
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.running.modern)
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.stopped.modern)
        session.expect(
            "CALL mysql.rds_reset_external_source", answer: message("Slave has been reset", column: "message"))
        session.expect(
            "SHOW REPLICA STATUS",
            answer: SQLResult(resultSets: [
                ResultSet(columnNames: ["Replica_IO_Running", "Replica_SQL_Running"], rows: [])
            ]))
        let rds = try controller(session)
        let stopped = try await rds.stopReplication(logger: logger)
        #expect(stopped.isStopped)
        try await rds.resetReplication(logger: logger)
        try session.verifyAllConsumed()
    }

    @Test func stopWhenStoppedIsTyped() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact("CALL mysql.rds_stop_replication"),
            failingWith: 1644,
            sqlState: "45000",
            message: "Slave is already stopped or may not be configured. Run SHOW SLAVE STATUS\\G;"
        )
        let error = try await #require(throws: ReplicationError.self) {
            try await controller(session).stopReplication(logger: logger)
        }
        #expect(error.code == .notRunning)
    }

    @Test func startUntilAcceptsAnApplierStoppedAtThePosition() async throws {
        let session = ScriptedSQLSession()
        let until = try BinlogPosition(file: "mysql-bin.000003", offset: 1800)
        session.expect(
            "CALL mysql.rds_start_replication_until('mysql-bin.000003', 1800)",
            answer: message("Replication started until MASTER_LOG_FILE = 'mysql-bin.000003' and MASTER_LOG_POS = 1800")
        )
        session.expect("SHOW REPLICA STATUS", answer: StatusRow(sql: "No", executedOffset: "1800").modern)
        let status = try await controller(session).startReplication(until: until, logger: logger)
        #expect(status.sqlThread == .stopped)
        #expect(status.executedPosition == until)
        try session.verifyAllConsumed()
    }

    @Test func startUntilWhoseApplierStoppedBeforeTheProcedureLookedIsNoFailure() async throws {
        let session = ScriptedSQLSession()
        let until = try BinlogPosition(file: "mysql-bin.000003", offset: 1800)
        session.expect(
            .exact("CALL mysql.rds_start_replication_until('mysql-bin.000003', 1800)"),
            failingWith: 1644,
            sqlState: "45000",
            message: "Slave has encountered an error. Run SHOW SLAVE STATUS\\G; to see the error."
        )
        // Attached to the error, then read again to tell "stopped at the position" from a real failure.
        session.expect("SHOW REPLICA STATUS", answer: StatusRow(sql: "No", executedOffset: "1800").modern)
        session.expect("SHOW REPLICA STATUS", answer: StatusRow(sql: "No", executedOffset: "1800").modern)
        let status = try await controller(session).startReplication(until: until, logger: logger)
        #expect(status.executedPosition == until)
        try session.verifyAllConsumed()

        let broken = ScriptedSQLSession()
        broken.expect(
            .exact("CALL mysql.rds_start_replication_until('mysql-bin.000003', 1800)"),
            failingWith: 1644,
            sqlState: "45000",
            message: "Slave has encountered an error. Run SHOW SLAVE STATUS\\G; to see the error."
        )
        broken.expect("SHOW REPLICA STATUS", answer: StatusRow.sqlError(1062, "dup").modern)
        broken.expect("SHOW REPLICA STATUS", answer: StatusRow.sqlError(1062, "dup").modern)
        await #expect(throws: ReplicationError(code: .replicationFailed, message: "")) {
            try await controller(broken).startReplication(until: until, logger: logger)
        }
        try broken.verifyAllConsumed()
    }

    @Test func skipReplicationError() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            "CALL mysql.rds_skip_repl_error",
            answer: SQLResult(resultSets: [
                ResultSet(columnNames: ["Message"], rows: [["Statement in error has been skipped"]]),
                ResultSet(columnNames: ["Message"], rows: [["Slave is now running normally"]]),
            ])
        )
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.running.modern)
        let status = try await controller(session).skipReplicationError(logger: logger)
        #expect(status.isRunning)
        try session.verifyAllConsumed()

        let idle = ScriptedSQLSession()
        idle.expect(
            .exact("CALL mysql.rds_skip_repl_error"), failingWith: 1644, sqlState: "45000",
            message: "Slave is running normally.  No errors detected to skip.")
        let error = try await #require(throws: ReplicationError.self) {
            try await controller(idle).skipReplicationError(logger: logger)
        }
        #expect(error.code == .nothingToSkip)
    }

    @Test func binlogRetention() async throws {
        let session = ScriptedSQLSession()
        session.expect("CALL mysql.rds_set_configuration('binlog retention hours', 168)")
        session.expect(
            "CALL mysql.rds_show_configuration",
            answer: SQLResult(resultSets: [
                ResultSet(
                    columnNames: ["name", "value", "description"],
                    rows: [
                        [
                            "binlog retention hours", "168",
                            "binlog retention hours specifies the duration in hours before binary logs are automatically deleted.",
                        ]
                    ]
                )
            ])
        )
        session.expect("CALL mysql.rds_set_configuration('binlog retention hours', NULL)")
        session.expect(
            .exact("CALL mysql.rds_set_configuration('binlog retention hours', 9999)"),
            failingWith: 1644,
            sqlState: "45000",
            message: "For binlog retention hours the value must be between 1 and 2160 inclusive or be NULL"
        )
        let rds = try controller(session)
        try await rds.setBinlogRetentionHours(168, logger: logger)
        #expect(try await rds.binlogRetentionHours(logger: logger) == 168)
        try await rds.setBinlogRetentionHours(nil, logger: logger)
        let error = try await #require(throws: ReplicationError.self) {
            try await rds.setBinlogRetentionHours(9999, logger: logger)
        }
        #expect(error.code == .invalidArgument)
        await #expect(throws: ReplicationError(code: .invalidArgument, message: "")) {
            try await rds.setBinlogRetentionHours(0, logger: logger)
        }
        try session.verifyAllConsumed()
    }

    @Test func missingProcedureAndMissingPrivilege() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact("CALL mysql.rds_start_replication"), failingWith: 1305, sqlState: "42000",
            message: "PROCEDURE mysql.rds_start_replication does not exist")
        session.expect(
            .exact("CALL mysql.rds_stop_replication"),
            failingWith: 1370,
            sqlState: "42000",
            message: "execute command denied to user 'app'@'%' for routine 'mysql.rds_stop_replication'"
        )
        let rds = try controller(session)
        await #expect(throws: ReplicationError(code: .procedureMissing, message: "")) {
            try await rds.startReplication(logger: logger)
        }
        await #expect(throws: ReplicationError(code: .permissionDenied, message: "")) {
            try await rds.stopReplication(logger: logger)
        }
        try session.verifyAllConsumed()
    }

    @Test func onTheShimTheStatusStatementIsMariaDBs() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            "CALL mysql.rds_start_replication", answer: message("Replication started. Slave is now running normally."))
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.running.legacy)
        let status = try await controller(session, Dialects.mariaDBWithShim).startReplication(logger: logger)
        #expect(status.isRunning)
        try session.verifyAllConsumed()
    }

    @Test(arguments: [
        (
            "You can't modify replication because replication is running. First call mysql.rds_stop_replication.",
            ReplicationError.Code.alreadyRunning
        ),
        (
            "You can't reset replication because replication isn't configured. First run mysql.rds_set_external_master.",
            .notConfigured
        ),
        (
            "You can't stop replication because the replica isn't configured. First call mysql.rds_set_external_master.",
            .notConfigured
        ),
        ("Slave is down or disabled.", .notRunning),
        ("Slave has encountered a new error. Please use SHOW SLAVE STATUS to see the error.", .replicationFailed),
        ("Invalid input: replication_stop_point cannot be NULL, less than or equal to 0", .invalidArgument),
        ("Cannot set unknown configuration parameter 'x' using mysql.rds_set_configuration.", .invalidArgument),
        (
            "A mysql.rds_skip_repl_error procedure is in progress. Wait a few seconds before calling mysql.rds_skip_repl_error again.",
            .alreadyRunning
        ),
        ("Something nobody expected", .procedureFailed),
    ])
    func classifiesProcedureMessages(text: String, code: ReplicationError.Code) {
        #expect(RDSReplicaController.classify(procedureMessage: text) == code)
    }

    @Test func messagesOfAllResultSets() {
        let result = SQLResult(resultSets: [
            ResultSet(columnNames: ["Message"], rows: [["Statement in error has been skipped"]]),
            ResultSet(columnNames: ["message"], rows: [["Slave is now running normally"]]),
        ])
        #expect(
            RDSReplicaController.messages(of: result) == [
                "Statement in error has been skipped", "Slave is now running normally",
            ])
    }
}
