import Logging
import MariaDB
import ProxySQLAdmin

/// The dry run's ``ReplicationLoginProbing``: plans the guards' login with the replication account (who, where,
/// from this host, which TLS setting) as one line of the plan, and logs in nowhere.
struct DryRunLoginProbe: ReplicationLoginProbing {
    let log: DryRunLog

    func probe(
        _ endpoint: ServerEndpoint, user: String, password: String, tls: ReplicationTLS, logger: Logger
    ) async -> ReversePrerequisites.Login {
        let name = ReplicationLoginProbe.journalEndpoint(user: user, endpoint: endpoint, tls: tls)
        log.recordPlanned(
            PlannedStatement(endpoint: name, text: ReplicationLoginProbe.statement, redacted: ReplicationLoginProbe.statement))
        return .notProbed(reason: "dry run: the login is planned, not tried")
    }
}
