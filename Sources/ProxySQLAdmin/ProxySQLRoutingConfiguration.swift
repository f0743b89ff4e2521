public import Logging
public import MariaDB

/// The parts of a ProxySQL node's configuration, beyond `mysql_servers`, that decide where a query goes: query
/// rules, users' default hostgroups, and the tables through which ProxySQL's monitor moves servers between
/// hostgroups by itself (Galera, Group Replication, Aurora). Read so that the cut-over can refuse a configuration in
/// which switching two rows does not switch the writes.
public struct ProxySQLRoutingConfiguration: Sendable, Hashable {
    /// One row of `runtime_mysql_query_rules`.
    public struct QueryRule: Sendable, Hashable, CustomStringConvertible {
        public var ruleID: Int
        public var active: Bool
        public var username: String?
        /// Where matching queries go (NULL: the user's default hostgroup).
        public var destinationHostgroup: HostgroupID?
        /// Where matching queries are also sent (a mirror).
        public var mirrorHostgroup: HostgroupID?
        /// Retries on failure for matching queries; NULL: `mysql-query_retries_on_failure`.
        public var retries: Int?

        public init(
            ruleID: Int, active: Bool, username: String? = nil, destinationHostgroup: HostgroupID? = nil,
            mirrorHostgroup: HostgroupID? = nil, retries: Int? = nil
        ) {
            self.ruleID = ruleID
            self.active = active
            self.username = username
            self.destinationHostgroup = destinationHostgroup
            self.mirrorHostgroup = mirrorHostgroup
            self.retries = retries
        }

        public var description: String { "rule \(ruleID)" + (username.map { " (user \($0))" } ?? "") }
    }

    /// One frontend row of `runtime_mysql_users`.
    public struct User: Sendable, Hashable {
        public var username: String
        public var active: Bool
        public var defaultHostgroup: HostgroupID
        public var transactionPersistent: Bool
        public var fastForward: Bool

        public init(username: String, active: Bool, defaultHostgroup: HostgroupID, transactionPersistent: Bool, fastForward: Bool) {
            self.username = username
            self.active = active
            self.defaultHostgroup = defaultHostgroup
            self.transactionPersistent = transactionPersistent
            self.fastForward = fastForward
        }
    }

    /// A row of `mysql_galera_hostgroups`, `mysql_group_replication_hostgroups` or `mysql_aws_aurora_hostgroups`
    /// (either layer): hostgroups whose servers ProxySQL's monitor moves by itself.
    public struct ManagedHostgroups: Sendable, Hashable, CustomStringConvertible {
        /// `mysql_galera_hostgroups` and so on.
        public var table: String
        public var layer: ConfigurationLayer
        public var active: Bool
        /// Every hostgroup of the row (writer, backup writer, reader, offline).
        public var hostgroups: [HostgroupID]

        public init(table: String, layer: ConfigurationLayer, active: Bool, hostgroups: [HostgroupID]) {
            self.table = table
            self.layer = layer
            self.active = active
            self.hostgroups = hostgroups
        }

        public var description: String {
            "\(layer.table(table)) (hostgroups \(hostgroups.map(\.description).joined(separator: ", ")))"
        }
    }

    public var queryRules: [QueryRule]
    public var users: [User]
    public var managedHostgroups: [ManagedHostgroups]

    public init(queryRules: [QueryRule] = [], users: [User] = [], managedHostgroups: [ManagedHostgroups] = []) {
        self.queryRules = queryRules
        self.users = users
        self.managedHostgroups = managedHostgroups
    }

    /// The statements that read it (the monitor-managed tables in both layers: `LOAD MYSQL SERVERS TO RUNTIME`, which
    /// the cut-over sends, publishes them along with `mysql_servers`).
    static let queryRulesStatement: SQLStatement =
        "SELECT rule_id, active, username, destination_hostgroup, mirror_hostgroup, retries FROM runtime_mysql_query_rules ORDER BY rule_id"
    static let usersStatement: SQLStatement =
        "SELECT username, active, default_hostgroup, transaction_persistent, fast_forward FROM runtime_mysql_users WHERE frontend = 1 ORDER BY username"
    static let managedTables: [(table: String, columns: [String])] = [
        ("mysql_galera_hostgroups", ["writer_hostgroup", "backup_writer_hostgroup", "reader_hostgroup", "offline_hostgroup"]),
        ("mysql_group_replication_hostgroups", ["writer_hostgroup", "backup_writer_hostgroup", "reader_hostgroup", "offline_hostgroup"]),
        ("mysql_aws_aurora_hostgroups", ["writer_hostgroup", "reader_hostgroup"]),
    ]

    static func managedStatement(_ table: String, columns: [String], layer: ConfigurationLayer) -> SQLStatement {
        "SELECT \(unsafeRaw: (columns + ["active"]).joined(separator: ", ")) FROM \(unsafeRaw: layer.table(table))"
    }

    /// Every statement ``ProxySQLAdminClient/routingConfiguration(logger:)`` sends, in order (for dry runs).
    public static var statements: [SQLStatement] {
        [queryRulesStatement, usersStatement]
            + managedTables.flatMap { table, columns in
                ConfigurationLayer.allCases.map { managedStatement(table, columns: columns, layer: $0) }
            }
    }
}

extension ProxySQLRoutingConfiguration.QueryRule {
    init(row: Row) throws {
        let reader = RowReader(row: row, table: "runtime_mysql_query_rules")
        let destination: Int? = try reader.optionalInt("destination_hostgroup")
        let mirror: Int? = try reader.optionalInt("mirror_hostgroup")
        self.init(
            ruleID: try reader.int("rule_id"),
            active: try reader.int("active") != 0,
            username: try reader.optionalString("username"),
            destinationHostgroup: destination.map { HostgroupID($0) },
            mirrorHostgroup: mirror.map { HostgroupID($0) },
            retries: try reader.optionalInt("retries")
        )
    }
}

extension ProxySQLRoutingConfiguration.User {
    init(row: Row) throws {
        let reader = RowReader(row: row, table: "runtime_mysql_users")
        self.init(
            username: try reader.string("username"),
            active: try reader.int("active") != 0,
            defaultHostgroup: HostgroupID(try reader.int("default_hostgroup")),
            transactionPersistent: try reader.int("transaction_persistent") != 0,
            fastForward: try reader.int("fast_forward") != 0
        )
    }
}

extension ProxySQLRoutingConfiguration.ManagedHostgroups {
    init(row: Row, table: String, columns: [String], layer: ConfigurationLayer) throws {
        let reader = RowReader(row: row, table: layer.table(table))
        var hostgroups: [HostgroupID] = []
        for column in columns { hostgroups.append(HostgroupID(try reader.int(column))) }
        self.init(table: table, layer: layer, active: try reader.int("active") != 0, hostgroups: hostgroups)
    }
}

extension ProxySQLAdminClient {
    /// Reads ``ProxySQLRoutingConfiguration`` (query rules and users from runtime, the monitor-managed hostgroup
    /// tables from both layers).
    ///
    /// - Throws: ``ProxySQLAdminError`` naming the table that could not be read.
    public func routingConfiguration(logger: Logger) async throws -> ProxySQLRoutingConfiguration {
        var result = ProxySQLRoutingConfiguration()
        let rulesStatement = ProxySQLRoutingConfiguration.queryRulesStatement
        result.queryRules = try decodeAll(
            try await rows(rulesStatement, logger: logger), statement: rulesStatement,
            ProxySQLRoutingConfiguration.QueryRule.init(row:))
        let usersStatement = ProxySQLRoutingConfiguration.usersStatement
        result.users = try decodeAll(
            try await rows(usersStatement, logger: logger), statement: usersStatement,
            ProxySQLRoutingConfiguration.User.init(row:))
        for (table, columns) in ProxySQLRoutingConfiguration.managedTables {
            for layer in ConfigurationLayer.allCases {
                let statement = ProxySQLRoutingConfiguration.managedStatement(table, columns: columns, layer: layer)
                let rows = try await rows(statement, logger: logger)
                result.managedHostgroups += try decodeAll(rows, statement: statement) { row in
                    try ProxySQLRoutingConfiguration.ManagedHostgroups(row: row, table: table, columns: columns, layer: layer)
                }
            }
        }
        return result
    }
}
