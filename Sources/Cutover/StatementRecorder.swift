public import MariaDB
import Synchronization

/// Collects the statements sent while one action is performed, for the journal. Installed as a task-local value
/// around ``CutoverExecutor/perform(_:context:)``; child tasks (one per ProxySQL node) inherit it.
public final class StatementRecorder: Sendable {
    @TaskLocal public static var current: StatementRecorder?

    private let statements = Mutex<[ExecutedStatement]>([])

    public init() {}

    /// Records one statement (already redacted).
    public func record(endpoint: String, statement: String) {
        statements.withLock { $0.append(ExecutedStatement(endpoint: endpoint, statement: statement)) }
    }

    /// Everything recorded so far, in order.
    public var recorded: [ExecutedStatement] { statements.withLock { $0 } }
}

/// An ``SQLSession`` that records every statement (redacted) with the task's ``StatementRecorder`` before
/// passing it on. Wrap the sessions given to the lower layers with it so the journal shows what was sent.
public struct RecordingSQLSession: SQLSession {
    public let base: any SQLSession
    /// The name journaled for this endpoint (`proxysql-1`, `source`).
    public let name: String

    public init(_ base: any SQLSession, name: String) {
        self.base = base
        self.name = name
    }

    public func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        StatementRecorder.current?.record(endpoint: name, statement: statement.redacted)
        return try await base.execute(statement, timeout: timeout)
    }

    public var dialect: SQLDialect {
        get async { await base.dialect }
    }

    public var endpointDescription: String { base.endpointDescription }
}
