public import MariaDB

/// The replication account a replica logs in to its source with, and the statements that create it with exactly
/// the privileges replication needs: `REPLICATION SLAVE` (read the binlog) and `REPLICATION CLIENT` (`SHOW MASTER
/// STATUS`; MariaDB 10.5+ calls it `BINLOG MONITOR`).
public enum ReplicationUser {
    /// The privileges granted, on `*.*`.
    public static let privileges = ["REPLICATION SLAVE", "REPLICATION CLIENT"]

    /// `CREATE USER IF NOT EXISTS 'user'@'host' IDENTIFIED BY '<secret>'` (an existing account keeps its password).
    public static func createStatement(user: String, host: String, password: String) -> SQLStatement {
        "CREATE USER IF NOT EXISTS \(user)@\(host) IDENTIFIED BY \(secret: password)"
    }

    /// `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'user'@'host'`.
    public static func grantStatement(user: String, host: String) -> SQLStatement {
        "GRANT \(unsafeRaw: privileges.joined(separator: ", ")) ON *.* TO \(user)@\(host)"
    }

    /// `DROP USER 'user'@'host'`: the undo.
    public static func dropStatement(user: String, host: String) -> SQLStatement {
        "DROP USER \(user)@\(host)"
    }

    /// The privileges of `grants` beyond the replication ones (`USAGE` aside), for a report: an existing account
    /// with more than it needs.
    public static func extraPrivileges(in grants: [ServerInspection.Grant]) -> [String] {
        grants.flatMap { grant -> [String] in
            grant.privileges.filter { privilege in
                privilege != "USAGE" && !privileges.contains { ServerInspection.Grant(privileges: [privilege], target: "*.*").grants($0) }
            }.map { "\($0) ON \(grant.target)" }
        }
    }

    /// Whether `grants` give both replication privileges on `*.*`.
    public static func isComplete(_ grants: [ServerInspection.Grant]) -> Bool {
        privileges.allSatisfy { ServerInspection.Grant.grantsGlobally($0, in: grants) }
    }
}
