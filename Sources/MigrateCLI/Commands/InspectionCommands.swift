public import ArgumentParser
import Cutover
public import CutoverRehearsal
public import CutoverSandbox
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
            let report = try await LibraryBridge.live.preflight(environment, operation)
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
            var report = try await LibraryBridge.live.status(environment)
            if !report.sections.contains(where: { $0.title == "Journal" }) {
                let journal = environment.configuration.journalPath
                report.sections.append(JournalRenderer.phase(try CutoverJournal.read(path: journal), path: journal))
            }
            runtime.emit(report)
            return report.exitStatus
        }
    }
}

// MARK: - Practice

extension RehearsalWorkload: ExpressibleByArgument {
    /// A workload name (`mix`, `sysbench-insert`, ...); `client-keys` is the older name of `plain`.
    public init?(argument: String) {
        if argument == "client-keys" {
            self = .plain
        } else if let workload = RehearsalWorkload(rawValue: argument) {
            self = workload
        } else {
            return nil
        }
    }

    /// The values `--workload` accepts.
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension WriteLoadWorkload: ExpressibleByArgument {
    /// `client-keys` or `auto-increment`.
    public init?(argument: String) {
        switch argument {
        case "client-keys": self = .clientKeys
        case "auto-increment": self = .autoIncrement
        default: return nil
        }
    }

    /// The values `--workload` accepts.
    public static var allValueStrings: [String] { ["client-keys", "auto-increment"] }
}

struct RehearseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rehearse",
        abstract: "Run the whole job on local servers: sandbox, replication, load, every switch, and the timeline.",
        discussion: """
            Needs no configuration and touches no real server. Starts two MariaDB servers (the source and an \
            "Aurora" with the mysql.rds_* procedures), the ProxySQL emulator, seeds a schema, sets up replication \
            through the procedures, starts a write load through the emulator's writer port, then runs preflight, \
            reader cut-over, writer cut-over, writer failback and writer cut-over again, with live progress. Ends \
            with each switch's write window, drain, catch-up and client-observed gap, and the writes sent / \
            acknowledged / lost, checked row by row on the final writer (lost must be 0).

            Exit 0 when every switch completed and nothing was lost; 1 when a write was lost or doubled; the \
            switch's own code (3 rolled back, ...) when a switch did not complete. Everything is stopped and \
            removed at the end, also on Ctrl-C or SIGTERM (the switch in flight rolls back first). To keep servers \
            running, use `migrate-cli sandbox up`.

            Examples:
              migrate-cli rehearse
              migrate-cli rehearse --workload sysbench-insert
              migrate-cli rehearse --workload pinned-at-connect --clients 8
              migrate-cli rehearse --aurora-delays --json > rehearsal.jsonl
              migrate-cli rehearse --server mysql
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The application: mix (default: AUTO_INCREMENT inserts, LAST_INSERT_ID() readers, clients pinned at connect, an idle pinned pool), plain, auto-increment, last-insert-id, pinned-at-connect, idle-pool, sysbench-insert, sysbench-insert-explicit, sysbench-write-only (sysbench beside one client of ours).", valueName: "name"))
    var workload: RehearsalWorkload = .mix

    @Option(name: [.customLong("clients"), .customLong("write-threads")], help: "Concurrent writers of the load.")
    var clients: Int = 4

    @Flag(name: .customLong("aurora-delays"), help: "Make the \"Aurora\" procedures sleep like Aurora's (1–3 s per start or stop, off the write window).")
    var auroraDelays = false

    @Option(name: .customLong("load-between"), help: ArgumentHelp("How long the load runs before the first switch and between switches.", valueName: "duration"))
    var loadBetween: String = "2s"

    @Option(name: .customLong("server"), help: ArgumentHelp("The servers: mariadb, or mysql (MySQL 9.7 with GTIDs; install it once with `migrate-cli sandbox install-mysql`).", valueName: "kind"))
    var server: SandboxServerKind = .mariadb

    @Option(name: .customLong("proxysql-nodes"), help: ArgumentHelp("ProxySQL emulator nodes (a fleet): the load spreads over their writer ports, every switch is applied to and verified on each.", valueName: "N"))
    var proxysqlNodes: Int = 1

    @Flag(name: .customLong("canary-per-node"), help: "One canary per ProxySQL node (through each node's writer port): each node's longest gap reported, the worst as the headline.")
    var canaryPerNode = false

    @Option(name: .customLong("switch"), help: ArgumentHelp("How the writer moves: proxysql (default: the ProxySQL emulator), or hook (no proxy: the clients find the writer through a file the switch command rewrites, reconnect on 1290 / lost connection; cut-over, failback, cut-over; every acknowledged write checked). With hook, --workload is plain, auto-increment, last-insert-id, idle-pool or mix (plain + auto-increment + last-insert-id + idle-pool; pinned-at-connect and sysbench-* are refused), and --server mariadb or mysql.", valueName: "mode"))
    var switchMode: String = "proxysql"

    /// `rehearse --switch hook` (#15 item 2).
    func runHook(_ runtime: CommandRuntime) async throws -> ExitStatus {
        let json = options.json
        let result = try await HookSwitchRehearsal.run(
            clients: clients, loadBetween: HumanDuration.parse(loadBetween) ?? .seconds(2), workload: workload, serverKind: server,
            logger: runtime.logger
        ) { line in
            if !json { runtime.writeError("  \(line)\n") }
        }
        var report = CommandReport(command: "rehearse --switch hook")
        report.sections.append(.init(
            title: "Switches without ProxySQL", headers: ["stage", "outcome", "window", "acknowledged", "client errors", "took"],
            rows: result.stages.map { stage in
                [stage.name, stage.outcome == .completed ? "completed" : "\(stage.outcome)",
                 stage.window.map { HumanDuration.readable($0) } ?? "-", "\(stage.acknowledged)",
                 stage.clientErrors.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "),
                 HumanDuration.readable(stage.duration)]
            }))
        report.notes.append("servers: \(result.serverKind); clients: \(result.shapes.map(\.description).joined(separator: ", ")) (workload \(workload))")
        report.notes.append("verification: \(result.acknowledged) acknowledged write(s), \(result.lost.count) lost and \(result.doubled.count) doubled on the final writer" + (result.lost.isEmpty ? "" : "; lost: \(result.lost.prefix(10))") + (result.doubled.isEmpty ? "" : "; doubled: \(result.doubled.prefix(10))"))
        for violation in result.violations.prefix(10) { report.notes.append("violation: \(violation)") }
        report.notes.append("clients see errors (1290 on writes, 2013 when their session is closed) for the window's length: that is this mode, not a fault")
        if let stopped = result.stoppedEarly { report.notes.append("stopped early: \(stopped)") }
        if !result.succeeded { report.status = .failure }
        runtime.emit(report)
        return report.exitStatus
    }

    func validate() throws {
        guard ["proxysql", "hook"].contains(switchMode) else { throw ValidationError("--switch must be proxysql or hook") }
        if switchMode == "hook" {
            if case .failure(let refusal) = HookSwitchRehearsal.shapes(for: workload) { throw ValidationError(refusal.description) }
            guard proxysqlNodes == 1 else { throw ValidationError("--proxysql-nodes has no meaning with --switch hook: there is no proxy") }
        }
        guard (1...256).contains(clients) else { throw ValidationError("--clients must be 1–256") }
        guard (1...Rehearsal.maximumProxyNodes).contains(proxysqlNodes) else {
            throw ValidationError("--proxysql-nodes must be 1–\(Rehearsal.maximumProxyNodes)")
        }
        guard let value = HumanDuration.parse(loadBetween), value > .zero, value <= .seconds(600) else {
            throw ValidationError("--load-between: '\(loadBetween)' is not a duration of at most 10m (for example 2s, 500ms)")
        }
    }

    func run() async throws {
        let runtime = CommandRuntime(options: options)
        if switchMode == "hook" {
            try await runtime.run { try await runHook(runtime) }
            return
        }
        try await runtime.run {
            let request = RehearsalRequest(
                workload: workload,
                clients: clients,
                auroraDelays: auroraDelays,
                loadBetweenSwitches: HumanDuration.parse(loadBetween) ?? .seconds(2),
                serverKind: server,
                logger: runtime.logger,
                proxyNodes: proxysqlNodes,
                canaryPerNode: canaryPerNode
            )
            let printer = RehearsalPrinter(json: options.json, style: runtime.style, write: { runtime.write($0) })
            let report = try await cancellingOnInterrupt {
                try await LibraryBridge.live.rehearse(request) { event in printer.print(event) }
            }
            printer.finish()
            runtime.emit(report)
            return report.exitStatus
        }
    }
}

/// Prints a rehearsal's progress: phases, the preflight, and each switch with the run renderers.
final class RehearsalPrinter: Sendable {
    private let json: Bool
    private let style: TerminalStyle
    private let write: @Sendable (String) -> Void
    private let renderer = Mutex<(operation: CutoverOperation?, renderer: (any ProgressRendering)?)>((nil, nil))

    init(json: Bool, style: TerminalStyle, write: @escaping @Sendable (String) -> Void) {
        self.json = json
        self.style = style
        self.write = write
    }

    func print(_ event: RehearsalScript.Event) {
        switch event {
        case .phase(let text):
            finish()
            write(json ? JSONValue.object([("event", "phase"), ("message", .string(text))]).serialized + "\n" : "\n" + style.bold("==> \(text)") + "\n")
        case .note(let text):
            write(json ? JSONValue.object([("event", "note"), ("message", .string(text))]).serialized + "\n" : "    \(text)\n")
        case .canary(let operation, let report):
            finish()
            write(
                json
                    ? CanaryRendering.jsonLines(report, operation: operation.rawValue)
                    : CanaryRendering.textLines(report, prefix: "    \(operation): ")
            )
        case .preflight(let report):
            if json {
                write(JSONValue.object([
                    ("event", "preflight"), ("can_proceed", .bool(report.canProceed)),
                    ("checks", .array(report.checks.map { .object([("id", .string($0.id)), ("status", .string($0.status.rawValue)), ("detail", .string($0.detail))]) })),
                ]).serialized + "\n")
            } else {
                var text = ""
                for check in report.checks {
                    let status = check.status == .pass ? style.green("pass") : check.status == .warn ? style.yellow("warn") : style.red("FAIL")
                    let detail = check.detail.split(separator: "\n").first.map(String.init) ?? ""
                    text += "    \(status) \(check.id): \(detail)\n"
                }
                text += "    preflight: \(report.count(.pass)) pass, \(report.count(.warn)) warn, \(report.count(.fail)) fail\n"
                write(text)
            }
        case .cutover(let operation, let progress):
            let text = renderer.withLock { state -> String in
                if state.operation != operation || state.renderer == nil {
                    state.operation = operation
                    state.renderer = OperationCommand.rendererFactory(json: json, style: style)(RunContext(resumeCommand: "(a rehearsal is not resumed: run it again)", statusCommand: "migrate-cli sandbox status", showsUndo: false))
                }
                var current = state.renderer!
                let text = current.render(progress)
                state.renderer = current
                if case .runFinished = progress {
                    let closing = current.finish()
                    state.renderer = nil
                    return text + closing
                }
                return text
            }
            write(text)
        }
    }

    func finish() {
        let text = renderer.withLock { state -> String in
            guard var current = state.renderer else { return "" }
            state.renderer = nil
            return current.finish()
        }
        write(text)
    }
}

struct SandboxOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where the sandbox's state, configuration and secrets are (default: $TMPDIR/migrate-cli-sandbox).", valueName: "dir"))
    var stateDirectory: String?

    @Flag(name: .customLong("aurora-delays"), help: "Make the \"Aurora\" procedures sleep like Aurora's (1–3 s per start or stop).")
    var auroraDelays = false

    @Option(name: .customLong("server"), help: ArgumentHelp("The servers `up` starts: mariadb, or mysql (MySQL 9.7; see `sandbox install-mysql`).", valueName: "kind"))
    var server: SandboxServerKind = .mariadb

    @Option(name: .customLong("proxysql-nodes"), help: ArgumentHelp("ProxySQL emulator nodes `up` starts (a fleet; each listed in migrate.yaml).", valueName: "N"))
    var proxysqlNodes: Int = 1

    func validate() throws {
        guard (1...Rehearsal.maximumProxyNodes).contains(proxysqlNodes) else {
            throw ValidationError("--proxysql-nodes must be 1–\(Rehearsal.maximumProxyNodes)")
        }
    }

    var stateDirectoryPath: String {
        if let stateDirectory { return absolute(stateDirectory, relativeTo: FileManager.default.currentDirectoryPath) }
        let temporary = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return absolute("migrate-cli-sandbox", relativeTo: temporary)
    }
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
        subcommands: [Up.self, Status.self, Down.self, InstallMySQL.self]
    )

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "up",
            abstract: "Start the sandbox, print its endpoints and accounts, and keep it running until Ctrl-C.",
            discussion: """
                Starts the servers (forward replication through the procedures, the ProxySQL emulator with the \
                source rows ONLINE and the "Aurora" rows OFFLINE_HARD, binlog retention set), prints every \
                endpoint and account, and writes, in the state directory: sandbox.json (the state `status` and \
                `down` read), migrate.yaml (a configuration for this tool), and secrets/ (0600 password files \
                and a client option file; passwords are never printed). Then stays in the foreground.

                Undo: Ctrl-C, SIGTERM or `migrate-cli sandbox down` stop the servers and remove their data and \
                these files.

                Examples:
                  migrate-cli sandbox up &
                  migrate-cli --config /tmp/migrate-cli-sandbox/migrate.yaml preflight
                  migrate-cli --config /tmp/migrate-cli-sandbox/migrate.yaml cutover writers --yes
                  migrate-cli sandbox down
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var sandbox: SandboxOptions

        func run() async throws {
            let runtime = CommandRuntime(options: options)
            try await runtime.run {
                let request = SandboxRequest(stateDirectory: sandbox.stateDirectoryPath, auroraDelays: sandbox.auroraDelays, serverKind: sandbox.server, logger: runtime.logger, proxyNodes: sandbox.proxysqlNodes)
                let report = try await LibraryBridge.live.sandboxUp(request) { ready in runtime.emit(ready) }
                runtime.emit(report)
                return report.exitStatus
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show whether the sandbox runs, and check each of its endpoints.",
            discussion: "Changes nothing. Exit 0 when every endpoint answers, 2 otherwise (or when no sandbox runs)."
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var sandbox: SandboxOptions

        func run() async throws {
            try await SandboxCommand.perform(options: options, sandbox: sandbox, LibraryBridge.live.sandboxStatus)
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "down",
            abstract: "Stop the sandbox (signals `sandbox up`) and remove its servers, data and files."
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var sandbox: SandboxOptions

        func run() async throws {
            try await SandboxCommand.perform(options: options, sandbox: sandbox, LibraryBridge.live.sandboxDown)
        }
    }

    static func perform(
        options: GlobalOptions,
        sandbox: SandboxOptions,
        _ part: @Sendable (SandboxRequest) async throws -> CommandReport
    ) async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let report = try await part(SandboxRequest(stateDirectory: sandbox.stateDirectoryPath, auroraDelays: sandbox.auroraDelays, logger: runtime.logger))
            runtime.emit(report)
            return report.exitStatus
        }
    }
}
