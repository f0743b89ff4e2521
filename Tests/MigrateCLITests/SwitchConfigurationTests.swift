import Cutover
import Foundation
import ProxySQLAdmin
import Testing

@testable import MigrateCLI

/// The `switch` section (#15 item 2): a configuration without ProxySQL whose writer switch runs an operator command.
@Suite("Configuration: the switch section (no ProxySQL)")
struct SwitchConfigurationTests {
    static let withoutProxy = """
        source:
          host: 10.0.0.5
          user: migrate_admin
          password-env: TEST_SOURCE_PASSWORD
        target:
          writer:
            host: aurora.cluster-x.eu-west-1.rds.amazonaws.com
          user: admin
          password-env: TEST_TARGET_PASSWORD
        replication:
          forward:
            user: repl_aurora
            password-env: TEST_FORWARD_PASSWORD
          reverse:
            user: repl_reverse
            password-env: TEST_REVERSE_PASSWORD
        """

    static let switchSection = """
        switch:
          cutover-command: ./point-apps-at.sh aurora
          failback-command: ./point-apps-at.sh source
        """

    @Test("a switch section without proxysql: the commands, the documented defaults, no ProxySQL node")
    func switchWithoutProxy() throws {
        let configuration = try Fixture.load(yaml: try Fixture.merged(Self.withoutProxy, Self.switchSection))
        let settings = try #require(configuration.switchSettings)
        #expect(settings.cutoverCommand == "./point-apps-at.sh aurora")
        #expect(settings.failbackCommand == "./point-apps-at.sh source")
        #expect(settings.commandTimeout == .seconds(60))
        #expect(settings.observeTimeout == .seconds(60))
        #expect(configuration.proxyNodes.isEmpty)
        #expect(configuration.topology.proxyNodes.isEmpty)
        #expect(configuration.topology.source.writer.endpoint.host == "10.0.0.5")
    }

    @Test("timeouts are read as durations")
    func timeouts() throws {
        let yaml = try Fixture.merged(Self.withoutProxy, Self.switchSection + "\n  timeout: 2m\n  observe-timeout: 15s\n")
        let settings = try #require(try Fixture.load(yaml: yaml).switchSettings)
        #expect(settings.commandTimeout == .seconds(120))
        #expect(settings.observeTimeout == .seconds(15))
    }

    @Test("both proxysql and switch: refused, saying to choose one")
    func both() throws {
        let issues = Fixture.issues(yaml: try Fixture.merged(try Fixture.minimalYAML, Self.switchSection))
        let issue = try #require(issues.first { $0.field == "switch" })
        #expect(issue.message.contains("choose one"))
        #expect(issue.message.contains("remove `switch`") && issue.message.contains("remove `proxysql`"))
    }

    @Test("neither proxysql nor switch: the missing-node message names the switch section as the other way")
    func neither() throws {
        let issues = Fixture.issues(yaml: Self.withoutProxy)
        let issue = try #require(issues.first { $0.field == "proxysql.nodes" })
        #expect(issue.message.contains("`switch` section"))
    }

    @Test("a switch section needs both commands, each named")
    func commandsRequired() throws {
        let issues = Fixture.issues(yaml: try Fixture.merged(Self.withoutProxy, "switch:\n  timeout: 30s\n"))
        let fields = Set(issues.map(\.field))
        #expect(fields.contains("switch.cutover-command"))
        #expect(fields.contains("switch.failback-command"))
        #expect(!fields.contains("proxysql.nodes"))
    }

    @Test("a misspelt switch key is reported with a suggestion")
    func typo() throws {
        let issues = Fixture.issues(yaml: try Fixture.merged(Self.withoutProxy, Self.switchSection + "\n  timout: 30s\n"))
        #expect(issues.contains { $0.field == "switch.timout" && $0.message.contains("switch.timeout") }, "\(issues)")
    }

    @Test("a switch run that died is refused by the next one, saying whether the command had run")
    func unfinishedRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switch-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/journal.jsonl"
        #expect(HookSwitchWiring.unfinishedSwitch(journalPath: path) == nil)
        func line(_ sequence: Int, _ kind: JournalRecord.Kind, _ step: String) -> String {
            var entry = JournalRecord(sequence: sequence, runID: "switch-1", kind: kind, time: "2026-12-06T10:00:00.000Z", elapsedMicroseconds: 0)
            entry.step = StepID(rawValue: step)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try! encoder.encode(entry), as: UTF8.self)
        }
        try [line(1, .action, "switch.fence"), line(2, .event, "switch.fence")].joined(separator: "\n").appending("\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let before = try #require(HookSwitchWiring.unfinishedSwitch(journalPath: path))
        #expect(before.message.contains("before the switch command") && before.remedy.contains("lift read_only"))
        try [line(1, .action, "switch.switch-command"), line(2, .action, "switch.observe-writes")].joined(separator: "\n").appending("\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let after = try #require(HookSwitchWiring.unfinishedSwitch(journalPath: path))
        #expect(after.message.contains("past the point of no return") && after.remedy.contains("switch command by hand"))
        try [line(1, .action, "switch.switch-command"), line(2, .runFinished, "switch.done")].joined(separator: "\n").appending("\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(HookSwitchWiring.unfinishedSwitch(journalPath: path) == nil)
    }

    @Test("the command's environment names both writers, the operation and the run, never a password")
    func commandEnvironment() {
        let environment = HookSwitch.commandEnvironment(
            direction: .cutover, oldWriter: .init(host: "10.0.0.5", port: 3306),
            newWriter: .init(host: "aurora.example", port: 3306), runID: "switch-1")
        #expect(environment["MIGRATE_SWITCH_OLD_ENDPOINT"] == "10.0.0.5:3306")
        #expect(environment["MIGRATE_SWITCH_NEW_HOST"] == "aurora.example")
        #expect(environment["MIGRATE_SWITCH_OPERATION"] == "writer-cutover")
        #expect(environment["MIGRATE_SWITCH_RUN_ID"] == "switch-1")
        #expect(!environment.keys.contains { $0.contains("PASSWORD") || $0.contains("PWD") })
    }
}
