import Cutover
import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB
import ProxySQLAdmin
import Testing

extension FaultTests {
    /// Issue #16: a fleet of 16 ProxySQL nodes, the load spread over 15 of them, and the tool cut off from the 16th
    /// (its data plane still serving) before and after the point of no return. The per-node deadline decides; never
    /// two writers on any node (the scenario's routing sampler reads all 16), nothing acknowledged lost.
    @Suite("ProxySQL fleet of 16 nodes, one dead", .faultBed(fleetOf: 16))
    struct ProxySQLFleet {
        let logger = Logger(label: "fault.fleet", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test("the bed is a fleet: 16 nodes in the topology and the cluster, the load over 15 writer ports")
        func fleetShape() async throws {
            guard let bed = try FaultBed.available() else { return }
            #expect(bed.proxyNodes.count == 16)
            #expect(Set(bed.proxyNodes.map(\.name)).count == 16)
            #expect(bed.topology.proxyNodes == bed.proxyNodes.map(\.name))
            #expect(bed.rehearsal.writerEndpoints.count == 15)
            #expect(Set(bed.rehearsal.writerEndpoints.map { "\($0.endpoint)" }).count == 15)
            let (environment, close) = try await bed.makeEnvironment(logger: logger)
            #expect(environment.proxies.nodeNames == bed.proxyNodes.map(\.name))
            await close()
        }

        @Test("one node of 16 dead before the point of no return: the 15 others rolled back, the dead one named")
        func deadBeforeThePointOfNoReturn() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let result = try await FaultScenario.run(
                .secondNodeUnreachable(
                    "16 nodes: the last unreachable before OFFLINE_SOFT", before: .offlineSoftOld,
                    expected: .rolledBack, checkReplicationAfter: false, on: bed),
                on: bed
            )
            guard case .rolledBack(_, let failures) = result.report.outcome else { return }
            #expect(failures.contains { $0.endpoint == bed.switchableNodeName }, "\(failures)")
            #expect(failures.allSatisfy { $0.endpoint == bed.switchableNodeName }, "\(failures)")
            try await bed.expectStartingState("after")
        }

        @Test("one node of 16 dead at the new writer's ONLINE: past the point of no return; 15 route to the new writer, the dead one to nobody; resume finishes")
        func deadAfterThePointOfNoReturn() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let journal = TemporaryJournal("fleet-online")
            defer { journal.cleanup() }
            let result = try await FaultScenario.run(
                .secondNodeUnreachable(
                    "16 nodes: the last unreachable at ONLINE of the new writer", before: .onlineNew,
                    expected: .stoppedAfterPointOfNoReturn, checkReplicationAfter: false, journalPath: journal.path,
                    on: bed),
                on: bed
            )
            guard case .stoppedAfterPointOfNoReturn(_, let failures, let remaining) = result.report.outcome else {
                return
            }
            #expect(remaining.first == "onlineNew", "\(remaining)")
            #expect(failures.allSatisfy { $0.endpoint == bed.switchableNodeName }, "\(failures)")
            for node in bed.proxyNodes {
                let writers = try await bed.runtimeWriters(node: node.configuration)
                if node.name == bed.switchableNodeName {
                    #expect(writers == [], "\(node.name): \(writers)")
                } else {
                    #expect(writers == [bed.targetEndpoint], "\(node.name): \(writers)")
                }
            }
            try await bed.resumeAndFailBack(
                journalPath: journal.path, matrixRow: "16 nodes, the dead one reachable again, `resume`", logger: logger)
            try await bed.expectStartingState("after failback")
        }
    }
}
