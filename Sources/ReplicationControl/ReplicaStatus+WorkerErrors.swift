import MariaDB

// MySQL 8.0.27+ applies replicated transactions with worker threads by default (`replica_parallel_workers` = 4).
// When a worker fails, `SHOW REPLICA STATUS` shows the coordinator's error, "Coordinator stopped because there were
// error(s) in the worker(s). The most recent failure being: Worker 1 failed executing transaction '…' at source log
// …, end_log_pos …. See error log and/or performance_schema.replication_applier_status_by_worker table for more
// details about this failure or others, if any." — with a number (1062, or 3030 "ER_REPLICA_FATAL_ERROR" on some
// releases) that does not always say what happened, and never the row that clashed. The worker's own error is in
// `performance_schema.replication_applier_status_by_worker`. The status reader reads it there and reports it as the
// SQL thread's error, so a planted duplicate key surfaces as `1062 Duplicate entry '11' for key 'items.PRIMARY'`
// on MySQL as on MariaDB (#12).

extension ReplicaStatus {
    /// The start of the coordinator's text when a worker of a multi-threaded MySQL applier failed.
    public static let coordinatorErrorPrefix = "Coordinator stopped because there were error(s) in the worker(s)"

    /// Whether ``lastSQLError`` is the coordinator's summary of a worker's failure rather than the failure itself.
    public var hasCoordinatorError: Bool {
        lastSQLError?.message.hasPrefix(Self.coordinatorErrorPrefix) == true
    }
}

extension ReplicaStatusReader {
    /// The error of the worker of `channel`'s applier (MySQL 8.0+ and Aurora v3) that failed first. With
    /// `replica_preserve_commit_order` (on by default since 8.0.27) the other workers then stop with 3030
    /// (`ER_REPLICA_WORKER_STOPPED_PREVIOUS_THD_ERROR`, "…stopped after at least one previous worker encountered an
    /// error…"), later: those are consequences, so they come last, and among the rest the earliest wins.
    static func workerErrorStatement(channel: String) -> SQLStatement {
        """
        SELECT LAST_ERROR_NUMBER, LAST_ERROR_MESSAGE, LAST_ERROR_TIMESTAMP \
        FROM performance_schema.replication_applier_status_by_worker \
        WHERE CHANNEL_NAME = \(channel) AND LAST_ERROR_NUMBER <> 0 \
        ORDER BY LAST_ERROR_NUMBER = \(Self.workerStoppedAfterPreviousError), LAST_ERROR_TIMESTAMP, WORKER_ID LIMIT 1
        """
    }

    /// `ER_REPLICA_WORKER_STOPPED_PREVIOUS_THD_ERROR`: a worker stopped because an earlier one failed.
    static let workerStoppedAfterPreviousError = 3030

    /// `status` with the failing worker's error in place of the coordinator's summary, when `status` shows one and
    /// the server is a MySQL (not MariaDB, whose parallel applier reports the worker's error itself).
    ///
    /// Best effort: when the table cannot be read (an account without `SELECT` on `performance_schema`, a server
    /// without it), or shows no worker error, the coordinator's error stays: it still says the applier stopped.
    static func withWorkerError(
        _ status: ReplicaStatus, session: any SQLSession, dialect: ReplicationDialect, channel: String,
        timeout: Duration
    ) async -> ReplicaStatus {
        guard !dialect.isMariaDB, status.hasCoordinatorError else { return status }
        guard
            let row = try? await session.queryFirst(workerErrorStatement(channel: channel), timeout: timeout),
            let number = row[0].int.flatMap({ UInt32(exactly: $0) }), number != 0,
            let message = row[1].string, !message.isEmpty
        else { return status }
        var status = status
        status.lastSQLError = ReplicaStatus.ThreadError(
            number: number, message: message, timestamp: row[2].string ?? status.lastSQLError?.timestamp)
        return status
    }
}
