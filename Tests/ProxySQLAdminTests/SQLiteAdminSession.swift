import Foundation
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

/// SQLite, loaded at run time from `libsqlite3.so.0` (Debian `libsqlite3-0`, pulled in by `libsqlite3-dev`),
/// to check what our statements do under SQLite's own rules: the rules ProxySQL's admin interface applies.
/// Loaded with `dlopen` so the test target needs no extra module or package.
struct SQLiteLibrary: @unchecked Sendable {
    typealias Open = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias Close = @convention(c) (OpaquePointer?) -> Int32
    typealias Prepare =
        @convention(c) (
            OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<OpaquePointer?>?,
            UnsafeMutablePointer<UnsafePointer<CChar>?>?
        ) -> Int32
    typealias Step = @convention(c) (OpaquePointer?) -> Int32
    typealias ColumnCount = @convention(c) (OpaquePointer?) -> Int32
    typealias ColumnName = @convention(c) (OpaquePointer?, Int32) -> UnsafePointer<CChar>?
    typealias ColumnType = @convention(c) (OpaquePointer?, Int32) -> Int32
    typealias ColumnText = @convention(c) (OpaquePointer?, Int32) -> UnsafePointer<UInt8>?
    typealias ColumnBytes = @convention(c) (OpaquePointer?, Int32) -> Int32
    typealias Changes = @convention(c) (OpaquePointer?) -> Int32
    typealias ErrorMessage = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?

    let open: Open
    let close: Close
    let prepare: Prepare
    let step: Step
    let finalize: Step
    let columnCount: ColumnCount
    let columnName: ColumnName
    let columnType: ColumnType
    let columnText: ColumnText
    let columnBytes: ColumnBytes
    let changes: Changes
    let errorMessage: ErrorMessage

    static let shared: SQLiteLibrary? = {
        guard let handle = dlopen("libsqlite3.so.0", RTLD_NOW) ?? dlopen("libsqlite3.so", RTLD_NOW) else { return nil }
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: type) }
        }
        guard let open = symbol("sqlite3_open", as: Open.self),
            let close = symbol("sqlite3_close", as: Close.self),
            let prepare = symbol("sqlite3_prepare_v2", as: Prepare.self),
            let step = symbol("sqlite3_step", as: Step.self),
            let finalize = symbol("sqlite3_finalize", as: Step.self),
            let columnCount = symbol("sqlite3_column_count", as: ColumnCount.self),
            let columnName = symbol("sqlite3_column_name", as: ColumnName.self),
            let columnType = symbol("sqlite3_column_type", as: ColumnType.self),
            let columnText = symbol("sqlite3_column_text", as: ColumnText.self),
            let columnBytes = symbol("sqlite3_column_bytes", as: ColumnBytes.self),
            let changes = symbol("sqlite3_changes", as: Changes.self),
            let errorMessage = symbol("sqlite3_errmsg", as: ErrorMessage.self)
        else { return nil }
        return SQLiteLibrary(
            open: open, close: close, prepare: prepare, step: step, finalize: finalize, columnCount: columnCount,
            columnName: columnName, columnType: columnType, columnText: columnText, columnBytes: columnBytes,
            changes: changes, errorMessage: errorMessage
        )
    }()

    static var isAvailable: Bool { shared != nil }

    /// Whether tests that need SQLite run: when it is available, or when `REQUIRE_INTEGRATION=1` demands it
    /// (they then fail with a clear error instead of being skipped).
    static var isRequired: Bool {
        isAvailable || ProcessInfo.processInfo.environment["REQUIRE_INTEGRATION"] == "1"
    }

    static let skipReason: Comment = "needs libsqlite3 (apt-get install libsqlite3-0)"
}

/// An in-memory SQLite database.
final class SQLiteDatabase: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        /// SQLite's message (`near "SELEC": syntax error`, `CHECK constraint failed: ...`).
        var message: String
        var description: String { message }
    }

    /// The rows of the last statement of a script, every cell as text bytes (nil for NULL), and the changes it
    /// made.
    struct Output {
        var columns: [String] = []
        var rows: [[SQLValue]] = []
        var changes: UInt64 = 0
    }

    private let sqlite: SQLiteLibrary
    private let handle: OpaquePointer
    private let lock = Mutex(())

    init() throws {
        guard let sqlite = SQLiteLibrary.shared else { throw Failure(message: "libsqlite3 is not installed") }
        var handle: OpaquePointer?
        guard sqlite.open(":memory:", &handle) == 0, let handle else { throw Failure(message: "sqlite3_open failed") }
        self.sqlite = sqlite
        self.handle = handle
    }

    deinit {
        _ = sqlite.close(handle)
    }

    /// Runs every statement of `script`, stopping at the first error.
    func run(_ script: String) throws -> Output {
        try lock.withLock { _ in
            var output = Output()
            let bytes = Array(script.utf8CString)
            try bytes.withUnsafeBufferPointer { buffer in
                var cursor: UnsafePointer<CChar>? = buffer.baseAddress
                let end = buffer.baseAddress! + buffer.count - 1
                while let start = cursor, start < end {
                    var statement: OpaquePointer?
                    var tail: UnsafePointer<CChar>?
                    guard sqlite.prepare(handle, start, Int32(end - start), &statement, &tail) == 0 else {
                        throw failure()
                    }
                    cursor = tail
                    guard let statement else { continue }  // whitespace or a comment
                    defer { _ = sqlite.finalize(statement) }
                    var result = Output()
                    let count = sqlite.columnCount(statement)
                    result.columns = (0..<count).map { String(cString: sqlite.columnName(statement, $0)!) }
                    while true {
                        let code = sqlite.step(statement)
                        if code == 101 { break }  // SQLITE_DONE
                        guard code == 100 else { throw failure() }  // SQLITE_ROW
                        result.rows.append(
                            (0..<count).map { column in
                                guard sqlite.columnType(statement, column) != 5,
                                    let text = sqlite.columnText(statement, column)
                                else { return .null }  // SQLITE_NULL
                                let length = Int(sqlite.columnBytes(statement, column))
                                return SQLValue(bytes: Array(UnsafeBufferPointer(start: text, count: length)))
                            })
                    }
                    result.changes = count == 0 ? UInt64(sqlite.changes(handle)) : 0
                    output = result
                }
            }
            return output
        }
    }

    private func failure() -> Failure {
        Failure(message: sqlite.errorMessage(handle).map { String(cString: $0) } ?? "unknown SQLite error")
    }

    /// A ProxySQL-like admin schema.
    static func proxySQLAdmin() throws -> SQLiteDatabase {
        let database = try SQLiteDatabase()
        _ = try database.run(proxySQLSchema)
        return database
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
    let database: SQLiteDatabase
    let dialect: SQLDialect = .proxySQLAdmin
    let endpointDescription = "sqlite-admin"
    private let log = Mutex<[String]>([])

    init() throws {
        database = try SQLiteDatabase.proxySQLAdmin()
    }

    /// Every statement received, rendered.
    var receivedStatements: [String] { log.withLock { $0 } }

    /// Runs trusted SQL directly (setup, inspection), bypassing the admin error mapping.
    @discardableResult
    func direct(_ script: String) throws -> SQLiteDatabase.Output {
        try database.run(script)
    }

    func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        let sql = statement.rendered(for: dialect)
        log.withLock { $0.append(sql) }
        let command = sql.uppercased().trimmingCharacters(in: .whitespaces)
        switch command {
        case "LOAD MYSQL SERVERS TO RUNTIME":
            try admin(
                """
                DELETE FROM runtime_mysql_servers;
                INSERT INTO runtime_mysql_servers SELECT hostgroup_id, hostname, port, gtid_port, UPPER(status), weight, compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment FROM mysql_servers WHERE UPPER(status) <> 'OFFLINE_HARD';
                DELETE FROM runtime_mysql_replication_hostgroups;
                INSERT INTO runtime_mysql_replication_hostgroups SELECT * FROM mysql_replication_hostgroups;
                """)
            return SQLResult()
        case "LOAD MYSQL VARIABLES TO RUNTIME":
            try admin(
                "DELETE FROM runtime_global_variables; INSERT INTO runtime_global_variables SELECT * FROM global_variables;"
            )
            return SQLResult()
        case "SAVE MYSQL SERVERS TO DISK", "SAVE MYSQL VARIABLES TO DISK":
            return SQLResult()
        case "SELECT @@VERSION":
            return SQLResult(resultSets: [ResultSet(columnNames: ["@@version"], rows: [["2.7.1-sqlite-fixture"]])])
        default:
            break
        }
        if command.hasPrefix("KILL CONNECTION ") {
            throw Self.adminError("Unknown thread id: \(sql.dropFirst("KILL CONNECTION ".count))")
        }
        let output = try admin(sql)
        if output.columns.isEmpty { return SQLResult(affectedRows: output.changes) }
        let resultSet = ResultSet(columns: output.columns.map { ColumnMetadata(name: $0) }, rows: output.rows)
        return SQLResult(resultSets: [resultSet])
    }

    @discardableResult
    private func admin(_ script: String) throws -> SQLiteDatabase.Output {
        do {
            return try database.run(script)
        } catch let failure as SQLiteDatabase.Failure {
            throw Self.adminError(failure.message)
        }
    }

    static func adminError(_ message: String) -> MariaDBError {
        MariaDBError(
            code: .server,
            serverErrorNumber: 1045,
            sqlState: "28000",
            message: ProxySQLAdminError.adminErrorPrefix + message,
            endpoint: "sqlite-admin"
        )
    }
}
