import MariaDB
import Synchronization

/// One statement sent by the cut-over (or the baseline), with when it started and ended.
struct TimedStatement: Sendable {
    /// The journal name of the session (`source`, `aurora`, `proxysql-emulator`).
    var endpoint: String
    /// The statement (classified after the run, so the timed path does no extra work).
    var statement: SQLStatement
    var start: ContinuousClock.Instant
    var end: ContinuousClock.Instant

    var duration: Duration { end - start }
    /// The redacted text (no secrets, no string literals).
    var text: String { statement.redacted }
    /// What it was, from its redacted text.
    var kind: StatementKind { StatementKind.classify(endpoint: endpoint, text: text) }
}

/// Statement categories used to profile the write window.
enum StatementKind: String, Sendable, CaseIterable {
    case adminUpdate = "admin UPDATE mysql_servers"
    case adminLoad = "admin LOAD ... TO RUNTIME"
    case adminRuntimeCheck = "admin runtime_mysql_servers check"
    case adminPoolStats = "admin stats_mysql_connection_pool"
    case adminProcesslist = "admin stats_mysql_processlist"
    case adminKill = "admin KILL CONNECTION"
    case adminOther = "admin other"
    case serverProcesslist = "db processlist"
    case serverKill = "db KILL"
    case fence = "db SET GLOBAL read_only"
    case position = "db binlog position / GTID"
    case waitFunction = "db wait function"
    case replicaStatus = "db replica status"
    case replicationControl = "db replication start/stop/reset"
    case serverOther = "db other"

    static func classify(endpoint: String, text: String) -> StatementKind {
        let upper = text.uppercased()
        let isAdmin = endpoint.hasPrefix("proxysql")
        if isAdmin {
            if upper.hasPrefix("UPDATE MYSQL_SERVERS") || upper.hasPrefix("UPDATE `MYSQL_SERVERS`") { return .adminUpdate }
            if upper.hasPrefix("LOAD ") { return .adminLoad }
            if upper.contains("STATS_MYSQL_CONNECTION_POOL") { return .adminPoolStats }
            if upper.contains("STATS_MYSQL_PROCESSLIST") { return .adminProcesslist }
            if upper.contains("RUNTIME_MYSQL_SERVERS") { return .adminRuntimeCheck }
            if upper.hasPrefix("KILL") { return .adminKill }
            return .adminOther
        }
        if upper.contains("MASTER_POS_WAIT") || upper.contains("MASTER_GTID_WAIT") || upper.contains("SOURCE_POS_WAIT")
            || upper.contains("WAIT_FOR_EXECUTED_GTID_SET")
        {
            return .waitFunction
        }
        if upper.contains("SLAVE STATUS") || upper.contains("REPLICA STATUS") { return .replicaStatus }
        if upper.contains("READ_ONLY") { return .fence }
        if upper.contains("MASTER STATUS") || upper.contains("BINLOG STATUS") || upper.contains("BINARY LOG STATUS")
            || upper.contains("GTID_BINLOG_POS") || upper.contains("GTID_EXECUTED")
        {
            return .position
        }
        if upper.contains("PROCESSLIST") { return .serverProcesslist }
        if upper.hasPrefix("KILL") || upper.contains("RDS_KILL") { return .serverKill }
        if upper.contains("RDS_") || upper.contains("SLAVE") || upper.contains("MASTER") || upper.contains("REPLICA") {
            return .replicationControl
        }
        return .serverOther
    }
}

/// Collects every statement the timed sessions send.
final class StatementTimer: Sendable {
    private let statements = Mutex<[TimedStatement]>([])

    func append(_ statement: TimedStatement) {
        statements.withLock { $0.append(statement) }
    }

    /// Every statement so far; with `reset`, forgets them.
    func take() -> [TimedStatement] {
        statements.withLock { list in
            let taken = list
            list.removeAll(keepingCapacity: true)
            return taken
        }
    }

    /// Wraps `session` so each statement it sends is timed.
    func wrap(_ session: any SQLSession, name: String) -> any SQLSession {
        TimedSQLSession(base: session, name: name, timer: self)
    }
}

/// An ``SQLSession`` that times each round trip of its base session.
struct TimedSQLSession: SQLSession {
    let base: any SQLSession
    let name: String
    let timer: StatementTimer

    func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        let start = ContinuousClock.now
        defer {
            timer.append(TimedStatement(endpoint: name, statement: statement, start: start, end: ContinuousClock.now))
        }
        return try await base.execute(statement, timeout: timeout)
    }

    var dialect: SQLDialect {
        get async { await base.dialect }
    }

    var endpointDescription: String { base.endpointDescription }
}

/// An ``SQLSession`` whose answers arrive `delay` late: one slow ProxySQL node of a fleet (issue #16). The
/// statement runs at once; its answer is held back, as a node with a slow network path or a busy admin thread would.
struct LateSQLSession: SQLSession {
    let base: any SQLSession
    let delay: Duration

    func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        let result = try await base.execute(statement, timeout: timeout)
        try await Task.sleep(for: delay)
        return result
    }

    var dialect: SQLDialect {
        get async { await base.dialect }
    }

    var endpointDescription: String { base.endpointDescription }
}
