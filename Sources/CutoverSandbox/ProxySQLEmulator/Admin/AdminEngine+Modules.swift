import Foundation
import Synchronization

/// Where a LOAD/SAVE command moves a module's tables.
enum AdminMove {
    case memoryToRuntime, runtimeToMemory, diskToMemory, memoryToDisk
}

/// One row of `runtime_checksums_values`.
struct RuntimeChecksum: Sendable, Equatable {
    var version: Int
    var epoch: Int
    var checksum: String
}

extension AdminEngine {
    /// The modules listed in `runtime_checksums_values`, in ProxySQL's order.
    static let checksumNames = [
        "admin_variables", "mysql_query_rules", "mysql_servers", "mysql_users", "mysql_variables", "proxysql_servers",
        "mysql_servers_v2",
    ]

    /// Copies `tables` from `main` to their `runtime_` twins (`mainToRuntime`) or back.
    func copy(_ tables: [String], mainToRuntime: Bool) throws {
        var script = ""
        for table in tables {
            let (source, destination) = ("main.\(table)", "main.runtime_\(table)")
            script += "DELETE FROM \(destination); INSERT INTO \(destination) SELECT * FROM \(source); "
        }
        try database.transaction(script)
    }

    /// Copies the `runtime_` twins of `tables` back into `main` (`SAVE ... FROM RUNTIME`).
    func copy(_ tables: [String], runtimeToMain: Bool) throws {
        var script = ""
        for table in tables {
            script += "DELETE FROM main.\(table); INSERT INTO main.\(table) SELECT * FROM main.runtime_\(table); "
        }
        try database.transaction(script)
    }

    /// `LOAD <module> TO RUNTIME` for the modules the emulator keeps as tables only: the runtime twins get what
    /// ProxySQL's runtime would hold (query rules: the active ones, by `rule_id`; the others: every row).
    func loadModuleToRuntime(_ module: AdminTables.Module) throws {
        switch module.command {
        case "MYSQL QUERY RULES":
            try database.transaction(
                "DELETE FROM main.runtime_mysql_query_rules; INSERT INTO main.runtime_mysql_query_rules "
                    + "SELECT * FROM main.mysql_query_rules WHERE active = 1 ORDER BY rule_id; "
                    + "DELETE FROM main.runtime_mysql_query_rules_fast_routing; "
                    + "INSERT INTO main.runtime_mysql_query_rules_fast_routing SELECT * FROM "
                    + "main.mysql_query_rules_fast_routing ORDER BY username, schemaname, flagIN;"
            )
            try bumpChecksum(
                "mysql_query_rules",
                tables: ["main.runtime_mysql_query_rules", "main.runtime_mysql_query_rules_fast_routing"]
            )
            try loadQueryRulesIntoDataPlane()
        case "PROXYSQL SERVERS":
            try copy(module.tables.map(\.name), mainToRuntime: true)
            try bumpChecksum("proxysql_servers", table: "main.runtime_proxysql_servers")
        default:
            try copy(module.tables.map(\.name), mainToRuntime: true)
        }
    }

    /// Compiles the runtime query rules for the application port's routing.
    func loadQueryRulesIntoDataPlane() throws {
        let rules = try database.query(
            "SELECT \(QueryRule.columns.joined(separator: ", ")) FROM main.runtime_mysql_query_rules ORDER BY rule_id"
        ).compactMap(QueryRule.init(row:))
        let fast = try database.query(
            "SELECT username, schemaname, flagIN, destination_hostgroup FROM main.runtime_mysql_query_rules_fast_routing"
        ).compactMap { row -> FastRoutingRule? in
            guard let user = row[0], let schema = row[1], let flag = row[2].flatMap({ Int($0) }),
                let hostgroup = row[3].flatMap({ Int($0) })
            else { return nil }
            return FastRoutingRule(username: user, schemaname: schema, flagIN: flag, destinationHostgroup: hostgroup)
        }
        dataPlane.loadQueryRules(QueryRuleSet(rules: rules, fastRouting: fast))
    }

    /// Bumps the version of `name` in `runtime_checksums_values`, with a checksum of `table`'s rows and the epoch
    /// of now (ProxySQL: a SpookyHash of the runtime resultset; here FNV-1a, same `0x...` shape, other values).
    func bumpChecksum(_ name: String, table: String) throws {
        try bumpChecksum(name, tables: [table])
    }

    func bumpChecksum(_ name: String, tables: [String]) throws {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for table in tables {
            for row in try database.query("SELECT * FROM \(table)") {
                for value in row {
                    for byte in (value ?? "\u{0}NULL").utf8 {
                        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                    }
                    hash = (hash ^ 0x1f) &* 0x0000_0100_0000_01b3
                }
            }
        }
        let checksum = "0x" + String(UInt32(truncatingIfNeeded: hash), radix: 16, uppercase: true)
            + String(UInt32(truncatingIfNeeded: hash >> 32), radix: 16, uppercase: true)
        let epoch = Int(Date().timeIntervalSince1970)
        let rows = checksums.withLock { values -> [[String?]] in
            var entry = values[name] ?? RuntimeChecksum(version: 0, epoch: 0, checksum: "")
            entry.version += 1
            entry.epoch = epoch
            entry.checksum = checksum
            values[name] = entry
            return Self.checksumNames.map { name in
                let value = values[name] ?? RuntimeChecksum(version: 0, epoch: 0, checksum: "")
                return [name, String(value.version), String(value.epoch), value.checksum]
            }
        }
        try database.replaceRows(
            of: "main.runtime_checksums_values",
            columns: ["name", "version", "epoch", "checksum"],
            rows: rows
        )
    }

    /// The number of rows of `main.mysql_servers` (what a LOAD MYSQL SERVERS processes), 0 on error.
    func serverRowCount() -> Int {
        let value = (try? database.query("SELECT COUNT(*) FROM main.mysql_servers"))?.first?.first ?? nil
        return value.flatMap { Int($0) } ?? 0
    }

    /// Fills `mysql_collations` (memory only, as ProxySQL does at start): the first collation of each character
    /// set is its default.
    func installCollations() throws {
        let ids = Dictionary(
            AdminTables.collationRows.map { ($0.charset, $0.id) },
            uniquingKeysWith: { min($0, $1) }
        )
        try database.replaceRows(
            of: "main.mysql_collations",
            columns: ["Id", "Collation", "Charset", "`Default`"],
            rows: AdminTables.collationRows.map { row in
                [String(row.id), row.collation, row.charset, ids[row.charset] == row.id ? "Yes" : ""]
            }
        )
    }
}
