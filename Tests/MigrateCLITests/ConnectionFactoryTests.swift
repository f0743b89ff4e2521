import Foundation
import MariaDB
import Testing

@testable import MigrateCLI

@Suite("Connections and secrets")
struct ConnectionFactoryTests {
    @Test("one configuration per endpoint; ProxySQL admin endpoints quote with SQLite rules")
    func endpoints() throws {
        let configuration = try Fixture.load(yaml: ExampleConfiguration.text)
        let environment = [
            "MIGRATE_SOURCE_PASSWORD": "s1", "MIGRATE_TARGET_PASSWORD": "t2", "MIGRATE_PROXYSQL_ADMIN_PASSWORD": "p3",
            "MIGRATE_FORWARD_REPLICATION_PASSWORD": "f4", "MIGRATE_REVERSE_REPLICATION_PASSWORD": "r5",
        ]
        let factory = ConnectionFactory(configuration: configuration, environment: environment, loginPathResolver: nil)
        let all = try factory.checkAllSecrets()
        #expect(all.map(\.0) == [.source, .targetWriter, .targetReader, .proxyNode("proxysql-1")])
        let source = try factory.connectionConfiguration(for: .source)
        #expect(source.endpoint == .tcp(host: "10.0.0.5", port: 3306))
        #expect(source.user == "migrate_admin")
        #expect(source.password == "s1")
        #expect(source.quoting == .server)
        #expect(source.tls == nil)
        let reader = try factory.connectionConfiguration(for: .targetReader)
        #expect(reader.endpoint == .tcp(host: "mydb.cluster-ro-abc123xyz.eu-west-1.rds.amazonaws.com", port: 3306))
        #expect(reader.password == "t2")
        let proxy = try factory.connectionConfiguration(for: .proxyNode("proxysql-1"))
        #expect(proxy.quoting == .proxySQLAdmin)
        #expect(proxy.endpoint == .tcp(host: "10.0.0.10", port: 6032))
        #expect(try factory.replicationPassword(configuration.reverseReplication, direction: "reverse")?.reveal() == "r5")
    }

    @Test("TLS and timeouts reach the connection configuration")
    func tls() throws {
        let yaml = try Fixture.merged(Fixture.minimalYAML, """
            target:
              connect-timeout: 2s
              tls:
                mode: verify-identity
                ca-file: /etc/ssl/rds.pem
            source:
              tls:
                mode: required
            """)
        let configuration = try Fixture.load(yaml: yaml)
        let factory = ConnectionFactory(configuration: configuration, environment: Fixture.passwords, loginPathResolver: nil)
        let target = try factory.connectionConfiguration(for: .targetWriter)
        #expect(target.tls == .init(certificateAuthorityFile: "/etc/ssl/rds.pem", verifyServerCertificate: true))
        #expect(target.connectTimeout == .seconds(2))
        #expect(try factory.connectionConfiguration(for: .source).tls?.verifyServerCertificate == false)
    }

    @Test("a missing password variable names the field; every missing one is reported")
    func missingVariables() throws {
        let configuration = try Fixture.load(yaml: Fixture.minimalYAML)
        let factory = ConnectionFactory(configuration: configuration, environment: ["TEST_TARGET_PASSWORD": ""], loginPathResolver: nil)
        let error = #expect(throws: ConfigurationError.self) { try factory.checkAllSecrets() }
        let issues = try #require(error).issues
        #expect(issues.map(\.field) == [
            "source.password-env", "target.password-env", "proxysql.nodes.proxysql-1.password-env",
            "replication.forward.password-env", "replication.reverse.password-env",
        ])
        #expect(issues[0].message == "environment variable TEST_SOURCE_PASSWORD is not set")
        #expect(issues[1].message == "environment variable TEST_TARGET_PASSWORD is empty")
    }

    @Test("password files: first line only, and refused when others can read them")
    func passwordFiles() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/source.password"
        try "pa'ss\\word\r\nsecond line\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        #expect(try ConnectionFactory.readPasswordFile(path, field: "source.password-file").reveal() == "pa'ss\\word")
        chmod(path, 0o644)
        let error = #expect(throws: ConfigurationError.self) { try ConnectionFactory.readPasswordFile(path, field: "source.password-file") }
        #expect(error?.issues.first?.field == "source.password-file")
        #expect(error?.description.contains("chmod 600") == true)
        #expect(error?.description.contains("pa'ss") == false)
        let missing = #expect(throws: ConfigurationError.self) { try ConnectionFactory.readPasswordFile(directory + "/none", field: "x.password-file") }
        #expect(missing?.issues.first?.field == "x.password-file")
        let empty = directory + "/empty"
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        chmod(empty, 0o600)
        #expect(throws: ConfigurationError.self) { try ConnectionFactory.readPasswordFile(empty, field: "x") }
    }

    @Test("login paths: read by the MariaDB reader (a missing one names the field); the configuration keeps its own address")
    func loginPaths() throws {
        let yaml = try Fixture.merged(Fixture.minimalYAML, "source:\n  login-path: source\n  login-path-file: /nonexistent/.mylogin.cnf\n  password-env: null\n  user: null\n")
        let configuration = try Fixture.load(yaml: yaml)
        let missing = #expect(throws: ConfigurationError.self) {
            try ConnectionFactory(configuration: configuration, environment: Fixture.passwords, loginPathResolver: nil)
                .connectionConfiguration(for: .source)
        }
        #expect(missing?.issues.first?.field == "source.login-path")
        #expect(ExitStatus.of(try #require(missing)).status == .configuration)

        let factory = ConnectionFactory(configuration: configuration, environment: Fixture.passwords) { name, file in
            #expect(name == "source")
            #expect(file == "/nonexistent/.mylogin.cnf")
            return MariaDBConnection.Configuration(host: "elsewhere", port: 1, user: "from_login_path", password: "lp-secret")
        }
        let resolved = try factory.connectionConfiguration(for: .source)
        #expect(resolved.endpoint == .tcp(host: "10.0.0.5", port: 3306))
        #expect(resolved.user == "from_login_path")
        #expect(resolved.password == "lp-secret")
    }

    @Test("option files are handed to the client library, and must be readable")
    func optionFiles() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let yaml = try Fixture.merged(Fixture.minimalYAML, "source:\n  option-file: client.cnf\n  option-group: migrate\n  password-env: null\n")
        let path = directory + "/migrate.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader(environment: [:], currentDirectory: "/").load(explicit: path)
        let factory = ConnectionFactory(configuration: configuration, environment: [:], loginPathResolver: nil)
        let error = #expect(throws: ConfigurationError.self) { try factory.connectionConfiguration(for: .source) }
        #expect(error?.issues.first?.field == "source.option-file")
        try "[migrate]\npassword=x\n".write(toFile: directory + "/client.cnf", atomically: true, encoding: .utf8)
        let resolved = try factory.connectionConfiguration(for: .source)
        #expect(resolved.optionFile == .init(path: directory + "/client.cnf", group: "migrate"))
        #expect(resolved.password == nil)
    }
}

@Suite("Redaction: passwords never show")
struct RedactionTests {
    @Test("a Secret prints as <redacted> in every form")
    func secret() {
        let secret = Secret("hunter2")
        var dumped = ""
        dump(secret, to: &dumped)
        for text in [secret.description, secret.debugDescription, "\(secret)", String(reflecting: secret), dumped, "\([secret])"] {
            #expect(!text.contains("hunter2"), "\(text)")
        }
        #expect(secret.reveal() == "hunter2")
    }

    @Test("configurations and connection configurations never print a password")
    func configurationDumps() throws {
        let configuration = try Fixture.load(yaml: Fixture.minimalYAML, environment: Fixture.passwords)
        let factory = ConnectionFactory(configuration: configuration, environment: Fixture.passwords, loginPathResolver: nil)
        var texts: [String] = []
        for (_, connection) in try factory.checkAllSecrets() {
            var dumped = ""
            dump(connection, to: &dumped)
            texts += [connection.description, connection.debugDescription, String(reflecting: connection), dumped]
        }
        var dumpedConfiguration = ""
        dump(configuration, to: &dumpedConfiguration)
        texts += [dumpedConfiguration, ConfigurationReport.show(configuration).human(style: .plain), ConfigurationReport.show(configuration).json.serialized]
        for text in texts {
            for password in Fixture.passwords.values {
                #expect(!text.contains(password), "\(password) appears in \(text.prefix(200))")
            }
        }
    }

    @Test("the journal of a run holds no password (the runner only sees the topology and policy)")
    func journalHasNoPassword() throws {
        let configuration = try Fixture.load(yaml: Fixture.minimalYAML, environment: Fixture.passwords)
        let encoder = JSONEncoder()
        let text = String(decoding: try encoder.encode(configuration.topology), as: UTF8.self)
            + String(decoding: try encoder.encode(configuration.policy), as: UTF8.self)
        for password in Fixture.passwords.values { #expect(!text.contains(password)) }
    }
}
