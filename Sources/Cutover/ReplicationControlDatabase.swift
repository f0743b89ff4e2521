public import Logging
public import MariaDB
public import ProxySQLAdmin
public import ReplicationControl
import Synchronization

/// The live ``CutoverDatabase``: one database (the source or Aurora) driven through ReplicationControl's
/// controllers over one session.
///
/// On Aurora (or a server with the `mysql.rds_*` procedures) replication is driven by `RDSReplicaController` and
/// sessions are closed with `mysql.rds_kill`; elsewhere by `NativeReplicaController` (reverse replication onto
/// the source, with a filter that ignores Aurora's `mysql.rds_*` tables). Aurora cannot be fenced (no
/// `SET GLOBAL`).
public final class ReplicationControlDatabase: CutoverDatabase {
    /// The database's name in messages (`source (10.0.0.5:3306)`).
    public let name: String
    /// The server's dialect, detected when connecting.
    public let dialect: ReplicationDialect
    private let replica: any ReplicationControlling
    private let primary: any SourceControlling
    private let sessions: any SessionClosing
    private let fenceRecord = Mutex<WriteFence?>(nil)
    /// The filter native replication on this database installs (nil when replication is driven by the RDS
    /// procedures): it must go into the option file too.
    private let nativeFilter: ReplicationFilter?
    /// The session the safety facts are read on (nil: not reported).
    let factsSession: (any SQLSession)?

    /// Creates the facade from its parts (tests pass fakes).
    ///
    /// - Parameter nativeFilter: the filter `replica` installs when it is a native replica (nil for RDS).
    public init(
        name: String,
        dialect: ReplicationDialect,
        replica: any ReplicationControlling,
        primary: any SourceControlling,
        sessions: any SessionClosing,
        nativeFilter: ReplicationFilter? = nil,
        factsSession: (any SQLSession)? = nil
    ) {
        self.name = name
        self.dialect = dialect
        self.replica = replica
        self.primary = primary
        self.sessions = sessions
        self.nativeFilter = nativeFilter
        self.factsSession = factsSession
    }

    /// Creates the facade over `session`, detecting the server's dialect and choosing the RDS procedures when the
    /// server has them (Aurora, or the sandbox's stand-in) and native statements otherwise.
    ///
    /// - Parameters:
    ///   - name: for messages (`source (10.0.0.5:3306)`).
    ///   - session: a session with the privileges of the cut-over account.
    ///   - useRDSProcedures: force the RDS controller (true), the native one (false), or detect (nil).
    ///   - filter: what native (reverse) replication ignores.
    ///   - logger: receives the detected dialect at `debug`.
    ///   - catchUp: how catch-up waits watch this database as a replica (wait function or polling).
    /// - Throws: `ReplicationError` or `MariaDBError` when the server cannot be identified.
    public static func connect(
        name: String,
        session: any SQLSession,
        useRDSProcedures: Bool? = nil,
        filter: ReplicationFilter = .ignoreRDSTables,
        catchUp: CatchUpWaiter.Options = CatchUpWaiter.Options(),
        logger: Logger
    ) async throws -> ReplicationControlDatabase {
        let dialect = try await ReplicationDialect.detect(on: session, logger: logger)
        let useRDS = useRDSProcedures ?? (dialect.isAurora || dialect.rdsProcedures != nil)
        let replica: any ReplicationControlling
        if useRDS {
            replica = try RDSReplicaController(
                session: session,
                dialect: dialect,
                options: RDSReplicaController.Options(catchUp: catchUp)
            )
        } else {
            replica = try NativeReplicaController(
                session: session,
                dialect: dialect,
                options: NativeReplicaController.Options(filter: filter, catchUp: catchUp)
            )
        }
        return ReplicationControlDatabase(
            name: name,
            dialect: dialect,
            replica: replica,
            primary: SourceController(session: session, dialect: dialect),
            sessions: SessionCloser(session: session, dialect: dialect),
            nativeFilter: useRDS ? nil : filter,
            factsSession: session
        )
    }

    /// False on Aurora (no `SET GLOBAL`).
    /// False on Aurora and on RDS (a server with the `mysql.rds_*` procedures): neither lets its master user
    /// `SET GLOBAL read_only`.
    public var canFence: Bool { dialect.allowsGlobalVariables && dialect.rdsProcedures == nil }

    /// The replica status as health, nil when no replication is configured.
    ///
    /// - Throws: `ReplicationError` when the status cannot be read.
    public func replicaHealth(logger: Logger) async throws -> ReplicaHealth? {
        let status = try await replica.replicaStatus(logger: logger)
        guard status.isConfigured else { return nil }
        let error = status.lastIOError ?? status.lastSQLError
        return ReplicaHealth(
            ioThreadRunning: status.ioThread == .running,
            sqlThreadRunning: status.sqlThread == .running,
            secondsBehind: status.secondsBehindSource,
            lastError: error.map(\.description),
            sourceEndpoint: status.sourceHost.map { host in "\(host):\(status.sourcePort ?? 3306)" },
            usesTLS: status.usesTLS,
            sourceServerID: status.sourceServerID,
            sourceUUID: status.sourceUUID,
            filters: status.filters
        )
    }

    /// Write transactions open longer than `limit`.
    ///
    /// - Throws: `ReplicationError` (the account needs `PROCESS`).
    public func longWriteTransactions(olderThan limit: Duration, logger: Logger) async throws -> [LongTransaction] {
        try await primary.longRunningWriteTransactions(olderThan: limit, logger: logger).map {
            LongTransaction(connectionID: $0.connectionID, user: $0.user, seconds: $0.ageSeconds, rowsModified: Int($0.rowsModified))
        }
    }

    /// The binlog position and GTID state, from the source status.
    ///
    /// - Throws: `ReplicationError`.
    public func currentPosition(logger: Logger) async throws -> ReplicationCoordinate {
        let status = try await primary.sourceStatus(logger: logger)
        return ReplicationCoordinate(
            file: status.position.file,
            offset: status.position.offset,
            gtidSet: status.gtid?.description
        )
    }

    /// Sets the read-only fence within `timeout` and remembers what it changed.
    ///
    /// - Throws: `ReplicationError` (`ReplicationError.Code.unsupported` on Aurora,
    ///   `ReplicationError.Code.fenceTimedOut`).
    public func fence(timeout: Duration, logger: Logger) async throws {
        let fence = try await primary.fenceWrites(timeout: timeout, logger: logger)
        fenceRecord.withLock { $0 = $0 ?? fence }
    }

    /// Lifts the fence (after a resume in a new process: turns `read_only` and `super_read_only` off).
    ///
    /// - Throws: `ReplicationError`.
    public func liftFence(logger: Logger) async throws {
        // A run resumed in a new process has no record: the fence then found a writable primary.
        let fence = fenceRecord.withLock { $0 } ?? WriteFence(previousReadOnly: false, previousSuperReadOnly: dialect.hasSuperReadOnly ? false : nil, duration: .zero)
        try await primary.liftFence(fence, logger: logger)
        fenceRecord.withLock { $0 = nil }
    }

    /// Sets `read_only` now, persisting it on MySQL 8.0+; lists the option-file lines the operator must add (or
    /// take out): `read_only` where it could not be persisted, and the reverse-replication filter.
    ///
    /// - Throws: `ReplicationError` when `read_only` cannot be set.
    public func makeReadOnlyDurable(_ readOnly: Bool, timeout: Duration, logger: Logger) async throws
        -> ReadOnlyDurability
    {
        let persisted = try await primary.persistReadOnly(readOnly, timeout: timeout, logger: logger)
        if readOnly {
            let fence = WriteFence(
                previousReadOnly: false, previousSuperReadOnly: dialect.hasSuperReadOnly ? false : nil, duration: .zero)
            fenceRecord.withLock { $0 = $0 ?? fence }
        } else {
            fenceRecord.withLock { $0 = nil }
        }
        var lines = persisted ? [] : dialect.readOnlyOptionFileLines
        if let nativeFilter { lines += dialect.replicationFilterOptionFileLines(nativeFilter) }
        return ReadOnlyDurability(database: name, readOnly: readOnly, persisted: persisted, optionFileLines: lines)
    }

    /// The read-only settings now and where they come from (whether a restart keeps them).
    ///
    /// - Throws: `ReplicationError`.
    public func readOnlySetting(logger: Logger) async throws -> ReadOnlySetting {
        try await primary.readOnlySetting(logger: logger)
    }

    /// Closes every client session except this one, system threads and replication (any account: a privileged one
    /// passes `read_only`); returns how many.
    ///
    /// - Throws: `ReplicationError`.
    public func closeSessions(users: [String], logger: Logger) async throws -> Int {
        try await sessions.closeSessions(users: users, logger: logger).count
    }

    /// Waits until this database has executed `coordinate`, bounded by `timeout`: its GTIDs when both sides carry
    /// them, its file and offset otherwise (``CatchUpProof``).
    ///
    /// - Throws: `ReplicationError` on timeout, or when replication stops or fails while waiting.
    public func waitForCatchUp(
        to coordinate: ReplicationCoordinate,
        timeout: Duration,
        progress: @escaping @Sendable (ReplicationCoordinate?) -> Void,
        logger: Logger
    ) async throws {
        progress(nil)
        let result = try await proveCatchUp(to: coordinate, timeout: timeout, logger: logger)
        logger.debug("catch-up proved", metadata: ["replication.catch_up": "\(result)"])
    }

    /// Waits until this database has executed `coordinate` (``waitForCatchUp(to:timeout:progress:logger:)``) and
    /// says how it was proved: by GTIDs or by position, with which server function.
    ///
    /// - Throws: `ReplicationError` on timeout, or when replication stops or fails while waiting.
    public func proveCatchUp(to coordinate: ReplicationCoordinate, timeout: Duration, logger: Logger) async throws
        -> CatchUpResult
    {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var target = CatchUpTarget.position(try BinlogPosition(file: coordinate.file, offset: coordinate.offset))
        if let text = coordinate.gtidSet, !text.isEmpty {
            let status = try await replica.replicaStatus(logger: logger)
            target = try CatchUpProof.target(
                for: coordinate, replica: CatchUpProof.ReplicaGTIDs(status: status, isMariaDB: dialect.isMariaDB))
        }
        return try await replica.waitUntilExecuted(target, deadline: deadline, logger: logger)
    }

    /// Stops replication if it runs and resets it; does nothing when none is configured. `timeout` bounds the whole
    /// step: a stop that waits on a blocked applier or procedure (a global read lock on the replica) is interrupted
    /// when it passes (issue #12).
    ///
    /// - Throws: `ReplicationError` (``ReplicationError/Code/stepTimedOut`` when `timeout` passed first).
    public func stopAndResetReplication(timeout: Duration, logger: Logger) async throws {
        let replica = self.replica
        try await ReplicationStepDeadline.run(within: timeout, "stop and reset replication", endpoint: name) {
            try await Self.stopAndReset(replica, logger: logger)
        }
    }

    private static func stopAndReset(_ replica: any ReplicationControlling, logger: Logger) async throws {
        let status = try await replica.replicaStatus(logger: logger)
        guard status.isConfigured else { return }
        if !status.isStopped {
            do {
                _ = try await replica.stopReplication(logger: logger)
            } catch let error as ReplicationError where error.code == .notRunning {
                // Stopped in the meantime.
            }
        }
        do {
            try await replica.resetReplication(logger: logger)
        } catch let error as ReplicationError where error.code == .notConfigured {
            // Already reset.
        }
    }

    /// Configures replication from `source` at `coordinate` and starts it, over TLS when `tls` says so (the
    /// replica's `MASTER_SSL`, or the RDS procedures' `ssl_encryption` argument); leaves a replication already
    /// running from `source` as it is, and restarts a stopped one without error. A channel from `source` that stopped
    /// with an error is never reset nor re-pointed (``existingChannel(_:from:name:usesRDSProcedures:)``).
    ///
    /// - Throws: ``CutoverError`` (``CutoverError/Code/executorFailed``) naming the error when the channel from
    ///   `source` stopped with one; `ReplicationError`.
    public func startReplication(
        from source: ServerEndpoint,
        user: String,
        password: String,
        tls: ReplicationTLS,
        at coordinate: ReplicationCoordinate,
        timeout: Duration,
        logger: Logger
    ) async throws {
        let status = try await replica.replicaStatus(logger: logger)
        switch Self.existingChannel(
            status, from: source, name: name, usesRDSProcedures: replica is RDSReplicaController)
        {
        case .keep:
            return
        case .start:
            _ = try await replica.startReplication(logger: logger)
            return
        case .refuse(let message, let remedy):
            // Never reset a channel from this source that stopped with an error (issue #13 item 5).
            throw CutoverError(code: .executorFailed, message: message, remedy: remedy)
        case .configure:
            break
        }
        if status.isConfigured {
            try await stopAndResetReplication(timeout: timeout, logger: logger)
        }
        let position = try BinlogPosition(file: coordinate.file, offset: coordinate.offset)
        var startPoint = ReplicationSource.StartPoint.position(position)
        // File/position replication is not crash-safe on MariaDB: the applied position lives in relay-log.info,
        // written apart from the data, so a replica killed and restarted applies events again and stops on a
        // duplicate key. Its GTID position (mysql.gtid_slave_pos) is written in the same transaction as the data:
        // a native MariaDB replica starts from the GTID position captured with the coordinate.
        if dialect.isMariaDB, replica is NativeReplicaController, let text = coordinate.gtidSet,
            let gtid = try? MariaDBGTIDPosition(parsing: text), !gtid.isEmpty
        {
            startPoint = .mariaDBGTID(gtid)
        }
        try await replica.configureSource(
            ReplicationSource(
                host: source.host, port: source.port, user: user, password: password, startPoint: startPoint,
                useTLS: tls == .required
            ),
            logger: logger
        )
        _ = try await replica.startReplication(logger: logger)
    }

    /// Polls the replica status until both threads run, failing on a reported error or after `timeout`.
    ///
    /// - Throws: ``CutoverError`` (``CutoverError/Code/executorFailed``) or `ReplicationError`.
    public func verifyReplication(timeout: Duration, logger: Logger) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let status = try await replica.replicaStatus(logger: logger)
            if let error = status.lastSQLError ?? status.lastIOError {
                throw CutoverError(code: .executorFailed, message: "replication on \(name) reports an error: \(error)", remedy: "see `migrate-cli status`; fix the error, then `migrate-cli resume`")
            }
            if status.isRunning { return }
            if ContinuousClock.now >= deadline {
                throw CutoverError(code: .executorFailed, message: "replication on \(name) is not running after \(timeout): \(status)", remedy: "check the replication account and network, then `migrate-cli resume`")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
