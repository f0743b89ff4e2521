public import ProxySQLAdmin
import ReplicationControl

/// How the guards' replication login probe appears in a run's plan and journal (#12): one line, on an endpoint named
/// after the account, the server and where the login comes from, with its outcome in the journal. The password is
/// never part of it.
extension ReplicationLoginProbe {
    /// The one statement the probe sends after logging in.
    public static let statement = "SHOW GRANTS"

    /// The endpoint a plan and a journal show the probe on: `replication login 'repl'@10.0.0.7:3306 from this host
    /// (TLS required)`. The probe logs in from the host the tool runs on, not from the old writer that will use the
    /// account: a host pattern that admits only the old writer's address answers 1130 here (a warning, not a verdict).
    public static func journalEndpoint(user: String, endpoint: ServerEndpoint, tls: ReplicationTLS) -> String {
        "replication login '\(user)'@\(endpoint) from this host (TLS \(tls))"
    }

    /// The journal's line of one probe: who logged in where, and what came of it.
    public static func journalLine(
        user: String, endpoint: ServerEndpoint, tls: ReplicationTLS, outcome: ReversePrerequisites.Login
    ) -> ExecutedStatement {
        ExecutedStatement(
            endpoint: journalEndpoint(user: user, endpoint: endpoint, tls: tls), statement: statement,
            outcome: outcome.journalOutcome)
    }
}

extension ReversePrerequisites.Login {
    /// One line for the journal: `logged in; grants: REPLICATION SLAVE ON *.*`, `refused (1045): …`,
    /// `host not allowed: …`, `unreachable: …`, `not probed: …`.
    public var journalOutcome: String {
        switch self {
        case .loggedIn(let grants):
            let listed = grants.map { grant in
                grant.privileges.joined(separator: ", ") + " ON " + grant.target
                    + (grant.withGrantOption ? " WITH GRANT OPTION" : "")
            }
            return "logged in; grants: " + (listed.isEmpty ? "none listed" : listed.joined(separator: "; "))
        case .refused(let number, let message):
            return "refused" + (number.map { " (\($0))" } ?? "") + ": " + message
        case .hostNotAllowed(let message):
            return "host not allowed from here: " + message
        case .unreachable(let message):
            return "unreachable: " + message
        case .notProbed(let reason):
            return "not probed: " + reason
        }
    }
}
