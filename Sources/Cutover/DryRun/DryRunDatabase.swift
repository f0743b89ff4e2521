public import Logging
import MariaDB
public import ProxySQLAdmin
public import ReplicationControl
import Synchronization

/// A ``CutoverDatabase`` that sends nothing: each method records the statements ``ReplicationControlDatabase``
/// would send in the happy path (built with the same builders) and updates a simulated replication state, so a
/// dry run walks the whole operation.
///
/// Reads that a live run repeats (status polls, catch-up waits) are recorded once.
public final class DryRunDatabase: CutoverDatabase {
    /// Which server this is and how the live run would drive it.
    public struct Configuration: Sendable, Hashable {
        /// For messages (`source (10.0.0.5:3306)`).
        public var name: String
        /// The endpoint name the live run journals (`source`, `target`).
        public var endpoint: String
        /// Which role the database plays (its made-up binlog coordinates are named after it).
        public var role: DatabaseRole
        /// The server's replication dialect (detected, or assumed).
        public var dialect: ReplicationDialect
        /// Whether replication is driven by the `mysql.rds_*` procedures (Aurora) or native statements.
        public var usesRDSProcedures: Bool
        /// What native replication ignores (the live path's `NativeReplicaController` filter).
        public var filter: ReplicationFilter

        /// Creates a configuration; `usesRDSProcedures` defaults to the live path's choice for `dialect`.
        public init(
            name: String,
            endpoint: String,
            role: DatabaseRole,
            dialect: ReplicationDialect,
            usesRDSProcedures: Bool? = nil,
            filter: ReplicationFilter = .ignoreRDSTables
        ) {
            self.name = name
            self.endpoint = endpoint
            self.role = role
            self.dialect = dialect
            self.usesRDSProcedures = usesRDSProcedures ?? (dialect.isAurora || dialect.rdsProcedures != nil)
            self.filter = filter
        }
    }

    /// The simulated state of the server.
    public struct State: Sendable, Hashable {
        /// The source it replicates from, nil when it replicates from nobody.
        public var replicatingFrom: ServerEndpoint?
        /// Whether both replication threads run.
        public var replicationRunning: Bool
        /// `@@read_only`.
        public var readOnly: Bool
        /// `@@super_read_only` where it exists.
        public var superReadOnly: Bool?

        /// Creates a state.
        public init(
            replicatingFrom: ServerEndpoint? = nil,
            replicationRunning: Bool = false,
            readOnly: Bool = false,
            superReadOnly: Bool? = nil
        ) {
            self.replicatingFrom = replicatingFrom
            self.replicationRunning = replicatingFrom != nil && replicationRunning
            self.readOnly = readOnly
            self.superReadOnly = superReadOnly
        }
    }

    /// Which server this is and how the live run would drive it.
    public let configuration: Configuration
    private let log: DryRunLog
    private let state: Mutex<(current: State, fence: WriteFence?)>

    init(configuration: Configuration, state: State, log: DryRunLog) {
        self.configuration = configuration
        self.log = log
        self.state = Mutex((state, nil))
    }

    /// The simulated state now.
    public var currentState: State { state.withLock { $0.current } }

    public var name: String { configuration.name }
    public var canFence: Bool { dialect.allowsGlobalVariables }
    private var dialect: ReplicationDialect { configuration.dialect }

    private func record(_ statement: SQLStatement, repeatsPerRow: Bool = false) {
        log.record(statement, endpoint: configuration.endpoint, dialect: .mysql(noBackslashEscapes: false), repeatsPerRow: repeatsPerRow)
    }

    private func readStatus() -> State {
        record(dialect.replicaStatusStatement)
        return currentState
    }

    private func rdsProcedures() throws -> RDSProcedures {
        guard let procedures = dialect.rdsProcedures else {
            throw CutoverError(
                code: .executorFailed,
                message: "\(name) has no mysql.rds_* replication procedures",
                remedy: "check the account's EXECUTE privilege on the procedures"
            )
        }
        return procedures
    }

    private func update(_ change: (inout State) -> Void) {
        state.withLock { change(&$0.current) }
    }

    // MARK: CutoverDatabase

    public func replicaHealth(logger: Logger) async throws -> ReplicaHealth? {
        let current = readStatus()
        guard let source = current.replicatingFrom else { return nil }
        return ReplicaHealth(
            ioThreadRunning: current.replicationRunning,
            sqlThreadRunning: current.replicationRunning,
            secondsBehind: current.replicationRunning ? 0 : nil,
            lastError: nil,
            sourceEndpoint: source.description
        )
    }

    /// Plans the guards' read of the safety facts (`read_only`, `server_uuid`, ...) the live database sends; the dry
    /// run knows none of their values, so the guards decide as without them (#12: the plan lacked this read).
    public func safetyFacts(logger: Logger) async throws -> DatabaseSafetyFacts? {
        record(ReplicationControlDatabase.safetyFactsStatement)
        return nil
    }

    /// Plans the guards' read of the facts reverse replication needs (``ReversePrerequisites``), the two statements
    /// ``ReversePrerequisites/ServerFacts/read(from:logger:)`` sends on every server (the `CALL` too where the
    /// procedure does not exist: the live run sends it and takes error 1305 as "not RDS"). The dry run knows none of
    /// the values, so the guards decide as without them (#12: the plan lacked these reads). The login probe with the
    /// replication account opens its own connection and is in neither the plan nor the journal.
    public func reversePrerequisiteFacts(logger: Logger) async throws -> ReversePrerequisites.ServerFacts? {
        record(ServerInspection.Statements.showBinlogVariables)
        record(ServerInspection.Statements.showRDSConfiguration)
        return nil
    }

    public func longWriteTransactions(olderThan limit: Duration, logger: Logger) async throws -> [LongTransaction] {
        record(SourceController.longRunningWriteTransactionsQuery(olderThan: limit))
        return []
    }

    public func currentPosition(logger: Logger) async throws -> ReplicationCoordinate {
        record(dialect.sourceStatusStatement)
        var coordinate = DryRunSentinel.coordinate(configuration.role)
        if let statement = dialect.sourceGTIDStatement {
            record(statement)
            if dialect.isMariaDB { coordinate.gtidSet = DryRunSentinel.mariaDBGTID(configuration.role) }
        }
        return coordinate
    }

    public func fence(timeout: Duration, logger: Logger) async throws {
        guard canFence else {
            throw CutoverError(code: .executorFailed, message: "\(name) does not allow SET GLOBAL read_only")
        }
        record(SourceController.readOnlySettingsStatement(dialect: dialect))
        record(SourceController.fenceStatement(dialect: dialect))
        state.withLock { state in
            let fence = WriteFence(
                previousReadOnly: state.current.readOnly,
                previousSuperReadOnly: dialect.hasSuperReadOnly ? (state.current.superReadOnly ?? false) : nil,
                duration: .zero
            )
            state.fence = state.fence ?? fence
            state.current.readOnly = true
            if dialect.hasSuperReadOnly { state.current.superReadOnly = true }
        }
    }

    public func liftFence(logger: Logger) async throws {
        // As the live path: without a fence of this run, the fence found a writable primary.
        let fence = state.withLock { $0.fence } ?? WriteFence(
            previousReadOnly: false, previousSuperReadOnly: dialect.hasSuperReadOnly ? false : nil, duration: .zero)
        for statement in SourceController.liftFenceStatements(fence, dialect: dialect) { record(statement) }
        state.withLock { state in
            state.current.readOnly = fence.previousReadOnly
            if dialect.hasSuperReadOnly { state.current.superReadOnly = fence.previousSuperReadOnly }
            state.fence = nil
        }
    }

    public func makeReadOnlyDurable(_ readOnly: Bool, timeout: Duration, logger: Logger) async throws
        -> ReadOnlyDurability
    {
        guard canFence else {
            throw CutoverError(code: .executorFailed, message: "\(name) does not allow SET GLOBAL read_only")
        }
        // As the live path, assuming persisted variables are loaded at start (the default).
        if dialect.supportsPersistedVariables { record(SourceController.persistedGlobalsLoadStatement) }
        for statement in SourceController.persistReadOnlyStatements(readOnly, dialect: dialect) { record(statement) }
        state.withLock { state in
            state.current.readOnly = readOnly
            if dialect.hasSuperReadOnly { state.current.superReadOnly = readOnly }
            if !readOnly { state.fence = nil }
        }
        let persisted = dialect.supportsPersistedVariables
        var lines = persisted ? [] : dialect.readOnlyOptionFileLines
        if !configuration.usesRDSProcedures { lines += dialect.replicationFilterOptionFileLines(configuration.filter) }
        return ReadOnlyDurability(database: name, readOnly: readOnly, persisted: persisted, optionFileLines: lines)
    }

    public func closeSessions(users: [String], logger: Logger) async throws -> Int {
        record(SessionCloser.selectSessions(users: users))
        record(SessionCloser.killStatement(DryRunSentinel.connectionID, dialect: dialect), repeatsPerRow: true)
        return 0
    }

    public func waitForCatchUp(
        to coordinate: ReplicationCoordinate,
        timeout: Duration,
        progress: @escaping @Sendable (ReplicationCoordinate?) -> Void,
        logger: Logger
    ) async throws {
        let position = try BinlogPosition(file: coordinate.file, offset: coordinate.offset)
        progress(nil)
        let slice = min(timeout, CatchUpWaiter.Options().slice)
        if let function = dialect.waitFunction(for: .position(position)) {
            record(function.statement(for: .position(position), timeout: slice))
        } else {
            record(dialect.replicaStatusStatement)
        }
        guard currentState.replicationRunning else {
            throw CutoverError(
                code: .executorFailed,
                message: "simulated: \(name) does not replicate, so it cannot catch up",
                remedy: "set up replication into \(name) first"
            )
        }
    }

    public func stopAndResetReplication(timeout: Duration, logger: Logger) async throws {
        let current = readStatus()
        guard current.replicatingFrom != nil else { return }
        if configuration.usesRDSProcedures {
            let procedures = try rdsProcedures()
            if current.replicationRunning {
                record(procedures.stopReplicationStatement)
                record(dialect.replicaStatusStatement)
            }
            record(procedures.resetExternalSourceStatement)
            record(dialect.replicaStatusStatement)
        } else {
            if current.replicationRunning {
                // NativeReplicaController.stopReplication: status, STOP, verify.
                record(dialect.replicaStatusStatement)
                record(dialect.stopReplicaStatement)
                record(dialect.replicaStatusStatement)
            }
            // resetReplication: status, RESET, verify.
            record(dialect.replicaStatusStatement)
            record(dialect.resetReplicaStatement)
            record(dialect.replicaStatusStatement)
        }
        update { $0 = State(readOnly: $0.readOnly, superReadOnly: $0.superReadOnly) }
    }

    public func startReplication(
        from source: ServerEndpoint,
        user: String,
        password: String,
        tls: ReplicationTLS,
        at coordinate: ReplicationCoordinate,
        timeout: Duration,
        logger: Logger
    ) async throws {
        let current = readStatus()
        if current.replicatingFrom == source {
            if current.replicationRunning { return }
            try start()
            return
        }
        if current.replicatingFrom != nil {
            try await stopAndResetReplication(timeout: timeout, logger: logger)
        }
        let position = try BinlogPosition(file: coordinate.file, offset: coordinate.offset)
        var startPoint = ReplicationSource.StartPoint.position(position)
        // As ReplicationControlDatabase: a native MariaDB replica starts from the GTID position (crash-safe).
        if dialect.isMariaDB, !configuration.usesRDSProcedures, let text = coordinate.gtidSet,
            let gtid = try? MariaDBGTIDPosition(parsing: text), !gtid.isEmpty
        {
            startPoint = .mariaDBGTID(gtid)
        }
        let replicationSource = ReplicationSource(
            host: source.host, port: source.port, user: user, password: password, startPoint: startPoint,
            useTLS: tls == .required)
        if configuration.usesRDSProcedures {
            record(try rdsProcedures().setExternalSourceStatement(replicationSource))
        } else {
            // NativeReplicaController.configureSource: status, CHANGE MASTER, the filter.
            record(dialect.replicaStatusStatement)
            for statement in try dialect.changeSourceStatements(replicationSource) { record(statement) }
            for statement in dialect.replicationFilterStatements(configuration.filter) { record(statement) }
        }
        update { $0.replicatingFrom = source }
        try start()
    }

    private func start() throws {
        if configuration.usesRDSProcedures {
            record(try rdsProcedures().startReplicationStatement)
        } else {
            record(dialect.replicaStatusStatement)
            record(dialect.startReplicaStatement)
        }
        record(dialect.replicaStatusStatement)
        update { $0.replicationRunning = true }
    }

    public func verifyReplication(timeout: Duration, logger: Logger) async throws {
        let current = readStatus()
        guard current.replicationRunning else {
            throw CutoverError(code: .executorFailed, message: "simulated: replication on \(name) is not running")
        }
    }
}
