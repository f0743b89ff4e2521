import Cutover
import ProxySQLAdmin
import Testing

@Suite("Finish: guards")
struct FinishGuardTests {
    static let source = ServerEndpoint(host: "10.0.0.5", port: 3306)
    static let target = ServerEndpoint(host: "aurora.example", port: 3306)
    static let topology = CutoverTopology(
        source: .init(writer: .init(hostgroup: 10, endpoint: source), reader: .init(hostgroup: 11, endpoint: source)),
        target: .init(writer: .init(hostgroup: 10, endpoint: target), reader: .init(hostgroup: 11, endpoint: target)),
        proxyNodes: ["p1", "p2"], sourceReplicationEndpoint: source, targetReplicationEndpoint: target,
        forwardReplicationUser: "repl_f", reverseReplicationUser: "repl_r", applicationUsers: ["app"])

    static func row(_ hostgroup: HostgroupID, _ endpoint: ServerEndpoint, _ status: BackendStatus) -> BackendServer {
        BackendServer(hostgroup: hostgroup, endpoint: endpoint, status: status)
    }

    static let migrated = [row(10, target, .online), row(11, target, .online)]

    static func facts(
        _ nodes: [Finish.NodeFacts] = [.init(name: "p1", runtimeRows: migrated, sourceConnectionsUsed: 0), .init(name: "p2", runtimeRows: migrated, sourceConnectionsUsed: 0)],
        reverse: Finish.ReverseState = .caughtUp("executed Aurora's mysql-bin-changelog.000002:400")
    ) -> Finish.Facts {
        Finish.Facts(topology: topology, nodes: nodes, reverse: reverse, forwardConfigured: false)
    }

    @Test func aCompletedMigrationMayFinish() {
        #expect(Finish.blockingReasons(Self.facts()).isEmpty)
    }

    @Test func aNodeStillWritingToTheSourceBlocks() {
        let reasons = Finish.blockingReasons(Self.facts([
            .init(name: "p1", runtimeRows: Self.migrated, sourceConnectionsUsed: 0),
            .init(name: "p2", runtimeRows: [Self.row(10, Self.source, .online), Self.row(11, Self.target, .online)], sourceConnectionsUsed: 3),
        ]))
        #expect(reasons.map(\.check).sorted() == ["finish.sessions", "finish.writer", "finish.writer"])
        #expect(reasons.allSatisfy { $0.message.contains("p2") })
    }

    @Test func readsOnTheSourceBlockWithTheReaderRemedy() {
        let reasons = Finish.blockingReasons(Self.facts([
            .init(name: "p1", runtimeRows: Self.migrated + [Self.row(11, Self.source, .offlineSoft)], sourceConnectionsUsed: 0),
            .init(name: "p2", runtimeRows: Self.migrated, sourceConnectionsUsed: 0),
        ]))
        #expect(reasons.map(\.check) == ["finish.reader"])
        #expect(reasons[0].remedy.contains("cutover readers"))
    }

    @Test(arguments: [
        Finish.ReverseState.behind("at 100, Aurora at 400"), .broken("IO thread stopped"), .absent,
    ])
    func reverseReplicationMustHaveCaughtUp(_ reverse: Finish.ReverseState) {
        #expect(Finish.blockingReasons(Self.facts(reverse: reverse)).map(\.check) == ["finish.reverse"])
    }

    @Test func anUnreadableNodeBlocks() {
        let reasons = Finish.blockingReasons(Self.facts([
            .init(name: "p1", runtimeRows: Self.migrated, sourceConnectionsUsed: 0),
            .init(name: "p2", runtimeRows: [], sourceConnectionsUsed: 0, error: "connection refused"),
        ]))
        #expect(reasons.map(\.check) == ["finish.proxysql"])
    }

    @Test func theStepsDeleteBothRowsOnEveryNodeThenLoadAndSave() {
        let steps = Finish.plannedSteps(topology: Self.topology, forwardReset: "CALL mysql.rds_reset_external_source")
        #expect(steps.first?.endpoint == "source")
        #expect(steps.filter { $0.endpoint == "p1" }.map(\.action) == [
            "DELETE FROM mysql_servers WHERE hostgroup_id = 10 AND hostname = '10.0.0.5' AND port = 3306",
            "DELETE FROM mysql_servers WHERE hostgroup_id = 11 AND hostname = '10.0.0.5' AND port = 3306",
            "LOAD MYSQL SERVERS TO RUNTIME", "SAVE MYSQL SERVERS TO DISK",
        ])
        #expect(steps.last?.endpoint == "target")
        #expect(Finish.noFailbackWarning.contains("no failback"))
    }
}
