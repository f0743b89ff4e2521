/// Bounds a replication step (stop and reset, ...) by one deadline over all its statements (issue #12).
///
/// Each statement of a step has its own timeout (an RDS procedure call 60 s, a status read 10 s), but a step is
/// several of them, and one can wait far longer than the operator's step timeout: on a replica under a global read
/// lock (`FLUSH TABLES WITH READ LOCK`, a backup tool), `mysql.rds_stop_replication` waits on its own bookkeeping
/// writes (`mysql.rds_history`) until its call times out, and a native `STOP REPLICA` waits for an applier that
/// cannot finish its transaction. When the deadline passes first, the step's task is cancelled: the statement in
/// flight is interrupted on the server (`KILL QUERY` on a side connection; the socket as the last resort), and the
/// step fails with ``ReplicationError/Code/stepTimedOut``.
package enum ReplicationStepDeadline {
    private enum Finish<Value: Sendable>: Sendable {
        case done(Value)
        case deadline
    }

    /// The part of a step's timeout kept for interrupting its statement: `KILL QUERY` is refused for a statement
    /// running inside a `SQL SECURITY DEFINER` procedure (the thread then runs as the definer), so the connection's
    /// socket is shut down one second later instead (``MariaDBConnection``'s fallback).
    static func interruptionAllowance(for timeout: Duration) -> Duration { min(.milliseconds(1500), timeout / 4) }

    /// Runs `body`, and fails with ``ReplicationError/Code/stepTimedOut`` when it has not finished within `timeout`:
    /// its task is cancelled ``interruptionAllowance(for:)`` before `timeout`, which interrupts the statement in
    /// flight, so that the step as a whole ends by `timeout`.
    ///
    /// - Parameters:
    ///   - what: the step, for the message (`stop and reset replication`).
    ///   - endpoint: the replica, for the message.
    /// - Throws: what `body` throws, or ``ReplicationError`` (``ReplicationError/Code/stepTimedOut``).
    package static func run<Value: Sendable>(
        within timeout: Duration,
        _ what: String,
        endpoint: String?,
        _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let finish = try await withThrowingTaskGroup(of: Finish<Value>.self) { group in
            group.addTask { .done(try await body()) }
            group.addTask {
                try await Task.sleep(for: timeout - interruptionAllowance(for: timeout))
                return .deadline
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { return Finish<Value>.deadline }
            return first
        }
        switch finish {
        case .done(let value):
            return value
        case .deadline:
            throw ReplicationError(
                code: .stepTimedOut,
                message: "\(what) did not finish within \(timeout) and was interrupted: something holds the replica's "
                    + "applier or its replication procedures (a global read lock from FLUSH TABLES WITH READ LOCK or a "
                    + "backup tool, or a long transaction); SHOW PROCESSLIST shows it ('Waiting for global read lock', "
                    + "'Waiting for commit lock'); release it, then repeat the step (it stops what still runs and "
                    + "resets what is still configured)",
                endpoint: endpoint
            )
        }
    }
}
