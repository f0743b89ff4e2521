@testable import CutoverSandbox
import NIOPosix
import Foundation
import MariaDB
import Testing

/// An emulator in front of the suite's sandbox servers, with a fresh database and application account on each
/// server. Server `i` is in hostgroup 10 with the given initial status; its `whoami` table holds `i`, so a
/// statement can tell which backend ran it without using `@@server_id` (which would pin the session).
struct DataPlaneFixture {
    let emulator: ProxySQLEmulator
    let admin: MariaDBConnection
    let database: String
    let user: ProxySQLEmulator.Configuration.User
    let servers: [SandboxServer]

    static func with<Result: Sendable>(
        statuses: [String],
        variables: [String: String] = [:],
        lateConnUsedEvery: Int = 0,
        coldConnectionDelay: Duration = .zero,
        shunClock: ShunClock = .wallClock,
        afterBackendAnswer: (@Sendable (_ statement: String, _ connection: BackendConnection) async -> Void)? = nil,
        hostgroups: [Int]? = nil,
        applicationPort: Bool = false,
        _ body: (DataPlaneFixture) async throws -> Result
    ) async throws -> Result {
        let sandbox = try SuiteSandbox.require()
        let servers = Array(sandbox.servers.prefix(statuses.count))
        let suffix = UInt32.random(in: 0...UInt32.max)
        let database = "emu_\(suffix)"
        let user = ProxySQLEmulator.Configuration.User(
            username: "app_\(suffix)", password: "pw-\(suffix)", defaultHostgroup: 10)
        for (index, server) in servers.enumerated() {
            let root = try await server.connectAsRoot()
            try await root.run("CREATE DATABASE \(identifier: database)")
            try await root.run("CREATE USER \(user.username)@'127.0.0.1' IDENTIFIED BY \(secret: user.password)")
            try await root.run("GRANT ALL ON \(identifier: database).* TO \(user.username)@'127.0.0.1'")
            try await root.run("USE \(identifier: database)")
            try await root.run("CREATE TABLE whoami (id INT PRIMARY KEY)")
            try await root.run("INSERT INTO whoami VALUES (\(index))")
            try await root.run("CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL)")
            try await root.run("INSERT INTO counter VALUES (1, 0), (2, 0)")
            try await root.run("CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
            try await root.run("CREATE TABLE writes (client INT, seq INT, PRIMARY KEY (client, seq))")
            await root.close()
        }
        var configuration = ProxySQLEmulator.Configuration(
            adminPassword: "admin-\(suffix)",
            frontendUsers: [user],
            hostgroupPorts: [10: 0],
            initialVariables: variables
        )
        configuration.adminLatency = .fast
        configuration.lateConnUsedEvery = lateConnUsedEvery
        configuration.coldConnectionDelay = coldConnectionDelay
        configuration.shunClock = shunClock
        configuration.afterBackendAnswer = afterBackendAnswer
        configuration.applicationPort = applicationPort ? 0 : nil
        return try await withProxySQLEmulator(configuration: configuration) { emulator in
            let admin = try await MariaDBConnection.connect(configuration: EmulatorTestSupport.patientAdmin(emulator))
            for (index, server) in servers.enumerated() {
                try await admin.run(
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port, status, comment) VALUES (\(hostgroups?[index] ?? 10), '127.0.0.1', \(server.port), \(statuses[index]), \("server\(index)"))"
                )
            }
            try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            let fixture = DataPlaneFixture(emulator: emulator, admin: admin, database: database, user: user, servers: servers)
            return try await body(fixture)
        }
    }

    /// A client connection through the data plane (hostgroup 10), in the test database.
    func client() async throws -> MariaDBConnection {
        var configuration = try #require(emulator.dataConfiguration(hostgroup: 10, user: user, database: database))
        configuration.readTimeout = .seconds(60)
        configuration.connectTimeout = .seconds(30)  // a loaded machine (the whole suite) took over 5 s to greet
        return try await MariaDBConnection.connect(configuration: configuration)
    }

    /// A client connection through the application port (routing by query rules), in the test database.
    func applicationClient() async throws -> MariaDBConnection {
        var configuration = try #require(emulator.applicationConfiguration(user: user, database: database))
        configuration.readTimeout = .seconds(60)
        configuration.connectTimeout = .seconds(30)
        return try await MariaDBConnection.connect(configuration: configuration)
    }

    /// A connection through the data plane with the emulator's own wire client: answers are seen exactly as sent
    /// (libmariadb rewrites some error packets).
    func rawClient() async throws -> BackendConnection {
        let port = try #require(emulator.dataPort(hostgroup: 10))
        return try await BackendConnection.connect(
            id: 1,
            server: ServerKey(hostgroup: 10, host: "127.0.0.1", port: port),
            user: user.username,
            password: user.password,
            schema: database,
            timeout: .seconds(5),
            group: MultiThreadedEventLoopGroup.singleton
        )
    }

    /// Open InnoDB transactions of the application account on server `index`.
    func openTransactions(on index: Int) async throws -> Int {
        let connection = try await servers[index].connectAsRoot()
        defer { Task { await connection.close() } }
        let row = try await connection.queryFirst(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.USER = \(user.username)"
        )
        return row.flatMap { Int($0[0].string ?? "") } ?? -1
    }

    /// The emulator sends ProxySQL's `ERR 2013 Lost connection to MySQL server during query`; libmariadb 3.3
    /// refuses a server-sent 2006/2013 and reports 2027 `Received malformed packet` instead (the wire packet is
    /// checked with ``rawClient()``).
    static func expectProxyLostConnection(_ error: MariaDBError?, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.serverErrorNumber == 2027, sourceLocation: sourceLocation)
        #expect(error?.message == "Received malformed packet", sourceLocation: sourceLocation)
    }

    /// A root connection to server `index`, in the test database.
    func root(_ index: Int) async throws -> MariaDBConnection {
        let connection = try await servers[index].connectAsRoot()
        try await connection.run("USE \(identifier: database)")
        return connection
    }

    /// Sets statuses (`[index: status]`) and loads them in one LOAD.
    func setStatus(_ statuses: [Int: String]) async throws {
        for (index, status) in statuses {
            try await admin.run("UPDATE mysql_servers SET status = \(status) WHERE port = \(servers[index].port)")
        }
        try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
    }

    func setVariable(_ name: String, _ value: String) async throws {
        try await admin.run("UPDATE global_variables SET variable_value = \(value) WHERE variable_name = \(name)")
        try await admin.run("LOAD MYSQL VARIABLES TO RUNTIME")
    }

    /// `ConnUsed` of server `index` (nil when the server is not in `stats_mysql_connection_pool`).
    func connUsed(_ index: Int) async throws -> Int? {
        let row = try await admin.queryFirst(
            "SELECT ConnUsed FROM stats_mysql_connection_pool WHERE hostgroup = 10 AND srv_port = \(servers[index].port)"
        )
        return row.flatMap { $0[0].string }.flatMap { Int($0) }
    }

    /// The `whoami` of the backend that runs a statement of `client`.
    static func backend(of client: MariaDBConnection) async throws -> Int? {
        try await client.queryFirst("SELECT id FROM whoami")?[0].string.flatMap { Int($0) }
    }

    func counter(on index: Int, id: Int = 1) async throws -> Int? {
        let connection = try await root(index)
        defer { Task { await connection.close() } }
        return try await connection.queryFirst("SELECT n FROM counter WHERE id = \(id)")?[0].string.flatMap { Int($0) }
    }

    /// Polls `condition` every 10 ms until it holds or `timeout` passes.
    static func eventually(
        timeout: Duration = .seconds(10),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    /// Whether server `index` shows a statement of the application account that starts with `prefix`.
    func isRunning(on index: Int, prefix: String) async throws -> Bool {
        let connection = try await servers[index].connectAsRoot()
        defer { Task { await connection.close() } }
        let rows = try await connection.query(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = \(user.username) AND INFO LIKE \(prefix + "%")"
        )
        return rows.first?[0].string != "0"
    }
}
