import CutoverSandbox
import Logging
import MariaDB
import ReplicationControl
import Testing

/// Catch-up waits against real replication: fail fast on a broken applier, time out at the deadline.
@Suite(.integration, .serialized)
struct ReplicationCatchUpTests {
    @Test(arguments: ["position", "gtid"], SandboxServerKind.allCases)
    func plantedDuplicateKeySurfacesAsATypedErrorWithinTheDeadline(kind: String, server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let rds = try await testbed.startForwardReplication()
            try await ReplicationTestbed.insert(1...10, on: testbed.sourceRoot)
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 0")
            try await testbed.auroraRoot.run("INSERT INTO app.items (id, note) VALUES (11, 'planted on the replica')")
            try await ReplicationTestbed.insert(11...20, on: testbed.sourceRoot)
            let status = try await testbed.sourceController().sourceStatus(logger: logger)
            let target =
                kind == "position" ? CatchUpTarget.position(of: status) : try #require(CatchUpTarget.gtid(of: status))
            let deadline = Duration.seconds(30)
            let clock = ContinuousClock()
            let started = clock.now
            let error = try await #require(throws: ReplicationError.self) {
                try await rds.waitUntilExecuted(target, timeout: deadline, logger: logger)
            }
            let took = started.duration(to: clock.now)
            #expect(error.code == .replicationFailed, "\(error)")
            // On MySQL the applier is multi-threaded: SHOW REPLICA STATUS shows the coordinator's summary; the
            // worker's own error comes from performance_schema.replication_applier_status_by_worker.
            #expect(error.sqlThreadError?.number == 1062, "\(error)")
            #expect(error.sqlThreadError?.message.contains("Duplicate entry '11'") == true, "\(error)")
            // Failing fast means well before the deadline (the SQL thread is checked between wait slices).
            #expect(took < deadline / 3, "took \(took)")
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func unreachableTargetTimesOutAtTheDeadline(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let rds = try await testbed.startForwardReplication()
            let current = try await testbed.sourceController().sourceStatus(logger: logger).position
            let beyond = try BinlogPosition(file: current.file, offset: current.offset + 1_000_000)
            let clock = ContinuousClock()
            let started = clock.now
            let error = try await #require(throws: ReplicationError.self) {
                try await rds.waitUntilExecuted(.position(beyond), timeout: .milliseconds(1500), logger: logger)
            }
            let took = started.duration(to: clock.now)
            #expect(error.code == .catchUpTimedOut, "\(error)")
            #expect(took >= .milliseconds(1400))
            #expect(took < .seconds(5), "took \(took)")
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func stoppedApplierFailsAtOnce(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let rds = try await testbed.startForwardReplication()
            try await testbed.auroraRoot.run(server == .mysql ? "STOP REPLICA SQL_THREAD" : "STOP SLAVE SQL_THREAD")
            try await ReplicationTestbed.insert(1...3, on: testbed.sourceRoot)
            let target = try await testbed.sourceController().sourceStatus(logger: logger)
            let error = try await #require(throws: ReplicationError.self) {
                try await rds.waitUntilExecuted(.position(of: target), timeout: .seconds(30), logger: logger)
            }
            #expect(error.code == .replicationNotRunning)
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func pollingFallbackAgainstARealReplica(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let rds = try await testbed.startForwardReplication()
            let poller = CatchUpWaiter(
                session: testbed.auroraAdmin,
                dialect: rds.dialect,
                options: .init(strategy: .polling, pollInterval: .milliseconds(10))
            )
            try await ReplicationTestbed.insert(1...30, on: testbed.sourceRoot)
            let status = try await testbed.sourceController().sourceStatus(logger: logger)
            let byPosition = try await poller.waitUntilExecuted(
                .position(of: status), timeout: .seconds(20), logger: logger)
            #expect(byPosition.method == .polling)
            let byGTID = try await poller.waitUntilExecuted(
                try #require(CatchUpTarget.gtid(of: status)), timeout: .seconds(20), logger: logger)
            #expect(byGTID.method == .polling)
            #expect(try await ReplicationTestbed.count(on: testbed.auroraAdmin) == 30)
        }
    }
}

/// Reverse replication "Aurora" → source with the native controller, and the source controller's fence.
@Suite(.integration, .serialized)
struct ReplicationReverseTests {
    /// Forward replication, catch-up, stop and reset on Aurora; then the source replicates from Aurora's position.
    func startReverse(_ testbed: ReplicationTestbed, filter: ReplicationFilter) async throws
        -> (native: NativeReplicaController, auroraSource: SourceController)
    {
        let logger = testbed.logger
        let rds = try await testbed.startForwardReplication()
        try await ReplicationTestbed.insert(1...10, on: testbed.sourceRoot)
        let forwardTarget = try await testbed.sourceController().sourceStatus(logger: logger)
        _ = try await rds.waitUntilExecuted(.position(of: forwardTarget), timeout: .seconds(20), logger: logger)
        _ = try await rds.stopReplication(logger: logger)
        try await rds.resetReplication(logger: logger)

        // Aurora gets a replication account (the restricted admin may create it), then its position is read.
        try await testbed.auroraAdmin.run(
            "CREATE USER \(ReplicationTestbed.replicationUser)@'%' IDENTIFIED BY \(secret: testbed.replicationPassword)"
        )
        try await testbed.auroraAdmin.run("GRANT REPLICATION SLAVE ON *.* TO \(ReplicationTestbed.replicationUser)@'%'")
        let auroraSource = try await SourceController.detecting(on: testbed.auroraAdmin, logger: logger)
        let auroraPosition = try await auroraSource.sourceStatus(logger: logger).position

        let native = try await NativeReplicaController.detecting(
            on: testbed.sourceRoot,
            options: .init(filter: filter, verificationTimeout: .seconds(10)),
            logger: logger
        )
        try await native.configureSource(
            ReplicationSource(
                host: "127.0.0.1", port: testbed.aurora.port, user: ReplicationTestbed.replicationUser,
                password: testbed.replicationPassword, startPoint: .position(auroraPosition), connectRetrySeconds: 1
            ),
            logger: logger
        )
        let running = try await native.startReplication(logger: logger)
        #expect(running.isRunning)
        return (native, auroraSource)
    }

    @Test(arguments: [ReplicationFilter.ignoreRDSTables, .ignoreMySQLSchema], SandboxServerKind.allCases)
    func reverseReplicationIgnoresAurorasBookkeeping(filter: ReplicationFilter, server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let (native, auroraSource) = try await startReverse(testbed, filter: filter)
            // Aurora writes application rows and, like its agent, a binlogged heartbeat in mysql.rds_heartbeat2.
            try await ReplicationTestbed.insert(101...120, on: testbed.auroraAdmin)
            try await AuroraProcedureShim.writeHeartbeat(usingRoot: testbed.auroraRoot)
            try await ReplicationTestbed.insert(121...125, on: testbed.auroraAdmin)
            let target = try await auroraSource.sourceStatus(logger: logger)
            let result = try await native.waitUntilExecuted(
                .position(of: target), timeout: .seconds(20), logger: logger)
            #expect(result.method == .waitFunction(server == .mysql ? "SOURCE_POS_WAIT" : "MASTER_POS_WAIT"))
            #expect(try await ReplicationTestbed.count(on: testbed.sourceRoot) == 35)
            let status = try await native.replicaStatus(logger: logger)
            #expect(status.isRunning)
            #expect(!status.hasError)
            if filter == .ignoreRDSTables {
                #expect(status.filters.wildIgnoreTables == [ReplicationFilter.rdsTablesPattern])
            } else {
                #expect(status.filters.ignoreDatabases == ["mysql"])
            }
            let table = try await testbed.sourceRoot.query(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'rds_heartbeat2'"
            )
            #expect(table.isEmpty)
            _ = try await native.stopReplication(logger: logger)
            try await native.resetReplication(logger: logger)
            #expect(try await native.replicaStatus(logger: logger).isConfigured == false)
        }
    }

    /// On MySQL the applier is multi-threaded: the 1146 is a worker's, read from performance_schema.
    @Test(arguments: SandboxServerKind.allCases)
    func withoutTheFilterAurorasHeartbeatBreaksReverseReplication(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let (native, auroraSource) = try await startReverse(testbed, filter: ReplicationFilter.none)
            try await AuroraProcedureShim.writeHeartbeat(usingRoot: testbed.auroraRoot)
            let target = try await auroraSource.sourceStatus(logger: logger)
            let error = try await #require(throws: ReplicationError.self) {
                try await native.waitUntilExecuted(.position(of: target), timeout: .seconds(20), logger: logger)
            }
            #expect(error.code == .replicationFailed)
            #expect(error.sqlThreadError?.number == 1146, "\(error)")
            #expect(error.sqlThreadError?.message.contains("rds_heartbeat2") == true, "\(error)")
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func fenceBlocksNarrowAccountsAndLiftsAgain(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            try await testbed.sourceRoot.run("CREATE USER app@'%' IDENTIFIED BY 'app-pw'")
            try await testbed.sourceRoot.run("GRANT SELECT, INSERT, UPDATE, DELETE ON app.* TO app@'%'")
            let app = try await MariaDBConnection.connect(
                configuration: testbed.source.configuration(user: "app", password: "app-pw"))
            let source = try await testbed.sourceController()
            try await ReplicationTestbed.insert(1...1, on: app)
            let fence = try await source.fenceWrites(timeout: .seconds(5), logger: logger)
            #expect(fence.previousReadOnly == false)
            let refused = try await #require(throws: MariaDBError.self) {
                try await ReplicationTestbed.insert(2...2, on: app)
            }
            #expect(refused.serverErrorNumber == 1290)
            // Positions read after the fence stay put.
            let first = try await source.sourceStatus(logger: logger)
            let second = try await source.sourceStatus(logger: logger)
            #expect(first.position == second.position)
            try await source.liftFence(fence, logger: logger)
            try await ReplicationTestbed.insert(2...2, on: app)
            await app.close()
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func fenceWaitsForALockAndTimesOut(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let blocker = try await testbed.source.connectAsRoot()
            try await blocker.run("LOCK TABLES app.items WRITE")
            let source = try await testbed.sourceController()
            let clock = ContinuousClock()
            let started = clock.now
            let error = try await #require(throws: ReplicationError.self) {
                try await source.fenceWrites(timeout: .milliseconds(800), logger: logger)
            }
            #expect(error.code == .fenceTimedOut)
            #expect(started.duration(to: clock.now) < .seconds(5))
            try await blocker.run("UNLOCK TABLES")
            await blocker.close()
            let readOnly = try #require(try await testbed.sourceRoot.queryFirst("SELECT @@GLOBAL.read_only AS r"))
            #expect(try readOnly.decode(Int.self, "r") == 0)
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func longRunningWriteTransactionsAreListed(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let writer = try await testbed.source.connectAsRoot()
            try await writer.run("BEGIN")
            try await writer.run("INSERT INTO app.items (id, note) VALUES (1, 'open')")
            let reader = try await testbed.source.connectAsRoot()
            try await reader.run("BEGIN")
            _ = try await reader.query("SELECT * FROM app.items")
            try await Task.sleep(for: .milliseconds(1200))
            let source = try await testbed.sourceController()
            let transactions = try await source.longRunningWriteTransactions(olderThan: .seconds(1), logger: logger)
            #expect(transactions.map(\.connectionID) == [writer.connectionID])
            #expect(transactions.first?.rowsModified == 1)
            #expect(try await source.longRunningWriteTransactions(olderThan: .seconds(60), logger: logger).isEmpty)
            try await writer.run("ROLLBACK")
            try await reader.run("ROLLBACK")
            await writer.close()
            await reader.close()
        }
    }
}
