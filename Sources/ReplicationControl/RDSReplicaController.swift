public import Logging
public import MariaDB

/// Drives replication on Aurora MySQL / RDS, where `CHANGE MASTER`, `START SLAVE` and `SET GLOBAL` are not
/// allowed, through the `mysql.rds_*` procedures the server has (see ``RDSProcedures``).
///
/// The procedures answer with one-row messages ("Slave running normally.") and signal failures as SQLSTATE 45000
/// with a text; the texts are mapped to ``ReplicationError`` codes (``ReplicationError/Code/alreadyRunning``,
/// ``ReplicationError/Code/notConfigured``, ...). A success message is only logged: after a start or stop the
/// replica status is read again until it shows the expected thread states.
///
/// The procedures sleep inside (about 1 s before and 2 s after a start or stop on Aurora): keep these calls off
/// the critical path of a cut-over.
public struct RDSReplicaController: ReplicaControlling, CatchUpWaiting, RDSConfigurationControlling,
    DialectReplicaController
{
    /// Tuning.
    public struct Options: Sendable, Hashable {
        /// How long to keep re-reading the status after a start or stop before giving up.
        public var verificationTimeout: Duration
        /// Time between those status reads.
        public var verificationInterval: Duration
        /// Deadline of one procedure call (they contain sleeps of several seconds).
        public var procedureTimeout: Duration
        /// Deadline of one status read.
        public var statusTimeout: Duration
        /// How catch-up waits run.
        public var catchUp: CatchUpWaiter.Options

        /// Creates options.
        public init(
            verificationTimeout: Duration = .seconds(15),
            verificationInterval: Duration = .milliseconds(50),
            procedureTimeout: Duration = .seconds(60),
            statusTimeout: Duration = .seconds(10),
            catchUp: CatchUpWaiter.Options = CatchUpWaiter.Options()
        ) {
            self.verificationTimeout = verificationTimeout
            self.verificationInterval = verificationInterval
            self.procedureTimeout = procedureTimeout
            self.statusTimeout = statusTimeout
            self.catchUp = catchUp
        }
    }

    /// The session of the Aurora writer (the account needs `EXECUTE` on the procedures and `REPLICATION CLIENT`).
    public var session: any SQLSession { core.session }
    /// The server's dialect (for the status statement and the wait functions).
    public var dialect: ReplicationDialect { core.dialect }
    /// The procedures in use.
    public let procedures: RDSProcedures
    /// Tuning.
    public let options: Options
    private let core: ReplicaControllerCore

    /// Creates a controller.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/procedureMissing``) when `dialect` lists no RDS
    ///   procedures.
    ///
    /// - Parameter clock: the clock the verification and catch-up waits are measured and slept on (tests pass a
    ///   manual clock).
    public init(
        session: any SQLSession, dialect: ReplicationDialect, options: Options = Options(),
        clock: ReplicationClock = .continuous
    ) throws {
        guard let procedures = dialect.rdsProcedures else {
            throw ReplicationError(
                code: .procedureMissing,
                message:
                    "\(dialect.server) at \(session.endpointDescription) has no mysql.rds_* replication procedures visible to this account",
                endpoint: session.endpointDescription
            )
        }
        self.procedures = procedures
        self.options = options
        self.core = ReplicaControllerCore(
            session: session, dialect: dialect, statusTimeout: options.statusTimeout,
            verificationTimeout: options.verificationTimeout, verificationInterval: options.verificationInterval,
            catchUp: options.catchUp, clock: clock)
    }

    /// Detects the dialect and procedures of the server behind `session`, then creates a controller.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/procedureMissing`` when there are no procedures).
    public static func detecting(on session: any SQLSession, options: Options = Options(), logger: Logger) async throws
        -> RDSReplicaController
    {
        try await Self.detected(on: session, options: options, logger: logger)
    }

    /// `host:port` of the Aurora (or RDS) writer this controller drives, for messages.
    public var endpointDescription: String { session.endpointDescription }

    // MARK: ReplicaControlling

    /// Reads the replica status (`SHOW REPLICA STATUS` on Aurora v3, `SHOW SLAVE STATUS` on v2).
    ///
    /// - Throws: ``ReplicationError`` when it cannot be read or parsed.
    public func replicaStatus(logger: Logger) async throws -> ReplicaStatus {
        try await core.replicaStatus()
    }

    /// Points Aurora at `source` with `mysql.rds_set_external_source` / `_master` (or their `_with_auto_position`
    /// forms). The password is sent as a secret and never logged.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/procedureMissing``,
    ///   ``ReplicationError/Code/unsupported`` for a MariaDB GTID start point, or the procedure's SQLSTATE 45000 error
    ///   mapped to a code).
    public func configureSource(_ source: ReplicationSource, logger: Logger) async throws {
        let statement: SQLStatement
        do {
            statement = try procedures.setExternalSourceStatement(source)
        } catch var error as ReplicationError {
            error.endpoint = error.endpoint ?? endpointDescription
            throw error
        }
        let name =
            source.startPoint == .autoPosition
            ? (procedures.setExternalSourceWithAutoPosition ?? procedures.setExternalSource)
            : procedures.setExternalSource
        try await call(name, statement, logger: logger)
        logger.debug("replication source configured", metadata: ["replication.source": "\(source)"])
    }

    /// `CALL mysql.rds_start_replication` (it sleeps inside), then re-reads the status until both threads run.
    ///
    /// - Throws: ``ReplicationError``.
    public func startReplication(logger: Logger) async throws -> ReplicaStatus {
        try await call(procedures.startReplication, procedures.startReplicationStatement, logger: logger)
        return try await core.verify(logger: logger, expectation: "both threads running") { $0.isRunning }
    }

    /// `CALL mysql.rds_start_replication_until(file, pos)`, then checks it runs or has already stopped at `position`.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/procedureMissing`` where the server lacks it).
    public func startReplication(until position: BinlogPosition, logger: Logger) async throws -> ReplicaStatus {
        guard let name = procedures.startReplicationUntil else {
            throw ReplicationError(
                code: .procedureMissing, message: "this server has no rds_start_replication_until",
                endpoint: endpointDescription)
        }
        do {
            try await call(name, procedures.startReplicationUntilStatement(position)!, logger: logger)
        } catch let error as ReplicationError where error.code == .replicationFailed {
            // The procedure checks the state a moment after the start; an applier that already reached the
            // position has stopped by then, which it reports as an error. The status tells the two apart.
            let status = try await replicaStatus(logger: logger)
            guard Self.stoppedAtUntil(status, position) else { throw error }
            logger.debug("replica stopped at the until position already", metadata: ["replication.status": "\(status)"])
            return status
        }
        return try await core.verify(logger: logger, expectation: "running until \(position)") { status in
            status.isRunning || Self.stoppedAtUntil(status, position)
        }
    }

    /// `CALL mysql.rds_stop_replication` (it sleeps inside), then re-reads the status until both threads stopped.
    ///
    /// - Throws: ``ReplicationError``.
    public func stopReplication(logger: Logger) async throws -> ReplicaStatus {
        try await call(procedures.stopReplication, procedures.stopReplicationStatement, logger: logger)
        return try await core.verify(logger: logger, expectation: "both threads stopped") { $0.isStopped }
    }

    /// `CALL mysql.rds_reset_external_source` / `_master`, then checks no source is configured.
    ///
    /// - Throws: ``ReplicationError``.
    public func resetReplication(logger: Logger) async throws {
        try await call(procedures.resetExternalSource, procedures.resetExternalSourceStatement, logger: logger)
        _ = try await core.verify(logger: logger, expectation: "no source configured") { !$0.isConfigured }
    }

    /// `CALL mysql.rds_skip_repl_error`, then re-reads the status until both threads run.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/procedureMissing`` where the server lacks it).
    public func skipReplicationError(logger: Logger) async throws -> ReplicaStatus {
        guard let name = procedures.skipReplicationError else {
            throw ReplicationError(
                code: .procedureMissing, message: "this server has no rds_skip_repl_error",
                endpoint: endpointDescription)
        }
        try await call(name, procedures.skipReplicationErrorStatement!, logger: logger)
        return try await core.verify(logger: logger, expectation: "both threads running") { $0.isRunning }
    }

    // MARK: CatchUpWaiting

    /// Waits until Aurora has executed `target` (see ``CatchUpWaiter``).
    ///
    /// - Throws: ``ReplicationError`` at `deadline`, or when the applier stops or fails.
    public func waitUntilExecuted(_ target: CatchUpTarget, deadline: ContinuousClock.Instant, logger: Logger)
        async throws
        -> CatchUpResult
    {
        try await core.waiter.waitUntilExecuted(target, deadline: deadline, logger: logger)
    }

    /// Aurora's lag behind `source` (see ``CatchUpWaiter/lag(behind:logger:)``).
    ///
    /// - Throws: ``ReplicationError``.
    public func lag(behind source: SourceStatus?, logger: Logger) async throws -> ReplicationLag {
        try await core.waiter.lag(behind: source, logger: logger)
    }

    // MARK: RDSConfigurationControlling

    /// One row of `mysql.rds_show_configuration`.
    public struct ConfigurationEntry: Sendable, Hashable {
        /// The setting's name (`binlog retention hours`).
        public let name: String
        /// Its value as the server shows it, nil for `NULL`.
        public let value: String?
        /// The server's description of the setting.
        public let description: String?
    }

    /// `CALL mysql.rds_show_configuration`.
    ///
    /// - Throws: ``ReplicationError``.
    public func configuration(logger: Logger) async throws -> [ConfigurationEntry] {
        guard let name = procedures.showConfiguration else {
            throw ReplicationError(
                code: .procedureMissing, message: "this server has no rds_show_configuration",
                endpoint: endpointDescription)
        }
        let result = try await call(name, procedures.showConfigurationStatement!, logger: logger)
        guard let rows = result.resultSets.first else { return [] }
        return rows.compactMap { row in
            guard let settingName = (row["name"] ?? row[0]).string else { return nil }
            return ConfigurationEntry(
                name: settingName, value: row["value"]?.string, description: row["description"]?.string)
        }
    }

    /// The `binlog retention hours` setting, nil when it is `NULL` (Aurora then purges binlogs lazily).
    ///
    /// - Throws: ``ReplicationError`` when the setting is missing or not a number.
    public func binlogRetentionHours(logger: Logger) async throws -> Int? {
        let entries = try await configuration(logger: logger)
        guard let entry = entries.first(where: { $0.name.lowercased() == "binlog retention hours" }) else {
            throw ReplicationError(
                code: .unexpectedResult, message: "rds_show_configuration lists no 'binlog retention hours'",
                endpoint: endpointDescription)
        }
        guard let text = entry.value else { return nil }
        guard let hours = Int(text) else {
            throw ReplicationError(
                code: .unexpectedResult, message: "binlog retention hours is '\(text.prefix(20))', not a number",
                endpoint: endpointDescription)
        }
        return hours
    }

    /// Sets `binlog retention hours` with `mysql.rds_set_configuration` (nil sets `NULL`). Aurora accepts at most 2160.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/invalidArgument`` below 1).
    public func setBinlogRetentionHours(_ hours: Int?, logger: Logger) async throws {
        guard let name = procedures.setConfiguration else {
            throw ReplicationError(
                code: .procedureMissing, message: "this server has no rds_set_configuration",
                endpoint: endpointDescription)
        }
        if let hours, hours < 1 {
            throw ReplicationError(
                code: .invalidArgument, message: "binlog retention hours must be at least 1",
                endpoint: endpointDescription)
        }
        try await call(name, procedures.setBinlogRetentionHoursStatement(hours)!, logger: logger)
    }

    // MARK: Internals

    /// Calls a procedure, logs its messages, and maps its errors.
    @discardableResult
    func call(_ procedure: String, _ statement: SQLStatement, logger: Logger) async throws -> SQLResult {
        let result: SQLResult
        do {
            result = try await session.execute(statement, timeout: options.procedureTimeout)
        } catch {
            var mapped = Self.map(error, procedure: procedure, endpoint: endpointDescription)
            if mapped.code == .replicationFailed, let status = try? await replicaStatus(logger: logger) {
                mapped.sqlThreadError = status.lastSQLError
                mapped.ioThreadError = status.lastIOError
            }
            logger.debug(
                "RDS procedure failed",
                metadata: ["replication.procedure": "\(procedure)", "replication.error": "\(mapped)"])
            throw mapped
        }
        let messages = Self.messages(of: result)
        logger.debug(
            "RDS procedure answered",
            metadata: [
                "replication.procedure": "\(procedure)", "replication.messages": .array(messages.map { "\($0)" }),
            ]
        )
        return result
    }

    /// The `Message` cells of every result set of a procedure call.
    public static func messages(of result: SQLResult) -> [String] {
        result.resultSets.flatMap { resultSet -> [String] in
            guard let column = resultSet.columnIndex(named: "Message") ?? (resultSet.columns.count == 1 ? 0 : nil)
            else { return [] }
            return resultSet.compactMap { $0[column].string }
        }
    }

    /// Maps an error of a procedure call to a ``ReplicationError``: SQLSTATE 45000 texts by their meaning, 1305 to
    /// ``ReplicationError/Code/procedureMissing``, missing privileges to ``ReplicationError/Code/permissionDenied``.
    public static func map(_ error: any Error, procedure: String, endpoint: String?) -> ReplicationError {
        guard let mariaDBError = error as? MariaDBError else {
            return ReplicationError.wrapping(error, message: "mysql.\(procedure) failed", endpoint: endpoint)
        }
        if mariaDBError.serverErrorNumber == 1305 {
            return ReplicationError(
                code: .procedureMissing,
                message: "mysql.\(procedure) does not exist",
                serverErrorNumber: 1305,
                sqlState: mariaDBError.sqlState,
                statement: mariaDBError.statement,
                endpoint: endpoint,
                underlying: mariaDBError
            )
        }
        guard mariaDBError.sqlState == "45000", let text = mariaDBError.message else {
            return ReplicationError.wrapping(mariaDBError, message: "mysql.\(procedure) failed", endpoint: endpoint)
        }
        return ReplicationError(
            code: classify(procedureMessage: text),
            message: "mysql.\(procedure): \(text)",
            serverErrorNumber: mariaDBError.serverErrorNumber,
            sqlState: mariaDBError.sqlState,
            statement: mariaDBError.statement,
            endpoint: endpoint,
            underlying: mariaDBError
        )
    }

    /// The error code an RDS procedure's SQLSTATE 45000 text stands for.
    public static func classify(procedureMessage text: String) -> ReplicationError.Code {
        let lowered = text.lowercased()
        func has(_ fragment: String) -> Bool { lowered.contains(fragment) }
        if has("permission denied") { return .permissionDenied }
        if has("no errors detected to skip") || has("no errors to skip") { return .nothingToSkip }
        if has("isn't configured") || has("not configured") || has("first call mysql.rds_set_external")
            || has("first run mysql.rds_set_external") || has("channel does not exist")
        {
            return .notConfigured
        }
        if has("already stopped") || has("down or disabled") { return .notRunning }
        if has("already running") || has("already be running") || has("might be running")
            || has("because replication is running")
            || has("procedure is in progress") || has("currently running the procedure")
        {
            return .alreadyRunning
        }
        if has("encountered an error") || has("encountered a new error") || has("replication failed") {
            return .replicationFailed
        }
        if has("must be between") || has("invalid input") || has("invalid arguments")
            || has("unknown configuration parameter")
            || has("not supported")
        {
            return .invalidArgument
        }
        return .procedureFailed
    }

    static func stoppedAtUntil(_ status: ReplicaStatus, _ position: BinlogPosition) -> Bool {
        guard status.sqlThread == .stopped, status.lastSQLError == nil, let executed = status.executedPosition else {
            return false
        }
        return (try? executed.isAtOrPast(position)) == true
    }
}
