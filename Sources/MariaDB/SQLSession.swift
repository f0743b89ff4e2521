/// The narrow interface the upper layers (ReplicationControl, ProxySQLAdmin) talk to: send a statement, get
/// everything it returned.
///
/// ``MariaDBConnection`` is the real implementation; `ScriptedSQLSession` in the test-support target is a fake
/// that expects statements and answers canned rows or errors.
public protocol SQLSession: Sendable {
    /// Sends `statement` (rendered for this session's dialect) and returns all of its results.
    ///
    /// - Parameters:
    ///   - statement: the statement; its literals are quoted for the session's dialect.
    ///   - timeout: a deadline for this call, after which the statement is interrupted on the server and the call
    ///     throws ``MariaDBError/Code/deadlineExceeded``; nil for none beyond the connection's own timeouts.
    /// - Throws: ``MariaDBError``.
    func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult

    /// How literals are quoted on this session.
    var dialect: SQLDialect { get async }

    /// A short name for the other end (`host:port`), for messages; never includes credentials.
    var endpointDescription: String { get }
}

extension SQLSession {
    /// Sends `statement` with no per-call deadline.
    public func execute(_ statement: SQLStatement) async throws -> SQLResult {
        try await execute(statement, timeout: nil)
    }

    /// Sends `statement` and returns the rows of its first result set.
    public func query(_ statement: SQLStatement, timeout: Duration? = nil) async throws -> [Row] {
        try await execute(statement, timeout: timeout).rows
    }

    /// Sends `statement` and returns the first row of its first result set, or nil when it returned none.
    public func queryFirst(_ statement: SQLStatement, timeout: Duration? = nil) async throws -> Row? {
        try await execute(statement, timeout: timeout).resultSets.first?.first
    }

    /// Sends a statement that returns no rows and returns the number of rows it changed.
    @discardableResult
    public func run(_ statement: SQLStatement, timeout: Duration? = nil) async throws -> UInt64 {
        try await execute(statement, timeout: timeout).affectedRows
    }
}
