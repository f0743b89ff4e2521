import Cutover
import Foundation
import MariaDB
import Testing

@testable import MigrateCLI

/// The canary's configuration keys (#14 item 9): off by default, configured like every other account (password by
/// reference), checked for what it needs when on.
@Suite("Configuration: the canary")
struct CanaryConfigurationTests {
    static let enabled = """
        canary:
          enabled: true
          host: 10.0.0.10
          user: app_canary
          password-env: TEST_CANARY_PASSWORD
          database: app
        """

    @Test("off by default: no canary, no canary endpoint")
    func offByDefault() throws {
        let configuration = try Fixture.load(yaml: Fixture.minimalYAML)
        #expect(configuration.canary == nil)
        let factory = ConnectionFactory(configuration: configuration, environment: Fixture.passwords)
        #expect(!factory.endpoints.contains(.canary))
    }

    @Test("on: the data port (6033 by default), the account, its schema and the documented defaults; the password is read from its reference only when connecting")
    func enabledDefaults() throws {
        let configuration = try Fixture.load(yaml: try Fixture.merged(Fixture.minimalYAML, Self.enabled))
        let canary = try #require(configuration.canary)
        #expect(canary.address == Address(host: "10.0.0.10", port: 6033))
        #expect(canary.account.user == "app_canary")
        #expect(canary.account.credentials == .environment("TEST_CANARY_PASSWORD"))
        #expect(canary.database == "app")
        #expect(canary.table == "cutover_canary")
        #expect(canary.interval == .milliseconds(5))
        #expect(canary.writeTimeout == .seconds(15))
        let factory = ConnectionFactory(
            configuration: configuration, environment: Fixture.passwords.merging(["TEST_CANARY_PASSWORD": "canary-secret"]) { $1 })
        #expect(factory.endpoints.last == .canary)
        let connection = try factory.connectionConfiguration(for: .canary)
        #expect(connection.user == "app_canary")
        #expect(connection.password == "canary-secret")
        #expect(connection.quoting != .proxySQLAdmin, "the data port speaks MySQL, not the admin dialect")
        let unset = ConnectionFactory(configuration: configuration, environment: Fixture.passwords)
        #expect(throws: ConfigurationError.self) { try unset.connectionConfiguration(for: .canary) }
    }

    @Test("on without a host or a database: each missing field is named")
    func enabledNeedsHostAndDatabase() throws {
        let issues = Fixture.issues(yaml: try Fixture.merged(Fixture.minimalYAML, "canary:\n  enabled: true\n  user: c\n"))
        let fields = Set(issues.map(\.field))
        #expect(fields.contains("canary.host"))
        #expect(fields.contains("canary.database"))
    }

    @Test("a misspelt canary key is reported even when the canary is off; a table name must be plain")
    func typosAndTableName() throws {
        let typo = Fixture.issues(yaml: try Fixture.merged(Fixture.minimalYAML, "canary:\n  intervall: 5ms\n"))
        #expect(typo.contains { $0.field == "canary.intervall" })
        let table = Fixture.issues(yaml: try Fixture.merged(Fixture.minimalYAML, Self.enabled + "\n  table: x; DROP\n"))
        #expect(table.contains { $0.field == "canary.table" })
    }

    @Test("--set turns it on for one run")
    func setFlags() throws {
        let configuration = try Fixture.load(
            yaml: Fixture.minimalYAML,
            assignments: ["canary.enabled=true", "canary.host=127.0.0.1", "canary.port=16033", "canary.user=u", "canary.database=d", "canary.interval=10ms"]
        )
        #expect(configuration.canary?.address == Address(host: "127.0.0.1", port: 16033))
        #expect(configuration.canary?.interval == .milliseconds(10))
    }
}
