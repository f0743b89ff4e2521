public import Logging
public import MariaDB

/// What ``SourceController/fenceWrites(deadline:logger:)`` changed, so ``SourceController/liftFence(_:logger:)``
/// can restore it.
public struct WriteFence: Sendable, Hashable {
    /// `@@GLOBAL.read_only` before the fence.
    public let previousReadOnly: Bool
    /// `@@GLOBAL.super_read_only` before the fence; nil where it does not exist (MariaDB).
    public let previousSuperReadOnly: Bool?
    /// How long setting the fence took (it waits for running commits).
    public let duration: Duration

    /// Creates a fence record.
    public init(previousReadOnly: Bool, previousSuperReadOnly: Bool?, duration: Duration) {
        self.previousReadOnly = previousReadOnly
        self.previousSuperReadOnly = previousSuperReadOnly
        self.duration = duration
    }
}

/// An open transaction that changed rows or holds table locks.
public struct WriteTransaction: Sendable, Hashable, CustomStringConvertible {
    /// InnoDB's transaction id.
    public let transactionID: String
    /// The connection (`PROCESSLIST` id) running it.
    public let connectionID: UInt64
    /// Seconds since it started.
    public let ageSeconds: Int
    /// Rows it changed so far.
    public let rowsModified: UInt64
    /// The connection's account, when the process list shows it.
    public let user: String?
    /// The connection's client host and port, when the process list shows it.
    public let host: String?
    /// The connection's default database, if any.
    public let database: String?
    /// The connection's current command (`Sleep` for an idle open transaction).
    public let command: String?
    /// The connection's state text.
    public let state: String?
    /// The first 200 characters of the statement it runs now, if any. May contain data: do not log it by default.
    public let currentStatement: String?

    /// Creates a record.
    public init(
        transactionID: String,
        connectionID: UInt64,
        ageSeconds: Int,
        rowsModified: UInt64,
        user: String? = nil,
        host: String? = nil,
        database: String? = nil,
        command: String? = nil,
        state: String? = nil,
        currentStatement: String? = nil
    ) {
        self.transactionID = transactionID
        self.connectionID = connectionID
        self.ageSeconds = ageSeconds
        self.rowsModified = rowsModified
        self.user = user
        self.host = host
        self.database = database
        self.command = command
        self.state = state
        self.currentStatement = currentStatement
    }

    /// `connection 42 (app@10.0.0.5): 12 s, 3 rows`; no statement text.
    public var description: String {
        var text = "connection \(connectionID)"
        if let user { text += " (\(user)\(host.map { "@\($0)" } ?? ""))" }
        return text + ": \(ageSeconds) s, \(rowsModified) rows"
    }
}

/// Controls a primary (the on-premises source, or Aurora for reverse replication): binlog position, write fence,
/// long-running write transactions.
///
/// Fencing needs `SET GLOBAL` (`SUPER` / `READ_ONLY ADMIN`), which Aurora does not grant: there it throws
/// ``ReplicationError/Code/unsupported``. Note that `read_only` does not stop accounts that hold `SUPER`
/// (MySQL) or `READ_ONLY ADMIN` (MariaDB); `super_read_only` (MySQL only) does.
public struct SourceController: SourceControlling {
    /// Tuning.
    public struct Options: Sendable, Hashable {
        /// Deadline of a status read or similar quick statement.
        public var statementTimeout: Duration

        /// Creates options.
        public init(statementTimeout: Duration = .seconds(10)) {
            self.statementTimeout = statementTimeout
        }
    }

    /// The server's session.
    public let session: any SQLSession
    /// The server's dialect.
    public let dialect: ReplicationDialect
    /// Tuning.
    public let options: Options
    /// The clock the fence's deadline and duration are measured on.
    public let clock: ReplicationClock

    /// Creates a controller.
    ///
    /// - Parameter clock: the clock the fence's deadline and duration are measured on (tests pass a manual clock).
    public init(
        session: any SQLSession, dialect: ReplicationDialect, options: Options = Options(),
        clock: ReplicationClock = .continuous
    ) {
        self.session = session
        self.dialect = dialect
        self.options = options
        self.clock = clock
    }

    /// Detects the dialect of the server behind `session`, then creates a controller.
    ///
    /// - Throws: ``ReplicationError``.
    public static func detecting(on session: any SQLSession, options: Options = Options(), logger: Logger) async throws
        -> SourceController
    {
        SourceController(
            session: session, dialect: try await ReplicationDialect.detect(on: session, logger: logger),
            options: options)
    }

    /// `host:port` of the primary this controller drives, for messages.
    public var endpointDescription: String { session.endpointDescription }

    /// The primary's binlog position (and GTID state), from the dialect's source-status statement.
    ///
    /// - Throws: ``ReplicationError``.
    public func sourceStatus(logger: Logger) async throws -> SourceStatus {
        do {
            let result = try await session.execute(dialect.sourceStatusStatement, timeout: options.statementTimeout)
            var gtidText: String?
            if let gtidStatement = dialect.sourceGTIDStatement {
                gtidText =
                    try await session.queryFirst(gtidStatement, timeout: options.statementTimeout)?[0].string ?? ""
            }
            let status = try SourceStatus.parse(result, mariaDBGTIDBinlogPosition: gtidText)
            logger.debug("source status", metadata: ["replication.source_position": "\(status.position)"])
            return status
        } catch let error as ReplicationError {
            var error = error
            error.endpoint = error.endpoint ?? endpointDescription
            throw error
        } catch {
            throw ReplicationError.wrapping(
                error, message: "could not read the source status", endpoint: endpointDescription)
        }
    }

    /// Makes the primary read-only (`super_read_only` where it exists, else `read_only`) before `deadline`; returns
    /// what was set before, so that ``liftFence(_:logger:)`` can restore it.
    ///
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/unsupported`` on Aurora (no `SET GLOBAL`),
    ///   ``ReplicationError/Code/fenceTimedOut`` when it waits past the deadline.
    public func fenceWrites(deadline: ContinuousClock.Instant, logger: Logger) async throws -> WriteFence {
        guard dialect.allowsGlobalVariables else {
            throw ReplicationError(
                code: .unsupported,
                message:
                    "\(dialect.server) does not allow SET GLOBAL read_only; fence writes through the proxy instead",
                endpoint: endpointDescription
            )
        }
        let start = clock.now
        let deadline = clock.instant(for: deadline)
        let previous = try await readOnlySettings()
        let statement = Self.fenceStatement(dialect: dialect)
        let remaining = clock.now.duration(to: deadline)
        guard remaining > .zero else {
            throw ReplicationError(
                code: .fenceTimedOut, message: "the deadline passed before the fence could be set",
                endpoint: endpointDescription)
        }
        do {
            try await session.run(statement, timeout: remaining)
        } catch let error as MariaDBError where error.code == .deadlineExceeded || error.isLockWaitTimeout {
            throw ReplicationError(
                code: .fenceTimedOut,
                message:
                    "setting read-only did not finish before the deadline (it waits for running commits and locks)",
                serverErrorNumber: error.serverErrorNumber,
                endpoint: endpointDescription,
                underlying: error
            )
        } catch {
            throw ReplicationError.wrapping(
                error, message: "could not set the server read-only", endpoint: endpointDescription)
        }
        let fence = WriteFence(
            previousReadOnly: previous.readOnly, previousSuperReadOnly: previous.superReadOnly,
            duration: start.duration(to: clock.now))
        logger.debug("writes fenced", metadata: ["replication.fence_duration": "\(fence.duration)"])
        return fence
    }

    /// Restores the `read_only` / `super_read_only` values recorded in `fence`.
    ///
    /// - Throws: ``ReplicationError``.
    public func liftFence(_ fence: WriteFence, logger: Logger) async throws {
        do {
            for statement in Self.liftFenceStatements(fence, dialect: dialect) {
                try await session.run(statement, timeout: options.statementTimeout)
            }
        } catch {
            throw ReplicationError.wrapping(
                error, message: "could not lift the write fence", endpoint: endpointDescription)
        }
        logger.debug("write fence lifted")
    }

    /// The statement ``fenceWrites(deadline:logger:)`` sets the fence with: `SET GLOBAL super_read_only = ON` where
    /// it exists (it implies `read_only`), else `SET GLOBAL read_only = ON`.
    public static func fenceStatement(dialect: ReplicationDialect) -> SQLStatement {
        dialect.hasSuperReadOnly ? "SET GLOBAL super_read_only = ON" : "SET GLOBAL read_only = ON"
    }

    /// The statements ``liftFence(_:logger:)`` sends to restore what `fence` found, in order (none when the server
    /// was read-only already).
    public static func liftFenceStatements(_ fence: WriteFence, dialect: ReplicationDialect) -> [SQLStatement] {
        var statements: [SQLStatement] = []
        if dialect.hasSuperReadOnly, fence.previousSuperReadOnly != true {
            statements.append("SET GLOBAL super_read_only = OFF")
        }
        if !fence.previousReadOnly { statements.append("SET GLOBAL read_only = OFF") }
        return statements
    }

    /// The statement that reads the read-only settings before a fence.
    public static func readOnlySettingsStatement(dialect: ReplicationDialect) -> SQLStatement {
        dialect.hasSuperReadOnly
            ? "SELECT @@GLOBAL.read_only AS read_only, @@GLOBAL.super_read_only AS super_read_only"
            : "SELECT @@GLOBAL.read_only AS read_only"
    }

    /// The statement ``longRunningWriteTransactions(olderThan:logger:)`` sends.
    public static func longRunningWriteTransactionsQuery(olderThan age: Duration) -> SQLStatement {
        let microseconds = max(0, age.components.seconds * 1_000_000 + age.components.attoseconds / 1_000_000_000_000)
        return """
            SELECT trx.trx_id AS trx_id, trx.trx_mysql_thread_id AS connection_id, \
            TIMESTAMPDIFF(SECOND, trx.trx_started, NOW()) AS age_seconds, trx.trx_rows_modified AS rows_modified, \
            p.USER AS user, p.HOST AS host, p.DB AS db, p.COMMAND AS command, p.STATE AS state, LEFT(p.INFO, 200) AS info \
            FROM information_schema.INNODB_TRX trx LEFT JOIN information_schema.PROCESSLIST p ON p.ID = trx.trx_mysql_thread_id \
            WHERE trx.trx_mysql_thread_id <> CONNECTION_ID() AND (trx.trx_rows_modified > 0 OR trx.trx_tables_locked > 0) \
            AND trx.trx_started <= NOW(6) - INTERVAL \(microseconds) MICROSECOND ORDER BY trx.trx_started
            """
    }

    /// Write transactions open longer than `age` (rounded up to whole seconds), oldest first.
    ///
    /// - Throws: ``ReplicationError`` (the account needs `PROCESS`).
    public func longRunningWriteTransactions(olderThan age: Duration, logger: Logger) async throws -> [WriteTransaction]
    {
        let rows: [Row]
        do {
            rows = try await session.query(
                Self.longRunningWriteTransactionsQuery(olderThan: age), timeout: options.statementTimeout)
        } catch {
            throw ReplicationError.wrapping(
                error,
                message: ReplicationError.message(
                    "could not list running transactions", privilegeHint: " (needs PROCESS)", for: error),
                endpoint: endpointDescription)
        }
        do {
            return try rows.map { row in
                WriteTransaction(
                    transactionID: try row.decode(String.self, "trx_id"),
                    connectionID: try row.decode(UInt64.self, "connection_id"),
                    ageSeconds: try row.decodeIfPresent(Int.self, "age_seconds") ?? 0,
                    rowsModified: try row.decodeIfPresent(UInt64.self, "rows_modified") ?? 0,
                    user: row["user"]?.string,
                    host: row["host"]?.string,
                    database: row["db"]?.string,
                    command: row["command"]?.string,
                    state: row["state"]?.string,
                    currentStatement: row["info"]?.string
                )
            }
        } catch {
            throw ReplicationError(
                code: .unexpectedResult, message: "unexpected INNODB_TRX row", endpoint: endpointDescription,
                underlying: error)
        }
    }

    /// The statements ``persistReadOnly(_:logger:)`` sends, in order, when the server keeps variables itself
    /// (``ReplicationDialect/supportsPersistedVariables``): `SET PERSIST` both settings on (which also sets them
    /// now), or set them off now and `RESET PERSIST` them. Elsewhere the runtime statements only: the fence, or
    /// lifting it.
    public static func persistReadOnlyStatements(_ readOnly: Bool, dialect: ReplicationDialect) -> [SQLStatement] {
        let superReadOnly = dialect.hasSuperReadOnly
        if dialect.supportsPersistedVariables {
            if readOnly {
                return ["SET PERSIST read_only = ON"] + (superReadOnly ? ["SET PERSIST super_read_only = ON"] : [])
            }
            return (superReadOnly ? ["SET GLOBAL super_read_only = OFF"] : []) + ["SET GLOBAL read_only = OFF"]
                + (superReadOnly ? ["RESET PERSIST IF EXISTS super_read_only"] : [])
                + ["RESET PERSIST IF EXISTS read_only"]
        }
        return runtimeReadOnlyStatements(readOnly, dialect: dialect)
    }

    /// The statements that set read-only on (the fence) or off now, without persisting anything.
    static func runtimeReadOnlyStatements(_ readOnly: Bool, dialect: ReplicationDialect) -> [SQLStatement] {
        if readOnly { return [fenceStatement(dialect: dialect)] }
        return liftFenceStatements(
            WriteFence(
                previousReadOnly: false, previousSuperReadOnly: dialect.hasSuperReadOnly ? false : nil, duration: .zero),
            dialect: dialect)
    }

    /// The statement that tells whether persisted variables are loaded at start (MySQL 8.0+).
    public static let persistedGlobalsLoadStatement: SQLStatement = "SELECT @@GLOBAL.persisted_globals_load AS value"

    /// Sets the server read-only (or writable) now and, on MySQL 8.0+, persists the setting so a restart keeps it.
    ///
    /// Where persisting is not possible (MariaDB, MySQL 5.7), not loaded at start (`persisted_globals_load` off),
    /// or refused (the account lacks `SYSTEM_VARIABLES_ADMIN`), the setting is applied at runtime only and the
    /// result is false: the operator must put ``ReplicationDialect/readOnlyOptionFileLines`` in the option file
    /// (or take them out when making the server writable).
    ///
    /// - Parameters:
    ///   - readOnly: on (the fence) or off.
    ///   - timeout: bound on each statement.
    ///   - logger: receives the decision at `debug`.
    /// - Returns: whether the setting survives a restart without the operator's help.
    /// - Throws: ``ReplicationError`` (the runtime statements failed).
    public func persistReadOnly(_ readOnly: Bool, timeout: Duration, logger: Logger) async throws -> Bool {
        guard dialect.allowsGlobalVariables else {
            throw ReplicationError(
                code: .unsupported, message: "\(dialect.server) does not allow SET GLOBAL read_only",
                endpoint: endpointDescription)
        }
        var persisting = dialect.supportsPersistedVariables
        if persisting {
            let load = try? await session.queryFirst(Self.persistedGlobalsLoadStatement, timeout: timeout)
            persisting = load.flatMap { try? $0.decode(Bool.self, "value") } ?? false
        }
        let runtimeOnly = Self.runtimeReadOnlyStatements(readOnly, dialect: dialect)
        let statements = persisting ? Self.persistReadOnlyStatements(readOnly, dialect: dialect) : runtimeOnly
        do {
            for statement in statements {
                try await session.run(statement, timeout: timeout)
            }
        } catch let error as MariaDBError where persisting && error.isPermissionDenied {
            // SET PERSIST / RESET PERSIST need SYSTEM_VARIABLES_ADMIN: apply at runtime, and say it is not durable.
            logger.debug("persisting read_only refused; runtime only", metadata: ["error": "\(error)"])
            persisting = false
            do {
                for statement in runtimeOnly { try await session.run(statement, timeout: timeout) }
            } catch {
                throw ReplicationError.wrapping(
                    error, message: "could not set read_only \(readOnly ? "ON" : "OFF")", endpoint: endpointDescription)
            }
        } catch {
            throw ReplicationError.wrapping(
                error, message: "could not set read_only \(readOnly ? "ON" : "OFF")", endpoint: endpointDescription)
        }
        logger.debug("read_only set", metadata: ["replication.read_only": "\(readOnly)", "replication.persisted": "\(persisting)"])
        return persisting
    }

    /// The statement ``readOnlySetting(logger:)`` reads where `read_only`'s value came from: MariaDB's
    /// `information_schema.SYSTEM_VARIABLES.GLOBAL_VALUE_ORIGIN`, MySQL 8's `performance_schema.variables_info`;
    /// nil where the server does not tell (MySQL 5.7).
    public static func readOnlyOriginStatement(dialect: ReplicationDialect) -> SQLStatement? {
        if dialect.isMariaDB {
            return "SELECT GLOBAL_VALUE_ORIGIN AS origin FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = 'READ_ONLY'"
        }
        if dialect.version >= ServerVersion(8, 0, 0) {
            return "SELECT VARIABLE_SOURCE AS origin FROM performance_schema.variables_info WHERE VARIABLE_NAME = 'read_only'"
        }
        return nil
    }

    /// Maps a server's name for where a value came from to ``ReadOnlySetting/Origin``.
    public static func readOnlyOrigin(_ text: String) -> ReadOnlySetting.Origin {
        switch text.uppercased() {
        case "CONFIG", "COMMAND-LINE", "COMMAND_LINE", "GLOBAL", "SERVER", "EXPLICIT", "EXTRA", "USER", "AUTO",
            "ENVIRONMENT":
            .startup
        case "PERSISTED": .persisted
        case "SQL", "DYNAMIC": .runtime
        case "COMPILE-TIME", "COMPILED": .compiledDefault
        default: .unknown
        }
    }

    /// The read-only settings now, and where `read_only`'s value came from (``ReadOnlySetting/Origin/unknown`` when
    /// the server does not say or the account may not read it).
    ///
    /// - Throws: ``ReplicationError`` when the settings cannot be read.
    public func readOnlySetting(logger: Logger) async throws -> ReadOnlySetting {
        let settings = try await readOnlySettings()
        var origin = ReadOnlySetting.Origin.unknown
        if let statement = Self.readOnlyOriginStatement(dialect: dialect),
            let text = try? await session.queryFirst(statement, timeout: options.statementTimeout)?["origin"]?.string
        {
            origin = Self.readOnlyOrigin(text)
        }
        return ReadOnlySetting(readOnly: settings.readOnly, superReadOnly: settings.superReadOnly, origin: origin)
    }

    private func readOnlySettings() async throws -> (readOnly: Bool, superReadOnly: Bool?) {
        let statement = Self.readOnlySettingsStatement(dialect: dialect)
        do {
            guard let row = try await session.queryFirst(statement, timeout: options.statementTimeout) else {
                throw ReplicationError(
                    code: .unexpectedResult, message: "SELECT @@read_only returned no row",
                    endpoint: endpointDescription)
            }
            let readOnly = try row.decode(Bool.self, "read_only")
            let superReadOnly = dialect.hasSuperReadOnly ? try row.decode(Bool.self, "super_read_only") : nil
            return (readOnly, superReadOnly)
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw ReplicationError.wrapping(
                error, message: "could not read the read-only settings", endpoint: endpointDescription)
        }
    }
}
