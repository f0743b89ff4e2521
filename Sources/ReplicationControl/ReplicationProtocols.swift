public import Logging

/// Controls the replica side of one replication stream: configure, start, stop, reset, and read its status.
///
/// Two implementations: ``RDSReplicaController`` (Aurora / RDS, through the `mysql.rds_*` procedures) and
/// ``NativeReplicaController`` (MySQL and MariaDB statements, for reverse replication onto the on-premises source).
/// Both re-read the replica status after a start or stop and return it: a procedure's success message is never
/// taken as proof.
public protocol ReplicaControlling: Sendable {
    /// The replica's endpoint (`host:port`), for messages.
    var endpointDescription: String { get }

    /// The status of the default channel; ``ReplicaStatus/notConfigured(channelName:)`` when no source is set.
    ///
    /// - Throws: ``ReplicationError``.
    func replicaStatus(logger: Logger) async throws -> ReplicaStatus

    /// Points the replica at `source` (replication must be stopped).
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/alreadyRunning`` when replication runs).
    func configureSource(_ source: ReplicationSource, logger: Logger) async throws

    /// Starts replication and waits until the status shows both threads running.
    ///
    /// - Returns: the status that showed them running.
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/alreadyRunning``,
    ///   ``ReplicationError/Code/notConfigured``, ``ReplicationError/Code/replicationFailed`` (a thread stopped
    ///   with an error), ``ReplicationError/Code/stateNotReached`` (not running before the verification deadline).
    func startReplication(logger: Logger) async throws -> ReplicaStatus

    /// Starts replication so that the SQL thread stops at `position` of the source's binlog.
    ///
    /// - Returns: the status after the start was verified.
    /// - Throws: ``ReplicationError`` as ``startReplication(logger:)``.
    func startReplication(until position: BinlogPosition, logger: Logger) async throws -> ReplicaStatus

    /// Stops replication and waits until the status shows both threads stopped.
    ///
    /// - Returns: the status that showed them stopped.
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/notRunning``, ``ReplicationError/Code/notConfigured``,
    ///   ``ReplicationError/Code/stateNotReached``.
    func stopReplication(logger: Logger) async throws -> ReplicaStatus

    /// Forgets the source configuration (stopping replication first if it runs).
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/notConfigured`` when there is nothing to reset).
    func resetReplication(logger: Logger) async throws

    /// Skips the event group the SQL thread stopped on and restarts it.
    ///
    /// - Returns: the status after the restart.
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/nothingToSkip`` when there is no error,
    ///   ``ReplicationError/Code/replicationFailed`` when the next event fails too.
    func skipReplicationError(logger: Logger) async throws -> ReplicaStatus
}

/// Waits until a replica has executed a target, and measures how far behind it is.
public protocol CatchUpWaiting: Sendable {
    /// Waits until the replica has **executed** `target` (not merely received it).
    ///
    /// Uses the server's wait function (`MASTER_POS_WAIT` / `SOURCE_POS_WAIT`, `WAIT_FOR_EXECUTED_GTID_SET`,
    /// `MASTER_GTID_WAIT`) in slices, checking between slices that the SQL thread still runs, or polls the replica
    /// status where no wait function fits.
    ///
    /// - Returns: how long it waited, and how.
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/catchUpTimedOut`` at the deadline,
    ///   ``ReplicationError/Code/replicationFailed`` (with the thread error) or
    ///   ``ReplicationError/Code/replicationNotRunning`` as soon as the SQL thread stops, so a broken replica
    ///   fails fast instead of at the deadline.
    func waitUntilExecuted(_ target: CatchUpTarget, deadline: ContinuousClock.Instant, logger: Logger) async throws
        -> CatchUpResult

    /// How far the replica is behind: seconds (a guard only, absent when a thread is down) and, when the source's
    /// status is given, the binlog distance of the executed and received coordinates.
    ///
    /// - Throws: ``ReplicationError``.
    func lag(behind source: SourceStatus?, logger: Logger) async throws -> ReplicationLag
}

extension CatchUpWaiting {
    /// Waits until the replica has executed `target`, for at most `timeout`.
    ///
    /// - Throws: see ``waitUntilExecuted(_:deadline:logger:)``.
    public func waitUntilExecuted(_ target: CatchUpTarget, timeout: Duration, logger: Logger) async throws
        -> CatchUpResult
    {
        try await waitUntilExecuted(target, deadline: ContinuousClock.now.advanced(by: timeout), logger: logger)
    }
}

/// A replica that can be driven and waited on: what the cut-over needs of Aurora (forward) and of the source
/// (reverse).
public typealias ReplicationControlling = CatchUpWaiting & ReplicaControlling

/// Controls a primary: where its binlog stands, fencing its writes, and which write transactions run long.
public protocol SourceControlling: Sendable {
    /// The server's endpoint (`host:port`), for messages.
    var endpointDescription: String { get }

    /// The server's binlog position and executed GTIDs. Read it **after** fencing writes.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/binaryLogDisabled`` when the binlog is off).
    func sourceStatus(logger: Logger) async throws -> SourceStatus

    /// Sets the server read-only (`super_read_only` where it exists, else `read_only`). Setting it waits for
    /// running commits, so it is bounded by `deadline`.
    ///
    /// - Returns: the fence, to pass to ``liftFence(_:logger:)``.
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/fenceTimedOut`` at the deadline (the statement is
    ///   interrupted), ``ReplicationError/Code/unsupported`` on Aurora (no `SET GLOBAL`),
    ///   ``ReplicationError/Code/permissionDenied``.
    func fenceWrites(deadline: ContinuousClock.Instant, logger: Logger) async throws -> WriteFence

    /// Restores the read-only settings the fence found.
    ///
    /// - Throws: ``ReplicationError``.
    func liftFence(_ fence: WriteFence, logger: Logger) async throws

    /// Open transactions that changed rows or hold locks and started at least `age` ago (needs `PROCESS`).
    ///
    /// - Throws: ``ReplicationError``.
    func longRunningWriteTransactions(olderThan age: Duration, logger: Logger) async throws -> [WriteTransaction]

    /// Sets the server read-only (or writable) now and, where the server can keep it across a restart itself
    /// (``ReplicationDialect/supportsPersistedVariables``), persists it (`SET PERSIST`, or `RESET PERSIST` when
    /// making it writable).
    ///
    /// - Parameters:
    ///   - readOnly: on (the fence) or off.
    ///   - timeout: bound on each statement (setting `read_only` waits for running commits).
    /// - Returns: whether the setting now survives a restart without the operator's help (false: it must go into
    ///   the option file, ``ReplicationDialect/readOnlyOptionFileLines``).
    /// - Throws: ``ReplicationError``.
    func persistReadOnly(_ readOnly: Bool, timeout: Duration, logger: Logger) async throws -> Bool

    /// The read-only settings now, and where `read_only`'s value came from.
    ///
    /// - Throws: ``ReplicationError``.
    func readOnlySetting(logger: Logger) async throws -> ReadOnlySetting
}

/// A server's read-only settings and where they came from (what a restart will do to them).
public struct ReadOnlySetting: Sendable, Hashable, CustomStringConvertible {
    /// Where the current global value of `read_only` was set.
    public enum Origin: String, Sendable, Hashable {
        /// An option file or the command line: it survives a restart.
        case startup
        /// `SET PERSIST` (MySQL 8): it survives a restart.
        case persisted
        /// `SET GLOBAL` at runtime: a restart drops it.
        case runtime
        /// The compiled-in default (off).
        case compiledDefault
        /// The server does not tell (MySQL 5.7, or no access to the variable's source).
        case unknown
    }

    /// `@@GLOBAL.read_only`.
    public var readOnly: Bool
    /// `@@GLOBAL.super_read_only`, nil where it does not exist (MariaDB).
    public var superReadOnly: Bool?
    /// Where `read_only`'s value came from.
    public var origin: Origin

    /// Creates a state.
    public init(readOnly: Bool, superReadOnly: Bool?, origin: Origin) {
        self.readOnly = readOnly
        self.superReadOnly = superReadOnly
        self.origin = origin
    }

    /// Whether the current value survives a restart (nil: cannot tell).
    public var survivesRestart: Bool? {
        switch origin {
        case .startup, .persisted: true
        case .compiledDefault: !readOnly
        case .runtime: false
        case .unknown: nil
        }
    }

    public var description: String {
        "read_only \(readOnly ? "ON" : "OFF")" + (superReadOnly.map { ", super_read_only \($0 ? "ON" : "OFF")" } ?? "")
            + " (set \(origin))"
    }
}

extension SourceControlling {
    /// Fences writes, for at most `timeout`.
    ///
    /// - Throws: see ``fenceWrites(deadline:logger:)``.
    public func fenceWrites(timeout: Duration, logger: Logger) async throws -> WriteFence {
        try await fenceWrites(deadline: ContinuousClock.now.advanced(by: timeout), logger: logger)
    }
}

/// Aurora / RDS settings kept by `mysql.rds_set_configuration`.
public protocol RDSConfigurationControlling: Sendable {
    /// `binlog retention hours`, nil when unset (binlogs may be purged as soon as they are not needed).
    ///
    /// - Throws: ``ReplicationError``.
    func binlogRetentionHours(logger: Logger) async throws -> Int?

    /// Sets `binlog retention hours` (Aurora accepts up to 2160), or clears it with nil.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/invalidArgument`` when out of range).
    func setBinlogRetentionHours(_ hours: Int?, logger: Logger) async throws
}
