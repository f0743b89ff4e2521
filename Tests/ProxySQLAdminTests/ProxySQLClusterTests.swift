import CutoverTestSupport
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

/// A node that never answers until cancelled (a hung ProxySQL), except for `LOAD MYSQL SERVERS TO RUNTIME`
/// when given `onLoad`.
final class HangingNode: ProxySQLAdministering {
    let nodeName: String
    private let cancelled = Atomic<Bool>(false)
    private let onLoad: (@Sendable () async throws -> Void)?

    init(nodeName: String, onLoad: (@Sendable () async throws -> Void)? = nil) {
        self.nodeName = nodeName
        self.onLoad = onLoad
    }

    var wasCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func hang<T>() async throws -> T {
        do {
            try await Task.sleep(for: .seconds(3600))
        } catch {
            cancelled.store(true, ordering: .relaxed)
            throw error
        }
        fatalError("unreachable")
    }

    func version(logger: Logger) async throws -> ProxySQLVersion { try await hang() }
    func servers(in layer: ConfigurationLayer, hostgroups: Set<HostgroupID>, logger: Logger) async throws
        -> [BackendServer]
    { try await hang() }
    func addServer(_ server: BackendServer, logger: Logger) async throws { try await hang() as Void }
    func updateServers(_ selector: ServerSelector, set change: ServerChange, logger: Logger) async throws -> UInt64 {
        try await hang()
    }
    func removeServers(_ selector: ServerSelector, logger: Logger) async throws -> UInt64 { try await hang() }
    func loadServersToRuntime(logger: Logger) async throws {
        if let onLoad { try await onLoad() } else { try await hang() as Void }
    }
    func saveServersToDisk(logger: Logger) async throws { try await hang() as Void }
    func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async throws -> ConnectionPoolStats? {
        try await hang()
    }
    func processlist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID?, logger: Logger) async throws
        -> [ProcesslistEntry]
    { try await hang() }
    func killSession(_ session: ProxySQLSessionID, logger: Logger) async throws { try await hang() as Void }
    func variable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer, logger: Logger) async throws
        -> ProxySQLVariable
    { try await hang() }
    func setVariable(_ name: ProxySQLVariable.Name, to value: String, logger: Logger) async throws {
        try await hang() as Void
    }
    func loadVariablesToRuntime(logger: Logger) async throws { try await hang() as Void }
    func saveVariablesToDisk(logger: Logger) async throws { try await hang() as Void }
    func replicationHostgroupPairs(layer: ConfigurationLayer, logger: Logger) async throws -> [ReplicationHostgroupPair]
    { try await hang() }
}

@Suite("ProxySQLCluster")
struct ProxySQLClusterTests {
    let logger = Fixtures.logger
    let source = BackendServer.Key(hostgroup: 10, host: "source")

    func expectApply(_ session: ScriptedSQLSession, runtime: [BackendServer], affected: UInt64 = 1) {
        session.expect(
            "UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostgroup_id = 10 AND hostname = 'source' AND port = 3306",
            result: SQLResult(affectedRows: affected)
        )
        guard affected > 0 else { return }
        session.expect("LOAD MYSQL SERVERS TO RUNTIME")
        session.expect(
            .exact(Fixtures.selectServers("runtime_mysql_servers", where: "hostgroup_id = 10")),
            columns: Fixtures.serverColumns, rows: runtime.map(Fixtures.cells))
    }

    @Test("A change applied to every node succeeds and is verified on each")
    func allSucceed() async throws {
        let a = Fixtures.session(name: "proxy-a")
        let b = Fixtures.session(name: "proxy-b")
        for session in [a, b] {
            expectApply(session, runtime: [BackendServer(hostgroup: 10, host: "source", status: .offlineSoft)])
        }
        let cluster = ProxySQLCluster(nodes: [ProxySQLAdminClient(session: a), ProxySQLAdminClient(session: b)])
        let result = await cluster.apply([IntendedBackendState(key: source, status: .offlineSoft)], logger: logger)
        #expect(result.isCompleteSuccess)
        #expect(result.succeededNodes == ["proxy-a", "proxy-b"])
        #expect(try result.get().allSatisfy(\.isSatisfied))
        try a.verifyAllConsumed()
        try b.verifyAllConsumed()
    }

    @Test("A partial failure is reported per node: missing row, failed verification, refused statement")
    func partialFailure() async throws {
        let good = Fixtures.session(name: "proxy-a")
        expectApply(good, runtime: [BackendServer(hostgroup: 10, host: "source", status: .offlineSoft)])
        let missing = Fixtures.session(name: "proxy-b")
        expectApply(missing, runtime: [], affected: 0)
        let stale = Fixtures.session(name: "proxy-c")
        expectApply(stale, runtime: [BackendServer(hostgroup: 10, host: "source", status: .online)])
        let broken = Fixtures.session(name: "proxy-d")
        broken.expect(
            .prefix("UPDATE mysql_servers"), reply: .error(Fixtures.adminFailure("no such table: mysql_servers")))

        let cluster = ProxySQLCluster(nodes: [good, missing, stale, broken].map { ProxySQLAdminClient(session: $0) })
        let result = await cluster.apply([IntendedBackendState(key: source, status: .offlineSoft)], logger: logger)

        #expect(!result.isCompleteSuccess)
        #expect(result.succeededNodes == ["proxy-a"])
        #expect(result.failedNodes == ["proxy-b", "proxy-c", "proxy-d"])
        #expect(result[node: "proxy-b"]?.error?.code == .notFound)
        #expect(result[node: "proxy-c"]?.error?.code == .verificationFailed)
        #expect(
            result[node: "proxy-c"]?.error?.runtimeDifferences
                == [.statusMismatch(source, expected: .offlineSoft, actual: .online)])
        #expect(result[node: "proxy-d"]?.error?.code == .adminStatementFailed)
        #expect(result[node: "proxy-d"]?.error?.node == "proxy-d")

        let error = #expect(throws: ProxySQLAdminError.self) { try result.get() }
        #expect(error?.code == .partialFailure)
        #expect(error?.failedNodes == ["proxy-b", "proxy-c", "proxy-d"])
        #expect(error?.description.contains("3 of 4 node(s) failed") == true)
        for session in [good, missing, stale, broken] { try session.verifyAllConsumed() }
    }

    @Test("A hung node fails with deadlineExceeded while the others succeed; its work is cancelled")
    func deadline() async throws {
        let good = Fixtures.session(name: "proxy-a")
        good.expect("SAVE MYSQL SERVERS TO DISK")
        let hung = HangingNode(nodeName: "proxy-hung")
        let cluster = ProxySQLCluster(
            nodes: [ProxySQLAdminClient(session: good), hung], nodeDeadline: .milliseconds(50))
        let clock = ContinuousClock()
        let started = clock.now
        let result = await cluster.saveServersToDisk(logger: logger)
        #expect(clock.now - started < .seconds(10), "the hung node (3600 s) held the cluster back")
        #expect(result.succeededNodes == ["proxy-a"])
        #expect(result[node: "proxy-hung"]?.error?.code == .deadlineExceeded)
        #expect(hung.wasCancelled)
        try good.verifyAllConsumed()
    }

    @Test("Each statement bounded: a node hung on one statement fails after the statement bound, not the node deadline")
    func statementBound() async throws {
        let good = Fixtures.session(name: "proxy-a")
        good.expect("SAVE MYSQL SERVERS TO DISK")
        let hung = Fixtures.session(name: "proxy-b")
        hung.expect(.exact("SAVE MYSQL SERVERS TO DISK"), reply: .hang)
        let cluster = ProxySQLCluster(
            nodes: [
                ProxySQLAdminClient(session: good, name: "proxy-a", statementTimeout: nil),
                ProxySQLAdminClient(session: hung, name: "proxy-b", statementTimeout: nil),
            ],
            nodeDeadline: .seconds(120)
        )
        // Bounding twice keeps one bound, the last.
        let bounded = cluster.boundingEachStatement(by: .seconds(300)).boundingEachStatement(by: .milliseconds(100))
        #expect(bounded.nodeNames == ["proxy-a", "proxy-b"])
        #expect(bounded.nodeDeadline == .seconds(120))
        let clock = ContinuousClock()
        let started = clock.now
        let result = await bounded.saveServersToDisk(logger: logger)
        #expect(clock.now - started < .seconds(30), "the node deadline (120 s), not the statement bound, applied")
        #expect(result.succeededNodes == ["proxy-a"])
        let error = try #require(result[node: "proxy-b"]?.error)
        #expect(error.code == .deadlineExceeded)
        #expect(error.node == "proxy-b")
        #expect(error.message?.contains("SAVE MYSQL SERVERS TO DISK") == true)
        #expect(error.message?.contains("0.1 seconds") == true, "\(error.message ?? "")")
        try good.verifyAllConsumed()
        try hung.verifyAllConsumed()
    }

    @Test("Nodes run in parallel: three nodes that each wait for all three to start all succeed")
    func parallel() async throws {
        let started = Atomic<Int>(0)
        let barrier: @Sendable () async throws -> Void = {
            started.add(1, ordering: .relaxed)
            // Sequential execution would leave the first node waiting here until its deadline.
            while started.load(ordering: .relaxed) < 3 { try await Task.sleep(for: .milliseconds(1)) }
        }
        let cluster = ProxySQLCluster(
            nodes: ["a", "b", "c"].map { HangingNode(nodeName: $0, onLoad: barrier) },
            nodeDeadline: .seconds(10)
        )
        let result = await cluster.loadServersToRuntime(logger: logger)
        #expect(result.succeededNodes == ["a", "b", "c"])
    }

    @Test("Hung nodes all fail with deadlineExceeded")
    func allHung() async throws {
        let cluster = ProxySQLCluster(
            nodes: [HangingNode(nodeName: "a"), HangingNode(nodeName: "b")],
            nodeDeadline: .milliseconds(20)
        )
        let result = await cluster.loadServersToRuntime(logger: logger)
        #expect(result.failedNodes == ["a", "b"])
        #expect(result.failures.allSatisfy { $0.error.code == .deadlineExceeded })
    }

    @Test("Variables are set, loaded and checked in runtime on every node")
    func variables() async throws {
        let a = Fixtures.session(name: "proxy-a")
        let b = Fixtures.session(name: "proxy-b")
        for (session, live) in [(a, "0"), (b, "1")] {
            session.expect(
                "UPDATE global_variables SET variable_value = '0' WHERE variable_name = 'mysql-query_retries_on_failure'",
                result: SQLResult(affectedRows: 1)
            )
            session.expect("LOAD MYSQL VARIABLES TO RUNTIME")
            session.expect(
                .exact(
                    "SELECT variable_name, variable_value FROM runtime_global_variables WHERE variable_name = 'mysql-query_retries_on_failure'"
                ),
                columns: ["variable_name", "variable_value"], rows: [["mysql-query_retries_on_failure", live]]
            )
        }
        let cluster = ProxySQLCluster(nodes: [ProxySQLAdminClient(session: a), ProxySQLAdminClient(session: b)])
        let result = await cluster.setVariablesAndLoad([.queryRetriesOnFailure: "0"], logger: logger)
        #expect(result.succeededNodes == ["proxy-a"])
        #expect(result[node: "proxy-b"]?.error?.code == .verificationFailed)
        try a.verifyAllConsumed()
        try b.verifyAllConsumed()
    }

    @Test("Pool statistics are read from every node")
    func poolStats() async throws {
        let a = Fixtures.session(name: "proxy-a")
        let b = Fixtures.session(name: "proxy-b")
        let sql =
            "SELECT * FROM stats_mysql_connection_pool WHERE hostgroup = 10 AND srv_host = 'source' AND srv_port = 3306"
        a.expect(
            .exact(sql), columns: Fixtures.poolColumns,
            rows: [["10", "source", "3306", "OFFLINE_SOFT", "2", "0", "1", "0", "2", "9", "0", "1", "1", "1"]])
        b.expect(.exact(sql), columns: Fixtures.poolColumns, rows: [])
        let cluster = ProxySQLCluster(nodes: [ProxySQLAdminClient(session: a), ProxySQLAdminClient(session: b)])
        let result = await cluster.connectionPoolStats(for: source, logger: logger)
        let values = try result.get()
        #expect(values.map { $0?.connectionsUsed } == [2, nil])
    }

    @Test("An empty cluster succeeds vacuously")
    func empty() async throws {
        let result = await ProxySQLCluster(nodes: []).saveServersToDisk(logger: logger)
        #expect(result.isCompleteSuccess)
        #expect(result.outcomes.isEmpty)
    }
}
