public import Logging
public import MariaDB

/// Closes client sessions on a server: what the cut-over does on the old writer after OFFLINE_HARD, so that no
/// lingering transaction can commit later or hold its locks.
///
/// MySQL and MariaDB use `KILL CONNECTION <id>`; Aurora refuses `KILL` of other accounts' sessions without
/// `SUPER`, so there it calls `mysql.rds_kill(<id>)`.
public protocol SessionClosing: Sendable {
    /// Closes the sessions of `users` (when empty: every session with an open transaction, of any non-system
    /// account), never the caller's own session, and returns the connection ids closed.
    ///
    /// - Throws: ``ReplicationError`` when the process list cannot be read; a session that ends by itself before
    ///   it is killed is not an error.
    func closeSessions(users: [String], logger: Logger) async throws -> [UInt64]
}

/// ``SessionClosing`` over an `SQLSession`.
public struct SessionCloser: SessionClosing {
    /// The session of the server whose sessions are closed.
    public let session: any SQLSession
    /// The server's dialect (Aurora closes sessions with `mysql.rds_kill`).
    public let dialect: ReplicationDialect
    /// Deadline of one statement.
    public let statementTimeout: Duration

    /// Creates a closer for the server behind `session`.
    public init(session: any SQLSession, dialect: ReplicationDialect, statementTimeout: Duration = .seconds(5)) {
        self.session = session
        self.dialect = dialect
        self.statementTimeout = statementTimeout
    }

    /// The statement listing the sessions to close: **every client session** of the server, whatever its account
    /// (issue #13), except this session, system and event-scheduler threads, `rdsadmin`, and replication
    /// (`Binlog Dump`). A privileged session (root, `SUPER`, MariaDB `READ ONLY ADMIN`) passes `read_only`, so one that
    /// holds a transaction across the fence, or starts one after it, would write after the final position was read.
    /// Which sessions hold a transaction cannot be told reliably: `information_schema.INNODB_TRX` is a cache refreshed
    /// at most every 100 ms (measured on MariaDB 10.11: a root transaction 0–150 ms old was missing from it), so
    /// `users` no longer narrows the list; it is kept for the callers' signature.
    public static func selectSessions(users: [String]) -> SQLStatement {
        "SELECT p.ID, p.USER FROM information_schema.PROCESSLIST p WHERE p.ID <> CONNECTION_ID() AND p.USER NOT IN ('system user', 'event_scheduler', 'rdsadmin') AND p.COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon') ORDER BY p.ID"
    }

    /// The statement closing connection `id` on a server of `dialect`.
    ///
    /// Aurora and RDS (any server with the `mysql.rds_*` procedures) refuse `KILL` of other accounts' sessions to
    /// their master user: there it is `CALL mysql.rds_kill(<id>)`.
    public static func killStatement(_ id: UInt64, dialect: ReplicationDialect) -> SQLStatement {
        dialect.isAurora || dialect.rdsProcedures != nil ? "CALL mysql.rds_kill(\(id))" : "KILL CONNECTION \(id)"
    }

    /// Closes every client session (see ``selectSessions(users:)``), except system threads, replication threads and
    /// this session; returns the ids closed, and logs at `info` whose they were. A session that ended meanwhile is
    /// skipped.
    ///
    /// - Throws: ``ReplicationError`` when the sessions cannot be listed (needs `PROCESS`) or one cannot be closed.
    public func closeSessions(users: [String], logger: Logger) async throws -> [UInt64] {
        let rows: [Row]
        do {
            rows = try await session.query(Self.selectSessions(users: users), timeout: statementTimeout)
        } catch {
            throw ReplicationError.wrapping(
                error,
                message: ReplicationError.message("cannot list sessions to close", privilegeHint: " (needs PROCESS)", for: error),
                endpoint: session.endpointDescription
            )
        }
        var closed: [UInt64] = []
        var accounts: [String: Int] = [:]
        for row in rows {
            guard let id = row[0].uint64 else { continue }
            do {
                try await session.run(Self.killStatement(id, dialect: dialect), timeout: statementTimeout)
                closed.append(id)
                if row.count > 1 { accounts[row[1].string ?? "?", default: 0] += 1 }
            } catch let error as MariaDBError where error.serverErrorNumber == 1094 {
                // Unknown thread id: it ended by itself between the list and the kill.
                continue
            } catch {
                throw ReplicationError(
                    code: .server,
                    message: "cannot close session \(id)",
                    endpoint: session.endpointDescription,
                    underlying: error
                )
            }
        }
        logger.info(
            "sessions closed",
            metadata: [
                "replication.sessions_closed": "\(closed.count)",
                "replication.sessions_closed_by_account": "\(accounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))",
            ])
        return closed
    }
}
