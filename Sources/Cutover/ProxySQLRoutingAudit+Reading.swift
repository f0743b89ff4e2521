public import Logging
public import ProxySQLAdmin

extension ProxySQLRoutingAudit {
    /// Reads a ``Snapshot`` of every node (read-only: `SELECT`s on the admin interfaces). A node that cannot be
    /// read at all is a failure; one whose query rules or users cannot be read gets a snapshot without them.
    public static func read(
        proxies: ProxySQLCluster, topology: CutoverTopology, operation: CutoverOperation, logger: Logger
    ) async -> ClusterResult<Snapshot> {
        let oldWriter = topology.routing(operation.from).writer.endpoint
        return await proxies.forEachNode("read routing configuration", logger: logger) { node, logger in
            let configured = try await node.servers(in: .configured, hostgroups: [], logger: logger)
            let runtime = try await node.servers(in: .runtime, hostgroups: [], logger: logger)
            var routing: ProxySQLRoutingConfiguration?
            var routingError: String?
            do {
                routing = try await node.routingConfiguration(logger: logger)
            } catch {
                routingError = "\(error)"
            }
            var pairs: [String] = []
            if operation.movesWriter {
                let exposure = try await node.monitorExposure(of: oldWriter, layers: ConfigurationLayer.allCases, logger: logger)
                pairs = exposure.map { "\($0)" }
            }
            return Snapshot(
                node: node.nodeName, configured: configured, runtime: runtime, routing: routing,
                routingError: routingError, oldWriterPairs: pairs)
        }
    }

    /// The guards' part: the blocking findings of every node, and a reason per node that could not be read.
    public static func blockingReasons(
        proxies: ProxySQLCluster, topology: CutoverTopology, operation: CutoverOperation, policy: CutoverPolicy,
        logger: Logger
    ) async -> [BlockingReason] {
        let snapshots = await read(proxies: proxies, topology: topology, operation: operation, logger: logger)
        return blockingReasons(snapshots, topology: topology, operation: operation, policy: policy)
    }

    /// The guards' decision on `snapshots` (pure): the blocking findings of every node that was read, and a reason
    /// per node that could not be.
    static func blockingReasons(
        _ snapshots: ClusterResult<Snapshot>, topology: CutoverTopology, operation: CutoverOperation,
        policy: CutoverPolicy
    ) -> [BlockingReason] {
        var reasons: [BlockingReason] = []
        for (_, snapshot) in snapshots.successes {
            reasons += findings(snapshot, topology: topology, operation: operation, policy: policy)
                .filter(\.blocks).map(\.reason)
        }
        for failure in snapshots.failures {
            reasons.append(BlockingReason(
                check: "proxysql.staged-rows",
                message: "\(failure.node): cannot read mysql_servers and runtime_mysql_servers: \(failure.error)",
                remedy: "check that \(failure.node) answers on its admin port with the configured account"
            ))
        }
        return reasons
    }
}
