@testable import CutoverSandbox
import Foundation
import MariaDB
import Testing

/// The application port against real MariaDB backends: server 0 is the writer (hostgroup 10, the user's
/// `default_hostgroup`), server 1 the reader (hostgroup 20), and the published read/write split is loaded as query
/// rules. `SELECT id FROM whoami` names the backend that ran it.
@Suite("ProxySQL emulator: application port (query rules)", .integration, .mariaDBSandbox(servers: 2))
struct ProxySQLEmulatorApplicationPortTests {
    typealias Fixture = DataPlaneFixture

    private static func withSplit(_ body: (Fixture) async throws -> Void) async throws {
        try await Fixture.with(statuses: ["ONLINE", "ONLINE"], hostgroups: [10, 20], applicationPort: true) { fixture in
            try await fixture.admin.run(
                "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply) "
                    + "VALUES (1, 1, '^SELECT.*FOR UPDATE', 10, 1), (2, 1, '^SELECT', 20, 1)"
            )
            try await fixture.admin.run("LOAD MYSQL QUERY RULES TO RUNTIME")
            try await body(fixture)
        }
    }

    @Test("reads go to the readers, writes and locking reads to the writer's default hostgroup")
    func readWriteSplit() async throws {
        try await Self.withSplit { fixture in
            let client = try await fixture.applicationClient()
            defer { Task { await client.close() } }
            #expect(try await Fixture.backend(of: client) == 1)
            #expect(try await client.queryFirst("SELECT id FROM whoami FOR UPDATE")?[0].string == "0")
            #expect(try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1") == 1)
            #expect(try await fixture.counter(on: 0) == 1)
            #expect(try await fixture.counter(on: 1) == 0)
        }
    }

    @Test("transaction_persistent: a transaction's reads stay on the writer until COMMIT, then go to the readers")
    func transactionPersistent() async throws {
        try await Self.withSplit { fixture in
            let client = try await fixture.applicationClient()
            defer { Task { await client.close() } }
            try await client.run("BEGIN")
            try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(try await Fixture.backend(of: client) == 0, "the transaction's read is on the writer")
            #expect(try await client.queryFirst("SELECT n FROM counter WHERE id = 1")?[0].string == "1")
            try await client.run("COMMIT")
            #expect(try await Fixture.backend(of: client) == 1, "after COMMIT reads go to the readers")
        }
    }

    @Test("a transaction opened by a read is held in the readers, its writes too (ProxySQL's own behaviour)")
    func readFirstTransaction() async throws {
        try await Self.withSplit { fixture in
            let client = try await fixture.applicationClient()
            defer { Task { await client.close() } }
            try await client.run("START TRANSACTION READ ONLY")  // not a SELECT: the default hostgroup, the writer
            #expect(try await Fixture.backend(of: client) == 0, "inside the transaction: still the writer")
            try await client.run("COMMIT")
            try await client.run("SET autocommit = 0")
            #expect(try await Fixture.backend(of: client) == 1, "this SELECT opens a transaction on the reader")
            #expect(try await client.run("UPDATE counter SET n = n + 1 WHERE id = 2") == 1)
            try await client.run("COMMIT")
            #expect(try await fixture.counter(on: 1, id: 2) == 1, "the write ran on the reader")
            #expect(try await fixture.counter(on: 0, id: 2) == 0)
        }
    }

    @Test("LOAD MYSQL QUERY RULES TO RUNTIME routes the next statement of an open session by the new rules")
    func rulesReload() async throws {
        try await Self.withSplit { fixture in
            let client = try await fixture.applicationClient()
            defer { Task { await client.close() } }
            #expect(try await Fixture.backend(of: client) == 1)
            try await fixture.admin.run("UPDATE mysql_query_rules SET active = 0 WHERE rule_id = 2")
            try await fixture.admin.run("LOAD MYSQL QUERY RULES TO RUNTIME")
            #expect(try await Fixture.backend(of: client) == 0, "no rule: the user's default_hostgroup")
            try await fixture.admin.run("UPDATE mysql_users SET default_hostgroup = 20")
            try await fixture.admin.run("LOAD MYSQL USERS TO RUNTIME")
            let fresh = try await fixture.applicationClient()
            defer { Task { await fresh.close() } }
            #expect(try await Fixture.backend(of: fresh) == 1, "a new session takes the new default_hostgroup")
        }
    }

    @Test("the hostgroup ports keep routing by port; the application port is listed in mysql-interfaces")
    func portsCoexist() async throws {
        try await Self.withSplit { fixture in
            let byPort = try await fixture.client()
            defer { Task { await byPort.close() } }
            #expect(try await Fixture.backend(of: byPort) == 0, "hostgroup 10's port ignores the rules")
            let interfaces = try await fixture.admin.queryFirst(
                "SELECT variable_value FROM global_variables WHERE variable_name = 'mysql-interfaces'")
            let port = try #require(fixture.emulator.applicationPort)
            #expect(interfaces?[0].string?.hasPrefix("127.0.0.1:\(port);") == true)
        }
    }

    @Test("SELECT LAST_INSERT_ID() after an INSERT: answered by the proxy when unpinned, run on the writer while pinned; other forms follow the rules")
    func lastInsertID() async throws {
        try await Self.withSplit { fixture in
            try await fixture.setVariable("mysql-auto_increment_delay_multiplex", "0")
            let client = try await fixture.applicationClient()
            defer { Task { await client.close() } }
            try await client.run("INSERT INTO items (v) VALUES (1), (2)")
            try await client.run("INSERT INTO items (v) VALUES (3)")
            // Unpinned (no auto-increment delay): the simple form is answered from the session's last insert id.
            #expect(try await client.queryFirst("SELECT LAST_INSERT_ID()")?[0].string == "3")
            #expect(try await client.queryFirst("select last_insert_id() limit 1")?[0].string == "3")
            // Any other form goes where the rules send it: a reader connection, whose LAST_INSERT_ID() is its own.
            #expect(try await client.queryFirst("SELECT LAST_INSERT_ID() AS id")?[0].string == "0")
            try await fixture.setVariable("mysql-auto_increment_delay_multiplex", "5")
            try await client.run("INSERT INTO items (v) VALUES (4)")
            // Pinned to the writer's connection by the delay: the statement runs there, whatever the rules say.
            #expect(try await client.queryFirst("SELECT LAST_INSERT_ID() AS id")?[0].string == "4")
            #expect(try await fixture.counter(on: 1, id: 1) == 0, "nothing was written on the reader")
        }
    }
}
