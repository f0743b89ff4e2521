import Logging
import MariaDB

/// What ``NativeReplicaController`` and ``RDSReplicaController`` share: the replica's session and dialect, its
/// status reads, the verification after a start or stop (re-read the status until it shows the expected thread
/// states), and the catch-up waits.
struct ReplicaControllerCore: Sendable {
    /// The replica's session.
    let session: any SQLSession
    /// The replica's dialect (for the status statement and the wait functions).
    let dialect: ReplicationDialect
    /// Deadline of one status read.
    let statusTimeout: Duration
    /// How long to keep re-reading the status after a start or stop before giving up.
    let verificationTimeout: Duration
    /// Time between those status reads.
    let verificationInterval: Duration
    /// Catch-up waits and lag.
    let waiter: CatchUpWaiter
    /// The clock the verification is measured and slept on.
    let clock: ReplicationClock

    init(
        session: any SQLSession,
        dialect: ReplicationDialect,
        statusTimeout: Duration,
        verificationTimeout: Duration,
        verificationInterval: Duration,
        catchUp: CatchUpWaiter.Options,
        clock: ReplicationClock
    ) {
        self.session = session
        self.dialect = dialect
        self.statusTimeout = statusTimeout
        self.verificationTimeout = verificationTimeout
        self.verificationInterval = verificationInterval
        self.waiter = CatchUpWaiter(session: session, dialect: dialect, options: catchUp, clock: clock)
        self.clock = clock
    }

    /// Reads the replica status and parses it by column name.
    func replicaStatus() async throws -> ReplicaStatus {
        try await ReplicaStatusReader.read(session: session, dialect: dialect, timeout: statusTimeout)
    }

    /// Re-reads the status until `accept` holds, failing fast when a thread stops with an error.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/replicationFailed`` when a thread stopped with an
    ///   error, ``ReplicationError/Code/stateNotReached`` past ``verificationTimeout``).
    func verify(
        logger: Logger,
        expectation: String,
        _ accept: (ReplicaStatus) -> Bool
    ) async throws -> ReplicaStatus {
        let deadline = clock.now.advanced(by: verificationTimeout)
        while true {
            let status = try await replicaStatus()
            if accept(status) {
                logger.debug(
                    "replica state verified",
                    metadata: ["replication.expected": "\(expectation)", "replication.status": "\(status)"])
                return status
            }
            // A thread that stopped with an error will not recover by itself.
            if status.sqlThread == .stopped, let sqlError = status.lastSQLError {
                throw ReplicationError(
                    code: .replicationFailed,
                    message: "expected \(expectation), but the SQL thread stopped with error \(sqlError.number)",
                    endpoint: session.endpointDescription,
                    sqlThreadError: sqlError,
                    ioThreadError: status.lastIOError
                )
            }
            if status.ioThread == .stopped, let ioError = status.lastIOError, !accept(status) {
                throw ReplicationError(
                    code: .replicationFailed,
                    message: "expected \(expectation), but the IO thread stopped with error \(ioError.number)",
                    endpoint: session.endpointDescription,
                    ioThreadError: ioError
                )
            }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw ReplicationError(
                    code: .stateNotReached,
                    message: "expected \(expectation) within \(verificationTimeout), status shows \(status)",
                    endpoint: session.endpointDescription,
                    sqlThreadError: status.lastSQLError,
                    ioThreadError: status.lastIOError
                )
            }
            try await clock.sleep(for: min(verificationInterval, remaining))
        }
    }
}

/// A replica controller built from a session and its detected dialect.
protocol DialectReplicaController: Sendable {
    /// The controller's tuning.
    associatedtype Options: Sendable

    /// Creates a controller for a server of `dialect`.
    init(session: any SQLSession, dialect: ReplicationDialect, options: Options, clock: ReplicationClock) throws
}

extension DialectReplicaController {
    /// Detects the dialect of the server behind `session`, then creates a controller.
    static func detected(on session: any SQLSession, options: Options, logger: Logger) async throws -> Self {
        try Self(
            session: session, dialect: try await ReplicationDialect.detect(on: session, logger: logger),
            options: options, clock: .continuous)
    }
}
