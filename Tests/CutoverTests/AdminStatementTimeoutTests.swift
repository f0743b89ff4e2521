import CutoverTestSupport
import Logging
import MariaDB
import ProxySQLAdmin
import Testing

@testable import Cutover

private let logger = Logger(label: "admin-timeout-tests")
private let sourceEndpoint = ServerEndpoint(host: "10.0.0.5", port: 3306)
private let targetEndpoint = ServerEndpoint(host: "aurora.example", port: 3306)

/// `policy.admin-statement-timeout` bounds every admin statement a run sends, whoever built the admin clients: here
/// the clients have no statement timeout of their own and the cluster's per-node deadline is two minutes.
@Suite("The admin statement timeout bounds every admin statement of a run")
struct AdminStatementTimeoutTests {
    enum Hang: String, CaseIterable, CustomStringConvertible {
        case load = "the LOAD of a status change"
        case runtimeRead = "the runtime read that verifies a status change"
        case save = "SAVE MYSQL SERVERS TO DISK"
        var description: String { rawValue }
    }

    @Test(
        "a node that hangs is cut off after policy.admin-statement-timeout, long before the node deadline",
        arguments: Hang.allCases)
    func hangingNodeIsCutOff(hang: Hang) async throws {
        let session = ScriptedSQLSession(dialect: .proxySQLAdmin, endpointDescription: "p1")
        let action: CutoverAction
        switch hang {
        case .load, .runtimeRead:
            action = .setStatus(.writer(.source), .offlineSoft)
            session.expect(
                .exact(
                    "UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostgroup_id = 10 AND hostname = '10.0.0.5' "
                        + "AND port = 3306"),
                reply: .result(SQLResult(affectedRows: 1)))
            if hang == .load {
                session.expect(.exact("LOAD MYSQL SERVERS TO RUNTIME"), reply: .hang)
            } else {
                session.expect(.exact("LOAD MYSQL SERVERS TO RUNTIME"))
                session.expect(.prefix("SELECT hostgroup_id, hostname, port"), reply: .hang)
            }
        case .save:
            action = .saveProxyConfiguration
            session.expect(.exact("SAVE MYSQL SERVERS TO DISK"), reply: .hang)
        }
        var policy = CutoverPolicy()
        policy.adminStatementTimeout = .milliseconds(200)
        let executor = LiveCutoverExecutor(
            environment: CutoverEnvironment(
                topology: CutoverTopology(
                    source: .init(writer: BackendServer.Key(hostgroup: 10, endpoint: sourceEndpoint)),
                    target: .init(writer: BackendServer.Key(hostgroup: 10, endpoint: targetEndpoint)),
                    proxyNodes: ["p1"],
                    sourceReplicationEndpoint: sourceEndpoint,
                    targetReplicationEndpoint: targetEndpoint,
                    forwardReplicationUser: "repl",
                    reverseReplicationUser: "repl_back"
                ),
                source: FakeCutoverDatabase(name: "source", health: nil),
                target: FakeCutoverDatabase(name: "target", health: nil),
                proxies: ProxySQLCluster(
                    nodes: [ProxySQLAdminClient(session: session, name: "p1", statementTimeout: nil)],
                    nodeDeadline: .seconds(120)
                ),
                forwardReplicationPassword: "x",
                reverseReplicationPassword: "y"
            )
        )
        let clock = ContinuousClock()
        let started = clock.now
        let result = await executor.perform(
            action, context: CutoverExecutionContext(elapsed: { .zero }, report: { _ in }, logger: logger, policy: policy))
        let took = clock.now - started
        guard case .stepFailed(let failure, _) = result.event else {
            Issue.record("expected the hung node to fail the step, got \(result.event)")
            return
        }
        #expect(failure.endpoint == "p1")
        #expect(failure.message.contains("did not finish within 0.2 seconds"), "\(failure.message)")
        // Generous bound for a busy machine; the node deadline alone would have taken 120 s.
        #expect(took < .seconds(30), "took \(took)")
        try session.verifyAllConsumed()
    }
}
