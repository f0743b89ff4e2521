import Cutover
import Foundation
import MariaDB
import ReplicationControl
import Testing

@testable import MigrateCLI

/// #13: `status` tells the truth about what it could not read (item 12), command words get suggestions, and the
/// configuration's small traps (the smaller items), through the built binary.
@Suite("Safety: status and command line (binary)")
struct SafetyBinaryTests {
    /// Every endpoint of minimal.yaml moved to addresses that answer at once: `closed` ports on 127.0.0.1.
    static let closedPorts = [
        "--set", "source.host=127.0.0.1", "--set", "source.port=1",
        "--set", "target.writer.host=127.0.0.1", "--set", "target.writer.port=2",
        "--set", "proxysql.nodes.proxysql-1.host=127.0.0.1", "--set", "proxysql.nodes.proxysql-1.port=3",
    ]

    func workspace() throws -> String {
        let directory = try Fixture.temporaryDirectory()
        try FileManager.default.copyItem(atPath: try Fixture.path("minimal.yaml"), toPath: directory + "/migrate.yaml")
        return directory
    }

    @Test("status that could read nothing because every port is closed exits 69 and says unreachable")
    func statusClosedPorts() async throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Binary.run(["status"] + Self.closedPorts, in: directory, environment: Fixture.passwords)
        #expect(result.status == 69, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.contains("unreachable"))
        #expect(result.standardOutput.contains("could not be read"))
    }

    @Test("status with an unset password variable exits 78 and calls it a configuration error, not unreachable")
    func statusUnsetPassword() async throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var passwords = Fixture.passwords
        passwords["TEST_SOURCE_PASSWORD"] = nil
        let result = try await Binary.run(["status", "--json"] + Self.closedPorts, in: directory, environment: passwords)
        #expect(result.status == 78, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.contains("configuration error"))
        #expect(result.standardOutput.contains("TEST_SOURCE_PASSWORD"))
        #expect(result.standardOutput.contains("\"exit_code\":78"))
    }

    @Test("status with a host that does not resolve says so (exit 69)")
    func statusUnresolvable() async throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Binary.run(
            ["status"] + Self.closedPorts + ["--set", "target.writer.host=db.does-not-exist.invalid"], in: directory,
            environment: Fixture.passwords)
        #expect(result.status == 69, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.contains("host does not resolve"), "\(result.standardOutput)")
    }

    @Test("an unknown command gets a suggestion and exit 64; `help nonexistent` exits 64; `help cutover writers` works")
    func unknownCommands() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let typo = try await Binary.run(["cutovr", "writers"], in: directory)
        #expect(typo.status == 64)
        #expect(typo.standardError.contains("did you mean `cutover`?"), "\(typo.standardError)")
        let help = try await Binary.run(["help", "nonexistent"], in: directory)
        #expect(help.status == 64, "\(help.standardOutput)")
        #expect(help.standardError.contains("unknown command `nonexistent`"))
        let deeper = try await Binary.run(["help", "cutover", "writer"], in: directory)
        #expect(deeper.status == 64)
        #expect(deeper.standardError.contains("under `migrate-cli cutover` (did you mean `writers`?)"), "\(deeper.standardError)")
        let good = try await Binary.run(["help", "cutover", "writers"], in: directory)
        #expect(good.status == 0)
        #expect(good.standardOutput.contains("point of no return"))
    }

    @Test("an exported MIGRATE_SOURCE_PASSWORD does not break a configuration that uses password-file")
    func passwordVariableBesidePasswordFile() async throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/source.password"
        try "s3cret-source\n".write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        var yaml = try String(contentsOfFile: directory + "/migrate.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "  password-env: TEST_SOURCE_PASSWORD", with: "  password-file: \(file)")
        try yaml.write(toFile: directory + "/migrate.yaml", atomically: true, encoding: .utf8)
        var environment = Fixture.passwords
        environment["MIGRATE_SOURCE_PASSWORD"] = "left-over-from-init"
        let result = try await Binary.run(["config", "check"], in: directory, environment: environment)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardError.contains("left-over-from-init") && !result.standardOutput.contains("left-over-from-init"))
        // A real typo next to it is still reported.
        environment["MIGRATE_SOURCE_HOTS"] = "x"
        let typo = try await Binary.run(["config", "check"], in: directory, environment: environment)
        #expect(typo.status == 78)
        #expect(typo.standardError.contains("MIGRATE_SOURCE_HOTS"))
    }

    @Test("an empty configuration file says it is empty; a YAML error names the line where the bad token starts")
    func emptyAndBrokenFiles() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "# nothing yet\n\n".write(toFile: directory + "/migrate.yaml", atomically: true, encoding: .utf8)
        let empty = try await Binary.run(["config", "check"], in: directory, environment: Fixture.passwords)
        #expect(empty.status == 78)
        #expect(empty.standardError.contains("empty"), "\(empty.standardError)")
        // An unterminated quoted scalar starting on line 3: the scanner notices only at the end of the file.
        try "source:\n  host: 10.0.0.5\n  user: \"migrate\n  port: 3306\ntarget:\n  writer:\n    host: x\n".write(
            toFile: directory + "/migrate.yaml", atomically: true, encoding: .utf8)
        let broken = try await Binary.run(["config", "check"], in: directory, environment: Fixture.passwords)
        #expect(broken.status == 78)
        #expect(broken.standardError.contains("line 3"), "\(broken.standardError)")
    }

    @Test("init's template says which sessions are closed as the plan does (every client session, whatever application.users)")
    func templateMatchesCloser() {
        let statement = SessionCloser.selectSessions(users: []).description
        #expect(statement == SessionCloser.selectSessions(users: ["app"]).description)
        #expect(!statement.contains("INNODB_TRX") && !statement.contains("p.USER IN"))
        #expect(ExampleConfiguration.text.contains("every client session is closed, whatever its account"))
        #expect(!ExampleConfiguration.text.contains("empty: every account except"))
    }

    @Test("an unfinished run in the journal refuses a new run with exit 2, naming resume")
    func unfinishedRunExitStatus() {
        let (status, message) = ExitStatus.of(
            CutoverError(code: .unfinishedRun, message: "the journal j holds the unfinished run r", remedy: "finish it first with `migrate-cli resume`"))
        #expect(status == .refused)
        #expect(message.contains("migrate-cli resume"))
    }

    @Test("command-word suggestions")
    func suggestions() {
        #expect(CommandSuggestion.suggestion(for: "statsu", among: ["status", "sandbox"]) == "status")
        #expect(CommandSuggestion.suggestion(for: "pre", among: ["preflight", "plan"]) == "preflight")
        #expect(CommandSuggestion.suggestion(for: "zzzzzz", among: ["status"]) == nil)
        #expect(CommandSuggestion.problem(["status", "--json"]) == nil)
        #expect(CommandSuggestion.problem(["--help"]) == nil)
        #expect(CommandSuggestion.problem(["help"]) == nil)
        #expect(CommandSuggestion.problem(["cutover", "sideways"]) == nil)  // argument-parser's to report
    }
}
