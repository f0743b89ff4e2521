public import ProxySQLAdmin

/// Whether a replication connection that the run sets up (reverse replication after a cut-over; forward replication
/// again after a failback) is encrypted.
///
/// For a native replica it is `MASTER_SSL = 1` (`SOURCE_SSL = 1`); for Aurora it is the `ssl_encryption` argument of
/// `mysql.rds_set_external_source` / `rds_set_external_master`, whose certificates (if any) were imported beforehand
/// with `mysql.rds_import_binlog_ssl_material`. The server certificate is not verified (the RDS procedures do not
/// support `MASTER_SSL_VERIFY_SERVER_CERT`).
public enum ReplicationTLS: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Replicate over TLS; the replica's IO thread fails to connect when the source offers none.
    case required
    /// Replicate in clear text (credentials and row data travel unencrypted): only on a trusted network path.
    case disabled

    public var description: String { rawValue }
}

/// Who is who: the rows ProxySQL routes with, and the addresses and accounts replication uses. Holds no
/// password (those arrive with the ``CutoverEnvironment``), so it can be journaled and fingerprinted.
public struct CutoverTopology: Sendable, Hashable, Codable {
    /// How ProxySQL reaches one database: its writer row and optionally its reader row.
    public struct Routing: Sendable, Hashable, Codable {
        /// The `mysql_servers` key of the writer (hostgroup 10 in the usual layout).
        public var writer: BackendServer.Key
        /// The `mysql_servers` key of the reader (hostgroup 11 in the usual layout), if reads are routed.
        public var reader: BackendServer.Key?

        /// Creates the routing of one database.
        public init(writer: BackendServer.Key, reader: BackendServer.Key? = nil) {
            self.writer = writer
            self.reader = reader
        }
    }

    /// The source's rows (the on-premises or RDS MySQL primary and its reader).
    public var source: Routing
    /// The target's rows (Aurora's writer and reader endpoints).
    public var target: Routing
    /// The ProxySQL nodes, by name, in the order they are changed.
    public var proxyNodes: [String]
    /// How the target reaches the source for forward replication (`rds_set_external_master(host, port, ...)`).
    public var sourceReplicationEndpoint: ServerEndpoint
    /// How the source reaches the target for reverse replication (`CHANGE MASTER TO MASTER_HOST=...`).
    public var targetReplicationEndpoint: ServerEndpoint
    /// The account the target replicates from the source with.
    public var forwardReplicationUser: String
    /// The account the source replicates from the target with (reverse replication).
    public var reverseReplicationUser: String
    /// Application accounts whose sessions are closed on the old writer at OFFLINE_HARD (empty: only the sessions
    /// of any account that hold an open transaction).
    public var applicationUsers: [String]
    /// Whether forward replication (the target replicating from the source), when the run sets it up, uses TLS.
    public var forwardReplicationTLS: ReplicationTLS
    /// Whether reverse replication (the source replicating from the target) uses TLS.
    public var reverseReplicationTLS: ReplicationTLS

    /// Creates a topology; check ``problems`` before using it. Replication the run sets up is encrypted unless told
    /// otherwise.
    public init(
        source: Routing,
        target: Routing,
        proxyNodes: [String],
        sourceReplicationEndpoint: ServerEndpoint,
        targetReplicationEndpoint: ServerEndpoint,
        forwardReplicationUser: String,
        reverseReplicationUser: String,
        applicationUsers: [String] = [],
        forwardReplicationTLS: ReplicationTLS = .required,
        reverseReplicationTLS: ReplicationTLS = .required
    ) {
        self.forwardReplicationTLS = forwardReplicationTLS
        self.reverseReplicationTLS = reverseReplicationTLS
        self.source = source
        self.target = target
        self.proxyNodes = proxyNodes
        self.sourceReplicationEndpoint = sourceReplicationEndpoint
        self.targetReplicationEndpoint = targetReplicationEndpoint
        self.forwardReplicationUser = forwardReplicationUser
        self.reverseReplicationUser = reverseReplicationUser
        self.applicationUsers = applicationUsers
    }

    private enum CodingKeys: String, CodingKey {
        case source, target, proxyNodes, sourceReplicationEndpoint, targetReplicationEndpoint, forwardReplicationUser
        case reverseReplicationUser, applicationUsers, forwardReplicationTLS, reverseReplicationTLS
    }

    /// Decodes a topology; one written before the TLS fields existed replicated in clear text, and decodes so.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(Routing.self, forKey: .source)
        target = try container.decode(Routing.self, forKey: .target)
        proxyNodes = try container.decode([String].self, forKey: .proxyNodes)
        sourceReplicationEndpoint = try container.decode(ServerEndpoint.self, forKey: .sourceReplicationEndpoint)
        targetReplicationEndpoint = try container.decode(ServerEndpoint.self, forKey: .targetReplicationEndpoint)
        forwardReplicationUser = try container.decode(String.self, forKey: .forwardReplicationUser)
        reverseReplicationUser = try container.decode(String.self, forKey: .reverseReplicationUser)
        applicationUsers = try container.decode([String].self, forKey: .applicationUsers)
        forwardReplicationTLS =
            try container.decodeIfPresent(ReplicationTLS.self, forKey: .forwardReplicationTLS) ?? .disabled
        reverseReplicationTLS =
            try container.decodeIfPresent(ReplicationTLS.self, forKey: .reverseReplicationTLS) ?? .disabled
    }

    /// The routing of `role`.
    public func routing(_ role: DatabaseRole) -> Routing {
        role == .source ? source : target
    }

    /// The `mysql_servers` key of a routed server, or nil when the topology has no such row (a reader not routed).
    public func key(of server: RoutedServer) -> BackendServer.Key? {
        let routing = routing(server.role)
        return server.kind == .writer ? routing.writer : routing.reader
    }

    /// Problems that make the topology unusable, each naming the field.
    public var problems: [String] {
        var problems: [String] = []
        if source.writer == target.writer { problems.append("source.writer and target.writer are the same row \(source.writer)") }
        if source.writer.hostgroup != target.writer.hostgroup {
            problems.append("source.writer is in hostgroup \(source.writer.hostgroup) but target.writer in \(target.writer.hostgroup): writers must share a hostgroup")
        }
        if let sourceReader = source.reader, let targetReader = target.reader {
            if sourceReader.hostgroup != targetReader.hostgroup {
                problems.append("source.reader is in hostgroup \(sourceReader.hostgroup) but target.reader in \(targetReader.hostgroup): readers must share a hostgroup")
            }
            if sourceReader == targetReader { problems.append("source.reader and target.reader are the same row") }
        }
        if (source.reader == nil) != (target.reader == nil) {
            problems.append("either both source.reader and target.reader are set, or neither")
        }
        if proxyNodes.isEmpty { problems.append("proxysql: at least one node is needed") }
        if Set(proxyNodes).count != proxyNodes.count { problems.append("proxysql: node names must be distinct") }
        for (field, endpoint) in [
            ("source.writer", source.writer.endpoint), ("target.writer", target.writer.endpoint),
            ("source.replication", sourceReplicationEndpoint), ("target.replication", targetReplicationEndpoint),
        ] where !endpoint.isValid {
            problems.append("\(field): \(endpoint) is not a valid host and port")
        }
        if forwardReplicationUser.isEmpty { problems.append("replication.forward.user is empty") }
        if reverseReplicationUser.isEmpty { problems.append("replication.reverse.user is empty") }
        return problems
    }

    /// A stable identifier of the topology (FNV-1a over its canonical description): journaled with each run and
    /// checked on resume, so a journal from another topology is refused.
    public var fingerprint: String {
        var parts: [String] = []
        func add(_ routing: Routing, _ name: String) {
            parts.append("\(name).writer=\(routing.writer)")
            parts.append("\(name).reader=\(routing.reader.map { "\($0)" } ?? "-")")
        }
        add(source, "source")
        add(target, "target")
        parts.append("proxies=\(proxyNodes.joined(separator: ","))")
        parts.append("source.replication=\(sourceReplicationEndpoint)")
        parts.append("target.replication=\(targetReplicationEndpoint)")
        parts.append("forward.user=\(forwardReplicationUser)")
        parts.append("reverse.user=\(reverseReplicationUser)")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in parts.joined(separator: "\n").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
