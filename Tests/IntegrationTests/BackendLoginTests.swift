@_spi(Testing) @testable import CutoverSandbox
import Logging
import MariaDB
import NIOCore
import NIOPosix
import Testing

/// The ProxySQL emulator's backend logins against real servers (ADR 0010): `caching_sha2_password` on MySQL 9.7 —
/// its full path (the server has no cached hash: the emulator asks for the server's RSA key and sends the password
/// RSA-OAEP encrypted over plain TCP) and its fast path (the hash is cached: the scramble token alone) — and
/// `mysql_native_password` on MariaDB. A wrong password is refused on every path, and no error text carries the
/// password.
@Suite("Emulator backend logins", .integration, .serialized)
struct BackendLoginTests {
    private static let logger = Logger(label: "backend-login-tests")

    private func login(
        _ server: SandboxServer, user: String, password: String, id: UInt64
    ) async throws -> BackendConnection {
        try await BackendConnection.connect(
            id: id,
            server: ServerKey(hostgroup: 10, host: "127.0.0.1", port: server.port),
            user: user,
            password: password,
            schema: nil,
            timeout: .seconds(20),
            group: MultiThreadedEventLoopGroup.singleton
        )
    }

    /// Runs `SELECT CURRENT_USER()` on `connection`, returning the text of its one value.
    private func currentUser(_ connection: BackendConnection) async throws -> String? {
        let response = try await connection.query("SELECT CURRENT_USER()")
        #expect(response.error == nil)
        // Column count, column definition, (EOF,) one row, EOF/OK: the row is the packet that holds the name.
        return response.packets.lazy.compactMap { packet -> String? in
            var payload = packet.payload
            guard let length = payload.readInteger(as: UInt8.self), length < 0xFB,
                payload.readableBytes == Int(length), let text = payload.readString(length: Int(length)),
                text.contains("@")
            else { return nil }
            return text
        }.first
    }

    @Test("caching_sha2_password: full path (RSA) on an empty cache, fast path once cached, again full after a flush")
    func cachingSHA2Paths() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mysql) else { return }
        try await withMariaDBSandbox(servers: 1, options: .init(serverKind: .mysql), logger: Self.logger) { sandbox in
            let server = sandbox.servers[0]
            let root = try await server.connectAsRoot()
            let password = "emu-\(UInt32.random(in: 0...UInt32.max))-pw"
            try await root.run(
                "CREATE USER emulator@'%' IDENTIFIED WITH caching_sha2_password BY \(secret: password)")
            try await root.run("GRANT SELECT ON *.* TO emulator@'%'")

            // A new account's hash is not cached yet: the server asks for the password (full path).
            let first = try await login(server, user: "emulator", password: password, id: 1)
            #expect(first.loginPath == .cachingSHA2FullPath)
            #expect(try await currentUser(first) == "emulator@%")
            first.close()

            // The successful full login cached it: the scramble token alone is enough now.
            let second = try await login(server, user: "emulator", password: password, id: 2)
            #expect(second.loginPath == .cachingSHA2FastPath)
            #expect(try await currentUser(second) == "emulator@%")
            second.close()

            // FLUSH PRIVILEGES empties the cache: full path again.
            try await root.run("FLUSH PRIVILEGES")
            let third = try await login(server, user: "emulator", password: password, id: 3)
            #expect(third.loginPath == .cachingSHA2FullPath)
            third.close()

            // A wrong password is refused, whether the hash is cached (the fast path fails over to the full one)
            // or not; the error names the failure, never the password.
            for flush in [false, true] {
                if flush { try await root.run("FLUSH PRIVILEGES") }
                let wrong = password + "-wrong"
                let error = try await #require(throws: BackendConnectError.self) {
                    try await login(server, user: "emulator", password: wrong, id: 4)
                }
                #expect(error.description.contains("1045"), "\(error)")
                #expect(!error.description.contains(wrong))
                #expect(!error.description.contains(password))
            }
            await root.close()
        }
    }

    @Test("caching_sha2_password: the emulator's data plane in front of MySQL 9.7 logs in and routes")
    func emulatorInFrontOfMySQL() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mysql) else { return }
        try await withMariaDBSandbox(servers: 1, options: .init(serverKind: .mysql), logger: Self.logger) { sandbox in
            let server = sandbox.servers[0]
            let root = try await server.connectAsRoot()
            let password = "app-\(UInt32.random(in: 0...UInt32.max))-pw"
            try await root.run("CREATE USER app@'%' IDENTIFIED WITH caching_sha2_password BY \(secret: password)")
            try await root.run("GRANT SELECT ON *.* TO app@'%'")
            try await root.run("FLUSH PRIVILEGES")
            let user = ProxySQLEmulator.Configuration.User(username: "app", password: password)
            try await EmulatorTestSupport.withEmulator(users: [user]) { emulator, admin in
                try await admin.run(
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (10, '127.0.0.1', \(server.port))")
                try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
                let client = try await MariaDBConnection.connect(
                    configuration: try #require(emulator.dataConfiguration(hostgroup: 10)))
                let row = try #require(try await client.queryFirst("SELECT CURRENT_USER() AS u, @@GLOBAL.port AS p"))
                #expect(row["u"]?.string == "app@%")
                #expect(row["p"]?.int == server.port)
                await client.close()
                await admin.close()
            }
            await root.close()
        }
    }

    @Test("mysql_native_password on MariaDB")
    func nativePasswordOnMariaDB() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        try await withMariaDBSandbox(servers: 1, logger: Self.logger) { sandbox in
            let server = sandbox.servers[0]
            let root = try await server.connectAsRoot()
            let password = "emu-\(UInt32.random(in: 0...UInt32.max))-pw"
            try await root.run("CREATE USER emulator@'%' IDENTIFIED BY \(secret: password)")
            let connection = try await login(server, user: "emulator", password: password, id: 1)
            #expect(connection.loginPath == .nativePassword)
            #expect(try await currentUser(connection) == "emulator@%")
            connection.close()
            let error = try await #require(throws: BackendConnectError.self) {
                try await login(server, user: "emulator", password: password + "x", id: 2)
            }
            #expect(error.description.contains("1045"))
            #expect(!error.description.contains(password))
            await root.close()
        }
    }
}
