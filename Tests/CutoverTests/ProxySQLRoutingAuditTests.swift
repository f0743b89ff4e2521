import CutoverTestSupport
import Logging
import ProxySQLAdmin
import Testing

@testable import Cutover

private let logger = Logger(label: "test")
private let topology = ExecutorFixture.topology()
private let source = ExecutorFixture.sourceEndpoint
private let target = ExecutorFixture.targetEndpoint

private func row(_ hostgroup: HostgroupID, _ endpoint: ServerEndpoint, _ status: BackendStatus, weight: Int = 1) -> BackendServer {
    var server = BackendServer(hostgroup: hostgroup, endpoint: endpoint, status: status)
    server.weight = weight
    return server
}

/// The starting state of a node: the source writer ONLINE, the target writer OFFLINE_HARD (absent at runtime).
private func snapshot(
    configured: [BackendServer] = [row(10, source, .online), row(10, target, .offlineHard)],
    runtime: [BackendServer] = [row(10, source, .online)],
    routing: ProxySQLRoutingConfiguration? = ProxySQLRoutingConfiguration(),
    pairs: [String] = []
) -> ProxySQLRoutingAudit.Snapshot {
    ProxySQLRoutingAudit.Snapshot(node: "p1", configured: configured, runtime: runtime, routing: routing, oldWriterPairs: pairs)
}

private func findings(_ snapshot: ProxySQLRoutingAudit.Snapshot, policy: CutoverPolicy = CutoverPolicy()) -> [ProxySQLRoutingAudit.Finding] {
    ProxySQLRoutingAudit.findings(snapshot, topology: topology, operation: .writerCutover, policy: policy)
}

/// #13 item 6: ProxySQL configuration outside the two managed rows.
@Suite("ProxySQLRoutingAudit")
struct ProxySQLRoutingAuditTests {
    @Test("the starting state has no finding")
    func clean() {
        #expect(findings(snapshot()).isEmpty)
    }

    @Test("Aurora staged ONLINE in memory (not loaded) blocks: the first LOAD would publish it next to the source")
    func stagedOnline() {
        let found = findings(snapshot(configured: [row(10, source, .online), row(10, target, .online)]))
        #expect(found.map(\.check) == ["proxysql.staged-rows"])
        #expect(found.first?.blocks == true)
        #expect(found.first?.message.contains("10/aurora.example:3306 ONLINE in memory, absent from runtime") == true)
        #expect(found.first?.remedy.contains("LOAD MYSQL SERVERS FROM RUNTIME") == true)
    }

    @Test("staged differences: a changed weight, a deleted row, an OFFLINE_HARD row still live; SHUNNED equals ONLINE")
    func stagedDifferences() {
        let hostgroups: Set<HostgroupID> = [10, 20]
        #expect(ProxySQLRoutingAudit.stagedDifferences(
            configured: [row(10, source, .online, weight: 5)], runtime: [row(10, source, .online)], hostgroups: hostgroups).count == 1)
        #expect(ProxySQLRoutingAudit.stagedDifferences(
            configured: [], runtime: [row(10, source, .online)], hostgroups: hostgroups)
            == ["10/10.0.0.5:3306 ONLINE at runtime, deleted from memory"])
        #expect(ProxySQLRoutingAudit.stagedDifferences(
            configured: [row(10, source, .offlineHard)], runtime: [row(10, source, .online)], hostgroups: hostgroups).count == 1)
        #expect(ProxySQLRoutingAudit.stagedDifferences(
            configured: [row(10, source, .online)], runtime: [row(10, source, .shunned)], hostgroups: hostgroups).isEmpty)
        // Other hostgroups are not the cut-over's business here.
        #expect(ProxySQLRoutingAudit.stagedDifferences(
            configured: [row(30, source, .online)], runtime: [], hostgroups: hostgroups).isEmpty)
    }

    @Test("another ONLINE row in the writer hostgroup blocks, also the same server spelled differently")
    func otherWriters() {
        let other = ServerEndpoint(host: "10.0.0.9", port: 3306)
        let spelled = ServerEndpoint(host: "AURORA.example.", port: 3306)
        let found = findings(snapshot(
            configured: [row(10, source, .online), row(10, target, .offlineHard), row(10, other, .online), row(10, spelled, .online)],
            runtime: [row(10, source, .online), row(10, other, .online), row(10, spelled, .online)]))
        let writers = found.filter { $0.check == "proxysql.other-writers" }
        #expect(writers.count == 1)
        #expect(writers.first?.blocks == true)
        #expect(writers.first?.message.contains("10/10.0.0.9:3306 ONLINE") == true)
        #expect(writers.first?.message.contains("the same server as a managed row, spelled differently") == true)
        // A reader switch does not judge the writer hostgroup.
        #expect(ProxySQLRoutingAudit.findings(
            snapshot(configured: [row(10, source, .online), row(10, other, .online)], runtime: [row(10, source, .online), row(10, other, .online)]),
            topology: topology, operation: .readerCutover, policy: CutoverPolicy()).filter { $0.check == "proxysql.other-writers" }.isEmpty)
    }

    @Test("query rules: a destination or mirror hostgroup where the source also serves blocks; per-rule retries block while retries are off")
    func queryRules() {
        let routing = ProxySQLRoutingConfiguration(queryRules: [
            .init(ruleID: 1, active: true, destinationHostgroup: 30),
            .init(ruleID: 2, active: true, mirrorHostgroup: 30),
            .init(ruleID: 3, active: true, mirrorHostgroup: 40),
            .init(ruleID: 4, active: true, retries: 2),
            .init(ruleID: 5, active: false, destinationHostgroup: 30, retries: 3),
            .init(ruleID: 6, active: true, destinationHostgroup: 20, retries: 0),
        ])
        let found = findings(snapshot(
            configured: [row(10, source, .online), row(10, target, .offlineHard), row(30, source, .online)],
            runtime: [row(10, source, .online), row(30, source, .online)],
            routing: routing))
        let rules = found.filter { $0.check == "proxysql.query-rules" }
        #expect(rules.map(\.blocks) == [true, true, false, true])
        #expect(rules[0].message.contains("rule 1 sends queries to hostgroup 30"))
        #expect(rules[1].message.contains("rule 2 mirrors queries to hostgroup 30"))
        #expect(rules[2].message.contains("rule 3 mirrors queries to hostgroup 40"))
        #expect(rules[3].message.contains("rule 4 retries failed queries 2 time(s)"))
        // With the window's retry switch off by policy, a per-rule retry is only what it always was.
        var policy = CutoverPolicy()
        policy.disableQueryRetries = false
        #expect(!findings(snapshot(routing: routing), policy: policy).contains { $0.message.contains("rule 4") })
    }

    @Test("users: a default hostgroup where the source serves blocks; another hostgroup, fast_forward and transaction_persistent = 0 warn")
    func users() {
        var routing = ProxySQLRoutingConfiguration(users: [
            .init(username: "app", active: true, defaultHostgroup: 30, transactionPersistent: true, fastForward: false),
            .init(username: "report", active: true, defaultHostgroup: 50, transactionPersistent: false, fastForward: true),
            .init(username: "old", active: false, defaultHostgroup: 30, transactionPersistent: true, fastForward: false),
            .init(username: "web", active: true, defaultHostgroup: 10, transactionPersistent: true, fastForward: false),
        ])
        let found = findings(snapshot(
            configured: [row(10, source, .online), row(10, target, .offlineHard), row(30, source, .online)],
            runtime: [row(10, source, .online), row(30, source, .online)], routing: routing)
        ).filter { $0.check == "proxysql.users" }
        #expect(found.map(\.blocks) == [true, false, false, false])
        #expect(found[0].message.contains("user app defaults to hostgroup 30"))
        #expect(found[1].message.contains("user report defaults to hostgroup 50"))
        #expect(found[2].message.contains("fast_forward"))
        #expect(found[3].message.contains("transaction_persistent = 0"))
        // application.users narrows the users judged.
        var narrowed = topology
        narrowed.applicationUsers = ["web"]
        routing.users.removeAll { $0.username == "web" }
        #expect(ProxySQLRoutingAudit.findings(
            snapshot(routing: routing), topology: narrowed, operation: .writerCutover, policy: CutoverPolicy()
        ).filter { $0.check == "proxysql.users" }.isEmpty)
    }

    @Test("an active Galera / Group Replication / Aurora hostgroup row over a switched hostgroup blocks, in either layer")
    func monitorHostgroups() {
        let routing = ProxySQLRoutingConfiguration(managedHostgroups: [
            .init(table: "mysql_aws_aurora_hostgroups", layer: .configured, active: true, hostgroups: [10, 11]),
            .init(table: "mysql_galera_hostgroups", layer: .runtime, active: true, hostgroups: [60, 61, 62, 63]),
            .init(table: "mysql_group_replication_hostgroups", layer: .runtime, active: false, hostgroups: [10, 11, 12, 13]),
        ])
        let found = findings(snapshot(routing: routing)).filter { $0.check == "proxysql.monitor-hostgroups" }
        #expect(found.count == 1)
        #expect(found.first?.blocks == true)
        #expect(found.first?.message.contains("mysql_aws_aurora_hostgroups") == true)
        #expect(found.first?.message.contains("galera") == false)
    }

    @Test("the source in a replication hostgroup pair blocks; tables that cannot be read only warn")
    func sourcePairAndUnreadable() {
        let found = findings(snapshot(routing: nil, pairs: ["writer 10 / reader 20 (read_only)"]))
        #expect(found.first { $0.check == "proxysql.source-replication-hostgroups" }?.blocks == true)
        #expect(found.first { $0.check == "proxysql.query-rules" }?.blocks == false)
    }

    @Test("host names are compared after normalisation")
    func normalisation() {
        #expect(ProxySQLRoutingAudit.normalized(ServerEndpoint(host: "DB1.Example.COM.", port: 3306))
            == ServerEndpoint(host: "db1.example.com", port: 3306))
    }

    @Test("the guards refuse an Aurora row staged ONLINE in memory on one node (and LOAD nothing)")
    func guardsRefuseStagedRow() async throws {
        let first = ExecutorFixture.startingNode("p1")
        let second = ExecutorFixture.startingNode("p2")
        // Staged on p2 without a LOAD: runtime still has the source alone.
        try await second.setStatus(.online, of: ExecutorFixture.targetWriter, logger: logger)
        let executor = LiveCutoverExecutor(
            environment: CutoverEnvironment(
                topology: topology,
                source: FakeCutoverDatabase(name: "source", health: nil),
                target: FakeCutoverDatabase(
                    name: "aurora",
                    health: ReplicaHealth(ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil, sourceEndpoint: "10.0.0.5:3306")),
                proxies: ProxySQLCluster(nodes: [first, second], nodeDeadline: .seconds(10)),
                forwardReplicationPassword: "x", reverseReplicationPassword: "y"))
        let result = await executor.perform(
            .runGuards(.writerCutover),
            context: CutoverExecutionContext(
                elapsed: { .zero }, report: { _ in }, logger: logger, policy: CutoverPolicy(adminStatementTimeout: .seconds(10))))
        guard case .guardsFinished(let reasons, _, _, _) = result.event else {
            Issue.record("expected guardsFinished, got \(result.event)")
            return
        }
        #expect(reasons.map(\.check).contains("proxysql.staged-rows"), "\(reasons)")
        #expect(reasons.first { $0.check == "proxysql.staged-rows" }?.message.hasPrefix("p2:") == true)
        #expect(!first.calls.contains { $0.isChange } && !second.calls.contains { $0 == .loadServersToRuntime })
    }
}
