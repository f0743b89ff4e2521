import ArgumentParser
import Cutover
import Foundation
import Synchronization

struct PreflightCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Check both databases and every ProxySQL node before a switch; change nothing.",
        discussion: """
            Connects to every endpoint (naming the one that is unreachable or refuses the login) and checks: the \
            ProxySQL rows of the configuration exist on every node, in the configured hostgroups; Aurora is not in a \
            mysql_replication_hostgroups pair; replication is running without errors and under policy.lag-budget; \
            no long write transaction on the source; Aurora binlog on and retention set, the reverse-replication \
            account present; what pins sessions right now. Each blocking reason says how to fix it.

            Changes nothing. Exit 0 when ready, 2 when something blocks.

            Examples:
              migrate-cli preflight
              migrate-cli preflight --operation writer-cutover --json
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Check for this operation only.", valueName: "operation"))
    var operation: CutoverOperation?

    func run() async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let environment = try runtime.commandEnvironment()
            let preflight = try LibraryBridge.require(LibraryBridge.live.preflight, "preflight")
            let report = try await preflight(environment, operation)
            runtime.emit(report)
            return report.exitStatus
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show routing, replication in both directions and the journal's phase; change nothing.",
        discussion: """
            Every ProxySQL node's runtime rows for the configured servers (status, ConnUsed), forward and reverse \
            replication (threads, lag, last errors), and the phase of the journal's last run.

            Examples:
              migrate-cli status
              watch -n1 migrate-cli status
              migrate-cli status --json
            """
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let environment = try runtime.commandEnvironment()
            guard let status = LibraryBridge.live.status else {
                throw FeatureUnavailable(
                    feature: "migrate-cli status",
                    detail: "not available yet in this build (the journal's phase is shown by `migrate-cli journal show`)"
                )
            }
            var report = try await status(environment)
            let journal = environment.configuration.journalPath
            report.sections.append(JournalRenderer.phase(try CutoverJournal.read(path: journal), path: journal))
            runtime.emit(report)
            return report.exitStatus
        }
    }
}

// MARK: - Practice

struct RehearsalOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where the sandbox keeps its servers' data and state.", valueName: "dir"))
    var stateDirectory: String = ".migrate-sandbox"

    @Option(name: .customLong("aurora-procedure-delay"), help: ArgumentHelp("Sleep inside each mysql.rds_* stand-in, like Aurora's (0s for none).", valueName: "duration"))
    var auroraProcedureDelay: String = "1s"

    func validate() throws {
        guard HumanDuration.parse(auroraProcedureDelay) != nil else {
            throw ValidationError("--aurora-procedure-delay: '\(auroraProcedureDelay)' is not a duration (for example 0s, 500ms, 2s)")
        }
    }

    var delay: Duration { HumanDuration.parse(auroraProcedureDelay) ?? .seconds(1) }
    var stateDirectoryPath: String { absolute(stateDirectory, relativeTo: FileManager.default.currentDirectoryPath) }
}

struct RehearseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rehearse",
        abstract: "Run the whole job on local servers: sandbox, replication, load, every switch, and the timeline.",
        discussion: """
            Needs no configuration and touches no real server. Starts two MariaDB servers (the source and an \
            "Aurora" with the mysql.rds_* procedures), the ProxySQL emulator, seeds a schema, sets up replication \
            through the procedures, starts a write load, then runs preflight, reader cut-over, writer cut-over, \
            writer failback and writer cut-over again, with live progress. Ends with each switch's write window, \
            drain and catch-up, and writes sent / acknowledged / lost (lost must be 0). Everything is removed at the \
            end, also on Ctrl-C, unless --keep-sandbox.

            Examples:
              migrate-cli rehearse
              migrate-cli rehearse --write-threads 8 --duration 30s --json > rehearsal.jsonl
            """
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var sandbox: RehearsalOptions

    @Option(name: .customLong("write-threads"), help: "Concurrent writers of the load.")
    var writeThreads: Int = 4

    @Option(name: .long, help: ArgumentHelp("How long the load runs around the switches.", valueName: "duration"))
    var duration: String = "20s"

    @Flag(name: .customLong("keep-sandbox"), help: "Leave the servers running at the end (stop them with `migrate-cli sandbox down`).")
    var keepSandbox = false

    func validate() throws {
        guard (1...256).contains(writeThreads) else { throw ValidationError("--write-threads must be 1–256") }
        guard let value = HumanDuration.parse(duration), value > .zero else {
            throw ValidationError("--duration: '\(duration)' is not a duration (for example 20s, 1m)")
        }
    }

    func run() async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let rehearse = try LibraryBridge.require(LibraryBridge.live.rehearse, "rehearse")
            let request = RehearsalRequest(
                writeThreads: writeThreads,
                duration: HumanDuration.parse(duration) ?? .seconds(20),
                auroraProcedureDelay: sandbox.delay,
                keepSandbox: keepSandbox,
                stateDirectory: sandbox.stateDirectoryPath,
                logger: runtime.logger
            )
            let renderer = RendererBox(OperationCommand.rendererFactory(json: options.json, style: runtime.style)(RunContext()))
            let report = try await cancellingOnInterrupt {
                try await rehearse(request) { event in runtime.write(renderer.render(event)) }
            }
            runtime.write(renderer.finish())
            runtime.emit(report)
            return report.exitStatus
        }
    }
}

/// A renderer shared with a progress callback (the rehearsal reports progress from its own tasks).
final class RendererBox: Sendable {
    private let renderer: Mutex<any ProgressRendering>

    init(_ renderer: any ProgressRendering) { self.renderer = Mutex(renderer) }

    func render(_ event: CutoverProgress) -> String { renderer.withLock { $0.render(event) } }
    func finish() -> String { renderer.withLock { $0.finish() } }
}

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Start, inspect or stop local practice servers (source, \"Aurora\", ProxySQL emulator).",
        discussion: """
            The rehearsal's servers, left running: practise each step by hand with the stock `mariadb` client, \
            point other tools at them, or run the commands of this tool against them (`sandbox up` writes a \
            configuration for them). Local only: 127.0.0.1, throwaway data directories.
            """,
        subcommands: [Up.self, Status.self, Down.self]
    )

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "up",
            abstract: "Start the sandbox and print its endpoints and accounts.",
            discussion: """
                Prints the ProxySQL emulator's admin and data ports, the source and "Aurora" servers and their \
                accounts, and writes a configuration for them in the state directory.

                Undo: `migrate-cli sandbox down`.

                Example:
                  migrate-cli sandbox up && migrate-cli preflight --config .migrate-sandbox/migrate.yaml
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var sandbox: RehearsalOptions

        func run() async throws {
            try await SandboxCommand.perform(options: options, sandbox: sandbox, command: "sandbox up", LibraryBridge.live.sandboxUp)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show whether the sandbox runs, and its endpoints.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var sandbox: RehearsalOptions

        func run() async throws {
            try await SandboxCommand.perform(options: options, sandbox: sandbox, command: "sandbox status", LibraryBridge.live.sandboxStatus)
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "down",
            abstract: "Stop the sandbox's servers and remove their data directories."
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var sandbox: RehearsalOptions

        func run() async throws {
            try await SandboxCommand.perform(options: options, sandbox: sandbox, command: "sandbox down", LibraryBridge.live.sandboxDown)
        }
    }

    static func perform(
        options: GlobalOptions,
        sandbox: RehearsalOptions,
        command: String,
        _ part: (@Sendable (SandboxRequest) async throws -> CommandReport)?
    ) async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let part = try LibraryBridge.require(part, command)
            let report = try await part(SandboxRequest(stateDirectory: sandbox.stateDirectoryPath, auroraProcedureDelay: sandbox.delay, logger: runtime.logger))
            runtime.emit(report)
            return report.exitStatus
        }
    }
}
