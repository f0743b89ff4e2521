/// The error of the `MariaDB` module.
///
/// ``description`` is safe to show and log: it holds the code, the server error number and SQLSTATE, and the
/// server's message (cut before any quoted SQL for syntax errors, row values masked for duplicate-key and
/// bad-value errors), never a password and never the statement. ``debugDescription`` adds the redacted statement
/// (literals masked) and the source location; a dump shows the same safe message.
/// Two errors are equal when their codes are equal.
public struct MariaDBError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// What kind of failure this is. New codes may be added in minor releases.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidConfiguration, connectionFailed, connectionLost, connectionClosed, server
            case cancelled, deadlineExceeded, decoding, loginPath, optionFile, clientLibrary, unexpectedResult
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The configuration is unusable (the message says which field).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The connection could not be established (unreachable, refused, timed out, or refused login).
        public static let connectionFailed = Code(.connectionFailed)
        /// An established connection broke. It is not reconnected: open a new one.
        public static let connectionLost = Code(.connectionLost)
        /// The connection was closed, or made unusable by an earlier failure.
        public static let connectionClosed = Code(.connectionClosed)
        /// The server answered a statement with an error (see ``MariaDBError/serverErrorNumber``).
        public static let server = Code(.server)
        /// The calling task was cancelled; the statement was interrupted on the server.
        public static let cancelled = Code(.cancelled)
        /// The call's deadline passed; the statement was interrupted on the server.
        public static let deadlineExceeded = Code(.deadlineExceeded)
        /// A value could not be read as the requested type.
        public static let decoding = Code(.decoding)
        /// A login-path file (`~/.mylogin.cnf`) could not be read or has no such path.
        public static let loginPath = Code(.loginPath)
        /// An option file could not be read.
        public static let optionFile = Code(.optionFile)
        /// The client library failed outside of any server exchange (out of memory, bad option).
        public static let clientLibrary = Code(.clientLibrary)
        /// The server's answer did not have the expected shape.
        public static let unexpectedResult = Code(.unexpectedResult)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The server's (or client library's) error number, when there is one (`1045`, `2013`, ...).
    public var serverErrorNumber: UInt32?
    /// The SQLSTATE, when there is one (`28000`, `HY000`, ...).
    public var sqlState: String?
    /// The server's or library's message, or ours, as received: it may quote statement text (a syntax error's
    /// `near '…'`) or row values. Show ``description`` instead; use this for classification only.
    public var message: String?
    /// The statement that failed, with literals redacted (see ``SQLStatement/redacted``).
    public var statement: String?
    /// The endpoint the connection talks to (`host:port` or socket path), when known.
    public var endpoint: String?
    /// A lower-level error that caused this one.
    public var underlying: (any Error)?
    /// The source file (`#fileID`) where the error was raised.
    public var file: String
    /// The source line where the error was raised.
    public var line: Int

    /// Creates an error; `file` and `line` default to the caller's location.
    public init(
        code: Code,
        serverErrorNumber: UInt32? = nil,
        sqlState: String? = nil,
        message: String? = nil,
        statement: String? = nil,
        endpoint: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.serverErrorNumber = serverErrorNumber
        self.sqlState = sqlState
        self.message = message
        self.statement = statement
        self.endpoint = endpoint
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public static func == (lhs: MariaDBError, rhs: MariaDBError) -> Bool { lhs.code == rhs.code }

    /// The server error number as a pattern-matchable ``ServerCode``.
    public var serverCode: ServerCode? { serverErrorNumber.map(ServerCode.init(rawValue:)) }

    public var description: String {
        var text = "MariaDBError.\(code)"
        if let serverErrorNumber {
            text += " \(serverErrorNumber)"
            if let sqlState { text += " (\(sqlState))" }
        }
        if let endpoint { text += " at \(endpoint)" }
        if let message = safeMessage { text += ": \(message)" }
        return text
    }

    public var debugDescription: String {
        var text = description
        if let statement { text += "; statement: \(statement)" }
        if let underlying { text += "; underlying: \(String(reflecting: underlying))" }
        text += " [\(file):\(line)]"
        return text
    }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "code": code, "serverErrorNumber": serverErrorNumber as Any, "sqlState": sqlState as Any,
                "message": safeMessage as Any, "statement": statement as Any, "endpoint": endpoint as Any,
                "underlying": underlying as Any, "file": file, "line": line,
            ],
            displayStyle: .struct
        )
    }

    /// Errors whose message quotes a row value in its first `'…'` (duplicate key, bad or truncated value).
    static let numbersQuotingRowValues: Set<UInt32> = [1062, 1586, 1366, 1292, 1367, 1411]

    /// The message without any SQL fragment the server may have quoted (syntax errors quote the statement text)
    /// and with row values masked.
    var safeMessage: String? {
        guard var message else { return nil }
        for marker in [" near '", " near \""] {
            if let cut = message.firstRange(of: marker) {
                return String(message[..<cut.lowerBound]) + " (statement text omitted)"
            }
        }
        if let serverErrorNumber, Self.numbersQuotingRowValues.contains(serverErrorNumber),
            let open = message.firstIndex(of: "'"),
            let close = message[message.index(after: open)...].firstIndex(of: "'")
        {
            message.replaceSubrange(message.index(after: open)..<close, with: "…")
        }
        return message
    }

    /// Error numbers after which the connection is gone: server gone away (2006), lost during query (2013),
    /// lost during result (2055), killed (1927), disconnected for inactivity (MySQL 4031), server shutting down
    /// (1053).
    /// 2027 (malformed packet) is included: libmariadb 3.3 reports an ERR packet carrying 2013 from a proxy as 2027,
    /// and the connection is unusable afterwards either way.
    static let connectionLostNumbers: Set<UInt32> = [2006, 2013, 2027, 2055, 1927, 4031, 1053]

    /// Whether `message` comes from ProxySQL's admin interface, which reports every statement error as 1045.
    var isProxySQLAdminStatementError: Bool {
        message?.hasPrefix("ProxySQL Admin Error:") ?? false
    }

    // MARK: Classification

    /// The connection is gone (server went away, lost during query, killed, timed out for inactivity, server
    /// shutting down, TLS failure, or broken by cancellation).
    public var isConnectionLost: Bool {
        if code == .connectionLost { return true }
        guard let number = serverErrorNumber else { return false }
        return Self.connectionLostNumbers.contains(number) || number == 2026
    }

    /// The login was refused (wrong user or password, or no access to the database).
    ///
    /// ProxySQL's admin interface reports every failed statement as 1045 too, with a message starting
    /// `ProxySQL Admin Error:`; those are not access denials (a refused admin login says `ProxySQL Error: Access
    /// denied …`).
    public var isAccessDenied: Bool {
        guard let number = serverErrorNumber, !isProxySQLAdminStatementError else { return false }
        return [1044, 1045, 1698].contains(number)
    }

    /// The account lacks a privilege for the statement (`SUPER`, a table grant, ...).
    public var isPermissionDenied: Bool {
        guard let number = serverErrorNumber else { return false }
        return [1142, 1143, 1227, 1370].contains(number)
    }

    /// `innodb_lock_wait_timeout` expired (1205) or a deadlock was detected (1213).
    public var isLockWaitTimeout: Bool {
        guard let number = serverErrorNumber else { return false }
        return number == 1205 || number == 1213
    }

    /// The statement was interrupted: by `KILL QUERY`, by our cancellation or by a deadline.
    public var isInterrupted: Bool {
        if code == .cancelled || code == .deadlineExceeded { return true }
        guard let number = serverErrorNumber else { return false }
        return number == 1317 || number == 3024 || number == 1969
    }

    /// The server does not know a system variable the statement used (1193).
    public var isUnknownVariable: Bool { serverErrorNumber == 1193 }

    /// The statement did not parse (1064 / 1149, or SQLite's message on ProxySQL's admin interface: `near "…":
    /// syntax error`, `unrecognized token: …`, `incomplete input`).
    public var isSyntaxError: Bool {
        if let number = serverErrorNumber, number == 1064 || number == 1149 { return true }
        guard let message else { return false }
        if message.hasSuffix("syntax error") { return true }
        guard isProxySQLAdminStatementError else { return false }
        return message.contains("unrecognized token") || message.hasSuffix("incomplete input")
    }
}

extension MariaDBError {
    /// A server error number that can be matched in a `catch` or `switch`:
    /// `catch let error as MariaDBError where error.serverCode == .lockWaitTimeout`, or
    /// `case MariaDBError.ServerCode.accessDenied:` against a ``MariaDBError``.
    public struct ServerCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The error number.
        public let rawValue: UInt32
        /// Wraps an error number.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// No access to the database (1044).
        public static let databaseAccessDenied = ServerCode(rawValue: 1044)
        /// Wrong user or password (1045); on ProxySQL's admin interface also every statement error.
        public static let accessDenied = ServerCode(rawValue: 1045)
        /// A table privilege is missing (1142).
        public static let tableAccessDenied = ServerCode(rawValue: 1142)
        /// A global privilege such as `SUPER` is missing (1227).
        public static let specificAccessDenied = ServerCode(rawValue: 1227)
        /// The server does not know the system variable (1193).
        public static let unknownSystemVariable = ServerCode(rawValue: 1193)
        /// `innodb_lock_wait_timeout` expired (1205).
        public static let lockWaitTimeout = ServerCode(rawValue: 1205)
        /// A deadlock was detected; the transaction was rolled back (1213).
        public static let deadlock = ServerCode(rawValue: 1213)
        /// The statement was interrupted, for example by `KILL QUERY` (1317).
        public static let queryInterrupted = ServerCode(rawValue: 1317)
        /// The statement did not parse (1064).
        public static let parseError = ServerCode(rawValue: 1064)
        /// A unique key already holds the value (1062).
        public static let duplicateEntry = ServerCode(rawValue: 1062)
        /// The table does not exist (1146).
        public static let noSuchTable = ServerCode(rawValue: 1146)
        /// The stored procedure does not exist (1305).
        public static let unknownProcedure = ServerCode(rawValue: 1305)
        /// An option such as `read_only` prevents the statement (1290).
        public static let optionPreventsStatement = ServerCode(rawValue: 1290)
        /// The connection was killed (1927).
        public static let connectionKilled = ServerCode(rawValue: 1927)
        /// The server has gone away (2006).
        public static let serverGone = ServerCode(rawValue: 2006)
        /// The connection was lost during the query (2013).
        public static let serverLost = ServerCode(rawValue: 2013)
        /// Cannot connect over TCP (2003).
        public static let cannotConnect = ServerCode(rawValue: 2003)
        /// The host name does not resolve (2005).
        public static let unknownHost = ServerCode(rawValue: 2005)
        /// Cannot connect through the Unix socket (2002).
        public static let cannotConnectViaSocket = ServerCode(rawValue: 2002)
        /// The server is shutting down (1053).
        public static let serverShutdown = ServerCode(rawValue: 1053)
        /// MariaDB's `max_statement_time` was exceeded (1969).
        public static let statementTimeExceeded = ServerCode(rawValue: 1969)
        /// MySQL's `max_execution_time` was exceeded (3024).
        public static let executionTimeExceeded = ServerCode(rawValue: 3024)
        /// MySQL closed the connection for inactivity (4031).
        public static let disconnectedForInactivity = ServerCode(rawValue: 4031)
        /// A `SIGNAL` with SQLSTATE 45000 and no number, as the RDS procedures raise (1644).
        public static let signal = ServerCode(rawValue: 1644)

        public var description: String { String(rawValue) }

        /// Matches an error whose ``MariaDBError/serverErrorNumber`` is this code.
        public static func ~= (pattern: ServerCode, error: any Error) -> Bool {
            (error as? MariaDBError)?.serverErrorNumber == pattern.rawValue
        }
    }
}
