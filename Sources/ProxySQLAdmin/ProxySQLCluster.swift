public import Logging

/// Several ProxySQL nodes fronting the same application: a change is applied to each, in parallel, and
/// verified on each, with a deadline per node.
///
/// A partial failure is data: every operation returns a ``ClusterResult`` listing, per node, its value or its
/// error. The cluster does not roll back the nodes that succeeded; the caller decides (a cut-over rolls back
/// every node before its point of no return).
///
/// ```swift
/// let cluster = ProxySQLCluster(nodes: [adminA, adminB], nodeDeadline: .seconds(2))
/// let result = await cluster.apply([IntendedBackendState(key: sourceWriter, status: .offlineSoft)], logger: logger)
/// if !result.isCompleteSuccess { /* result.failures: [(node, error)] */ }
/// ```
public struct ProxySQLCluster: Sendable {
    /// The nodes, in the order results are reported.
    public let nodes: [any ProxySQLAdministering]
    /// How long each node may take for one cluster operation; past it the node's work is cancelled and the
    /// node reported as ``ProxySQLAdminError/Code/deadlineExceeded``.
    public let nodeDeadline: Duration
    /// Sleeps on the cluster's clock (deadlines).
    let sleep: @Sendable (Duration) async throws -> Void

    /// Creates a cluster that measures deadlines on the continuous clock.
    ///
    /// - Parameters:
    ///   - nodes: one client per ProxySQL node; their ``ProxySQLAdministering/nodeName`` should be distinct.
    ///   - nodeDeadline: how long each node may take for one cluster operation.
    public init(nodes: [any ProxySQLAdministering], nodeDeadline: Duration = .seconds(5)) {
        self.init(nodes: nodes, nodeDeadline: nodeDeadline, clock: ContinuousClock())
    }

    /// Creates a cluster that measures deadlines on `clock` (tests pass a manual clock).
    public init<C: Clock>(nodes: [any ProxySQLAdministering], nodeDeadline: Duration, clock: C)
    where C.Duration == Duration {
        self.nodes = nodes
        self.nodeDeadline = nodeDeadline
        self.sleep = { duration in try await clock.sleep(for: duration) }
    }

    init(nodes: [any ProxySQLAdministering], nodeDeadline: Duration, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.nodes = nodes
        self.nodeDeadline = nodeDeadline
        self.sleep = sleep
    }

    /// The node names, in order.
    public var nodeNames: [String] { nodes.map(\.nodeName) }

    /// Runs `operation` on every node in parallel, each under ``nodeDeadline``, and reports each node's outcome.
    ///
    /// The deadline cancels the node's task; a ``ProxySQLAdminClient`` on a `MariaDBConnection` then interrupts
    /// its statement. An operation that ignores cancellation delays the result until it returns, but is still
    /// reported as ``ProxySQLAdminError/Code/deadlineExceeded``.
    ///
    /// - Parameters:
    ///   - operationName: a short constant name for logs (`set status`).
    ///   - logger: passed to each node's operation, with `proxysql.node` set.
    ///   - operation: the work for one node.
    public func forEachNode<Value: Sendable>(
        _ operationName: String,
        logger: Logger,
        _ operation: @escaping @Sendable (any ProxySQLAdministering, Logger) async throws -> Value
    ) async -> ClusterResult<Value> {
        let deadline = nodeDeadline
        let sleep = sleep
        var results = [Result<Value, ProxySQLAdminError>?](repeating: nil, count: nodes.count)
        await withTaskGroup(of: (Int, Result<Value, ProxySQLAdminError>).self) { group in
            for (index, node) in nodes.enumerated() {
                var nodeLogger = logger
                nodeLogger[metadataKey: "proxysql.node"] = "\(node.nodeName)"
                group.addTask { [nodeLogger] in
                    let result = await Self.run(node: node, deadline: deadline, sleep: sleep) {
                        try await operation(node, nodeLogger)
                    }
                    return (index, result)
                }
            }
            for await (index, result) in group {
                results[index] = result
            }
        }
        let outcomes = zip(nodes, results).map { node, result in
            ClusterResult.NodeOutcome(node: node.nodeName, result: result!)
        }
        let result = ClusterResult(outcomes: outcomes)
        logger.debug(
            "proxysql cluster operation finished",
            metadata: [
                "proxysql.operation": "\(operationName)",
                "proxysql.nodes_succeeded": "\(result.succeededNodes.count)",
                "proxysql.nodes_failed": "\(result.failedNodes.joined(separator: ","))",
            ]
        )
        return result
    }

    /// One node's work raced against its deadline.
    private static func run<Value: Sendable>(
        node: any ProxySQLAdministering,
        deadline: Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void,
        _ work: @escaping @Sendable () async throws -> Value
    ) async -> Result<Value, ProxySQLAdminError> {
        await withTaskGroup(of: Result<Value, ProxySQLAdminError>?.self) { group in
            group.addTask {
                do {
                    return .success(try await work())
                } catch {
                    return .failure(ProxySQLAdminError(classifying: error, node: node.nodeName))
                }
            }
            group.addTask {
                do {
                    try await sleep(deadline)
                } catch {
                    return nil  // cancelled: the work finished first, or the whole operation was cancelled
                }
                return .failure(
                    ProxySQLAdminError(
                        code: .deadlineExceeded,
                        node: node.nodeName,
                        message: "the node did not finish within \(deadline)"
                    )
                )
            }
            var outcome: Result<Value, ProxySQLAdminError>?
            while outcome == nil, let next = await group.next() {
                outcome = next
            }
            group.cancelAll()
            return outcome
                ?? .failure(ProxySQLAdminError(code: .cancelled, node: node.nodeName, message: "cancelled"))
        }
    }

    // MARK: Cut-over operations

    /// Applies `intended` to every node and verifies it there: per node, sets each server's status (and the
    /// weight, comment and max_connections when given) in list order, loads the servers to runtime, and
    /// compares `runtime_mysql_servers` with `intended` (``BackendStatus/offlineHard`` = absent).
    ///
    /// A node whose runtime differs fails with ``ProxySQLAdminError/Code/verificationFailed`` and its
    /// ``ProxySQLAdminError/runtimeDifferences``; a node that succeeds carries its verification.
    public func apply(
        _ intended: [IntendedBackendState],
        exhaustiveHostgroups: Set<HostgroupID> = [],
        logger: Logger
    ) async -> ClusterResult<RuntimeVerification> {
        await forEachNode("apply server states", logger: logger) { node, logger in
            for state in intended {
                let change = ServerChange(
                    status: state.status,
                    weight: state.weight,
                    comment: state.comment,
                    maxConnections: state.maxConnections
                )
                try await node.updateServers(.key(state.key), set: change, logger: logger)
            }
            try await node.loadServersToRuntime(logger: logger)
            return try await node.requireRuntime(intended, exhaustiveHostgroups: exhaustiveHostgroups, logger: logger)
        }
    }

    /// Verifies the runtime of every node against `intended` without changing anything; a node whose runtime
    /// differs fails with ``ProxySQLAdminError/Code/verificationFailed``.
    public func verifyRuntime(
        _ intended: [IntendedBackendState],
        exhaustiveHostgroups: Set<HostgroupID> = [],
        logger: Logger
    ) async -> ClusterResult<RuntimeVerification> {
        await forEachNode("verify runtime", logger: logger) { node, logger in
            try await node.requireRuntime(intended, exhaustiveHostgroups: exhaustiveHostgroups, logger: logger)
        }
    }

    /// `LOAD MYSQL SERVERS TO RUNTIME` on every node.
    public func loadServersToRuntime(logger: Logger) async -> ClusterResult<Void> {
        await forEachNode("load servers to runtime", logger: logger) { node, logger in
            try await node.loadServersToRuntime(logger: logger)
        }
    }

    /// `SAVE MYSQL SERVERS TO DISK` on every node.
    public func saveServersToDisk(logger: Logger) async -> ClusterResult<Void> {
        await forEachNode("save servers to disk", logger: logger) { node, logger in
            try await node.saveServersToDisk(logger: logger)
        }
    }

    /// Reads the variables on every node (for restoring them later), from **runtime** (`runtime_global_variables`):
    /// the value ProxySQL is using, which is the one to put back. The in-memory `global_variables` may hold a value
    /// staged but never loaded; restoring that would change the running configuration.
    public func variables(_ names: [ProxySQLVariable.Name], logger: Logger) async -> ClusterResult<[ProxySQLVariable]> {
        await forEachNode("read variables", logger: logger) { node, logger in
            var values: [ProxySQLVariable] = []
            for name in names { values.append(try await node.variable(name, layer: .runtime, logger: logger)) }
            return values
        }
    }

    /// Sets variables and loads them to runtime on every node, then checks `runtime_global_variables` holds
    /// the new values, compared with ``ProxySQLVariable/valuesMatch(_:_:)``
    /// (``ProxySQLAdminError/Code/verificationFailed`` otherwise: ProxySQL ignores a value it refuses on LOAD).
    public func setVariablesAndLoad(_ values: [ProxySQLVariable.Name: String], logger: Logger) async
        -> ClusterResult<Void>
    {
        await forEachNode("set variables", logger: logger) { node, logger in
            try await node.setVariablesAndLoad(values, logger: logger)
            for (name, expected) in values.sorted(by: { $0.key < $1.key }) {
                let live = try await node.variable(name, layer: .runtime, logger: logger)
                guard ProxySQLVariable.valuesMatch(live.value, expected) else {
                    throw ProxySQLAdminError(
                        code: .verificationFailed,
                        node: node.nodeName,
                        message: "a variable did not reach runtime",
                        detail: "\(name): runtime \(live.value.debugDescription), expected \(expected.debugDescription)"
                    )
                }
            }
        }
    }

    /// `SAVE MYSQL VARIABLES TO DISK` on every node.
    public func saveVariablesToDisk(logger: Logger) async -> ClusterResult<Void> {
        await forEachNode("save variables to disk", logger: logger) { node, logger in
            try await node.saveVariablesToDisk(logger: logger)
        }
    }

    /// The pool statistics of one server on every node (nil where the node has no row for it).
    public func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async
        -> ClusterResult<ConnectionPoolStats?>
    {
        await forEachNode("read connection pool", logger: logger) { node, logger in
            try await node.connectionPoolStats(for: server, logger: logger)
        }
    }

    /// The sessions holding a backend connection to one server, on every node.
    public func processlist(attachedTo server: BackendServer.Key, logger: Logger) async
        -> ClusterResult<[ProcesslistEntry]>
    {
        await forEachNode("read processlist", logger: logger) { node, logger in
            try await node.processlist(attachedTo: server.endpoint, hostgroup: server.hostgroup, logger: logger)
        }
    }

    /// The monitor exposure of `endpoint` on every node.
    public func monitorExposure(of endpoint: ServerEndpoint, logger: Logger) async -> ClusterResult<[MonitorExposure]> {
        await forEachNode("read monitor exposure", logger: logger) { node, logger in
            try await node.monitorExposure(of: endpoint, layers: [.configured, .runtime], logger: logger)
        }
    }
}
