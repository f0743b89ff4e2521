import CutoverTestSupport
import Foundation
import Logging
import ProxySQLAdmin
import Synchronization
import Testing

@testable import Cutover

private let sourceEndpoint = ExecutorFixture.sourceEndpoint
private let sourceWriter = ExecutorFixture.sourceWriter

private func entry(_ id: UInt64, command: String = "Sleep", flags: UInt64?) -> ProcesslistEntry {
    ProcesslistEntry(
        sessionID: ProxySQLSessionID(rawValue: id), user: "app", clientHost: "10.1.0.7", clientPort: 50000 + Int(id),
        hostgroup: 10, localBackendEndpoint: ServerEndpoint(host: "10.0.0.9", port: 40000 + Int(id)),
        backendEndpoint: sourceEndpoint, command: command, timeMilliseconds: 12, statusFlags: flags)
}

private func classified(_ entries: [ProcesslistEntry]) -> [ClassifiedHolder] {
    DrainClassifier.classify(SessionPins(server: sourceWriter, sessions: entries.map { ("p1", $0) }))
}

private func ms(_ value: Int) -> Duration { .milliseconds(value) }

@Suite("Drain classifier (issue #18)")
struct DrainClassifierTests {
    @Test(
        "holder classes from stats_mysql_processlist",
        arguments: [
            (entry(1, flags: 0), DrainHolderClass.autoIncrementPin),
            (entry(2, flags: 0x4), .sessionPin),
            (entry(3, flags: 0x10), .sessionPin),
            (entry(4, flags: 0x1), .openTransaction),
            (entry(5, flags: 0x5), .openTransaction),
            (entry(6, command: "Query", flags: 0x1), .openTransaction),
            (entry(7, command: "Query", flags: 0x4), .runningStatement),
            (entry(8, flags: nil), .unknown),
        ] as [(ProcesslistEntry, DrainHolderClass)]
    )
    func classes(entry: ProcesslistEntry, expected: DrainHolderClass) {
        #expect(DrainClassifier.holderClass(of: entry) == expected)
    }

    @Test("a single busy poll never reads the processlist: one late ConnUsed is tolerated")
    func latePollTolerated() {
        #expect(!DrainClassifier.shouldClassify(consecutiveBusyPolls: 1))
        #expect(DrainClassifier.shouldClassify(consecutiveBusyPolls: 2))
    }

    @Test("only idle pins: end the drain; idle pins beside work in flight: cut them and keep waiting; a wait policy: keep waiting")
    func verdicts() {
        let pins = classified([entry(1, flags: 0), entry(2, flags: 0x4)])
        #expect(DrainClassifier.verdict(holders: pins, policy: CutoverPolicy()) == .cutIdlePins(pins))
        let withTransaction = classified([entry(1, flags: 0), entry(4, flags: 0x1)])
        #expect(DrainClassifier.verdict(holders: withTransaction, policy: CutoverPolicy()) == .cutIdlePinsAndKeepWaiting([withTransaction[0]]))
        let running = classified([entry(2, flags: 0x4), entry(7, command: "Query", flags: 0x4)])
        #expect(DrainClassifier.verdict(holders: running, policy: CutoverPolicy()) == .cutIdlePinsAndKeepWaiting([running[0]]))
        #expect(DrainClassifier.verdict(holders: classified([entry(4, flags: 0x1), entry(7, command: "Query", flags: 0x4)]), policy: CutoverPolicy()) == .keepWaiting)
        #expect(DrainClassifier.verdict(holders: classified([entry(8, flags: nil)]), policy: CutoverPolicy()) == .keepWaiting)
        #expect(DrainClassifier.verdict(holders: [], policy: CutoverPolicy()) == .keepWaiting, "a late ConnUsed")
        #expect(DrainClassifier.verdict(holders: pins, policy: CutoverPolicy(pinnedSessions: .wait)) == .keepWaiting)
        #expect(DrainClassifier.deadlineVerdict(holders: pins, policy: CutoverPolicy()) == .cutIdlePins(pins))
        #expect(DrainClassifier.deadlineVerdict(holders: withTransaction, policy: CutoverPolicy()) == nil)
        #expect(DrainClassifier.counts(pins + pins).map { "\($0.0)=\($0.1)" } == ["auto-increment-pin=2", "session-pin=2"])
    }

    @Test("the auto-increment pin is relaxed by default only on evidence of no LAST_INSERT_ID()")
    func pinDecision() {
        let none = LastInsertIDEvidence(digestsRead: 12, lastInsertIDDigests: [])
        #expect(AutoIncrementPinDecision.decide(policy: .auto, evidence: none).relax)
        let uses = LastInsertIDEvidence(digestsRead: 12, lastInsertIDDigests: ["SELECT LAST_INSERT_ID()"])
        let kept = AutoIncrementPinDecision.decide(policy: .auto, evidence: uses)
        #expect(!kept.relax)
        #expect(kept.reason.contains("SELECT LAST_INSERT_ID()"))
        #expect(!AutoIncrementPinDecision.decide(policy: .auto, evidence: nil).relax)
        #expect(!AutoIncrementPinDecision.decide(policy: .auto, evidence: LastInsertIDEvidence(digestsRead: 0, lastInsertIDDigests: [])).relax)
        #expect(!AutoIncrementPinDecision.decide(policy: .auto, evidence: LastInsertIDEvidence(digestsRead: 5, lastInsertIDDigests: [], unreadable: ["p2 (timeout)"])).relax)
        #expect(AutoIncrementPinDecision.decide(policy: .relax, evidence: uses).relax)
        #expect(!AutoIncrementPinDecision.decide(policy: .keep, evidence: none).relax)
    }

    @Test("a policy journaled before issue #18 decodes with pinned sessions waited for")
    func oldPolicyDecodes() throws {
        let encoded = try JSONEncoder().encode(CutoverPolicy(autoIncrementPin: .keep))
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        object["pinnedSessions"] = nil
        let old = try JSONSerialization.data(withJSONObject: object)
        let decoded = try JSONDecoder().decode(CutoverPolicy.self, from: old)
        #expect(decoded.pinnedSessions == .wait)
        #expect(decoded.autoIncrementPin == .keep)
        #expect(CutoverPolicy().pinnedSessions == .cut)
        #expect(CutoverPolicy().autoIncrementPin == .auto)
    }
}

@Suite("Writer cut-over transcripts: idle pins and the auto-increment evidence (issue #18)")
struct IdlePinTranscriptTests {
    static let relaxed = AutoIncrementPinDecision(relax: true, reason: "no LAST_INSERT_ID()")
    static let kept = AutoIncrementPinDecision(relax: false, reason: "SELECT LAST_INSERT_ID() seen")

    /// The defaults, without the replication settle of issue #19 (its own transcripts cover it).
    static var defaults: CutoverPolicy {
        var policy = CutoverPolicy()
        policy.replicationSettleDeadline = .zero
        return policy
    }

    @Test("default policy, evidence says relax: the pin is relaxed, the settle runs, idle pins end the drain and are recorded by class")
    func relaxedAndCut() {
        var machine = CutoverStateMachine()
        #expect(machine.started(operation: .writerCutover, policy: Self.defaults) == .runGuards(.writerCutover))
        #expect(machine.receive(.guardsFinished(blockingReasons: [], autoIncrementPin: Self.relaxed))
            == .prepareProxy(disableQueryRetries: true, relaxAutoIncrementPin: true))
        #expect(machine.receive(.proxyPrepared(ProxySettingsSnapshot()))
            == .settleAutoIncrementPins(.writer(.source), timeout: ms(200), interval: ms(2)))
        #expect(machine.receive(.autoIncrementPinsSettled(.writer(.source), stillHeld: 0, at: ms(10)))
            == .setStatus(.writer(.source), .offlineSoft))
        #expect(machine.receive(.statusSet(.writer(.source), .offlineSoft, at: ms(12)))
            == .pollDrain(.writer(.source), timeout: ms(500), interval: ms(2)))
        let holders = classified([entry(2, flags: 0x4)])
        #expect(machine.receive(.drainEndedWithIdlePins(.writer(.source), holders: holders, at: ms(30)))
            == .setStatus(.writer(.source), .offlineHard))
        #expect(machine.timeline.idlePinsCut == holders)
        #expect(machine.timeline.autoIncrementPin == Self.relaxed)
        #expect(machine.timeline.drain == ms(18))
        #expect(!machine.timeline.forcedDrain)
    }

    @Test("default policy, evidence says keep: the pin is not relaxed and the settle is skipped")
    func keptSkipsSettle() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerCutover, policy: Self.defaults)
        #expect(machine.receive(.guardsFinished(blockingReasons: [], autoIncrementPin: Self.kept))
            == .prepareProxy(disableQueryRetries: true, relaxAutoIncrementPin: false))
        #expect(machine.receive(.proxyPrepared(ProxySettingsSnapshot())) == .setStatus(.writer(.source), .offlineSoft))
    }

    @Test("a journal whose guards carried no decision (older version) keeps the pin under auto")
    func noDecisionKeeps() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerCutover, policy: CutoverPolicy())
        #expect(machine.receive(.guardsFinished(blockingReasons: []))
            == .prepareProxy(disableQueryRetries: true, relaxAutoIncrementPin: false))
    }

    @Test("the new event and the timeline fields round-trip through JSON, and an old timeline decodes")
    func coding() throws {
        let event = CutoverEvent.drainEndedWithIdlePins(
            .writer(.target), holders: classified([entry(1, flags: 0)]), at: ms(7))
        let decoded = try JournalPayloadTests.roundTrip(event)
        #expect(decoded == event)
        var timeline = CutoverTimeline()
        timeline.idlePinsCut = classified([entry(1, flags: 0)])
        timeline.autoIncrementPin = Self.kept
        let data = try JSONEncoder().encode(timeline)
        #expect(try JSONDecoder().decode(CutoverTimeline.self, from: data) == timeline)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["idlePinsCut"] = nil
        object["autoIncrementPin"] = nil
        let old = try JSONDecoder().decode(CutoverTimeline.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.idlePinsCut.isEmpty)
        #expect(old.autoIncrementPin == nil)
    }
}

private final class Done: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}

/// Runs the drain on a manual clock (advanced by `interval` whenever the executor sleeps).
private func drain(_ node: RecordingProxySQLAdmin, policy: CutoverPolicy, timeout: Duration) async -> CutoverEvent? {
    let clock = ManualClock()
    let executor = LiveCutoverExecutor(
        environment: CutoverEnvironment(
            topology: ExecutorFixture.topology(proxyNodes: ["p1"]),
            source: FakeCutoverDatabase(name: "source", health: nil),
            target: FakeCutoverDatabase(name: "aurora", health: nil),
            proxies: ProxySQLCluster(nodes: [node], nodeDeadline: .seconds(10)),
            forwardReplicationPassword: "x",
            reverseReplicationPassword: "y"
        )
    )
    let context = CutoverExecutionContext(
        elapsed: { clock.now.offset }, report: { _ in }, logger: Logger(label: "test"), policy: policy,
        sleep: { try await clock.sleep(for: $0) })
    let done = Done()
    let interval = ms(2)
    return await withTaskGroup(of: CutoverEvent?.self) { group in
        group.addTask {
            let result = await executor.perform(.pollDrain(.writer(.source), timeout: timeout, interval: interval), context: context)
            done.set()
            return result.event
        }
        group.addTask {
            let giveUp = ContinuousClock.now + .seconds(30)
            while !done.isSet && ContinuousClock.now < giveUp {
                if clock.sleeperCount > 0 { clock.advance(by: interval) } else { await Task.yield() }
            }
            return nil
        }
        var outcome: CutoverEvent?
        for await event in group where event != nil { outcome = event }
        return outcome
    }
}

private func processlistReads(_ node: RecordingProxySQLAdmin) -> Int {
    node.calls.filter { if case .processlist = $0 { true } else { false } }.count
}

@Suite("Drain with classification (LiveCutoverExecutor, issue #18)")
struct DrainClassifyingExecutorTests {
    func node(used: [UInt64], processlist: [[ProcesslistEntry]]) -> RecordingProxySQLAdmin {
        let node = ExecutorFixture.startingNode("p1")
        node.setPoolStats(ConnectionPoolStats(hostgroup: 10, endpoint: sourceEndpoint, status: .offlineSoft, connectionsUsed: 1), for: sourceWriter)
        node.scriptConnectionsUsed(used, for: sourceWriter)
        node.scriptProcesslist(processlist)
        return node
    }

    @Test("idle pins end the drain once two polls saw the server held")
    func idlePinsEndDrain() async throws {
        let pinned = [entry(1, flags: 0), entry(2, flags: 0x4)]
        let p1 = node(used: [2, 2, 2], processlist: [pinned])
        let event = await drain(p1, policy: CutoverPolicy(), timeout: ms(500))
        guard case .drainEndedWithIdlePins(_, let holders, let at) = event else {
            Issue.record("expected the drain to end with idle pins, got \(String(describing: event))")
            return
        }
        #expect(holders.map(\.holderClass) == [.autoIncrementPin, .sessionPin])
        #expect(at == ms(2), "the second busy poll, 2 ms after the first")
        #expect(processlistReads(p1) == 1)
    }

    @Test("one late ConnUsed poll is only waited out: no processlist read, no cut")
    func latePoll() async {
        let p1 = node(used: [1, 0], processlist: [[entry(1, flags: 0)]])
        let event = await drain(p1, policy: CutoverPolicy(), timeout: ms(500))
        #expect(event == .drained(.writer(.source), at: ms(2)))
        #expect(processlistReads(p1) == 0)
    }

    @Test("an open transaction is waited for while the idle pin beside it is killed; when it commits the drain ends, reporting the cut")
    func transactionWaited() async {
        let p1 = node(used: [2, 2, 2, 2, 2, 2, 2, 2, 0], processlist: [[entry(1, flags: 0), entry(4, flags: 0x1)], [entry(4, flags: 0x1)]])
        let event = await drain(p1, policy: CutoverPolicy(), timeout: ms(500))
        guard case .drainEndedWithIdlePins(_, let holders, let at) = event else {
            Issue.record("expected the drain to end reporting the cut, got \(String(describing: event))")
            return
        }
        #expect(holders.map(\.holder.sessionID) == [1])
        #expect(at == ms(16))
        #expect(p1.calls.contains { if case .killSession(let id) = $0 { id.rawValue == 1 } else { false } })
        #expect(!p1.calls.contains { if case .killSession(let id) = $0 { id.rawValue == 4 } else { false } }, "never the transaction")
    }

    @Test("with only a transaction holding, nothing is killed and the drain ends clean")
    func transactionOnly() async {
        let p1 = node(used: [1, 1, 1, 1, 0], processlist: [[entry(4, flags: 0x1)]])
        let event = await drain(p1, policy: CutoverPolicy(), timeout: ms(500))
        #expect(event == .drained(.writer(.source), at: ms(8)))
        #expect(!p1.calls.contains { if case .killSession = $0 { true } else { false } })
    }

    @Test("busy pinned sessions are chased: after each kill the processlist is read again at once, with no ConnUsed poll or sleep between, until the last one is seen idle")
    func chaseBusyPins() async {
        // Two sessions pinned for life that keep writing: A idle and B running at the first read, then B running,
        // then B idle alone. ConnUsed stays 2 throughout (the pool polls are never asked again once the chase runs).
        let first = [entry(1, flags: 0x4), entry(2, command: "Query", flags: 0x4)]
        let second = [entry(2, command: "Query", flags: 0x4)]
        let third = [entry(2, flags: 0x4)]
        let p1 = node(used: [2, 2, 2, 2, 2, 2, 2, 2, 2, 2], processlist: [first, second, third])
        let event = await drain(p1, policy: CutoverPolicy(), timeout: ms(500))
        guard case .drainEndedWithIdlePins(_, let holders, let at) = event else {
            Issue.record("expected the drain to end with idle pins, got \(String(describing: event))")
            return
        }
        #expect(holders.map(\.holder.sessionID) == [1, 2], "A killed during the chase, B cut at OFFLINE_HARD")
        #expect(at == ms(2), "no sleep after the second busy poll: the chase is back to back")
        #expect(processlistReads(p1) == 3)
        let drainCalls = p1.calls.compactMap { call -> String? in
            switch call {
            case .connectionPoolStats: "pool"
            case .processlist: "processlist"
            case .killSession(let id): "kill \(id.rawValue)"
            default: nil
            }
        }
        #expect(drainCalls == ["pool", "pool", "processlist", "kill 1", "processlist", "processlist"])
    }

    @Test("under pinned-sessions wait the idle pins hold the drain to its deadline (the old behaviour)")
    func waitPolicy() async {
        let p1 = node(used: [1], processlist: [[entry(2, flags: 0x4)]])
        let event = await drain(p1, policy: CutoverPolicy(pinnedSessions: .wait), timeout: ms(20))
        guard case .drainDeadlinePassed(_, let holders, _) = event else {
            Issue.record("expected the deadline, got \(String(describing: event))")
            return
        }
        #expect(holders.map(\.sessionID) == [2])
    }
}
