public import Logging
public import ProxySQLAdmin
import Synchronization

/// An in-memory ProxySQL admin interface for tests of upper layers: it records every call, keeps the
/// configured and runtime server tables, variables and replication hostgroup pairs the way ProxySQL does,
/// and lets a test script pool statistics, sessions and failures.
///
/// It follows the facts the real interface shows: edits change the configured tables only; LOAD copies them to
/// runtime, leaving `OFFLINE_HARD` servers out (and dropping their pool rows); an update or delete that matches
/// nothing is `notFound`; an unknown variable is `notFound`. ``runtimeHistory`` keeps the runtime after every
/// LOAD, so a test can check that two writers were never live at once.
///
/// ```swift
/// let proxy = RecordingProxySQLAdmin(servers: [BackendServer(hostgroup: 10, host: "source")])
/// proxy.scriptConnectionsUsed([2, 1, 0], for: sourceKey)       // successive drain polls
/// proxy.injectFailure(ProxySQLAdminError(code: .connectionLost)) { $0 == .loadServersToRuntime }
/// // ... run the code under test ...
/// #expect(proxy.calls == [.setStatus(sourceKey, .offlineSoft), .loadServersToRuntime, ...])
/// ```
public final class RecordingProxySQLAdmin: ProxySQLAdministering, Sendable {
    /// One call to the fake, as the code under test made it.
    public enum Call: Sendable, Hashable, CustomStringConvertible {
        /// A call of `version(logger:)`.
        case version
        /// A call of `servers(in:hostgroups:logger:)`.
        case servers(ConfigurationLayer, Set<HostgroupID>)
        /// A call of `addServer(_:logger:)`.
        case addServer(BackendServer)
        /// A call of `updateServers(_:set:logger:)`.
        case updateServers(ServerSelector, ServerChange)
        /// A call of `setStatus(_:of:logger:)`.
        case setStatus(BackendServer.Key, BackendStatus)
        /// A call of `removeServers(_:logger:)`.
        case removeServers(ServerSelector)
        /// A call of `LOAD MYSQL SERVERS TO RUNTIME`.
        case loadServersToRuntime
        /// A call of `SAVE MYSQL SERVERS TO DISK`.
        case saveServersToDisk
        /// A call of `connectionPoolStats(for:logger:)`.
        case connectionPoolStats(BackendServer.Key)
        /// A call of `processlist(attachedTo:hostgroup:logger:)`.
        case processlist(ServerEndpoint, HostgroupID?)
        /// A call of `killSession(_:logger:)`.
        case killSession(ProxySQLSessionID)
        /// A call of `variable(_:layer:logger:)`.
        case variable(ProxySQLVariable.Name, ConfigurationLayer)
        /// A call of `setVariable(_:to:logger:)`.
        case setVariable(ProxySQLVariable.Name, String)
        /// A call of `LOAD MYSQL VARIABLES TO RUNTIME`.
        case loadVariablesToRuntime
        /// A call of `SAVE MYSQL VARIABLES TO DISK`.
        case saveVariablesToDisk
        /// A call of `replicationHostgroupPairs(layer:logger:)`.
        case replicationHostgroupPairs(ConfigurationLayer)

        /// Whether the call changes or applies configuration (everything but reads).
        public var isChange: Bool {
            switch self {
            case .addServer, .updateServers, .setStatus, .removeServers, .loadServersToRuntime, .saveServersToDisk,
                .killSession, .setVariable, .loadVariablesToRuntime, .saveVariablesToDisk:
                true
            case .version, .servers, .connectionPoolStats, .processlist, .variable, .replicationHostgroupPairs:
                false
            }
        }

        public var description: String {
            switch self {
            case .version: "version"
            case .servers(let layer, let hostgroups):
                "read \(layer) servers"
                    + (hostgroups.isEmpty ? "" : " of " + hostgroups.sorted().map(\.description).joined(separator: ","))
            case .addServer(let server): "add \(server)"
            case .updateServers(let selector, let change): "update \(selector): \(change)"
            case .setStatus(let key, let status): "set \(key) \(status)"
            case .removeServers(let selector): "remove \(selector)"
            case .loadServersToRuntime: "load servers to runtime"
            case .saveServersToDisk: "save servers to disk"
            case .connectionPoolStats(let key): "read pool of \(key)"
            case .processlist(let endpoint, let hostgroup):
                "read processlist of \(endpoint)" + (hostgroup.map { " in \($0)" } ?? "")
            case .killSession(let id): "kill session \(id)"
            case .variable(let name, let layer): "read \(layer) \(name)"
            case .setVariable(let name, let value): "set \(name)=\(value)"
            case .loadVariablesToRuntime: "load variables to runtime"
            case .saveVariablesToDisk: "save variables to disk"
            case .replicationHostgroupPairs(let layer): "read \(layer) replication hostgroups"
            }
        }
    }

    private struct InjectedFailure {
        var error: ProxySQLAdminError
        var matches: @Sendable (Call) -> Bool
        var remaining: Int
    }

    private struct State {
        var calls: [Call] = []
        var configured: [BackendServer.Key: BackendServer] = [:]
        var runtime: [BackendServer.Key: BackendServer] = [:]
        var runtimeHistory: [[BackendServer]] = []
        var variables: [ProxySQLVariable.Name: String] = [:]
        var runtimeVariables: [ProxySQLVariable.Name: String] = [:]
        var pairs: [ReplicationHostgroupPair] = []
        var runtimePairs: [ReplicationHostgroupPair] = []
        var pool: [BackendServer.Key: ConnectionPoolStats] = [:]
        var scriptedConnectionsUsed: [BackendServer.Key: [UInt64]] = [:]
        var processlist: [ProcesslistEntry] = []
        var scriptedProcesslists: [[ProcesslistEntry]] = []
        var failures: [InjectedFailure] = []
        var savedServers: [BackendServer]?
        var savedVariables: [ProxySQLVariable.Name: String]?
        var version = "2.7.1-recording-fake"
    }

    /// ProxySQL's defaults for the variables a cut-over touches.
    public static let defaultVariables: [ProxySQLVariable.Name: String] = [
        .queryRetriesOnFailure: "1",
        .autoIncrementDelayMultiplex: "5",
        .autoIncrementDelayMultiplexTimeout: "10000",
        .connectTimeoutServerMax: "10000",
        "mysql-connect_retries_delay": "1",
        .maxTransactionIdleTime: "14400000",
        .waitTimeout: "28800000",
        .multiplexing: "true",
        .monitorEnabled: "true",
    ]

    /// The node's name in results and logs.
    public let nodeName: String
    private let state: Mutex<State>

    /// Creates a fake node.
    ///
    /// - Parameters:
    ///   - nodeName: the node's name.
    ///   - servers: the rows of `mysql_servers`; they are also live (as after a LOAD) when `loaded` is true.
    ///   - variables: `global_variables` (``defaultVariables`` by default), live as well.
    ///   - replicationHostgroups: `mysql_replication_hostgroups`, live as well when `loaded`.
    ///   - loaded: whether the runtime starts equal to the configuration.
    public init(
        nodeName: String = "fake-proxysql",
        servers: [BackendServer] = [],
        variables: [ProxySQLVariable.Name: String] = RecordingProxySQLAdmin.defaultVariables,
        replicationHostgroups: [ReplicationHostgroupPair] = [],
        loaded: Bool = true
    ) {
        self.nodeName = nodeName
        var initial = State()
        for server in servers { initial.configured[server.key] = server }
        initial.variables = variables
        initial.runtimeVariables = variables
        initial.pairs = replicationHostgroups
        if loaded { Self.load(&initial) }
        initial.runtimeHistory = []
        self.state = Mutex(initial)
    }

    // MARK: Inspecting

    /// Every call so far, in order.
    public var calls: [Call] { state.withLock { $0.calls } }

    /// The calls that changed or applied something, in order (reads left out).
    public var changes: [Call] { calls.filter(\.isChange) }

    /// The `mysql_servers` rows now, ordered by key.
    public var configuredServers: [BackendServer] { state.withLock { $0.configured.values.sorted { $0.key < $1.key } } }

    /// The `runtime_mysql_servers` rows now, ordered by key.
    public var runtimeServers: [BackendServer] { state.withLock { $0.runtime.values.sorted { $0.key < $1.key } } }

    /// The runtime after each `LOAD MYSQL SERVERS TO RUNTIME` so far.
    public var runtimeHistory: [[BackendServer]] { state.withLock { $0.runtimeHistory } }

    /// The largest number of `ONLINE` servers `hostgroup` had after any LOAD (2 would mean two writers live).
    public func maximumOnline(in hostgroup: HostgroupID) -> Int {
        runtimeHistory.map { $0.filter { $0.hostgroup == hostgroup && $0.status == .online }.count }.max() ?? 0
    }

    /// `global_variables` now.
    public var configuredVariables: [ProxySQLVariable.Name: String] { state.withLock { $0.variables } }

    /// `runtime_global_variables` now.
    public var runtimeVariables: [ProxySQLVariable.Name: String] { state.withLock { $0.runtimeVariables } }

    /// What the last `SAVE MYSQL SERVERS TO DISK` saved, or nil when none happened.
    public var savedServers: [BackendServer]? { state.withLock { $0.savedServers } }

    /// What the last `SAVE MYSQL VARIABLES TO DISK` saved, or nil when none happened.
    public var savedVariables: [ProxySQLVariable.Name: String]? { state.withLock { $0.savedVariables } }

    // MARK: Scripting

    /// Sets or removes the pool row of a server (as the data plane would report it).
    public func setPoolStats(_ stats: ConnectionPoolStats?, for key: BackendServer.Key) {
        state.withLock { $0.pool[key] = stats }
    }

    /// Makes successive pool reads of `key` report these `ConnUsed` values (the last one repeats), while the
    /// server has a pool row.
    public func scriptConnectionsUsed(_ values: [UInt64], for key: BackendServer.Key) {
        state.withLock { $0.scriptedConnectionsUsed[key] = values }
    }

    /// Sets the client sessions `stats_mysql_processlist` shows.
    public func setProcesslist(_ entries: [ProcesslistEntry]) {
        state.withLock { $0.processlist = entries }
    }

    /// Makes successive processlist reads show these sessions, one list per read (the last one stays).
    public func scriptProcesslist(_ reads: [[ProcesslistEntry]]) {
        state.withLock { $0.scriptedProcesslists = reads }
    }

    /// Sets the `mysql_replication_hostgroups` rows (configured and live).
    public func setReplicationHostgroups(_ pairs: [ReplicationHostgroupPair]) {
        state.withLock {
            $0.pairs = pairs
            $0.runtimePairs = pairs
        }
    }

    /// Makes the next `times` calls for which `matches` is true throw `error` instead of running (they are
    /// still recorded).
    public func injectFailure(
        _ error: ProxySQLAdminError,
        times: Int = 1,
        when matches: @escaping @Sendable (Call) -> Bool
    ) {
        state.withLock { $0.failures.append(InjectedFailure(error: error, matches: matches, remaining: times)) }
    }

    // MARK: ProxySQLAdministering

    /// Records `call`, throws an injected failure if one matches, else runs `body` on the state.
    private func perform<T>(_ call: Call, _ body: (inout State) throws -> T) throws -> T {
        try state.withLock { state in
            state.calls.append(call)
            if let index = state.failures.firstIndex(where: { $0.remaining > 0 && $0.matches(call) }) {
                state.failures[index].remaining -= 1
                var error = state.failures[index].error
                if error.node == nil { error.node = nodeName }
                throw error
            }
            return try body(&state)
        }
    }

    private func notFound(_ what: String) -> ProxySQLAdminError {
        ProxySQLAdminError(code: .notFound, node: nodeName, message: "no \(what) matched")
    }

    /// Records the call; returns the scripted version.
    public func version(logger: Logger) async throws -> ProxySQLVersion {
        try perform(.version) { ProxySQLVersion(versionString: $0.version) }
    }

    /// Records the call; returns the rows of `layer` in `hostgroups`.
    public func servers(in layer: ConfigurationLayer, hostgroups: Set<HostgroupID>, logger: Logger) async throws
        -> [BackendServer]
    {
        try perform(.servers(layer, hostgroups)) { state in
            let table = layer == .configured ? state.configured : state.runtime
            return table.values.filter { hostgroups.isEmpty || hostgroups.contains($0.hostgroup) }
                .sorted { $0.key < $1.key }
        }
    }

    /// Records the call; adds the row to the configured table.
    ///
    /// - Throws: `ProxySQLAdminError` for a duplicate key, or an injected failure.
    public func addServer(_ server: BackendServer, logger: Logger) async throws {
        try perform(.addServer(server)) { state in
            guard server.validationProblems.isEmpty else {
                throw ProxySQLAdminError(code: .invalidArgument, node: nodeName, message: "invalid server")
            }
            guard state.configured[server.key] == nil else {
                throw ProxySQLAdminError(code: .alreadyExists, node: nodeName, message: "the server exists already")
            }
            state.configured[server.key] = server
        }
    }

    /// Records the call; changes the matching configured rows and returns how many.
    ///
    /// - Throws: `ProxySQLAdminError` (`ProxySQLAdminError.Code.notFound` when nothing matches), or an injected
    ///   failure.
    public func updateServers(_ selector: ServerSelector, set change: ServerChange, logger: Logger) async throws
        -> UInt64
    {
        try perform(.updateServers(selector, change)) { state in try apply(change, to: selector, in: &state) }
    }

    /// Records the call; sets the configured row's status.
    ///
    /// - Throws: `ProxySQLAdminError` (`ProxySQLAdminError.Code.notFound`), or an injected failure.
    public func setStatus(_ status: BackendStatus, of server: BackendServer.Key, logger: Logger) async throws {
        try perform(.setStatus(server, status)) { state in
            _ = try apply(ServerChange(status: status), to: .key(server), in: &state)
        }
    }

    private func apply(_ change: ServerChange, to selector: ServerSelector, in state: inout State) throws -> UInt64 {
        guard change.validationProblems.isEmpty else {
            throw ProxySQLAdminError(code: .invalidArgument, node: nodeName, message: "invalid server change")
        }
        let keys = state.configured.values.filter { Self.matches(selector, $0) }.map(\.key)
        guard !keys.isEmpty else { throw notFound("server") }
        for key in keys {
            if let status = change.status { state.configured[key]!.status = status }
            if let weight = change.weight { state.configured[key]!.weight = weight }
            if let comment = change.comment { state.configured[key]!.comment = comment }
            if let maxConnections = change.maxConnections { state.configured[key]!.maxConnections = maxConnections }
            if let lag = change.maxReplicationLag { state.configured[key]!.maxReplicationLag = lag }
        }
        return UInt64(keys.count)
    }

    private static func matches(_ selector: ServerSelector, _ server: BackendServer) -> Bool {
        switch selector {
        case .key(let key): server.key == key
        case .comment(let comment): server.comment == comment
        case .endpoint(let endpoint): server.endpoint == endpoint
        case .hostgroup(let hostgroup): server.hostgroup == hostgroup
        }
    }

    /// Records the call; deletes the matching configured rows and returns how many.
    ///
    /// - Throws: `ProxySQLAdminError` (`ProxySQLAdminError.Code.notFound` when nothing matches), or an injected
    ///   failure.
    public func removeServers(_ selector: ServerSelector, logger: Logger) async throws -> UInt64 {
        try perform(.removeServers(selector)) { state in
            let keys = state.configured.values.filter { Self.matches(selector, $0) }.map(\.key)
            guard !keys.isEmpty else { throw notFound("server") }
            for key in keys { state.configured[key] = nil }
            return UInt64(keys.count)
        }
    }

    /// LOAD: the configuration becomes live, without `OFFLINE_HARD` servers; their pool rows go away.
    private static func load(_ state: inout State) {
        let loaded = ProxySQLLoadModel.runtimeServers(loading: state.configured.values.sorted { $0.key < $1.key })
        state.runtime = Dictionary(uniqueKeysWithValues: loaded.map { ($0.key, $0) })
        state.runtimePairs = state.pairs
        for key in Array(state.pool.keys) where state.runtime[key] == nil { state.pool[key] = nil }
        for (key, server) in state.runtime {
            var row =
                state.pool[key]
                ?? ConnectionPoolStats(
                    hostgroup: key.hostgroup, endpoint: key.endpoint,
                    status: server.status)
            row.status = server.status
            row.statusText = server.status.rawValue
            state.pool[key] = row
        }
        state.runtimeHistory.append(state.runtime.values.sorted { $0.key < $1.key })
    }

    /// Records the call; copies the configured rows to the runtime, leaving `OFFLINE_HARD` ones out.
    ///
    /// - Throws: an injected failure.
    public func loadServersToRuntime(logger: Logger) async throws {
        try perform(.loadServersToRuntime) { Self.load(&$0) }
    }

    /// Records the call; copies the configured rows to the saved ones.
    ///
    /// - Throws: an injected failure.
    public func saveServersToDisk(logger: Logger) async throws {
        try perform(.saveServersToDisk) { $0.savedServers = $0.configured.values.sorted { $0.key < $1.key } }
    }

    /// Records the call; returns the next scripted pool row of `server` (nil when it is not live).
    ///
    /// - Throws: an injected failure.
    public func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async throws -> ConnectionPoolStats?
    {
        try perform(.connectionPoolStats(server)) { state in
            guard var row = state.pool[server] else { return nil }
            if var script = state.scriptedConnectionsUsed[server], !script.isEmpty {
                row.connectionsUsed = script.count > 1 ? script.removeFirst() : script[0]
                state.scriptedConnectionsUsed[server] = script
                row.maxConnectionsUsed = max(row.maxConnectionsUsed, row.connectionsUsed)
                state.pool[server] = row
            }
            return row
        }
    }

    /// Records the call; returns the scripted sessions bound to `endpoint`.
    ///
    /// - Throws: an injected failure.
    public func processlist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID?, logger: Logger) async throws
        -> [ProcesslistEntry]
    {
        try perform(.processlist(endpoint, hostgroup)) { state in
            if !state.scriptedProcesslists.isEmpty {
                state.processlist =
                    state.scriptedProcesslists.count > 1
                    ? state.scriptedProcesslists.removeFirst() : state.scriptedProcesslists[0]
            }
            return state.processlist.filter { entry in
                entry.backendEndpoint == endpoint && (hostgroup == nil || entry.hostgroup == hostgroup)
            }.sorted { $0.sessionID < $1.sessionID }
        }
    }

    /// Records the call; removes the session from the scripted processlist.
    ///
    /// - Throws: `ProxySQLAdminError` (`ProxySQLAdminError.Code.notFound`), or an injected failure.
    public func killSession(_ session: ProxySQLSessionID, logger: Logger) async throws {
        try perform(.killSession(session)) { state in
            guard let index = state.processlist.firstIndex(where: { $0.sessionID == session }) else {
                throw notFound("session")
            }
            state.processlist.remove(at: index)
        }
    }

    /// Records the call; returns the variable of `layer`.
    ///
    /// - Throws: `ProxySQLAdminError` (`ProxySQLAdminError.Code.notFound` for an unknown name), or an injected failure.
    public func variable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer, logger: Logger) async throws
        -> ProxySQLVariable
    {
        try perform(.variable(name, layer)) { state in
            let table = layer == .configured ? state.variables : state.runtimeVariables
            guard let value = table[name] else { throw notFound("variable") }
            return ProxySQLVariable(name: name, value: value)
        }
    }

    /// Records the call; sets the configured variable.
    ///
    /// - Throws: `ProxySQLAdminError` (`ProxySQLAdminError.Code.notFound` for an unknown name), or an injected failure.
    public func setVariable(_ name: ProxySQLVariable.Name, to value: String, logger: Logger) async throws {
        try perform(.setVariable(name, value)) { state in
            guard state.variables[name] != nil else { throw notFound("variable") }
            state.variables[name] = value
        }
    }

    /// Records the call; copies the configured variables to the runtime.
    ///
    /// - Throws: an injected failure.
    public func loadVariablesToRuntime(logger: Logger) async throws {
        try perform(.loadVariablesToRuntime) { $0.runtimeVariables = $0.variables }
    }

    /// Records the call; copies the configured variables to the saved ones.
    ///
    /// - Throws: an injected failure.
    public func saveVariablesToDisk(logger: Logger) async throws {
        try perform(.saveVariablesToDisk) { $0.savedVariables = $0.variables }
    }

    /// Records the call; returns the scripted pairs.
    ///
    /// - Throws: an injected failure.
    public func replicationHostgroupPairs(layer: ConfigurationLayer, logger: Logger) async throws
        -> [ReplicationHostgroupPair]
    {
        try perform(.replicationHostgroupPairs(layer)) { state in
            (layer == .configured ? state.pairs : state.runtimePairs).sorted { $0.writerHostgroup < $1.writerHostgroup }
        }
    }
}
