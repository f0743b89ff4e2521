public import Logging
public import ProxySQLAdmin
public import ReplicationControl

/// Replication health of a database acting as a replica.
public struct ReplicaHealth: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Whether the IO (receiver) thread runs.
    public var ioThreadRunning: Bool
    /// Whether the SQL (applier) thread runs.
    public var sqlThreadRunning: Bool
    /// Seconds behind its source, nil when unknown (a thread is down).
    public var secondsBehind: Int?
    /// The last IO or SQL error the replica reports, nil when none.
    public var lastError: String?
    /// The source it replicates from (`host:port`), nil when not configured.
    public var sourceEndpoint: String?
    /// Whether the replica connects to its source over TLS (`Master_SSL_Allowed`), nil when the server does not say.
    public var usesTLS: Bool?
    /// The `server_id` of the server it replicates from (`Master_Server_Id`), nil when unknown or not connected yet.
    public var sourceServerID: UInt32?
    /// The `server_uuid` of that server (`Master_UUID` / `Source_UUID`, MySQL), nil when unknown.
    public var sourceUUID: String?
    /// The channel's replication filters, nil when not read.
    public var filters: ReplicaStatus.Filters?

    /// Creates a health record.
    public init(
        ioThreadRunning: Bool,
        sqlThreadRunning: Bool,
        secondsBehind: Int?,
        lastError: String?,
        sourceEndpoint: String?,
        usesTLS: Bool? = nil,
        sourceServerID: UInt32? = nil,
        sourceUUID: String? = nil,
        filters: ReplicaStatus.Filters? = nil
    ) {
        self.ioThreadRunning = ioThreadRunning
        self.sqlThreadRunning = sqlThreadRunning
        self.secondsBehind = secondsBehind
        self.lastError = lastError
        self.sourceEndpoint = sourceEndpoint
        self.usesTLS = usesTLS
        self.sourceServerID = sourceServerID
        self.sourceUUID = sourceUUID
        self.filters = filters
    }

    /// Both threads run and no error is reported.
    public var isRunning: Bool { ioThreadRunning && sqlThreadRunning && (lastError ?? "").isEmpty }

    public var description: String {
        "io \(ioThreadRunning ? "running" : "stopped"), sql \(sqlThreadRunning ? "running" : "stopped"), "
            + "lag \(secondsBehind.map { "\($0) s" } ?? "unknown")" + (lastError.map { ", error: \($0)" } ?? "")
    }
}

/// A write transaction that has been open for a while (from `information_schema.innodb_trx`).
public struct LongTransaction: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The connection (`PROCESSLIST` id) running it.
    public var connectionID: UInt64
    /// The connection's account, when known.
    public var user: String?
    /// Seconds since it started.
    public var seconds: Int
    /// Rows it changed so far.
    public var rowsModified: Int

    /// Creates a record.
    public init(connectionID: UInt64, user: String?, seconds: Int, rowsModified: Int) {
        self.connectionID = connectionID
        self.user = user
        self.seconds = seconds
        self.rowsModified = rowsModified
    }

    public var description: String {
        "connection \(connectionID) (\(user ?? "?")) open \(seconds) s, \(rowsModified) row(s) modified"
    }
}

/// What the cut-over needs from one database (the source or the target), in its own terms.
///
/// The live implementation (``ReplicationControlDatabase``) is built on ReplicationControl's controllers; tests
/// use fakes. Every method is bounded by its `timeout` or by the connection's own timeouts.
public protocol CutoverDatabase: Sendable {
    /// `source (10.0.0.5:3306)`, for messages.
    var name: String { get }

    /// Whether `fence(timeout:logger:)` is possible here (false on Aurora: no `SET GLOBAL`).
    var canFence: Bool { get }

    /// Replication health as a replica, or nil when the database replicates from nobody.
    func replicaHealth(logger: Logger) async throws -> ReplicaHealth?

    /// Whether the database can take writes and who it is (`read_only`, `super_read_only`, `innodb_read_only`,
    /// `server_id`, `server_uuid`), for the safety guards; nil when this implementation cannot tell (the default).
    func safetyFacts(logger: Logger) async throws -> DatabaseSafetyFacts?

    /// The binary-log, GTID and retention facts the replication started after a writer switch needs
    /// (``ReversePrerequisites``); nil when this implementation cannot tell (the default: test doubles).
    func reversePrerequisiteFacts(logger: Logger) async throws -> ReversePrerequisites.ServerFacts?

    /// Write transactions open longer than `limit`.
    func longWriteTransactions(olderThan limit: Duration, logger: Logger) async throws -> [LongTransaction]

    /// The current binlog position and GTID state (capture it after fencing writes).
    func currentPosition(logger: Logger) async throws -> ReplicationCoordinate

    /// Makes the database read-only for non-privileged accounts, bounded by `timeout`.
    func fence(timeout: Duration, logger: Logger) async throws

    /// Undoes ``fence(timeout:logger:)``.
    func liftFence(logger: Logger) async throws

    /// Sets `read_only` on (or off) now and keeps it across a restart where the server can (`SET PERSIST` on
    /// MySQL 8.0+); says which option-file lines the operator must add (or take out) otherwise, and those of the
    /// reverse-replication filter. Bounded by `timeout` per statement.
    ///
    /// The default implementation throws: a database that can be fenced implements it.
    func makeReadOnlyDurable(_ readOnly: Bool, timeout: Duration, logger: Logger) async throws -> ReadOnlyDurability

    /// Closes every client session on the database (any account: a privileged one passes `read_only`), except the
    /// cut-over's own, system threads and replication; `users` (the application's accounts) no longer narrows it.
    /// Returns how many were closed.
    func closeSessions(users: [String], logger: Logger) async throws -> Int

    /// Waits until this database, as a replica, has executed `coordinate`; reports progress; bounded by `timeout`.
    ///
    /// - Throws: when the deadline passes, or replication stops or errors while waiting.
    func waitForCatchUp(
        to coordinate: ReplicationCoordinate,
        timeout: Duration,
        progress: @escaping @Sendable (ReplicationCoordinate?) -> Void,
        logger: Logger
    ) async throws

    /// Stops replication and forgets its configuration (this database becomes a primary).
    func stopAndResetReplication(timeout: Duration, logger: Logger) async throws

    /// Configures replication from `source` at `coordinate` and starts it, over TLS when `tls` is
    /// ``ReplicationTLS/required`` (`MASTER_SSL = 1`, or the RDS procedures' `ssl_encryption = 1`). Idempotent: when
    /// replication already runs from that source, nothing is changed.
    func startReplication(
        from source: ServerEndpoint,
        user: String,
        password: String,
        tls: ReplicationTLS,
        at coordinate: ReplicationCoordinate,
        timeout: Duration,
        logger: Logger
    ) async throws

    /// Checks that replication runs without errors, waiting up to `timeout` for the IO thread to connect.
    func verifyReplication(timeout: Duration, logger: Logger) async throws
}

extension CutoverDatabase {
    /// Nil: this database does not report its safety facts (test doubles).
    public func safetyFacts(logger: Logger) async throws -> DatabaseSafetyFacts? { nil }

    /// Throws ``CutoverError/Code/executorFailed``: this database cannot keep `read_only` (see the protocol).
    public func makeReadOnlyDurable(_ readOnly: Bool, timeout: Duration, logger: Logger) async throws
        -> ReadOnlyDurability
    {
        throw CutoverError(
            code: .executorFailed,
            message: "\(name) cannot set read_only",
            remedy: "set read_only by hand and keep it in the server's option file"
        )
    }
}
