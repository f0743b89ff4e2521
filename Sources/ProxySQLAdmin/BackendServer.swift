public import MariaDB

/// One row of ProxySQL's `mysql_servers` (or `runtime_mysql_servers`): a backend in a hostgroup, with every
/// column of the table.
///
/// The defaults of the initializer are ProxySQL's column defaults, so
/// `BackendServer(hostgroup: 10, host: "aurora-writer", status: .offlineHard)` is what an
/// `INSERT ... (hostgroup_id, hostname, status)` would store.
public struct BackendServer: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The primary key of `mysql_servers`: (hostgroup_id, hostname, port). The same host can be in several
    /// hostgroups (a writer also listed as a reader) under different keys.
    public struct Key: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
        /// The hostgroup.
        public var hostgroup: HostgroupID
        /// The backend's host and port.
        public var endpoint: ServerEndpoint

        /// Creates a key.
        public init(hostgroup: HostgroupID, endpoint: ServerEndpoint) {
            self.hostgroup = hostgroup
            self.endpoint = endpoint
        }

        /// Creates a key from its three columns.
        public init(hostgroup: HostgroupID, host: String, port: Int = 3306) {
            self.init(hostgroup: hostgroup, endpoint: ServerEndpoint(host: host, port: port))
        }

        public static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.hostgroup, lhs.endpoint) < (rhs.hostgroup, rhs.endpoint)
        }

        /// `hostgroup/host:port`, for example `10/db1:3306`.
        public var description: String { "\(hostgroup)/\(endpoint)" }
    }

    /// A column of `mysql_servers` other than the key, for reporting differences.
    public enum Attribute: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        /// The column `gtid_port`.
        case gtidPort = "gtid_port"
        /// The column `status`.
        case status
        /// The column `weight`.
        case weight
        /// The column `compression`.
        case compression
        /// The column `max_connections`.
        case maxConnections = "max_connections"
        /// The column `max_replication_lag`.
        case maxReplicationLag = "max_replication_lag"
        /// The column `use_ssl`.
        case useSSL = "use_ssl"
        /// The column `max_latency_ms`.
        case maxLatencyMs = "max_latency_ms"
        /// The column `comment`.
        case comment

        /// The column name.
        public var description: String { rawValue }
    }

    /// `hostgroup_id`.
    public var hostgroup: HostgroupID
    /// `hostname` and `port`.
    public var endpoint: ServerEndpoint
    /// `gtid_port`: the port of ProxySQL's binlog reader on that host, 0 for none.
    public var gtidPort: Int
    /// `status`.
    public var status: BackendStatus
    /// `weight` (0–10 000 000): share of traffic within the hostgroup.
    public var weight: Int
    /// `compression` (0 or 1 in the table).
    public var compression: Int
    /// `max_connections`: bound on ProxySQL's backend connections to this server.
    public var maxConnections: Int
    /// `max_replication_lag` in seconds (0 = not checked).
    public var maxReplicationLag: Int
    /// `use_ssl`.
    public var useSSL: Bool
    /// `max_latency_ms` (0 = not checked).
    public var maxLatencyMs: Int
    /// `comment`: free text; operators often put a role name here (`aurora-writer`).
    public var comment: String

    /// Creates a row; every argument but the hostgroup and host defaults to ProxySQL's column default.
    public init(
        hostgroup: HostgroupID,
        endpoint: ServerEndpoint,
        gtidPort: Int = 0,
        status: BackendStatus = .online,
        weight: Int = 1,
        compression: Int = 0,
        maxConnections: Int = 1000,
        maxReplicationLag: Int = 0,
        useSSL: Bool = false,
        maxLatencyMs: Int = 0,
        comment: String = ""
    ) {
        self.hostgroup = hostgroup
        self.endpoint = endpoint
        self.gtidPort = gtidPort
        self.status = status
        self.weight = weight
        self.compression = compression
        self.maxConnections = maxConnections
        self.maxReplicationLag = maxReplicationLag
        self.useSSL = useSSL
        self.maxLatencyMs = maxLatencyMs
        self.comment = comment
    }

    /// Creates a row from a host and port, with ProxySQL's defaults for the columns not given.
    public init(
        hostgroup: HostgroupID,
        host: String,
        port: Int = 3306,
        status: BackendStatus = .online,
        weight: Int = 1,
        maxConnections: Int = 1000,
        comment: String = ""
    ) {
        self.init(
            hostgroup: hostgroup,
            endpoint: ServerEndpoint(host: host, port: port),
            status: status,
            weight: weight,
            maxConnections: maxConnections,
            comment: comment
        )
    }

    /// The row's primary key.
    public var key: Key { Key(hostgroup: hostgroup, endpoint: endpoint) }

    /// The value of `attribute`, as text (for reporting differences).
    public func value(of attribute: Attribute) -> String {
        switch attribute {
        case .gtidPort: String(gtidPort)
        case .status: status.rawValue
        case .weight: String(weight)
        case .compression: String(compression)
        case .maxConnections: String(maxConnections)
        case .maxReplicationLag: String(maxReplicationLag)
        case .useSSL: useSSL ? "1" : "0"
        case .maxLatencyMs: String(maxLatencyMs)
        case .comment: comment
        }
    }

    /// The reasons ProxySQL's CHECK constraints would refuse this row, empty when it would accept it.
    ///
    /// Mirrors the checks of ProxySQL 2.x: hostgroup ≥ 0, non-empty host, ports 0–65 535 with `gtid_port`
    /// different from `port` unless 0, weight 0–10 000 000, compression 0 or 1, max_connections ≥ 0,
    /// max_replication_lag 0–126 144 000, max_latency_ms ≥ 0.
    public var validationProblems: [String] {
        var problems: [String] = []
        if !hostgroup.isValid { problems.append("hostgroup_id \(hostgroup) is negative") }
        if endpoint.host.isEmpty { problems.append("hostname is empty") }
        if !(0...65535).contains(endpoint.port) { problems.append("port \(endpoint.port) is outside 0...65535") }
        if !(0...65535).contains(gtidPort) { problems.append("gtid_port \(gtidPort) is outside 0...65535") }
        if gtidPort != 0, gtidPort == endpoint.port { problems.append("gtid_port equals port") }
        if !(0...10_000_000).contains(weight) { problems.append("weight \(weight) is outside 0...10000000") }
        if !(0...1).contains(compression) { problems.append("compression \(compression) is not 0 or 1") }
        if maxConnections < 0 { problems.append("max_connections \(maxConnections) is negative") }
        if !(0...126_144_000).contains(maxReplicationLag) {
            problems.append("max_replication_lag \(maxReplicationLag) is outside 0...126144000")
        }
        if maxLatencyMs < 0 { problems.append("max_latency_ms \(maxLatencyMs) is negative") }
        return problems
    }

    /// `10/db1:3306 ONLINE weight 1`.
    public var description: String {
        var text = "\(key) \(status) weight \(weight)"
        if !comment.isEmpty { text += " comment \(comment.debugDescription)" }
        return text
    }
}

extension BackendServer {
    /// The columns of `mysql_servers`, in table order.
    public static let columnNames = [
        "hostgroup_id", "hostname", "port", "gtid_port", "status", "weight", "compression", "max_connections",
        "max_replication_lag", "use_ssl", "max_latency_ms", "comment",
    ]

    /// Reads a row of `mysql_servers` or `runtime_mysql_servers` by column name. Every value arrives as text
    /// (the admin interface types all columns as strings) and is parsed here.
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/unexpectedResult``) when a column is
    ///   missing, `NULL`, or does not parse.
    public init(row: Row) throws {
        let reader = RowReader(row: row, table: "mysql_servers")
        self.init(
            hostgroup: HostgroupID(try reader.int("hostgroup_id")),
            endpoint: ServerEndpoint(host: try reader.string("hostname"), port: try reader.int("port")),
            gtidPort: try reader.int("gtid_port"),
            status: try reader.status("status"),
            weight: try reader.int("weight"),
            compression: try reader.int("compression"),
            maxConnections: try reader.int("max_connections"),
            maxReplicationLag: try reader.int("max_replication_lag"),
            useSSL: try reader.int("use_ssl") != 0,
            maxLatencyMs: try reader.int("max_latency_ms"),
            comment: try reader.string("comment")
        )
    }
}

/// Reads typed values from a text row, throwing ``ProxySQLAdminError`` with the table and column named.
struct RowReader {
    let row: Row
    let table: String

    func fail(_ column: String, _ problem: String) -> ProxySQLAdminError {
        ProxySQLAdminError(code: .unexpectedResult, message: "\(table).\(column) \(problem)")
    }

    func value(_ column: String) throws -> SQLValue {
        guard let value = row[column] else { throw fail(column, "is missing from the result") }
        return value
    }

    func string(_ column: String) throws -> String {
        guard let text = try value(column).string else { throw fail(column, "is NULL") }
        return text
    }

    func optionalString(_ column: String) throws -> String? {
        try value(column).string
    }

    /// nil when the column is absent (older ProxySQL versions) or NULL.
    func stringIfPresent(_ column: String) -> String? {
        row[column]?.string
    }

    func int(_ column: String) throws -> Int {
        let text = try string(column)
        guard let number = Int(text.trimmingSpaces()) else { throw fail(column, "is not an integer") }
        return number
    }

    func uint64(_ column: String) throws -> UInt64 {
        let text = try string(column)
        guard let number = UInt64(text.trimmingSpaces()) else { throw fail(column, "is not an unsigned integer") }
        return number
    }

    func optionalInt(_ column: String) throws -> Int? {
        guard let text = try optionalString(column) else { return nil }
        let trimmed = text.trimmingSpaces()
        if trimmed.isEmpty { return nil }
        guard let number = Int(trimmed) else { throw fail(column, "is not an integer") }
        return number
    }

    /// nil when the column is absent or NULL; throws when present but not a number.
    func uint64IfPresent(_ column: String) throws -> UInt64? {
        guard let value = row[column], let text = value.string else { return nil }
        guard let number = UInt64(text.trimmingSpaces()) else { throw fail(column, "is not an unsigned integer") }
        return number
    }

    func status(_ column: String) throws -> BackendStatus {
        let text = try string(column)
        guard let status = BackendStatus(parsing: text) else { throw fail(column, "is not a known status") }
        return status
    }
}
