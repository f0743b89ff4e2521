public import MariaDB

/// One row of `stats_mysql_connection_pool`: ProxySQL's backend connections to one server of one hostgroup.
///
/// ``connectionsUsed`` (`ConnUsed`) is what a drain watches: it counts backend connections currently lent to a
/// client session, and drops to 0 in the first poll after the last such session returned its connection.
/// A server set `OFFLINE_HARD` and loaded to runtime has **no row** here: read the drain while it is still
/// `OFFLINE_SOFT`.
public struct ConnectionPoolStats: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `hostgroup`.
    public var hostgroup: HostgroupID
    /// `srv_host` and `srv_port`.
    public var endpoint: ServerEndpoint
    /// `status` as ProxySQL reports it in the pool (`SHUNNED_REPLICATION_LAG` reads as ``BackendStatus/shunned``;
    /// see ``statusText``).
    public var status: BackendStatus
    /// `status` exactly as reported.
    public var statusText: String
    /// `ConnUsed`: connections lent to client sessions right now.
    public var connectionsUsed: UInt64
    /// `ConnFree`: idle connections kept in the pool.
    public var connectionsFree: UInt64
    /// `ConnOK`: connections established successfully (cumulative).
    public var connectionsOK: UInt64
    /// `ConnERR`: failed connection attempts (cumulative).
    public var connectionsErrored: UInt64
    /// `MaxConnUsed`: the highest `ConnUsed` seen.
    public var maxConnectionsUsed: UInt64
    /// `Queries`: queries sent to this server (cumulative).
    public var queries: UInt64
    /// `Queries_GTID_sync`, when the ProxySQL version has the column.
    public var queriesGTIDSync: UInt64?
    /// `Bytes_data_sent`.
    public var bytesSent: UInt64
    /// `Bytes_data_recv`.
    public var bytesReceived: UInt64
    /// `Latency_us`: the latest ping latency measured by the monitor, in microseconds.
    public var latencyMicroseconds: UInt64

    /// Creates a row (for tests and fakes).
    public init(
        hostgroup: HostgroupID,
        endpoint: ServerEndpoint,
        status: BackendStatus,
        statusText: String? = nil,
        connectionsUsed: UInt64 = 0,
        connectionsFree: UInt64 = 0,
        connectionsOK: UInt64 = 0,
        connectionsErrored: UInt64 = 0,
        maxConnectionsUsed: UInt64 = 0,
        queries: UInt64 = 0,
        queriesGTIDSync: UInt64? = nil,
        bytesSent: UInt64 = 0,
        bytesReceived: UInt64 = 0,
        latencyMicroseconds: UInt64 = 0
    ) {
        self.hostgroup = hostgroup
        self.endpoint = endpoint
        self.status = status
        self.statusText = statusText ?? status.rawValue
        self.connectionsUsed = connectionsUsed
        self.connectionsFree = connectionsFree
        self.connectionsOK = connectionsOK
        self.connectionsErrored = connectionsErrored
        self.maxConnectionsUsed = maxConnectionsUsed
        self.queries = queries
        self.queriesGTIDSync = queriesGTIDSync
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.latencyMicroseconds = latencyMicroseconds
    }

    /// The (hostgroup, host, port) this row describes.
    public var key: BackendServer.Key { BackendServer.Key(hostgroup: hostgroup, endpoint: endpoint) }

    /// Whether no client session holds a backend connection to this server (`ConnUsed` = 0).
    public var isDrained: Bool { connectionsUsed == 0 }

    /// Reads a row of `stats_mysql_connection_pool` by column name (all values arrive as text).
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/unexpectedResult``) when a required column is
    ///   missing or does not parse. `Queries_GTID_sync` is optional.
    public init(row: Row) throws {
        let reader = RowReader(row: row, table: "stats_mysql_connection_pool")
        let statusText = try reader.string("status")
        guard let status = BackendStatus(parsing: statusText) else {
            throw reader.fail("status", "is not a known status")
        }
        self.init(
            hostgroup: HostgroupID(try reader.int("hostgroup")),
            endpoint: ServerEndpoint(host: try reader.string("srv_host"), port: try reader.int("srv_port")),
            status: status,
            statusText: statusText,
            connectionsUsed: try reader.uint64("ConnUsed"),
            connectionsFree: try reader.uint64("ConnFree"),
            connectionsOK: try reader.uint64("ConnOK"),
            connectionsErrored: try reader.uint64("ConnERR"),
            maxConnectionsUsed: try reader.uint64("MaxConnUsed"),
            queries: try reader.uint64("Queries"),
            queriesGTIDSync: try reader.uint64IfPresent("Queries_GTID_sync"),
            bytesSent: try reader.uint64("Bytes_data_sent"),
            bytesReceived: try reader.uint64("Bytes_data_recv"),
            latencyMicroseconds: try reader.uint64("Latency_us")
        )
    }

    /// `10/db1:3306 ONLINE used 3 free 2`.
    public var description: String {
        "\(key) \(statusText) used \(connectionsUsed) free \(connectionsFree)"
    }
}
