/// Where a replica replicates from and where it starts: what `CHANGE MASTER TO` or
/// `mysql.rds_set_external_source` needs.
///
/// ``description`` never shows the password.
public struct ReplicationSource: Sendable, Hashable, CustomStringConvertible {
    /// Where the replica starts reading the source's binary log.
    public enum StartPoint: Sendable, Hashable, CustomStringConvertible {
        /// At a binlog coordinate of the source.
        case position(BinlogPosition)
        /// By GTID: MySQL auto-positioning (`SOURCE_AUTO_POSITION = 1`), or on MariaDB `MASTER_USE_GTID =
        /// slave_pos` from the replica's current `@@gtid_slave_pos`.
        case autoPosition
        /// MariaDB: set `@@gtid_slave_pos` to this position, then replicate with `MASTER_USE_GTID = slave_pos`.
        /// Not available through the RDS procedures.
        case mariaDBGTID(MariaDBGTIDPosition)

        public var description: String {
            switch self {
            case .position(let position): "position \(position)"
            case .autoPosition: "GTID auto-position"
            case .mariaDBGTID(let position): "MariaDB GTID \(position)"
            }
        }
    }

    /// The source's host name or address, as the replica must reach it.
    public var host: String
    /// The source's port.
    public var port: Int
    /// The replication account on the source (`REPLICATION SLAVE`, `REPLICATION CLIENT`).
    public var user: String
    /// Its password; sent as a secret (redacted from logs and errors), never shown.
    public var password: String
    /// Where to start.
    public var startPoint: StartPoint
    /// Whether the replication connection uses TLS (`ssl_encryption` / `MASTER_SSL`).
    public var useTLS: Bool
    /// Seconds between reconnection attempts (`MASTER_CONNECT_RETRY`); native replicas only, nil for the server
    /// default.
    public var connectRetrySeconds: Int?

    /// Creates a source description.
    public init(
        host: String,
        port: Int,
        user: String,
        password: String,
        startPoint: StartPoint,
        useTLS: Bool = false,
        connectRetrySeconds: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.startPoint = startPoint
        self.useTLS = useTLS
        self.connectRetrySeconds = connectRetrySeconds
    }

    /// `user@host:port from <start point>`; the password is not shown.
    public var description: String { "\(user)@\(host):\(port) from \(startPoint)" }

    /// Checks the fields that can be checked without a server.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/invalidArgument``) naming the field.
    public func validate() throws {
        guard !host.isEmpty else { throw ReplicationError(code: .invalidArgument, message: "source host is empty") }
        guard (1...65535).contains(port) else {
            throw ReplicationError(code: .invalidArgument, message: "source port \(port) is out of range 1–65535")
        }
        guard !user.isEmpty else {
            throw ReplicationError(code: .invalidArgument, message: "replication user is empty")
        }
        if let connectRetrySeconds, connectRetrySeconds < 1 {
            throw ReplicationError(code: .invalidArgument, message: "connect retry must be at least 1 second")
        }
    }
}

/// A replication filter for a native replica, so Aurora's own bookkeeping does not break reverse replication.
public enum ReplicationFilter: Sendable, Hashable, CustomStringConvertible {
    /// No filter (clears an earlier filter of this kind).
    case none
    /// Ignore the `mysql.rds_*` tables (`REPLICATE_WILD_IGNORE_TABLE = 'mysql.rds\_%'`): Aurora writes heartbeat
    /// and history rows there that the on-premises source lacks.
    case ignoreRDSTables
    /// Ignore the whole `mysql` schema (`REPLICATE_IGNORE_DB = mysql`). Stronger; also drops account changes.
    case ignoreMySQLSchema

    /// The wild-ignore pattern for ``ignoreRDSTables``.
    public static let rdsTablesPattern = "mysql.rds\\_%"

    public var description: String {
        switch self {
        case .none: "none"
        case .ignoreRDSTables: "ignore \(Self.rdsTablesPattern)"
        case .ignoreMySQLSchema: "ignore schema mysql"
        }
    }
}
