public import MariaDB
import Synchronization

/// A fake `SQLSession` that expects statements in order and answers each with canned results or an error.
///
/// An unexpected statement fails the call with a message that shows what was expected and what arrived, and is
/// recorded in ``failures``; ``verifyAllConsumed()`` fails when expectations are left over.
///
/// ```swift
/// let session = ScriptedSQLSession(dialect: .proxySQLAdmin)
/// session.expect("LOAD MYSQL SERVERS TO RUNTIME")
/// session.expect(.regex("^SELECT .* FROM runtime_mysql_servers"), returning: rows)
/// ```
public final class ScriptedSQLSession: SQLSession, Sendable {
    /// How an expected statement is matched against the rendered text.
    public enum Matcher: Sendable, CustomStringConvertible {
        /// The rendered statement equals this text exactly.
        case exact(String)
        /// The rendered statement matches this regular expression (Swift `Regex` syntax).
        case regex(String)
        /// The rendered statement starts with this text.
        case prefix(String)

        func matches(_ sql: String) -> Bool {
            switch self {
            case .exact(let text): return sql == text
            case .prefix(let text): return sql.hasPrefix(text)
            case .regex(let pattern):
                guard let regex = try? Regex(pattern) else { return false }
                return sql.contains(regex)
            }
        }

        public var description: String {
            switch self {
            case .exact(let text): "exactly \"\(text)\""
            case .regex(let pattern): "matching /\(pattern)/"
            case .prefix(let text): "starting with \"\(text)\""
            }
        }
    }

    /// What the fake does when a statement matches.
    public enum Reply: Sendable {
        /// Answer with this result.
        case result(SQLResult)
        /// Fail with this error.
        case error(MariaDBError)
        /// Never answer: wait (at most an hour) until the caller's task is cancelled, then throw
        /// `CancellationError` — a server that hangs on the statement.
        case hang
    }

    struct Expectation: Sendable {
        var matcher: Matcher
        var reply: Reply
        var file: String
        var line: Int
    }

    struct State: Sendable {
        var expectations: [Expectation] = []
        var received: [String] = []
        var failures: [String] = []
    }

    private let state = Mutex(State())
    /// The quoting dialect statements are rendered with before they are matched.
    public let dialect: SQLDialect
    /// The endpoint named in errors.
    public let endpointDescription: String

    /// Creates a session with no expectations.
    public init(dialect: SQLDialect = .mysql, endpointDescription: String = "scripted") {
        self.dialect = dialect
        self.endpointDescription = endpointDescription
    }

    /// Expects `statement` exactly and answers with `result` (empty OK by default).
    public func expect(_ statement: String, result: SQLResult = SQLResult(), file: String = #fileID, line: Int = #line) {
        expect(.exact(statement), reply: .result(result), file: file, line: line)
    }

    /// Expects a statement and answers with one result set built from column names and text rows.
    public func expect(
        _ matcher: Matcher,
        columns: [String],
        rows: [[String?]],
        file: String = #fileID,
        line: Int = #line
    ) {
        let resultSet = ResultSet(columnNames: columns, rows: rows)
        expect(matcher, reply: .result(SQLResult(resultSets: [resultSet])), file: file, line: line)
    }

    /// Expects a statement and answers with `reply`.
    public func expect(_ matcher: Matcher, reply: Reply = .result(SQLResult()), file: String = #fileID, line: Int = #line) {
        state.withLock { $0.expectations.append(Expectation(matcher: matcher, reply: reply, file: file, line: line)) }
    }

    /// Expects a statement and fails it with a server error.
    public func expect(
        _ matcher: Matcher,
        failingWith number: UInt32,
        sqlState: String = "HY000",
        message: String,
        file: String = #fileID,
        line: Int = #line
    ) {
        let error = MariaDBError(code: .server, serverErrorNumber: number, sqlState: sqlState, message: message)
        expect(matcher, reply: .error(error), file: file, line: line)
    }

    /// Matches `statement` against the next expectation and answers it.
    ///
    /// - Throws: the scripted error, or a `MariaDBError` naming the expected and the received statement when they
    ///   differ.
    public func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        let sql = statement.rendered(for: dialect)
        let next: Result<Expectation, MariaDBError> = state.withLock { state in
            state.received.append(sql)
            guard !state.expectations.isEmpty else {
                let failure = "unexpected statement (nothing more expected): \(sql)"
                state.failures.append(failure)
                return .failure(MariaDBError(code: .unexpectedResult, message: failure))
            }
            let expectation = state.expectations.removeFirst()
            guard expectation.matcher.matches(sql) else {
                let failure =
                    "unexpected statement: \(sql)\n  expected \(expectation.matcher) (scripted at \(expectation.file):\(expectation.line))"
                state.failures.append(failure)
                return .failure(MariaDBError(code: .unexpectedResult, message: failure))
            }
            return .success(expectation)
        }
        switch try next.get().reply {
        case .result(let result): return result
        case .error(var error):
            error.statement = statement.redacted
            throw error
        case .hang:
            try await Task.sleep(for: .seconds(3600))
            throw MariaDBError(code: .unexpectedResult, message: "a hung statement was never cancelled: \(sql)")
        }
    }

    /// Every statement received so far, rendered.
    public var receivedStatements: [String] { state.withLock { $0.received } }

    /// Mismatches seen so far.
    public var failures: [String] { state.withLock { $0.failures } }

    /// Expectations not yet consumed, described.
    public var pendingExpectations: [String] {
        state.withLock { $0.expectations.map { "\($0.matcher) (scripted at \($0.file):\($0.line))" } }
    }

    /// Throws when a statement did not match or expectations are left over.
    public func verifyAllConsumed() throws {
        let (failures, pending) = state.withLock { ($0.failures, $0.expectations) }
        if !failures.isEmpty {
            throw MariaDBError(code: .unexpectedResult, message: failures.joined(separator: "\n"))
        }
        if !pending.isEmpty {
            let list = pending.map { "\($0.matcher) (scripted at \($0.file):\($0.line))" }.joined(separator: "\n  ")
            throw MariaDBError(code: .unexpectedResult, message: "expected statements never arrived:\n  \(list)")
        }
    }
}
