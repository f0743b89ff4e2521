import ArgumentParser
import CutoverRehearsal
import CutoverSandbox
import Testing

@testable import MigrateCLI

/// `rehearse --switch hook` honours `--workload` and `--server` (#15): the workloads with a meaning without a proxy
/// map to client shapes; the others are refused at parse time, saying why.
@Suite("rehearse --switch hook: workload and server options")
struct HookRehearsalOptionsTests {
    @Test("the workloads with a meaning without a proxy map to client shapes")
    func shapes() throws {
        #expect(try HookSwitchRehearsal.shapes(for: .plain).get() == [.plain])
        #expect(try HookSwitchRehearsal.shapes(for: .autoIncrement).get() == [.autoIncrement])
        #expect(try HookSwitchRehearsal.shapes(for: .lastInsertID).get() == [.lastInsertID])
        #expect(try HookSwitchRehearsal.shapes(for: .idlePool).get() == [.idle])
        #expect(try HookSwitchRehearsal.shapes(for: .mix).get() == [.plain, .autoIncrement, .lastInsertID, .idle])
        let command = try parse(["rehearse", "--switch", "hook", "--workload", "last-insert-id", "--server", "mysql"], as: RehearseCommand.self)
        #expect(command.workload == .lastInsertID && command.server == .mysql && command.switchMode == "hook")
    }

    @Test("pinned-at-connect and the sysbench workloads are refused with --switch hook, saying why")
    func refused() throws {
        for (workload, why) in [("pinned-at-connect", "pinning"), ("sysbench-insert", "fixed address"), ("sysbench-write-only", "fixed address")] {
            do {
                _ = try MigrateCommand.parseAsRoot(["rehearse", "--switch", "hook", "--workload", workload])
                Issue.record("\(workload) must be refused with --switch hook")
            } catch {
                let message = MigrateCommand.message(for: error)
                #expect(message.contains(workload) && message.contains(why), "\(message)")
            }
            // The same workload is fine with the proxy.
            _ = try parse(["rehearse", "--workload", workload], as: RehearseCommand.self)
        }
        #expect(throws: (any Error).self) {
            _ = try MigrateCommand.parseAsRoot(["rehearse", "--switch", "hook", "--proxysql-nodes", "2"])
        }
    }
}
