import ProxySQLAdmin
import ReplicationControl

extension ReplicationControlDatabase {
    /// What ``startReplication(from:user:password:tls:at:timeout:logger:)`` does with the channel a database already
    /// has, decided from its replica status alone (issue #13 item 5).
    enum ExistingChannel: Equatable {
        /// No channel, or one from another server: reset it and configure replication at the run's coordinate.
        case configure
        /// The channel from this source runs: leave it as it is.
        case keep
        /// The channel from this source is stopped without an error: start it where it stopped.
        case start
        /// The channel from this source stopped with an error: refuse. Re-pointing it at the run's (older) coordinate
        /// would apply again the events it had applied, or skip those between its position and the coordinate.
        case refuse(message: String, remedy: String)
    }

    /// The anchor of the runbook's section on a replication channel that stopped with an error.
    static let channelErrorRunbookAnchor = "Documentation/runbook.md#replication-stopped-with-an-error"

    /// Decides what to do with `status`, the replica status of the database named `name`, before replicating from
    /// `source`. A channel from the same source is never reset: it runs, it is started where it stopped, or — when a
    /// thread reports an error — the step is refused with the error's number and text (`Last_IO_Errno` /
    /// `Last_IO_Error`, `Last_SQL_Errno` / `Last_SQL_Error`) and what to do.
    ///
    /// - Parameter usesRDSProcedures: whether replication on this database is driven by `mysql.rds_*` (the remedy
    ///   names `CALL mysql.rds_start_replication` instead of `START REPLICA`).
    static func existingChannel(
        _ status: ReplicaStatus, from source: ServerEndpoint, name: String, usesRDSProcedures: Bool
    ) -> ExistingChannel {
        guard status.isConfigured, status.sourceHost == source.host, status.sourcePort == source.port else {
            return .configure
        }
        if status.isRunning { return .keep }
        guard status.hasError else {
            // A thread that is stopped starts (START REPLICA starts only the stopped ones); an IO thread still
            // connecting is left to connect (the verification step waits for it).
            return status.ioThread == .stopped || status.sqlThread == .stopped ? .start : .keep
        }
        var errors: [String] = []
        if let error = status.lastIOError {
            errors.append("IO thread (receiver) error \(error.number): \(error.message)")
        }
        if let error = status.lastSQLError {
            errors.append("SQL thread (applier) error \(error.number): \(error.message)")
        }
        let start = usesRDSProcedures ? "CALL mysql.rds_start_replication" : "START REPLICA (START SLAVE on MariaDB)"
        let show = usesRDSProcedures ? "SHOW REPLICA STATUS (SHOW SLAVE STATUS on Aurora v2)" : "SHOW REPLICA STATUS"
        return .refuse(
            message: "replication on \(name) from \(source) stopped with an error: "
                + errors.joined(separator: "; ")
                + ". The channel is left as it is: re-pointing it at the run's coordinate would apply again the events "
                + "it had applied, or skip those it had not",
            remedy: "read the error on \(name) (\(show), or `migrate-cli status`). A receiver error (network 2003/2013, "
                + "login 1045, TLS): fix the cause, then \(start) on \(name), and the channel goes on from its own "
                + "position. An applier error (1062 duplicate key, 1032 row not found, ...): the two servers' data "
                + "differ; find out why (a write on \(name) after the switch?) before anything else, and do not skip "
                + "events. Error 1236 (binary log purged): the failback path is lost; see the runbook. Then "
                + "`migrate-cli resume` (\(channelErrorRunbookAnchor))"
        )
    }
}
