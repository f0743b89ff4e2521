@testable import CutoverSandbox
import Foundation
import MariaDB
import NIOCore
import NIOPosix
import Testing

/// The emulator's data plane against real MariaDB backends: one test per behaviour observed on ProxySQL 2.7.
@Suite("ProxySQL emulator: data plane", .integration, .mariaDBSandbox(servers: 2))
struct ProxySQLEmulatorDataPlaneTests {
    typealias Fixture = DataPlaneFixture

    @Test("a transaction open on a backend set OFFLINE_SOFT keeps its backend and commits")
    func offlineSoftTransactionCommits() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"]) { fixture in
            let client = try await fixture.client()
            try await client.run("BEGIN")
            try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(try await fixture.connUsed(0) == 1)
            try await fixture.setStatus([0: "OFFLINE_SOFT"])
            let pool = try await fixture.admin.queryFirst(
                "SELECT status, ConnUsed FROM stats_mysql_connection_pool WHERE srv_port = \(fixture.servers[0].port)"
            )
            #expect(pool?["status"]?.string == "OFFLINE_SOFT")
            #expect(pool?["ConnUsed"]?.string == "1")
            try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(try await Fixture.backend(of: client) == 0)
            try await client.run("COMMIT")
            #expect(try await fixture.connUsed(0) == 0)
            #expect(try await fixture.counter(on: 0) == 2)
        }
    }

    @Test("with no ONLINE backend a new transaction waits, then proceeds once a LOAD brings one ONLINE")
    func newTransactionWaitsForOnlineBackend() async throws {
        try await Fixture.with(statuses: ["OFFLINE_SOFT", "OFFLINE_HARD"]) { fixture in
            let client = try await fixture.client()
            let started = ContinuousClock.now
            async let statement: UInt64 = client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            // The statement is waiting in the emulator, not failing.
            #expect(
                try await Fixture.eventually(timeout: .seconds(5)) {
                    fixture.emulator.sessionSummaries().contains { $0.isRunningStatement }
                }
            )
            try await Task.sleep(for: .milliseconds(300))
            #expect(fixture.emulator.sessionSummaries().contains { $0.isRunningStatement })
            let loaded = ContinuousClock.now
            try await fixture.setStatus([1: "ONLINE"])
            let changed = try await statement
            let afterLoad = ContinuousClock.now - loaded
            #expect(changed == 1)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            #expect(afterLoad < .seconds(9), "generous bound: it must proceed, not time out (10 s)")
            #expect(try await Fixture.backend(of: client) == 1)
            #expect(try await fixture.counter(on: 1) == 1)
            #expect(try await fixture.counter(on: 0) == 0)
            print("emulator: queued statement ran \(afterLoad) after the LOAD returned to the admin client")
        }
    }

    @Test("ConnUsed goes to 0 exactly when the last transaction ends")
    func connUsedFollowsTransactions() async throws {
        try await Fixture.with(statuses: ["ONLINE"]) { fixture in
            let first = try await fixture.client()
            let second = try await fixture.client()
            #expect(try await fixture.connUsed(0) == 0)
            try await first.run("BEGIN")
            try await first.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            try await second.run("START TRANSACTION")
            try await second.run("UPDATE counter SET n = n + 1 WHERE id = 2")
            #expect(try await fixture.connUsed(0) == 2)
            try await first.run("COMMIT")
            #expect(try await fixture.connUsed(0) == 1)
            try await second.run("ROLLBACK")
            #expect(try await fixture.connUsed(0) == 0)
            // autocommit=0 opens a transaction with the first statement.
            try await first.run("SET autocommit = 0")
            #expect(try await fixture.connUsed(0) == 0)
            try await first.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(try await fixture.connUsed(0) == 1)
            try await first.run("COMMIT")
            #expect(try await fixture.connUsed(0) == 0)
            #expect(try await fixture.counter(on: 0, id: 1) == 2)
            #expect(try await fixture.counter(on: 0, id: 2) == 0)
        }
    }

    @Test("an auto-increment insert keeps ConnUsed at 1 for the next 5 statements or until the idle timeout")
    func autoIncrementInsertPins() async throws {
        try await Fixture.with(statuses: ["ONLINE"]) { fixture in
            let client = try await fixture.client()
            let result = try await client.execute("INSERT INTO items (v) VALUES (1)")
            #expect(result.lastInsertID > 0)
            #expect(try await fixture.connUsed(0) == 1)
            for statement in 1...5 {
                _ = try await client.query("SELECT COUNT(*) FROM items")
                #expect(try await fixture.connUsed(0) == (statement < 5 ? 1 : 0), "after statement \(statement)")
            }
            // An update without a generated value does not pin.
            try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(try await fixture.connUsed(0) == 0)

            // The idle timer releases it too.
            // (2 s: long enough that the check right after the insert sees the pin even on a loaded machine.)
            try await fixture.setVariable("mysql-auto_increment_delay_multiplex_timeout_ms", "2000")
            try await client.run("INSERT INTO items (v) VALUES (2)")
            #expect(try await fixture.connUsed(0) == 1)
            #expect(try await Fixture.eventually(timeout: .seconds(10)) { try await fixture.connUsed(0) == 0 })
            // Steady inserts never unpin.
            for value in 3...12 {
                try await client.run("INSERT INTO items (v) VALUES (\(value))")
                #expect(try await fixture.connUsed(0) == 1)
            }
        }
    }

    @Test("pinning: @ variables, GET_LOCK (RELEASE_LOCK does not unpin), LOCK TABLES until UNLOCK TABLES, keep list")
    func pinningRules() async throws {
        try await Fixture.with(statuses: ["ONLINE"]) { fixture in
            let client = try await fixture.client()
            _ = try await client.query("SELECT @@version")
            #expect(try await fixture.connUsed(0) == 0, "@@version is on mysql-keep_multiplexing_variables")
            _ = try await client.query("SELECT 'user@example.com'")
            #expect(try await fixture.connUsed(0) == 0, "an @ inside a literal does not pin")
            try await client.run("LOCK TABLES counter WRITE")
            #expect(try await fixture.connUsed(0) == 1)
            try await client.run("UPDATE counter SET n = n + 1")
            try await client.run("UNLOCK TABLES")
            #expect(try await fixture.connUsed(0) == 0)

            let locker = try await fixture.client()
            _ = try await locker.query("SELECT GET_LOCK('emulator', 5)")
            #expect(try await fixture.connUsed(0) == 1)
            _ = try await locker.query("SELECT RELEASE_LOCK('emulator')")
            #expect(try await fixture.connUsed(0) == 1)

            let variables = try await fixture.client()
            try await variables.run("SET @x = 42")
            #expect(try await fixture.connUsed(0) == 2)
            _ = try await variables.query("SELECT 1")
            #expect(try await variables.queryFirst("SELECT @x")?[0].string == "42")
            let summaries = fixture.emulator.sessionSummaries()
            #expect(summaries.filter { $0.backend != nil }.map(\.pinReasons).sorted() == ["get_lock", "user_variable"])

            // stats_mysql_processlist shows the sessions and their status flags; KILL CONNECTION releases one.
            let processlist = try await fixture.admin.query(
                "SELECT SessionID, srv_port, status_flags FROM stats_mysql_processlist WHERE srv_port IS NOT NULL ORDER BY SessionID"
            )
            #expect(processlist.count == 2)
            #expect(Set(processlist.compactMap { $0["status_flags"]?.string }) == ["64", "4"])
            let lockerSession = try #require(processlist.first { $0["status_flags"]?.string == "64" }?["SessionID"]?.string)
            try await fixture.admin.run(SQLStatement(unsafeRaw: "KILL CONNECTION \(lockerSession)"))
            #expect(try await fixture.connUsed(0) == 1)
            let killed = await EmulatorTestSupport.mariaDBError { _ = try await locker.query("SELECT 1") }
            #expect(killed?.isConnectionLost == true)
            await variables.close()
            #expect(try await Fixture.eventually { try await fixture.connUsed(0) == 0 }, "client disconnect releases")
        }
    }

    @Test("COM_RESET_CONNECTION releases every pin")
    func resetConnectionReleases() async throws {
        try await Fixture.with(statuses: ["ONLINE"]) { fixture in
            let port = try #require(fixture.emulator.dataPort(hostgroup: 10))
            let raw = try await BackendConnection.connect(
                id: 1,
                server: ServerKey(hostgroup: 10, host: "127.0.0.1", port: port),
                user: fixture.user.username,
                password: fixture.user.password,
                schema: fixture.database,
                timeout: .seconds(5),
                group: MultiThreadedEventLoopGroup.singleton
            )
            defer { raw.close() }
            #expect(try await raw.query("BEGIN").error == nil)
            #expect(try await raw.query("SET @pinned = 1").error == nil)
            #expect(try await fixture.connUsed(0) == 1)
            var reset = ByteBuffer()
            reset.writeInteger(UInt8(0x1F))
            let answer = try await raw.send(reset)
            #expect(answer.error == nil)
            #expect(try await fixture.connUsed(0) == 0)
            var statement = ByteBuffer()
            statement.writeInteger(UInt8(0x17))
            let refused = try await raw.send(statement)
            #expect(refused.error?.code == 1047)
            #expect(try await raw.query("SELECT id FROM whoami").error == nil)
        }
    }

    @Test("OFFLINE_HARD is lazy for an idle pinned session: its next statement gets 2013 and the frontend is closed")
    func offlineHardLazyForIdlePinnedSession() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"]) { fixture in
            // A raw client shows the exact packet on the wire (libmariadb would turn it into 2027, see below).
            let client = try await fixture.rawClient()
            defer { client.close() }
            #expect(try await client.query("BEGIN").error == nil)
            #expect(try await client.query("UPDATE counter SET n = n + 1 WHERE id = 1").error == nil)
            try await fixture.setStatus([0: "OFFLINE_HARD", 1: "ONLINE"])
            #expect(try await fixture.connUsed(0) == 1, "held: listed as OFFLINE_HARD with the connection held")
            // The transaction (and its row lock) is still open on the old server.
            #expect(try await fixture.openTransactions(on: 0) == 1)
            #expect(fixture.emulator.sessionSummaries().first?.backend != nil)

            let lost = try await client.query("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(lost.error?.code == 2013)
            #expect(lost.error?.message == "Lost connection to MySQL server during query")
            #expect(try await Fixture.eventually { !client.isActive }, "the emulator closed the frontend")
            #expect(try await Fixture.eventually { fixture.emulator.sessionSummaries().isEmpty })
            #expect(try await Fixture.eventually { try await fixture.openTransactions(on: 0) == 0 })
            #expect(try await fixture.counter(on: 0) == 0, "the transaction was rolled back")
            #expect(try await fixture.counter(on: 1) == 0)
        }
    }

    @Test("libmariadb 3.3 reports a proxy-sent 2013 as 2027 'Received malformed packet' and drops the connection")
    func libmariadbRendersProxy2013As2027() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"]) { fixture in
            let client = try await fixture.client()
            try await client.run("SET @pin = 1")
            try await fixture.setStatus([0: "OFFLINE_HARD", 1: "ONLINE"])
            let lost = await EmulatorTestSupport.mariaDBError { _ = try await client.query("SELECT id FROM whoami") }
            Fixture.expectProxyLostConnection(lost)
            #expect(await client.isUsable == false)
        }
    }

    @Test("a statement running inside a transaction gets 2013 at once at OFFLINE_HARD")
    func offlineHardCutsRunningTransactionStatement() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"]) { fixture in
            let blocker = try await fixture.root(0)
            try await blocker.run("BEGIN")
            _ = try await blocker.query("SELECT * FROM counter WHERE id = 1 FOR UPDATE")
            let client = try await fixture.client()
            try await client.run("BEGIN")
            async let blocked = EmulatorTestSupport.mariaDBError { try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1") }
            #expect(try await Fixture.eventually { try await fixture.isRunning(on: 0, prefix: "UPDATE counter") })
            let cut = ContinuousClock.now
            try await fixture.setStatus([0: "OFFLINE_HARD", 1: "ONLINE"])
            let error = await blocked
            Fixture.expectProxyLostConnection(error)
            // Cut by the LOAD, not by the blocker's COMMIT below or a lock wait timeout (50 s); generous for a loaded
            // machine (about 1 ms alone).
            #expect(ContinuousClock.now - cut < .seconds(10))
            try await blocker.run("COMMIT")
            #expect(try await fixture.counter(on: 1) == 0, "not re-sent: it was inside a transaction")
        }
    }

    @Test("an interrupted autocommit statement is re-sent to the new ONLINE backend while the original still commits")
    func interruptedStatementIsResent() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"]) { fixture in
            let blocker = try await fixture.root(0)
            try await blocker.run("BEGIN")
            _ = try await blocker.query("SELECT * FROM counter WHERE id = 1 FOR UPDATE")
            let client = try await fixture.client()
            async let update: UInt64 = client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(try await Fixture.eventually { try await fixture.isRunning(on: 0, prefix: "UPDATE counter") })
            try await fixture.setStatus([0: "OFFLINE_HARD", 1: "ONLINE"])
            #expect(try await update == 1, "the client sees one success")
            #expect(try await fixture.counter(on: 1) == 1, "re-sent to the new backend")
            try await blocker.run("COMMIT")
            #expect(try await Fixture.eventually { try await fixture.counter(on: 0) == 1 }, "the original committed too")
        }
    }

    @Test("with mysql-query_retries_on_failure=0 the interrupted statement is not re-sent: 2013, yet it may commit")
    func interruptedStatementNotResentWithoutRetries() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"], variables: ["mysql-query_retries_on_failure": "0"]) {
            fixture in
            let blocker = try await fixture.root(0)
            try await blocker.run("BEGIN")
            _ = try await blocker.query("SELECT * FROM counter WHERE id = 1 FOR UPDATE")
            let client = try await fixture.client()
            async let update = EmulatorTestSupport.mariaDBError { try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1") }
            #expect(try await Fixture.eventually { try await fixture.isRunning(on: 0, prefix: "UPDATE counter") })
            try await fixture.setStatus([0: "OFFLINE_HARD", 1: "ONLINE"])
            let error = await update
            Fixture.expectProxyLostConnection(error)
            #expect(try await fixture.counter(on: 1) == 0)
            try await blocker.run("COMMIT")
            #expect(try await Fixture.eventually { try await fixture.counter(on: 0) == 1 }, "a ghost write on the old server")
        }
    }

    @Test("error 9001 after mysql-connect_timeout_server_max; the frontend survives it")
    func maxConnectTimeout() async throws {
        try await Fixture.with(statuses: ["OFFLINE_SOFT"], variables: ["mysql-connect_timeout_server_max": "400"]) { fixture in
            let client = try await fixture.client()
            let started = ContinuousClock.now
            let error = await EmulatorTestSupport.mariaDBError { _ = try await client.query("SELECT id FROM whoami") }
            let elapsed = ContinuousClock.now - started
            #expect(error?.serverErrorNumber == 9001)
            let message = try #require(error?.message)
            #expect(message.hasPrefix("Max connect timeout reached while reaching hostgroup 10 after "))
            #expect(message.hasSuffix("ms"))
            let reported = Int(message.dropFirst("Max connect timeout reached while reaching hostgroup 10 after ".count).dropLast(2))
            #expect((400..<2000).contains(reported ?? 0))
            #expect(elapsed >= .milliseconds(400))
            // The same client connection works once a server is ONLINE.
            try await fixture.setStatus([0: "ONLINE"])
            let again = try await fixture.client()
            #expect(try await Fixture.backend(of: again) == 0)
            // libmariadb treats 9001 as a server error: the connection stays usable.
            #expect(await client.isUsable)
            #expect(try await Fixture.backend(of: client) == 0)
        }
    }

    @Test("a client connection keeps working across a writer switch, with its session variables re-applied")
    func clientSurvivesWriterSwitch() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"]) { fixture in
            let client = try await fixture.client()
            try await client.run("SET SESSION sql_mode = 'ANSI_QUOTES'")
            #expect(try await Fixture.backend(of: client) == 0)
            try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(try await fixture.connUsed(0) == 0)
            try await fixture.setStatus([0: "OFFLINE_SOFT"])
            try await fixture.setStatus([0: "OFFLINE_HARD"])
            try await fixture.setStatus([1: "ONLINE"])
            #expect(try await Fixture.backend(of: client) == 1)
            try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            let mode = try await client.queryFirst("SHOW VARIABLES LIKE 'sql_mode'")
            #expect(mode?[1].string == "ANSI_QUOTES")
            #expect(try await fixture.counter(on: 0) == 1)
            #expect(try await fixture.counter(on: 1) == 1)
        }
    }

    @Test("the stock mariadb CLI works through the data plane")
    func stockCLIOnDataPlane() async throws {
        guard EmulatorTestSupport.cliAvailable else {
            Issue.record("the mariadb client is missing: apt-get install mariadb-client")
            return
        }
        try await Fixture.with(statuses: ["OFFLINE_HARD", "ONLINE"]) { fixture in
            let port = try #require(fixture.emulator.dataPort(hostgroup: 10))
            let result = try await EmulatorTestSupport.runCLI(
                port: port,
                user: fixture.user.username,
                password: fixture.user.password,
                database: fixture.database,
                sql: "SELECT id FROM whoami; BEGIN; UPDATE counter SET n = n + 1 WHERE id = 2; COMMIT; SELECT n FROM counter WHERE id = 2"
            )
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output == "1\n1\n")
            let denied = try await EmulatorTestSupport.runCLI(port: port, user: fixture.user.username, password: "wrong", sql: "SELECT 1")
            #expect(denied.error.contains("ERROR 1045 (28000): ProxySQL Error: Access denied for user"))
        }
    }
}
