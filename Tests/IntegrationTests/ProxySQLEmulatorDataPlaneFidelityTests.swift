@testable import CutoverSandbox
import Foundation
import MariaDB
import NIOCore
import Testing

/// Issue #14, "Data plane": behaviour measured on a real ProxySQL 2.7.1 that the emulator must reproduce, one test
/// per behaviour, plus the pins the writer switch of issue #18 meets in ordinary applications.
@Suite("ProxySQL emulator: data-plane fidelity", .integration, .mariaDBSandbox(servers: 2))
struct ProxySQLEmulatorDataPlaneFidelityTests {
    typealias Fixture = DataPlaneFixture

    /// The pool row of server `index`: (status, ConnUsed), nil when not listed.
    static func poolRow(_ fixture: Fixture, _ index: Int) async throws -> (status: String, used: Int)? {
        let row = try await fixture.admin.queryFirst(
            "SELECT status, ConnUsed FROM stats_mysql_connection_pool WHERE hostgroup = 10 AND srv_port = \(fixture.servers[index].port)"
        )
        guard let row, let status = row["status"]?.string, let used = row["ConnUsed"]?.string.flatMap({ Int($0) })
        else { return nil }
        return (status, used)
    }

    @Test("#14.1 lazy OFFLINE_HARD: the server stays listed as OFFLINE_HARD with ConnUsed = held connections until each holder's next statement (2013, not executed); the row goes at the next LOAD")
    func lazyOfflineHardStaysVisible() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"]) { fixture in
            let transaction = try await fixture.rawClient()
            let autoIncrement = try await fixture.rawClient()
            let variable = try await fixture.rawClient()
            defer {
                transaction.close()
                autoIncrement.close()
                variable.close()
            }
            #expect(try await transaction.query("BEGIN").error == nil)
            #expect(try await transaction.query("UPDATE counter SET n = n + 1 WHERE id = 2").error == nil)
            #expect(try await autoIncrement.query("INSERT INTO items (v) VALUES (1)").error == nil)
            #expect(try await variable.query("SELECT @@session.auto_increment_increment").error == nil)
            #expect(try await fixture.connUsed(0) == 3)

            try await fixture.setStatus([0: "OFFLINE_HARD", 1: "ONLINE"])
            let atLoad = try await Self.poolRow(fixture, 0)
            #expect(atLoad?.status == "OFFLINE_HARD")
            #expect(atLoad?.used == 3)
            try await Task.sleep(for: .milliseconds(300))
            let later = try await Self.poolRow(fixture, 0)
            #expect(later?.status == "OFFLINE_HARD")
            #expect(later?.used == 3, "0.3 s later the idle holders still hold their connections")

            var expectedUsed = 3
            for client in [transaction, autoIncrement, variable] {
                let lost = try await client.query("UPDATE counter SET n = n + 100 WHERE id = 1")
                #expect(lost.error?.code == 2013)
                #expect(try await Fixture.eventually { !client.isActive }, "the frontend is closed")
                expectedUsed -= 1
                #expect(try await Self.poolRow(fixture, 0)?.used == expectedUsed)
            }
            #expect(try await fixture.counter(on: 0) == 0, "no cut statement was executed on the old server")
            #expect(try await fixture.counter(on: 1) == 0, "nor on the new one")
            #expect(try await fixture.counter(on: 0, id: 2) == 0, "the idle transaction was rolled back")
            let released = try await Self.poolRow(fixture, 0)
            #expect(released?.status == "OFFLINE_HARD", "the row remains after the last holder let go")
            #expect(released?.used == 0)
            try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            #expect(try await Self.poolRow(fixture, 0) == nil, "a LOAD purges an OFFLINE_HARD server nobody holds")
            // Unchanged: a server OFFLINE_HARD that nobody held is absent at once.
            #expect(try await Self.poolRow(fixture, 1)?.status == "ONLINE")
        }
    }

    @Test("#14.2 a statement cut inside a transaction by OFFLINE_HARD gets 2013 within about a millisecond of the LOAD and its frontend is closed")
    func cutInTransactionClosesFrontend() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"]) { fixture in
            let blocker = try await fixture.root(0)
            try await blocker.run("BEGIN")
            _ = try await blocker.query("SELECT * FROM counter WHERE id = 1 FOR UPDATE")
            let client = try await fixture.rawClient()
            defer { client.close() }
            #expect(try await client.query("BEGIN").error == nil)
            async let blocked = client.query("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(try await Fixture.eventually { try await fixture.isRunning(on: 0, prefix: "UPDATE counter") })
            try await fixture.setStatus([0: "OFFLINE_HARD", 1: "ONLINE"])
            let loaded = ContinuousClock.now
            let answer = try await blocked
            let after = ContinuousClock.now - loaded
            #expect(answer.error?.code == 2013)
            #expect(after < .seconds(2), "generous bound for a loaded machine (real: about 1 ms)")
            #expect(try await Fixture.eventually { !client.isActive }, "the frontend connection is closed")
            try await blocker.run("COMMIT")
            #expect(try await fixture.counter(on: 1) == 0, "not re-sent: it was inside a transaction")
        }
    }

    @Test("#14.3 with mysql-query_retries_on_failure=0 an autocommit statement cut by OFFLINE_HARD gets 2013 and its frontend is closed")
    func cutWithoutRetriesClosesFrontend() async throws {
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"], variables: ["mysql-query_retries_on_failure": "0"]) {
            fixture in
            let blocker = try await fixture.root(0)
            try await blocker.run("BEGIN")
            _ = try await blocker.query("SELECT * FROM counter WHERE id = 1 FOR UPDATE")
            let client = try await fixture.rawClient()
            defer { client.close() }
            async let blocked = client.query("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(try await Fixture.eventually { try await fixture.isRunning(on: 0, prefix: "UPDATE counter") })
            try await fixture.setStatus([0: "OFFLINE_HARD", 1: "ONLINE"])
            let answer = try await blocked
            #expect(answer.error?.code == 2013)
            #expect(try await Fixture.eventually { !client.isActive }, "the frontend connection is closed")
            try await blocker.run("COMMIT")
            #expect(try await fixture.counter(on: 1) == 0, "not re-sent")
        }
    }

    @Test("#14.4 ConnUsed is almost, not always, immediate: with the late-poll model 1 poll in 10 after a COMMIT still counts the connection, the next one does not")
    func lateConnUsedPoll() async throws {
        try await Fixture.with(statuses: ["ONLINE"], lateConnUsedEvery: 10) { fixture in
            let client = try await fixture.client()
            var lateFirstPolls = 0
            var lateSecondPolls = 0
            for _ in 0..<20 {
                try await client.run("BEGIN")
                try await client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
                try await client.run("COMMIT")
                if try await fixture.connUsed(0) != 0 { lateFirstPolls += 1 }
                if try await fixture.connUsed(0) != 0 { lateSecondPolls += 1 }
            }
            #expect(lateFirstPolls == 2, "every 10th release is seen one poll late")
            #expect(lateSecondPolls == 0, "never two polls late")
        }
    }

    @Test("#18 pins met by ordinary applications: an INSERT with an explicit id into an AUTO_INCREMENT column pins for 5 statements; SELECT @@session.tx_isolation alone does not pin (keep list); a Connector/J-style SELECT @@session.auto_increment_increment pins for the session")
    func applicationPins() async throws {
        try await Fixture.with(statuses: ["ONLINE"]) { fixture in
            let client = try await fixture.client()
            _ = try await client.run("INSERT INTO items (id, v) VALUES (500, 1)")
            #expect(try await fixture.connUsed(0) == 1, "the OK packet carries insert id 500: pinned")
            for _ in 0..<4 { _ = try await client.query("SELECT id FROM whoami") }
            #expect(try await fixture.connUsed(0) == 1)
            _ = try await client.query("SELECT id FROM whoami")
            #expect(try await fixture.connUsed(0) == 0, "released after 5 statements")

            // MariaDB 10.11 names it tx_isolation (transaction_isolation arrives in 11.1); both are on the keep list.
            _ = try await client.query("SELECT @@session.tx_isolation")
            #expect(try await fixture.connUsed(0) == 0, "tx_isolation is on mysql-keep_multiplexing_variables")
            _ = try await client.query("SELECT @@session.auto_increment_increment AS auto_increment_increment, @@session.tx_isolation AS transaction_isolation")
            for _ in 0..<20 { _ = try await client.query("SELECT id FROM whoami") }
            #expect(try await fixture.connUsed(0) == 1, "pinned for the whole session")
            let flags = try await fixture.admin.queryFirst("SELECT status_flags FROM stats_mysql_processlist")
            #expect(flags?[0].string.flatMap { Int($0) }.map { $0 & 0x4 != 0 } == true)
        }
    }

    @Test("#18 stats_mysql_query_digest counts statements by digest text with literals replaced, so LAST_INSERT_ID() use shows")
    func queryDigestShowsLastInsertID() async throws {
        try await Fixture.with(statuses: ["ONLINE"]) { fixture in
            let client = try await fixture.client()
            _ = try await client.run("INSERT INTO items (v) VALUES (7)")
            _ = try await client.query("SELECT LAST_INSERT_ID()")
            _ = try await client.run("INSERT INTO items (v) VALUES (8)")
            let rows = try await fixture.admin.query(
                "SELECT digest_text, count_star, digest, username FROM stats_mysql_query_digest ORDER BY digest_text"
            )
            let texts = rows.compactMap { $0["digest_text"]?.string }
            #expect(texts.contains("INSERT INTO items (v) VALUES (?)"))
            #expect(texts.contains("SELECT LAST_INSERT_ID()"))
            let insert = rows.first { $0["digest_text"]?.string == "INSERT INTO items (v) VALUES (?)" }
            #expect(insert?["count_star"]?.string == "2")
            #expect(insert?["username"]?.string == fixture.user.username)
            #expect(insert?["digest"]?.string?.hasPrefix("0x") == true)
            let uses = try await fixture.admin.queryFirst(
                "SELECT COUNT(*) FROM stats_mysql_query_digest WHERE digest_text LIKE '%last_insert_id%'"
            )
            #expect(uses?[0].string == "1")
            _ = try await fixture.admin.query("SELECT * FROM stats_mysql_query_digest_reset")
            let after = try await fixture.admin.queryFirst("SELECT COUNT(*) FROM stats_mysql_query_digest")
            #expect(after?[0].string == "0", "reading the _reset table empties the counters")
        }
    }
}
