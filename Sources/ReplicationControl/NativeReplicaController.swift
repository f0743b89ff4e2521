public import Logging
public import MariaDB

/// Drives replication on MySQL or MariaDB with the server's own statements (`CHANGE MASTER TO` /
/// `CHANGE REPLICATION SOURCE TO`, `START`/`STOP`/`RESET SLAVE|REPLICA`), chosen by the ``ReplicationDialect``.
///
/// Used on the on-premises source for reverse replication from Aurora. ``configureSource(_:logger:)`` also
/// installs the ``ReplicationFilter`` of the options (by default ignoring Aurora's `mysql.rds_*` tables, whose
/// writes would otherwise stop the replica on tables the source lacks). The account needs `REPLICATION SLAVE
/// ADMIN` (or `SUPER`), and `SLAVE MONITOR` / `REPLICATION CLIENT` for the status.
///
/// Start and stop are verified like ``RDSReplicaController``'s: the status is re-read until it shows the
/// expected thread states.
public struct NativeReplicaController: ReplicaControlling, CatchUpWaiting, DialectReplicaController {
    /// Tuning.
    public struct Options: Sendable, Hashable {
        /// The filter ``configureSource(_:logger:)`` installs.
        public var filter: ReplicationFilter
        /// How long to keep re-reading the status after a start or stop before giving up.
        public var verificationTimeout: Duration
        /// Time between those status reads.
        public var verificationInterval: Duration
        /// Deadline of one statement.
        public var statementTimeout: Duration
        /// How catch-up waits run.
        public var catchUp: CatchUpWaiter.Options

        /// Creates options.
        public init(
            filter: ReplicationFilter = .ignoreRDSTables,
            verificationTimeout: Duration = .seconds(15),
            verificationInterval: Duration = .milliseconds(50),
            statementTimeout: Duration = .seconds(30),
            catchUp: CatchUpWaiter.Options = CatchUpWaiter.Options()
        ) {
            self.filter = filter
            self.verificationTimeout = verificationTimeout
            self.verificationInterval = verificationInterval
            self.statementTimeout = statementTimeout
            self.catchUp = catchUp
        }
    }

    /// The replica's session.
    public var session: any SQLSession { core.session }
    /// The replica's dialect.
    public var dialect: ReplicationDialect { core.dialect }
    /// Tuning.
    public let options: Options
    private let core: ReplicaControllerCore

    /// Creates a controller.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/unsupported``) for Aurora, which refuses these
    ///   statements (use ``RDSReplicaController``).
    ///
    /// - Parameter clock: the clock the verification and catch-up waits are measured and slept on (tests pass a
    ///   manual clock).
    public init(
        session: any SQLSession, dialect: ReplicationDialect, options: Options = Options(),
        clock: ReplicationClock = .continuous
    ) throws {
        guard !dialect.isAurora else {
            throw ReplicationError(
                code: .unsupported,
                message: "Aurora does not allow CHANGE MASTER or START SLAVE; use RDSReplicaController",
                endpoint: session.endpointDescription
            )
        }
        self.options = options
        self.core = ReplicaControllerCore(
            session: session, dialect: dialect, statusTimeout: options.statementTimeout,
            verificationTimeout: options.verificationTimeout, verificationInterval: options.verificationInterval,
            catchUp: options.catchUp, clock: clock)
    }

    /// Detects the dialect of the server behind `session`, then creates a controller.
    ///
    /// - Throws: ``ReplicationError``.
    public static func detecting(on session: any SQLSession, options: Options = Options(), logger: Logger) async throws
        -> NativeReplicaController
    {
        try await Self.detected(on: session, options: options, logger: logger)
    }

    /// `host:port` of the server this controller drives, for messages.
    public var endpointDescription: String { session.endpointDescription }

    // MARK: ReplicaControlling

    /// Reads `SHOW REPLICA STATUS` (or `SHOW SLAVE STATUS`) and parses it by column name.
    ///
    /// - Throws: ``ReplicationError`` when it cannot be read or parsed.
    public func replicaStatus(logger: Logger) async throws -> ReplicaStatus {
        try await core.replicaStatus()
    }

    /// Points the replica at `source` (`CHANGE MASTER TO` / `CHANGE REPLICATION SOURCE TO`) and installs
    /// ``Options/filter``. Replication must be stopped.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/alreadyRunning`` while it runs, or a wrapped server
    ///   error).
    public func configureSource(_ source: ReplicationSource, logger: Logger) async throws {
        let statements = try dialect.changeSourceStatements(source)
        let status = try await replicaStatus(logger: logger)
        guard status.isStopped else {
            throw ReplicationError(
                code: .alreadyRunning,
                message: "replication runs (\(status)); stop it before changing the source",
                endpoint: endpointDescription
            )
        }
        for statement in statements {
            try await run(statement, what: "configure the replication source")
        }
        for statement in dialect.replicationFilterStatements(options.filter) {
            try await run(statement, what: "set the replication filter")
        }
        logger.debug(
            "replication source configured",
            metadata: ["replication.source": "\(source)", "replication.filter": "\(options.filter)"]
        )
    }

    /// Starts replication (`START REPLICA` / `START SLAVE`), then re-reads the status until both threads run.
    ///
    /// - Throws: ``ReplicationError`` when it does not start within the verification timeout.
    public func startReplication(logger: Logger) async throws -> ReplicaStatus {
        try await requireStartable(logger: logger)
        try await run(dialect.startReplicaStatement, what: "start replication")
        return try await core.verify(logger: logger, expectation: "both threads running") { $0.isRunning }
    }

    /// Starts replication until the SQL thread reaches `position`, then checks it runs (or already stopped there).
    ///
    /// - Throws: ``ReplicationError``.
    public func startReplication(until position: BinlogPosition, logger: Logger) async throws -> ReplicaStatus {
        try await requireStartable(logger: logger)
        try await run(dialect.startReplicaUntilStatement(position), what: "start replication until \(position)")
        return try await core.verify(logger: logger, expectation: "running until \(position)") { status in
            status.isRunning || RDSReplicaController.stoppedAtUntil(status, position)
        }
    }

    /// Stops both replication threads, then re-reads the status until they are stopped.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/notConfigured``, ``ReplicationError/Code/notRunning``,
    ///   or a server error).
    public func stopReplication(logger: Logger) async throws -> ReplicaStatus {
        let status = try await replicaStatus(logger: logger)
        guard status.isConfigured else {
            throw ReplicationError(
                code: .notConfigured, message: "replication is not configured", endpoint: endpointDescription)
        }
        guard !status.isStopped else {
            throw ReplicationError(
                code: .notRunning, message: "replication is already stopped", endpoint: endpointDescription)
        }
        try await run(dialect.stopReplicaStatement, what: "stop replication")
        return try await core.verify(logger: logger, expectation: "both threads stopped") { $0.isStopped }
    }

    /// Stops replication if needed and forgets its configuration (`RESET REPLICA ALL` / `RESET SLAVE ALL`).
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/notConfigured`` when nothing is configured).
    public func resetReplication(logger: Logger) async throws {
        let status = try await replicaStatus(logger: logger)
        guard status.isConfigured else {
            throw ReplicationError(
                code: .notConfigured, message: "replication is not configured", endpoint: endpointDescription)
        }
        if !status.isStopped {
            try await run(dialect.stopReplicaStatement, what: "stop replication")
        }
        try await run(dialect.resetReplicaStatement, what: "reset replication")
        _ = try await core.verify(logger: logger, expectation: "no source configured") { !$0.isConfigured }
    }

    /// Skips the one event the SQL thread stopped on and starts it again.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/nothingToSkip`` when the SQL thread shows no error).
    public func skipReplicationError(logger: Logger) async throws -> ReplicaStatus {
        let status = try await replicaStatus(logger: logger)
        guard status.isConfigured else {
            throw ReplicationError(
                code: .notConfigured, message: "replication is not configured", endpoint: endpointDescription)
        }
        guard status.sqlThread == .stopped, status.lastSQLError != nil else {
            throw ReplicationError(
                code: .nothingToSkip, message: "the SQL thread shows no error to skip (\(status))",
                endpoint: endpointDescription)
        }
        if !dialect.isMariaDB, status.gtid.mode == .autoPosition {
            throw ReplicationError(
                code: .unsupported,
                message:
                    "a MySQL replica with GTID auto-positioning cannot skip by counter; commit an empty transaction for the failing GTID",
                endpoint: endpointDescription
            )
        }
        let counter =
            !dialect.isMariaDB && dialect.version >= ServerVersion(8, 0, 26)
            ? "sql_replica_skip_counter" : "sql_slave_skip_counter"
        if status.ioThread != .stopped {
            try await run(dialect.stopReplicaStatement, what: "stop replication")
        }
        try await run("SET GLOBAL \(unsafeRaw: counter) = 1", what: "set the skip counter")
        try await run(dialect.startReplicaStatement, what: "start replication")
        return try await core.verify(logger: logger, expectation: "both threads running") { $0.isRunning }
    }

    // MARK: CatchUpWaiting

    /// Waits until this replica has executed `target` (see ``CatchUpWaiter``).
    ///
    /// - Throws: ``ReplicationError`` at `deadline`, or when the applier stops or fails.
    public func waitUntilExecuted(_ target: CatchUpTarget, deadline: ContinuousClock.Instant, logger: Logger)
        async throws
        -> CatchUpResult
    {
        try await core.waiter.waitUntilExecuted(target, deadline: deadline, logger: logger)
    }

    /// This replica's lag behind `source` (see ``CatchUpWaiter/lag(behind:logger:)``).
    ///
    /// - Throws: ``ReplicationError``.
    public func lag(behind source: SourceStatus?, logger: Logger) async throws -> ReplicationLag {
        try await core.waiter.lag(behind: source, logger: logger)
    }

    // MARK: Internals

    private func requireStartable(logger: Logger) async throws {
        let status = try await replicaStatus(logger: logger)
        guard status.isConfigured else {
            throw ReplicationError(
                code: .notConfigured, message: "replication is not configured; configure a source first",
                endpoint: endpointDescription)
        }
        guard status.isStopped else {
            throw ReplicationError(
                code: .alreadyRunning, message: "replication already runs (\(status))", endpoint: endpointDescription)
        }
    }

    private func run(_ statement: SQLStatement, what: String) async throws {
        do {
            try await session.run(statement, timeout: options.statementTimeout)
        } catch {
            throw ReplicationError.wrapping(error, message: "could not \(what)", endpoint: endpointDescription)
        }
    }
}
