public import Logging

/// The operations on one ProxySQL admin interface that a cut-over needs, as a protocol so that upper layers can
/// be tested with a recording fake. ``ProxySQLAdminClient`` is the real implementation.
///
/// Every method sends its statements to one node. Changes to `mysql_servers` or `global_variables` take effect
/// only after the matching `LOAD ... TO RUNTIME` and survive a restart only after `SAVE ... TO DISK`.
/// Every method throws ``ProxySQLAdminError``.
public protocol ProxySQLAdministering: Sendable {
    /// A name for this node in logs, errors and cluster results (the admin endpoint unless named otherwise).
    var nodeName: String { get }

    /// ProxySQL's own version (`SELECT @@version`).
    func version(logger: Logger) async throws -> ProxySQLVersion

    /// The rows of `mysql_servers` (``ConfigurationLayer/configured``) or `runtime_mysql_servers`
    /// (``ConfigurationLayer/runtime``) in `hostgroups` (all when empty), ordered by key.
    ///
    /// `OFFLINE_HARD` servers are absent from the runtime rows after a LOAD.
    func servers(in layer: ConfigurationLayer, hostgroups: Set<HostgroupID>, logger: Logger) async throws
        -> [BackendServer]

    /// Inserts a row into `mysql_servers` (for example an Aurora endpoint as `OFFLINE_HARD`).
    ///
    /// - Throws: ``ProxySQLAdminError/Code/invalidArgument`` (nothing sent) when a column is out of ProxySQL's
    ///   range; ``ProxySQLAdminError/Code/alreadyExists`` when the key exists.
    func addServer(_ server: BackendServer, logger: Logger) async throws

    /// Updates the rows `selector` picks in `mysql_servers` and returns how many changed.
    ///
    /// - Throws: ``ProxySQLAdminError/Code/notFound`` when no row matched;
    ///   ``ProxySQLAdminError/Code/invalidArgument`` (nothing sent) for an empty or out-of-range change.
    @discardableResult
    func updateServers(_ selector: ServerSelector, set change: ServerChange, logger: Logger) async throws -> UInt64

    /// Sets the status of one server in `mysql_servers` (not yet live: LOAD follows).
    ///
    /// - Throws: ``ProxySQLAdminError/Code/notFound`` when there is no such server.
    func setStatus(_ status: BackendStatus, of server: BackendServer.Key, logger: Logger) async throws

    /// Deletes the rows `selector` picks from `mysql_servers` and returns how many went.
    ///
    /// - Throws: ``ProxySQLAdminError/Code/notFound`` when no row matched.
    @discardableResult
    func removeServers(_ selector: ServerSelector, logger: Logger) async throws -> UInt64

    /// `LOAD MYSQL SERVERS TO RUNTIME`: makes the `mysql_servers` configuration live.
    func loadServersToRuntime(logger: Logger) async throws

    /// `SAVE MYSQL SERVERS TO DISK`: keeps the configuration across a restart.
    func saveServersToDisk(logger: Logger) async throws

    /// The `stats_mysql_connection_pool` row of one server, or nil when it has none (a server `OFFLINE_HARD`
    /// after LOAD, or not in that hostgroup). nil is not "drained": read a drain while the server is
    /// `OFFLINE_SOFT`.
    func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async throws -> ConnectionPoolStats?

    /// The client sessions holding a backend connection to `endpoint` (in `hostgroup` only, when given), from
    /// `stats_mysql_processlist`, ordered by session id.
    func processlist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID?, logger: Logger) async throws
        -> [ProcesslistEntry]

    /// `KILL CONNECTION <id>` on the admin interface: closes a client session and its backend connection.
    ///
    /// - Throws: ``ProxySQLAdminError/Code/notFound`` when there is no such session.
    func killSession(_ session: ProxySQLSessionID, logger: Logger) async throws

    /// One variable of `global_variables` or `runtime_global_variables`.
    ///
    /// - Throws: ``ProxySQLAdminError/Code/notFound`` when there is no such variable.
    func variable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer, logger: Logger) async throws
        -> ProxySQLVariable

    /// Sets a variable in `global_variables` (not yet live: `LOAD MYSQL VARIABLES TO RUNTIME` follows).
    ///
    /// - Throws: ``ProxySQLAdminError/Code/notFound`` when there is no such variable.
    func setVariable(_ name: ProxySQLVariable.Name, to value: String, logger: Logger) async throws

    /// `LOAD MYSQL VARIABLES TO RUNTIME`.
    func loadVariablesToRuntime(logger: Logger) async throws

    /// `SAVE MYSQL VARIABLES TO DISK`.
    func saveVariablesToDisk(logger: Logger) async throws

    /// The rows of `mysql_replication_hostgroups` or `runtime_mysql_replication_hostgroups`.
    func replicationHostgroupPairs(layer: ConfigurationLayer, logger: Logger) async throws
        -> [ReplicationHostgroupPair]

    /// The replication hostgroup pairs that would let ProxySQL's monitor move `endpoint` (a pair whose writer
    /// or reader hostgroup lists it), in each of `layers`. Empty means the monitor leaves it alone.
    func monitorExposure(of endpoint: ServerEndpoint, layers: [ConfigurationLayer], logger: Logger) async throws
        -> [MonitorExposure]

    /// The latest checks of `endpoint` in one of the monitor's logs (`monitor.mysql_server_connect_log` or
    /// `monitor.mysql_server_ping_log`), newest first, at most `limit`: whether this node itself reaches the server.
    ///
    /// - Throws: ``ProxySQLAdminError``; ``ProxySQLAdminError/Code/adminStatementFailed`` when the node has no
    ///   such table, ``ProxySQLAdminError/Code/notFound`` from the default implementation (a node that cannot
    ///   tell).
    func monitorChecks(of endpoint: ServerEndpoint, kind: MonitorCheck.Kind, limit: Int, logger: Logger) async throws
        -> [MonitorCheck]

    /// Query rules, users and the monitor-managed hostgroup tables (see ``ProxySQLRoutingConfiguration``).
    ///
    /// - Throws: ``ProxySQLAdminError``; ``ProxySQLAdminError/Code/notFound`` from the default implementation (a
    ///   node that cannot tell).
    func routingConfiguration(logger: Logger) async throws -> ProxySQLRoutingConfiguration

    /// Reads `runtime_mysql_servers` and compares it with `intended` (see
    /// ``RuntimeVerification/compare(intended:runtime:exhaustiveHostgroups:)``). A mismatch is data, not an
    /// error: check ``RuntimeVerification/isSatisfied`` or use ``requireRuntime(_:exhaustiveHostgroups:logger:)``.
    func verifyRuntime(_ intended: [IntendedBackendState], exhaustiveHostgroups: Set<HostgroupID>, logger: Logger)
        async throws -> RuntimeVerification

    /// What `stats_mysql_query_digest` tells about `LAST_INSERT_ID()` use (see ``QueryDigestUse``); nil when this
    /// kind of node cannot tell (the default).
    func lastInsertIDUse(logger: Logger) async throws -> QueryDigestUse?
}

extension ProxySQLAdministering {
    /// Default: ``updateServers(_:set:logger:)`` with ``ServerSelector/key(_:)``.
    public func setStatus(_ status: BackendStatus, of server: BackendServer.Key, logger: Logger) async throws {
        try await updateServers(.key(server), set: ServerChange(status: status), logger: logger)
    }

    /// Default: reads the pairs and the servers of each layer and keeps the pairs that contain `endpoint`.
    public func monitorExposure(of endpoint: ServerEndpoint, layers: [ConfigurationLayer], logger: Logger)
        async throws -> [MonitorExposure]
    {
        var exposures: [MonitorExposure] = []
        for layer in layers {
            let pairs = try await replicationHostgroupPairs(layer: layer, logger: logger)
            guard !pairs.isEmpty else { continue }
            let hostgroups = Set(pairs.flatMap { [$0.writerHostgroup, $0.readerHostgroup] })
            let rows = try await servers(in: layer, hostgroups: hostgroups, logger: logger)
            exposures += MonitorExposure.find(endpoint: endpoint, pairs: pairs, servers: rows, layer: layer)
        }
        return exposures
    }

    /// Default: the node cannot tell; throws ``ProxySQLAdminError/Code/notFound``.
    public func monitorChecks(of endpoint: ServerEndpoint, kind: MonitorCheck.Kind, limit: Int, logger: Logger)
        async throws -> [MonitorCheck]
    {
        throw ProxySQLAdminError(code: .notFound, node: nodeName, message: "the monitor logs are not available here")
    }

    /// Default: the node cannot tell; throws ``ProxySQLAdminError/Code/notFound``.
    public func routingConfiguration(logger: Logger) async throws -> ProxySQLRoutingConfiguration {
        throw ProxySQLAdminError(
            code: .notFound, node: nodeName, message: "query rules, users and monitor-managed hostgroups are not available here")
    }

    /// Default: reads the runtime rows of the hostgroups concerned and compares.
    public func verifyRuntime(
        _ intended: [IntendedBackendState],
        exhaustiveHostgroups: Set<HostgroupID>,
        logger: Logger
    ) async throws -> RuntimeVerification {
        let hostgroups = Set(intended.map(\.key.hostgroup)).union(exhaustiveHostgroups)
        let runtime = hostgroups.isEmpty ? [] : try await servers(in: .runtime, hostgroups: hostgroups, logger: logger)
        let verification = try RuntimeVerification.compare(
            intended: intended,
            runtime: runtime,
            exhaustiveHostgroups: exhaustiveHostgroups
        )
        logger.debug(
            "proxysql runtime verified",
            metadata: [
                "proxysql.node": "\(nodeName)",
                "proxysql.runtime_matches": "\(verification.isSatisfied)",
                "proxysql.differences": "\(verification.differences.count)",
            ]
        )
        return verification
    }
}

// MARK: Conveniences built on the requirements

extension ProxySQLAdministering {
    /// The rows of `mysql_servers`, optionally of one hostgroup.
    public func configuredServers(hostgroup: HostgroupID? = nil, logger: Logger) async throws -> [BackendServer] {
        try await servers(in: .configured, hostgroups: hostgroup.map { [$0] } ?? [], logger: logger)
    }

    /// The rows of `runtime_mysql_servers`, optionally of one hostgroup (`OFFLINE_HARD` servers are absent).
    public func runtimeServers(hostgroup: HostgroupID? = nil, logger: Logger) async throws -> [BackendServer] {
        try await servers(in: .runtime, hostgroups: hostgroup.map { [$0] } ?? [], logger: logger)
    }

    /// Sets the status of one server and loads the configuration to runtime: two statements, in that order.
    public func setStatusAndLoad(_ status: BackendStatus, of server: BackendServer.Key, logger: Logger) async throws {
        try await setStatus(status, of: server, logger: logger)
        try await loadServersToRuntime(logger: logger)
    }

    /// Sets the status of every server whose `comment` equals `comment`, and returns how many changed.
    ///
    /// - Throws: ``ProxySQLAdminError/Code/notFound`` when none has that comment.
    @discardableResult
    public func setStatus(_ status: BackendStatus, ofServersWithComment comment: String, logger: Logger) async throws
        -> UInt64
    {
        try await updateServers(.comment(comment), set: ServerChange(status: status), logger: logger)
    }

    /// Sets the weight of one server.
    public func setWeight(_ weight: Int, of server: BackendServer.Key, logger: Logger) async throws {
        try await updateServers(.key(server), set: ServerChange(weight: weight), logger: logger)
    }

    /// Sets the comment of one server.
    public func setComment(_ comment: String, of server: BackendServer.Key, logger: Logger) async throws {
        try await updateServers(.key(server), set: ServerChange(comment: comment), logger: logger)
    }

    /// Deletes one server from `mysql_servers`.
    ///
    /// - Throws: ``ProxySQLAdminError/Code/notFound`` when there is no such server.
    public func removeServer(_ server: BackendServer.Key, logger: Logger) async throws {
        try await removeServers(.key(server), logger: logger)
    }

    /// A variable of `global_variables`.
    public func variable(_ name: ProxySQLVariable.Name, logger: Logger) async throws -> ProxySQLVariable {
        try await variable(name, layer: .configured, logger: logger)
    }

    /// Sets a variable to an integer value.
    public func setVariable(_ name: ProxySQLVariable.Name, to value: Int, logger: Logger) async throws {
        try await setVariable(name, to: String(value), logger: logger)
    }

    /// Sets several variables (in name order) and loads them to runtime.
    public func setVariablesAndLoad(_ values: [ProxySQLVariable.Name: String], logger: Logger) async throws {
        for name in values.keys.sorted() {
            try await setVariable(name, to: values[name]!, logger: logger)
        }
        try await loadVariablesToRuntime(logger: logger)
    }

    /// The client sessions holding a backend connection to `endpoint`, in any hostgroup.
    public func processlist(attachedTo endpoint: ServerEndpoint, logger: Logger) async throws -> [ProcesslistEntry] {
        try await processlist(attachedTo: endpoint, hostgroup: nil, logger: logger)
    }

    /// The client sessions holding a backend connection to one server of one hostgroup.
    public func processlist(attachedTo server: BackendServer.Key, logger: Logger) async throws -> [ProcesslistEntry] {
        try await processlist(attachedTo: server.endpoint, hostgroup: server.hostgroup, logger: logger)
    }

    /// The monitor exposure of `endpoint` in both the configured and the runtime layer.
    public func monitorExposure(of endpoint: ServerEndpoint, logger: Logger) async throws -> [MonitorExposure] {
        try await monitorExposure(of: endpoint, layers: [.configured, .runtime], logger: logger)
    }

    /// ``verifyRuntime(_:exhaustiveHostgroups:logger:)`` without exhaustive hostgroups.
    public func verifyRuntime(_ intended: [IntendedBackendState], logger: Logger) async throws -> RuntimeVerification {
        try await verifyRuntime(intended, exhaustiveHostgroups: [], logger: logger)
    }

    /// Verifies the runtime and throws when it differs.
    ///
    /// - Parameter confirms: whether a verification confirms the intended state; by default only one without any
    ///   difference (``RuntimeVerification/isSatisfied``). A caller that tolerates a difference ProxySQL makes by itself
    ///   (a row it shunned since the LOAD) says so here.
    /// - Returns: the verification (confirmed by `confirms`).
    /// - Throws: ``ProxySQLAdminError/Code/verificationFailed`` with ``ProxySQLAdminError/runtimeDifferences``.
    @discardableResult
    public func requireRuntime(
        _ intended: [IntendedBackendState],
        exhaustiveHostgroups: Set<HostgroupID> = [],
        confirmedBy confirms: (RuntimeVerification) -> Bool = \.isSatisfied,
        logger: Logger
    ) async throws -> RuntimeVerification {
        let verification = try await verifyRuntime(intended, exhaustiveHostgroups: exhaustiveHostgroups, logger: logger)
        guard confirms(verification) else {
            throw ProxySQLAdminError(
                code: .verificationFailed,
                node: nodeName,
                message: "runtime differs from the intended state in \(verification.differences.count) place(s)",
                runtimeDifferences: verification.differences
            )
        }
        return verification
    }

    /// Compares `runtime_mysql_servers` with `mysql_servers` (every column; `OFFLINE_HARD` rows must be absent),
    /// in `hostgroups` (every hostgroup when nil): did the last LOAD apply the configuration?
    public func verifyRuntimeMatchesConfiguration(hostgroups: Set<HostgroupID>? = nil, logger: Logger) async throws
        -> RuntimeVerification
    {
        let scope = hostgroups ?? []
        let configured = try await servers(in: .configured, hostgroups: scope, logger: logger)
        let runtime = try await servers(in: .runtime, hostgroups: scope, logger: logger)
        return try RuntimeVerification.compare(configured: configured, runtime: runtime, hostgroups: hostgroups)
    }
}
