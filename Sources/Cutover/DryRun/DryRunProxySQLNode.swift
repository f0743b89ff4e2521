public import Logging
import MariaDB
public import ProxySQLAdmin
import Synchronization

/// A ProxySQL node that sends nothing: each operation records the statement ``ProxySQLAdminClient`` would send
/// (built with ``ProxySQLAdminStatements``) and applies it to a simulated `mysql_servers` / `global_variables`,
/// with ProxySQL's own rules (`LOAD` copies the configuration to runtime, where `OFFLINE_HARD` rows are absent;
/// connection pools are drained).
public final class DryRunProxySQLNode: ProxySQLAdministering {
    /// The simulated tables of one node.
    public struct State: Sendable, Hashable {
        /// `mysql_servers`.
        public var servers: [BackendServer]
        /// `runtime_mysql_servers` (`OFFLINE_HARD` rows absent).
        public var runtimeServers: [BackendServer]
        /// `global_variables` (the ones the cut-over reads or sets).
        public var variables: [ProxySQLVariable.Name: String]
        /// `runtime_global_variables`.
        public var runtimeVariables: [ProxySQLVariable.Name: String]
        /// `mysql_replication_hostgroups`.
        public var replicationHostgroupPairs: [ReplicationHostgroupPair]

        /// Creates a state whose runtime equals its configuration (as after a `LOAD`).
        public init(
            servers: [BackendServer],
            variables: [ProxySQLVariable.Name: String] = Self.defaultVariables,
            replicationHostgroupPairs: [ReplicationHostgroupPair] = []
        ) {
            self.servers = servers
            self.runtimeServers = ProxySQLLoadModel.runtimeServers(loading: servers)
            self.variables = variables
            self.runtimeVariables = variables
            self.replicationHostgroupPairs = replicationHostgroupPairs
        }

        /// ProxySQL's defaults for the variables a cut-over changes.
        public static let defaultVariables: [ProxySQLVariable.Name: String] = [
            .queryRetriesOnFailure: "1",
            .autoIncrementDelayMultiplex: "5",
        ]
    }

    /// The node's name, as the live run journals it.
    public let nodeName: String
    private let log: DryRunLog
    private let state: Mutex<State>

    init(name: String, state: State, log: DryRunLog) {
        self.nodeName = name
        self.log = log
        self.state = Mutex(state)
    }

    /// The simulated tables now.
    public var currentState: State { state.withLock { $0 } }

    private func record(_ statement: SQLStatement, repeatsPerRow: Bool = false) {
        log.record(statement, endpoint: nodeName, dialect: .proxySQLAdmin, repeatsPerRow: repeatsPerRow)
    }

    private func notFound(_ message: String) -> ProxySQLAdminError {
        ProxySQLAdminError(code: .notFound, node: nodeName, message: message)
    }

    public func version(logger: Logger) async throws -> ProxySQLVersion {
        record(ProxySQLAdminStatements.selectVersion)
        return ProxySQLVersion(versionString: "2.7.1-dry-run")
    }

    public func servers(in layer: ConfigurationLayer, hostgroups: Set<HostgroupID>, logger: Logger) async throws
        -> [BackendServer]
    {
        record(ProxySQLAdminStatements.selectServers(layer: layer, hostgroups: hostgroups))
        let rows = state.withLock { layer == .configured ? $0.servers : $0.runtimeServers }
        return rows.filter { hostgroups.isEmpty || hostgroups.contains($0.hostgroup) }.sorted { $0.key < $1.key }
    }

    public func addServer(_ server: BackendServer, logger: Logger) async throws {
        record(ProxySQLAdminStatements.insertServer(server))
        try state.withLock { state in
            guard !state.servers.contains(where: { $0.key == server.key }) else {
                throw ProxySQLAdminError(code: .alreadyExists, node: nodeName, message: "\(server.key) exists")
            }
            state.servers.append(server)
        }
    }

    public func updateServers(_ selector: ServerSelector, set change: ServerChange, logger: Logger) async throws
        -> UInt64
    {
        record(ProxySQLAdminStatements.updateServers(selector, set: change))
        let changed = state.withLock { state -> UInt64 in
            var count: UInt64 = 0
            for index in state.servers.indices where Self.selects(selector, state.servers[index]) {
                if let status = change.status { state.servers[index].status = status }
                if let weight = change.weight { state.servers[index].weight = weight }
                if let comment = change.comment { state.servers[index].comment = comment }
                if let maxConnections = change.maxConnections { state.servers[index].maxConnections = maxConnections }
                if let lag = change.maxReplicationLag { state.servers[index].maxReplicationLag = lag }
                count += 1
            }
            return count
        }
        guard changed > 0 else { throw notFound("no mysql_servers row matches \(selector)") }
        return changed
    }

    public func removeServers(_ selector: ServerSelector, logger: Logger) async throws -> UInt64 {
        record(ProxySQLAdminStatements.deleteServers(selector))
        let removed = state.withLock { state -> UInt64 in
            let before = state.servers.count
            state.servers.removeAll { Self.selects(selector, $0) }
            return UInt64(before - state.servers.count)
        }
        guard removed > 0 else { throw notFound("no mysql_servers row matches \(selector)") }
        return removed
    }

    public func loadServersToRuntime(logger: Logger) async throws {
        record(ProxySQLAdminStatements.loadServersToRuntime)
        state.withLock { $0.runtimeServers = ProxySQLLoadModel.runtimeServers(loading: $0.servers) }
    }

    public func saveServersToDisk(logger: Logger) async throws {
        record(ProxySQLAdminStatements.saveServersToDisk)
    }

    public func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async throws -> ConnectionPoolStats? {
        record(ProxySQLAdminStatements.selectConnectionPool(for: server))
        guard let row = state.withLock({ $0.runtimeServers.first { $0.key == server } }) else { return nil }
        // Simulated: nothing in flight, so a drain ends at its first poll.
        return ConnectionPoolStats(hostgroup: row.hostgroup, endpoint: row.endpoint, status: row.status)
    }

    public func processlist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID?, logger: Logger) async throws
        -> [ProcesslistEntry]
    {
        record(ProxySQLAdminStatements.selectProcesslist(attachedTo: endpoint, hostgroup: hostgroup))
        // Simulated: nothing is in flight (as in the connection pool), so no session is found on a server that still
        // serves and a settle of auto-increment pins ends at its first read. Once the server stops serving, one
        // stand-in row, so the plan shows the KILL sent for each session found. It runs a statement (it is not
        // pinned), so the guards' report of pinned sessions stays empty: nothing was read.
        let serving = state.withLock { state in
            state.runtimeServers.contains {
                $0.endpoint == endpoint && (hostgroup == nil || $0.hostgroup == hostgroup) && $0.status == .online
            }
        }
        if serving { return [] }
        return [
            ProcesslistEntry(
                sessionID: ProxySQLSessionID(rawValue: DryRunSentinel.proxySQLSessionID),
                user: "<user>",
                hostgroup: hostgroup ?? 0,
                backendEndpoint: endpoint,
                command: "Query"
            )
        ]
    }

    public func killSession(_ session: ProxySQLSessionID, logger: Logger) async throws {
        record(ProxySQLAdminStatements.killConnection(session), repeatsPerRow: true)
    }

    public func variable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer, logger: Logger) async throws
        -> ProxySQLVariable
    {
        record(ProxySQLAdminStatements.selectVariable(name, layer: layer))
        let value = state.withLock { layer == .configured ? $0.variables[name] : $0.runtimeVariables[name] }
        guard let value else { throw notFound("no variable \(name)") }
        return ProxySQLVariable(name: name, value: value)
    }

    public func setVariable(_ name: ProxySQLVariable.Name, to value: String, logger: Logger) async throws {
        record(ProxySQLAdminStatements.updateVariable(name, to: value))
        try state.withLock { state in
            guard state.variables[name] != nil else { throw notFound("no variable \(name)") }
            state.variables[name] = value
        }
    }

    public func loadVariablesToRuntime(logger: Logger) async throws {
        record(ProxySQLAdminStatements.loadVariablesToRuntime)
        state.withLock { $0.runtimeVariables = $0.variables }
    }

    public func saveVariablesToDisk(logger: Logger) async throws {
        record(ProxySQLAdminStatements.saveVariablesToDisk)
    }

    public func replicationHostgroupPairs(layer: ConfigurationLayer, logger: Logger) async throws
        -> [ReplicationHostgroupPair]
    {
        record(ProxySQLAdminStatements.selectReplicationHostgroups(layer: layer))
        return state.withLock { $0.replicationHostgroupPairs }
    }

    /// Records the reads; the simulated node has no query rules, no users and no monitor-managed hostgroups.
    public func routingConfiguration(logger: Logger) async throws -> ProxySQLRoutingConfiguration {
        for statement in ProxySQLRoutingConfiguration.statements { record(statement) }
        return ProxySQLRoutingConfiguration()
    }

    static func selects(_ selector: ServerSelector, _ server: BackendServer) -> Bool {
        switch selector {
        case .key(let key): server.key == key
        case .comment(let comment): server.comment == comment
        case .endpoint(let endpoint): server.endpoint == endpoint
        case .hostgroup(let hostgroup): server.hostgroup == hostgroup
        }
    }
}
