public import ReplicationControl

extension Canary {
    /// The privileges the canary account needs on its table: it creates it, writes heartbeats, drops it.
    public static let requiredPrivileges = ["CREATE", "INSERT", "DROP"]

    /// The preflight check of the canary account's grants (#14 item 9), from its `SHOW GRANTS` lines read through
    /// the proxy (so on the current writer, as the account's writes will run): `CREATE`, `INSERT` and `DROP` on
    /// `database`.`table`, `database`.* or `*.*` (`ALL` counts). Pure.
    ///
    /// - Parameters:
    ///   - grants: the account's grants as read (`SHOW GRANTS`), unparsable lines ignored.
    ///   - database: the schema the canary writes in.
    ///   - table: the canary's table.
    public static func grantCheck(grants: [ServerInspection.Grant], database: String, table: String) -> PreflightCheck {
        let targets: Set<String> = ["*.*", "\(database).*", "\(database).\(table)"]
        let applicable = grants.filter { targets.contains($0.target) }
        let missing = requiredPrivileges.filter { privilege in !applicable.contains { $0.grants(privilege) } }
        let title = "the canary account can create, write and drop its table"
        guard missing.isEmpty else {
            let seen = applicable.isEmpty ? "no grant on \(database)" : applicable.map(\.description).joined(separator: "; ")
            return PreflightCheck(
                id: "canary.grants",
                title: title,
                status: .fail,
                detail: "missing \(missing.joined(separator: ", ")) on \(database).\(table) (found: \(seen))",
                remedy: "GRANT \(requiredPrivileges.joined(separator: ", ")) ON \(database).* TO the canary account on the "
                    + "source (and the target, for failback), or turn the canary off (canary.enabled: false)"
            )
        }
        return PreflightCheck(
            id: "canary.grants",
            title: title,
            status: .pass,
            detail: requiredPrivileges.joined(separator: ", ") + " on \(database).\(table)"
        )
    }
}
