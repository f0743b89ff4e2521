/// One admin table: its name and its column and constraint clauses, as ProxySQL 2.7.1 declares them (the same
/// names, types, defaults and CHECK expressions, so that SQLite's error texts — `CHECK constraint failed: ...`,
/// `UNIQUE constraint failed: ...`, `NOT NULL constraint failed: ...` — are ProxySQL's). Written from reading
/// `lib/ProxySQL_Admin.cpp` at tag v2.7.1 (the `ADMIN_SQLITE_TABLE_*` and `STATS_SQLITE_TABLE_*` definitions and the
/// `tables_defs_admin` / `tables_defs_config` / `tables_defs_stats` lists).
struct AdminTable: Sendable {
    let name: String
    let clauses: [String]

    /// `CREATE TABLE IF NOT EXISTS <schema>.<name> (...)`, clauses separated by ` , ` as ProxySQL writes them.
    func createStatement(schema: String, name tableName: String? = nil) -> String {
        "CREATE TABLE IF NOT EXISTS \(schema).\(tableName ?? name) (" + clauses.joined(separator: " , ") + ")"
    }

    /// The column names, in order (the clauses that are not table constraints).
    var columnNames: [String] {
        clauses.compactMap { clause -> String? in
            let first = clause.split(separator: " ").first.map(String.init) ?? ""
            if ["PRIMARY", "UNIQUE"].contains(first.uppercased()) { return nil }
            return first.trimmingCharacters(in: "`")
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var result = self[...]
        while result.first == set { result = result.dropFirst() }
        while result.last == set { result = result.dropLast() }
        return String(result)
    }
}

/// The tables of a real ProxySQL 2.7.1 (release build, no LDAP, no ClickHouse): 38 in `main`, the configuration
/// tables in `disk`, the statistics tables in `stats`.
enum AdminTables {
    // MARK: mysql_servers module (LOAD/SAVE MYSQL SERVERS)

    static let mysqlServers = AdminTable(
        name: "mysql_servers",
        clauses: [
            "hostgroup_id INT CHECK (hostgroup_id>=0) NOT NULL DEFAULT 0",
            "hostname VARCHAR NOT NULL",
            "port INT CHECK (port >= 0 AND port <= 65535) NOT NULL DEFAULT 3306",
            "gtid_port INT CHECK ((gtid_port <> port OR gtid_port=0) AND gtid_port >= 0 AND gtid_port <= 65535) "
                + "NOT NULL DEFAULT 0",
            "status VARCHAR CHECK (UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', 'OFFLINE_HARD')) NOT NULL "
                + "DEFAULT 'ONLINE'",
            "weight INT CHECK (weight >= 0 AND weight <=10000000) NOT NULL DEFAULT 1",
            "compression INT CHECK (compression IN(0,1)) NOT NULL DEFAULT 0",
            "max_connections INT CHECK (max_connections >=0) NOT NULL DEFAULT 1000",
            "max_replication_lag INT CHECK (max_replication_lag >= 0 AND max_replication_lag <= 126144000) NOT NULL "
                + "DEFAULT 0",
            "use_ssl INT CHECK (use_ssl IN(0,1)) NOT NULL DEFAULT 0",
            "max_latency_ms INT UNSIGNED CHECK (max_latency_ms>=0) NOT NULL DEFAULT 0",
            "comment VARCHAR NOT NULL DEFAULT ''",
            "PRIMARY KEY (hostgroup_id, hostname, port) ",
        ]
    )

    static let replicationHostgroups = AdminTable(
        name: "mysql_replication_hostgroups",
        clauses: [
            "writer_hostgroup INT CHECK (writer_hostgroup>=0) NOT NULL PRIMARY KEY",
            "reader_hostgroup INT NOT NULL CHECK (reader_hostgroup<>writer_hostgroup AND reader_hostgroup>=0)",
            "check_type VARCHAR CHECK (LOWER(check_type) IN ('read_only','innodb_read_only','super_read_only',"
                + "'read_only|innodb_read_only','read_only&innodb_read_only')) NOT NULL DEFAULT 'read_only'",
            "comment VARCHAR NOT NULL DEFAULT '', UNIQUE (reader_hostgroup)",
        ]
    )

    /// Group replication and Galera share one shape.
    private static func clusterHostgroups(_ name: String) -> AdminTable {
        AdminTable(
            name: name,
            clauses: [
                "writer_hostgroup INT CHECK (writer_hostgroup>=0) NOT NULL PRIMARY KEY",
                "backup_writer_hostgroup INT CHECK (backup_writer_hostgroup>=0 AND "
                    + "backup_writer_hostgroup<>writer_hostgroup) NOT NULL",
                "reader_hostgroup INT NOT NULL CHECK (reader_hostgroup<>writer_hostgroup AND "
                    + "backup_writer_hostgroup<>reader_hostgroup AND reader_hostgroup>0)",
                "offline_hostgroup INT NOT NULL CHECK (offline_hostgroup<>writer_hostgroup AND "
                    + "offline_hostgroup<>reader_hostgroup AND backup_writer_hostgroup<>offline_hostgroup AND "
                    + "offline_hostgroup>=0)",
                "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1",
                "max_writers INT NOT NULL CHECK (max_writers >= 0) DEFAULT 1",
                "writer_is_also_reader INT CHECK (writer_is_also_reader IN (0,1,2)) NOT NULL DEFAULT 0",
                "max_transactions_behind INT CHECK (max_transactions_behind>=0) NOT NULL DEFAULT 0",
                "comment VARCHAR",
                "UNIQUE (reader_hostgroup)",
                "UNIQUE (offline_hostgroup)",
                "UNIQUE (backup_writer_hostgroup)",
            ]
        )
    }

    static let groupReplicationHostgroups = clusterHostgroups("mysql_group_replication_hostgroups")
    static let galeraHostgroups = clusterHostgroups("mysql_galera_hostgroups")

    static let auroraHostgroups = AdminTable(
        name: "mysql_aws_aurora_hostgroups",
        clauses: [
            "writer_hostgroup INT CHECK (writer_hostgroup>=0) NOT NULL PRIMARY KEY",
            "reader_hostgroup INT NOT NULL CHECK (reader_hostgroup<>writer_hostgroup AND reader_hostgroup>0)",
            "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1",
            "aurora_port INT NOT NUlL DEFAULT 3306",
            "domain_name VARCHAR NOT NULL CHECK (SUBSTR(domain_name,1,1) = '.')",
            "max_lag_ms INT NOT NULL CHECK (max_lag_ms>= 10 AND max_lag_ms <= 600000) DEFAULT 600000",
            "check_interval_ms INT NOT NULL CHECK (check_interval_ms >= 100 AND check_interval_ms <= 600000) "
                + "DEFAULT 1000",
            "check_timeout_ms INT NOT NULL CHECK (check_timeout_ms >= 80 AND check_timeout_ms <= 3000) DEFAULT 800",
            "writer_is_also_reader INT CHECK (writer_is_also_reader IN (0,1)) NOT NULL DEFAULT 0",
            "new_reader_weight INT CHECK (new_reader_weight >= 0 AND new_reader_weight <=10000000) NOT NULL DEFAULT 1",
            "add_lag_ms INT NOT NULL CHECK (add_lag_ms >= 0 AND add_lag_ms <= 600000) DEFAULT 30",
            "min_lag_ms INT NOT NULL CHECK (min_lag_ms >= 0 AND min_lag_ms <= 600000) DEFAULT 30",
            "lag_num_checks INT NOT NULL CHECK (lag_num_checks >= 1 AND lag_num_checks <= 16) DEFAULT 1",
            "comment VARCHAR",
            "UNIQUE (reader_hostgroup)",
        ]
    )

    static let hostgroupAttributes = AdminTable(
        name: "mysql_hostgroup_attributes",
        clauses: [
            "hostgroup_id INT NOT NULL PRIMARY KEY",
            "max_num_online_servers INT CHECK (max_num_online_servers>=0 AND max_num_online_servers <= 1000000) "
                + "NOT NULL DEFAULT 1000000",
            "autocommit INT CHECK (autocommit IN (-1, 0, 1)) NOT NULL DEFAULT -1",
            "free_connections_pct INT CHECK (free_connections_pct >= 0 AND free_connections_pct <= 100) NOT NULL "
                + "DEFAULT 10",
            "init_connect VARCHAR NOT NULL DEFAULT ''",
            "multiplex INT CHECK (multiplex IN (0, 1)) NOT NULL DEFAULT 1",
            "connection_warming INT CHECK (connection_warming IN (0, 1)) NOT NULL DEFAULT 0",
            "throttle_connections_per_sec INT CHECK (throttle_connections_per_sec >= 1 AND "
                + "throttle_connections_per_sec <= 1000000) NOT NULL DEFAULT 1000000",
            "ignore_session_variables VARCHAR CHECK (JSON_VALID(ignore_session_variables) OR "
                + "ignore_session_variables = '') NOT NULL DEFAULT ''",
            "hostgroup_settings VARCHAR CHECK (JSON_VALID(hostgroup_settings) OR hostgroup_settings = '') NOT NULL "
                + "DEFAULT ''",
            "servers_defaults VARCHAR CHECK (JSON_VALID(servers_defaults) OR servers_defaults = '') NOT NULL "
                + "DEFAULT ''",
            "comment VARCHAR NOT NULL DEFAULT ''",
        ]
    )

    static let serversSSLParams = AdminTable(
        name: "mysql_servers_ssl_params",
        clauses: [
            "hostname VARCHAR NOT NULL",
            "port INT CHECK (port >= 0 AND port <= 65535) NOT NULL DEFAULT 3306",
            "username VARCHAR NOT NULL DEFAULT ''",
        ] + ["ssl_ca", "ssl_cert", "ssl_key", "ssl_capath", "ssl_crl", "ssl_crlpath", "ssl_cipher", "tls_version", "comment"]
            .map { "\($0) VARCHAR NOT NULL DEFAULT ''" }
            + ["PRIMARY KEY (hostname, port, username) "]
    )

    // MARK: mysql_users module

    static let mysqlUsers = AdminTable(
        name: "mysql_users",
        clauses: [
            "username VARCHAR NOT NULL",
            "password VARCHAR",
            "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1",
            "use_ssl INT CHECK (use_ssl IN (0,1)) NOT NULL DEFAULT 0",
            "default_hostgroup INT NOT NULL DEFAULT 0",
            "default_schema VARCHAR",
            "schema_locked INT CHECK (schema_locked IN (0,1)) NOT NULL DEFAULT 0",
            "transaction_persistent INT CHECK (transaction_persistent IN (0,1)) NOT NULL DEFAULT 1",
            "fast_forward INT CHECK (fast_forward IN (0,1)) NOT NULL DEFAULT 0",
            "backend INT CHECK (backend IN (0,1)) NOT NULL DEFAULT 1",
            "frontend INT CHECK (frontend IN (0,1)) NOT NULL DEFAULT 1",
            "max_connections INT CHECK (max_connections >=0) NOT NULL DEFAULT 10000",
            "attributes VARCHAR CHECK (JSON_VALID(attributes) OR attributes = '') NOT NULL DEFAULT ''",
            "comment VARCHAR NOT NULL DEFAULT ''",
            "PRIMARY KEY (username, backend)",
            "UNIQUE (username, frontend)",
        ]
    )

    // MARK: mysql_query_rules module

    static let queryRules = AdminTable(
        name: "mysql_query_rules",
        clauses: [
            "rule_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL",
            "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 0",
            "username VARCHAR",
            "schemaname VARCHAR",
            "flagIN INT CHECK (flagIN >= 0) NOT NULL DEFAULT 0",
            "client_addr VARCHAR",
            "proxy_addr VARCHAR",
            "proxy_port INT CHECK (proxy_port >= 0 AND proxy_port <= 65535)",
            "digest VARCHAR",
            "match_digest VARCHAR",
            "match_pattern VARCHAR",
            "negate_match_pattern INT CHECK (negate_match_pattern IN (0,1)) NOT NULL DEFAULT 0",
            "re_modifiers VARCHAR DEFAULT 'CASELESS'",
            "flagOUT INT CHECK (flagOUT >= 0)",
            "replace_pattern VARCHAR CHECK(CASE WHEN replace_pattern IS NULL THEN 1 WHEN replace_pattern IS NOT NULL "
                + "AND match_pattern IS NOT NULL THEN 1 ELSE 0 END)",
            "destination_hostgroup INT DEFAULT NULL",
            "cache_ttl INT CHECK(cache_ttl > 0)",
            "cache_empty_result INT CHECK (cache_empty_result IN (0,1)) DEFAULT NULL",
            "cache_timeout INT CHECK(cache_timeout >= 0)",
            "reconnect INT CHECK (reconnect IN (0,1)) DEFAULT NULL",
            "timeout INT UNSIGNED CHECK (timeout >= 0)",
            "retries INT CHECK (retries>=0 AND retries <=1000)",
            "delay INT UNSIGNED CHECK (delay >=0)",
            "next_query_flagIN INT UNSIGNED",
            "mirror_flagOUT INT UNSIGNED",
            "mirror_hostgroup INT UNSIGNED",
            "error_msg VARCHAR",
            "OK_msg VARCHAR",
            "sticky_conn INT CHECK (sticky_conn IN (0,1))",
            "multiplex INT CHECK (multiplex IN (0,1,2))",
            "gtid_from_hostgroup INT UNSIGNED",
            "log INT CHECK (log IN (0,1))",
            "apply INT CHECK(apply IN (0,1)) NOT NULL DEFAULT 0",
            "attributes VARCHAR CHECK (JSON_VALID(attributes) OR attributes = '') NOT NULL DEFAULT ''",
            "comment VARCHAR",
        ]
    )

    static let queryRulesFastRouting = AdminTable(
        name: "mysql_query_rules_fast_routing",
        clauses: [
            "username VARCHAR NOT NULL",
            "schemaname VARCHAR NOT NULL",
            "flagIN INT NOT NULL DEFAULT 0",
            "destination_hostgroup INT CHECK (destination_hostgroup >= 0) NOT NULL",
            "comment VARCHAR NOT NULL",
            "PRIMARY KEY (username, schemaname, flagIN) ",
        ]
    )

    // MARK: Firewall

    static let firewallUsers = AdminTable(
        name: "mysql_firewall_whitelist_users",
        clauses: [
            "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1",
            "username VARCHAR NOT NULL",
            "client_address VARCHAR NOT NULL",
            "mode VARCHAR CHECK (mode IN ('OFF','DETECTING','PROTECTING')) NOT NULL DEFAULT ('OFF')",
            "comment VARCHAR NOT NULL",
            "PRIMARY KEY (username, client_address) ",
        ]
    )

    static let firewallRules = AdminTable(
        name: "mysql_firewall_whitelist_rules",
        clauses: [
            "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1",
            "username VARCHAR NOT NULL",
            "client_address VARCHAR NOT NULL",
            "schemaname VARCHAR NOT NULL",
            "flagIN INT NOT NULL DEFAULT 0",
            "digest VARCHAR NOT NULL",
            "comment VARCHAR NOT NULL",
            "PRIMARY KEY (username, client_address, schemaname, flagIN, digest) ",
        ]
    )

    static let firewallFingerprints = AdminTable(
        name: "mysql_firewall_whitelist_sqli_fingerprints",
        clauses: [
            "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1",
            "fingerprint VARCHAR NOT NULL",
            "PRIMARY KEY (fingerprint) ",
        ]
    )

    // MARK: Others

    static let globalVariables = AdminTable(
        name: "global_variables",
        clauses: ["variable_name VARCHAR NOT NULL PRIMARY KEY", "variable_value VARCHAR NOT NULL"]
    )

    /// Only in `disk` (ProxySQL keeps its own settings there, such as the instance uuid).
    static let globalSettings = AdminTable(
        name: "global_settings",
        clauses: ["variable_name VARCHAR NOT NULL PRIMARY KEY", "variable_value VARCHAR NOT NULL"]
    )

    static let collations = AdminTable(
        name: "mysql_collations",
        clauses: [
            "Id INTEGER NOT NULL PRIMARY KEY", "Collation VARCHAR NOT NULL", "Charset VARCHAR NOT NULL",
            "`Default` VARCHAR NOT NULL",
        ]
    )

    static let scheduler = AdminTable(
        name: "scheduler",
        clauses: [
            "id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL",
            "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1",
            "interval_ms INTEGER CHECK (interval_ms>=100 AND interval_ms<=100000000) NOT NULL",
            "filename VARCHAR NOT NULL",
            "arg1 VARCHAR", "arg2 VARCHAR", "arg3 VARCHAR", "arg4 VARCHAR", "arg5 VARCHAR",
            "comment VARCHAR NOT NULL DEFAULT ''",
        ]
    )

    static let restapiRoutes = AdminTable(
        name: "restapi_routes",
        clauses: [
            "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT",
            "active INT CHECK (active IN (0,1)) NOT NULL DEFAULT 1",
            "timeout_ms INTEGER CHECK (timeout_ms>=100 AND timeout_ms<=100000000) NOT NULL",
            "method VARCHAR NOT NULL CHECK (UPPER(method) IN ('GET','POST'))",
            "uri VARCHAR NOT NULL",
            "script VARCHAR NOT NULL",
            "comment VARCHAR NOT NULL DEFAULT ''",
        ]
    )

    static let coredumpFilters = AdminTable(
        name: "coredump_filters",
        clauses: ["filename VARCHAR NOT NULL", "line INT NOT NULL", "PRIMARY KEY (filename, line) "]
    )

    static let proxysqlServers = AdminTable(
        name: "proxysql_servers",
        clauses: [
            "hostname VARCHAR NOT NULL",
            "port INT NOT NULL DEFAULT 6032",
            "weight INT CHECK (weight >= 0) NOT NULL DEFAULT 0",
            "comment VARCHAR NOT NULL DEFAULT ''",
            "PRIMARY KEY (hostname, port) ",
        ]
    )

    static let checksumsValues = AdminTable(
        name: "runtime_checksums_values",
        clauses: [
            "name VARCHAR NOT NULL", "version INT NOT NULL", "epoch INT NOT NULL", "checksum VARCHAR NOT NULL",
            "PRIMARY KEY (name)",
        ]
    )

    // MARK: Statistics

    static let connectionPool = AdminTable(
        name: "stats_mysql_connection_pool",
        clauses: [
            "hostgroup INT", "srv_host VARCHAR", "srv_port INT", "status VARCHAR", "ConnUsed INT", "ConnFree INT",
            "ConnOK INT", "ConnERR INT", "MaxConnUsed INT", "Queries INT", "Queries_GTID_sync INT",
            "Bytes_data_sent INT", "Bytes_data_recv INT", "Latency_us INT",
        ]
    )

    static let processlist = AdminTable(
        name: "stats_mysql_processlist",
        clauses: [
            "ThreadID INT NOT NULL", "SessionID INTEGER PRIMARY KEY", "user VARCHAR", "db VARCHAR", "cli_host VARCHAR",
            "cli_port INT", "hostgroup INT", "l_srv_host VARCHAR", "l_srv_port INT", "srv_host VARCHAR", "srv_port INT",
            "command VARCHAR", "time_ms INT NOT NULL", "info VARCHAR", "status_flags INT", "extended_info VARCHAR",
        ]
    )

    private static func queryDigest(_ name: String) -> AdminTable {
        AdminTable(
            name: name,
            clauses: [
                "hostgroup INT", "schemaname VARCHAR NOT NULL", "username VARCHAR NOT NULL",
                "client_address VARCHAR NOT NULL", "digest VARCHAR NOT NULL", "digest_text VARCHAR NOT NULL",
                "count_star INTEGER NOT NULL", "first_seen INTEGER NOT NULL", "last_seen INTEGER NOT NULL",
                "sum_time INTEGER NOT NULL", "min_time INTEGER NOT NULL", "max_time INTEGER NOT NULL",
                "sum_rows_affected INTEGER NOT NULL", "sum_rows_sent INTEGER NOT NULL",
                "PRIMARY KEY(hostgroup, schemaname, username, client_address, digest)",
            ]
        )
    }

    /// Filled by whoever records digests (the data plane); `stats_mysql_query_digest_reset` empties it on read.
    static let queryDigest = queryDigest("stats_mysql_query_digest")
    static let queryDigestReset = queryDigest("stats_mysql_query_digest_reset")

    private static func errors(_ name: String) -> AdminTable {
        AdminTable(
            name: name,
            clauses: [
                "hostgroup INT NOT NULL", "hostname VARCHAR NOT NULL", "port INT NOT NULL", "username VARCHAR NOT NULL",
                "client_address VARCHAR NOT NULL", "schemaname VARCHAR NOT NULL", "errno INT NOT NULL",
                "count_star INTEGER NOT NULL", "first_seen INTEGER NOT NULL", "last_seen INTEGER NOT NULL",
                "last_error VARCHAR NOT NULL DEFAULT ''",
                "PRIMARY KEY (hostgroup, hostname, port, username, schemaname, errno) ",
            ]
        )
    }

    static let statsQueryRules = AdminTable(
        name: "stats_mysql_query_rules",
        clauses: ["rule_id INTEGER PRIMARY KEY", "hits INT NOT NULL"]
    )

    static let statsGlobal = AdminTable(
        name: "stats_mysql_global",
        clauses: ["Variable_Name VARCHAR NOT NULL PRIMARY KEY", "Variable_Value VARCHAR NOT NULL"]
    )

    static let statsUsers = AdminTable(
        name: "stats_mysql_users",
        clauses: [
            "username VARCHAR PRIMARY KEY", "frontend_connections INT NOT NULL", "frontend_max_connections INT NOT NULL",
        ]
    )

    static let statsProxySQLServersChecksums = AdminTable(
        name: "stats_proxysql_servers_checksums",
        clauses: [
            "hostname VARCHAR NOT NULL", "port INT NOT NULL DEFAULT 6032", "name VARCHAR NOT NULL",
            "version INT NOT NULL", "epoch INT NOT NULL", "checksum VARCHAR NOT NULL", "changed_at INT NOT NULL",
            "updated_at INT NOT NULL", "diff_check INT NOT NULL", "PRIMARY KEY (hostname, port, name) ",
        ]
    )

    // MARK: Lists

    /// A LOAD/SAVE module: the tables it moves between memory, runtime and disk.
    struct Module: Sendable {
        /// The words of the command between LOAD/SAVE and the direction (`MYSQL QUERY RULES`).
        let command: String
        let tables: [AdminTable]
        /// Whether `SAVE ... TO DISK` / `LOAD ... FROM DISK` exist for it.
        let hasDisk: Bool
    }

    static let serversModule = Module(
        command: "MYSQL SERVERS",
        tables: [
            mysqlServers, replicationHostgroups, groupReplicationHostgroups, galeraHostgroups, auroraHostgroups,
            hostgroupAttributes, serversSSLParams,
        ],
        hasDisk: true
    )
    static let usersModule = Module(command: "MYSQL USERS", tables: [mysqlUsers], hasDisk: true)
    static let queryRulesModule = Module(
        command: "MYSQL QUERY RULES",
        tables: [queryRules, queryRulesFastRouting],
        hasDisk: true
    )
    static let firewallModule = Module(
        command: "MYSQL FIREWALL",
        tables: [firewallUsers, firewallRules, firewallFingerprints],
        hasDisk: true
    )
    static let schedulerModule = Module(command: "SCHEDULER", tables: [scheduler], hasDisk: true)
    static let restapiModule = Module(command: "RESTAPI", tables: [restapiRoutes], hasDisk: true)
    static let proxysqlServersModule = Module(command: "PROXYSQL SERVERS", tables: [proxysqlServers], hasDisk: true)
    static let coredumpModule = Module(command: "COREDUMP", tables: [coredumpFilters], hasDisk: false)

    /// Every module whose tables have `runtime_` twins, in ProxySQL's order.
    static let modules: [Module] = [
        serversModule, usersModule, queryRulesModule, firewallModule, schedulerModule, restapiModule,
        proxysqlServersModule, coredumpModule,
    ]

    /// The tables of `main`, each with its `runtime_` twin, plus `global_variables` (+ runtime), `mysql_collations`
    /// and `runtime_checksums_values`: 38 in all, as `SHOW TABLES` lists on ProxySQL 2.7.1.
    static var mainStatements: [String] {
        var statements: [String] = []
        for table in modules.flatMap(\.tables) + [globalVariables] {
            statements.append(table.createStatement(schema: "main"))
            statements.append(table.createStatement(schema: "main", name: "runtime_" + table.name))
        }
        statements.append(collations.createStatement(schema: "main"))
        statements.append(checksumsValues.createStatement(schema: "main"))
        return statements
    }

    /// The tables of `disk` (ProxySQL's `tables_defs_config`).
    static var diskStatements: [String] {
        let tables = modules.filter(\.hasDisk).flatMap(\.tables) + [globalVariables, globalSettings, collations]
        return tables.map { $0.createStatement(schema: "disk") }
    }

    /// The tables of `stats` that the emulator has.
    static var statsStatements: [String] {
        [
            connectionPool, processlist, queryDigest, queryDigestReset, errors("stats_mysql_errors"),
            errors("stats_mysql_errors_reset"), statsQueryRules, statsGlobal, statsUsers,
            statsProxySQLServersChecksums,
        ].map { $0.createStatement(schema: "stats") }
    }

    /// A subset of the collations a ProxySQL build compiles in (ProxySQL lists every one of libmariadb's; the first
    /// collation of each character set is its default).
    static let collationRows: [(id: Int, collation: String, charset: String)] = [
        (1, "big5_chinese_ci", "big5"), (3, "dec8_swedish_ci", "dec8"), (8, "latin1_swedish_ci", "latin1"),
        (11, "ascii_general_ci", "ascii"), (28, "gbk_chinese_ci", "gbk"), (33, "utf8_general_ci", "utf8"),
        (45, "utf8mb4_general_ci", "utf8mb4"), (46, "utf8mb4_bin", "utf8mb4"), (47, "latin1_bin", "latin1"),
        (48, "latin1_general_ci", "latin1"), (63, "binary", "binary"), (65, "ascii_bin", "ascii"),
        (83, "utf8_bin", "utf8"), (192, "utf8_unicode_ci", "utf8"), (224, "utf8mb4_unicode_ci", "utf8mb4"),
        (255, "utf8mb4_0900_ai_ci", "utf8mb4"),
    ]
}
