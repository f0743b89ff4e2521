import Logging
import ProxySQLAdmin

// ProxySQL Cluster in preflight (issue #16, ADR 0012): every peer a node lists in `proxysql_servers` must be one of
// the configured nodes, or the cut-over changes only part of the cluster and the rest follows by sync, seconds
// later, or never (an equal-epoch conflict).
extension Preflight {
    static let clusterCheck = Definition(
        id: "proxysql.cluster-members",
        title: "ProxySQL Cluster peers (proxysql_servers) all in the configuration",
        remedyOnError: { _ in proxyAdminRemedy + "; the admin account must read runtime_proxysql_servers" },
        check: Preflight.checkClusterMembers
    )

    /// What one node said about its cluster.
    struct ClusterAnswer: Sendable {
        var node: String
        /// `host:port` of its admin interface as configured.
        var adminEndpoint: String
        /// Its `runtime_proxysql_servers`; nil when it cannot be read through this client.
        var peers: [ProxySQLClusterPeer]?
    }

    /// The verdict: a listed peer that is not a configured node (by `host:port`, host compared without case) is a
    /// refusal; a cluster whose peers are all configured passes with a note on how it is switched.
    static func judgeClusterMembers(_ answers: [ClusterAnswer], findings: inout Findings) {
        let configured = Set(answers.map { $0.adminEndpoint.lowercased() })
        var clustered: [String] = []
        for answer in answers {
            guard let peers = answer.peers else {
                // Only test doubles of a node lack the reading (every real client has it).
                findings.pass("\(answer.node): proxysql_servers not readable through this client; not checked")
                continue
            }
            guard !peers.isEmpty else { continue }
            clustered.append(answer.node)
            let missing = peers.filter { !configured.contains($0.description.lowercased()) }
            if !missing.isEmpty {
                findings.fail(
                    "\(answer.node) is in a ProxySQL Cluster with \(missing.map(\.description).joined(separator: ", ")), "
                        + "not in the configuration: the cut-over would switch only part of the cluster, and the rest "
                        + "would keep routing to the old writer until its sync pulls the change "
                        + "(admin-cluster_mysql_servers_diffs_before_sync checks later), or never on an equal-epoch conflict",
                    remedy: "list every peer of proxysql_servers under proxysql.nodes, with the same host and admin port "
                        + "(see Documentation/adr/0012-proxysql-cluster-and-fleets.md)"
                )
            }
        }
        if !clustered.isEmpty {
            findings.pass(
                "ProxySQL Cluster: \(clustered.joined(separator: ", ")) list peers, all configured; every switch is "
                    + "applied to each node and verified on each, so the sync finds equal checksums and pulls nothing"
            )
        }
    }

    func checkClusterMembers(_ logger: Logger) async throws -> Outcome {
        let result = await proxies.forEachNode("read proxysql_servers", logger: logger) { node, logger -> ClusterAnswer in
            guard let reader = node as? any ProxySQLClusterReading, reader.canReadClusterPeers else {
                return ClusterAnswer(node: node.nodeName, adminEndpoint: node.nodeName, peers: nil)
            }
            return ClusterAnswer(
                node: node.nodeName,
                adminEndpoint: reader.adminEndpointDescription,
                peers: try await reader.clusterPeers(logger: logger)
            )
        }
        var findings = Findings()
        Self.judgeClusterMembers(result.successes.map(\.value), findings: &findings)
        for failure in result.failures {
            findings.fail("\(failure.node): \(failure.error)", remedy: Self.proxyAdminRemedy)
        }
        return findings.outcome(ifEmpty: .pass("no node is in a ProxySQL Cluster (proxysql_servers empty)"))
    }
}
