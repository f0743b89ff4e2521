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
    /// How long the closed sessions may take to leave the process list (see ``closeSessions(users:logger:)``).
    public let exitTimeout: Duration
    /// The clock that wait is measured and slept on.
    public let clock: ReplicationClock

    /// Creates a closer for the server behind `session`.
    ///
    /// - Parameters:
    ///   - exitTimeout: how long the killed sessions may take to end (each was only marked by `KILL`).
    ///   - clock: the clock that wait is measured and slept on (tests pass a manual clock).
    public init(
        session: any SQLSession, dialect: ReplicationDialect, statementTimeout: Duration = .seconds(5),
        exitTimeout: Duration = .seconds(5), clock: ReplicationClock = .continuous
    ) {
        self.session = session
        self.dialect = dialect
        self.statementTimeout = statementTimeout
        self.exitTimeout = exitTimeout
        self.clock = clock
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

    /// The statement listing which of the sessions `ids` are still in the process list.
    public static func selectRemaining(_ ids: [UInt64]) -> SQLStatement {
        SQLStatement(unsafeRaw:
            "SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (\(ids.map(String.init).joined(separator: ", "))) ORDER BY ID")
    }

    /// Closes every client session (see ``selectSessions(users:)``), except system threads, replication threads and
    /// this session; returns the ids closed, and logs at `info` whose they were. A session that ended meanwhile is
    /// skipped.
    ///
    /// Returns only once every closed session has left the process list: `KILL` only marks a thread, which notices at
    /// its next check, and a statement already past its last check (an autocommit `INSERT` committing) still
    /// commits. Read before that, the old writer's final position would miss the transaction, and the fence proof
    /// would find it afterwards (a benchmark failback stopped past the point of no return that way: one transaction
    /// on the old writer after its final position).
    ///
    /// - Throws: ``ReplicationError`` when the sessions cannot be listed (needs `PROCESS`), one cannot be closed, or
    ///   closed sessions are still running after ``exitTimeout``.
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
        try await waitUntilEnded(closed)
        logger.info(
            "sessions closed",
            metadata: [
                "replication.sessions_closed": "\(closed.count)",
                "replication.sessions_closed_by_account": "\(accounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))",
            ])
        return closed
    }

    /// Waits until none of `ids` is in the process list any more, re-reading it every 2 ms, for at most
    /// ``exitTimeout``.
    private func waitUntilEnded(_ ids: [UInt64]) async throws {
        guard !ids.isEmpty else { return }
        let started = clock.now
        while true {
            let remaining: [UInt64]
            do {
                remaining = try await session.query(Self.selectRemaining(ids), timeout: statementTimeout).compactMap { $0[0].uint64 }
            } catch {
                throw ReplicationError.wrapping(
                    error,
                    message: ReplicationError.message("cannot check that the closed sessions ended", privilegeHint: " (needs PROCESS)", for: error),
                    endpoint: session.endpointDescription
                )
            }
            if remaining.isEmpty { return }
            if started.duration(to: clock.now) >= exitTimeout {
                throw ReplicationError(
                    code: .server,
                    message: "session(s) \(remaining.map(String.init).joined(separator: ", ")) still running \(exitTimeout) after KILL: "
                        + "a statement that ends later may still commit after the final position is read — see what they run "
                        + "(SHOW PROCESSLIST) and try again once they have ended",
                    endpoint: session.endpointDescription
                )
            }
            try await clock.sleep(for: .milliseconds(2))
        }
    }
}
