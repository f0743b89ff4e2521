public import Logging
public import MariaDB

/// Comparing and copying application accounts and their grants from the source to the target (Aurora), with host
/// patterns rewritten on the way (IP limits of the old network rarely fit Aurora's).
///
/// The copy creates only what is missing, with the source's authentication (the password hash from `SHOW CREATE
/// USER`, never shown) and its grants, minus the privileges Aurora refuses (they are listed instead). It never
/// changes or drops an existing account.
public enum AccountMigration {
    /// A host-pattern rewrite: an account whose host is exactly `from` gets `to` on the target.
    public struct HostRewrite: Sendable, Hashable, CustomStringConvertible {
        /// The source's host pattern (`10.0.%`).
        public var from: String
        /// The target's (`%`).
        public var to: String

        /// Creates a rewrite.
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }

        public var description: String { "\(from) → \(to)" }
    }

    /// Accounts never compared nor copied: the servers' own and the cloud provider's.
    public static let systemUsers: Set<String> = [
        "", "root", "mysql.sys", "mysql.session", "mysql.infoschema", "mariadb.sys", "rdsadmin", "rdsrepladmin",
        "debian-sys-maint", "PUBLIC",
    ]

    /// Privileges Aurora's master user cannot grant (copying them would fail).
    public static let refusedPrivileges: Set<String> = [
        "SUPER", "FILE", "SHUTDOWN", "CREATE TABLESPACE", "BINLOG ADMIN", "CONNECTION ADMIN", "READ_ONLY ADMIN",
        "REPLICATION SLAVE ADMIN", "SET USER", "FEDERATED ADMIN", "SYSTEM_VARIABLES_ADMIN", "SYSTEM_USER",
        "PROXY",
    ]

    /// `account` with its host rewritten by the first matching rule.
    public static func rewritten(_ account: ServerInspection.Account, _ rewrites: [HostRewrite]) -> ServerInspection.Account {
        guard let rule = rewrites.first(where: { $0.from == account.host }) else { return account }
        return ServerInspection.Account(user: account.user, host: rule.to)
    }

    /// One account as found on both sides.
    public struct Comparison: Sendable, Hashable {
        /// The account on the source.
        public var source: ServerInspection.Account
        /// Where it is expected on the target (host rewritten).
        public var target: ServerInspection.Account
        /// Whether the target has it.
        public var presentOnTarget: Bool
        /// Grants of the source the target lacks (privilege and object; refused privileges excluded).
        public var missingGrants: [String]
        /// Grants the target has beyond the source's.
        public var extraGrants: [String]
        /// Privileges of the source Aurora refuses (they will not be copied).
        public var refused: [String]

        /// Whether nothing needs doing.
        public var matches: Bool { presentOnTarget && missingGrants.isEmpty }
    }

    /// The application accounts of the source (`users`, or every non-system account when empty).
    ///
    /// - Throws: ``ReplicationError``.
    public static func applicationAccounts(
        on source: any ServerInspecting,
        users: [String],
        excluding: Set<String> = [],
        logger: Logger
    ) async throws -> [ServerInspection.Account] {
        let accounts = try await source.accounts(users: users.isEmpty ? nil : users, logger: logger)
        return accounts.filter { !systemUsers.contains($0.user) && !excluding.contains($0.user) }
    }

    /// Compares the accounts and grants of the source with the target's.
    ///
    /// - Throws: ``ReplicationError``.
    public static func compare(
        source: any ServerInspecting,
        target: any ServerInspecting,
        users: [String],
        excluding: Set<String> = [],
        rewrites: [HostRewrite],
        logger: Logger
    ) async throws -> [Comparison] {
        let accounts = try await applicationAccounts(on: source, users: users, excluding: excluding, logger: logger)
        let onTarget = Set(try await target.accounts(users: Array(Set(accounts.map(\.user))), logger: logger))
        var result: [Comparison] = []
        for account in accounts {
            let expected = rewritten(account, rewrites)
            let sourceGrants = flatten(try await source.grants(for: account, logger: logger))
            let present = onTarget.contains(expected)
            let targetGrants = present ? flatten(try await target.grants(for: expected, logger: logger)) : []
            let refused = sourceGrants.filter { refusedPrivileges.contains($0.privilege) }.map(\.text)
            let wanted = sourceGrants.filter { !refusedPrivileges.contains($0.privilege) && $0.privilege != "USAGE" }
            let have = Set(targetGrants.map(\.text))
            let missing = wanted.filter { grant in
                !have.contains(grant.text) && !targetGrants.contains { $0.target == grant.target && ($0.privilege == "ALL PRIVILEGES" || $0.privilege == "ALL") }
            }.map(\.text)
            let wantedTexts = Set(wanted.map(\.text))
            let extra = targetGrants.filter { $0.privilege != "USAGE" && !wantedTexts.contains($0.text) }.map(\.text)
            result.append(Comparison(
                source: account, target: expected, presentOnTarget: present, missingGrants: missing,
                extraGrants: extra, refused: refused))
        }
        return result
    }

    struct FlatGrant: Hashable {
        var privilege: String
        var target: String
        var text: String { "\(privilege) ON \(target)" }
    }

    static func flatten(_ grants: [ServerInspection.Grant]) -> [FlatGrant] {
        grants.flatMap { grant in grant.privileges.map { FlatGrant(privilege: $0, target: grant.target) } }
    }

    // MARK: Copy

    /// `SHOW CREATE USER 'user'@'host'`.
    public static func showCreateUserStatement(_ account: ServerInspection.Account) -> SQLStatement {
        "SHOW CREATE USER \(account.user)@\(account.host)"
    }

    /// `CREATE USER 'user'@'host'` followed by the authentication clauses of a `SHOW CREATE USER` line (the hash is
    /// a quoted literal: masked in logs and in ``SQLStatement/redacted``).
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/unexpectedResult``) for a line that is not a
    ///   `CREATE USER`.
    public static func createStatement(fromShowCreateUser line: String, as account: ServerInspection.Account) throws
        -> SQLStatement
    {
        guard line.uppercased().hasPrefix("CREATE USER "), let rest = afterAccount(line.dropFirst("CREATE USER ".count))
        else {
            throw ReplicationError(code: .unexpectedResult, message: "SHOW CREATE USER did not answer a CREATE USER statement")
        }
        return "CREATE USER \(account.user)@\(account.host)" + SQLStatement(unsafeRaw: String(rest))
    }

    /// The text after a leading `` `user`@`host` `` (or quoted with `'`), nil when there is none.
    static func afterAccount(_ text: Substring) -> Substring? {
        var rest = text.drop { $0 == " " }
        func quoted(_ text: Substring) -> Substring? {
            guard let quote = text.first, quote == "`" || quote == "'" || quote == "\"" else { return nil }
            var index = text.index(after: text.startIndex)
            while index < text.endIndex {
                if text[index] == quote {
                    let next = text.index(after: index)
                    if next < text.endIndex, text[next] == quote {
                        index = text.index(after: next)
                        continue
                    }
                    return text[next...]
                }
                index = text.index(after: index)
            }
            return nil
        }
        guard let afterUser = quoted(rest), afterUser.first == "@", let afterHost = quoted(afterUser.dropFirst()) else {
            return nil
        }
        rest = afterHost
        return rest
    }

    /// `GRANT <privileges> ON <db>.<table> TO 'user'@'host' [WITH GRANT OPTION]` for `grant`, without the
    /// privileges Aurora refuses; nil when none is left, or the object cannot be quoted again safely.
    public static func grantStatement(_ grant: ServerInspection.Grant, to account: ServerInspection.Account) -> SQLStatement? {
        let privileges = grant.privileges.filter { !refusedPrivileges.contains($0) && $0 != "USAGE" }
        guard !privileges.isEmpty,
            privileges.allSatisfy({ $0.allSatisfy { $0.isLetter || $0 == " " || $0 == "_" } })
        else { return nil }
        let parts = grant.target.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        func object(_ part: Substring) -> SQLStatement { part == "*" ? "*" : "\(identifier: String(part))" }
        var statement: SQLStatement =
            "GRANT \(unsafeRaw: privileges.joined(separator: ", ")) ON \(object(parts[0])).\(object(parts[1])) TO \(account.user)@\(account.host)"
        if grant.withGrantOption { statement = statement + " WITH GRANT OPTION" }
        return statement
    }

    /// `DROP USER 'user'@'host'`: the undo of a copy.
    public static func dropStatement(_ account: ServerInspection.Account) -> SQLStatement {
        "DROP USER \(account.user)@\(account.host)"
    }

    /// What copying one account sends to the target.
    public struct CopyPlan: Sendable {
        /// The account on the source.
        public var source: ServerInspection.Account
        /// The account created on the target.
        public var target: ServerInspection.Account
        /// `CREATE USER` (with the hash as a literal), then each `GRANT`.
        public var statements: [SQLStatement]
        /// Grants not copied, and why.
        public var skipped: [String]
    }

    /// The statements that create `comparison`'s account on the target with the source's authentication and grants.
    /// Column-level grants are skipped (listed), as are privileges Aurora refuses.
    ///
    /// - Throws: ``ReplicationError``; `MariaDBError` from the source.
    public static func copyPlan(
        _ comparison: Comparison,
        source: any SQLSession,
        sourceInspector: any ServerInspecting,
        logger: Logger
    ) async throws -> CopyPlan {
        guard let line = try await source.queryFirst(showCreateUserStatement(comparison.source))?[0].string else {
            throw ReplicationError(code: .unexpectedResult, message: "SHOW CREATE USER returned nothing for \(comparison.source)")
        }
        var statements = [try createStatement(fromShowCreateUser: line, as: comparison.target)]
        var skipped = comparison.refused.map { "\($0): Aurora refuses it" }
        let rawLines = try await source.query(ServerInspection.Statements.showGrants(for: comparison.source)).compactMap { $0[0].string }
        for raw in rawLines {
            guard let grant = ServerInspection.Grant(parsing: raw) else {
                if raw.uppercased().hasPrefix("GRANT ") { skipped.append("a role or proxy grant: copy it by hand") }
                continue
            }
            if let on = ServerInspection.Grant.topLevelRange(of: " ON ", in: raw), raw[..<on.lowerBound].contains("(") {
                skipped.append("column-level grant on \(grant.target): copy it by hand")
                continue
            }
            if let statement = grantStatement(grant, to: comparison.target) { statements.append(statement) }
        }
        return CopyPlan(source: comparison.source, target: comparison.target, statements: statements, skipped: skipped)
    }
}
