@_spi(Testing) import CutoverSandbox
import CutoverTestSupport
import Logging
import MariaDB
import Testing

/// ``ConnectionHog`` on real servers of both kinds (#14 item 8): while it is engaged a fresh connection of any
/// account (`root` included) gets 1040 `Too many connections`, connections opened before it keep working, the one
/// extra connection above `max_connections` is for `CONNECTION ADMIN`/`SUPER` holders only, and after its release
/// fresh connections work and `max_connections` is back to its old value. Each case starts its own one-server
/// sandbox: a hog changes a global limit, which no other test may share.
@Suite("Connection hog", .integration, .serialized)
struct ConnectionHogTests {
    static let logger = Logger(label: "connection-hog-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `body` on a fresh one-server sandbox of `kind` (nil where that kind is not installed and not required).
    static func withServer<Value>(
        _ kind: SandboxServerKind,
        _ body: (MariaDBSandbox) async throws -> Value
    ) async throws -> Value? {
        guard try IntegrationGate.skipIfUnavailable(kind) else { return nil }
        return try await withMariaDBSandbox(servers: 1, options: .init(serverKind: kind), logger: .integrationTests) {
            try await body($0)
        }
    }

    /// Opens a connection; returns the error it got instead (nil when it connected, and then it is closed).
    static func connectError(_ configuration: MariaDBConnection.Configuration) async -> MariaDBError? {
        var configuration = configuration
        configuration.connectTimeout = .seconds(20)
        do {
            let connection = try await MariaDBConnection.connect(configuration: configuration)
            await connection.close()
            return nil
        } catch let error as MariaDBError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    /// Expects `error` to be the server's 1040 `Too many connections`.
    static func expectTooManyConnections(
        _ error: MariaDBError?, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            error.map(ConnectionHog.isTooManyConnections) == true, "\(label): \(String(describing: error))",
            sourceLocation: sourceLocation)
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    static func eventually(
        timeout: Duration = .seconds(30),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    @Test("hogged: fresh root and application connections get 1040; connections opened before keep working; released: fresh connections work and max_connections is back", arguments: SandboxServerKind.allCases)
    func hogAndRelease(kind: SandboxServerKind) async throws {
        try await Self.withServer(kind) { sandbox in
            let server = sandbox.servers[0]
            let root = try await server.connectAsRoot()
            let password = "hog-app-\(UInt32.random(in: 0...UInt32.max))"
            try await root.run("CREATE DATABASE hog")
            try await root.run("CREATE TABLE hog.t (id INT PRIMARY KEY)")
            try await root.run("CREATE USER hogapp@'%' IDENTIFIED BY \(secret: password)")
            try await root.run("GRANT ALL ON hog.* TO hogapp@'%'")
            let app = server.configuration(user: "hogapp", password: password, database: "hog")
            let appBefore = try await MariaDBConnection.connect(configuration: app)
            let previous = try #require(try await root.queryFirst("SELECT @@GLOBAL.max_connections")?[0].int)
            let before = try #require(try await root.queryFirst("SHOW GLOBAL STATUS LIKE 'Threads_connected'")?[1].int)

            let hog = try await ConnectionHog.engage(
                ConnectionHog.Configuration(server: server.rootConfiguration, maxConnections: 3), logger: Self.logger)
            // MariaDB sets no max_connections below 10; MySQL takes 3.
            #expect(hog.maxConnections == (kind == .mariadb ? 10 : 3), "\(kind)")
            #expect(hog.previousMaxConnections == previous)
            // The server is full at max_connections + 1 client connections: those open before the hog (ours), the
            // hog's control connection, and its hog connections.
            let held = await hog.heldConnectionCount
            #expect(held == hog.maxConnections + 1 - before - 1, "\(kind): \(held) hog connections, \(before) before")

            for configuration in [server.rootConfiguration, app] {
                let error = await Self.connectError(configuration)
                Self.expectTooManyConnections(error, "\(kind) \(configuration.user)")
                // libmariadb 3.3 without TLS reports the server's own number (3.4 wraps it in a TLS error).
                #expect(error?.serverErrorNumber == 1040, "\(kind) \(configuration.user): \(String(describing: error))")
            }
            #expect(try await hog.isInForce())
            // Connections that were open before are not affected.
            try await appBefore.run("INSERT INTO t VALUES (1)")
            #expect(try await root.queryFirst("SELECT COUNT(*) FROM hog.t")?[0].int == 1)

            try await hog.release()
            #expect(await hog.isReleased)
            try await hog.release()  // idempotent
            #expect(try await !hog.isInForce())
            #expect(try await root.queryFirst("SELECT @@GLOBAL.max_connections")?[0].int == previous)
            for configuration in [server.rootConfiguration, app] {
                let error = await Self.connectError(configuration)
                #expect(error == nil, "\(kind) \(configuration.user): \(String(describing: error))")
            }
            await appBefore.close()
            await root.close()
        }
    }

    @Test("the one connection above max_connections is for CONNECTION ADMIN / SUPER holders: with one slot free an application account gets 1040, root gets in, and then root is refused too; refill takes freed slots", arguments: SandboxServerKind.allCases)
    func extraConnectionForAdministrators(kind: SandboxServerKind) async throws {
        try await Self.withServer(kind) { sandbox in
            let server = sandbox.servers[0]
            let root = try await server.connectAsRoot()
            let password = "hog-app-\(UInt32.random(in: 0...UInt32.max))"
            try await root.run("CREATE USER hogapp@'%' IDENTIFIED BY \(secret: password)")
            let app = server.configuration(user: "hogapp", password: password)
            let rootBefore = try await server.connectAsRoot()

            let configuration = ConnectionHog.Configuration(server: server.rootConfiguration)
            try await withConnectionHog(configuration, logger: Self.logger) { hog in
                #expect(try await hog.isInForce())
                // A refused connection still counts for a moment after its 1040: wait for the count to settle.
                func connected() async throws -> Int? {
                    try await root.queryFirst("SHOW GLOBAL STATUS LIKE 'Threads_connected'")?[1].int
                }
                let full = hog.maxConnections + 1
                let settled = try await Self.eventually { try await connected() == full }
                let count = try await connected()
                #expect(settled, "\(kind): \(String(describing: count)) connected, max_connections \(hog.maxConnections)")

                // Free one slot: max_connections are open now, not max_connections + 1.
                await rootBefore.close()
                #expect(try await Self.eventually { try await connected() == full - 1 }, "\(kind): closed, still counted")
                let appError = await Self.connectError(app)
                Self.expectTooManyConnections(appError, "\(kind) application account")
                #expect(appError?.sqlState == "08004", "\(kind): refused at login: \(String(describing: appError))")
                #expect(try await Self.eventually { try await connected() == full - 1 }, "\(kind): refused, still counted")
                // Root takes the extra connection (the probe is let in and closes it again).
                #expect(try await !hog.isInForce(), "\(kind): root was refused with a slot free")
                #expect(try await Self.eventually { try await connected() == full - 1 }, "\(kind): probe still counted")
                // The hog takes the freed slot again.
                #expect(try await hog.refill() == 1, "\(kind)")
                // (Its own last, refused, attempt may still count for a moment.)
                #expect(try await Self.eventually { try await connected() == full }, "\(kind): not full after refill")
                #expect(try await hog.isInForce())
                let rootError = await Self.connectError(server.rootConfiguration)
                Self.expectTooManyConnections(rootError, "\(kind) root")
            }
            #expect(await Self.connectError(app) == nil)
            await root.close()
        }
    }
}
