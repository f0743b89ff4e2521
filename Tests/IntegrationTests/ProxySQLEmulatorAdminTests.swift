@testable import CutoverSandbox
import Foundation
import MariaDB
import NIOCore
import NIOPosix
import Testing

/// The emulator's admin endpoint over TCP, with our client and the stock CLI. No backend is needed.
@Suite("ProxySQL emulator: admin endpoint")
struct ProxySQLEmulatorAdminTests {
    typealias Support = EmulatorTestSupport

    @Test("@@version is ProxySQL's, the handshake announces mysql-server_version, columns are VAR_STRING")
    func versionAndColumnTypes() async throws {
        try await Support.withEmulator { _, admin in
            #expect(admin.identity.versionString == "8.0.11")
            let version = try await admin.queryFirst("SELECT @@version")
            #expect(version?[0].string == "2.7.1-emulator")
            try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (10, '10.0.0.1', 3306)")
            let result = try await admin.execute("SELECT * FROM mysql_servers")
            let set = try #require(result.resultSets.first)
            #expect(set.columns.map(\.name) == [
                "hostgroup_id", "hostname", "port", "gtid_port", "status", "weight", "compression", "max_connections",
                "max_replication_lag", "use_ssl", "max_latency_ms", "comment",
            ])
            #expect(set.columns.allSatisfy { $0.type == .varString })
        }
    }

    @Test("mysql_servers has ProxySQL's defaults and CHECK constraints")
    func defaultsAndChecks() async throws {
        try await Support.withEmulator { _, admin in
            try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (10, 'db1')")
            let row = try #require(try await admin.queryFirst("SELECT * FROM mysql_servers"))
            #expect(row["port"]?.string == "3306")
            #expect(row["status"]?.string == "ONLINE")
            #expect(row["weight"]?.string == "1")
            #expect(row["max_connections"]?.string == "1000")
            #expect(row["gtid_port"]?.string == "0")
            #expect(row["comment"]?.string == "")

            let badStatus = await Support.mariaDBError {
                try await admin.run("UPDATE mysql_servers SET status = 'BROKEN'")
            }
            #expect(badStatus?.serverErrorNumber == 1045)
            #expect(badStatus?.sqlState == "28000")
            #expect(badStatus?.message?.hasPrefix("ProxySQL Admin Error: CHECK constraint failed: ") == true)
            #expect(badStatus?.message?.contains("UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', 'OFFLINE_HARD')") == true)

            let badPort = await Support.mariaDBError {
                try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (10, 'db2', 70000)")
            }
            #expect(badPort?.message?.contains("CHECK constraint failed: port >= 0 AND port <= 65535") == true)
            let badWeight = await Support.mariaDBError {
                try await admin.run("UPDATE mysql_servers SET weight = 10000001")
            }
            #expect(badWeight?.message?.contains("CHECK constraint failed") == true)

            let duplicate = await Support.mariaDBError {
                try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (10, 'db1')")
            }
            #expect(
                duplicate?.message
                    == "ProxySQL Admin Error: UNIQUE constraint failed: mysql_servers.hostgroup_id, mysql_servers.hostname, mysql_servers.port"
            )
            // Lower-case status passes the CHECK (it compares UPPER(status)) and is loaded as ONLINE.
            try await admin.run("UPDATE mysql_servers SET status = 'offline_soft'")
            try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            let runtime = try await admin.queryFirst("SELECT status FROM runtime_mysql_servers")
            #expect(runtime?[0].string == "OFFLINE_SOFT")
        }
    }

    @Test("errors: SQLite's message behind 1045/28000; a typo falls through to SQLite")
    func errorTexts() async throws {
        try await Support.withEmulator { _, admin in
            let cases: [(String, String)] = [
                ("SELEC 1", "ProxySQL Admin Error: near \"SELEC\": syntax error"),
                ("SELECT * FROM x", "ProxySQL Admin Error: no such table: x"),
                ("LOAD MYSQL SERVERS TO RUNTIM", "ProxySQL Admin Error: near \"LOAD\": syntax error"),
                ("SAVE MYSQL SERVER TO DISK", "ProxySQL Admin Error: near \"SAVE\": syntax error"),
            ]
            for (statement, expected) in cases {
                let error = await Support.mariaDBError { try await admin.run(SQLStatement(unsafeRaw: statement)) }
                #expect(error?.serverErrorNumber == 1045, "\(statement)")
                #expect(error?.sqlState == "28000", "\(statement)")
                #expect(error?.message == expected, "\(statement)")
            }
            // The connection is still usable after errors.
            let one = try await admin.queryFirst("SELECT 1")
            #expect(one?[0].string == "1")
        }
    }

    @Test("a wrong admin password is 1045/28000 with ProxySQL's access-denied text")
    func wrongPassword() async throws {
        try await Support.withEmulator { emulator, _ in
            var configuration = emulator.adminConfiguration
            configuration.password = "wrong"
            let error = await Support.mariaDBError { _ = try await MariaDBConnection.connect(configuration: configuration) }
            #expect(error?.serverErrorNumber == 1045)
            #expect(error?.sqlState == "28000")
            #expect(error?.message == "ProxySQL Error: Access denied for user 'admin'@'127.0.0.1' (using password: YES)")
            #expect(error?.isAccessDenied == true)
        }
    }

    @Test("runtime_mysql_servers changes only on LOAD, and OFFLINE_HARD servers are absent from it and from the pool stats")
    func runtimeOnlyOnLoad() async throws {
        try await Support.withEmulator { _, admin in
            try await admin.run(
                "INSERT INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (10, '127.0.0.1', 1, 'a'), (10, '127.0.0.1', 2, 'b'), (11, '127.0.0.1', 3, 'c')"
            )
            #expect(try await admin.query("SELECT * FROM runtime_mysql_servers").isEmpty)
            let loaded = try await admin.execute("LOAD MYSQL SERVERS TO RUNTIME")
            #expect(loaded.resultSets.isEmpty)
            #expect(loaded.affectedRows == 0)
            #expect(try await admin.query("SELECT * FROM runtime_mysql_servers").count == 3)

            let changed = try await admin.run("UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE port = 1")
            #expect(changed == 1)
            #expect(try await admin.run("UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE port = 2") == 1)
            #expect(try await admin.run("UPDATE mysql_servers SET weight = 5") == 3)
            let before = try await admin.query("SELECT port, status, weight FROM runtime_mysql_servers ORDER BY port")
            #expect(before.map { $0["status"]?.string } == ["ONLINE", "ONLINE", "ONLINE"])
            #expect(before.map { $0["weight"]?.string } == ["1", "1", "1"])

            try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            let after = try await admin.query("SELECT port, status, weight FROM runtime_mysql_servers ORDER BY port")
            #expect(after.map { $0["port"]?.string } == ["2", "3"])
            #expect(after.map { $0["status"]?.string } == ["OFFLINE_SOFT", "ONLINE"])
            #expect(after.map { $0["weight"]?.string } == ["5", "5"])
            let pool = try await admin.query(
                "SELECT hostgroup, srv_port, status, ConnUsed, ConnFree FROM stats_mysql_connection_pool ORDER BY srv_port"
            )
            #expect(pool.map { $0["srv_port"]?.string } == ["2", "3"])
            #expect(pool.map { $0["status"]?.string } == ["OFFLINE_SOFT", "ONLINE"])
            #expect(pool.allSatisfy { $0["ConnUsed"]?.string == "0" })
            let qualified = try await admin.query("SELECT * FROM stats.stats_mysql_connection_pool")
            #expect(qualified.count == 2)
            // Configured state keeps the OFFLINE_HARD row.
            #expect(try await admin.query("SELECT * FROM mysql_servers").count == 3)
        }
    }

    @Test("SAVE MYSQL SERVERS TO DISK writes disk.mysql_servers; LOAD ... FROM DISK and a restart read it back")
    func saveAndLoadDisk() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("emulator-disk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Support.withEmulator(dataDirectory: directory) { _, admin in
            try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (10, 'saved', 3306, 'kept')")
            #expect(try await admin.query("SELECT * FROM disk.mysql_servers").isEmpty)
            let saved = try await admin.execute("SAVE MYSQL SERVERS TO DISK")
            #expect(saved.resultSets.isEmpty)
            #expect(try await admin.query("SELECT hostname FROM disk.mysql_servers").map { $0[0].string } == ["saved"])
            try await admin.run("DELETE FROM mysql_servers")
            try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (10, 'unsaved')")
            try await admin.run("LOAD MYSQL SERVERS FROM DISK")
            #expect(try await admin.query("SELECT hostname FROM mysql_servers").map { $0[0].string } == ["saved"])
            try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (10, 'memory-only')")
        }
        // A restart loads the saved database, not the initial configuration.
        try await Support.withEmulator(dataDirectory: directory) { (_, admin) async throws in
            #expect(try await admin.query("SELECT hostname, comment FROM mysql_servers").map { $0[0].string } == ["saved"])
            #expect(try await admin.query("SELECT hostname FROM runtime_mysql_servers").map { $0[0].string } == ["saved"])
        }
    }

    @Test("mysql- variables: SET and UPDATE touch memory, LOAD MYSQL VARIABLES TO RUNTIME applies them")
    func variables() async throws {
        try await Support.withEmulator { _, admin in
            func value(_ table: String, _ name: String) async throws -> String? {
                try await admin.queryFirst("SELECT variable_value FROM \(unsafeRaw: table) WHERE variable_name = \(name)")?[0].string
            }
            #expect(try await value("global_variables", "mysql-connect_timeout_server_max") == "10000")
            #expect(try await value("global_variables", "mysql-query_retries_on_failure") == "1")
            #expect(try await value("global_variables", "mysql-auto_increment_delay_multiplex") == "5")
            #expect(try await value("global_variables", "mysql-auto_increment_delay_multiplex_timeout_ms") == "10000")
            #expect(try await value("runtime_global_variables", "admin-version") == "2.7.1-emulator")

            try await admin.run("SET mysql-connect_timeout_server_max = 2000")
            #expect(try await admin.run("UPDATE global_variables SET variable_value = '0' WHERE variable_name = 'mysql-query_retries_on_failure'") == 1)
            #expect(try await value("global_variables", "mysql-connect_timeout_server_max") == "2000")
            #expect(try await value("runtime_global_variables", "mysql-connect_timeout_server_max") == "10000")
            try await admin.run("LOAD MYSQL VARIABLES TO RUNTIME")
            #expect(try await value("runtime_global_variables", "mysql-connect_timeout_server_max") == "2000")
            #expect(try await value("runtime_global_variables", "mysql-query_retries_on_failure") == "0")
            try await admin.run("SAVE MYSQL VARIABLES TO DISK")
            #expect(try await value("disk.global_variables", "mysql-connect_timeout_server_max") == "2000")
        }
    }

    @Test("hostile literals quoted for the admin dialect stay literals; MySQL-style escaping is an injection there")
    func hostileLiterals() async throws {
        try await Support.withEmulator { _, admin in
            try await admin.run(
                "INSERT INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (10, 'a', 1, 'one'), (10, 'b', 2, 'two')"
            )
            for hostile in ["x' OR 1=1 --", "x\\' OR 1=1 --", "x\\'); DELETE FROM mysql_servers; --", "\"; DROP TABLE mysql_servers"] {
                let changed = try await admin.run("UPDATE mysql_servers SET comment = \(hostile) WHERE hostname = 'a'")
                #expect(changed == 1, "\(hostile)")
                let comments = try await admin.query("SELECT hostname, comment FROM mysql_servers ORDER BY hostname")
                #expect(comments.map { $0["comment"]?.string } == [hostile, "two"], "\(hostile)")
                let found = try await admin.query("SELECT hostname FROM mysql_servers WHERE comment = \(hostile)")
                #expect(found.map { $0[0].string } == ["a"])
            }
            // The same value escaped the way `mysql_real_escape_string` does (backslash before the quote) breaks out
            // of the literal on the admin interface, as on ProxySQL. (Our own MySQL quoting doubles the quote instead,
            // which SQLite reads correctly.)
            let mysqlQuoted = "'x\\' OR 1=1 --'"
            let changed = try await admin.run(SQLStatement(unsafeRaw: "UPDATE mysql_servers SET comment = 'pwned' WHERE comment = \(mysqlQuoted)"))
            #expect(changed == 2)
        }
    }

    @Test("prepared statements are refused like ProxySQL's admin; unknown commands get a clear error")
    func preparedStatementRefused() async throws {
        try await Support.withEmulator { emulator, _ in
            let connection = try await BackendConnection.connect(
                id: 1,
                server: ServerKey(hostgroup: 0, host: "127.0.0.1", port: emulator.adminPort),
                user: "admin",
                password: Support.adminPassword,
                schema: nil,
                timeout: .seconds(5),
                group: MultiThreadedEventLoopGroup.singleton
            )
            defer { connection.close() }
            var prepare = ByteBuffer()
            prepare.writeInteger(UInt8(0x16))
            prepare.writeString("SELECT * FROM mysql_servers WHERE hostname = ?")
            let refused = try await connection.send(prepare)
            #expect(refused.error?.code == 1045)
            #expect(refused.error?.sqlState == "28000")
            #expect(refused.error?.message == "Command not supported")

            var fieldList = ByteBuffer()
            fieldList.writeInteger(UInt8(0x04))
            fieldList.writeString("mysql_servers\0")
            let unknown = try await connection.send(fieldList)
            #expect(unknown.error?.message.contains("COM_FIELD_LIST is not supported") == true)

            let stillUsable = try await connection.query("SELECT COUNT(*) FROM mysql_servers")
            #expect(stillUsable.error == nil)
        }
    }

    @Test("the stock mariadb CLI talks to the admin port")
    func stockCLI() async throws {
        guard Support.cliAvailable else {
            Issue.record("the mariadb client is missing: apt-get install mariadb-client")
            return
        }
        try await Support.withEmulator { emulator, admin in
            try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (10, 'cli-host', 3306)")
            let result = try await Support.runCLI(
                port: emulator.adminPort,
                user: "admin",
                password: Support.adminPassword,
                sql: "SELECT @@version; SELECT hostname, port FROM mysql_servers; LOAD MYSQL SERVERS TO RUNTIME; SELECT COUNT(*) FROM runtime_mysql_servers"
            )
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output == "2.7.1-emulator\ncli-host\t3306\n1\n")
            let denied = try await Support.runCLI(port: emulator.adminPort, user: "admin", password: "nope", sql: "SELECT 1")
            #expect(denied.status != 0)
            #expect(denied.error.contains("ERROR 1045 (28000): ProxySQL Error: Access denied for user 'admin'@'127.0.0.1'"))
        }
    }
}
