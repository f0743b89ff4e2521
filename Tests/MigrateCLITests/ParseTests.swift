import ArgumentParser
import Cutover
import Logging
import CutoverRehearsal
import CutoverSandbox
import Testing

@testable import MigrateCLI

/// Parses `arguments` as the root command and returns the leaf, typed.
func parse<T: ParsableCommand>(_ arguments: [String], as type: T.Type, sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
    let command = try MigrateCommand.parseAsRoot(arguments)
    return try #require(command as? T, "parsed \(Swift.type(of: command))", sourceLocation: sourceLocation)
}

@Suite("Parsing every command")
struct ParseTests {
    let global = ["--config", "/etc/migrate/m.yaml", "--set", "policy.drain-deadline=300ms", "--set", "journal.path=j.jsonl", "--json", "--log-level", "debug"]

    func expectGlobal(_ options: GlobalOptions) {
        #expect(options.configPath == "/etc/migrate/m.yaml")
        #expect(options.assignments == ["policy.drain-deadline=300ms", "journal.path=j.jsonl"])
        #expect(options.json)
        #expect(options.logLevel == .debug)
    }

    @Test("global options default to: no file named, no assignments, human output, warning")
    func defaults() throws {
        let command = try parse(["status"], as: StatusCommand.self)
        #expect(command.options.configPath == nil)
        #expect(command.options.assignments.isEmpty)
        #expect(!command.options.json)
        #expect(command.options.logLevel == .warning)
    }

    @Test("rehearse")
    func rehearse() throws {
        let command = try parse(["rehearse", "--workload", "auto-increment", "--clients", "8", "--aurora-delays", "--load-between", "500ms", "--json"], as: RehearseCommand.self)
        #expect(command.workload == .autoIncrement)
        #expect(command.clients == 8)
        #expect(command.auroraDelays)
        #expect(command.loadBetween == "500ms")
        #expect(command.options.json)
        let defaults = try parse(["rehearse"], as: RehearseCommand.self)
        #expect(defaults.workload == .mix)
        #expect(defaults.clients == 4)
        #expect(!defaults.auroraDelays)
        #expect(defaults.loadBetween == "2s")
        #expect(try parse(["rehearse", "--write-threads", "3"], as: RehearseCommand.self).clients == 3)
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["rehearse", "--workload", "sideways"]) }
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["rehearse", "--load-between", "30"]) }
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["rehearse", "--clients", "0"]) }
    }

    @Test("rehearse and sandbox up --proxysql-nodes (issue #16)")
    func proxysqlNodes() throws {
        #expect(try parse(["rehearse"], as: RehearseCommand.self).proxysqlNodes == 1)
        #expect(try parse(["rehearse", "--proxysql-nodes", "4"], as: RehearseCommand.self).proxysqlNodes == 4)
        #expect(try parse(["sandbox", "up", "--proxysql-nodes", "3"], as: SandboxCommand.Up.self).sandbox.proxysqlNodes == 3)
        #expect(try parse(["sandbox", "up"], as: SandboxCommand.Up.self).sandbox.proxysqlNodes == 1)
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["rehearse", "--proxysql-nodes", "0"]) }
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["rehearse", "--proxysql-nodes", "129"]) }
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["sandbox", "up", "--proxysql-nodes", "0"]) }
    }

    @Test("sandbox up|status|down")
    func sandbox() throws {
        #expect(try parse(["sandbox", "up", "--state-dir", "x"], as: SandboxCommand.Up.self).sandbox.stateDirectory == "x")
        #expect(try parse(["sandbox", "up", "--aurora-delays"], as: SandboxCommand.Up.self).sandbox.auroraDelays)
        #expect(try parse(["sandbox", "status", "--json"], as: SandboxCommand.Status.self).options.json)
        let down = try parse(["sandbox", "down"], as: SandboxCommand.Down.self)
        #expect(down.sandbox.stateDirectory == nil)
        #expect(down.sandbox.stateDirectoryPath.hasSuffix("/migrate-cli-sandbox"))
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["sandbox", "up", "--aurora-delays", "soon"]) }
    }

    @Test("plan --offline; reverse-user create --host")
    func newOptions() throws {
        #expect(try parse(["plan", "writer-cutover", "--offline"], as: PlanCommand.self).offline)
        #expect(!(try parse(["plan", "writer-cutover"], as: PlanCommand.self).offline))
        #expect(try parse(["reverse-user", "create", "--host", "10.0.0.%"], as: ReverseUserCommand.Create.self).host == "10.0.0.%")
        #expect(try parse(["reverse-user", "create"], as: ReverseUserCommand.Create.self).host == "%")
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["reverse-user", "create", "--host", ""]) }
    }

    @Test("init")
    func initCommand() throws {
        let command = try parse(["init", "--output", "/tmp/m.yaml", "--force"], as: InitCommand.self)
        #expect(command.output == "/tmp/m.yaml")
        #expect(command.force)
        let defaults = try parse(["init"], as: InitCommand.self)
        #expect(defaults.output == "migrate.yaml")
        #expect(!defaults.force)
    }

    @Test("config check|show|keys")
    func config() throws {
        expectGlobal(try parse(["config", "check"] + global, as: ConfigCheckCommand.self).options)
        expectGlobal(try parse(["config", "show"] + global, as: ConfigShowCommand.self).options)
        #expect(try parse(["config", "keys", "--json"], as: ConfigKeysCommand.self).json)
    }

    @Test("preflight")
    func preflight() throws {
        let command = try parse(["preflight", "--operation", "writer-cutover"] + global, as: PreflightCommand.self)
        #expect(command.operation == .writerCutover)
        expectGlobal(command.options)
        #expect(try parse(["preflight"], as: PreflightCommand.self).operation == nil)
    }

    @Test("plan <operation>", arguments: CutoverOperation.allCases)
    func plan(_ operation: CutoverOperation) throws {
        let command = try parse(["plan", operation.rawValue] + global, as: PlanCommand.self)
        #expect(command.operation == operation)
        expectGlobal(command.options)
    }

    @Test("plan refuses an unknown operation and a missing one")
    func planErrors() {
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["plan", "writers"]) }
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["plan"]) }
    }

    @Test("status")
    func status() throws {
        expectGlobal(try parse(["status"] + global, as: StatusCommand.self).options)
    }

    @Test("cutover and failback, readers and writers, with --yes and --dry-run")
    func switches() throws {
        let writers = try parse(["cutover", "writers", "--yes", "--dry-run"] + global, as: CutoverCommand.Writers.self)
        #expect(writers.change.yes)
        #expect(writers.change.dryRun)
        expectGlobal(writers.options)
        let readers = try parse(["cutover", "readers", "-y"], as: CutoverCommand.Readers.self)
        #expect(readers.change.yes)
        #expect(!readers.change.dryRun)
        #expect(try parse(["failback", "writers", "--dry-run"], as: FailbackCommand.Writers.self).change.dryRun)
        #expect(!(try parse(["failback", "readers"], as: FailbackCommand.Readers.self).change.yes))
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["cutover", "everything"]) }
    }

    @Test("resume")
    func resume() throws {
        let command = try parse(["resume", "--yes"] + global, as: ResumeCommand.self)
        #expect(command.change.yes)
        #expect(!command.change.dryRun)
        expectGlobal(command.options)
        #expect(try parse(["resume", "--dry-run"], as: ResumeCommand.self).change.dryRun)
    }

    @Test("journal show")
    func journal() throws {
        let command = try parse(["journal", "show", "--file", "j.jsonl", "--run", "2026", "--statements"], as: JournalShowCommand.self)
        #expect(command.file == "j.jsonl")
        #expect(command.runID == "2026")
        #expect(command.statements)
        #expect(try parse(["journal", "show", "--all"], as: JournalShowCommand.self).all)
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["journal", "show", "--all", "--run", "x"]) }
    }

    @Test("accounts compare|copy")
    func accounts() throws {
        let compare = try parse(["accounts", "compare", "--user", "app", "--user", "app_ro"], as: AccountsCommand.Compare.self)
        #expect(compare.accounts.users == ["app", "app_ro"])
        let copy = try parse(["accounts", "copy", "--rewrite-host", "10.0.%=%", "--rewrite-host", "app.local=%.internal", "--dry-run"], as: AccountsCommand.Copy.self)
        #expect(copy.accounts.hostRewrites.map(\.from) == ["10.0.%", "app.local"])
        #expect(copy.accounts.hostRewrites.map(\.to) == ["%", "%.internal"])
        #expect(copy.change.dryRun)
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["accounts", "copy", "--rewrite-host", "10.0.%"]) }
    }

    @Test("reverse-user create")
    func reverseUser() throws {
        #expect(try parse(["reverse-user", "create", "--dry-run"], as: ReverseUserCommand.Create.self).change.dryRun)
    }

    @Test("timezones check|import")
    func timezones() throws {
        expectGlobal(try parse(["timezones", "check"] + global, as: TimezonesCommand.Check.self).options)
        #expect(try parse(["timezones", "import", "--yes"], as: TimezonesCommand.Import.self).change.yes)
    }

    @Test("retention check|set")
    func retention() throws {
        _ = try parse(["retention", "check"], as: RetentionCommand.Check.self)
        let set = try parse(["retention", "set", "--hours", "72", "--dry-run"], as: RetentionCommand.SetRetention.self)
        #expect(set.hours == 72)
        #expect(set.change.dryRun)
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["retention", "set", "--hours", "5000"]) }
        #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(["retention", "set"]) }
    }

    @Test("global options before the command are moved after it")
    func hoisting() throws {
        #expect(MigrateCommand.hoistingGlobalOptions(["--json", "--config", "m.yaml", "--set=a=b", "status", "--log-level", "info"])
            == ["status", "--log-level", "info", "--json", "--config", "m.yaml", "--set=a=b"])
        #expect(MigrateCommand.hoistingGlobalOptions(["cutover", "writers", "--json"]) == ["cutover", "writers", "--json"])
        #expect(MigrateCommand.hoistingGlobalOptions(["--help"]) == ["--help"])
        let command = try parse(MigrateCommand.hoistingGlobalOptions(["--json", "--config", "m.yaml", "cutover", "writers", "--yes"]), as: CutoverCommand.Writers.self)
        #expect(command.options.json && command.options.configPath == "m.yaml" && command.change.yes)
    }

    @Test("there is no way to give a password as an option")
    func noPasswordOption() {
        for arguments in [["status", "--password", "x"], ["cutover", "writers", "-p", "x"], ["status", "--source-password", "x"]] {
            #expect(throws: (any Error).self) { try MigrateCommand.parseAsRoot(arguments) }
        }
    }
}

@Suite("Help texts")
struct HelpTextTests {
    /// Every command of the tree, with its path.
    static func commands(_ type: any ParsableCommand.Type = MigrateCommand.self, path: [String] = []) -> [([String], any ParsableCommand.Type)] {
        let configuration = type.configuration
        let name = configuration.commandName ?? "?"
        let here = path + [name]
        var result = [(here, type)]
        let children = configuration.subcommands
        for child in children { result += commands(child, path: here) }
        return result
    }

    @Test("the tree has every command of the issue")
    func tree() {
        let paths = Set(Self.commands().map { $0.0.dropFirst().joined(separator: " ") })
        let expected = [
            "rehearse", "sandbox up", "sandbox status", "sandbox down", "init", "preflight", "plan", "status",
            "cutover readers", "cutover writers", "failback readers", "failback writers", "resume", "journal show",
            "accounts compare", "accounts copy", "reverse-user create", "timezones check", "timezones import",
            "retention check", "retention set", "config check", "config show", "config keys",
        ]
        for path in expected { #expect(paths.contains(path), "missing \(path)") }
    }

    @Test("every command has an abstract; commands that change something say how to undo it")
    func teaching() {
        for (path, type) in Self.commands() {
            let configuration = type.configuration
            #expect(!configuration.abstract.isEmpty, "\(path)")
            let help = MigrateCommand.helpMessage(for: type, columns: 200)
            let isLeaf = configuration.subcommands.isEmpty
            if isLeaf, help.contains("--dry-run"), !path.contains("plan") {
                #expect(help.lowercased().contains("undo"), "\(path.joined(separator: " ")) does not say how to undo")
            }
        }
    }

    @Test("no help text puts a password on the command line")
    func noPasswordsInExamples() {
        for (path, type) in Self.commands() {
            let help = MigrateCommand.helpMessage(for: type, columns: 200)
            for forbidden in ["--password", "PASSWORD=", "password=", "-p "] {
                #expect(!help.contains(forbidden), "\(path.joined(separator: " ")) contains \(forbidden)")
            }
        }
    }

    @Test("the root help lists the exit codes")
    func exitCodesInHelp() {
        let help = MigrateCommand.helpMessage(columns: 100)
        for status in ExitStatus.all { #expect(help.contains(status.short), "\(status)") }
    }
}
