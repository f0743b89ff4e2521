import CutoverTestSupport
import Logging
import ProxySQLAdmin
import Synchronization
import Testing

@testable import Cutover

private let logger = Logger(label: "test")
private let sourceEndpoint = ExecutorFixture.sourceEndpoint
private let targetEndpoint = ExecutorFixture.targetEndpoint
private let sourceWriter = ExecutorFixture.sourceWriter
private let topology = ExecutorFixture.topology()

private func node(_ name: String) -> RecordingProxySQLAdmin { ExecutorFixture.startingNode(name) }

/// A session of the processlist bound to the source writer through ProxySQL's local port `connection`.
private func session(_ id: UInt64, connection: Int, command: String = "Sleep", extendedInfo: String? = nil)
    -> ProcesslistEntry
{
    ProcesslistEntry(
        sessionID: ProxySQLSessionID(rawValue: id),
        user: "app",
        hostgroup: 10,
        localBackendEndpoint: ServerEndpoint(host: "10.0.0.9", port: connection),
        backendEndpoint: sourceEndpoint,
        command: command,
        extendedInfo: extendedInfo
    )
}

/// ProxySQL's session JSON with one backend connection in hostgroup `hostgroup` carrying `token`.
private func sessionJSON(token: Int, hostgroup: Int = 10) -> String {
    #"{"age_ms":120,"backends":[{"hostgroup_id":\#(hostgroup),"conn":{"MultiplexDisabled":true,"auto_increment_delay_token":\#(token)}}]}"#
}

private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}

private struct SettleResult: Sendable {
    var event: CutoverEvent
    var statements: [ExecutedStatement]
}

/// Runs the settle on a manual clock, advancing it by `interval` each time the executor sleeps.
private func settle(_ nodes: [RecordingProxySQLAdmin], timeout: Duration, interval: Duration = .milliseconds(2)) async
    -> SettleResult
{
    let clock = ManualClock()
    let executor = LiveCutoverExecutor(
        environment: CutoverEnvironment(
            topology: topology,
            source: FakeCutoverDatabase(name: "source", health: nil),
            target: FakeCutoverDatabase(name: "aurora", health: nil),
            proxies: ProxySQLCluster(nodes: nodes, nodeDeadline: .seconds(10)),  // generous: a starved 2-core machine
            forwardReplicationPassword: "x",
            reverseReplicationPassword: "y"
        )
    )
    let context = CutoverExecutionContext(
        elapsed: { clock.now.offset }, report: { _ in }, logger: logger,
        policy: CutoverPolicy(autoIncrementPin: .relax, autoIncrementPinSettle: timeout),
        sleep: { try await clock.sleep(for: $0) })
    let done = Flag()
    return await withTaskGroup(of: SettleResult?.self) { group in
        group.addTask {
            let result = await executor.perform(
                .settleAutoIncrementPins(.writer(.source), timeout: timeout, interval: interval),
                context: context
            )
            done.set()
            return SettleResult(event: result.event, statements: result.statements)
        }
        group.addTask {
            // Every wait has a deadline: a settle that never ends fails the test instead of hanging it.
            let giveUp = ContinuousClock.now + .seconds(30)
            while !done.isSet && ContinuousClock.now < giveUp {
                if clock.sleeperCount > 0 { clock.advance(by: interval) } else { await Task.yield() }
            }
            return nil
        }
        var outcome: SettleResult?
        for await result in group where result != nil { outcome = result }
        return outcome ?? SettleResult(event: .gracefulShutdownRequested, statements: [])
    }
}

private func processlistReads(_ node: RecordingProxySQLAdmin) -> Int {
    node.calls.filter { if case .processlist = $0 { true } else { false } }.count
}

@Suite("Auto-increment pin settle (LiveCutoverExecutor)")
struct AutoIncrementPinSettleTests {
    @Test("the settle ends once every session attached at its start was seen without its connection or on another")
    func endsWhenAllLetGo() async {
        let p1 = node("p1")
        let p2 = node("p2")
        p1.scriptProcesslist([
            [session(1, connection: 40001), session(2, connection: 40002)],
            // 2 let go; 3 attached after the start (a statement on a pooled connection): not waited for.
            [session(1, connection: 40001), session(3, connection: 40003)],
            // 1 is on another backend connection: it returned its own in between.
            [session(1, connection: 40004), session(3, connection: 40003)],
        ])
        p2.scriptProcesslist([[]])
        let result = await settle([p1, p2], timeout: .milliseconds(200))
        #expect(result.event == .autoIncrementPinsSettled(.writer(.source), stillHeld: 0, at: .milliseconds(4)))
        #expect(processlistReads(p1) == 3)
        // Every node is read each time (a session of any node may hold the old writer).
        #expect(processlistReads(p2) == 3)
    }

    @Test("a session that keeps its connection holds the settle to its bound (the drain then deals with it)")
    func boundReached() async {
        let p1 = node("p1")
        p1.scriptProcesslist([[session(1, connection: 40001), session(2, connection: 40002)], [session(1, connection: 40001)]])
        let p2 = node("p2")
        let result = await settle([p1, p2], timeout: .milliseconds(10))
        #expect(result.event == .autoIncrementPinsSettled(.writer(.source), stillHeld: 1, at: .milliseconds(10)))
        // A read at 0, 2, 4, 6, 8 and 10 ms.
        #expect(processlistReads(p1) == 6)
    }

    @Test("with nothing attached the settle ends at its first read, without waiting")
    func nothingAttached() async {
        let p1 = node("p1")
        let p2 = node("p2")
        let result = await settle([p1, p2], timeout: .milliseconds(200))
        #expect(result.event == .autoIncrementPinsSettled(.writer(.source), stillHeld: 0, at: .zero))
        #expect(processlistReads(p1) == 1)
    }

    @Test("the same session id on two nodes is two sessions")
    func sessionsPerNode() async {
        let p1 = node("p1")
        let p2 = node("p2")
        p1.scriptProcesslist([[session(7, connection: 40001)], []])
        p2.scriptProcesslist([[session(7, connection: 40001)], [session(7, connection: 40001)], []])
        let result = await settle([p1, p2], timeout: .milliseconds(200))
        #expect(result.event == .autoIncrementPinsSettled(.writer(.source), stillHeld: 0, at: .milliseconds(4)))
    }

    @Test("with extended_info, a session whose auto_increment_delay_token is 0 is done even while attached")
    func extendedInfo() async {
        let p1 = node("p1")
        p1.scriptProcesslist([
            [
                session(1, connection: 40001, command: "Query", extendedInfo: sessionJSON(token: 0)),
                session(2, connection: 40002, extendedInfo: sessionJSON(token: 2)),
            ],
            [session(2, connection: 40002, command: "Query", extendedInfo: sessionJSON(token: 1))],
            [session(2, connection: 40002, command: "Query", extendedInfo: sessionJSON(token: 0))],
        ])
        let result = await settle([p1, node("p2")], timeout: .milliseconds(200))
        #expect(result.event == .autoIncrementPinsSettled(.writer(.source), stillHeld: 0, at: .milliseconds(4)))
    }

    @Test("a processlist that cannot be read makes the settle wait its whole bound, and say so")
    func unreadable() async {
        let p1 = node("p1")
        p1.injectFailure(ProxySQLAdminError(code: .adminStatementFailed, message: "no such table"), times: 100) { call in
            if case .processlist = call { true } else { false }
        }
        let result = await settle([p1, node("p2")], timeout: .milliseconds(6))
        #expect(result.event == .autoIncrementPinsSettled(.writer(.source), stillHeld: nil, at: .milliseconds(6)))
    }

    @Test(
        "auto_increment_delay_token is read per hostgroup from ProxySQL's session JSON",
        arguments: [
            (sessionJSON(token: 3), 3),
            (sessionJSON(token: 0), 0),
            (sessionJSON(token: 3, hostgroup: 11), nil),
            (#"{"backends":[{"hostgroup_id":10,"conn":{"auto_increment_delay_token":2}},null,{"hostgroup_id":10,"conn":{"auto_increment_delay_token":1}}]}"#, 3),
            (#"{"backends":[{"hostgroup_id":10,"stream":{"questions":4}}]}"#, nil),
            (#"{"age_ms":3}"#, nil),
            ("not json", nil),
            ("", nil),
        ] as [(String, Int?)]
    )
    func tokens(json: String, expected: Int?) {
        let entry = session(1, connection: 40001, extendedInfo: json)
        #expect(LiveCutoverStep.autoIncrementDelayTokens(entry, hostgroup: 10) == expected)
        #expect(LiveCutoverStep.autoIncrementDelayTokens(session(1, connection: 40001), hostgroup: 10) == nil)
    }
}
