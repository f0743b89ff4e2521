import Cutover
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Synchronization

/// A scripted ``ServerInspecting``: answers from ``Script``, records every call, fails the methods listed in
/// ``Script/errors`` and never returns from those in ``Script/hanging`` (until cancelled).
final class FakeServerInspector: ServerInspecting, Sendable {
    struct Script: Sendable {
        var identity = ServerInspection.Identity(
            versionString: "8.0.36", versionComment: "MySQL Community Server - GPL")
        var characterSettings = ServerInspection.CharacterSettings(
            characterSet: "utf8mb4", collation: "utf8mb4_general_ci")
        var schemas = [ServerInspection.Schema(name: "app", characterSet: "utf8mb4", collation: "utf8mb4_general_ci")]
        var timeZoneCount = 1800
        var binlog = ServerInspection.BinlogSettings(variables: [
            "log_bin": "ON", "binlog_format": "ROW", "server_id": "1", "gtid_mode": "OFF",
            "enforce_gtid_consistency": "OFF",
        ])
        var procedures: [String] = []
        var rdsConfiguration: [ServerInspection.ConfigurationEntry]? = nil
        var accounts = [ServerInspection.Account(user: "app", host: "%")]
        var grants: [ServerInspection.Account: [ServerInspection.Grant]] = [:]
        var openTransactions: [ServerInspection.OpenWriteTransaction] = []
        var readOnly = ServerInspection.ReadOnlyState(readOnly: false, superReadOnly: false, innodbReadOnly: false)
        /// Method name (`identity`, `schemas`, ...) → the error it throws.
        var errors: [String: MariaDBError] = [:]
        /// Method names that wait until cancelled.
        var hanging: Set<String> = []
    }

    let name: String
    private let state: Mutex<(script: Script, calls: [String])>

    init(name: String, script: Script = Script()) {
        self.name = name
        self.state = Mutex((script, []))
    }

    func update(_ change: (inout Script) -> Void) {
        state.withLock { change(&$0.script) }
    }

    /// Every call, in order, as `method` or `method(argument)`.
    var calls: [String] { state.withLock { $0.calls } }

    private func answer<T>(_ method: String, _ call: String? = nil, _ value: (Script) -> T) async throws -> T {
        let script = state.withLock { state in
            state.calls.append(call ?? method)
            return state.script
        }
        if let error = script.errors[method] { throw error }
        if script.hanging.contains(method) { try await Task.sleep(for: .seconds(3600)) }
        return value(script)
    }

    func identity(logger: Logger) async throws -> ServerInspection.Identity {
        try await answer("identity") { $0.identity }
    }

    func characterSettings(logger: Logger) async throws -> ServerInspection.CharacterSettings {
        try await answer("characterSettings") { $0.characterSettings }
    }

    func schemas(logger: Logger) async throws -> [ServerInspection.Schema] {
        try await answer("schemas") { $0.schemas }
    }

    func timeZoneCount(logger: Logger) async throws -> Int {
        try await answer("timeZoneCount") { $0.timeZoneCount }
    }

    func binlogSettings(logger: Logger) async throws -> ServerInspection.BinlogSettings {
        try await answer("binlogSettings") { $0.binlog }
    }

    func rdsProcedureNames(logger: Logger) async throws -> [String] {
        try await answer("rdsProcedureNames") { $0.procedures }
    }

    func rdsConfiguration(logger: Logger) async throws -> [ServerInspection.ConfigurationEntry]? {
        try await answer("rdsConfiguration") { $0.rdsConfiguration }
    }

    func accounts(users: [String]?, logger: Logger) async throws -> [ServerInspection.Account] {
        try await answer("accounts", "accounts(\(users?.joined(separator: ",") ?? "*"))") { script in
            script.accounts.filter { users?.contains($0.user) ?? true }.sorted()
        }
    }

    func grants(for account: ServerInspection.Account, logger: Logger) async throws -> [ServerInspection.Grant] {
        try await answer("grants", "grants(\(account))") { $0.grants[account] ?? [] }
    }

    func openWriteTransactions(olderThan limit: Duration, logger: Logger) async throws
        -> [ServerInspection.OpenWriteTransaction]
    {
        try await answer("openWriteTransactions", "openWriteTransactions(\(limit))") { $0.openTransactions }
    }

    func readOnlyState(logger: Logger) async throws -> ServerInspection.ReadOnlyState {
        try await answer("readOnlyState") { $0.readOnly }
    }
}

/// A ``CutoverDatabase`` whose replication health is scripted; every other method records the call and throws
/// (preflight must not use them), except a catch-up wait when `catchUpTakes` is set: it then sleeps that long
/// (cancellable) and succeeds.
final class FakeCutoverDatabase: CutoverDatabase, Sendable {
    let name: String
    let canFence = true
    let catchUpTakes: Duration?
    private let state: Mutex<(health: Result<ReplicaHealth?, MariaDBError>, calls: [String])>

    init(name: String, health: ReplicaHealth?, catchUpTakes: Duration? = nil) {
        self.name = name
        self.catchUpTakes = catchUpTakes
        self.state = Mutex((.success(health), []))
    }

    func setHealth(_ health: Result<ReplicaHealth?, MariaDBError>) {
        state.withLock { $0.health = health }
    }

    var calls: [String] { state.withLock { $0.calls } }

    private func unused(_ method: String) -> MariaDBError {
        state.withLock { $0.calls.append(method) }
        return MariaDBError(code: .unexpectedResult, message: "\(method) is not for preflight")
    }

    func replicaHealth(logger: Logger) async throws -> ReplicaHealth? {
        try state.withLock { state in
            state.calls.append("replicaHealth")
            return state.health
        }.get()
    }

    func longWriteTransactions(olderThan limit: Duration, logger: Logger) async throws -> [LongTransaction] {
        throw unused("longWriteTransactions")
    }

    func currentPosition(logger: Logger) async throws -> ReplicationCoordinate { throw unused("currentPosition") }
    func fence(timeout: Duration, logger: Logger) async throws { throw unused("fence") }
    func liftFence(logger: Logger) async throws { throw unused("liftFence") }
    func closeSessions(users: [String], logger: Logger) async throws -> Int { throw unused("closeSessions") }

    func waitForCatchUp(
        to coordinate: ReplicationCoordinate,
        timeout: Duration,
        progress: @escaping @Sendable (ReplicationCoordinate?) -> Void,
        logger: Logger
    ) async throws {
        guard let catchUpTakes else { throw unused("waitForCatchUp") }
        state.withLock { $0.calls.append("waitForCatchUp") }
        try await Task.sleep(for: catchUpTakes)
    }

    func stopAndResetReplication(timeout: Duration, logger: Logger) async throws {
        throw unused("stopAndResetReplication")
    }

    func startReplication(
        from source: ServerEndpoint,
        user: String,
        password: String,
        tls: ReplicationTLS,
        at coordinate: ReplicationCoordinate,
        timeout: Duration,
        logger: Logger
    ) async throws {
        throw unused("startReplication")
    }

    func verifyReplication(timeout: Duration, logger: Logger) async throws { throw unused("verifyReplication") }
}

/// A recording ``ProxySQLAdministering`` over scripted tables. Reads answer from ``Script``; every change is
/// recorded in ``mutations`` and refused (preflight must change nothing).
final class FakeProxyAdmin: ProxySQLAdministering, Sendable {
    struct Script: Sendable {
        var version = ProxySQLVersion(versionString: "2.7.1-16-g2726c27")
        var configured: [BackendServer] = []
        var runtime: [BackendServer] = []
        var pairs: [ConfigurationLayer: [ReplicationHostgroupPair]] = [:]
        /// nil: the node has no monitor tables (`no such table`).
        var monitor: [MonitorCheck]? = []
        /// Query rules, users, monitor-managed hostgroups (none by default).
        var routing = ProxySQLRoutingConfiguration()
        /// Method name → the error it throws.
        var errors: [String: ProxySQLAdminError] = [:]
        /// Runtime `global_variables` the node answers (others: `notFound`).
        var variables: [String: String] = [
            "mysql-connect_retries_delay": "1", "mysql-connect_timeout_server_max": "10000",
        ]
    }

    let nodeName: String
    private let state: Mutex<(script: Script, reads: [String], mutations: [String])>

    init(nodeName: String, script: Script = Script()) {
        self.nodeName = nodeName
        self.state = Mutex((script, [], []))
    }

    func update(_ change: (inout Script) -> Void) {
        state.withLock { change(&$0.script) }
    }

    var reads: [String] { state.withLock { $0.reads } }
    var mutations: [String] { state.withLock { $0.mutations } }

    private func read<T>(_ method: String, _ value: (Script) throws -> T) throws -> T {
        let script = state.withLock { state in
            state.reads.append(method)
            return state.script
        }
        if let error = script.errors[method] { throw error }
        return try value(script)
    }

    private func refuse(_ method: String) -> ProxySQLAdminError {
        state.withLock { $0.mutations.append(method) }
        return ProxySQLAdminError(code: .invalidArgument, node: nodeName, message: "\(method) is a change")
    }

    func version(logger: Logger) async throws -> ProxySQLVersion {
        try read("version") { $0.version }
    }

    func servers(in layer: ConfigurationLayer, hostgroups: Set<HostgroupID>, logger: Logger) async throws
        -> [BackendServer]
    {
        try read("servers.\(layer)") { script in
            let rows = layer == .configured ? script.configured : script.runtime
            return rows.filter { hostgroups.isEmpty || hostgroups.contains($0.hostgroup) }.sorted { $0.key < $1.key }
        }
    }

    func replicationHostgroupPairs(layer: ConfigurationLayer, logger: Logger) async throws -> [ReplicationHostgroupPair]
    {
        try read("replicationHostgroupPairs.\(layer)") { $0.pairs[layer] ?? [] }
    }

    func routingConfiguration(logger: Logger) async throws -> ProxySQLRoutingConfiguration {
        try read("routingConfiguration") { $0.routing }
    }

    func monitorChecks(of endpoint: ServerEndpoint, kind: MonitorCheck.Kind, limit: Int, logger: Logger) async throws
        -> [MonitorCheck]
    {
        try read("monitorChecks") { script in
            guard let monitor = script.monitor else {
                throw ProxySQLAdminError(
                    code: .adminStatementFailed, node: nodeName,
                    message: "no such table: monitor.\(kind.table)")
            }
            return Array(
                monitor.filter { $0.endpoint == endpoint && $0.kind == kind }
                    .sorted { $0.startedAtMicroseconds > $1.startedAtMicroseconds }.prefix(limit))
        }
    }

    func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async throws -> ConnectionPoolStats? {
        try read("connectionPoolStats") { _ in nil }
    }

    func processlist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID?, logger: Logger) async throws
        -> [ProcesslistEntry]
    {
        try read("processlist") { _ in [] }
    }

    func variable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer, logger: Logger) async throws
        -> ProxySQLVariable
    {
        guard let value = try read("variable", { $0.variables[name.rawValue] }) else {
            throw ProxySQLAdminError(code: .notFound, node: nodeName, message: "no such variable")
        }
        return ProxySQLVariable(name: name, value: value)
    }

    func addServer(_ server: BackendServer, logger: Logger) async throws { throw refuse("addServer") }
    func updateServers(_ selector: ServerSelector, set change: ServerChange, logger: Logger) async throws -> UInt64 {
        throw refuse("updateServers")
    }
    func removeServers(_ selector: ServerSelector, logger: Logger) async throws -> UInt64 {
        throw refuse("removeServers")
    }
    func loadServersToRuntime(logger: Logger) async throws { throw refuse("loadServersToRuntime") }
    func saveServersToDisk(logger: Logger) async throws { throw refuse("saveServersToDisk") }
    func killSession(_ session: ProxySQLSessionID, logger: Logger) async throws { throw refuse("killSession") }
    func setVariable(_ name: ProxySQLVariable.Name, to value: String, logger: Logger) async throws {
        throw refuse("setVariable")
    }
    func loadVariablesToRuntime(logger: Logger) async throws { throw refuse("loadVariablesToRuntime") }
    func saveVariablesToDisk(logger: Logger) async throws { throw refuse("saveVariablesToDisk") }
}

/// A ProxySQL node that implements only the protocol's requirements without `monitorChecks`, to exercise the
/// protocol's default (a node that cannot tell).
struct MonitorlessProxyAdmin: ProxySQLAdministering {
    let inner: FakeProxyAdmin
    var nodeName: String { inner.nodeName }

    func version(logger: Logger) async throws -> ProxySQLVersion { try await inner.version(logger: logger) }
    func servers(in layer: ConfigurationLayer, hostgroups: Set<HostgroupID>, logger: Logger) async throws
        -> [BackendServer]
    {
        try await inner.servers(in: layer, hostgroups: hostgroups, logger: logger)
    }
    func replicationHostgroupPairs(layer: ConfigurationLayer, logger: Logger) async throws -> [ReplicationHostgroupPair]
    {
        try await inner.replicationHostgroupPairs(layer: layer, logger: logger)
    }
    func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async throws -> ConnectionPoolStats? {
        try await inner.connectionPoolStats(for: server, logger: logger)
    }
    func processlist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID?, logger: Logger) async throws
        -> [ProcesslistEntry]
    {
        try await inner.processlist(attachedTo: endpoint, hostgroup: hostgroup, logger: logger)
    }
    func variable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer, logger: Logger) async throws
        -> ProxySQLVariable
    {
        try await inner.variable(name, layer: layer, logger: logger)
    }
    func addServer(_ server: BackendServer, logger: Logger) async throws {
        try await inner.addServer(server, logger: logger)
    }
    func updateServers(_ selector: ServerSelector, set change: ServerChange, logger: Logger) async throws -> UInt64 {
        try await inner.updateServers(selector, set: change, logger: logger)
    }
    func removeServers(_ selector: ServerSelector, logger: Logger) async throws -> UInt64 {
        try await inner.removeServers(selector, logger: logger)
    }
    func loadServersToRuntime(logger: Logger) async throws { try await inner.loadServersToRuntime(logger: logger) }
    func saveServersToDisk(logger: Logger) async throws { try await inner.saveServersToDisk(logger: logger) }
    func killSession(_ session: ProxySQLSessionID, logger: Logger) async throws {
        try await inner.killSession(session, logger: logger)
    }
    func setVariable(_ name: ProxySQLVariable.Name, to value: String, logger: Logger) async throws {
        try await inner.setVariable(name, to: value, logger: logger)
    }
    func loadVariablesToRuntime(logger: Logger) async throws { try await inner.loadVariablesToRuntime(logger: logger) }
    func saveVariablesToDisk(logger: Logger) async throws { try await inner.saveVariablesToDisk(logger: logger) }
}

/// A ``ReplicationLoginProbing`` that answers what it is told and records each probe (the password included, so
/// that tests can check it was passed; it never leaves the test).
final class FakeReplicationLoginProbe: ReplicationLoginProbing, Sendable {
    private let state: Mutex<(answer: ReversePrerequisites.Login, calls: [String])>

    init(_ answer: ReversePrerequisites.Login) {
        state = Mutex((answer, []))
    }

    func answer(_ login: ReversePrerequisites.Login) {
        state.withLock { $0.answer = login }
    }

    /// `user@host:port tls=required password=…`, one per probe.
    var calls: [String] { state.withLock { $0.calls } }

    func probe(
        _ endpoint: ServerEndpoint, user: String, password: String, tls: ReplicationTLS, logger: Logger
    ) async -> ReversePrerequisites.Login {
        state.withLock { state in
            state.calls.append("\(user)@\(endpoint) tls=\(tls) password=\(password)")
            return state.answer
        }
    }
}
