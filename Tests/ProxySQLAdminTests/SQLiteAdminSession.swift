import Foundation
import MariaDB
import ProxySQLAdmin
import Synchronization

/// Runs SQL through the `sqlite3` shell (Debian package `sqlite3`) on a database file, to check what our
/// statements do under SQLite's own rules: the same rules ProxySQL's admin interface applies.
enum SQLiteShell {
    static let path = "/usr/bin/sqlite3"

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: path) }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `script` on `database` (`:memory:` or a file) with JSON output.
    static func run(_ script: String, database: String) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-json", "-bail", database]
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        input.fileHandleForWriting.write(Data(script.utf8))
        try input.fileHandleForWriting.close()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    /// Parses one JSON result of the shell into rows of text cells keyed by column (every value as text, as
    /// ProxySQL's admin interface sends them).
    static func rows(_ json: String) throws -> [[String: String?]] {
        let trimmed = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return [] }
        let objects = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [[String: Any]] ?? []
        return objects.map { object in
            object.mapValues { value -> String? in
                switch value {
                case is NSNull: nil
                case let string as String: string
                case let number as NSNumber: number.stringValue
                default: "\(value)"
                }
            }
        }
    }

    /// The tables the admin client uses, with ProxySQL 2.x's column types, defaults and CHECK constraints.
    static let proxySQLSchema = """
        CREATE TABLE mysql_servers (hostgroup_id INT CHECK (hostgroup_id>=0) NOT NULL DEFAULT 0, hostname VARCHAR NOT NULL, port INT CHECK (port >= 0 AND port <= 65535) NOT NULL DEFAULT 3306, gtid_port INT CHECK ((gtid_port <> port OR gtid_port=0) AND gtid_port >= 0 AND gtid_port <= 65535) NOT NULL DEFAULT 0, status VARCHAR CHECK (UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', 'OFFLINE_HARD')) NOT NULL DEFAULT 'ONLINE', weight INT CHECK (weight >= 0 AND weight <=10000000) NOT NULL DEFAULT 1, compression INT CHECK (compression IN(0,1)) NOT NULL DEFAULT 0, max_connections INT CHECK (max_connections >=0) NOT NULL DEFAULT 1000, max_replication_lag INT CHECK (max_replication_lag >= 0 AND max_replication_lag <= 126144000) NOT NULL DEFAULT 0, use_ssl INT CHECK (use_ssl IN(0,1)) NOT NULL DEFAULT 0, max_latency_ms INT UNSIGNED CHECK (max_latency_ms>=0) NOT NULL DEFAULT 0, comment VARCHAR NOT NULL DEFAULT '', PRIMARY KEY (hostgroup_id, hostname, port));
        CREATE TABLE runtime_mysql_servers (hostgroup_id INT CHECK (hostgroup_id>=0) NOT NULL DEFAULT 0, hostname VARCHAR NOT NULL, port INT CHECK (port >= 0 AND port <= 65535) NOT NULL DEFAULT 3306, gtid_port INT CHECK ((gtid_port <> port OR gtid_port=0) AND gtid_port >= 0 AND gtid_port <= 65535) NOT NULL DEFAULT 0, status VARCHAR CHECK (UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', 'OFFLINE_HARD')) NOT NULL DEFAULT 'ONLINE', weight INT CHECK (weight >= 0 AND weight <=10000000) NOT NULL DEFAULT 1, compression INT CHECK (compression IN(0,1)) NOT NULL DEFAULT 0, max_connections INT CHECK (max_connections >=0) NOT NULL DEFAULT 1000, max_replication_lag INT CHECK (max_replication_lag >= 0 AND max_replication_lag <= 126144000) NOT NULL DEFAULT 0, use_ssl INT CHECK (use_ssl IN(0,1)) NOT NULL DEFAULT 0, max_latency_ms INT UNSIGNED CHECK (max_latency_ms>=0) NOT NULL DEFAULT 0, comment VARCHAR NOT NULL DEFAULT '', PRIMARY KEY (hostgroup_id, hostname, port));
        CREATE TABLE mysql_replication_hostgroups (writer_hostgroup INT CHECK (writer_hostgroup>=0) NOT NULL PRIMARY KEY, reader_hostgroup INT NOT NULL CHECK (reader_hostgroup<>writer_hostgroup AND reader_hostgroup>=0), check_type VARCHAR CHECK (LOWER(check_type) IN ('read_only','innodb_read_only','super_read_only','read_only|innodb_read_only','read_only&innodb_read_only')) NOT NULL DEFAULT 'read_only', comment VARCHAR NOT NULL DEFAULT '', UNIQUE (reader_hostgroup));
        CREATE TABLE runtime_mysql_replication_hostgroups (writer_hostgroup INT CHECK (writer_hostgroup>=0) NOT NULL PRIMARY KEY, reader_hostgroup INT NOT NULL CHECK (reader_hostgroup<>writer_hostgroup AND reader_hostgroup>=0), check_type VARCHAR CHECK (LOWER(check_type) IN ('read_only','innodb_read_only','super_read_only','read_only|innodb_read_only','read_only&innodb_read_only')) NOT NULL DEFAULT 'read_only', comment VARCHAR NOT NULL DEFAULT '', UNIQUE (reader_hostgroup));
        CREATE TABLE global_variables (variable_name VARCHAR NOT NULL PRIMARY KEY, variable_value VARCHAR NOT NULL);
        CREATE TABLE runtime_global_variables (variable_name VARCHAR NOT NULL PRIMARY KEY, variable_value VARCHAR NOT NULL);
        CREATE TABLE stats_mysql_connection_pool (hostgroup INT, srv_host VARCHAR, srv_port INT, status VARCHAR, ConnUsed INT, ConnFree INT, ConnOK INT, ConnERR INT, MaxConnUsed INT, Queries INT, Queries_GTID_sync INT, Bytes_data_sent INT, Bytes_data_recv INT, Latency_us INT);
        CREATE TABLE stats_mysql_processlist (ThreadID INT NOT NULL, SessionID INTEGER PRIMARY KEY, user VARCHAR, db VARCHAR, cli_host VARCHAR, cli_port INT, hostgroup INT, l_srv_host VARCHAR, l_srv_port INT, srv_host VARCHAR, srv_port INT, command VARCHAR, time_ms INT NOT NULL, info VARCHAR, status_flags INT, extended_info VARCHAR);
        INSERT INTO global_variables VALUES ('mysql-query_retries_on_failure', '1'), ('mysql-auto_increment_delay_multiplex', '5'), ('mysql-connect_timeout_server_max', '10000');
        INSERT INTO runtime_global_variables SELECT * FROM global_variables;
        """
}

/// A ``SQLSession`` over a SQLite database with ProxySQL's admin schema, answering the way ProxySQL's admin
/// interface does: every value as text, every error as 1045/28000 `ProxySQL Admin Error: <SQLite's message>`,
/// true affected-row counts, and `LOAD MYSQL SERVERS TO RUNTIME` copying the configuration to the runtime
/// tables without `OFFLINE_HARD` rows. A test double for SQL validity and quoting, not an emulator: no data
/// plane, no pool statistics beyond what a test inserts.
final class SQLiteAdminSession: SQLSession, Sendable {
    let database: String
    let dialect: SQLDialect = .proxySQLAdmin
    let endpointDescription = "sqlite-admin"
    private let log = Mutex<[String]>([])

    init() throws {
        database = NSTemporaryDirectory() + "proxysql-admin-\(UInt64.random(in: 0...UInt64.max)).db"
        let output = try SQLiteShell.run(SQLiteShell.proxySQLSchema, database: database)
        precondition(output.status == 0, "schema failed: \(output.stderr)")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: database)
    }

    /// Every statement received, rendered.
    var receivedStatements: [String] { log.withLock { $0 } }

    /// Runs trusted setup SQL directly.
    func setUp(_ script: String) throws {
        let output = try SQLiteShell.run(script, database: database)
        precondition(output.status == 0, "setup failed: \(output.stderr)")
    }

    func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        let sql = statement.rendered(for: dialect)
        log.withLock { $0.append(sql) }
        let command = sql.uppercased().trimmingCharacters(in: .whitespaces)
        switch command {
        case "LOAD MYSQL SERVERS TO RUNTIME":
            _ = try shell("""
                DELETE FROM runtime_mysql_servers;
                INSERT INTO runtime_mysql_servers SELECT hostgroup_id, hostname, port, gtid_port, UPPER(status), weight, compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment FROM mysql_servers WHERE UPPER(status) <> 'OFFLINE_HARD';
                DELETE FROM runtime_mysql_replication_hostgroups;
                INSERT INTO runtime_mysql_replication_hostgroups SELECT * FROM mysql_replication_hostgroups;
                """)
            return SQLResult()
        case "LOAD MYSQL VARIABLES TO RUNTIME":
            _ = try shell("DELETE FROM runtime_global_variables; INSERT INTO runtime_global_variables SELECT * FROM global_variables;")
            return SQLResult()
        case "SAVE MYSQL SERVERS TO DISK", "SAVE MYSQL VARIABLES TO DISK":
            return SQLResult()
        case "SELECT @@VERSION":
            return SQLResult(resultSets: [ResultSet(columnNames: ["@@version"], rows: [["2.7.1-sqlite-fixture"]])])
        default:
            break
        }
        if command.hasPrefix("KILL CONNECTION ") {
            throw Self.adminError("Unknown thread id: \(sql.dropFirst("KILL CONNECTION ".count))", sql: sql)
        }
        if command.hasPrefix("SELECT ") {
            let rows = try SQLiteShell.rows(try shell(sql + ";"))
            let columns = rows.first.map { Array($0.keys).sorted() } ?? []
            let cells = rows.map { row in columns.map { row[$0] ?? nil } }
            return SQLResult(resultSets: [ResultSet(columnNames: columns, rows: cells)])
        }
        let rows = try SQLiteShell.rows(try shell(sql + ";\nSELECT changes() AS n;"))
        let changed = rows.first?["n"].flatMap { $0 }.flatMap { UInt64($0) } ?? 0
        return SQLResult(affectedRows: changed)
    }

    private func shell(_ script: String) throws -> String {
        let output = try SQLiteShell.run(script, database: database)
        guard output.status == 0 else {
            // "Parse error near line 1: near "SELEC": syntax error" / "Runtime error ...: CHECK constraint failed: x (19)"
            var message = output.stderr.split(separator: "\n").first.map(String.init) ?? output.stderr
            if let colon = message.firstRange(of: ": ") { message = String(message[colon.upperBound...]) }
            if let code = message.range(of: #" \(\d+\)$"#, options: .regularExpression) {
                message = String(message[..<code.lowerBound])
            }
            throw Self.adminError(message, sql: script)
        }
        return output.stdout
    }

    static func adminError(_ message: String, sql: String) -> MariaDBError {
        MariaDBError(
            code: .server,
            serverErrorNumber: 1045,
            sqlState: "28000",
            message: ProxySQLAdminError.adminErrorPrefix + message,
            endpoint: "sqlite-admin"
        )
    }
}
