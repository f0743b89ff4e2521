public import MariaDB

/// One row of `mysql_replication_hostgroups`: a writer/reader hostgroup pair under which ProxySQL's monitor
/// moves servers by their `read_only` value.
///
/// A server listed in either hostgroup of a pair can be moved into the writer hostgroup when the monitor sees
/// it writable (and out of it when it sees it read-only), behind the back of whoever set its status by hand.
/// An Aurora writer under such a pair can become a second writer: preflight must detect it (see
/// ``MonitorExposure``).
public struct ReplicationHostgroupPair: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What the monitor reads to decide (`check_type`).
    public struct CheckType: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The stored text (`read_only`, `innodb_read_only`, `super_read_only`, `read_only|innodb_read_only`,
        /// `read_only&innodb_read_only`).
        public let rawValue: String

        /// Creates a check type from its stored text.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// `read_only`, the default.
        public static let readOnly = CheckType(rawValue: "read_only")
        /// `innodb_read_only` (Aurora's reader instances report it).
        public static let innodbReadOnly = CheckType(rawValue: "innodb_read_only")
        /// `super_read_only`.
        public static let superReadOnly = CheckType(rawValue: "super_read_only")

        public var description: String { rawValue }

        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    /// `writer_hostgroup`.
    public var writerHostgroup: HostgroupID
    /// `reader_hostgroup`.
    public var readerHostgroup: HostgroupID
    /// `check_type` (absent before ProxySQL 2.0, read as ``CheckType/readOnly``).
    public var checkType: CheckType
    /// `comment`.
    public var comment: String

    /// Creates a pair.
    public init(
        writerHostgroup: HostgroupID,
        readerHostgroup: HostgroupID,
        checkType: CheckType = .readOnly,
        comment: String = ""
    ) {
        self.writerHostgroup = writerHostgroup
        self.readerHostgroup = readerHostgroup
        self.checkType = checkType
        self.comment = comment
    }

    /// Whether `hostgroup` is this pair's writer or reader hostgroup.
    public func contains(_ hostgroup: HostgroupID) -> Bool {
        hostgroup == writerHostgroup || hostgroup == readerHostgroup
    }

    /// Reads a row of `mysql_replication_hostgroups` by column name.
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/unexpectedResult``).
    public init(row: Row) throws {
        let reader = RowReader(row: row, table: "mysql_replication_hostgroups")
        self.init(
            writerHostgroup: HostgroupID(try reader.int("writer_hostgroup")),
            readerHostgroup: HostgroupID(try reader.int("reader_hostgroup")),
            checkType: reader.stringIfPresent("check_type").map(CheckType.init(rawValue:)) ?? .readOnly,
            comment: reader.stringIfPresent("comment") ?? ""
        )
    }

    /// `writer 10 / reader 11 (read_only)`.
    public var description: String {
        "writer \(writerHostgroup) / reader \(readerHostgroup) (\(checkType))"
    }
}

/// Which of ProxySQL's two layers a read looks at: the editable configuration (`mysql_servers`, ...) or what
/// is live (`runtime_mysql_servers`, ...).
public enum ConfigurationLayer: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// The configuration tables, edited by statements and applied by `LOAD ... TO RUNTIME`.
    case configured
    /// The `runtime_` tables: what ProxySQL is doing now.
    case runtime

    /// The table name for `base` in this layer (`mysql_servers` or `runtime_mysql_servers`).
    public func table(_ base: String) -> String {
        switch self {
        case .configured: base
        case .runtime: "runtime_" + base
        }
    }

    public var description: String { rawValue }
}

/// A replication hostgroup pair that lets ProxySQL's monitor move a given server, and why.
public struct MonitorExposure: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The server asked about.
    public var endpoint: ServerEndpoint
    /// The pair.
    public var pair: ReplicationHostgroupPair
    /// The layer in which both the pair and the server's rows were found.
    public var layer: ConfigurationLayer
    /// The server's rows that sit in the pair's writer or reader hostgroup (any status).
    public var servers: [BackendServer]

    /// Creates an exposure.
    public init(
        endpoint: ServerEndpoint, pair: ReplicationHostgroupPair, layer: ConfigurationLayer,
        servers: [BackendServer]
    ) {
        self.endpoint = endpoint
        self.pair = pair
        self.layer = layer
        self.servers = servers
    }

    /// Finds the pairs whose writer or reader hostgroup contains `endpoint`, among `servers` (rows of one
    /// layer). Pure: used by ``ProxySQLAdminClient/monitorExposure(of:layers:logger:)``.
    public static func find(
        endpoint: ServerEndpoint,
        pairs: [ReplicationHostgroupPair],
        servers: [BackendServer],
        layer: ConfigurationLayer
    ) -> [MonitorExposure] {
        let rows = servers.filter { $0.endpoint == endpoint }
        return pairs.compactMap { pair in
            let inPair = rows.filter { pair.contains($0.hostgroup) }.sorted { $0.key < $1.key }
            return inPair.isEmpty ? nil : MonitorExposure(endpoint: endpoint, pair: pair, layer: layer, servers: inPair)
        }
    }

    /// `db1:3306 in hostgroups 11 of writer 10 / reader 11 (read_only) [runtime]`.
    public var description: String {
        let hostgroups = servers.map(\.hostgroup.description).joined(separator: ", ")
        return "\(endpoint) in hostgroups \(hostgroups) of \(pair) [\(layer)]"
    }
}
