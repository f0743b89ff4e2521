import CutoverTestSupport
import Foundation
import Logging
import ProxySQLAdmin
import ReplicationControl
import Testing

@testable import Cutover

/// Issue #13: the decisions that keep a cut-over from losing data, as transcripts and pure evaluations.
@Suite("Safety decisions (#13)")
struct SafetyTranscriptTests {
    static let final = ReplicationCoordinate(file: "mysql-bin.000003", offset: 1_234, gtidSet: "0-1-100,1-2-7")
    static let targetPosition = ReplicationCoordinate(file: "mysql-bin-changelog.000007", offset: 99)

    /// A writer cut-over driven to the fence proof (the action that reads the old writer's position again).
    static func cutoverAtFenceProof() -> CutoverStateMachine {
        var machine = CutoverStateMachine()
        var policy = CutoverPolicy()
        policy.replicationSettleDeadline = .zero  // no settle step: the events below answer the window's steps
        _ = machine.started(operation: .writerCutover, policy: policy)
        let events: [CutoverEvent] = [
            .guardsFinished(blockingReasons: []),
            .proxyPrepared(ProxySettingsSnapshot()),
            .statusSet(.writer(.source), .offlineSoft, at: .milliseconds(10)),
            .drained(.writer(.source), at: .milliseconds(12)),
            .statusSet(.writer(.source), .offlineHard, at: .milliseconds(14)),
            .sessionsClosed(.source, count: 1, at: .milliseconds(15)),
            .fenced(.source, at: .milliseconds(16)),
            .positionRead(.source, final, at: .milliseconds(17)),
            .caughtUp(.target, at: .milliseconds(20)),
            .positionRead(.target, targetPosition, at: .milliseconds(21)),
            .statusSet(.writer(.target), .online, at: .milliseconds(23)),
            .newWriterWatched(.target, ShunnedWriterWatch(), at: .milliseconds(24)),
        ]
        for event in events { _ = machine.receive(event) }
        #expect(machine.receive(.replicationStopped(.target)) == .proveFenceHeld(.source, atFence: final))
        #expect(machine.currentStep == "proveFenceOld")
        return machine
    }

    @Test("the fence held: reverse replication starts")
    func fenceHeld() {
        var machine = Self.cutoverAtFenceProof()
        // A binlog rotated by a restart, same GTIDs: held.
        let rotated = ReplicationCoordinate(file: "mysql-bin.000004", offset: 4, gtidSet: "1-2-7,0-1-100")
        #expect(machine.receive(.positionRead(.source, rotated, at: .milliseconds(30)))
            == .startReplication(.source, source: .target, coordinate: Self.targetPosition))
    }

    @Test("a resume after the proof held does not prove again (reverse replication writes the new writer's transactions there)")
    func resumeDoesNotReprove() {
        var machine = CutoverStateMachine()
        var policy = CutoverPolicy()
        policy.replicationSettleDeadline = .zero
        _ = machine.started(operation: .writerCutover, policy: policy)
        let events: [CutoverEvent] = [
            .guardsFinished(blockingReasons: []), .proxyPrepared(ProxySettingsSnapshot()),
            .statusSet(.writer(.source), .offlineSoft, at: .milliseconds(10)), .drained(.writer(.source), at: .milliseconds(12)),
            .statusSet(.writer(.source), .offlineHard, at: .milliseconds(14)), .sessionsClosed(.source, count: 1, at: .milliseconds(15)),
            .fenced(.source, at: .milliseconds(16)), .positionRead(.source, Self.final, at: .milliseconds(17)),
            .caughtUp(.target, at: .milliseconds(20)), .positionRead(.target, Self.targetPosition, at: .milliseconds(21)),
            .statusSet(.writer(.target), .online, at: .milliseconds(23)),
            .newWriterWatched(.target, ShunnedWriterWatch(), at: .milliseconds(24)),
        ]
        for event in events { _ = machine.receive(event) }
        // Stopping forward replication fails: the proof still runs, and holds; reverse replication is skipped.
        let failure = StepFailure(step: "stop", message: "boom", endpoint: "aurora", remedy: "fix it")
        #expect(machine.receive(.stepFailed(failure, at: .milliseconds(30))) == .proveFenceHeld(.source, atFence: Self.final))
        #expect(machine.receive(.positionRead(.source, Self.final, at: .milliseconds(31))) == .persistReadOnly(.source, readOnly: true))
        _ = machine.receive(.readOnlyPersisted(.source, ReadOnlyDurability(database: "source", readOnly: true, persisted: true, optionFileLines: [])))
        _ = machine.receive(.proxySettingsRestored)
        _ = machine.receive(.proxyConfigurationSaved)
        // Resume: from the failed stop, straight to reverse replication (the proof is not repeated).
        #expect(machine.resumeAfterInterruption() == .stopReplication(.target))
        #expect(machine.receive(.replicationStopped(.target)) == .startReplication(.source, source: .target, coordinate: Self.targetPosition))
    }

    @Test("a privileged writer got past the fence: a loud failure naming the extra GTIDs, no reverse replication")
    func fenceDidNotHold() {
        var machine = Self.cutoverAtFenceProof()
        let diverged = ReplicationCoordinate(file: "mysql-bin.000003", offset: 2_900, gtidSet: "0-1-103,1-2-7")
        // Reverse replication and its verification are skipped; the durable fence, restore and save still run.
        #expect(machine.receive(.positionRead(.source, diverged, at: .milliseconds(30))) == .persistReadOnly(.source, readOnly: true))
        _ = machine.receive(.readOnlyPersisted(.source, ReadOnlyDurability(database: "source", readOnly: true, persisted: true, optionFileLines: [])))
        _ = machine.receive(.proxySettingsRestored)
        let action = machine.receive(.proxyConfigurationSaved)
        guard case .finish(.stoppedAfterPointOfNoReturn(_, let failures, let remaining)) = action else {
            Issue.record("expected stoppedAfterPointOfNoReturn, got \(action)")
            return
        }
        #expect(remaining == ["proveFenceOld", "startReverseReplication", "verifyReverseReplication"])
        let failure = try? #require(failures.first)
        #expect(failure?.message.contains("THE FENCE DID NOT HOLD") == true)
        #expect(failure?.message.contains("0-1-101..0-1-103 (3 transactions)") == true, "\(String(describing: failure))")
        #expect(failure?.remedy?.contains("resume") == true)
        // `resume` proves again before anything else.
        #expect(machine.resumeAfterInterruption() == .proveFenceHeld(.source, atFence: Self.final))
    }

    @Test("FenceProof: MySQL GTID sets name the extra transactions; without GTIDs the binlog range")
    func fenceProofKinds() {
        let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
        let other = "4a6d1b7e-71ca-11e1-9e33-c80aa9429562"
        let atFence = ReplicationCoordinate(file: "binlog.000010", offset: 500, gtidSet: "\(uuid):1-100")
        #expect(FenceProof.compare(atFence: atFence, now: atFence) == .held)
        let later = ReplicationCoordinate(file: "binlog.000010", offset: 900, gtidSet: "\(uuid):1-102,\(other):1")
        guard case .diverged(let text) = FenceProof.compare(atFence: atFence, now: later) else {
            Issue.record("expected diverged")
            return
        }
        #expect(text.contains("\(uuid):101-102") && text.contains("\(other):1") && text.contains("3 transaction"), "\(text)")
        let noGTID = ReplicationCoordinate(file: "binlog.000010", offset: 500)
        #expect(FenceProof.compare(atFence: noGTID, now: noGTID) == .held)
        #expect(
            FenceProof.compare(atFence: noGTID, now: ReplicationCoordinate(file: "binlog.000010", offset: 777))
                == .diverged("binlog range binlog.000010:500 to binlog.000010:777"))
    }

    // MARK: Guards (pure)

    @Test("a read-only target is refused unless the run lifts the fence; innodb_read_only always")
    func readOnlyTarget() {
        let readOnly = DatabaseSafetyFacts(readOnly: true, superReadOnly: false, innodbReadOnly: false)
        #expect(WriterSafetyGuards.newWriterWritable(readOnly, name: "target (t:1)", runLiftsFence: false)?.check == "target.writable")
        #expect(WriterSafetyGuards.newWriterWritable(readOnly, name: "source", runLiftsFence: true) == nil)
        let superReadOnly = DatabaseSafetyFacts(readOnly: false, superReadOnly: true)
        #expect(WriterSafetyGuards.newWriterWritable(superReadOnly, name: "t", runLiftsFence: false)?.message.contains("super_read_only=ON") == true)
        let reader = DatabaseSafetyFacts(readOnly: false, innodbReadOnly: true)
        #expect(WriterSafetyGuards.newWriterWritable(reader, name: "t", runLiftsFence: true)?.message.contains("innodb_read_only") == true)
        #expect(WriterSafetyGuards.newWriterWritable(DatabaseSafetyFacts(readOnly: false, superReadOnly: false, innodbReadOnly: false), name: "t", runLiftsFence: false) == nil)
    }

    @Test("the new writer must replicate from the old one, by server_id and server_uuid")
    func replicationSourceIdentity() {
        func health(id: UInt32?, uuid: String? = nil) -> ReplicaHealth {
            ReplicaHealth(
                ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
                sourceEndpoint: "db:3306", sourceServerID: id, sourceUUID: uuid)
        }
        let old = DatabaseSafetyFacts(serverID: 1)
        #expect(WriterSafetyGuards.replicatesFromOldWriter(health(id: 1), old: old, oldName: "source", newName: "target") == nil)
        #expect(WriterSafetyGuards.replicatesFromOldWriter(health(id: 7), old: old, oldName: "source", newName: "target")?.check == "replication.source-identity")
        #expect(WriterSafetyGuards.replicatesFromOldWriter(health(id: nil), old: old, oldName: "source", newName: "target")?.check == "replication.source-identity")
        let mysqlOld = DatabaseSafetyFacts(serverID: 1, serverUUID: "3E11FA47-71CA-11E1-9E33-C80AA9429562")
        #expect(WriterSafetyGuards.replicatesFromOldWriter(health(id: 1, uuid: "3e11fa47-71ca-11e1-9e33-c80aa9429562"), old: mysqlOld, oldName: "s", newName: "t") == nil)
        // Same server_id (a copy of the configuration), another UUID: another server.
        #expect(WriterSafetyGuards.replicatesFromOldWriter(health(id: 1, uuid: "4a6d1b7e-71ca-11e1-9e33-c80aa9429562"), old: mysqlOld, oldName: "s", newName: "t")?.message.contains("UUID") == true)
    }

    @Test("forward filters that can drop application rows are refused; system-schema filters are fine")
    func forwardFilters() {
        var filters = ReplicaStatus.Filters()
        filters.wildIgnoreTables = ["mysql.rds\\_%", "mysql.%"]
        filters.ignoreDatabases = ["performance_schema"]
        #expect(WriterSafetyGuards.forwardFilters(filters, newName: "target") == nil)
        filters.ignoreDatabases.append("shop")
        filters.doTables = ["app.orders"]
        let reason = WriterSafetyGuards.forwardFilters(filters, newName: "target")
        #expect(reason?.check == "replication.filters")
        #expect(reason?.message.contains("Replicate_Ignore_DB: shop") == true)
        #expect(reason?.message.contains("Replicate_Do_Table: app.orders") == true)
        #expect(reason?.message.contains("performance_schema") == false)
    }
}

/// A ``FakeCutoverDatabase`` that reports safety facts (the live database reads them from the server).
private struct FactsDatabase: CutoverDatabase {
    let base: FakeCutoverDatabase
    let facts: DatabaseSafetyFacts
    var name: String { base.name }
    var canFence: Bool { base.canFence }
    func safetyFacts(logger: Logger) async throws -> DatabaseSafetyFacts? { facts }
    func replicaHealth(logger: Logger) async throws -> ReplicaHealth? { try await base.replicaHealth(logger: logger) }
    func longWriteTransactions(olderThan limit: Duration, logger: Logger) async throws -> [LongTransaction] {
        try await base.longWriteTransactions(olderThan: limit, logger: logger)
    }
    func currentPosition(logger: Logger) async throws -> ReplicationCoordinate { try await base.currentPosition(logger: logger) }
    func fence(timeout: Duration, logger: Logger) async throws { try await base.fence(timeout: timeout, logger: logger) }
    func liftFence(logger: Logger) async throws { try await base.liftFence(logger: logger) }
    func closeSessions(users: [String], logger: Logger) async throws -> Int { try await base.closeSessions(users: users, logger: logger) }
    func waitForCatchUp(
        to coordinate: ReplicationCoordinate, timeout: Duration,
        progress: @escaping @Sendable (ReplicationCoordinate?) -> Void, logger: Logger
    ) async throws {
        try await base.waitForCatchUp(to: coordinate, timeout: timeout, progress: progress, logger: logger)
    }
    func stopAndResetReplication(timeout: Duration, logger: Logger) async throws {
        try await base.stopAndResetReplication(timeout: timeout, logger: logger)
    }
    func startReplication(
        from source: ServerEndpoint, user: String, password: String, tls: ReplicationTLS,
        at coordinate: ReplicationCoordinate, timeout: Duration, logger: Logger
    ) async throws {
        try await base.startReplication(
            from: source, user: user, password: password, tls: tls, at: coordinate, timeout: timeout, logger: logger)
    }
    func verifyReplication(timeout: Duration, logger: Logger) async throws { try await base.verifyReplication(timeout: timeout, logger: logger) }
}

@Suite("Safety guards through the executor (#13)")
struct SafetyGuardExecutorTests {
    static let topology = ExecutorFixture.topology()

    static func guards(sourceReplica: ReplicaHealth?, targetFacts: DatabaseSafetyFacts, targetSourceID: UInt32 = 1)
        async -> [BlockingReason]
    {
        let node = RecordingProxySQLAdmin(
            nodeName: "p1",
            servers: [
                BackendServer(hostgroup: topology.source.writer.hostgroup, endpoint: topology.source.writer.endpoint, status: .online),
                BackendServer(hostgroup: topology.target.writer.hostgroup, endpoint: topology.target.writer.endpoint, status: .offlineHard),
            ])
        let targetHealth = ReplicaHealth(
            ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
            sourceEndpoint: "10.0.0.5:3306", sourceServerID: targetSourceID)
        let executor = LiveCutoverExecutor(
            environment: CutoverEnvironment(
                topology: topology,
                source: FactsDatabase(
                    base: FakeCutoverDatabase(name: "source (10.0.0.5:3306)", health: sourceReplica),
                    facts: DatabaseSafetyFacts(readOnly: false, serverID: 1)),
                target: FactsDatabase(
                    base: FakeCutoverDatabase(name: "aurora (aurora.example:3306)", health: targetHealth),
                    facts: targetFacts),
                proxies: ProxySQLCluster(nodes: [node], nodeDeadline: .seconds(10)),
                forwardReplicationPassword: "x", reverseReplicationPassword: "y"))
        let result = await executor.perform(
            .runGuards(.writerCutover),
            context: CutoverExecutionContext(
                elapsed: { .zero }, report: { _ in }, logger: Logger(label: "test"),
                policy: CutoverPolicy(adminStatementTimeout: .seconds(10))))
        guard case .guardsFinished(let reasons, _, _, _) = result.event else {
            Issue.record("expected guardsFinished, got \(result.event)")
            return []
        }
        return reasons
    }

    static let writableAurora = DatabaseSafetyFacts(readOnly: false, innodbReadOnly: false, serverID: 2)

    @Test("item 11: a source that replicates from a third server is refused before its link would be reset")
    func upstreamLinkOfTheSource() async {
        let upstream = ReplicaHealth(
            ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
            sourceEndpoint: "10.0.0.9:3306", sourceServerID: 9)
        let reasons = await Self.guards(sourceReplica: upstream, targetFacts: Self.writableAurora)
        let reason = reasons.first { $0.check == "reverse.upstream-link" }
        #expect(reason?.message.contains("10.0.0.9:3306 (server_id 9)") == true, "\(reasons)")
        #expect(reason?.message.contains("RESET REPLICA ALL") == true)
        // Reverse replication already set up from Aurora itself: nothing to refuse.
        let reverse = ReplicaHealth(
            ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
            sourceEndpoint: "aurora.example:3306", sourceServerID: 2)
        #expect(await Self.guards(sourceReplica: reverse, targetFacts: Self.writableAurora).allSatisfy { $0.check != "reverse.upstream-link" })
        let clean = await Self.guards(sourceReplica: nil, targetFacts: Self.writableAurora).map(\.check)
        #expect(!clean.contains { ["reverse.upstream-link", "target.writable", "replication.source-identity"].contains($0) }, "\(clean)")
    }

    @Test("item 4 and 2 through the executor: a read-only Aurora and an Aurora replicating from another server are refused")
    func readOnlyAndWrongSource() async {
        var readOnly = Self.writableAurora
        readOnly.readOnly = true
        #expect(await Self.guards(sourceReplica: nil, targetFacts: readOnly).map(\.check).contains("target.writable"))
        let wrong = await Self.guards(sourceReplica: nil, targetFacts: Self.writableAurora, targetSourceID: 7)
        #expect(wrong.map(\.check).contains("replication.source-identity"), "\(wrong)")
        #expect(!wrong.map(\.check).contains("target.writable"), "\(wrong)")
    }
}
