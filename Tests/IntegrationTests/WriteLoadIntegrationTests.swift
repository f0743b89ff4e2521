@_spi(Testing) import CutoverSandbox
import Logging
import MariaDB
import Testing

/// The write load and the loss checker against real sandbox MariaDB servers, clients connected directly (no
/// proxy). The cut-over proof tests use them through the ProxySQL emulator.
@Suite("WriteLoad against real MariaDB", .integration, .serialized)
struct WriteLoadIntegrationTests {
    static let appUser = "load_app"
    static let appPassword = "app-\(UInt32.random(in: 1...UInt32.max))"
    let logger = Logger.integrationTests

    /// Starts `servers` servers, installs the schema and the application account on all of them, and passes
    /// root sessions to `body`.
    func withLoadSandbox(
        servers: Int = 1,
        _ body: (MariaDBSandbox, [MariaDBConnection]) async throws -> Void
    ) async throws {
        try await withMariaDBSandbox(servers: servers, logger: logger) { sandbox in
            var roots: [MariaDBConnection] = []
            for server in sandbox.servers { roots.append(try await server.connectAsRoot()) }
            let schema = WriteLoadSchema()
            try await schema.install(on: roots)
            try await schema.createApplicationAccount(on: roots, user: Self.appUser, password: Self.appPassword)
            do {
                try await body(sandbox, roots)
            } catch {
                for root in roots { await root.close() }
                throw error
            }
            for root in roots { await root.close() }
        }
    }

    func loadConfiguration(
        _ server: SandboxServer,
        clients: Int = 4,
        workload: WriteLoadWorkload = .clientKeys,
        mode: WriteLoad.TransactionMode = .autocommit,
        rows: Int = 1
    ) -> WriteLoad.Configuration {
        WriteLoad.Configuration(
            endpoint: server.configuration(user: Self.appUser, password: Self.appPassword),
            clients: clients,
            workload: workload,
            transactionMode: mode,
            rowsPerWrite: rows
        )
    }

    @Test("4 clients until 100 writes are acknowledged: every acknowledged write present exactly once; planted loss and unknown row are caught")
    func cleanRunThenPlantedLoss() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        try await withLoadSandbox { sandbox, roots in
            let load = try WriteLoad(configuration: loadConfiguration(sandbox.servers[0]), logger: logger)
            let (report, _) = try await load.run { load in
                // A count, not a duration: the whole suite on a loaded 2-core machine managed 63 writes in 2 s.
                let reached = try await load.waitForAcknowledgedWrites(100, timeout: .seconds(60))
                #expect(reached)
            }
            #expect(report.clients == 4)
            #expect(report.acknowledgedCount >= 100)
            #expect(Set(report.records.map(\.client)) == [0, 1, 2, 3])
            #expect(report.failed.isEmpty && report.ambiguous.isEmpty)
            #expect(report.latencySummary() != nil)

            let verification = try await WriteLoadChecker.verify(report, finalWriter: roots[0])
            #expect(verification.isClean, "\(verification)")
            #expect(verification.lost.isEmpty)
            #expect(verification.acknowledgedCount == report.acknowledgedCount)
            #expect(verification.rowsOnFinalWriter == report.acknowledgedCount)
            // The trigger recorded the accepting server for every row.
            #expect(verification.rowsByOrigin == [UInt32(sandbox.servers[0].serverID): report.acknowledgedCount])

            // Plant a loss: delete one acknowledged row. Plant an unknown row: one this run never sent.
            let victim = try #require(report.acknowledged.dropFirst(report.acknowledgedCount / 2).first)
            try await roots[0].run("DELETE FROM `cutover_load`.`keyed_writes` WHERE `id` = \(victim.firstWriteID)")
            let stranger = load.writeIDs.writeID(client: 999, rowSequence: 1)
            try await roots[0].run(
                WriteLoadSchema().insertStatement(
                    workload: .clientKeys,
                    runID: report.runID,
                    rows: [.init(writeID: stranger, client: 999, sequence: 1, sentAtMicroseconds: 0)]
                )
            )
            let planted = try await WriteLoadChecker.verify(report, finalWriter: roots[0])
            #expect(!planted.isClean)
            #expect(planted.lost.map(\.record) == [victim])
            #expect(planted.lost.first?.missingWriteIDs == [victim.firstWriteID])
            #expect(planted.unknownRows.map(\.writeID) == [stranger])
            #expect(planted.duplicated.isEmpty)
        }
    }

    @Test("AUTO_INCREMENT workload, explicit 2-row transactions: clean, then a planted second copy is reported doubled")
    func autoIncrementDuplicate() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        try await withLoadSandbox { sandbox, roots in
            let configuration = loadConfiguration(
                sandbox.servers[0], workload: .autoIncrement, mode: .explicit, rows: 2)
            let load = try WriteLoad(configuration: configuration, logger: logger)
            let (report, _) = try await load.run { load in
                #expect(try await load.waitForAcknowledgedWrites(50, timeout: .seconds(10)))
                try await Task.sleep(for: .milliseconds(500))
            }
            let verification = try await WriteLoadChecker.verify(report, finalWriter: roots[0])
            #expect(verification.isClean, "\(verification)")
            #expect(verification.rowsOnFinalWriter == 2 * report.acknowledgedCount)

            let victim = try #require(report.acknowledged.last)
            let copied = victim.firstWriteID + 1
            try await roots[0].run(
                """
                INSERT INTO `cutover_load`.`auto_increment_writes` \
                (`write_id`, `run_id`, `client`, `sequence`, `sent_at_us`) \
                SELECT `write_id`, `run_id`, `client`, `sequence`, `sent_at_us` \
                FROM `cutover_load`.`auto_increment_writes` \
                WHERE `write_id` = \(copied)
                """
            )
            let planted = try await WriteLoadChecker.verify(report, finalWriter: roots[0])
            #expect(!planted.isClean)
            #expect(planted.duplicated.map(\.writeID) == [copied])
            #expect(planted.duplicated.first?.rowCount == 2)
            #expect(planted.duplicated.first?.record == victim)
            #expect(planted.lost.isEmpty)
        }
    }

    @Test(
        "read_only refuses the grant-limited account: failed writes (1290) are classified not committed, nothing lost")
    func forcedFailures() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        try await withLoadSandbox { sandbox, roots in
            let load = try WriteLoad(configuration: loadConfiguration(sandbox.servers[0]), logger: logger)
            let root = roots[0]
            let (report, fencedPeriod) = try await load.run { load in
                #expect(try await load.waitForAcknowledgedWrites(50, timeout: .seconds(10)))
                try await root.run("SET GLOBAL read_only = 1")
                let fencedAt = ContinuousClock.now
                try await Task.sleep(for: .milliseconds(300))
                let liftedAt = ContinuousClock.now
                try await root.run("SET GLOBAL read_only = 0")
                #expect(try await load.waitForMoreAcknowledgedWrites(50, timeout: .seconds(10)))
                return fencedAt...liftedAt
            }
            #expect(!report.failed.isEmpty)
            #expect(report.failed.allSatisfy { $0.outcome.error?.number == 1290 })
            // Clients kept their connections through the refusals.
            #expect(report.connectionLossCount == 0)

            let verification = try await WriteLoadChecker.verify(report, finalWriter: root)
            #expect(verification.isClean, "\(verification)")
            #expect(verification.failedNotCommitted.count == report.failed.count)
            #expect(verification.failedCommitted.isEmpty)

            // No write could be acknowledged while read_only was on: the window seen by the clients covers it
            // (minus a little for an acknowledgement already on its way when read_only took effect).
            let gap = try #require(report.longestGap(overlapping: fencedPeriod))
            let fenced = fencedPeriod.upperBound - fencedPeriod.lowerBound
            #expect(gap.duration >= fenced - .milliseconds(50), "gap \(gap), fenced \(fenced.inMilliseconds) ms")
        }
    }

    @Test("killed sessions: clients reconnect and go on; every ambiguous write is classified; nothing lost")
    func killedSessions() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        try await withLoadSandbox { sandbox, roots in
            let configuration = loadConfiguration(sandbox.servers[0], mode: .explicit, rows: 1)
            let load = try WriteLoad(configuration: configuration, logger: logger)
            let root = roots[0]
            let (report, killedAt) = try await load.run { load in
                #expect(try await load.waitForAcknowledgedWrites(50, timeout: .seconds(10)))
                // Every client has written by now on a quiet machine; on a loaded one the last may still be
                // connecting: wait (bounded) until all four sessions are there.
                var sessions: [Row] = []
                let deadline = ContinuousClock.now + .seconds(10)
                repeat {
                    sessions = try await root.query(
                        "SELECT `ID` FROM `information_schema`.`PROCESSLIST` WHERE `USER` = \(Self.appUser)"
                    )
                    if sessions.count == 4 { break }
                    try await Task.sleep(for: .milliseconds(20))
                } while ContinuousClock.now < deadline
                #expect(sessions.count == 4)
                let killedAt = ContinuousClock.now
                for session in sessions {
                    let id = try session.decode(UInt64.self, "ID")
                    do {
                        try await root.run("KILL CONNECTION \(id)")
                    } catch let error as MariaDBError where error.serverErrorNumber == 1094 {
                        // Unknown thread id: that session already ended.
                    }
                }
                #expect(try await load.waitForMoreAcknowledgedWrites(50, timeout: .seconds(10)))
                return killedAt
            }
            #expect(report.connectionLossCount >= 1)
            #expect(report.connectionEvents.contains { $0.kind == .reconnected })
            #expect(report.acknowledged.contains { $0.sentAt > killedAt })

            let verification = try await WriteLoadChecker.verify(report, finalWriter: root)
            #expect(verification.isClean, "\(verification)")
            #expect(
                verification.ambiguousCommitted.count + verification.ambiguousNotCommitted.count
                    == report.ambiguous.count
            )
            #expect(
                verification.failedCommitted.count + verification.failedNotCommitted.count == report.failed.count
            )
        }
    }

    @Test("stop is bounded: transactions held open past the grace period are cancelled, ambiguous and not committed")
    func boundedStop() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        try await withLoadSandbox { sandbox, roots in
            var configuration = loadConfiguration(sandbox.servers[0], clients: 2, mode: .explicit)
            configuration.transactionHold = .seconds(30)
            configuration.stopGracePeriod = .milliseconds(100)
            let load = try WriteLoad(configuration: configuration, logger: logger)
            let clock = ContinuousClock()
            let (report, stopRequestedAt) = try await load.run { load in
                // Both clients are inside their first transaction, holding it open.
                let deadline = clock.now + .seconds(10)
                while clock.now < deadline {
                    let open = try await roots[0].query(
                        "SELECT `ID` FROM `information_schema`.`PROCESSLIST` WHERE `USER` = \(Self.appUser)"
                    )
                    if open.count == 2 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(100))
                return clock.now
            }
            // Generous bound: grace period + one interrupted statement, far below the 30 s hold.
            #expect(clock.now - stopRequestedAt < .seconds(5))
            #expect(report.acknowledgedCount == 0)
            #expect(report.ambiguous.count == 2)
            let verification = try await WriteLoadChecker.verify(report, finalWriter: roots[0])
            #expect(verification.ambiguousNotCommitted.count == 2)
            #expect(verification.isClean, "\(verification)")
        }
    }

    @Test("replica: the trigger does not fire under row-based replication, so the origin stays the accepting server")
    func originSurvivesReplication() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        try await withLoadSandbox(servers: 2) { sandbox, roots in
            let source = sandbox.servers[0]
            let (sourceRoot, replicaRoot) = (roots[0], roots[1])
            // Replicate server 1 -> server 2 from server 1's current position (the schema exists on both).
            let status = try #require(try await sourceRoot.queryFirst("SHOW MASTER STATUS"))
            let file = try status.decode(String.self, "File")
            let position = try status.decode(UInt64.self, "Position")
            let password = source.rootConfiguration.password ?? ""
            try await replicaRoot.run(
                """
                CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = \(source.port), MASTER_USER = 'root', \
                MASTER_PASSWORD = \(secret: password), MASTER_LOG_FILE = \(file), MASTER_LOG_POS = \(position)
                """
            )
            try await replicaRoot.run("START SLAVE")

            let load = try WriteLoad(configuration: loadConfiguration(source, clients: 2), logger: logger)
            let (report, fenceAt) = try await load.run { load throws in
                #expect(try await load.waitForAcknowledgedWrites(100, timeout: .seconds(10)))
                let fenceAt = ContinuousClock.now
                #expect(try await load.waitForMoreAcknowledgedWrites(100, timeout: .seconds(10)))
                return fenceAt
            }
            let final = try #require(try await sourceRoot.queryFirst("SHOW MASTER STATUS"))
            let finalFile = try final.decode(String.self, "File")
            let finalPosition = try final.decode(UInt64.self, "Position")
            let waited = try await replicaRoot.queryFirst(
                "SELECT MASTER_POS_WAIT(\(finalFile), \(finalPosition), 30) AS `result`",
                timeout: .seconds(40)
            )
            #expect(try waited?.decodeIfPresent(Int64.self, "result").map { $0 >= 0 } == true)

            let sourceID = UInt32(source.serverID)
            let verification = try await WriteLoadChecker.verify(
                report, finalWriter: replicaRoot, oldSource: sourceRoot)
            #expect(verification.isClean, "\(verification)")
            #expect(verification.oldSourceServerID == sourceID)
            #expect(verification.rowsByOrigin == [sourceID: report.acknowledgedCount])

            // Pretend server 1 was fenced half-way: every write sent after that and accepted by it is counted.
            let fenced = try await WriteLoadChecker.verify(
                report, finalWriter: replicaRoot, fences: [WriteFence(serverID: sourceID, from: fenceAt)]
            )
            let sentAfterFence = report.acknowledged.filter { $0.sentAt >= fenceAt }.count
            #expect(sentAfterFence > 0)
            #expect(fenced.fenceViolations.count == sentAfterFence)

            // A write that reaches only the old source (replication stopped) is stranded there.
            try await replicaRoot.run("STOP SLAVE")
            let stranded = load.writeIDs.writeID(client: 998, rowSequence: 1)
            try await sourceRoot.run(
                WriteLoadSchema().insertStatement(
                    workload: .clientKeys,
                    runID: report.runID,
                    rows: [.init(writeID: stranded, client: 998, sequence: 1, sentAtMicroseconds: 0)]
                )
            )
            let split = try await WriteLoadChecker.verify(report, finalWriter: replicaRoot, oldSource: sourceRoot)
            #expect(split.oldSourceOnlyRows == [WrittenRow(writeID: stranded, originServerID: sourceID)])
            #expect(!split.isClean)
        }
    }
}
