@testable import CutoverSandbox
import Foundation
import MariaDB
import Testing

/// Errors on an **open** backend connection and SHUNNED, as on ProxySQL 2.7.1 (#14 item 7). Read in
/// `lib/MySQL_Session.cpp`: `MySQL_Session::handler` (a failed query: 2000–2999 → `handler_minus1_ClientLibraryError`,
/// others → `handler_minus1_HandleErrorCodes`) and `handler_minus1_HandleErrorCodes` (1047 and 1053 call
/// `MySrvC::connect_error`, the connection is destroyed, the statement is retried when `query_retries_on_failure`
/// allows and the session is not pinned nor in a transaction, otherwise the client gets 2013 from
/// `MySQL_Result_to_MySQL_wire` with no connection); `lib/MySrvC.cpp` `MySrvC::connect_error` (counts `ConnERR` and
/// the per-second errors that shun). A backend answers 1053 here through MariaDB's `SIGNAL ... SET MYSQL_ERRNO`,
/// exactly the bytes a server shutting down sends a running query.
@Suite("ProxySQL emulator: errors on open connections and SHUNNED", .integration, .mariaDBSandbox(servers: 1))
struct ProxySQLEmulatorGoingAwayTests {
    typealias Fixture = DataPlaneFixture
    typealias HeldSecond = ProxySQLEmulatorShunningTests.HeldSecond

    static func signal(_ code: Int, _ text: String) -> String {
        "SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = \(code), MESSAGE_TEXT = '\(text)'"
    }

    static func server(_ fixture: Fixture) async throws -> (runtime: String?, pool: String?, connectErrors: Int?) {
        let port = fixture.servers[0].port
        let runtime = try await fixture.admin.queryFirst(
            "SELECT status FROM runtime_mysql_servers WHERE hostgroup_id = 10 AND port = \(port)")?[0].string
        let pool = try await fixture.admin.queryFirst(
            "SELECT status, ConnERR FROM stats_mysql_connection_pool WHERE hostgroup = 10 AND srv_port = \(port)")
        return (runtime, pool?[0].string, pool?[1].string.flatMap { Int($0) })
    }

    @Test("1053 'Server shutdown in progress' on open connections counts like a failed connect: the statement is re-sent once (query_retries_on_failure 1), then the client gets 2013 and stays connected; 5 such errors in one second shun the server")
    func shutdownErrorsShun() async throws {
        let second = HeldSecond()
        try await Fixture.with(
            statuses: ["ONLINE"], variables: ProxySQLEmulatorShunningTests.generousTimeouts, shunClock: second.clock
        ) { fixture in
            let client = try await fixture.rawClient()
            defer { client.close() }
            // Statement 1: 1053, re-sent on a new connection, 1053 again: 2 errors; the client gets 2013.
            let first = try await client.query(Self.signal(1053, "Server shutdown in progress"))
            let error = try #require(first.error)
            #expect(error.code == 2013, "\(error.code) \(error.message)")
            #expect(error.message == "Lost connection to MySQL server during query")
            var state = try await Self.server(fixture)
            #expect(state.connectErrors == 2, "1 + 1 re-send, each counted in ConnERR")
            #expect(state.runtime == "ONLINE")
            // The client connection is open: a plain statement is answered by the backend.
            let alive = try await client.query("SELECT id FROM whoami")
            #expect(alive.error == nil)
            // Statements 2 and 3: 4 more errors within the held second; the 5th shuns.
            _ = try await client.query(Self.signal(1053, "Server shutdown in progress"))
            state = try await Self.server(fixture)
            #expect(state.connectErrors == 4)
            #expect(state.runtime == "ONLINE", "4 errors in a second do not shun (mysql-shun_on_failures 5)")
            // Statement 3: its first 1053 is the 5th error and shuns; its re-send finds no usable server and waits.
            let third = Task { try await client.query(Self.signal(1053, "Server shutdown in progress")) }
            #expect(try await ProxySQLEmulatorShunningTests.waiting(fixture), "the re-send waits for a usable server")
            state = try await Self.server(fixture)
            #expect(state.runtime == "SHUNNED", "a backend restarting under load is shunned by its clients' statements")
            #expect(state.pool == "SHUNNED")
            #expect(state.connectErrors == 5)
            // More than a whole second later the desperate re-try takes it again: 1053 once more, retries spent: 2013.
            second.advance(by: 2)
            #expect(try await third.value.error?.code == 2013)
            // The configured row is untouched.
            #expect(try await fixture.admin.queryFirst("SELECT status FROM mysql_servers")?[0].string == "ONLINE")
        }
    }

    @Test("with query retries off, or inside a transaction, 1053 is not re-sent: one error counted, the client gets 2013 at once")
    func noRetry() async throws {
        var variables = ProxySQLEmulatorShunningTests.generousTimeouts
        variables["mysql-query_retries_on_failure"] = "0"
        try await Fixture.with(statuses: ["ONLINE"], variables: variables) { fixture in
            let client = try await fixture.rawClient()
            defer { client.close() }
            let answer = try await client.query(Self.signal(1053, "Server shutdown in progress"))
            #expect(answer.error?.code == 2013)
            #expect(try await Self.server(fixture).connectErrors == 1)
        }
        try await Fixture.with(statuses: ["ONLINE"], variables: ProxySQLEmulatorShunningTests.generousTimeouts) { fixture in
            let client = try await fixture.rawClient()
            defer { client.close() }
            #expect(try await client.query("BEGIN").error == nil)
            #expect(try await client.query("UPDATE counter SET n = n + 1 WHERE id = 1").error == nil)
            let answer = try await client.query(Self.signal(1047, "WSREP has not yet prepared node for application use"))
            #expect(answer.error?.code == 2013, "in a transaction: never re-sent")
            #expect(try await Self.server(fixture).connectErrors == 1)
            // The transaction went with the destroyed connection: the update is not there.
            let root = try await fixture.root(0)
            let n = try await root.queryFirst("SELECT n FROM \(identifier: fixture.database).counter WHERE id = 1")?[0].string
            await root.close()
            #expect(n == "0")
        }
    }

    @Test("other errors on open connections never count: 1290 read_only and 1317 are forwarded as they are, a killed backend connection (2013) is not counted")
    func otherErrorsDoNotCount() async throws {
        let second = HeldSecond()
        try await Fixture.with(
            statuses: ["ONLINE"], variables: ProxySQLEmulatorShunningTests.generousTimeouts, shunClock: second.clock
        ) { fixture in
            let client = try await fixture.rawClient()
            defer { client.close() }
            for _ in 0..<6 {
                let readOnly = try await client.query(
                    Self.signal(1290, "The MariaDB server is running with the --read-only option so it cannot execute this statement"))
                #expect(readOnly.error?.code == 1290, "forwarded as the backend sent it")
                let interrupted = try await client.query(Self.signal(1317, "Query execution was interrupted"))
                #expect(interrupted.error?.code == 1317)
            }
            // A backend connection killed on the server: the session's next statement finds it dead (a client-library
            // error, `handler_minus1_ClientLibraryError`) and is re-sent; nothing counted.
            #expect(try await client.query("BEGIN").error == nil)
            #expect(try await client.query("SELECT id FROM whoami").error == nil)
            let root = try await fixture.root(0)
            let ids = try await root.query(
                "SELECT id FROM information_schema.PROCESSLIST WHERE USER = \(fixture.user.username) AND DB = \(fixture.database)")
            for row in ids { if let id = row[0].string.flatMap({ Int($0) }) { try? await root.run("KILL CONNECTION \(id)") } }
            await root.close()
            #expect(!ids.isEmpty)
            _ = try await client.query("SELECT id FROM whoami")
            let state = try await Self.server(fixture)
            #expect(state.connectErrors == 0, "ConnERR \(String(describing: state.connectErrors))")
            #expect(state.runtime == "ONLINE")
        }
    }
}
