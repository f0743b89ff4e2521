@testable import CutoverSandbox
import Foundation
import MariaDB
import Testing

/// The admin tables of a real ProxySQL 2.7.1 (#14 item 6): the 38 tables `SHOW TABLES` lists there, with ProxySQL's
/// defaults and CHECK constraints, and the LOAD/SAVE commands that move them to their `runtime_` twins and to disk.
@Suite("ProxySQL emulator: admin tables of 2.7.1")
struct ProxySQLEmulatorAdminTablesTests {
    typealias Support = EmulatorTestSupport

    /// `SHOW TABLES` on a real ProxySQL 2.7.1 (release build, no LDAP, no ClickHouse plugin).
    static let realShowTables = [
        "coredump_filters", "global_variables", "mysql_aws_aurora_hostgroups", "mysql_collations",
        "mysql_firewall_whitelist_rules", "mysql_firewall_whitelist_sqli_fingerprints", "mysql_firewall_whitelist_users",
        "mysql_galera_hostgroups", "mysql_group_replication_hostgroups", "mysql_hostgroup_attributes",
        "mysql_query_rules", "mysql_query_rules_fast_routing", "mysql_replication_hostgroups", "mysql_servers",
        "mysql_servers_ssl_params", "mysql_users", "proxysql_servers", "restapi_routes", "runtime_checksums_values",
        "runtime_coredump_filters", "runtime_global_variables", "runtime_mysql_aws_aurora_hostgroups",
        "runtime_mysql_firewall_whitelist_rules", "runtime_mysql_firewall_whitelist_sqli_fingerprints",
        "runtime_mysql_firewall_whitelist_users", "runtime_mysql_galera_hostgroups",
        "runtime_mysql_group_replication_hostgroups", "runtime_mysql_hostgroup_attributes",
        "runtime_mysql_query_rules", "runtime_mysql_query_rules_fast_routing", "runtime_mysql_replication_hostgroups",
        "runtime_mysql_servers", "runtime_mysql_servers_ssl_params", "runtime_mysql_users", "runtime_proxysql_servers",
        "runtime_restapi_routes", "runtime_scheduler", "scheduler",
    ]

    @Test("SHOW TABLES lists the 38 tables of a real 2.7.1 (sqlite_sequence hidden, as ProxySQL hides it)")
    func showTables() async throws {
        try await Support.withEmulator { _, admin in
            // AUTOINCREMENT tables create sqlite_sequence at their first insert: it must stay hidden.
            try await admin.run("INSERT INTO scheduler (interval_ms, filename) VALUES (1000, '/bin/true')")
            let rows = try await admin.query("SHOW TABLES")
            let names = rows.compactMap { $0[0].string }
            #expect(names.count == 38)
            #expect(names == Self.realShowTables)
            let disk = try await admin.query("SHOW TABLES FROM disk").compactMap { $0[0].string }
            for table in ["mysql_query_rules", "proxysql_servers", "scheduler", "mysql_aws_aurora_hostgroups", "global_settings"] {
                #expect(disk.contains(table), "disk.\(table)")
            }
            #expect(!disk.contains(where: { $0.hasPrefix("runtime_") }))
            let stats = try await admin.query("SHOW TABLES FROM stats").compactMap { $0[0].string }
            #expect(stats.contains("stats_mysql_query_digest"))
            #expect(stats.contains("stats_mysql_query_digest_reset"))
            let digest = try await admin.execute("SELECT * FROM stats_mysql_query_digest")
            #expect(digest.resultSets.first?.columns.map(\.name) == [
                "hostgroup", "schemaname", "username", "client_address", "digest", "digest_text", "count_star",
                "first_seen", "last_seen", "sum_time", "min_time", "max_time", "sum_rows_affected", "sum_rows_sent",
            ])
        }
    }

    @Test("mysql_users has every column of 2.7.1 with its defaults; runtime keeps active users as frontend + backend rows")
    func mysqlUsers() async throws {
        try await Support.withEmulator { _, admin in
            try await admin.run("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('u1', 'p1', 10)")
            try await admin.run("INSERT INTO mysql_users (username, password, active) VALUES ('u2', 'p2', 0)")
            let row = try #require(try await admin.queryFirst("SELECT * FROM mysql_users WHERE username = 'u1'"))
            #expect(row.columns.map(\.name) == [
                "username", "password", "active", "use_ssl", "default_hostgroup", "default_schema", "schema_locked",
                "transaction_persistent", "fast_forward", "backend", "frontend", "max_connections", "attributes",
                "comment",
            ])
            #expect(row["transaction_persistent"]?.string == "1")
            #expect(row["max_connections"]?.string == "10000")
            #expect(row["default_schema"]?.isNull == true)
            let badAttributes = await Support.mariaDBError {
                try await admin.run("UPDATE mysql_users SET attributes = '{not json' WHERE username = 'u1'")
            }
            #expect(badAttributes?.message?.hasPrefix("ProxySQL Admin Error: CHECK constraint failed") == true)

            try await admin.run("LOAD MYSQL USERS TO RUNTIME")
            let runtime = try await admin.query(
                "SELECT username, backend, frontend, default_hostgroup FROM runtime_mysql_users WHERE username IN ('u1', 'u2') "
                    + "ORDER BY username, backend"
            )
            #expect(runtime.map { $0.map(\.string) } == [["u1", "0", "1", "10"], ["u1", "1", "0", "10"]])
        }
    }

    @Test("mysql_query_rules: defaults, CHECKs, and LOAD TO RUNTIME keeps the active rules in rule_id order")
    func queryRules() async throws {
        try await Support.withEmulator { _, admin in
            try await admin.run(
                "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply) "
                    + "VALUES (20, 1, '^SELECT', 11, 1)"
            )
            try await admin.run(
                "INSERT INTO mysql_query_rules (rule_id, match_digest, destination_hostgroup) VALUES (10, '.', 10)"
            )
            try await admin.run(
                "INSERT INTO mysql_query_rules (rule_id, active, match_pattern, destination_hostgroup) "
                    + "VALUES (5, 1, 'FOR UPDATE', 10)"
            )
            let rule = try #require(try await admin.queryFirst("SELECT * FROM mysql_query_rules WHERE rule_id = 10"))
            #expect(rule["active"]?.string == "0")
            #expect(rule["re_modifiers"]?.string == "CASELESS")
            #expect(rule["apply"]?.string == "0")
            #expect(rule["attributes"]?.string == "")
            #expect(rule["flagOUT"]?.isNull == true)
            #expect(rule.columns.count == 35)

            let replaceWithoutMatch = await Support.mariaDBError {
                try await admin.run("INSERT INTO mysql_query_rules (rule_id, replace_pattern) VALUES (30, 'x')")
            }
            #expect(replaceWithoutMatch?.message?.hasPrefix("ProxySQL Admin Error: CHECK constraint failed") == true)
            let badMultiplex = await Support.mariaDBError {
                try await admin.run("UPDATE mysql_query_rules SET multiplex = 3 WHERE rule_id = 10")
            }
            #expect(badMultiplex?.message?.contains("CHECK constraint failed") == true)
            #expect(badMultiplex?.message?.contains("multiplex IN (0,1,2)") == true)

            #expect(try await admin.query("SELECT * FROM runtime_mysql_query_rules").isEmpty)
            try await admin.run("LOAD MYSQL QUERY RULES TO RUNTIME")
            let runtime = try await admin.query("SELECT rule_id, destination_hostgroup FROM runtime_mysql_query_rules")
            #expect(runtime.map { $0.map(\.string) } == [["5", "10"], ["20", "11"]])

            try await admin.run(
                "INSERT INTO mysql_query_rules_fast_routing (username, schemaname, destination_hostgroup, comment) "
                    + "VALUES ('app', 'shop', 10, '')"
            )
            let missingComment = await Support.mariaDBError {
                try await admin.run(
                    "INSERT INTO mysql_query_rules_fast_routing (username, schemaname, destination_hostgroup) "
                        + "VALUES ('app', 'crm', 10)"
                )
            }
            #expect(
                missingComment?.message
                    == "ProxySQL Admin Error: NOT NULL constraint failed: mysql_query_rules_fast_routing.comment"
            )
            try await admin.run("LOAD MYSQL QUERY RULES TO RUN")
            #expect(try await admin.query("SELECT * FROM runtime_mysql_query_rules_fast_routing").count == 1)

            // SAVE ... TO DISK, then a change in memory, then LOAD ... FROM DISK restores it.
            try await admin.run("SAVE MYSQL QUERY RULES TO DISK")
            try await admin.run("DELETE FROM mysql_query_rules")
            try await admin.run("LOAD MYSQL QUERY RULES FROM DISK")
            #expect(try await admin.query("SELECT rule_id FROM mysql_query_rules").count == 3)
            // SAVE ... FROM RUNTIME brings the runtime (active rules only) back into memory.
            try await admin.run("SAVE MYSQL QUERY RULES FROM RUNTIME")
            #expect(try await admin.query("SELECT rule_id FROM mysql_query_rules").count == 2)
        }
    }

    @Test("hostgroup-kind tables: ProxySQL's CHECKs, and LOAD MYSQL SERVERS TO RUNTIME copies them to runtime")
    func hostgroupKindTables() async throws {
        try await Support.withEmulator { _, admin in
            try await admin.run(
                "INSERT INTO mysql_aws_aurora_hostgroups (writer_hostgroup, reader_hostgroup, domain_name) "
                    + "VALUES (10, 11, '.cluster-xyz.eu-west-1.rds.amazonaws.com')"
            )
            let aurora = try #require(try await admin.queryFirst("SELECT * FROM mysql_aws_aurora_hostgroups"))
            #expect(aurora["max_lag_ms"]?.string == "600000")
            #expect(aurora["check_interval_ms"]?.string == "1000")
            #expect(aurora["check_timeout_ms"]?.string == "800")
            #expect(aurora["aurora_port"]?.string == "3306")
            let badDomain = await Support.mariaDBError {
                try await admin.run(
                    "INSERT INTO mysql_aws_aurora_hostgroups (writer_hostgroup, reader_hostgroup, domain_name) "
                        + "VALUES (20, 21, 'no-dot')"
                )
            }
            #expect(badDomain?.message?.contains("CHECK constraint failed") == true)

            try await admin.run(
                "INSERT INTO mysql_group_replication_hostgroups (writer_hostgroup, backup_writer_hostgroup, "
                    + "reader_hostgroup, offline_hostgroup) VALUES (30, 31, 32, 33)"
            )
            let sameGroup = await Support.mariaDBError {
                try await admin.run(
                    "INSERT INTO mysql_galera_hostgroups (writer_hostgroup, backup_writer_hostgroup, reader_hostgroup, "
                        + "offline_hostgroup) VALUES (40, 40, 42, 43)"
                )
            }
            #expect(sameGroup?.message?.contains("CHECK constraint failed") == true)
            try await admin.run("INSERT INTO mysql_hostgroup_attributes (hostgroup_id) VALUES (10)")
            let attributes = try #require(try await admin.queryFirst("SELECT * FROM mysql_hostgroup_attributes"))
            #expect(attributes["max_num_online_servers"]?.string == "1000000")
            #expect(attributes["free_connections_pct"]?.string == "10")
            #expect(attributes["autocommit"]?.string == "-1")
            try await admin.run("INSERT INTO mysql_servers_ssl_params (hostname) VALUES ('db1')")

            for table in [
                "mysql_aws_aurora_hostgroups", "mysql_group_replication_hostgroups", "mysql_hostgroup_attributes",
                "mysql_servers_ssl_params",
            ] {
                #expect(try await admin.query(SQLStatement(unsafeRaw: "SELECT * FROM runtime_\(table)")).isEmpty, "\(table) before LOAD")
            }
            try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            for table in [
                "mysql_aws_aurora_hostgroups", "mysql_group_replication_hostgroups", "mysql_hostgroup_attributes",
                "mysql_servers_ssl_params",
            ] {
                #expect(try await admin.query(SQLStatement(unsafeRaw: "SELECT * FROM runtime_\(table)")).count == 1, "\(table) after LOAD")
            }
            try await admin.run("SAVE MYSQL SERVERS TO DISK")
            #expect(try await admin.query("SELECT * FROM disk.mysql_aws_aurora_hostgroups").count == 1)
        }
    }

    @Test("proxysql_servers, scheduler, restapi_routes, firewall, coredump_filters: defaults, CHECKs, LOAD/SAVE")
    func otherModules() async throws {
        try await Support.withEmulator { _, admin in
            try await admin.run("INSERT INTO proxysql_servers (hostname) VALUES ('10.0.0.5')")
            let peer = try #require(try await admin.queryFirst("SELECT * FROM proxysql_servers"))
            #expect(peer["port"]?.string == "6032")
            #expect(peer["weight"]?.string == "0")
            try await admin.run("LOAD PROXYSQL SERVERS TO RUNTIME")
            #expect(try await admin.query("SELECT * FROM runtime_proxysql_servers").count == 1)
            try await admin.run("SAVE PROXYSQL SERVERS TO DISK")
            #expect(try await admin.query("SELECT * FROM disk.proxysql_servers").count == 1)

            let badInterval = await Support.mariaDBError {
                try await admin.run("INSERT INTO scheduler (interval_ms, filename) VALUES (10, '/bin/true')")
            }
            #expect(badInterval?.message?.contains("CHECK constraint failed: interval_ms>=100 AND interval_ms<=100000000") == true)
            try await admin.run("INSERT INTO scheduler (interval_ms, filename) VALUES (1000, '/bin/true')")
            try await admin.run("LOAD SCHEDULER TO RUNTIME")
            #expect(try await admin.query("SELECT * FROM runtime_scheduler").count == 1)

            let badMethod = await Support.mariaDBError {
                try await admin.run("INSERT INTO restapi_routes (timeout_ms, method, uri, script) VALUES (1000, 'PUT', 'x', 'y')")
            }
            #expect(badMethod?.message?.contains("CHECK constraint failed") == true)
            try await admin.run("INSERT INTO restapi_routes (timeout_ms, method, uri, script) VALUES (1000, 'get', 'x', 'y')")
            try await admin.run("LOAD RESTAPI TO RUNTIME")
            #expect(try await admin.query("SELECT * FROM runtime_restapi_routes").count == 1)

            let badMode = await Support.mariaDBError {
                try await admin.run(
                    "INSERT INTO mysql_firewall_whitelist_users (username, client_address, mode, comment) "
                        + "VALUES ('app', '', 'ON', '')"
                )
            }
            #expect(badMode?.message?.contains("CHECK constraint failed") == true)
            try await admin.run(
                "INSERT INTO mysql_firewall_whitelist_users (username, client_address, comment) VALUES ('app', '', '')"
            )
            try await admin.run("LOAD MYSQL FIREWALL TO RUNTIME")
            #expect(try await admin.query("SELECT mode FROM runtime_mysql_firewall_whitelist_users").first?[0].string == "OFF")

            try await admin.run("INSERT INTO coredump_filters VALUES ('MySQL_Session.cpp', 100)")
            try await admin.run("LOAD COREDUMP TO RUNTIME")
            #expect(try await admin.query("SELECT * FROM runtime_coredump_filters").count == 1)
            // ProxySQL has no SAVE COREDUMP TO DISK: it falls through to SQLite.
            let noDisk = await Support.mariaDBError { try await admin.run("SAVE COREDUMP TO DISK") }
            #expect(noDisk?.message == "ProxySQL Admin Error: near \"SAVE\": syntax error")

            let charset = try await admin.queryFirst("SELECT Charset, `Default` FROM mysql_collations WHERE Id = 45")
            #expect(charset?.map(\.string) == ["utf8mb4", "Yes"])
        }
    }

    @Test("runtime_checksums_values: one row per module; a LOAD bumps its version and changes its checksum")
    func checksums() async throws {
        try await Support.withEmulator { _, admin in
            let names = try await admin.query("SELECT name FROM runtime_checksums_values ORDER BY name")
            #expect(names.compactMap { $0[0].string } == [
                "admin_variables", "mysql_query_rules", "mysql_servers", "mysql_servers_v2", "mysql_users",
                "mysql_variables", "proxysql_servers",
            ])
            func entry() async throws -> (version: Int, checksum: String) {
                let row = try #require(
                    try await admin.queryFirst("SELECT version, checksum FROM runtime_checksums_values WHERE name = 'mysql_servers'")
                )
                return (Int(row[0].string ?? "") ?? -1, row[1].string ?? "")
            }
            let before = try await entry()
            #expect(before.version >= 1)
            #expect(before.checksum.hasPrefix("0x"))
            try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (10, '10.0.0.9', 3306)")
            try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            let after = try await entry()
            #expect(after.version == before.version + 1)
            #expect(after.checksum != before.checksum)
        }
    }
}
