import MariaDB

/// The error of the `ReplicationControl` module.
///
/// ``description`` is safe to show and log: it holds the code, the server error number and SQLSTATE when there are
/// some, the endpoint and a short message, never a password or a statement. ``debugDescription`` adds the
/// statement (literals redacted), the replication thread errors, the underlying error and the source location. Two
/// errors are equal when their codes are equal.
public struct ReplicationError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New codes may be added in minor releases.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case malformedPosition, malformedGTID, malformedStatus, binaryLogDisabled
            case notConfigured, alreadyRunning, notRunning, nothingToSkip
            case replicationFailed, replicationNotRunning, stateNotReached, catchUpTimedOut
            case procedureFailed, procedureMissing, permissionDenied, invalidArgument, unsupported
            case fenceTimedOut, server, unexpectedResult, incomparablePositions, stepTimedOut
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A binlog coordinate could not be read (file name without a numeric suffix, offset not a number, ...).
        public static let malformedPosition = Code(.malformedPosition)
        /// A GTID, GTID set or MariaDB GTID position could not be read.
        public static let malformedGTID = Code(.malformedGTID)
        /// A replica or source status row lacks a required column or holds a value of the wrong shape.
        public static let malformedStatus = Code(.malformedStatus)
        /// The server's binary log is off (`SHOW MASTER STATUS` returned no row), so it has no position to give.
        public static let binaryLogDisabled = Code(.binaryLogDisabled)
        /// Replication is not configured on the replica (no source set).
        public static let notConfigured = Code(.notConfigured)
        /// Replication is already running (or partly running), so the operation was refused.
        public static let alreadyRunning = Code(.alreadyRunning)
        /// Replication is already stopped, so there is nothing to stop.
        public static let notRunning = Code(.notRunning)
        /// `rds_skip_repl_error` found no replication error to skip.
        public static let nothingToSkip = Code(.nothingToSkip)
        /// A replication thread stopped with an error (see ``ReplicationError/sqlThreadError`` and
        /// ``ReplicationError/ioThreadError``).
        public static let replicationFailed = Code(.replicationFailed)
        /// The replica's SQL (applier) thread is not running, without a recorded error, so a catch-up can never
        /// finish.
        public static let replicationNotRunning = Code(.replicationNotRunning)
        /// After a start or stop, the replica status did not show the expected thread states before the deadline.
        public static let stateNotReached = Code(.stateNotReached)
        /// The replica did not execute the target position or GTID set before the deadline.
        public static let catchUpTimedOut = Code(.catchUpTimedOut)
        /// A replication step (stop and reset, start, verify) did not finish before its deadline: its statement was
        /// interrupted. Something holds the replica's applier or its procedures (a global read lock, a long
        /// transaction); the step may be repeated once that is released.
        public static let stepTimedOut = Code(.stepTimedOut)
        /// An RDS procedure signalled an error (SQLSTATE 45000) that has no more specific code.
        public static let procedureFailed = Code(.procedureFailed)
        /// A required `mysql.rds_*` procedure does not exist on the server (or the account cannot see it).
        public static let procedureMissing = Code(.procedureMissing)
        /// The account lacks a privilege for the operation (1227, 1370, or an RDS "Permission Denied").
        public static let permissionDenied = Code(.permissionDenied)
        /// An argument was refused, by us or by the server (for example a binlog retention out of range).
        public static let invalidArgument = Code(.invalidArgument)
        /// The server cannot do this at all (for example `SET GLOBAL read_only` on Aurora).
        public static let unsupported = Code(.unsupported)
        /// Fencing writes (`SET GLOBAL read_only`) did not finish before its deadline.
        public static let fenceTimedOut = Code(.fenceTimedOut)
        /// Another server error (see ``ReplicationError/underlying``).
        public static let server = Code(.server)
        /// The server answered with a result of an unexpected shape.
        public static let unexpectedResult = Code(.unexpectedResult)
        /// Two binlog positions lie in logs of different base names (`mysql-bin` and `mysql-bin-changelog`): they
        /// come from different servers or a renamed log, and neither is before the other.
        public static let incomparablePositions = Code(.incomparablePositions)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, in words (no SQL, no credentials).
    public var message: String
    /// The server's error number, when the failure came from the server (`1644` for an RDS procedure's SIGNAL).
    public var serverErrorNumber: UInt32?
    /// The SQLSTATE, when the failure came from the server (`45000` for an RDS procedure's SIGNAL).
    public var sqlState: String?
    /// The statement that failed, literals redacted.
    public var statement: String?
    /// The endpoint (`host:port`) of the session, when known.
    public var endpoint: String?
    /// The SQL thread's last error, when the replica status showed one.
    public var sqlThreadError: ReplicaStatus.ThreadError?
    /// The IO thread's last error, when the replica status showed one.
    public var ioThreadError: ReplicaStatus.ThreadError?
    /// A lower-level error that caused this one (usually a `MariaDBError`).
    public var underlying: (any Error)?
    /// The file of the call that raised the error (`#fileID`).
    public var file: String
    /// The line of the call that raised the error.
    public var line: Int

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        serverErrorNumber: UInt32? = nil,
        sqlState: String? = nil,
        statement: String? = nil,
        endpoint: String? = nil,
        sqlThreadError: ReplicaStatus.ThreadError? = nil,
        ioThreadError: ReplicaStatus.ThreadError? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.serverErrorNumber = serverErrorNumber
        self.sqlState = sqlState
        self.statement = statement
        self.endpoint = endpoint
        self.sqlThreadError = sqlThreadError
        self.ioThreadError = ioThreadError
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// Errors are equal when their codes are equal.
    public static func == (lhs: ReplicationError, rhs: ReplicationError) -> Bool { lhs.code == rhs.code }

    public var description: String {
        var text = "ReplicationError.\(code)"
        if let serverErrorNumber {
            text += " \(serverErrorNumber)"
            if let sqlState { text += " (\(sqlState))" }
        }
        if let endpoint { text += " at \(endpoint)" }
        text += ": \(message)"
        return text
    }

    public var debugDescription: String {
        var text = description
        if let statement { text += "; statement: \(statement)" }
        if let sqlThreadError { text += "; SQL thread error \(sqlThreadError.number): \(sqlThreadError.message)" }
        if let ioThreadError { text += "; IO thread error \(ioThreadError.number): \(ioThreadError.message)" }
        if let underlying { text += "; underlying: \(String(reflecting: underlying))" }
        text += " [\(file):\(line)]"
        return text
    }
}

extension ReplicationError {
    /// Wraps a server or connection error of a statement this module sent.
    /// `message` followed by `privilegeHint` (` (needs PROCESS)`) only when `error` is a missing privilege, or by
    /// ` (the connection was lost)` when the connection broke: a hint that does not fit the error misleads.
    static func message(_ message: String, privilegeHint: String, for error: any Error) -> String {
        guard let error = error as? MariaDBError else { return message }
        if error.isPermissionDenied || error.isAccessDenied { return message + privilegeHint }
        if error.isConnectionLost || error.code == .connectionFailed || error.code == .connectionClosed {
            return message + " (the connection was lost)"
        }
        return message
    }

    static func wrapping(
        _ error: any Error,
        message: String,
        endpoint: String?,
        file: String = #fileID,
        line: Int = #line
    ) -> ReplicationError {
        if let replicationError = error as? ReplicationError { return replicationError }
        guard let mariaDBError = error as? MariaDBError else {
            return ReplicationError(
                code: .server, message: message, endpoint: endpoint, underlying: error, file: file, line: line)
        }
        let code: Code = mariaDBError.isPermissionDenied ? .permissionDenied : .server
        return ReplicationError(
            code: code,
            message: message,
            serverErrorNumber: mariaDBError.serverErrorNumber,
            sqlState: mariaDBError.sqlState,
            statement: mariaDBError.statement,
            endpoint: endpoint ?? mariaDBError.endpoint,
            underlying: mariaDBError,
            file: file,
            line: line
        )
    }
}
