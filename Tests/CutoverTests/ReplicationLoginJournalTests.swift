import CutoverTestSupport
import Foundation
import Logging
import ProxySQLAdmin
import ReplicationControl
import Testing

@testable import Cutover

/// The guards' login with the replication account (ADR 0017) in the plan and in the journal (#12): the dry run lists
/// who logs in where from this host, never the password; a live run journals that the login ran and what came of it.
@Suite("Replication login probe in the plan and the journal")
struct ReplicationLoginJournalTests {
    static let logger = Logger(label: "login-journal-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    static let reverseLine = "replication login 'repl_back'@aurora.example:3306 from this host (TLS required)"
    static let forwardLine = "replication login 'repl'@10.0.0.5:3306 from this host (TLS required)"

    static func environment(probe: FakeReplicationLoginProbe) -> CutoverEnvironment {
        var environment = CutoverEnvironment(
            topology: ExecutorFixture.topology(proxyNodes: ["p1"]),
            source: FakeCutoverDatabase(name: "source", health: nil),
            target: FakeCutoverDatabase(name: "aurora", health: nil),
            proxies: ProxySQLCluster(nodes: [ExecutorFixture.startingNode("p1")], nodeDeadline: .seconds(10)),
            forwardReplicationPassword: "forward-secret-1", reverseReplicationPassword: "reverse-secret-2")
        environment.replicationLoginProbe = probe
        return environment
    }

    /// What the guards' read of `operation` records, with the probe answering `answer`.
    static func journaled(_ operation: CutoverOperation, answer: ReversePrerequisites.Login) async
        -> (recorded: [ExecutedStatement], probe: FakeReplicationLoginProbe)
    {
        let probe = FakeReplicationLoginProbe(answer)
        let environment = environment(probe: probe)
        let recorder = StatementRecorder()
        _ = await StatementRecorder.$current.withValue(recorder) {
            await environment.readReversePrerequisites(for: operation, logger: logger)
        }
        return (recorder.recorded, probe)
    }

    @Test("a live cut-over journals the login with the reverse account to the target, and its outcome")
    func liveCutoverJournalsTheLogin() async throws {
        let grants = [ServerInspection.Grant(privileges: ["REPLICATION SLAVE", "REPLICATION CLIENT"], target: "*.*")]
        let (recorded, probe) = await Self.journaled(.writerCutover, answer: .loggedIn(grants: grants))
        #expect(probe.calls == ["repl_back@aurora.example:3306 tls=required password=reverse-secret-2"])
        #expect(
            recorded == [
                ExecutedStatement(
                    endpoint: Self.reverseLine, statement: "SHOW GRANTS",
                    outcome: "logged in; grants: REPLICATION SLAVE, REPLICATION CLIENT ON *.*")
            ])
        // The journal line never carries the password.
        let encoded = String(decoding: try JSONEncoder().encode(recorded), as: UTF8.self)
        #expect(!encoded.contains("reverse-secret-2"))
        #expect(!encoded.contains("forward-secret-1"))
    }

    @Test("a live failback journals the login with the forward account to the source; a refusal is journaled as such")
    func liveFailbackJournalsARefusal() async {
        let (recorded, probe) = await Self.journaled(
            .writerFailback, answer: .refused(errorNumber: 1045, message: "Access denied for user 'repl'@'10.0.0.9'"))
        #expect(probe.calls == ["repl@10.0.0.5:3306 tls=required password=forward-secret-1"])
        #expect(recorded.map(\.endpoint) == [Self.forwardLine])
        #expect(recorded.first?.outcome == "refused (1045): Access denied for user 'repl'@'10.0.0.9'")
    }

    @Test("a reader switch plans no login")
    func readerSwitchHasNoLogin() async {
        let plan = await DryRunExecutor.plan(
            .readerCutover,
            environment: DryRunEnvironment.startingState(
                for: .readerCutover, topology: ExecutorFixture.topology(proxyNodes: ["p1"]), policy: CutoverPolicy()),
            logger: Self.logger)
        #expect(!plan.endpoints.contains { $0.hasPrefix("replication login") }, "\(plan.endpoints)")
    }

    @Test("the dry run plans the login in the guards' step: who, where, from this host, which TLS; nothing else")
    func dryRunPlansTheLogin() async throws {
        let topology = ExecutorFixture.topology(proxyNodes: ["p1"])
        for (operation, line) in [(CutoverOperation.writerCutover, Self.reverseLine), (.writerFailback, Self.forwardLine)] {
            let plan = await DryRunExecutor.plan(
                operation,
                environment: DryRunEnvironment.startingState(for: operation, topology: topology, policy: CutoverPolicy()),
                logger: Self.logger)
            #expect(plan.outcome == .completed, "\(operation)")
            let guards = try #require(plan.steps.first)
            #expect(guards.action.contains("guards"), "\(guards.action)")
            let planned = guards.statements.filter { $0.endpoint.hasPrefix("replication login") }
            #expect(planned.map(\.endpoint) == [line], "\(operation)")
            #expect(planned.map(\.text) == ["SHOW GRANTS"])
            #expect(planned.allSatisfy { !$0.isChange })
            // Only in the guards' step.
            #expect(plan.steps.dropFirst().allSatisfy { step in !step.statements.contains { $0.endpoint == line } })
        }
    }

    @Test("the outcome is in the journal only where there is one: every other statement's line keeps its two keys")
    func journalFormat() throws {
        let plain = String(
            decoding: try JSONEncoder().encode(ExecutedStatement(endpoint: "source", statement: "SELECT 1")), as: UTF8.self)
        #expect(!plain.contains("outcome"), "\(plain)")
        let line = ReplicationLoginProbe.journalLine(
            user: "repl", endpoint: ServerEndpoint(host: "10.0.0.5", port: 3306), tls: .disabled,
            outcome: .unreachable(message: "connect timeout"))
        let decoded = try JSONDecoder().decode(ExecutedStatement.self, from: try JSONEncoder().encode(line))
        #expect(decoded == line)
        #expect(decoded.outcome == "unreachable: connect timeout")
        #expect(decoded.endpoint == "replication login 'repl'@10.0.0.5:3306 from this host (TLS disabled)")
        // A journal written before the field reads as before.
        let old = try JSONDecoder().decode(
            ExecutedStatement.self, from: Data(#"{"endpoint":"source","statement":"SELECT 1"}"#.utf8))
        #expect(old.outcome == nil)
    }
}
