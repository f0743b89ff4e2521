import Logging
import Synchronization

/// What the admin interface answers to one statement.
enum AdminReply: Sendable {
    case resultSet(columns: [String], rows: [[String?]])
    case ok(affectedRows: UInt64)
    /// Sent as MySQL error 1045, SQLSTATE 28000, like every ProxySQL admin error.
    case error(String)
}

/// Interprets admin statements like ProxySQL's admin module: its own commands (`LOAD`/`SAVE`, `KILL CONNECTION`,
/// `SELECT @@version`, `SET mysql-...`), everything else handed to SQLite with `ProxySQL Admin Error: ` in front of
/// SQLite's message. A command with a typo is not recognised and reaches SQLite (`near "LOAD": syntax error`).
final class AdminEngine: Sendable {
    let database: AdminDatabase
    let dataPlane: DataPlane
    let version: String
    let hostgroupPorts: [Int: Int]
    let logger: Logger
    /// `runtime_checksums_values`: one entry per module, bumped at each LOAD to runtime.
    let checksums = Mutex<[String: RuntimeChecksum]>([:])

    init(database: AdminDatabase, dataPlane: DataPlane, version: String, hostgroupPorts: [Int: Int], logger: Logger) {
        self.database = database
        self.dataPlane = dataPlane
        self.version = version
        self.hostgroupPorts = hostgroupPorts
        self.logger = logger
    }

    // MARK: Set-up

    /// Creates the tables; when `disk` holds a saved configuration, loads it into memory (as ProxySQL does on a
    /// restart), otherwise writes the initial configuration to memory and disk. Then loads memory into runtime.
    func bootstrap(users: [FrontendCredentials], initialVariables: [(String, String)]) throws {
        try database.executeScript(AdminSchema.installScript)
        let saved = try database.query("SELECT COUNT(*) FROM disk.global_variables").first?.first ?? "0"
        if saved == "0" {
            try database.replaceRows(
                of: "main.global_variables",
                columns: ["variable_name", "variable_value"],
                rows: initialVariables.map { [$0.0, $0.1] }
            )
            try database.replaceRows(
                of: "main.mysql_users",
                columns: ["username", "password", "active", "default_hostgroup", "transaction_persistent"],
                rows: users.map {
                    [
                        $0.username, $0.password, $0.active ? "1" : "0", String($0.defaultHostgroup),
                        $0.transactionPersistent ? "1" : "0",
                    ]
                }
            )
            try copy(AdminSchema.diskTables, from: "main", to: "disk")
        } else {
            try copy(AdminSchema.diskTables, from: "disk", to: "main")
        }
        try installCollations()
        try loadServersToRuntime()
        try loadUsersToRuntime()
        try loadVariablesToRuntime(prefix: nil)
        for module in AdminTables.modules where !["MYSQL SERVERS", "MYSQL USERS"].contains(module.command) {
            try loadModuleToRuntime(module)
        }
    }

    // MARK: Statements

    func execute(_ query: String) -> AdminReply {
        let normalized = Self.normalize(query)
        let upper = normalized.uppercased()
        do {
            if let reply = try command(normalized: normalized, upper: upper) { return reply }
            if upper.contains("STATS_MYSQL_CONNECTION_POOL") { try refreshConnectionPool() }
            if upper.contains("STATS_MYSQL_PROCESSLIST") { try refreshProcesslist() }
            if upper.contains("RUNTIME_MYSQL_SERVERS") { try refreshRuntimeServerStatuses() }
            try refreshQueryDigest(upper: upper)
            switch try database.execute(query) {
            case .rows(let columns, let rows): return .resultSet(columns: columns, rows: rows)
            case .done(let affected): return .ok(affectedRows: affected)
            }
        } catch let error as AdminSQLError {
            return .error("ProxySQL Admin Error: " + error.message)
        } catch {
            return .error("ProxySQL Admin Error: \(error)")
        }
    }

    /// Trims and collapses runs of whitespace (ProxySQL matches its commands on such a copy of the query).
    static func normalize(_ query: String) -> String {
        query.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    private func command(normalized: String, upper: String) throws -> AdminReply? {
        let words = upper.split(separator: " ").map(String.init)
        guard let first = words.first else { return nil }
        switch first {
        case "LOAD", "SAVE":
            return try loadOrSave(words)
        case "SELECT":
            if upper == "SELECT @@VERSION" || upper == "SELECT @@VERSION LIMIT 1" {
                return .resultSet(columns: ["@@version"], rows: [[version]])
            }
            if upper == "SELECT @@VERSION_COMMENT LIMIT 1" || upper == "SELECT @@VERSION_COMMENT" {
                return .resultSet(columns: ["@@version_comment"], rows: [["(ProxySQL Admin Module)"]])
            }
            return nil
        case "KILL":
            if words.count == 3, words[1] == "CONNECTION", let id = UInt32(words[2]) {
                if dataPlane.killSession(id) { return .ok(affectedRows: 0) }
                return .error("ProxySQL Admin Error: Unknown thread id: \(id)")
            }
            return nil
        case "SET":
            return try set(normalized)
        case "SHOW":
            if upper == "SHOW TABLES" || upper == "SHOW TABLES FROM MAIN" {
                let rows = try database.query(
                    "SELECT name FROM main.sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
                return .resultSet(columns: ["tables"], rows: rows)
            }
            if upper == "SHOW TABLES FROM STATS" || upper == "SHOW TABLES FROM DISK" {
                let schema = words[3].lowercased()
                let rows = try database.query(
                    "SELECT name FROM \(schema).sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
                return .resultSet(columns: ["tables"], rows: rows)
            }
            if upper == "SHOW DATABASES" {
                let rows = try database.query("SELECT seq, name, file FROM pragma_database_list")
                return .resultSet(columns: ["seq", "name", "file"], rows: rows)
            }
            return nil
        default:
            return nil
        }
    }

    private func loadOrSave(_ words: [String]) throws -> AdminReply? {
        // LOAD|SAVE <module words> <TO|FROM> <RUNTIME|RUN|MEMORY|MEM|DISK>
        guard words.count >= 4 else { return nil }
        let moduleWords = words[1..<(words.count - 2)].joined(separator: " ")
        let direction = words[0] + " " + words[words.count - 2] + " " + words[words.count - 1]
        let move: AdminMove
        switch direction {
        case "LOAD TO RUNTIME", "LOAD TO RUN", "LOAD FROM MEMORY", "LOAD FROM MEM": move = .memoryToRuntime
        case "SAVE TO MEMORY", "SAVE TO MEM", "SAVE FROM RUNTIME", "SAVE FROM RUN": move = .runtimeToMemory
        case "LOAD FROM DISK", "LOAD TO MEMORY", "LOAD TO MEM": move = .diskToMemory
        case "SAVE TO DISK", "SAVE FROM MEMORY", "SAVE FROM MEM": move = .memoryToDisk
        default: return nil
        }
        if moduleWords == "MYSQL VARIABLES" || moduleWords == "ADMIN VARIABLES" {
            try loadOrSaveVariables(prefix: moduleWords == "MYSQL VARIABLES" ? "mysql-" : "admin-", move)
            return .ok(affectedRows: 0)
        }
        guard let module = AdminTables.modules.first(where: { $0.command == moduleWords }) else { return nil }
        let names = module.tables.map(\.name)
        switch move {
        case .memoryToRuntime:
            switch module.command {
            case "MYSQL SERVERS": try loadServersToRuntime()
            case "MYSQL USERS": try loadUsersToRuntime()
            default: try loadModuleToRuntime(module)
            }
        case .runtimeToMemory:
            guard module.command != "COREDUMP" else { return nil }
            if module.command == "MYSQL USERS" {
                // ProxySQL marks every user inactive, then writes back the runtime's split rows.
                try database.transaction(
                    "UPDATE main.mysql_users SET active=0; "
                        + "INSERT OR REPLACE INTO main.mysql_users SELECT * FROM main.runtime_mysql_users;"
                )
            } else {
                try copy(names, runtimeToMain: true)
            }
        case .diskToMemory:
            guard module.hasDisk else { return nil }
            try copy(names, from: "disk", to: "main")
        case .memoryToDisk:
            guard module.hasDisk else { return nil }
            try copy(names, from: "main", to: "disk")
        }
        return .ok(affectedRows: 0)
    }

    private func loadOrSaveVariables(prefix: String, _ move: AdminMove) throws {
        switch move {
        case .memoryToRuntime: try loadVariablesToRuntime(prefix: prefix)
        case .runtimeToMemory:
            try database.transaction(
                "INSERT OR REPLACE INTO main.global_variables SELECT * FROM main.runtime_global_variables "
                    + "WHERE variable_name LIKE '\(prefix)%';"
            )
        case .diskToMemory:
            try database.transaction(
                "INSERT OR REPLACE INTO main.global_variables SELECT * FROM disk.global_variables "
                    + "WHERE variable_name LIKE '\(prefix)%';"
            )
        case .memoryToDisk:
            try database.transaction(
                "INSERT OR REPLACE INTO disk.global_variables SELECT * FROM main.global_variables "
                    + "WHERE variable_name LIKE '\(prefix)%';"
            )
        }
    }

    /// `SET mysql-name = value` updates `global_variables` (memory only, like ProxySQL); any other SET is accepted
    /// and ignored (clients send `SET NAMES ...` and the like).
    private func set(_ normalized: String) throws -> AdminReply {
        let body = normalized.dropFirst(4)
        guard let equals = body.firstIndex(of: "=") else { return .ok(affectedRows: 0) }
        let name = body[..<equals].trimmingSpaces.lowercased()
        guard name.hasPrefix("mysql-") || name.hasPrefix("admin-") else { return .ok(affectedRows: 0) }
        var value = body[body.index(after: equals)...].trimmingSpaces
        if value.count >= 2, let quote = value.first, quote == "'" || quote == "\"", value.last == quote {
            value = String(value.dropFirst().dropLast())
        }
        let exists = try database.query("SELECT 1 FROM main.global_variables WHERE variable_name = ?", [name])
        guard !exists.isEmpty else { return .ok(affectedRows: 0) }
        _ = try database.query(
            "UPDATE main.global_variables SET variable_value = ? WHERE variable_name = ?",
            [value, name]
        )
        return .ok(affectedRows: 1)
    }

    private func copy(_ tables: [String], from source: String, to destination: String) throws {
        var script = ""
        for table in tables {
            script += "DELETE FROM \(destination).\(table); INSERT INTO \(destination).\(table) SELECT * FROM \(source).\(table); "
        }
        try database.transaction(script)
    }

    // MARK: Runtime

    func loadServersToRuntime() throws {
        let rows = try database.query(
            "SELECT \(RuntimeServerConfig.columns.joined(separator: ", ")) FROM main.mysql_servers "
                + "ORDER BY hostgroup_id, rowid"
        )
        let configs = rows.compactMap(RuntimeServerConfig.init(row:))
        let visible = configs.filter { $0.status != .offlineHard }
        try database.replaceRows(of: "main.runtime_mysql_servers", columns: RuntimeServerConfig.columns, rows: visible.map(\.row))
        try copy(AdminSchema.serverTables.filter { $0 != "mysql_servers" }, mainToRuntime: true)
        dataPlane.loadServers(configs)
        try bumpChecksum("mysql_servers", table: "main.runtime_mysql_servers")
        // ProxySQL's peers pull these rows without the OFFLINE_HARD ones and compare checksums (issue #16).
        try bumpChecksum(
            "mysql_servers_v2",
            table: "main.mysql_servers WHERE UPPER(status) <> 'OFFLINE_HARD' ORDER BY hostgroup_id, hostname, port"
        )
        logger.debug("servers loaded to runtime", metadata: ["proxysql.servers": "\(visible.count)"])
    }

    func loadUsersToRuntime() throws {
        let rows = try database.query(
            "SELECT username, password, active, default_hostgroup, transaction_persistent FROM main.mysql_users "
                + "WHERE frontend = 1"
        )
        let users = rows.compactMap { row -> FrontendCredentials? in
            guard let name = row[0] else { return nil }
            return FrontendCredentials(
                username: name,
                password: row[1] ?? "",
                active: row[2] != "0",
                defaultHostgroup: row[3].flatMap { Int($0) } ?? 0,
                transactionPersistent: row[4] != "0"
            )
        }
        // ProxySQL's runtime keeps active users only, as a frontend row and a backend row each.
        let columns = AdminTables.mysqlUsers.columnNames
        let others = columns.filter { !["active", "backend", "frontend"].contains($0) }.joined(separator: ", ")
        let select = { (backend: Int, frontend: Int) in
            "INSERT OR REPLACE INTO main.runtime_mysql_users (\(others), active, backend, frontend) SELECT \(others), "
                + "1, \(backend), \(frontend) FROM main.mysql_users WHERE active = 1 AND "
                + (backend == 1 ? "backend = 1" : "frontend = 1") + "; "
        }
        try database.transaction("DELETE FROM main.runtime_mysql_users; " + select(0, 1) + select(1, 0))
        dataPlane.loadUsers(users)
        try bumpChecksum("mysql_users", table: "main.runtime_mysql_users")
    }

    /// Loads `global_variables` into the runtime (all prefixes when `prefix` is nil).
    func loadVariablesToRuntime(prefix: String?) throws {
        let rows = try database.query(
            "SELECT variable_name, variable_value FROM main.global_variables WHERE variable_name LIKE ?",
            [(prefix ?? "") + "%"]
        )
        var values: [String: String] = [:]
        for row in rows {
            if let name = row[0] { values[name] = row[1] ?? "" }
        }
        if prefix == nil || prefix == "mysql-" {
            let refused = dataPlane.loadVariables(values)
            if !refused.isEmpty {
                logger.info("variables refused at load", metadata: ["proxysql.variables": "\(refused)"])
            }
            // What the runtime now holds, including the old value of a refused variable.
            let effective = Dictionary(dataPlane.variables.rows, uniquingKeysWith: { first, _ in first })
            for (name, value) in effective { values[name] = value }
        }
        try database.transaction(
            "DELETE FROM main.runtime_global_variables WHERE variable_name LIKE '\(prefix ?? "")%';"
        )
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            _ = try database.query(
                "INSERT OR REPLACE INTO main.runtime_global_variables (variable_name, variable_value) VALUES (?, ?)",
                [name, value]
            )
        }
        for (checksumName, variablePrefix) in [("mysql_variables", "mysql-"), ("admin_variables", "admin-")]
        where prefix == nil || prefix == variablePrefix {
            try bumpChecksum(checksumName, table: "main.runtime_global_variables WHERE variable_name LIKE '\(variablePrefix)%'")
        }
    }

    private func refreshConnectionPool() throws {
        let rows = dataPlane.poolRows().map { row -> [String?] in
            [
                String(row.config.key.hostgroup), row.config.key.host, String(row.config.key.port),
                row.config.status.rawValue, String(row.used), String(row.free), String(row.connectionsOK),
                String(row.connectionsFailed), String(row.maxUsed), String(row.queries), "0", String(row.bytesSent),
                String(row.bytesReceived), "0",
            ]
        }
        try database.replaceRows(
            of: "stats.stats_mysql_connection_pool",
            columns: [
                "hostgroup", "srv_host", "srv_port", "status", "ConnUsed", "ConnFree", "ConnOK", "ConnERR",
                "MaxConnUsed", "Queries", "Queries_GTID_sync", "Bytes_data_sent", "Bytes_data_recv", "Latency_us",
            ],
            rows: rows
        )
    }

    private func refreshProcesslist() throws {
        let now = ContinuousClock.now
        let rows = dataPlane.sessionsSnapshot().map { session -> [String?] in
            let local = session.backend?.localAddress
            let elapsed = now - session.commandStarted
            return [
                "0", String(session.id), session.user, session.schema, session.clientHost, String(session.clientPort),
                String(session.hostgroup), local?.host, local.map { String($0.port) }, session.backend?.server.host,
                session.backend.map { String($0.server.port) }, session.command.rawValue, String(elapsed.wholeMilliseconds),
                session.info, String(session.pins.rawValue), nil,
            ]
        }
        try database.replaceRows(
            of: "stats.stats_mysql_processlist",
            columns: [
                "ThreadID", "SessionID", "user", "db", "cli_host", "cli_port", "hostgroup", "l_srv_host", "l_srv_port",
                "srv_host", "srv_port", "command", "time_ms", "info", "status_flags", "extended_info",
            ],
            rows: rows
        )
    }
}
