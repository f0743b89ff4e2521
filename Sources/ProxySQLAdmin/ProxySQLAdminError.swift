public import MariaDB

/// The error of the `ProxySQLAdmin` module.
///
/// ProxySQL's admin interface answers **every** failure with MySQL error 1045 and SQLSTATE 28000: a refused
/// statement carries the text `ProxySQL Admin Error: ` followed by SQLite's message, a refused login
/// `ProxySQL Error: Access denied for user ...`. Only the text tells them apart, so
/// ``init(classifying:node:statement:file:line:)`` classifies by text, not by number.
///
/// ``description`` is safe to show and log: code, node, and a message without SQL, credentials or row values.
/// ``debugDescription`` adds the redacted statement, the detail (which server, which differences) and the
/// source location. Two errors are equal when their codes are equal.
public struct ProxySQLAdminError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New codes may be added in minor releases.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case adminStatementFailed, constraintViolation, alreadyExists, accessDenied, connectionFailed
            case connectionLost, deadlineExceeded, cancelled, notFound, verificationFailed, invalidArgument
            case unexpectedResult, wrongDialect, partialFailure
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The admin interface refused a statement (`ProxySQL Admin Error: ...`: syntax error, no such table,
        /// unknown command); see ``ProxySQLAdminError/adminMessage``.
        public static let adminStatementFailed = Code(.adminStatementFailed)
        /// A CHECK, NOT NULL or UNIQUE constraint of the admin tables refused the change (a port out of range, an
        /// unknown status, ...).
        public static let constraintViolation = Code(.constraintViolation)
        /// The row to insert exists already (same hostgroup, host and port).
        public static let alreadyExists = Code(.alreadyExists)
        /// The admin login was refused (`ProxySQL Error: Access denied ...`): wrong user or password.
        public static let accessDenied = Code(.accessDenied)
        /// The admin interface could not be reached.
        public static let connectionFailed = Code(.connectionFailed)
        /// The admin connection broke or was closed.
        public static let connectionLost = Code(.connectionLost)
        /// A call's deadline passed (a statement timeout, or a cluster node's deadline).
        public static let deadlineExceeded = Code(.deadlineExceeded)
        /// The calling task was cancelled.
        public static let cancelled = Code(.cancelled)
        /// No row matched: no such server, no such variable, no such session.
        public static let notFound = Code(.notFound)
        /// The runtime state differs from the intended one (see ``ProxySQLAdminError/runtimeDifferences``).
        public static let verificationFailed = Code(.verificationFailed)
        /// An argument is out of the range ProxySQL accepts; nothing was sent.
        public static let invalidArgument = Code(.invalidArgument)
        /// The admin interface answered with an unexpected shape (a missing column, a value that does not parse).
        public static let unexpectedResult = Code(.unexpectedResult)
        /// The session does not quote literals with ProxySQL admin (SQLite) rules; nothing was sent.
        /// Open admin connections with `configuration.quoting = .proxySQLAdmin`.
        public static let wrongDialect = Code(.wrongDialect)
        /// A change applied to several nodes failed on some of them (see ``ProxySQLAdminError/failedNodes``).
        public static let partialFailure = Code(.partialFailure)

        public var description: String { base.rawValue }
    }

    /// The prefix ProxySQL puts before SQLite's message when it refuses a statement.
    public static let adminErrorPrefix = "ProxySQL Admin Error: "

    /// The kind of failure.
    public var code: Code
    /// The name of the ProxySQL node (its admin endpoint unless named otherwise), when known.
    public var node: String?
    /// A message safe to show: ours, or the server's without quoted SQL.
    public var message: String?
    /// Details for debugging only (which server or variable, the differences found); may hold host names and
    /// values, never credentials. Shown by ``debugDescription``, not by ``description``.
    public var detail: String?
    /// The server's error number (`1045` for everything the admin interface refuses).
    public var serverErrorNumber: UInt32?
    /// The SQLSTATE (`28000` for everything the admin interface refuses).
    public var sqlState: String?
    /// The statement that failed, with literals redacted.
    public var statement: String?
    /// The differences found by a failed verification (empty otherwise).
    public var runtimeDifferences: [RuntimeDifference]
    /// The nodes that failed, for ``Code/partialFailure`` (empty otherwise).
    public var failedNodes: [String]
    /// The lower-level error (usually a `MariaDBError`).
    public var underlying: (any Error)?
    /// The file of the call that raised the error (`#fileID`).
    public var file: String
    /// The line of the call that raised the error.
    public var line: Int

    /// Creates an error.
    public init(
        code: Code,
        node: String? = nil,
        message: String? = nil,
        detail: String? = nil,
        serverErrorNumber: UInt32? = nil,
        sqlState: String? = nil,
        statement: String? = nil,
        runtimeDifferences: [RuntimeDifference] = [],
        failedNodes: [String] = [],
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.node = node
        self.message = message
        self.detail = detail
        self.serverErrorNumber = serverErrorNumber
        self.sqlState = sqlState
        self.statement = statement
        self.runtimeDifferences = runtimeDifferences
        self.failedNodes = failedNodes
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// Classifies any error thrown by a `SQLSession` talking to a ProxySQL admin interface.
    ///
    /// A ``ProxySQLAdminError`` is returned as it is (with `node` filled in when missing). For a
    /// `MariaDBError`: 1045 whose text starts with ``adminErrorPrefix`` is a refused statement
    /// (``Code/constraintViolation`` when SQLite reports a failed constraint, ``Code/adminStatementFailed``
    /// otherwise); any other 1045/1044/1698 is ``Code/accessDenied``; connection, deadline and cancellation
    /// codes map to their counterparts.
    public init(
        classifying error: any Error,
        node: String? = nil,
        statement: SQLStatement? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        if var error = error as? ProxySQLAdminError {
            if error.node == nil { error.node = node }
            if error.statement == nil { error.statement = statement?.redacted }
            self = error
            return
        }
        guard let error = error as? MariaDBError else {
            if error is CancellationError {
                self.init(
                    code: .cancelled, node: node, message: "cancelled", statement: statement?.redacted,
                    underlying: error, file: file, line: line)
            } else {
                self.init(
                    code: .unexpectedResult, node: node, message: "unexpected error",
                    statement: statement?.redacted, underlying: error, file: file, line: line)
            }
            return
        }
        let code = Self.classify(error)
        let message: String? =
            switch code {
            case .adminStatementFailed, .constraintViolation: Self.safeAdminMessage(error.message)
            case .accessDenied: "access denied"
            default: error.message.map(Self.withoutQuotedSQL)
            }
        self.init(
            code: code,
            node: node ?? error.endpoint,
            message: message,
            detail: error.message,
            serverErrorNumber: error.serverErrorNumber,
            sqlState: error.sqlState,
            statement: statement?.redacted ?? error.statement,
            underlying: error,
            file: file,
            line: line
        )
    }

    static func classify(_ error: MariaDBError) -> Code {
        if let number = error.serverErrorNumber, number == 1045 || number == 1044 || number == 1698 {
            if let text = error.message, text.hasPrefix(adminErrorPrefix) {
                return isConstraintMessage(text) ? .constraintViolation : .adminStatementFailed
            }
            return .accessDenied
        }
        switch error.code {
        case .server: return .adminStatementFailed
        case .connectionFailed, .loginPath, .optionFile, .clientLibrary: return .connectionFailed
        case .connectionLost, .connectionClosed: return .connectionLost
        case .deadlineExceeded: return .deadlineExceeded
        case .cancelled: return .cancelled
        case .invalidConfiguration: return .invalidArgument
        case .decoding, .unexpectedResult: return .unexpectedResult
        default: return error.isConnectionLost ? .connectionLost : .unexpectedResult
        }
    }

    static func isConstraintMessage(_ text: String) -> Bool {
        text.contains("constraint failed")
    }

    /// SQLite's message without the `ProxySQL Admin Error: ` prefix, or nil when this is not a refused admin
    /// statement. Examples: `no such table: x`, `CHECK constraint failed: ...`, `near "LOAD": syntax error`.
    public var adminMessage: String? {
        guard let detail, detail.hasPrefix(Self.adminErrorPrefix) else { return nil }
        return String(detail.dropFirst(Self.adminErrorPrefix.count))
    }

    /// Whether SQLite reported a syntax error (a mistyped command such as `LOAD MYSQL SERVERS TO RUNTIM` falls
    /// through to SQLite and ends up here).
    public var isSyntaxError: Bool { adminMessage?.hasSuffix("syntax error") ?? false }

    /// Whether SQLite reported an unknown table (a ProxySQL version without that table).
    public var isNoSuchTable: Bool { adminMessage?.hasPrefix("no such table") ?? false }

    /// Whether SQLite reported a UNIQUE (primary key) violation.
    public var isUniqueViolation: Bool { adminMessage?.contains("UNIQUE constraint failed") ?? false }

    /// The admin message with SQLite's quotation of the statement removed (`near "...": syntax error` becomes
    /// `syntax error`), prefixed as ProxySQL does.
    static func safeAdminMessage(_ message: String?) -> String? {
        guard let message else { return nil }
        guard message.hasPrefix(adminErrorPrefix) else { return withoutQuotedSQL(message) }
        let sqlite = message.dropFirst(adminErrorPrefix.count)
        if sqlite.hasPrefix("near "), sqlite.hasSuffix("syntax error") {
            return adminErrorPrefix + "syntax error (statement text omitted)"
        }
        return adminErrorPrefix + withoutQuotedSQL(String(sqlite))
    }

    static func withoutQuotedSQL(_ message: String) -> String {
        for marker in [" near '", " near \"", "near \""] {
            if let cut = message.firstRange(of: marker) {
                return String(message[..<cut.lowerBound]) + " (statement text omitted)"
            }
        }
        return message
    }

    public static func == (lhs: ProxySQLAdminError, rhs: ProxySQLAdminError) -> Bool { lhs.code == rhs.code }

    public var description: String {
        var text = "ProxySQLAdminError.\(code)"
        if let node { text += " at \(node)" }
        if let serverErrorNumber {
            text += " \(serverErrorNumber)"
            if let sqlState { text += " (\(sqlState))" }
        }
        if let message { text += ": \(message)" }
        if !failedNodes.isEmpty { text += " [failed nodes: \(failedNodes.joined(separator: ", "))]" }
        return text
    }

    public var debugDescription: String {
        var text = description
        if let detail { text += "; detail: \(detail)" }
        if !runtimeDifferences.isEmpty {
            text += "; differences: " + runtimeDifferences.map(\.description).joined(separator: "; ")
        }
        if let statement { text += "; statement: \(statement)" }
        if let underlying { text += "; underlying: \(String(reflecting: underlying))" }
        text += " [\(file):\(line)]"
        return text
    }
}
