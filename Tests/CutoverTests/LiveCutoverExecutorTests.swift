import CutoverTestSupport
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

@testable import Cutover

private let logger = Logger(label: "test")
private let sourceEndpoint = ExecutorFixture.sourceEndpoint
private let targetEndpoint = ExecutorFixture.targetEndpoint
private let topology = ExecutorFixture.topology()

private func node(
    _ name: String,
    rows: [BackendServer.Key: BackendStatus] = [topology.source.writer: .online, topology.target.writer: .offlineHard]
) -> RecordingProxySQLAdmin {
    RecordingProxySQLAdmin(
        nodeName: name,
        servers: rows.map { BackendServer(hostgroup: $0.key.hostgroup, endpoint: $0.key.endpoint, status: $0.value) }
    )
}

private func executor(
    _ nodes: [RecordingProxySQLAdmin],
    health: ReplicaHealth? = ReplicaHealth(
        ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil, sourceEndpoint: "10.0.0.5:3306"
    ),
    catchUpTakes: Duration? = nil
) -> LiveCutoverExecutor {
    LiveCutoverExecutor(
        environment: CutoverEnvironment(
            topology: topology,
            source: FakeCutoverDatabase(name: "source (10.0.0.5:3306)", health: nil),
            target: FakeCutoverDatabase(name: "aurora (aurora.example:3306)", health: health, catchUpTakes: catchUpTakes),
            proxies: ProxySQLCluster(nodes: nodes, nodeDeadline: .seconds(10)),  // generous: a starved 2-core machine
            forwardReplicationPassword: "x",
            reverseReplicationPassword: "y"
        )
    )
}

/// The policy of every test run here: generous admin statement bounds (a starved 2-core machine).
private let testPolicy = CutoverPolicy(adminStatementTimeout: .seconds(10))

private func context() -> CutoverExecutionContext {
    CutoverExecutionContext(elapsed: { .zero }, report: { _ in }, logger: logger, policy: testPolicy)
}

@Suite("LiveCutoverExecutor under faults")
struct LiveCutoverExecutorFaultTests {
    @Test("the new writer's ONLINE failing on one of two nodes may have taken effect (the other routes to it)")
    func partialOnline() async {
        let first = node("p1")
        let second = node("p2")
        second.injectFailure(ProxySQLAdminError(code: .connectionFailed, message: "unreachable")) { _ in true }
        let result = await executor([first, second]).perform(.setStatus(.writer(.target), .online), context: context())
        guard case .stepFailed(let failure, _) = result.event else {
            Issue.record("expected a failure, got \(result.event)")
            return
        }
        #expect(failure.mayHaveTakenEffect)
        #expect(failure.endpoint == "p2")
        #expect(failure.remedy?.contains("p2") == true)
        #expect(first.maximumOnline(in: 10) == 1)
    }

    @Test("a stop request ends a drain that would wait for its deadline, naming who holds on; without one it waits")
    func drainStopsOnRequest() async {
        let only = node("p1")
        only.setPoolStats(
            ConnectionPoolStats(hostgroup: 10, endpoint: sourceEndpoint, status: .offlineSoft, connectionsUsed: 1),
            for: topology.source.writer)
        let checks = Mutex(0)
        let started = ContinuousClock.now
        let stopping = CutoverExecutionContext(
            elapsed: { ContinuousClock.now - started }, report: { _ in }, logger: logger,
            isStopRequested: {
                checks.withLock {
                    $0 += 1
                    return $0 >= 3
                }
            }, policy: testPolicy)
        let stopped = await executor([only]).perform(
            .pollDrain(.writer(.source), timeout: .seconds(30), interval: .milliseconds(5)), context: stopping)
        guard case .drainStopped(.writer(.source), _, _) = stopped.event else {
            Issue.record("expected drainStopped, got \(stopped.event)")
            return
        }
        // The event alone proves the stop ended the drain (the deadline gives drainDeadlinePassed); the bound is the
        // 30 s deadline itself, since a loaded 2-core machine (the whole suite) took over 11 s to get here.
        #expect(ContinuousClock.now - started < .seconds(30), "the drain waited for its deadline")
        // Without a stop request the drain waits for its deadline.
        let waited = await executor([only]).perform(
            .pollDrain(.writer(.source), timeout: .milliseconds(50), interval: .milliseconds(5)),
            context: CutoverExecutionContext(elapsed: { ContinuousClock.now - started }, report: { _ in }, logger: logger, policy: testPolicy))
        guard case .drainDeadlinePassed = waited.event else {
            Issue.record("expected drainDeadlinePassed, got \(waited.event)")
            return
        }
    }

    @Test("a stop request interrupts a catch-up wait; a wait that ends first wins")
    func catchUpStopsOnRequest() async {
        let coordinate = ReplicationCoordinate(file: "mysql-bin.000001", offset: 4)
        let action = CutoverAction.waitForCatchUp(.target, coordinate: coordinate, timeout: .seconds(60))
        let started = ContinuousClock.now
        let stop = Mutex(false)
        let context = CutoverExecutionContext(
            elapsed: { ContinuousClock.now - started }, report: { _ in }, logger: logger,
            isStopRequested: { stop.withLock { $0 } }, policy: testPolicy)
        let slow = executor([node("p1")], catchUpTakes: .seconds(30))
        async let result = slow.perform(action, context: context)
        try? await Task.sleep(for: .milliseconds(50))
        stop.withLock { $0 = true }
        let stopped = await result
        guard case .catchUpStopped(.target, _) = stopped.event else {
            Issue.record("expected catchUpStopped, got \(stopped.event)")
            return
        }
        // The event alone proves the stop interrupted the wait (a finished wait gives caughtUp); the bound is the
        // 30 s the wait would take, since a loaded 2-core machine (the whole suite) took over 10 s to get here.
        #expect(ContinuousClock.now - started < .seconds(30), "the catch-up wait was not interrupted")
        let quick = await executor([node("p1")], catchUpTakes: .milliseconds(1)).perform(
            action, context: CutoverExecutionContext(elapsed: { .zero }, report: { _ in }, logger: logger, policy: testPolicy))
        guard case .caughtUp(.target, _) = quick.event else {
            Issue.record("expected caughtUp, got \(quick.event)")
            return
        }
    }

    @Test("an ONLINE refused on every node before its LOAD, absent from every runtime, did not take effect")
    func onlineWithoutEffect() async {
        let only = node("p1")
        only.injectFailure(ProxySQLAdminError(code: .adminStatementFailed, message: "CHECK constraint failed")) {
            call in
            if case .updateServers = call { true } else if case .setStatus = call { true } else { false }
        }
        let result = await executor([only]).perform(.setStatus(.writer(.target), .online), context: context())
        guard case .stepFailed(let failure, _) = result.event else {
            Issue.record("expected a failure, got \(result.event)")
            return
        }
        // The runtime was read: the new writer is absent, so a rollback is safe.
        #expect(!failure.mayHaveTakenEffect)
        #expect(only.runtimeServers.filter { $0.status == .online }.map(\.endpoint) == [sourceEndpoint])
    }

    @Test("the guards refuse when a node lacks one of the two rows, naming the node and the row")
    func missingRow() async {
        let complete = node("p1")
        let incomplete = node("p2", rows: [topology.source.writer: .online])
        let result = await executor([complete, incomplete]).perform(.runGuards(.writerCutover), context: context())
        guard case .guardsFinished(let reasons, _, _, _) = result.event else {
            Issue.record("expected the guards' answer, got \(result.event)")
            return
        }
        let rows = reasons.filter { $0.check == "proxysql.rows" }
        #expect(rows.count == 1, "\(reasons)")
        #expect(rows.first?.message.contains("p2") == true)
        #expect(rows.first?.message.contains("aurora.example") == true)
    }

    @Test("a failure of a database action names the database and says what to do")
    func databaseFailureNamesEndpoint() async {
        let result = await executor([node("p1")]).perform(.readPosition(.source), context: context())
        guard case .stepFailed(let failure, _) = result.event else {
            Issue.record("expected a failure, got \(result.event)")
            return
        }
        #expect(failure.endpoint == "source (10.0.0.5:3306)")
        #expect(failure.remedy?.contains("source (10.0.0.5:3306)") == true)
    }
}

private let readerTopology = CutoverTopology(
    source: .init(
        writer: BackendServer.Key(hostgroup: 10, endpoint: sourceEndpoint),
        reader: BackendServer.Key(hostgroup: 11, endpoint: sourceEndpoint)),
    target: .init(
        writer: BackendServer.Key(hostgroup: 10, endpoint: targetEndpoint),
        reader: BackendServer.Key(hostgroup: 11, endpoint: targetEndpoint)),
    proxyNodes: ["p1", "p2"],
    sourceReplicationEndpoint: sourceEndpoint,
    targetReplicationEndpoint: targetEndpoint,
    forwardReplicationUser: "repl",
    reverseReplicationUser: "repl_back"
)

private func readerNode(_ name: String, source: BackendStatus, target: BackendStatus) -> RecordingProxySQLAdmin {
    RecordingProxySQLAdmin(
        nodeName: name,
        servers: [
            BackendServer(hostgroup: 10, endpoint: sourceEndpoint, status: .online),
            BackendServer(hostgroup: 10, endpoint: targetEndpoint, status: .offlineHard),
            BackendServer(hostgroup: 11, endpoint: sourceEndpoint, status: source),
            BackendServer(hostgroup: 11, endpoint: targetEndpoint, status: target),
        ]
    )
}

private func readerExecutor(_ nodes: [RecordingProxySQLAdmin], target: FakeCutoverDatabase) -> LiveCutoverExecutor {
    LiveCutoverExecutor(
        environment: CutoverEnvironment(
            topology: readerTopology,
            source: FakeCutoverDatabase(name: "source (10.0.0.5:3306)", health: nil),
            target: target,
            proxies: ProxySQLCluster(nodes: nodes, nodeDeadline: .seconds(10)),  // generous: a starved 2-core machine
            forwardReplicationPassword: "x",
            reverseReplicationPassword: "y"
        )
    )
}

private let replicating = ReplicaHealth(
    ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil, sourceEndpoint: "10.0.0.5:3306")

@Suite("LiveCutoverExecutor: reader rows")
struct LiveCutoverExecutorReaderTests {
    @Test("a new reader whose database does not answer is not put ONLINE; the failure names it and says what to do")
    func deadReaderNotOnline() async {
        let target = FakeCutoverDatabase(name: "aurora (aurora.example:3306)", health: replicating)
        target.setHealth(.failure(MariaDBError(code: .connectionFailed, serverErrorNumber: 2003, message: "refused")))
        let nodes = [readerNode("p1", source: .online, target: .offlineHard)]
        let result = await readerExecutor(nodes, target: target).perform(
            .setStatus(.reader(.target), .online), context: context())
        guard case .stepFailed(let failure, _) = result.event else {
            Issue.record("expected a failure, got \(result.event)")
            return
        }
        #expect(failure.endpoint == "aurora (aurora.example:3306)")
        #expect(failure.message.contains("does not answer"))
        #expect(failure.remedy?.contains("aurora (aurora.example:3306)") == true)
        #expect(!failure.mayHaveTakenEffect)
        #expect(nodes[0].changes.isEmpty)
    }

    @Test("the old reader is not taken out while the new reader's database replicates with an error")
    func oldReaderKeptWhileNewIsBroken() async {
        let target = FakeCutoverDatabase(name: "aurora (aurora.example:3306)", health: replicating)
        target.setHealth(
            .success(
                ReplicaHealth(
                    ioThreadRunning: true, sqlThreadRunning: false, secondsBehind: nil, lastError: "1062 duplicate",
                    sourceEndpoint: "10.0.0.5:3306")))
        let nodes = [readerNode("p1", source: .online, target: .online)]
        let result = await readerExecutor(nodes, target: target).perform(
            .setStatus(.reader(.source), .offlineSoft), context: context())
        guard case .stepFailed(let failure, _) = result.event else {
            Issue.record("expected a failure, got \(result.event)")
            return
        }
        #expect(failure.message.contains("stale"))
        #expect(nodes[0].changes.isEmpty)
    }

    @Test("a reader row leaves service on a node only where the other reader is ONLINE in that node's runtime")
    func neverANodeWithoutReader() async {
        let target = FakeCutoverDatabase(name: "aurora (aurora.example:3306)", health: replicating)
        // p1 routes reads to both; p2 only to the source (the new reader's ONLINE never reached it).
        let withBoth = readerNode("p1", source: .online, target: .online)
        let withSourceOnly = readerNode("p2", source: .online, target: .offlineHard)
        let result = await readerExecutor([withBoth, withSourceOnly], target: target).perform(
            .setStatus(.reader(.source), .offlineSoft), context: context())
        guard case .stepFailed(let failure, _) = result.event else {
            Issue.record("expected a failure, got \(result.event)")
            return
        }
        #expect(failure.endpoint == "p2")
        #expect(failure.message.contains("without an ONLINE reader"), "\(failure.message)")
        #expect(failure.remedy?.contains("p2") == true)
        // p1 moved on; p2 was left as it was: it still has its ONLINE reader.
        #expect(withBoth.runtimeServers.filter { $0.key.hostgroup == 11 && $0.status == .online }.map(\.endpoint) == [targetEndpoint])
        #expect(withSourceOnly.changes.isEmpty)
        #expect(withSourceOnly.runtimeServers.filter { $0.key.hostgroup == 11 && $0.status == .online }.map(\.endpoint) == [sourceEndpoint])
    }
}
