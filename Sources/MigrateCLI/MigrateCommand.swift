import ArgumentParser
import Foundation

/// `migrate-cli`: the operator's tool. Thin: parsing, configuration, rendering and exit codes; the behaviour is the
/// library's.
@main
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-cli",
        abstract: "Move a live MySQL primary behind ProxySQL to Amazon Aurora MySQL with a short, bounded, measured write window.",
        discussion: """
            Practise first: `migrate-cli rehearse` runs the whole job on local
            servers; `migrate-cli sandbox up` leaves them running to practise by hand.

            A real migration, in order:
              init                  write migrate.yaml, then edit it
              config check          validate it, read every password source
              replication start-forward   Aurora replicates from the restored copy's
                                    coordinates (--from-dump, --file/--position, --gtid)
              preflight             check the servers and ProxySQL nodes
              plan writer-cutover   the exact statements, per endpoint
              cutover readers       reads to Aurora (undo: failback readers)
              cutover writers       writes to Aurora: the one write window
              status                routing, replication both ways, journal
              failback writers      writes back to the source, if needed
              finish                decommission the source (no failback after it)

            Passwords are never accepted on the command line: the configuration
            names an environment variable, a file, a login path or an option file
            for each account. Commands that change something ask for confirmation
            unless --yes, and take --dry-run.

            \(ExitStatus.helpText)
            """,
        version: "0.1.0",
        groupedSubcommands: [
            CommandGroup(name: "Practise", subcommands: [RehearseCommand.self, SandboxCommand.self]),
            CommandGroup(name: "Prepare", subcommands: [
                InitCommand.self, ConfigCommand.self, ReplicationCommand.self, PreflightCommand.self, PlanCommand.self,
                StatusCommand.self,
            ]),
            CommandGroup(name: "Switch", subcommands: [
                CutoverCommand.self, FailbackCommand.self, ResumeCommand.self, JournalCommand.self, FinishCommand.self,
            ]),
            CommandGroup(name: "Helpers", subcommands: [
                AccountsCommand.self, ReverseUserCommand.self, TimezonesCommand.self, RetentionCommand.self,
            ]),
        ]
    )

    /// Parses and runs, accepting the global options before the command too (`migrate-cli --json status`).
    static func main() async {
        // A reader that went away (`| head`, a dropped SSH session's pipe) must not kill a run mid-window: writes
        // then fail with EPIPE, which the output functions ignore (#13 item 9).
        signal(SIGPIPE, SIG_IGN)
        let arguments = hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst()))
        if let problem = CommandSuggestion.problem(arguments) {
            CommandRuntime.writeAll(STDERR_FILENO, "error: \(problem)\n")
            Glibc.exit(ExitStatus.usage.code)
        }
        await main(arguments)
    }

    /// Moves `--config`, `--set`, `--json` and `--log-level` written before the command to its end, where the
    /// command's option group parses them. Stops at the first other word.
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        let withValue: Set<String> = ["--config", "--set", "--log-level"]
        var hoisted: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let word = arguments[index]
            let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            if word == "--json" {
                hoisted.append(word)
                index += 1
            } else if withValue.contains(name) {
                hoisted.append(word)
                if !word.contains("="), index + 1 < arguments.endIndex {
                    hoisted.append(arguments[index + 1])
                    index += 2
                } else {
                    index += 1
                }
            } else {
                break
            }
        }
        return Array(arguments[index...]) + hoisted
    }
}
