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

    /// The statement listing the sessions to close: every session of `users`, and every session of **any** account
    /// holding an open InnoDB transaction (issue #13: a privileged session, root or `SUPER` / `READ ONLY ADMIN`, passes
    /// `read_only`, so a transaction it holds across the fence could commit after the final position was read).
    /// Excluded: this session, system and event-scheduler threads, `rdsadmin`, and replication (`Binlog Dump`).
    public static func selectSessions(users: [String]) -> SQLStatement {
        let excluded: SQLStatement =
            "p.ID <> CONNECTION_ID() AND p.USER NOT IN ('system user', 'event_scheduler', 'rdsadmin') AND p.COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon')"
        let holdsTransaction: SQLStatement =
            "p.ID IN (SELECT t.trx_mysql_thread_id FROM information_schema.INNODB_TRX t)"
        if users.isEmpty {
            return "SELECT p.ID FROM information_schema.PROCESSLIST p WHERE " + excluded + " AND " + holdsTransaction
                + " ORDER BY p.ID"
        }
        let list = SQLStatement.joined(users.map { "\($0)" }, separator: ", ")
        return "SELECT p.ID FROM information_schema.PROCESSLIST p WHERE " + excluded + " AND (p.USER IN (\(list)) OR "
            + holdsTransaction + ") ORDER BY p.ID"
    }

    /// The statement closing connection `id` on a server of `dialect`.
    ///
    /// Aurora and RDS (any server with the `mysql.rds_*` procedures) refuse `KILL` of other accounts' sessions to
    /// their master user: there it is `CALL mysql.rds_kill(<id>)`.
    public static func killStatement(_ id: UInt64, dialect: ReplicationDialect) -> SQLStatement {
        dialect.isAurora || dialect.rdsProcedures != nil ? "CALL mysql.rds_kill(\(id))" : "KILL CONNECTION \(id)"
    }

    /// Closes the sessions of `users` and every session holding an open InnoDB transaction, except
    /// system threads, replication threads and this session; returns the ids closed. A session that ended meanwhile is
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
        for row in rows {
            guard let id = row[0].uint64 else { continue }
            do {
                try await session.run(Self.killStatement(id, dialect: dialect), timeout: statementTimeout)
                closed.append(id)
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
        logger.debug("sessions closed", metadata: ["replication.sessions_closed": "\(closed.count)"])
        return closed
    }
}
