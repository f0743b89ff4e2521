@testable import CutoverSandbox
import Foundation
import MariaDB
import Synchronization
import Testing

/// Issue #18, the unexplained `LAST_INSERT_ID()` mismatch: a backend connection cut (by an `OFFLINE_HARD` LOAD, as
/// in a writer switch) after it answered a statement but before the session took the answer in. The session still
/// needs that connection (the auto-increment delay after an INSERT, an open transaction); ProxySQL never moves it to
/// another backend behind its back: the next statement gets 2013 and the frontend is closed. The emulator used to
/// release the broken connection there, so the next statement ran on another one: `SELECT LAST_INSERT_ID()` read
/// that connection's id, and a COMMIT was answered OK for a transaction the cut had rolled back.
@Suite("ProxySQL emulator: a pinned session whose backend breaks after its answer", .integration, .mariaDBSandbox(servers: 2))
struct ProxySQLEmulatorBrokenPinTests {
    typealias Fixture = DataPlaneFixture

    /// The cut, armed by the test: run once, for the first statement that starts with `prefix`.
    final class Cut: Sendable {
        let armed = Mutex<(prefix: String, action: @Sendable (BackendConnection) async -> Void)?>(nil)

        func hook(_ statement: String, _ connection: BackendConnection) async {
            let action = armed.withLock { armed -> (@Sendable (BackendConnection) async -> Void)? in
                guard let current = armed, statement.hasPrefix(current.prefix) else { return nil }
                armed = nil
                return current.action
            }
            await action?(connection)
        }
    }

    /// Arms `cut` to make server 0 OFFLINE_HARD and server 1 ONLINE (one LOAD, as a writer switch does) right
    /// after the backend answered the first statement starting with `prefix`, and to wait until that LOAD has
    /// closed the connection.
    static func armSwitch(_ cut: Cut, fixture: Fixture, at prefix: String) {
        let admin = EmulatorTestSupport.patientAdmin(fixture.emulator)
        let ports = fixture.servers.map(\.port)
        cut.armed.withLock {
            $0 = (prefix, { connection in
                do {
                    let connectionToAdmin = try await MariaDBConnection.connect(configuration: admin)
                    try await connectionToAdmin.run("UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE port = \(ports[0])")
                    try await connectionToAdmin.run("UPDATE mysql_servers SET status = 'ONLINE' WHERE port = \(ports[1])")
                    try await connectionToAdmin.run("LOAD MYSQL SERVERS TO RUNTIME")
                    await connectionToAdmin.close()
                    _ = try await Fixture.eventually { !connection.isActive }
                } catch {
                    Issue.record("the switch inside the hook failed: \(error)")
                }
            })
        }
    }

    @Test("#18 an INSERT answered just before OFFLINE_HARD cut its pinned connection: the next SELECT LAST_INSERT_ID() gets 2013 and the frontend is closed, never another connection's id")
    func lastInsertIDAfterCut() async throws {
        let cut = Cut()
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"], afterBackendAnswer: { await cut.hook($0, $1) }) {
            fixture in
            let client = try await fixture.rawClient()
            defer { client.close() }
            #expect(try await client.query("INSERT INTO items (v) VALUES (1)").error == nil)
            Self.armSwitch(cut, fixture: fixture, at: "INSERT INTO items")
            let insert = try await client.query("INSERT INTO items (v) VALUES (2)")
            #expect(insert.error == nil, "executed and answered before the cut: forwarded")
            #expect(insert.lastInsertID == 2)
            #expect(cut.armed.withLock { $0 == nil }, "the cut ran")
            #expect(try await fixture.connUsed(0) == 1, "the cut connection is still held by its pinned session")

            let read = try await client.query("SELECT LAST_INSERT_ID()")
            #expect(read.error?.code == 2013, "not answered from another backend connection (server 1 is ONLINE)")
            #expect(try await Fixture.eventually { !client.isActive }, "the frontend is closed, as after any OFFLINE_HARD cut")
            #expect(try await fixture.connUsed(0) == 0)
        }
    }

    @Test("#18 a transaction whose connection OFFLINE_HARD cut right after an answered UPDATE: its COMMIT gets 2013, not an OK from a fresh connection for a transaction that was rolled back")
    func commitAfterCut() async throws {
        let cut = Cut()
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"], afterBackendAnswer: { await cut.hook($0, $1) }) {
            fixture in
            let client = try await fixture.rawClient()
            defer { client.close() }
            #expect(try await client.query("BEGIN").error == nil)
            Self.armSwitch(cut, fixture: fixture, at: "UPDATE counter")
            #expect(try await client.query("UPDATE counter SET n = n + 1 WHERE id = 1").error == nil)
            #expect(cut.armed.withLock { $0 == nil }, "the cut ran")

            let commit = try await client.query("COMMIT")
            #expect(commit.error?.code == 2013, "the transaction died with its connection: no OK")
            #expect(try await Fixture.eventually { !client.isActive }, "the frontend is closed")
            #expect(try await fixture.counter(on: 0) == 0, "rolled back on the old server")
            #expect(try await fixture.counter(on: 1) == 0, "and never run on the new one")
        }
    }
}
