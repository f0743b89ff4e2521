import Logging

/// One ProxySQL node whose every admin call is bounded by a deadline: past it the call is cancelled (a
/// ``ProxySQLAdminClient`` on a `MariaDBConnection` then interrupts its statement) and fails with
/// ``ProxySQLAdminError/Code/deadlineExceeded``.
///
/// Each call sends one statement (a status change, a LOAD, a SAVE, a runtime read, a processlist read); the monitor
/// exposure reads up to four (the pairs and the servers of two layers) and gets four times the bound. Built by
/// ``ProxySQLCluster/boundingEachStatement(by:)``, so that a cut-over's policy bounds every admin statement it
/// sends, whoever created the clients.
struct StatementBoundedNode: ProxySQLAdministering {
    /// The node the calls go to.
    let base: any ProxySQLAdministering
    /// The bound on one call.
    let timeout: Duration
    let sleep: @Sendable (Duration) async throws -> Void

    var nodeName: String { base.nodeName }

    /// Runs `work`, raced against `limit`; the loser is cancelled.
    private func bounded<Value: Sendable>(
        _ what: String,
        limit: Duration? = nil,
        _ work: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let limit = limit ?? timeout
        let sleep = sleep
        let node = nodeName
        let outcome: Result<Value, any Error> = await withTaskGroup(of: Result<Value, any Error>?.self) { group in
            group.addTask {
                do {
                    return .success(try await work())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                do {
                    try await sleep(limit)
                } catch {
                    return nil  // cancelled: the work finished first, or the caller was cancelled
                }
                return .failure(
                    ProxySQLAdminError(
                        code: .deadlineExceeded,
                        node: node,
                        message: "an admin statement (\(what)) did not finish within \(limit)"
                    )
                )
            }
            var outcome: Result<Value, any Error>?
            while outcome == nil, let next = await group.next() {
                outcome = next
            }
            group.cancelAll()
            return outcome
                ?? .failure(ProxySQLAdminError(code: .cancelled, node: node, message: "cancelled"))
        }
        return try outcome.get()
    }

    func version(logger: Logger) async throws -> ProxySQLVersion {
        try await bounded("version") { try await base.version(logger: logger) }
    }

    func servers(in layer: ConfigurationLayer, hostgroups: Set<HostgroupID>, logger: Logger) async throws
        -> [BackendServer]
    {
        try await bounded("read \(layer) servers") {
            try await base.servers(in: layer, hostgroups: hostgroups, logger: logger)
        }
    }

    func addServer(_ server: BackendServer, logger: Logger) async throws {
        try await bounded("insert server") { try await base.addServer(server, logger: logger) }
    }

    func updateServers(_ selector: ServerSelector, set change: ServerChange, logger: Logger) async throws -> UInt64 {
        try await bounded("update servers") { try await base.updateServers(selector, set: change, logger: logger) }
    }

    func setStatus(_ status: BackendStatus, of server: BackendServer.Key, logger: Logger) async throws {
        try await bounded("set status") { try await base.setStatus(status, of: server, logger: logger) }
    }

    func removeServers(_ selector: ServerSelector, logger: Logger) async throws -> UInt64 {
        try await bounded("delete servers") { try await base.removeServers(selector, logger: logger) }
    }

    func loadServersToRuntime(logger: Logger) async throws {
        try await bounded("LOAD MYSQL SERVERS TO RUNTIME") { try await base.loadServersToRuntime(logger: logger) }
    }

    func saveServersToDisk(logger: Logger) async throws {
        try await bounded("SAVE MYSQL SERVERS TO DISK") { try await base.saveServersToDisk(logger: logger) }
    }

    func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async throws -> ConnectionPoolStats? {
        try await bounded("read connection pool") { try await base.connectionPoolStats(for: server, logger: logger) }
    }

    func processlist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID?, logger: Logger) async throws
        -> [ProcesslistEntry]
    {
        try await bounded("read processlist") {
            try await base.processlist(attachedTo: endpoint, hostgroup: hostgroup, logger: logger)
        }
    }

    func killSession(_ session: ProxySQLSessionID, logger: Logger) async throws {
        try await bounded("KILL CONNECTION") { try await base.killSession(session, logger: logger) }
    }

    func variable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer, logger: Logger) async throws
        -> ProxySQLVariable
    {
        try await bounded("read variable") { try await base.variable(name, layer: layer, logger: logger) }
    }

    func setVariable(_ name: ProxySQLVariable.Name, to value: String, logger: Logger) async throws {
        try await bounded("set variable") { try await base.setVariable(name, to: value, logger: logger) }
    }

    func loadVariablesToRuntime(logger: Logger) async throws {
        try await bounded("LOAD MYSQL VARIABLES TO RUNTIME") { try await base.loadVariablesToRuntime(logger: logger) }
    }

    func saveVariablesToDisk(logger: Logger) async throws {
        try await bounded("SAVE MYSQL VARIABLES TO DISK") { try await base.saveVariablesToDisk(logger: logger) }
    }

    func replicationHostgroupPairs(layer: ConfigurationLayer, logger: Logger) async throws
        -> [ReplicationHostgroupPair]
    {
        try await bounded("read replication hostgroups") {
            try await base.replicationHostgroupPairs(layer: layer, logger: logger)
        }
    }

    func monitorExposure(of endpoint: ServerEndpoint, layers: [ConfigurationLayer], logger: Logger) async throws
        -> [MonitorExposure]
    {
        try await bounded("read monitor exposure", limit: timeout * 4) {
            try await base.monitorExposure(of: endpoint, layers: layers, logger: logger)
        }
    }

    func routingConfiguration(logger: Logger) async throws -> ProxySQLRoutingConfiguration {
        // Eight statements (rules, users, three tables in two layers).
        try await bounded("read query rules, users and monitor hostgroups", limit: timeout * 8) {
            try await base.routingConfiguration(logger: logger)
        }
    }

    func monitorChecks(of endpoint: ServerEndpoint, kind: MonitorCheck.Kind, limit: Int, logger: Logger) async throws
        -> [MonitorCheck]
    {
        try await bounded("read monitor log") {
            try await base.monitorChecks(of: endpoint, kind: kind, limit: limit, logger: logger)
        }
    }

    func verifyRuntime(_ intended: [IntendedBackendState], exhaustiveHostgroups: Set<HostgroupID>, logger: Logger)
        async throws -> RuntimeVerification
    {
        try await bounded("read runtime servers") {
            try await base.verifyRuntime(intended, exhaustiveHostgroups: exhaustiveHostgroups, logger: logger)
        }
    }
}

extension ProxySQLCluster {
    /// The same nodes, each admin call of each node bounded by `statementTimeout` (measured on this cluster's
    /// clock): a node that hangs on one statement fails with ``ProxySQLAdminError/Code/deadlineExceeded`` after
    /// `statementTimeout`, even when ``nodeDeadline`` is longer. A cluster operation (several statements per node)
    /// stays bounded by ``nodeDeadline`` as a whole.
    ///
    /// Bounding again replaces the earlier bound.
    public func boundingEachStatement(by statementTimeout: Duration) -> ProxySQLCluster {
        let nodes: [any ProxySQLAdministering] = nodes.map { node in
            let base = (node as? StatementBoundedNode)?.base ?? node
            return StatementBoundedNode(base: base, timeout: statementTimeout, sleep: sleep)
        }
        return ProxySQLCluster(nodes: nodes, nodeDeadline: nodeDeadline, sleep: sleep)
    }
}
