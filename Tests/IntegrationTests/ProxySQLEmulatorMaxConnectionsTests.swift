@_spi(Testing) @testable import CutoverSandbox
import CutoverTestSupport
import Foundation
import Logging
import MariaDB
import Testing

/// A backend at `max_connections` behind the emulator, as ProxySQL 2.7.1 treats it (#14 items 7 and 8): the server
/// is made to refuse every new connection for real (``ConnectionHog``: 1040 `Too many connections`, not an emulator
/// fault hook). Its 1040s are connect errors (`MySrvC::connect_error` counts 1040: `ShunRules.counts`), so the sole
/// server of the hostgroup is `SHUNNED` after 5 within a second and a statement waits for it. A `LOAD MYSQL SERVERS TO
/// RUNTIME` with unchanged rows puts it back `ONLINE` (`MySQL_HostGroups_Manager::commit` compares with the live
/// status): once the server accepts connections again, the waiting statement then proceeds at once, without
/// ProxySQL's own "desperate" re-try (held off here: the shunning second never moves); while it still refuses, the
/// LOAD only earns it one more error, which shuns it again (the per-second count is not reset by the LOAD). Each
/// case starts its own one-server sandbox of its kind: the hog changes the server's global limit.
@Suite("ProxySQL emulator: a backend at max_connections", .integration, .serialized)
struct ProxySQLEmulatorMaxConnectionsTests {
    typealias Fixture = DataPlaneFixture
    typealias Shunning = ProxySQLEmulatorShunningTests

    static let logger = Logger(label: "emulator-max-connections-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A data-plane fixture (one `ONLINE` server in hostgroup 10) on a fresh one-server sandbox of `kind`, with the
    /// shunning second held still; nil where that kind is not installed and not required.
    static func withFixture(
        _ kind: SandboxServerKind,
        variables: [String: String] = Shunning.generousTimeouts,
        _ body: (Fixture, Shunning.HeldSecond) async throws -> Void
    ) async throws {
        guard try IntegrationGate.skipIfUnavailable(kind) else { return }
        let options = MariaDBSandbox.Options(serverKind: kind)
        try await withMariaDBSandbox(servers: 1, options: options, logger: .integrationTests) { sandbox in
            try await SuiteSandbox.$current.withValue(sandbox) {
                let second = Shunning.HeldSecond()
                try await Fixture.with(statuses: ["ONLINE"], variables: variables, shunClock: second.clock) { fixture in
                    try await body(fixture, second)
                }
            }
        }
    }

    /// Runs `body` while every new connection to the fixture's server gets 1040; the hog is released on every way
    /// out (`body` may release it earlier: a release is idempotent).
    static func hogged(_ fixture: Fixture, _ body: (ConnectionHog) async throws -> Void) async throws {
        try await withConnectionHog(
            ConnectionHog.Configuration(server: fixture.servers[0].rootConfiguration), logger: logger
        ) { hog in
            #expect(try await hog.isInForce(), "the hog did not make the server refuse connections")
            try await body(hog)
        }
    }

    /// Sends `SELECT id FROM whoami` through the data plane and waits until it waits for a usable server, the sole
    /// server shunned after 5 refused connects within the held second.
    static func sendAndWaitForShun(_ fixture: Fixture, client: BackendConnection, kind: SandboxServerKind)
        async throws -> Task<BackendResponse, any Error>
    {
        let port = fixture.servers[0].port
        let answer = Task { try await client.query("SELECT id FROM whoami") }
        #expect(try await Shunning.waiting(fixture), "\(kind): the statement never waited for the shunned server")
        #expect(try await Shunning.runtimeStatus(fixture, port: port) == "SHUNNED", "\(kind)")
        let pool = try await Shunning.pool(fixture, port: port)
        #expect(pool.status == "SHUNNED", "\(kind)")
        #expect(pool.connectErrors == 5, "\(kind): 5 refused connects (1040) within one second shun")
        return answer
    }

    /// Whether a response is a result, not an error.
    static func succeeded(_ response: BackendResponse) -> Bool {
        response.error == nil && !response.packets.isEmpty
    }

    @Test("1040 at connect counts: with its retries spent (2: threshold 3) the statement gets the backend's own 1040 and the server is SHUNNED", arguments: SandboxServerKind.allCases)
    func refusedWith1040(kind: SandboxServerKind) async throws {
        var variables = Shunning.generousTimeouts
        variables["mysql-connect_retries_on_failure"] = "2"
        try await Self.withFixture(kind, variables: variables) { fixture, _ in
            let port = fixture.servers[0].port
            let client = try await fixture.rawClient()
            defer { client.close() }
            var answer: BackendResponse?
            try await Self.hogged(fixture) { _ in answer = try await client.query("SELECT id FROM whoami") }
            let response = try #require(answer)
            let error = try #require(response.error, "\(kind): the statement succeeded on a hogged server")
            #expect(error.code == 1040, "\(kind): \(error)")
            #expect(error.message.contains("Too many connections"), "\(kind): \(error)")
            #expect(try await Shunning.runtimeStatus(fixture, port: port) == "SHUNNED", "\(kind)")
            #expect(try await Shunning.pool(fixture, port: port).connectErrors == 3, "\(kind)")
        }
    }

    @Test("released, then a LOAD with unchanged rows: the server is ONLINE again and the waiting statement succeeds at once, without the desperate re-try", arguments: SandboxServerKind.allCases)
    func releasedThenLoad(kind: SandboxServerKind) async throws {
        try await Self.withFixture(kind) { fixture, _ in
            let port = fixture.servers[0].port
            let client = try await fixture.rawClient()
            defer { client.close() }
            var waiting: Task<BackendResponse, any Error>?
            try await Self.hogged(fixture) { hog in
                waiting = try await Self.sendAndWaitForShun(fixture, client: client, kind: kind)
                try await hog.release()
            }
            let answer = try #require(waiting)
            // The server accepts connections again, but nothing tries it: the shunning second is held, so ProxySQL's
            // own desperate re-try (more than 1 whole second after the last error) never comes.
            try await Task.sleep(for: .milliseconds(300))  // several of the emulator's 50 ms recovery sweeps
            #expect(fixture.emulator.waitingStatementCount() == 1, "\(kind): stopped waiting without a LOAD")
            #expect(try await Shunning.pool(fixture, port: port).connectErrors == 5, "\(kind)")

            try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            let response = try await answer.value
            #expect(Self.succeeded(response), "\(kind): \(String(describing: response.error))")
            #expect(try await Shunning.runtimeStatus(fixture, port: port) == "ONLINE", "\(kind)")
            let pool = try await Shunning.pool(fixture, port: port)
            #expect(pool.status == "ONLINE", "\(kind)")
            #expect(pool.connectErrors == 5, "\(kind): no further connect error")
            #expect(fixture.emulator.waitingStatementCount() == 0)
            // The configured row never changed.
            #expect(
                try await fixture.admin.queryFirst("SELECT status FROM mysql_servers WHERE port = \(port)")?[0].string
                    == "ONLINE")
        }
    }

    @Test("a LOAD while the server still refuses: back ONLINE, the waiting statement tries it once more, and that one error shuns it again (the count is not reset); after the release a second LOAD lets the statement through", arguments: SandboxServerKind.allCases)
    func loadWhileStillRefusing(kind: SandboxServerKind) async throws {
        try await Self.withFixture(kind) { fixture, _ in
            let port = fixture.servers[0].port
            let client = try await fixture.rawClient()
            defer { client.close() }
            var waiting: Task<BackendResponse, any Error>?
            try await Self.hogged(fixture) { _ in
                waiting = try await Self.sendAndWaitForShun(fixture, client: client, kind: kind)
                try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
                // One more refused connect (the 6th in the held second) shuns it again at once.
                let shunnedAgain = try await Fixture.eventually(timeout: .seconds(30)) {
                    guard try await Shunning.pool(fixture, port: port).connectErrors == 6 else { return false }
                    guard try await Shunning.runtimeStatus(fixture, port: port) == "SHUNNED" else { return false }
                    return fixture.emulator.waitingStatementCount() == 1
                }
                #expect(shunnedAgain, "\(kind): not shunned again after one error")
                try await Task.sleep(for: .milliseconds(300))  // several of the emulator's 50 ms recovery sweeps
                #expect(try await Shunning.pool(fixture, port: port).connectErrors == 6, "\(kind): tried while shunned")
                #expect(try await Shunning.pool(fixture, port: port).status == "SHUNNED", "\(kind)")
            }
            let answer = try #require(waiting)
            try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            let response = try await answer.value
            #expect(Self.succeeded(response), "\(kind): \(String(describing: response.error))")
            #expect(try await Shunning.runtimeStatus(fixture, port: port) == "ONLINE", "\(kind)")
            #expect(try await Shunning.pool(fixture, port: port).connectErrors == 6, "\(kind)")
        }
    }
}
