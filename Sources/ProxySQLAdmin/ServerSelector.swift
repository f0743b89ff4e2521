/// Which `mysql_servers` rows an update or delete applies to.
public enum ServerSelector: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The one row with this (hostgroup, host, port).
    case key(BackendServer.Key)
    /// Every row whose `comment` equals this text exactly.
    case comment(String)
    /// Every row of this host and port, in any hostgroup.
    case endpoint(ServerEndpoint)
    /// Every row of this hostgroup.
    case hostgroup(HostgroupID)

    public var description: String {
        switch self {
        case .key(let key): "server \(key)"
        case .comment(let comment): "servers with comment \(comment.debugDescription)"
        case .endpoint(let endpoint): "server \(endpoint) in every hostgroup"
        case .hostgroup(let hostgroup): "every server of hostgroup \(hostgroup)"
        }
    }
}

/// The columns an update sets; nil leaves a column as it is.
public struct ServerChange: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A new `status`.
    public var status: BackendStatus?
    /// A new `weight` (0–10 000 000).
    public var weight: Int?
    /// A new `comment`.
    public var comment: String?
    /// A new `max_connections` (≥ 0).
    public var maxConnections: Int?
    /// A new `max_replication_lag` (0–126 144 000).
    public var maxReplicationLag: Int?

    /// Creates a change.
    public init(
        status: BackendStatus? = nil,
        weight: Int? = nil,
        comment: String? = nil,
        maxConnections: Int? = nil,
        maxReplicationLag: Int? = nil
    ) {
        self.status = status
        self.weight = weight
        self.comment = comment
        self.maxConnections = maxConnections
        self.maxReplicationLag = maxReplicationLag
    }

    /// Whether the change sets nothing.
    public var isEmpty: Bool {
        status == nil && weight == nil && comment == nil && maxConnections == nil && maxReplicationLag == nil
    }

    /// The reasons ProxySQL's CHECK constraints would refuse the change, empty when it would accept it.
    public var validationProblems: [String] {
        var problems: [String] = []
        if isEmpty { problems.append("the change sets no column") }
        if let weight, !(0...10_000_000).contains(weight) {
            problems.append("weight \(weight) is outside 0...10000000")
        }
        if let maxConnections, maxConnections < 0 { problems.append("max_connections \(maxConnections) is negative") }
        if let maxReplicationLag, !(0...126_144_000).contains(maxReplicationLag) {
            problems.append("max_replication_lag \(maxReplicationLag) is outside 0...126144000")
        }
        return problems
    }

    /// `status=OFFLINE_SOFT weight=0`.
    public var description: String {
        var parts: [String] = []
        if let status { parts.append("status=\(status)") }
        if let weight { parts.append("weight=\(weight)") }
        if let comment { parts.append("comment=\(comment.debugDescription)") }
        if let maxConnections { parts.append("max_connections=\(maxConnections)") }
        if let maxReplicationLag { parts.append("max_replication_lag=\(maxReplicationLag)") }
        return parts.isEmpty ? "(no change)" : parts.joined(separator: " ")
    }
}
