/// What one server should look like in `runtime_mysql_servers` after a LOAD.
///
/// ``BackendStatus/offlineHard`` means "absent": ProxySQL drops such a server from its runtime tables on LOAD.
/// A runtime row that still says `OFFLINE_HARD` (older versions) is accepted too. Any attribute left nil is not
/// checked.
public struct IntendedBackendState: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The server.
    public var key: BackendServer.Key
    /// The status it should have.
    public var status: BackendStatus
    /// `weight` to check, or nil.
    public var weight: Int?
    /// `max_connections` to check, or nil.
    public var maxConnections: Int?
    /// `comment` to check, or nil.
    public var comment: String?
    /// `gtid_port` to check, or nil.
    public var gtidPort: Int?
    /// `compression` to check, or nil.
    public var compression: Int?
    /// `max_replication_lag` to check, or nil.
    public var maxReplicationLag: Int?
    /// `use_ssl` to check, or nil.
    public var useSSL: Bool?
    /// `max_latency_ms` to check, or nil.
    public var maxLatencyMs: Int?

    /// Creates an intended state that checks the status and the attributes given.
    public init(
        key: BackendServer.Key,
        status: BackendStatus,
        weight: Int? = nil,
        maxConnections: Int? = nil,
        comment: String? = nil
    ) {
        self.key = key
        self.status = status
        self.weight = weight
        self.maxConnections = maxConnections
        self.comment = comment
    }

    /// An intended state that checks every column of `server`.
    public static func exactly(_ server: BackendServer) -> IntendedBackendState {
        var state = IntendedBackendState(
            key: server.key,
            status: server.status,
            weight: server.weight,
            maxConnections: server.maxConnections,
            comment: server.comment
        )
        state.gtidPort = server.gtidPort
        state.compression = server.compression
        state.maxReplicationLag = server.maxReplicationLag
        state.useSSL = server.useSSL
        state.maxLatencyMs = server.maxLatencyMs
        return state
    }

    /// The attributes to check, with their expected values as text.
    var checkedAttributes: [(BackendServer.Attribute, String)] {
        var checked: [(BackendServer.Attribute, String)] = []
        if let gtidPort { checked.append((.gtidPort, String(gtidPort))) }
        if let weight { checked.append((.weight, String(weight))) }
        if let compression { checked.append((.compression, String(compression))) }
        if let maxConnections { checked.append((.maxConnections, String(maxConnections))) }
        if let maxReplicationLag { checked.append((.maxReplicationLag, String(maxReplicationLag))) }
        if let useSSL { checked.append((.useSSL, useSSL ? "1" : "0")) }
        if let maxLatencyMs { checked.append((.maxLatencyMs, String(maxLatencyMs))) }
        if let comment { checked.append((.comment, comment)) }
        return checked
    }

    /// `10/db1:3306 OFFLINE_SOFT`.
    public var description: String { "\(key) \(status)" }
}

/// One way the runtime differs from the intended state.
public enum RuntimeDifference: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The server should be live with this status but has no runtime row.
    case missing(BackendServer.Key, expected: BackendStatus)
    /// The server should be absent (intended `OFFLINE_HARD`) but has a live runtime row.
    case shouldBeAbsent(BackendServer)
    /// The server is live with another status (for example `SHUNNED` by ProxySQL itself).
    case statusMismatch(BackendServer.Key, expected: BackendStatus, actual: BackendStatus)
    /// An attribute differs.
    case attributeMismatch(BackendServer.Key, attribute: BackendServer.Attribute, expected: String, actual: String)
    /// A live server in a hostgroup checked exhaustively that the intended state does not list.
    case unexpected(BackendServer)

    /// The server the difference is about.
    public var key: BackendServer.Key {
        switch self {
        case .missing(let key, _), .statusMismatch(let key, _, _), .attributeMismatch(let key, _, _, _): key
        case .shouldBeAbsent(let server), .unexpected(let server): server.key
        }
    }

    public var description: String {
        switch self {
        case .missing(let key, let expected): "\(key) is missing from runtime (expected \(expected))"
        case .shouldBeAbsent(let server):
            "\(server.key) is live as \(server.status) (expected OFFLINE_HARD, absent from runtime)"
        case .statusMismatch(let key, let expected, let actual): "\(key) is \(actual) (expected \(expected))"
        case .attributeMismatch(let key, let attribute, let expected, let actual):
            "\(key) has \(attribute) \(actual.debugDescription) (expected \(expected.debugDescription))"
        case .unexpected(let server): "\(server.key) is live as \(server.status) but not intended"
        }
    }
}

/// The outcome of comparing `runtime_mysql_servers` with an intended state.
public struct RuntimeVerification: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What was intended.
    public var intended: [IntendedBackendState]
    /// The runtime rows read (of the hostgroups concerned).
    public var runtime: [BackendServer]
    /// Every difference found, sorted by server; empty when the runtime matches.
    public var differences: [RuntimeDifference]

    /// Creates a verification result.
    public init(intended: [IntendedBackendState], runtime: [BackendServer], differences: [RuntimeDifference]) {
        self.intended = intended
        self.runtime = runtime
        self.differences = differences
    }

    /// Whether the runtime matches the intended state.
    public var isSatisfied: Bool { differences.isEmpty }

    /// Compares `runtime` with `intended` (pure).
    ///
    /// - Parameters:
    ///   - intended: one state per server; an intended ``BackendStatus/offlineHard`` means "no live row".
    ///   - runtime: rows of `runtime_mysql_servers`.
    ///   - exhaustiveHostgroups: hostgroups whose live servers must all be listed in `intended`; any other live
    ///     server there is reported as ``RuntimeDifference/unexpected(_:)``. Runtime rows saying
    ///     `OFFLINE_HARD` are never live.
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/invalidArgument``) when `intended` lists a
    ///   server twice.
    public static func compare(
        intended: [IntendedBackendState],
        runtime: [BackendServer],
        exhaustiveHostgroups: Set<HostgroupID> = []
    ) throws -> RuntimeVerification {
        var intendedByKey: [BackendServer.Key: IntendedBackendState] = [:]
        for state in intended {
            if intendedByKey.updateValue(state, forKey: state.key) != nil {
                throw ProxySQLAdminError(
                    code: .invalidArgument,
                    message: "the intended state lists a server twice",
                    detail: "\(state.key)"
                )
            }
        }
        var runtimeByKey: [BackendServer.Key: BackendServer] = [:]
        for server in runtime { runtimeByKey[server.key] = server }

        var differences: [RuntimeDifference] = []
        for state in intended {
            let live = runtimeByKey[state.key].flatMap { $0.status == .offlineHard ? nil : $0 }
            guard state.status != .offlineHard else {
                if let live { differences.append(.shouldBeAbsent(live)) }
                continue
            }
            guard let live else {
                differences.append(.missing(state.key, expected: state.status))
                continue
            }
            if live.status != state.status {
                differences.append(.statusMismatch(state.key, expected: state.status, actual: live.status))
            }
            for (attribute, expected) in state.checkedAttributes {
                let actual = live.value(of: attribute)
                if actual != expected {
                    differences.append(
                        .attributeMismatch(state.key, attribute: attribute, expected: expected, actual: actual))
                }
            }
        }
        for server in runtime
        where exhaustiveHostgroups.contains(server.hostgroup) && server.status != .offlineHard
            && intendedByKey[server.key] == nil
        {
            differences.append(.unexpected(server))
        }
        differences.sort { $0.key < $1.key }
        return RuntimeVerification(intended: intended, runtime: runtime, differences: differences)
    }

    /// Compares a runtime with the configuration it should have been loaded from: every configured row must be
    /// live with all its columns (absent when `OFFLINE_HARD`), and nothing else may be live in `hostgroups`
    /// (every hostgroup seen in either table when nil).
    public static func compare(
        configured: [BackendServer],
        runtime: [BackendServer],
        hostgroups: Set<HostgroupID>? = nil
    ) throws -> RuntimeVerification {
        let scope = hostgroups ?? Set(configured.map(\.hostgroup) + runtime.map(\.hostgroup))
        let inScope = configured.filter { scope.contains($0.hostgroup) }
        return try compare(
            intended: inScope.map(IntendedBackendState.exactly),
            runtime: runtime.filter { scope.contains($0.hostgroup) },
            exhaustiveHostgroups: scope
        )
    }

    /// `runtime matches (3 servers)` or the differences.
    public var description: String {
        if isSatisfied { return "runtime matches (\(intended.count) servers)" }
        return "runtime differs: " + differences.map(\.description).joined(separator: "; ")
    }
}
