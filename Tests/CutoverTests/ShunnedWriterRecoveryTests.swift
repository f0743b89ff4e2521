import Cutover
import ProxySQLAdmin
import Testing

/// Re-loading `mysql_servers` to unshun a new writer right after its ONLINE (#14 item 8): only where a node shows it
/// SHUNNED, only once a fresh connection to it succeeded, at most a bounded number of times (rules read in ProxySQL
/// 2.7.1's `MySQL_HostGroups_Manager::commit`, `MySrvC::connect_error`, `MySrvC::set_status`).
@Suite("Shunned new writer: re-LOAD decision")
struct ShunnedWriterRecoveryTests {
    @Test("ONLINE everywhere (or absent where unreadable, or OFFLINE): nothing to do")
    func nothingShunned() {
        let facts = ShunnedWriterRecovery.Facts(
            runtimeStatus: ["p1": .online, "p2": .online, "p3": nil], acceptsConnections: false)
        #expect(ShunnedWriterRecovery.decide(facts) == .nothingToDo)
        #expect(
            ShunnedWriterRecovery.decide(.init(runtimeStatus: ["p1": .offlineHard], acceptsConnections: nil)) == .nothingToDo)
    }

    @Test("shunned on some nodes and accepting connections again: re-LOAD exactly those nodes, in name order")
    func reloadWhereShunned() {
        let facts = ShunnedWriterRecovery.Facts(
            runtimeStatus: ["p2": .shunned, "p1": .online, "p3": .shunned], acceptsConnections: true)
        #expect(ShunnedWriterRecovery.decide(facts) == .reload(nodes: ["p2", "p3"]))
    }

    @Test("still refusing, or not probed: leave it to ProxySQL's desperate re-try (a LOAD would be re-shunned and burn waiting statements' retries)")
    func leaveWhileRefusing() {
        let refusing = ShunnedWriterRecovery.decide(.init(runtimeStatus: ["p1": .shunned], acceptsConnections: false))
        guard case .leave(let nodes, let reason) = refusing else {
            Issue.record("expected leave, got \(refusing)")
            return
        }
        #expect(nodes == ["p1"])
        #expect(reason.contains("still refuses"))
        let unknown = ShunnedWriterRecovery.decide(.init(runtimeStatus: ["p1": .shunned], acceptsConnections: nil))
        guard case .leave(_, let why) = unknown else {
            Issue.record("expected leave, got \(unknown)")
            return
        }
        #expect(why.contains("not known"))
    }

    @Test("bounded: after the maximum of re-LOADs (2 by default; 0 turns it off) it leaves it, even if it accepts connections")
    func bounded() {
        let second = ShunnedWriterRecovery.Facts(runtimeStatus: ["p1": .shunned], acceptsConnections: true, reloadsDone: 1)
        #expect(ShunnedWriterRecovery.decide(second) == .reload(nodes: ["p1"]))
        let third = ShunnedWriterRecovery.Facts(runtimeStatus: ["p1": .shunned], acceptsConnections: true, reloadsDone: 2)
        guard case .leave(_, let reason) = ShunnedWriterRecovery.decide(third) else {
            Issue.record("expected leave after 2 re-LOADs")
            return
        }
        #expect(reason.contains("at most 2"))
        let off = ShunnedWriterRecovery.decide(.init(runtimeStatus: ["p1": .shunned], acceptsConnections: true), maximumReloads: 0)
        guard case .leave = off else {
            Issue.record("maximumReloads 0 must turn it off, got \(off)")
            return
        }
    }
}
