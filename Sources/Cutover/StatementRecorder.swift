public import MariaDB
import Synchronization

/// Collects the statements sent while one action is performed, for the journal. Installed as a task-local value
/// around ``CutoverExecutor/perform(_:context:)``; child tasks (one per ProxySQL node) inherit it.
public final class StatementRecorder: Sendable {
    /// The recorder of the action being performed, if any.
    @TaskLocal public static var current: StatementRecorder?

    private let statements = Mutex<[ExecutedStatement]>([])

    /// Creates an empty recorder.
    public init() {}

    /// Records one statement (already redacted).
    public func record(endpoint: String, statement: String) {
        record(ExecutedStatement(endpoint: endpoint, statement: statement))
    }

    /// Records `statement` as given (a probe's line with its outcome).
    public func record(_ statement: ExecutedStatement) {
        statements.withLock { $0.append(statement) }
    }

    /// Everything recorded so far, in order.
    public var recorded: [ExecutedStatement] { statements.withLock { $0 } }
}

/// An `SQLSession` that records every statement (redacted) with the task's ``StatementRecorder`` before
/// passing it on. Wrap the sessions given to the lower layers with it so the journal shows what was sent.
public struct RecordingSQLSession: SQLSession {
    /// The session statements are passed on to.
    public let base: any SQLSession
    /// The name journaled for this endpoint (`proxysql-1`, `source`).
    public let name: String

    /// Wraps `base`, journaling its statements under `name`.
    public init(_ base: any SQLSession, name: String) {
        self.base = base
        self.name = name
    }

    /// Records `statement` (redacted), then sends it with `base`.
    ///
    /// - Throws: what `base` throws.
    public func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        StatementRecorder.current?.record(endpoint: name, statement: statement.redacted)
        return try await base.execute(statement, timeout: timeout)
    }

    /// The dialect of `base`.
    public var dialect: SQLDialect {
        get async { await base.dialect }
    }

    /// The endpoint of `base`.
    public var endpointDescription: String { base.endpointDescription }
}
