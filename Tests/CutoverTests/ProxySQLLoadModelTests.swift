import CutoverTestSupport
import Logging
import ProxySQLAdmin
import Testing

@testable import Cutover

/// One model of ProxySQL's `LOAD MYSQL SERVERS TO RUNTIME` (issue #17): the configured rows go to runtime minus
/// `OFFLINE_HARD`, and the dry run's simulated node and the test fake both load through it, so the same changes
/// leave the same runtime rows in both.
@Suite struct ProxySQLLoadModelTests {
    let logger = Logger(label: "load-model-tests")
    static let writer = BackendServer(hostgroup: 10, endpoint: ServerEndpoint(host: "source", port: 3306))
    static let target = BackendServer(
        hostgroup: 10, endpoint: ServerEndpoint(host: "aurora", port: 3306), status: .offlineHard)
    static let reader = BackendServer(
        hostgroup: 11, endpoint: ServerEndpoint(host: "aurora", port: 3306), status: .offlineSoft)
    static let shunned = BackendServer(
        hostgroup: 11, endpoint: ServerEndpoint(host: "replica", port: 3306), status: .shunned)

    @Test func loadKeepsEveryRowButOfflineHardInOrder() {
        let configured = [Self.writer, Self.target, Self.reader, Self.shunned]
        #expect(ProxySQLLoadModel.runtimeServers(loading: configured) == [Self.writer, Self.reader, Self.shunned])
        #expect(ProxySQLLoadModel.runtimeServers(loading: []) == [])
    }

    /// The same switch on both: the old writer OFFLINE_HARD, the new one ONLINE, one LOAD each time.
    @Test func dryRunNodeAndFakeLoadTheSameRuntime() async throws {
        let servers = [Self.writer, Self.target, Self.reader]
        let fake = RecordingProxySQLAdmin(servers: servers)
        let node = DryRunProxySQLNode(name: "p", state: .init(servers: servers), log: DryRunLog())
        let steps: [(BackendStatus, BackendServer.Key)] = [
            (.offlineSoft, Self.writer.key), (.offlineHard, Self.writer.key), (.online, Self.target.key),
        ]
        for admin in [fake, node] as [any ProxySQLAdministering] {
            for (status, key) in steps {
                try await admin.setStatus(status, of: key, logger: logger)
                try await admin.loadServersToRuntime(logger: logger)
            }
        }
        let fakeRuntime = try await fake.servers(in: .runtime, hostgroups: [10, 11], logger: logger)
        let nodeRuntime = try await node.servers(in: .runtime, hostgroups: [10, 11], logger: logger)
        let expected = [
            BackendServer(hostgroup: 10, endpoint: ServerEndpoint(host: "aurora", port: 3306), status: .online),
            Self.reader,
        ]
        #expect(fakeRuntime.sorted { $0.key < $1.key } == expected.sorted { $0.key < $1.key })
        #expect(nodeRuntime.sorted { $0.key < $1.key } == expected.sorted { $0.key < $1.key })
    }
}
