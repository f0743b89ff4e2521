import CutoverTestSupport
import Foundation
import Logging
import ProxySQLAdmin
import ReplicationControl
import Synchronization
import Testing

@testable import Cutover

private func ms(_ value: Int) -> Duration { .milliseconds(value) }
private let sourcePosition = ReplicationCoordinate(file: "mysql-bin.000003", offset: 1_234)
private let snapshot = ProxySettingsSnapshot(previousValues: ["p1": ["mysql-query_retries_on_failure": "1"]])

/// An observation of a settle that started at `start` and ran waits of `waits` (the last one `timedOut`).
private func observation(
    start: Duration = ms(100), waits: [Duration], timedOut: Bool = false, secondsBehind: Int? = nil
) -> ReplicationSettleObservation {
    var observation = ReplicationSettleObservation(startedAt: start)
    for (index, wait) in waits.enumerated() {
        observation.recordWait(wait, for: sourcePosition, timedOut: timedOut && index == waits.count - 1)
    }
    observation.secondsBehind = secondsBehind
    return observation
}

@Suite("Replication settle: verdict")
struct ReplicationSettleVerdictTests {
    @Test("one wait within the threshold settles; a longer one asks for another with what is left of the deadline")
    func settleOrAgain() {
        let threshold = ms(10)
        let deadline = Duration.seconds(10)
        #expect(observation(waits: []).verdict(threshold: threshold, deadline: deadline, at: ms(100))
            == .waitAgain(timeout: deadline))
        #expect(observation(waits: [ms(250)]).verdict(threshold: threshold, deadline: deadline, at: ms(400))
            == .waitAgain(timeout: deadline - ms(300)))
        #expect(observation(waits: [ms(250), ms(40), ms(10)]).verdict(threshold: threshold, deadline: deadline, at: ms(420))
            == .settled)
        // Not the shortest wait: the last one decides (the replica may have fallen behind again since).
        #expect(observation(waits: [ms(3), ms(40)]).verdict(threshold: threshold, deadline: deadline, at: ms(200))
            == .waitAgain(timeout: deadline - ms(100)))
    }

    @Test("a wait that reached the deadline, or a deadline passed, gives up; a stop request stops")
    func giveUpOrStop() {
        #expect(observation(waits: [ms(5)], timedOut: true).verdict(threshold: ms(10), deadline: ms(5), at: ms(105))
            == .gaveUp)
        #expect(observation(waits: [ms(30), ms(30)]).verdict(threshold: ms(10), deadline: ms(50), at: ms(160)) == .gaveUp)
        var stopped = observation(waits: [ms(3)])
        stopped.stopped = true
        #expect(stopped.verdict(threshold: ms(10), deadline: ms(50), at: ms(110)) == .stopped)
    }

    @Test("the refusal names the measured lag and what to do")
    func refusalText() {
        let policy = CutoverPolicy(replicationSettleThreshold: ms(10), replicationSettleDeadline: .seconds(2))
        let text = observation(waits: [ms(870), ms(1_130)], timedOut: true, secondsBehind: 1).refusal(
            of: .target, policy: policy)
        #expect(text.contains("did not come within 10.0 ms"))
        #expect(text.contains("in 2.0 s"))
        #expect(text.contains("2 wait(s)"))
        #expect(text.contains("still running after 1.1 s"))
        #expect(text.contains("the shortest 870.0 ms"))
        #expect(text.contains("1 s behind"))
        #expect(text.contains("Reduce the write load"))
        #expect(text.contains("applier threads"))
    }
}

@Suite("Replication settle (state machine)")
struct ReplicationSettleTranscriptTests {
    @Test("the settle runs after preparing the proxy and before OFFLINE_SOFT, outside the window")
    func settleBeforeWindow() {
        var machine = CutoverStateMachine()
        let policy = CutoverPolicy()
        _ = machine.started(operation: .writerCutover, policy: policy)
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        #expect(machine.receive(.proxyPrepared(snapshot))
            == .settleReplication(.target, source: .source, threshold: ms(10), timeout: .seconds(10)))
        #expect(machine.currentStep == "settleReplication")
        let settled = observation(start: ms(5), waits: [ms(230), ms(12), ms(4)])
        #expect(machine.receive(.replicationSettleEnded(.target, settled, at: ms(260))) == .setStatus(.writer(.source), .offlineSoft))
        _ = machine.receive(.statusSet(.writer(.source), .offlineSoft, at: ms(262)))
        #expect(machine.timeline.marks[.settleStarted] == ms(5))
        #expect(machine.timeline.marks[.replicationSettled] == ms(260))
        #expect(machine.timeline.settle == ms(255))
        #expect(machine.timeline.replicationSettle == settled)
        #expect(machine.timeline.marks[.windowOpened] == ms(262))
        #expect(!machine.isPastPointOfNoReturn)
    }

    @Test("with the auto-increment pin relaxed, the pins settle first, then replication (last before the window)")
    func afterPinSettle() {
        var policy = CutoverPolicy()
        policy.autoIncrementPin = .relax
        let steps = CutoverStateMachine.steps(for: .writerCutover, policy: policy)
        let pins = steps.firstIndex(of: .settlePins)
        let replication = steps.firstIndex(of: .settleReplication)
        let window = steps.firstIndex(of: .offlineSoftOld)
        #expect(pins != nil && replication != nil && window != nil)
        if let pins, let replication, let window {
            #expect(pins < replication)
            #expect(replication + 1 == window)
        }
    }

    @Test("a settle that gave up rolls back before the window: ProxySQL variables restored, routing never touched")
    func gaveUpRollsBack() {
        var machine = CutoverStateMachine()
        let policy = CutoverPolicy(replicationSettleDeadline: .seconds(2))
        _ = machine.started(operation: .writerCutover, policy: policy)
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        _ = machine.receive(.proxyPrepared(snapshot))
        let late = observation(start: ms(5), waits: [ms(900), ms(1_095)], timedOut: true, secondsBehind: 1)
        #expect(machine.receive(.replicationSettleEnded(.target, late, at: ms(2_005))) == .restoreProxySettings(snapshot))
        #expect(machine.rollbackReason?.contains("replication did not settle") == true)
        guard case .finish(.rolledBack(let reason, let failures)) = machine.receive(.proxySettingsRestored) else {
            Issue.record("expected a rollback")
            return
        }
        #expect(failures.isEmpty)
        #expect(reason == late.refusal(of: .target, policy: policy))
        #expect(machine.timeline.marks[.windowOpened] == nil)
        #expect(machine.timeline.window == nil)
        #expect(machine.timeline.settle == ms(2_000))
        #expect(machine.timeline.replicationSettle == late)
    }

    @Test("with nothing prepared, a settle that gave up ends at once: nothing to restore")
    func gaveUpWithNothingPrepared() {
        var machine = CutoverStateMachine()
        let policy = CutoverPolicy(disableQueryRetries: false, autoIncrementPin: .keep, replicationSettleDeadline: ms(500))
        _ = machine.started(operation: .writerCutover, policy: policy)
        #expect(machine.receive(.guardsFinished(blockingReasons: []))
            == .settleReplication(.target, source: .source, threshold: ms(10), timeout: ms(500)))
        let late = observation(start: ms(5), waits: [ms(500)], timedOut: true)
        #expect(machine.receive(.replicationSettleEnded(.target, late, at: ms(505)))
            == .finish(.rolledBack(reason: late.refusal(of: .target, policy: policy), failures: [])))
    }

    @Test("a failback settles the source on the target before the target writer goes OFFLINE_SOFT")
    func failbackSettles() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerFailback, policy: CutoverPolicy())
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        #expect(machine.receive(.proxyPrepared(snapshot))
            == .settleReplication(.source, source: .target, threshold: ms(10), timeout: .seconds(10)))
        #expect(machine.receive(.replicationSettleEnded(.source, observation(waits: [ms(1)]), at: ms(120)))
            == .setStatus(.writer(.target), .offlineSoft))
    }

    @Test("a stop during the settle rolls back; a read that failed rolls back too")
    func stopOrFailure() {
        var stopped = CutoverStateMachine()
        _ = stopped.started(operation: .writerCutover, policy: CutoverPolicy())
        _ = stopped.receive(.guardsFinished(blockingReasons: []))
        _ = stopped.receive(.proxyPrepared(snapshot))
        #expect(stopped.receive(.gracefulShutdownRequested) == .wait)
        var interrupted = observation(waits: [ms(40)])
        interrupted.stopped = true
        #expect(stopped.receive(.replicationSettleEnded(.target, interrupted, at: ms(150))) == .restoreProxySettings(snapshot))
        #expect(stopped.receive(.proxySettingsRestored) == .finish(.rolledBack(reason: "shutdown requested", failures: [])))

        var failed = CutoverStateMachine()
        _ = failed.started(operation: .writerCutover, policy: CutoverPolicy())
        _ = failed.receive(.guardsFinished(blockingReasons: []))
        _ = failed.receive(.proxyPrepared(snapshot))
        let broken = StepFailure(step: "settle", message: "replication stopped", endpoint: "target")
        #expect(failed.receive(.stepFailed(broken, at: ms(150))) == .restoreProxySettings(snapshot))
    }

    @Test("no settle for readers, with a zero deadline or threshold, or in a policy journaled before the settle existed")
    func noSettle() throws {
        #expect(CutoverStateMachine.steps(for: .writerCutover, policy: CutoverPolicy()).contains(.settleReplication))
        #expect(CutoverStateMachine.steps(for: .writerFailback, policy: CutoverPolicy()).contains(.settleReplication))
        #expect(!CutoverStateMachine.steps(for: .readerCutover, policy: CutoverPolicy()).contains(.settleReplication))
        #expect(!CutoverStateMachine.steps(for: .writerCutover, policy: CutoverPolicy(replicationSettleDeadline: .zero))
            .contains(.settleReplication))
        #expect(!CutoverStateMachine.steps(for: .writerCutover, policy: CutoverPolicy(replicationSettleThreshold: .zero))
            .contains(.settleReplication))
        // A journal written before the fields existed: they decode as zero, so the replay has the same steps.
        var object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(CutoverPolicy())) as? [String: Any])
        #expect(object["replicationSettleThreshold"] != nil)
        object["replicationSettleThreshold"] = nil
        object["replicationSettleDeadline"] = nil
        let old = try JSONDecoder().decode(CutoverPolicy.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.replicationSettleDeadline == .zero)
        #expect(!CutoverStateMachine.steps(for: .writerCutover, policy: old).contains(.settleReplication))
        // And the current fields round-trip.
        let policy = CutoverPolicy(replicationSettleThreshold: ms(7), replicationSettleDeadline: .seconds(3))
        #expect(try JSONDecoder().decode(CutoverPolicy.self, from: JSONEncoder().encode(policy)) == policy)
    }

    @Test("a timeline journaled before the settle existed decodes without it")
    func oldTimeline() throws {
        var timeline = CutoverTimeline()
        timeline.mark(.windowOpened, at: ms(10))
        var object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(timeline)) as? [String: Any])
        object["replicationSettle"] = nil
        let decoded = try JSONDecoder().decode(CutoverTimeline.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(decoded.replicationSettle == nil)
        #expect(decoded.marks[.windowOpened] == ms(10))
    }
}

// MARK: - Executor

/// A database whose catch-up waits take scripted times on a shared manual clock (no real sleeping): the source
/// answers positions, the replica the waits.
private final class SettleFakeDatabase: CutoverDatabase, Sendable {
    let name: String
    let canFence = false
    let now: Mutex<Duration>
    private let waits: Mutex<[Duration]>
    private let positions = Mutex<UInt64>(100)
    let positionsRead = Mutex(0)
    let secondsBehind: Int?
    private let breaksAfter: Int?
    private let waited = Mutex(0)

    init(name: String, waits: [Duration] = [], secondsBehind: Int? = 0, breaksAfter: Int? = nil) {
        self.name = name
        self.now = Mutex(.zero)
        self.waits = Mutex(waits)
        self.secondsBehind = secondsBehind
        self.breaksAfter = breaksAfter
    }

    func replicaHealth(logger: Logger) async throws -> ReplicaHealth? {
        ReplicaHealth(ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: secondsBehind, lastError: nil, sourceEndpoint: "x")
    }
    func longWriteTransactions(olderThan limit: Duration, logger: Logger) async throws -> [LongTransaction] { [] }
    func currentPosition(logger: Logger) async throws -> ReplicationCoordinate {
        positionsRead.withLock { $0 += 1 }
        return ReplicationCoordinate(file: "mysql-bin.000001", offset: positions.withLock { $0 += 100; return $0 })
    }
    func fence(timeout: Duration, logger: Logger) async throws {}
    func liftFence(logger: Logger) async throws {}
    func closeSessions(users: [String], logger: Logger) async throws -> Int { 0 }
    func waitForCatchUp(
        to coordinate: ReplicationCoordinate, timeout: Duration,
        progress: @escaping @Sendable (ReplicationCoordinate?) -> Void, logger: Logger
    ) async throws {
        let count = waited.withLock { $0 += 1; return $0 }
        if let breaksAfter, count > breaksAfter {
            throw ReplicationError(code: .replicationNotRunning, message: "the SQL thread stopped")
        }
        let wait = waits.withLock { $0.isEmpty ? Duration.zero : $0.removeFirst() }
        if wait >= timeout {
            now.withLock { $0 += timeout }
            throw ReplicationError(code: .catchUpTimedOut, message: "not executed in time")
        }
        now.withLock { $0 += wait }
    }
    func stopAndResetReplication(timeout: Duration, logger: Logger) async throws {}
    func startReplication(
        from source: ServerEndpoint, user: String, password: String, tls: ReplicationTLS,
        at coordinate: ReplicationCoordinate, timeout: Duration, logger: Logger
    ) async throws {}
    func verifyReplication(timeout: Duration, logger: Logger) async throws {}
}

@Suite("Replication settle (executor)")
struct ReplicationSettleExecutorTests {
    private static let logger = Logger(label: "test")

    /// Runs the settle against a replica whose waits take `waits`; time is the replica's manual clock.
    private static func settle(
        waits: [Duration], threshold: Duration = ms(10), timeout: Duration = .seconds(1), breaksAfter: Int? = nil,
        stopAt: Duration? = nil
    ) async -> (event: CutoverEvent, progress: [CutoverProgress], source: SettleFakeDatabase) {
        let replica = SettleFakeDatabase(name: "target", waits: waits, secondsBehind: 2, breaksAfter: breaksAfter)
        let source = SettleFakeDatabase(name: "source")
        let executor = LiveCutoverExecutor(
            environment: CutoverEnvironment(
                topology: ExecutorFixture.topology(), source: source, target: replica,
                proxies: ProxySQLCluster(nodes: [], nodeDeadline: .seconds(10)),
                forwardReplicationPassword: "x", reverseReplicationPassword: "y"))
        let progress = Mutex<[CutoverProgress]>([])
        let context = CutoverExecutionContext(
            elapsed: { replica.now.withLock { $0 } + ms(50) },
            report: { event in progress.withLock { $0.append(event) } },
            logger: logger,
            isStopRequested: {
                guard let stopAt else { return false }
                return replica.now.withLock { $0 } >= stopAt
            },
            policy: CutoverPolicy())
        let result = await executor.perform(
            .settleReplication(.target, source: .source, threshold: threshold, timeout: timeout), context: context)
        return (result.event, progress.withLock { $0 }, source)
    }

    @Test("waits on fresh positions until one returns within the threshold, reporting each round")
    func converges() async {
        let (event, progress, source) = await Self.settle(waits: [ms(300), ms(60), ms(12), ms(4), ms(900)])
        guard case .replicationSettleEnded(.target, let seen, let at) = event else {
            Issue.record("expected a settle, got \(event)")
            return
        }
        #expect(seen.rounds == 4)
        #expect(seen.lastWait == ms(4))
        #expect(seen.shortestWait == ms(4))
        #expect(seen.startedAt == ms(50))
        #expect(at == ms(50 + 300 + 60 + 12 + 4))
        #expect(seen.secondsBehind == nil)
        #expect(seen.lastPosition == ReplicationCoordinate(file: "mysql-bin.000001", offset: 500))
        #expect(seen.verdict(threshold: ms(10), deadline: .seconds(1), at: at) == .settled)
        #expect(source.positionsRead.withLock { $0 } == 4)
        let rounds = progress.compactMap { event -> Int? in
            if case .settleProgress(.target, let round, _, ms(10), _) = event { round } else { nil }
        }
        #expect(rounds == [1, 2, 3, 4])
    }

    @Test("gives up at its deadline, the last wait cut short, and reads the replica's own lag for the refusal")
    func givesUp() async {
        let (event, _, _) = await Self.settle(waits: [ms(400), ms(400), ms(400)], timeout: ms(1_000))
        guard case .replicationSettleEnded(.target, let seen, let at) = event else {
            Issue.record("expected a settle, got \(event)")
            return
        }
        #expect(seen.rounds == 3)
        #expect(seen.timedOut)
        #expect(seen.lastWait == ms(200))
        #expect(seen.shortestWait == ms(400))
        #expect(seen.secondsBehind == 2)
        #expect(at == ms(1_050))
        #expect(seen.verdict(threshold: ms(10), deadline: ms(1_000), at: at) == .gaveUp)
    }

    @Test("replication that breaks while settling is a step failure (rolled back by the machine)")
    func breaks() async {
        let (event, _, _) = await Self.settle(waits: [ms(300)], breaksAfter: 1)
        guard case .stepFailed(let failure, _) = event else {
            Issue.record("expected a failure, got \(event)")
            return
        }
        #expect(failure.message.contains("SQL thread stopped"))
        #expect(failure.remedy?.contains("replication") == true)
    }

    @Test("a stop request ends the settle between waits")
    func stops() async {
        let (event, _, source) = await Self.settle(waits: [ms(300), ms(300), ms(300)], stopAt: ms(600))
        guard case .replicationSettleEnded(.target, let seen, _) = event else {
            Issue.record("expected a settle, got \(event)")
            return
        }
        #expect(seen.stopped)
        #expect(seen.rounds == 2)
        #expect(source.positionsRead.withLock { $0 } == 2)
    }
}
