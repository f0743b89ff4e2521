import CutoverTestSupport
import ProxySQLAdmin

@testable import Cutover

/// The topology the executor tests share: the source at 10.0.0.5:3306 and "Aurora" at aurora.example:3306, each the
/// writer of hostgroup 10, replicating as `repl` forward and `repl_back` in reverse.
enum ExecutorFixture {
    static let sourceEndpoint = ServerEndpoint(host: "10.0.0.5", port: 3306)
    static let targetEndpoint = ServerEndpoint(host: "aurora.example", port: 3306)
    static let sourceWriter = BackendServer.Key(hostgroup: 10, endpoint: sourceEndpoint)
    static let targetWriter = BackendServer.Key(hostgroup: 10, endpoint: targetEndpoint)

    /// The topology, with the ProxySQL nodes `proxyNodes`.
    static func topology(proxyNodes: [String] = ["p1", "p2"]) -> CutoverTopology {
        CutoverTopology(
            source: .init(writer: sourceWriter),
            target: .init(writer: targetWriter),
            proxyNodes: proxyNodes,
            sourceReplicationEndpoint: sourceEndpoint,
            targetReplicationEndpoint: targetEndpoint,
            forwardReplicationUser: "repl",
            reverseReplicationUser: "repl_back"
        )
    }

    /// A ProxySQL node in the starting state: the source writer ONLINE, the target writer OFFLINE_HARD.
    static func startingNode(_ name: String) -> RecordingProxySQLAdmin {
        RecordingProxySQLAdmin(
            nodeName: name,
            servers: [
                BackendServer(hostgroup: 10, endpoint: sourceEndpoint, status: .online),
                BackendServer(hostgroup: 10, endpoint: targetEndpoint, status: .offlineHard),
            ]
        )
    }
}
