/// One replication channel's status, as `SHOW SLAVE STATUS` / `SHOW REPLICA STATUS` report it, in the
/// source/replica vocabulary whatever the server's column names.
///
/// The **executed** coordinate (``executedPosition``: `Relay_Master_Log_File` / `Exec_Master_Log_Pos`) is what the
/// replica has applied; the **received** one (``receivedPosition``: `Master_Log_File` / `Read_Master_Log_Pos`) is
/// what it has downloaded. Catch-up is proven by the executed coordinate (or the executed GTIDs), never by
/// ``secondsBehindSource``, which is nil whenever a thread is down.
///
/// Build one with ``parse(_:)-(ResultSet)`` or ``init(row:)``; the column names are mapped in a single table (see
/// `ReplicaStatus+Columns.swift`).
public struct ReplicaStatus: Sendable, Hashable {
    /// The last error of a replication thread.
    public struct ThreadError: Sendable, Hashable, CustomStringConvertible {
        /// The server error number (`1062` for a duplicate key, `1236` for a binlog read error, ...).
        public var number: UInt32
        /// The error text.
        public var message: String
        /// When it happened, as the server printed it (`Last_SQL_Error_Timestamp`), if it did.
        public var timestamp: String?

        /// Creates a thread error.
        public init(number: UInt32, message: String, timestamp: String? = nil) {
            self.number = number
            self.message = message
            self.timestamp = timestamp
        }

        public var description: String { "\(number): \(message)" }
    }

    /// How the replica positions itself on the source.
    public enum GTIDMode: String, Sendable, Hashable, CustomStringConvertible {
        /// By binlog file and position.
        case off
        /// MySQL GTID auto-positioning (`Auto_Position: 1`).
        case autoPosition
        /// MariaDB GTID from `@@gtid_slave_pos` (`Using_Gtid: Slave_Pos`).
        case mariaDBSlavePos
        /// MariaDB GTID from `@@gtid_current_pos` (`Using_Gtid: Current_Pos`).
        case mariaDBCurrentPos

        public var description: String { rawValue }
    }

    /// GTID information of the channel.
    public struct GTIDInfo: Sendable, Hashable {
        /// How the replica positions itself.
        public var mode: GTIDMode
        /// MySQL: the GTIDs received (`Retrieved_Gtid_Set`), when shown.
        public var retrievedSet: MySQLGTIDSet?
        /// MySQL: the GTIDs executed on the replica (`Executed_Gtid_Set`), when shown.
        public var executedSet: MySQLGTIDSet?
        /// MariaDB: the GTID position received (`Gtid_IO_Pos`), when shown and not empty.
        public var receivedPosition: MariaDBGTIDPosition?
        /// MariaDB: the GTID position applied (`Gtid_Slave_Pos`, only in `SHOW ALL SLAVES STATUS`).
        public var executedPosition: MariaDBGTIDPosition?

        /// Creates GTID information.
        public init(
            mode: GTIDMode = .off,
            retrievedSet: MySQLGTIDSet? = nil,
            executedSet: MySQLGTIDSet? = nil,
            receivedPosition: MariaDBGTIDPosition? = nil,
            executedPosition: MariaDBGTIDPosition? = nil
        ) {
            self.mode = mode
            self.retrievedSet = retrievedSet
            self.executedSet = executedSet
            self.receivedPosition = receivedPosition
            self.executedPosition = executedPosition
        }

        /// Whether the replica positions itself by GTID (MySQL auto-position or MariaDB `Using_Gtid`).
        public var usesGTID: Bool { mode != .off }
    }

    /// The replication filters of the channel (`Replicate_*`).
    public struct Filters: Sendable, Hashable, Codable {
        /// `Replicate_Do_DB`.
        public var doDatabases: [String] = []
        /// `Replicate_Ignore_DB`.
        public var ignoreDatabases: [String] = []
        /// `Replicate_Do_Table`.
        public var doTables: [String] = []
        /// `Replicate_Ignore_Table`.
        public var ignoreTables: [String] = []
        /// `Replicate_Wild_Do_Table` (LIKE patterns, `\_` for a literal underscore).
        public var wildDoTables: [String] = []
        /// `Replicate_Wild_Ignore_Table` (LIKE patterns; ``ReplicationFilter/rdsTablesPattern`` for Aurora's tables).
        public var wildIgnoreTables: [String] = []
        /// `Replicate_Rewrite_DB`, as the server printed it.
        public var rewriteDatabases: String?
        /// `Replicate_Ignore_Server_Ids`.
        public var ignoreServerIDs: [UInt32] = []
        /// MariaDB `Replicate_Do_Domain_Ids`.
        public var doDomainIDs: [UInt32] = []
        /// MariaDB `Replicate_Ignore_Domain_Ids`.
        public var ignoreDomainIDs: [UInt32] = []

        /// No filter.
        public init() {}

        /// Whether no filter is set.
        public var isEmpty: Bool {
            doDatabases.isEmpty && ignoreDatabases.isEmpty && doTables.isEmpty && ignoreTables.isEmpty
                && wildDoTables.isEmpty && wildIgnoreTables.isEmpty && (rewriteDatabases ?? "").isEmpty
                && ignoreServerIDs.isEmpty && doDomainIDs.isEmpty && ignoreDomainIDs.isEmpty
        }
    }

    /// Which spelling of the column names the server used.
    public enum ColumnNaming: String, Sendable, Hashable {
        /// `Slave_IO_Running`, `Master_Log_File`, ... (MySQL before 8.0.22, MariaDB always).
        case legacy
        /// `Replica_IO_Running`, `Source_Log_File`, ... (MySQL 8.0.22+ `SHOW REPLICA STATUS`).
        case modern
    }

    /// The channel (MySQL `Channel_Name`) or connection (MariaDB `Connection_name`); empty for the default one.
    public var channelName: String = ""
    /// The IO (receiver) thread.
    public var ioThread: ReplicationThreadState
    /// The SQL (applier) thread.
    public var sqlThread: ReplicationThreadState
    /// What the IO thread is doing (`Waiting for master to send event`), when shown.
    public var ioThreadStateText: String?
    /// What the SQL thread is doing (`Slave has read all relay log; ...`), when shown.
    public var sqlThreadStateText: String?
    /// The source's host.
    public var sourceHost: String?
    /// The source's port.
    public var sourcePort: Int?
    /// The replication account on the source.
    public var sourceUser: String?
    /// The source's `server_id`, when known.
    public var sourceServerID: UInt32?
    /// The source's server UUID (MySQL), when known.
    public var sourceUUID: String?
    /// The received coordinate in the source's binlog; nil when not known (for example after a reset).
    public var receivedPosition: BinlogPosition?
    /// The executed coordinate in the source's binlog; nil when not known (for example after a reset).
    public var executedPosition: BinlogPosition?
    /// `Seconds_Behind_Master` / `Seconds_Behind_Source`; nil when the server shows `NULL` (a thread is down).
    public var secondsBehindSource: Int?
    /// The IO thread's last error, nil when there is none.
    public var lastIOError: ThreadError?
    /// The SQL thread's last error, nil when there is none.
    public var lastSQLError: ThreadError?
    /// GTID information.
    public var gtid: GTIDInfo = GTIDInfo()
    /// Replication filters.
    public var filters: Filters = Filters()
    /// Configured delay of the applier in seconds (`SQL_Delay`), when shown.
    public var sqlDelay: Int?
    /// `Skip_Counter`, when shown.
    public var skipCounter: Int?
    /// `Until_Condition` (`None`, `Master`, `Relay`, `SQL_BEFORE_GTIDS`, ...), when shown.
    public var untilCondition: String?
    /// Whether the replica is configured to connect to its source over TLS (`Master_SSL_Allowed` /
    /// `Source_SSL_Allowed`: `Yes` → true, `No` → false); nil when not shown or `Ignored`.
    public var usesTLS: Bool?
    /// Which column names the server used.
    public var columnNaming: ColumnNaming = .legacy

    /// Creates a status with the given thread states and nothing else known.
    public init(ioThread: ReplicationThreadState, sqlThread: ReplicationThreadState, channelName: String = "") {
        self.ioThread = ioThread
        self.sqlThread = sqlThread
        self.channelName = channelName
    }

    /// The status of a replica without a configured source (an empty `SHOW SLAVE STATUS`).
    public static func notConfigured(channelName: String = "") -> ReplicaStatus {
        ReplicaStatus(ioThread: .notConfigured, sqlThread: .notConfigured, channelName: channelName)
    }

    /// Whether a source is configured.
    public var isConfigured: Bool { ioThread != .notConfigured && sqlThread != .notConfigured }

    /// Whether both threads run (the IO thread connected, not merely connecting).
    public var isRunning: Bool { ioThread == .running && sqlThread == .running }

    /// Whether both threads are stopped (or replication is not configured).
    public var isStopped: Bool {
        (ioThread == .stopped || ioThread == .notConfigured) && (sqlThread == .stopped || sqlThread == .notConfigured)
    }

    /// Whether a thread shows an error.
    public var hasError: Bool { lastIOError != nil || lastSQLError != nil }
}

extension ReplicaStatus: CustomStringConvertible {
    /// A one-line summary: thread states, executed position, lag and errors (no credentials).
    public var description: String {
        guard isConfigured else { return "replica not configured" }
        var text = "io=\(ioThread) sql=\(sqlThread)"
        if !channelName.isEmpty { text = "channel \(channelName): " + text }
        if let executedPosition { text += " executed=\(executedPosition)" }
        if let receivedPosition { text += " received=\(receivedPosition)" }
        if let secondsBehindSource { text += " lag=\(secondsBehindSource)s" }
        if let lastSQLError { text += " sql_error=\(lastSQLError.number)" }
        if let lastIOError { text += " io_error=\(lastIOError.number)" }
        return text
    }
}
