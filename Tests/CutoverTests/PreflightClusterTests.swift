@testable import Cutover
import ProxySQLAdmin
import Testing

/// Issue #16 item 2: the verdict on ProxySQL Cluster peers, as a transcript of answers → findings.
@Suite("Preflight: ProxySQL Cluster members")
struct PreflightClusterTests {
    typealias Answer = Preflight.ClusterAnswer

    func outcome(_ answers: [Answer]) -> Preflight.Outcome {
        var findings = Preflight.Findings()
        Preflight.judgeClusterMembers(answers, findings: &findings)
        return findings.outcome(ifEmpty: .pass("empty"))
    }

    @Test("no node lists a peer: nothing to say")
    func noCluster() {
        let result = outcome([
            Answer(node: "a", adminEndpoint: "10.0.0.1:6032", peers: []),
            Answer(node: "b", adminEndpoint: "10.0.0.2:6032", peers: []),
        ])
        #expect(result.status == .pass)
        #expect(result.detail == "empty")
    }

    @Test("every listed peer configured (host without case, itself included): pass, naming the clustered nodes")
    func everyPeerConfigured() {
        let peers = [ProxySQLClusterPeer(host: "PROXY-A", port: 6032), ProxySQLClusterPeer(host: "proxy-b", port: 6032)]
        let result = outcome([
            Answer(node: "a", adminEndpoint: "proxy-a:6032", peers: peers),
            Answer(node: "b", adminEndpoint: "proxy-b:6032", peers: peers),
        ])
        #expect(result.status == .pass)
        #expect(result.detail.contains("a, b"))
    }

    @Test("a listed peer missing from the configuration: refused, naming the node and the peer")
    func missingPeer() {
        let peers = [
            ProxySQLClusterPeer(host: "proxy-a", port: 6032), ProxySQLClusterPeer(host: "proxy-c", port: 6032),
        ]
        let result = outcome([
            Answer(node: "a", adminEndpoint: "proxy-a:6032", peers: peers),
            Answer(node: "b", adminEndpoint: "proxy-b:6032", peers: []),
        ])
        #expect(result.status == .fail)
        #expect(result.detail.contains("a is in a ProxySQL Cluster with proxy-c:6032"))
        #expect(result.remedy?.contains("proxysql.nodes") == true)
    }

    @Test("the same peer on another port is another peer")
    func otherPort() {
        let result = outcome([
            Answer(node: "a", adminEndpoint: "proxy-a:6032", peers: [ProxySQLClusterPeer(host: "proxy-a", port: 6033)])
        ])
        #expect(result.status == .fail)
    }

    @Test("a node whose client cannot read proxysql_servers is not checked, and says so")
    func notReadable() {
        let result = outcome([Answer(node: "fake", adminEndpoint: "fake", peers: nil)])
        #expect(result.status == .pass)
        #expect(result.detail.contains("not checked"))
    }
}
