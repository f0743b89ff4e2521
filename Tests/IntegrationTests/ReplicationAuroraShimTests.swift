import CutoverSandbox
import Logging
import MariaDB
import ReplicationControl
import Testing

/// The Aurora stand-in on a real MariaDB server (the typed procedure errors on MySQL 9.7 too, #12): procedures,
/// messages, errors, and the restricted admin.
@Suite(.integration, .serialized)
struct ReplicationAuroraShimTests {
    @Test func restrictedAdminCannotRunReplicationStatementsDirectly() async throws {
        try await withReplicationTestbed { testbed in
            let admin = testbed.auroraAdmin
            let forbidden: [SQLStatement] = [
                "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = \(testbed.source.port)",
                "START SLAVE", "STOP SLAVE", "RESET SLAVE ALL", "START REPLICA",
                "SET GLOBAL read_only = ON", "SET GLOBAL binlog_expire_logs_seconds = 0",
                "SET GLOBAL sql_slave_skip_counter = 1",
            ]
            for statement in forbidden {
                let error = try await #require(throws: MariaDBError.self, "\(statement.redacted)") {
                    try await admin.run(statement)
                }
                #expect(error.serverErrorNumber == 1227, "\(statement.redacted): \(error)")
                #expect(error.isPermissionDenied)
            }
            // It may read the replica status and see (and call) the procedures.
            _ = try await admin.query("SHOW SLAVE STATUS")
            let dialect = try await ReplicationDialect.detect(on: admin, logger: testbed.logger)
            let procedures = try #require(dialect.rdsProcedures)
            #expect(procedures.generation == .source)
            #expect(Set(testbed.shim.procedures).isSubset(of: procedures.available))
            #expect(procedures.setExternalSourceWithAutoPosition == "rds_set_external_source_with_auto_position")
            // The definer account cannot log in.
            let locked = try await #require(throws: MariaDBError.self) {
                try await MariaDBConnection.connect(
                    configuration: testbed.aurora.configuration(user: "rdsadmin", password: nil))
            }
            #expect(locked.isAccessDenied || locked.code == .connectionFailed)
        }
    }

    /// The procedures' last argument, `ssl_encryption`, as the real ones take it: 1 configures the replication
    /// connection with TLS (`Master_SSL_Allowed: Yes`), 0 without; the procedures with and without auto-position.
    @Test func sslEncryptionArgumentConfiguresTLSReplication() async throws {
        try await withReplicationTestbed { testbed in
            let logger = testbed.logger
            let rds = try await testbed.rdsController()
            let start = try await testbed.sourceController().sourceStatus(logger: logger).position
            for (startPoint, useTLS) in [
                (ReplicationSource.StartPoint.position(start), true), (.position(start), false), (.autoPosition, true),
            ] {
                var source = testbed.forwardSource(startPoint)
                source.useTLS = useTLS
                try await rds.configureSource(source, logger: logger)
                let status = try await rds.replicaStatus(logger: logger)
                #expect(status.isConfigured)
                #expect(status.usesTLS == useTLS, "\(startPoint), ssl_encryption \(useTLS ? 1 : 0)")
                let raw = try #require(try await testbed.auroraAdmin.queryFirst("SHOW SLAVE STATUS"))
                #expect(raw["Master_SSL_Allowed"]?.string == (useTLS ? "Yes" : "No"))
                try await rds.resetReplication(logger: logger)
            }
            // The bookkeeping records the argument as RDS's does (master_ssl).
            let history = try await testbed.auroraRoot.query(
                "SELECT master_ssl FROM mysql.rds_history WHERE action = 'set master' ORDER BY action_timestamp")
            #expect(history.map { $0[0].string } == ["1", "0", "1"])
        }
    }

    @Test func forwardReplicationThroughTheProceduresCatchesUpByPositionAndGTID() async throws {
        try await withReplicationTestbed { testbed in
            let logger = testbed.logger
            let rds = try await testbed.rdsController()
            let sourceController = try await testbed.sourceController()
            #expect(try await rds.replicaStatus(logger: logger).isConfigured == false)
            let auroraGTIDBefore = try #require(
                try await testbed.auroraRoot.queryFirst("SELECT @@GLOBAL.gtid_binlog_pos AS pos"))["pos"]?.string

            let start = try await sourceController.sourceStatus(logger: logger).position
            try await rds.configureSource(testbed.forwardSource(.position(start)), logger: logger)
            let configured = try await rds.replicaStatus(logger: logger)
            #expect(configured.isConfigured)
            #expect(configured.isStopped)
            #expect(configured.sourcePort == testbed.source.port)
            let running = try await rds.startReplication(logger: logger)
            #expect(running.isRunning)

            // Catch up by position.
            try await ReplicationTestbed.insert(1...50, on: testbed.sourceRoot)
            let afterFirstBatch = try await sourceController.sourceStatus(logger: logger)
            let byPosition = try await rds.waitUntilExecuted(
                .position(of: afterFirstBatch), timeout: .seconds(20), logger: logger)
            #expect(byPosition.method == .waitFunction("MASTER_POS_WAIT"))
            #expect(try await ReplicationTestbed.count(on: testbed.auroraAdmin) == 50)
            let executed = try #require(try await rds.replicaStatus(logger: logger).executedPosition)
            #expect(try executed.isAtOrPast(afterFirstBatch.position))

            // Catch up by GTID.
            try await ReplicationTestbed.insert(51...80, on: testbed.sourceRoot)
            let afterSecondBatch = try await sourceController.sourceStatus(logger: logger)
            let gtid = try #require(CatchUpTarget.gtid(of: afterSecondBatch))
            let byGTID = try await rds.waitUntilExecuted(gtid, timeout: .seconds(20), logger: logger)
            #expect(byGTID.method == .waitFunction("MASTER_GTID_WAIT"))
            #expect(try await ReplicationTestbed.count(on: testbed.auroraAdmin) == 80)
            // MariaDB advances @@gtid_slave_pos a moment before Exec_Master_Log_Pos: a GTID catch-up does not mean the
            // coordinate shows it yet. After a position wait it does.
            _ = try await rds.waitUntilExecuted(.position(of: afterSecondBatch), timeout: .seconds(20), logger: logger)
            let lag = try await rds.lag(behind: afterSecondBatch, logger: logger)
            #expect(lag.isCaughtUp, "\(lag)")

            // Stop and reset, verified by the status.
            let stopped = try await rds.stopReplication(logger: logger)
            #expect(stopped.isStopped)
            try await rds.resetReplication(logger: logger)
            #expect(try await rds.replicaStatus(logger: logger).isConfigured == false)

            // The procedures' bookkeeping stayed out of Aurora's binary log (no local GTID appeared) ...
            let auroraGTIDAfter = try #require(
                try await testbed.auroraRoot.queryFirst("SELECT @@GLOBAL.gtid_binlog_pos AS pos"))["pos"]?.string
            let localDomain = UInt32(testbed.aurora.serverID)
            #expect(try MariaDBGTIDPosition(parsing: auroraGTIDAfter ?? "")[domain: localDomain] == nil)
            #expect(try MariaDBGTIDPosition(parsing: auroraGTIDBefore ?? "")[domain: localDomain] == nil)
            // ... but was written.
            let history = try await testbed.auroraRoot.query(
                "SELECT action FROM mysql.rds_history ORDER BY action_timestamp")
            let actions = history.compactMap { $0[0].string }
            #expect(actions.contains("set master"))
            #expect(actions.contains("start slave"))
            #expect(actions.contains("stop slave"))
            #expect(actions.contains("reset slave"))
            // The caller's session got its sql_log_bin back.
            #expect(
                try #require(try await testbed.auroraRoot.queryFirst("SELECT @@SESSION.sql_log_bin AS b")).decode(
                    Int.self, "b") == 1)
        }
    }

    @Test func autoPositionOnAuroraVersion2Names() async throws {
        try await withReplicationTestbed(shim: .init(simulatedDelays: false, generation: .auroraVersion2)) { testbed in
            let logger = testbed.logger
            let rds = try await testbed.rdsController()
            #expect(rds.procedures.generation == .master)
            #expect(rds.procedures.setExternalSource == "rds_set_external_master")
            try await ReplicationTestbed.insert(1...5, on: testbed.sourceRoot)
            // The "backup" already holds rows 1...5 and the GTIDs they came with.
            let sourceStatus = try await testbed.sourceController().sourceStatus(logger: logger)
            guard case .mariaDB(let sourceGTID) = sourceStatus.gtid else {
                Issue.record("source status has no MariaDB GTID")
                return
            }
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 0")
            try await ReplicationTestbed.insert(1...5, on: testbed.auroraRoot)
            try await testbed.auroraRoot.run("SET GLOBAL gtid_slave_pos = \(sourceGTID.description)")
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 1")

            try await rds.configureSource(testbed.forwardSource(.autoPosition), logger: logger)
            let running = try await rds.startReplication(logger: logger)
            #expect(running.gtid.mode == .mariaDBSlavePos)
            try await ReplicationTestbed.insert(6...20, on: testbed.sourceRoot)
            let target = try #require(
                CatchUpTarget.gtid(of: try await testbed.sourceController().sourceStatus(logger: logger)))
            _ = try await rds.waitUntilExecuted(target, timeout: .seconds(20), logger: logger)
            #expect(try await ReplicationTestbed.count(on: testbed.auroraAdmin) == 20)
            _ = try await rds.stopReplication(logger: logger)
            try await rds.resetReplication(logger: logger)
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func procedureErrorsAreTypedAndConfigurationIsKept(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let rds = try await testbed.rdsController()
            await #expect(throws: ReplicationError(code: .notConfigured, message: "")) {
                try await rds.startReplication(logger: logger)
            }
            await #expect(throws: ReplicationError(code: .notConfigured, message: "")) {
                try await rds.stopReplication(logger: logger)
            }
            await #expect(throws: ReplicationError(code: .notConfigured, message: "")) {
                try await rds.resetReplication(logger: logger)
            }
            await #expect(throws: ReplicationError(code: .notConfigured, message: "")) {
                try await rds.skipReplicationError(logger: logger)
            }

            let position = try await testbed.sourceController().sourceStatus(logger: logger).position
            try await rds.configureSource(testbed.forwardSource(.position(position)), logger: logger)
            await #expect(throws: ReplicationError(code: .notRunning, message: "")) {
                try await rds.stopReplication(logger: logger)
            }
            _ = try await rds.startReplication(logger: logger)
            let again = try await #require(throws: ReplicationError.self) {
                try await rds.startReplication(logger: logger)
            }
            #expect(again.code == .alreadyRunning)
            #expect(again.sqlState == "45000")
            #expect(again.serverErrorNumber == 1644)
            await #expect(throws: ReplicationError(code: .alreadyRunning, message: "")) {
                try await rds.configureSource(testbed.forwardSource(.position(position)), logger: logger)
            }
            await #expect(throws: ReplicationError(code: .nothingToSkip, message: "")) {
                try await rds.skipReplicationError(logger: logger)
            }

            // binlog retention hours, Aurora's limit of 2160.
            #expect(try await rds.binlogRetentionHours(logger: logger) == nil)
            try await rds.setBinlogRetentionHours(48, logger: logger)
            #expect(try await rds.binlogRetentionHours(logger: logger) == 48)
            let expiry = try #require(
                try await testbed.auroraRoot.queryFirst("SELECT @@GLOBAL.binlog_expire_logs_seconds AS s"))
            #expect(try expiry.decode(Int.self, "s") == 48 * 3600)
            await #expect(throws: ReplicationError(code: .invalidArgument, message: "")) {
                try await rds.setBinlogRetentionHours(2161, logger: logger)
            }
            let entries = try await rds.configuration(logger: logger)
            #expect(entries.first?.description?.contains("binlog retention hours") == true)
        }
    }

    /// MariaDB only. On the MySQL 9.7 stand-in (GTIDs on, 4 applier workers, forward replication by position) the
    /// procedure's `sql_replica_skip_counter = 1` did not skip the failing transaction in the one run tried: the
    /// applier stopped again with 1062 on the next wait (#12, open: skipping one transaction there means an empty
    /// transaction with its GTID).
    @Test func skipReplicationErrorThroughTheProcedure() async throws {
        try await withReplicationTestbed { testbed in
            let logger = testbed.logger
            let rds = try await testbed.startForwardReplication()
            // A row planted on Aurora collides with the source's next insert.
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 0")
            try await testbed.auroraRoot.run("INSERT INTO app.items (id, note) VALUES (7, 'planted')")
            try await ReplicationTestbed.insert(7...7, note: "from source", on: testbed.sourceRoot)
            try await ReplicationTestbed.insert(8...9, on: testbed.sourceRoot)
            let target = try await testbed.sourceController().sourceStatus(logger: logger)
            let failure = try await #require(throws: ReplicationError.self) {
                try await rds.waitUntilExecuted(.position(of: target), timeout: .seconds(20), logger: logger)
            }
            #expect(failure.code == .replicationFailed)
            let status = try await rds.skipReplicationError(logger: logger)
            #expect(status.isRunning)
            _ = try await rds.waitUntilExecuted(.position(of: target), timeout: .seconds(20), logger: logger)
            #expect(try await ReplicationTestbed.count(on: testbed.auroraAdmin) == 3)
        }
    }

    @Test func simulatedDelaysMakeStartAndStopSlow() async throws {
        try await withReplicationTestbed(shim: .init(simulatedDelays: true)) { testbed in
            let logger = testbed.logger
            let rds = try await testbed.rdsController(RDSReplicaController.Options(verificationTimeout: .seconds(10)))
            let position = try await testbed.sourceController().sourceStatus(logger: logger).position
            try await rds.configureSource(testbed.forwardSource(.position(position)), logger: logger)
            let clock = ContinuousClock()
            let started = clock.now
            _ = try await rds.startReplication(logger: logger)
            // The procedure sleeps 1 s before and 2 s after START SLAVE, like Aurora's.
            #expect(started.duration(to: clock.now) >= .seconds(3))
        }
    }
}

extension ReplicationAuroraShimTests {
    @Test func startReplicationUntilAPosition() async throws {
        try await withReplicationTestbed { testbed in
            let logger = testbed.logger
            let rds = try await testbed.rdsController()
            let sourceController = try await testbed.sourceController()
            let start = try await sourceController.sourceStatus(logger: logger).position
            try await ReplicationTestbed.insert(1...10, on: testbed.sourceRoot)
            let until = try await sourceController.sourceStatus(logger: logger).position
            try await ReplicationTestbed.insert(11...20, on: testbed.sourceRoot)
            try await rds.configureSource(testbed.forwardSource(.position(start)), logger: logger)
            _ = try await rds.startReplication(until: until, logger: logger)
            // The applier stops exactly at the position: the first ten rows only.
            var status = try await rds.replicaStatus(logger: logger)
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(10))
            while status.sqlThread == .running, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                status = try await rds.replicaStatus(logger: logger)
            }
            #expect(status.sqlThread == .stopped)
            #expect(status.lastSQLError == nil)
            #expect(status.executedPosition == until)
            #expect(try await ReplicationTestbed.count(on: testbed.auroraAdmin) == 10)
        }
    }
}
