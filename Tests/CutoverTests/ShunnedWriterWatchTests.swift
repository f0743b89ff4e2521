import Foundation
import ProxySQLAdmin
import Testing

@testable import Cutover

/// The watch right after the new writer's ONLINE (#14 item 8), as transcripts of the pure loop
/// (``ShunnedWriterRecovery/Watch``): readings in, what to do next out; then its place in the writer switch (the
/// machine's `watchNewWriter` step), its journal form, and the runtime check that counts a shunned ONLINE row as
/// loaded.
@Suite("Shunned new writer: the watch after the ONLINE")
struct ShunnedWriterWatchTests {
    typealias Watch = ShunnedWriterRecovery.Watch

    static func ms(_ value: Int) -> Duration { .milliseconds(value) }

    @Test("never shunned: it reads every interval until the watch is over, then ends; nothing re-loaded, no probe")
    func neverShunned() {
        var watch = Watch(watch: Self.ms(500))
        let online: [String: BackendStatus?] = ["p1": .online, "p2": .online]
        #expect(!watch.needsProbe(online))
        #expect(watch.observe(online, acceptsConnections: nil, elapsed: Self.ms(0)) == .readAgain)
        #expect(watch.observe(online, acceptsConnections: nil, elapsed: Self.ms(250)) == .readAgain)
        #expect(watch.observe(online, acceptsConnections: nil, elapsed: Self.ms(500)) == .end)
        #expect(watch.report.reads == 3)
        #expect(watch.report.shunnedOn.isEmpty && watch.report.reloads.isEmpty && watch.report.probes.isEmpty)
        #expect(ShunnedWriterRecovery.followUp(watch.report) == nil)
        #expect(watch.report.description == "new writer never SHUNNED")
    }

    @Test("shunned on one node while it refuses, then it accepts: the watch waits past its 500 ms, re-loads that node once, sees it ONLINE and ends")
    func shunnedThenRecovered() {
        var watch = Watch(watch: Self.ms(500), recovery: .seconds(3))
        let shunned: [String: BackendStatus?] = ["p1": .online, "p2": .shunned]
        #expect(watch.needsProbe(shunned))
        // Refusing (1040 at max_connections): leave it, keep reading (past the 500 ms: a shun extends to the recovery).
        #expect(watch.observe(shunned, acceptsConnections: false, elapsed: Self.ms(10)) == .readAgain)
        #expect(watch.observe(shunned, acceptsConnections: false, elapsed: Self.ms(600)) == .readAgain)
        #expect(watch.report.left?.contains("still refuses") == true)
        // It accepts again: re-load exactly the node that shows it shunned.
        #expect(watch.observe(shunned, acceptsConnections: true, elapsed: Self.ms(900)) == .reload(nodes: ["p2"]))
        watch.reloaded(nodes: ["p2"], at: .seconds(2))
        // ONLINE everywhere after the LOAD: nothing more to spare clients, the watch ends at once.
        #expect(watch.observe(["p1": .online, "p2": .online], acceptsConnections: nil, elapsed: Self.ms(950)) == .end)
        let report = watch.report
        #expect(report.shunnedOn == ["p2"] && report.stillShunned.isEmpty)
        #expect(report.probes == [false, false, true])
        #expect(report.reloads == [ShunnedWriterWatch.Reload(nodes: ["p2"], at: .seconds(2))])
        #expect(ShunnedWriterRecovery.followUp(report) == nil)
        #expect(report.description.contains("re-loaded 1 time(s) (p2)") && report.description.contains("ONLINE again"))
    }

    @Test("shunned again after each re-LOAD: at most 2 re-LOADs, then it ends with the node still SHUNNED and a follow-up for the operator")
    func boundedReloads() {
        var watch = Watch(watch: Self.ms(500), maximumReloads: 2)
        let shunned: [String: BackendStatus?] = ["p1": .shunned]
        #expect(watch.observe(shunned, acceptsConnections: true, elapsed: Self.ms(5)) == .reload(nodes: ["p1"]))
        watch.reloaded(nodes: ["p1"], at: Self.ms(6))
        #expect(watch.observe(shunned, acceptsConnections: true, elapsed: Self.ms(60)) == .reload(nodes: ["p1"]))
        watch.reloaded(nodes: ["p1"], at: Self.ms(61))
        // The bound is spent: no more probes; it reads on (does ProxySQL's own re-try bring it back?) until the bound.
        #expect(!watch.needsProbe(shunned))
        #expect(watch.observe(shunned, acceptsConnections: nil, elapsed: Self.ms(120)) == .readAgain)
        #expect(watch.observe(shunned, acceptsConnections: nil, elapsed: .seconds(3)) == .end)
        #expect(watch.report.reloads.count == 2)
        #expect(watch.report.probes.count == 2)
        #expect(watch.report.stillShunned == ["p1"])
        let followUp = ShunnedWriterRecovery.followUp(watch.report)
        #expect(followUp?.contains("still SHUNNED on p1") == true)
        #expect(followUp?.contains("migrate-cli status") == true)
    }

    @Test("still refusing at the recovery bound: it ends without a re-LOAD (ProxySQL's own re-try is left to bring it back)")
    func refusingUntilTheBound() {
        var watch = Watch(watch: Self.ms(500), recovery: .seconds(3))
        let shunned: [String: BackendStatus?] = ["p1": .shunned]
        #expect(watch.observe(shunned, acceptsConnections: false, elapsed: .seconds(1)) == .readAgain)
        #expect(watch.observe(shunned, acceptsConnections: false, elapsed: .seconds(3)) == .end)
        #expect(watch.report.reloads.isEmpty)
        #expect(watch.report.stillShunned == ["p1"])
    }

    @Test("accepting, but the bound has passed: no re-LOAD then (the watch is over)")
    func noReloadPastTheBound() {
        var watch = Watch(watch: Self.ms(500), recovery: .seconds(3))
        #expect(watch.observe(["p1": .shunned], acceptsConnections: true, elapsed: Self.ms(3_100)) == .end)
        #expect(watch.report.reloads.isEmpty)
    }

    @Test("a node that cannot be read is reported, not a failure; 0 re-LOADs allowed: it watches and reports only, until ProxySQL's own re-try brings the writer back")
    func unreadableAndOff() {
        var watch = Watch(watch: Self.ms(100), maximumReloads: 0)
        let statuses: [String: BackendStatus?] = ["p1": .shunned, "p2": BackendStatus?.none]
        #expect(!watch.needsProbe(statuses))
        #expect(
            watch.observe(statuses, unreadable: ["p2": "connection refused"], acceptsConnections: nil, elapsed: Self.ms(1))
                == .readAgain)
        #expect(watch.report.unreadable == ["p2": "connection refused"])
        #expect(watch.report.left?.contains("at most 0") == true)
        #expect(watch.report.description.contains("unreadable on p2"))
        // ProxySQL's own re-try (1-2 s after the last error): ONLINE again, the watch ends with nothing to follow up.
        #expect(watch.observe(["p1": .online, "p2": .online], acceptsConnections: nil, elapsed: Self.ms(1_500)) == .end)
        #expect(watch.report.stillShunned.isEmpty && watch.report.reloads.isEmpty && watch.report.probes.isEmpty)
        #expect(ShunnedWriterRecovery.followUp(watch.report) == nil)
    }

    @Test("what a login says about accepting connections: logged in or refused for the account, yes; 1040, 1203, 1053 or unreachable, no; not probed, unknown")
    func loginMeansAccepting() {
        #expect(ShunnedWriterRecovery.acceptsConnections(.loggedIn(grants: [])) == true)
        #expect(ShunnedWriterRecovery.acceptsConnections(.refused(errorNumber: 1045, message: "denied")) == true)
        #expect(ShunnedWriterRecovery.acceptsConnections(.hostNotAllowed(message: "1130")) == true)
        for code: UInt32 in [1040, 1203, 1053] {
            #expect(ShunnedWriterRecovery.acceptsConnections(.refused(errorNumber: code, message: "no")) == false)
        }
        #expect(ShunnedWriterRecovery.acceptsConnections(.unreachable(message: "refused")) == false)
        #expect(ShunnedWriterRecovery.acceptsConnections(.notProbed(reason: "no password")) == nil)
    }

    @Test("the runtime check after a LOAD: a row intended ONLINE that ProxySQL already shunned counts as loaded; any other difference does not")
    func shunnedOnlineConfirmsTheLoad() throws {
        let new = BackendServer.Key(hostgroup: 10, host: "aurora", port: 3306)
        let old = BackendServer.Key(hostgroup: 10, host: "source", port: 3306)
        let intended = [IntendedBackendState(key: old, status: .offlineHard), IntendedBackendState(key: new, status: .online)]
        func runtime(_ status: BackendStatus, oldLive: Bool = false) -> [BackendServer] {
            var rows = [BackendServer(hostgroup: 10, endpoint: ServerEndpoint(host: "aurora"), status: status)]
            if oldLive { rows.append(BackendServer(hostgroup: 10, endpoint: ServerEndpoint(host: "source"), status: .online)) }
            return rows
        }
        typealias Rules = CutoverStateMachine.StatusChange
        #expect(Rules.runtimeConfirms(try RuntimeVerification.compare(intended: intended, runtime: runtime(.online))))
        #expect(Rules.runtimeConfirms(try RuntimeVerification.compare(intended: intended, runtime: runtime(.shunned))))
        // Not loaded: the old writer still live, or the new one OFFLINE_SOFT or absent.
        #expect(!Rules.runtimeConfirms(try RuntimeVerification.compare(intended: intended, runtime: runtime(.shunned, oldLive: true))))
        #expect(!Rules.runtimeConfirms(try RuntimeVerification.compare(intended: intended, runtime: runtime(.offlineSoft))))
        #expect(!Rules.runtimeConfirms(try RuntimeVerification.compare(intended: intended, runtime: [])))
        // A row intended OFFLINE_SOFT that shows SHUNNED is not what was loaded.
        let soft = [IntendedBackendState(key: new, status: .offlineSoft)]
        #expect(!Rules.runtimeConfirms(try RuntimeVerification.compare(intended: soft, runtime: runtime(.shunned))))
    }

    @Test("in the writer switch: right after the ONLINE, with the policy's bounds; a 0 watch leaves the step out; the report lands in the timeline with its follow-up")
    func machineStep() {
        var policy = CutoverPolicy()
        policy.shunnedWriterWatch = Self.ms(750)
        policy.shunnedWriterReloads = 1
        let steps = CutoverStateMachine.steps(for: .writerCutover, policy: policy)
        let online = steps.firstIndex(of: .onlineNew)!
        #expect(steps[online + 1] == .watchNewWriter)
        policy.shunnedWriterWatch = .zero
        #expect(!CutoverStateMachine.steps(for: .writerCutover, policy: policy).contains(.watchNewWriter))
        #expect(!CutoverStateMachine.steps(for: .readerCutover, policy: CutoverPolicy()).contains(.watchNewWriter))

        policy.shunnedWriterWatch = Self.ms(750)
        var machine = CutoverStateMachine()
        var action = machine.started(operation: .writerFailback, policy: policy)
        var at = Duration.zero
        while machine.currentStep != "onlineNew" {
            at += .milliseconds(1)
            action = machine.receive(RollbackTableTests.success(action, at: at))
        }
        let watchAction = machine.receive(.statusSet(.writer(.source), .online, at: at))
        #expect(
            watchAction
                == .watchNewWriter(
                    .source, watch: Self.ms(750), recovery: ShunnedWriterRecovery.defaultRecoveryBound,
                    interval: ShunnedWriterRecovery.defaultInterval, maximumReloads: 1))
        #expect(machine.isPastPointOfNoReturn)
        var report = ShunnedWriterWatch()
        report.shunnedOn = ["p1"]
        report.stillShunned = ["p1"]
        #expect(machine.receive(.newWriterWatched(.source, report, at: at + Self.ms(800))) == .stopReplication(.source))
        #expect(machine.timeline.newWriterWatch == report)
        #expect(machine.timeline.followUps.contains(ShunnedWriterRecovery.followUp(report)!))
        // The window is the ONLINE's, not the watch's.
        #expect(machine.timeline.marks[.windowClosed] == at)
    }

    @Test("journaled: the action and the event round-trip field by field; a policy written before the watch decodes none")
    func journalForm() throws {
        let action = CutoverAction.watchNewWriter(
            .target, watch: Self.ms(500), recovery: .seconds(3), interval: Self.ms(50), maximumReloads: 2)
        let encodedAction = try JSONEncoder().encode(JournalActionPayload(action))
        #expect(try JSONDecoder().decode(JournalActionPayload.self, from: encodedAction).machineAction() == action)
        let text = String(decoding: encodedAction, as: UTF8.self)
        #expect(text.contains("\"watchNewWriter\"") && text.contains("\"maximumReloads\":2"))

        var report = ShunnedWriterWatch()
        report.reads = 12
        report.shunnedOn = ["p2"]
        report.probes = [false, true]
        report.reloads = [.init(nodes: ["p2"], at: .seconds(1), failures: [:])]
        report.unreadable = ["p3": "timeout"]
        let event = CutoverEvent.newWriterWatched(.target, report, at: .seconds(2))
        #expect(try JournalPayloadTests.roundTrip(event) == event)

        // A policy journaled before the watch existed: no watch step when it is replayed.
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(CutoverPolicy())) as! [String: Any]
        #expect(object["shunnedWriterWatch"] != nil)
        object.removeValue(forKey: "shunnedWriterWatch")
        object.removeValue(forKey: "shunnedWriterReloads")
        let old = try JSONDecoder().decode(CutoverPolicy.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.shunnedWriterWatch == .zero)
        #expect(old.shunnedWriterReloads == ShunnedWriterRecovery.defaultMaximumReloads)
        #expect(!CutoverStateMachine.steps(for: .writerCutover, policy: old).contains(.watchNewWriter))
    }
}
