import CutoverSandbox
import Foundation
import MariaDB
import Testing

/// Connection settings that only a real server can check: passwords from option files and login-path files, the
/// `program_name` connection attribute, and the error mapping of a killed connection.
@Suite(.integration, .mariaDBSandbox(servers: 1, options: .init(extraServerOptions: ["performance_schema=ON"])))
struct ConnectionSettingsIntegrationTests {
    /// A password with every character that option-file quoting has to get right.
    static let password = "Au\"ro'ra\\p#w;d = é 🔑"

    /// Creates account `user` with ``password`` on the suite's server and returns the server.
    private func serverWithAccount(_ user: String) async throws -> SandboxServer {
        let server = try SuiteSandbox.require().servers[0]
        let root = try await server.connectAsRoot()
        // Also @localhost, which an anonymous ''@localhost account would otherwise shadow over the socket.
        for host in ["%", "localhost"] {
            try await root.run("CREATE USER \(user)@\(host) IDENTIFIED BY \(secret: Self.password)")
            try await root.run("GRANT SELECT ON *.* TO \(user)@\(host)")
        }
        await root.close()
        return server
    }

    private func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "conn-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    @Test("a password from the option file is used when the configuration has none")
    func optionFilePassword() async throws {
        let server = try await serverWithAccount("optfile")
        try await withDirectory { directory in
            let file = directory.appendingPathComponent("my.cnf")
            var configuration = server.configuration(user: "optfile", password: nil)
            configuration.optionFile = .init(path: file.path, group: "migrate")

            let escaped = Self.password.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
            try Data("[migrate]\npassword = \"\(escaped)\"\n".utf8).write(to: file)
            #expect(try configuration.optionFile?.providedOptionNames() == ["password"])
            let connection = try await MariaDBConnection.connect(configuration: configuration)
            #expect(
                try await connection.queryFirst("SELECT CURRENT_USER() AS u")?["u"]?.string?.hasPrefix("optfile@")
                    == true)
            await connection.close()

            // Without a password in the file an empty one is sent (libmariadb would otherwise try MYSQL_PWD).
            try Data("[migrate]\nconnect-timeout = 5\n".utf8).write(to: file)
            await #expect {
                _ = try await MariaDBConnection.connect(configuration: configuration)
            } throws: { error in
                (error as? MariaDBError)?.isAccessDenied == true
            }
        }
    }

    @Test("a login path written by LoginPathFile connects over TCP and over the Unix socket")
    func loginPathConnects() async throws {
        let server = try await serverWithAccount("loginpath")
        try await withDirectory { directory in
            let path = directory.appendingPathComponent(".mylogin.cnf").path
            try LoginPathFile(loginPaths: [
                LoginPath(name: "client", user: "nobody", password: "wrong"),
                LoginPath(
                    name: "tcp", host: "127.0.0.1", port: server.port, user: "loginpath", password: Self.password),
                LoginPath(name: "socket", user: "loginpath", password: Self.password, socket: server.socketPath),
            ]).write(to: path)

            let tcp = try await MariaDBConnection.connect(configuration: .fromLoginPath("tcp", file: path))
            #expect(tcp.endpointDescription == "127.0.0.1:\(server.port)")
            #expect(
                try await tcp.queryFirst("SELECT CURRENT_USER() AS u")?["u"]?.string?.hasPrefix("loginpath@") == true)
            await tcp.close()

            let socket = try await MariaDBConnection.connect(configuration: .fromLoginPath("socket", file: path))
            #expect(socket.endpointDescription == "unix:\(server.socketPath)")
            #expect(
                try await socket.queryFirst("SELECT CURRENT_USER() AS u")?["u"]?.string?.hasPrefix("loginpath@") == true
            )
            await socket.close()
        }
    }

    @Test("the server sees the program_name connection attribute")
    func programName() async throws {
        let server = try SuiteSandbox.require().servers[0]
        var configuration = server.rootConfiguration
        configuration.programName = "cutover-integration-test"
        let connection = try await MariaDBConnection.connect(configuration: configuration)
        let row = try await connection.queryFirst(
            """
            SELECT ATTR_VALUE AS v FROM performance_schema.session_connect_attrs
            WHERE PROCESSLIST_ID = CONNECTION_ID() AND ATTR_NAME = 'program_name'
            """
        )
        #expect(row?["v"]?.string == "cutover-integration-test")
        await connection.close()
    }

    @Test("a killed connection is connectionLost and stays unusable")
    func killedConnection() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        await #expect {
            try await connection.run("KILL CONNECTION \(connection.connectionID)")
        } throws: { error in
            guard let error = error as? MariaDBError else { return false }
            return error.code == .connectionLost && error.isConnectionLost
        }
        #expect(await !connection.isUsable)
        await #expect(throws: MariaDBError(code: .connectionClosed)) { try await connection.run("SELECT 1") }
    }

    @Test("a failed statement with a secret shows neither the secret nor the near '…' text")
    func syntaxErrorHidesSecret() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        do {
            try await connection.run("CREATE USER x IDENTIFIED BY \(secret: "hunter2-secret") GARBAGE")
            Issue.record("the statement should not parse")
        } catch let error as MariaDBError {
            #expect(error.isSyntaxError)
            #expect(!error.description.contains("hunter2"))
            #expect(!error.debugDescription.contains("hunter2"))
            #expect(error.statement == "CREATE USER x IDENTIFIED BY '<redacted>' GARBAGE")
        }
        await connection.close()
    }
}
