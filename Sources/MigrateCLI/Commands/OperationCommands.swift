public import ArgumentParser
public import Cutover
import Foundation

extension CutoverOperation: ExpressibleByArgument {}

/// Shared by `cutover`, `failback` and `plan`: load, confirm, build the executor, run, render, exit.
enum OperationCommand {
    static func execute(
        _ operation: CutoverOperation,
        options: GlobalOptions,
        change: ChangeOptions,
        planOptions: PlanOptions = PlanOptions(),
        bridge: LibraryBridge = .live,
        runtime: CommandRuntime? = nil
    ) async throws {
        let runtime = runtime ?? CommandRuntime(options: options)
        try await runtime.run {
            let environment = try runtime.commandEnvironment(bridge: bridge)
            // Without ProxySQL: the writer switch runs the configured command (#15 item 2).
            if let settings = environment.configuration.switchSettings {
                return try await executeSwitch(operation, settings: settings, environment: environment, runtime: runtime, change: change)
            }
            if change.dryRun {
                return write(try await bridge.plan(environment, operation, planOptions), runtime: runtime)
            }
            try runtime.confirm(confirmation(for: operation, configuration: environment.configuration), change: change)
            return try await withJournaledSession(environment, runtime: runtime, bridge: bridge) { session in
                try await session.run(operation).1
            }
        }
    }

    /// `cutover writers` / `failback writers` (and their dry run) with a `switch` configuration.
    static func executeSwitch(
        _ operation: CutoverOperation, settings: HookSwitch.Settings, environment: CommandEnvironment,
        runtime: CommandRuntime, change: ChangeOptions
    ) async throws -> ExitStatus {
        guard operation.movesWriter else {
            let report = HookSwitchWiring.unsupported(operation)
            runtime.emit(report)
            return report.exitStatus
        }
        let direction: HookSwitch.Direction = operation == .writerCutover ? .cutover : .failback
        let json = runtime.options.json
        let killHook = change.dryRun ? nil : try runtime.testKillHook()
        let report = try await HookSwitchWiring.run(environment, direction: direction, settings: settings, dryRun: change.dryRun, confirm: {
            try runtime.confirm(
                "About to move the writer \(direction.oldWriter) → \(direction.newWriter) without ProxySQL: \(direction.oldWriter) "
                    + "becomes read-only (writes fail with 1290) until the switch command has pointed the applications at "
                    + "\(direction.newWriter). The command is the point of no return.", change: change)
        }, killHook: killHook) { step in
            if !json { runtime.writeError("  \(step.step): \(step.outcome)\n") }
        }
        runtime.emit(report)
        return report.exitStatus
    }

    /// Writes `plan` as JSON or text, as the options ask.
    static func write(_ plan: DryRunPlan, runtime: CommandRuntime) -> ExitStatus {
        runtime.write(
            runtime.options.json ? PlanRenderer.json(plan) : PlanRenderer.human(plan, style: runtime.style))
        return .success
    }

    /// Opens the live executor, runs `body` with a journaled session over it, and closes the executor whether
    /// `body` returns or throws.
    static func withJournaledSession(
        _ environment: CommandEnvironment,
        runtime: CommandRuntime,
        bridge: LibraryBridge,
        _ body: (OperationSession) async throws -> ExitStatus
    ) async throws -> ExitStatus {
        let killHook = try runtime.testKillHook()
        let prepared = try await bridge.openExecutor(environment)
        let session = OperationSession(
            environment: environment,
            executor: prepared.executor,
            context: RunContext(
                resumeCommand: runtime.resumeCommand,
                statusCommand: runtime.statusCommand,
                journalPath: environment.configuration.journalPath
            ),
            journaled: true,
            killHook: killHook,
            json: runtime.options.json,
            output: { runtime.write($0) },
            makeRenderer: rendererFactory(json: runtime.options.json, style: runtime.style)
        )
        do {
            let status = try await body(session)
            await prepared.close()
            return status
        } catch {
            await prepared.close()
            throw error
        }
    }

    static func rendererFactory(json: Bool, style: TerminalStyle) -> @Sendable (RunContext) -> any ProgressRendering {
        { context in json ? JSONProgressRenderer(context: context) : HumanProgressRenderer(style: style, context: context) }
    }

    /// What the operator confirms: the operation, the rows that change on which nodes, and the bounds.
    static func confirmation(for operation: CutoverOperation, configuration: MigrateConfiguration) -> String {
        let topology = configuration.topology
        let kind: RoutedServer.Kind = operation.movesWriter ? .writer : .reader
        let from = topology.key(of: RoutedServer(operation.from, kind)).map { "\($0)" } ?? "-"
        let to = topology.key(of: RoutedServer(operation.to, kind)).map { "\($0)" } ?? "-"
        var text = "About to run \(operation) on ProxySQL \(topology.proxyNodes.joined(separator: ", ")):\n"
        text += "  \(operation.from) \(kind) \(from) → OFFLINE_SOFT, drain, OFFLINE_HARD\n"
        text += "  \(operation.to) \(kind) \(to) → ONLINE\n"
        if operation.movesWriter {
            let policy = configuration.policy
            text += "  writes wait at most drain \(HumanDuration.format(policy.drainDeadline)) + catch-up \(HumanDuration.format(policy.catchUpDeadline)); "
            text += "at the drain deadline: \(policy.drainDeadlinePolicy.rawValue)\n"
            if policy.replicationSettleDeadline > .zero, policy.replicationSettleThreshold > .zero {
                text += "  before OFFLINE_SOFT (writes go on): up to \(HumanDuration.format(policy.replicationSettleDeadline)) for "
                text += "the new writer to come within \(HumanDuration.format(policy.replicationSettleThreshold)) of the old one, "
                text += "else roll back\n"
            }
            if policy.autoIncrementPin != .keep {
                text += policy.autoIncrementPin == .relax
                    ? "  auto-increment pin relaxed for the run"
                    : "  auto-increment pin relaxed for the run if stats_mysql_query_digest shows no LAST_INSERT_ID()"
                if policy.autoIncrementPinSettle > .zero {
                    text += "; before OFFLINE_SOFT, up to \(HumanDuration.format(policy.autoIncrementPinSettle)) for pins taken earlier to run out (writes go on meanwhile)"
                }
                text += "\n"
            }
            if policy.pinnedSessions == .cut {
                text += "  sessions held on the old writer only by an idle pin (auto-increment insert, @ variable, lock) are cut at OFFLINE_HARD: their next statement gets error 2013 and their client reconnects to the new writer\n"
            }
            text += "  before the new writer is ONLINE any failure rolls back; after it the run only moves forward (`migrate-cli resume`)\n"
            if policy.shunnedWriterWatch > .zero {
                text += "  after the ONLINE (outside the window): \(HumanDuration.format(policy.shunnedWriterWatch)) watching ProxySQL for the "
                text += "new writer SHUNNED; where it is and a login to it succeeds, LOAD MYSQL SERVERS TO RUNTIME with the rows "
                text += "unchanged (at most \(policy.shunnedWriterReloads)×; up to 3s once it is seen SHUNNED)\n"
            }
        }
        text += "  journal: \(configuration.journalPath)"
        return text
    }
}

// MARK: - cutover / failback

private let writerDiscussion = """
    Steps, each journaled before it starts: guards (replication running, lag under policy.lag-budget, no long \
    write transaction, reverse-replication prerequisites, no replication-hostgroup pair on Aurora); ProxySQL query \
    retries off (and, with policy.auto-increment-pin: relax, the pin relaxed, then up to \
    policy.auto-increment-pin-settle for pins taken before to run out while writes go on); replication settle, \
    still outside the window: read the old writer's position and wait on the new writer until one wait takes at \
    most policy.replication-settle-threshold, within policy.replication-settle-deadline, else roll back with the \
    measured lag; old writer OFFLINE_SOFT \
    (the write window opens); drain until ConnUsed is 0 or \
    policy.drain-deadline; OFFLINE_HARD and close the sessions still attached; fence the old writer read-only; \
    read its final binlog position; wait until the new writer executed it (policy.catch-up-deadline); new writer \
    ONLINE in its own LOAD (the window closes: the point of no return). Then, off the critical path: watch ProxySQL \
    for the new writer SHUNNED by clients' failed connects (policy.shunned-writer-watch) and re-load where it is \
    once a login to it succeeds (policy.shunned-writer-reloads); stop forward \
    replication, start reverse replication from the new writer's position, restore ProxySQL settings, SAVE MYSQL \
    SERVERS TO DISK on every node.

    Undo: any failure, deadline or Ctrl-C before the point of no return rolls back by itself (old writer ONLINE, \
    fence lifted, settings restored). After it, the run only moves forward: if it stops, finish with \
    `migrate-cli resume`; to go back, run the opposite command.

    Without ProxySQL (a `switch` section instead of `proxysql`): the read-only window, automated. Guards; the old \
    writer fenced (super_read_only/read_only; on Aurora the operator sets read_only in the parameter group first \
    and the tool checks it); its sessions closed; its final position read; the new writer caught up to it; forward \
    replication stopped; the new writer made writable if read_only is on; reverse replication started and \
    verified; then switch.cutover-command (or switch.failback-command), run by /bin/sh -c with \
    MIGRATE_SWITCH_OLD_ENDPOINT, MIGRATE_SWITCH_NEW_ENDPOINT, MIGRATE_SWITCH_OPERATION and MIGRATE_SWITCH_RUN_ID \
    (never a password), output journaled: the point of no return. Then the old writer's sessions closed again \
    and the first write observed on the new writer: the window reported is fence → that write. Applications see \
    1290 on writes for the window and must reconnect. A failure before the command undoes exactly what was done \
    and lists it. `--dry-run` / `plan` read the guards' facts and list these steps. A run whose process died is \
    finished by `migrate-cli resume`: before the switch command it rolls back, from the command on it goes on \
    (the step in flight again: the command must be idempotent).
    """

private let readerDiscussion = """
    Steps: guards; new reader ONLINE; old reader OFFLINE_SOFT; drain until ConnUsed is 0 or policy.drain-deadline; \
    old reader OFFLINE_HARD; SAVE MYSQL SERVERS TO DISK on every node. Reads never stop: both readers serve during \
    the switch. Writes are not touched.

    Undo: a failure rolls back by itself; to go back later, run the opposite command.
    """

struct CutoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cutover",
        abstract: "Move reads or writes from the source to Aurora.",
        discussion: "Run `cutover readers` first, then `cutover writers`. Both ask for confirmation unless --yes, and take --dry-run.",
        subcommands: [Readers.self, Writers.self]
    )

    struct Readers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "readers",
            abstract: "Move reads to the Aurora reader (no write window).",
            discussion: readerDiscussion + """


                Examples:
                  migrate-cli cutover readers --dry-run
                  migrate-cli cutover readers --config /etc/migrate/migrate.yaml
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            try await OperationCommand.execute(.readerCutover, options: options, change: change)
        }
    }

    struct Writers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "writers",
            abstract: "Move writes to the Aurora writer, with a bounded write window and reverse replication for a way back.",
            discussion: writerDiscussion + """


                Examples:
                  migrate-cli preflight && migrate-cli cutover writers --dry-run
                  MIGRATE_POLICY_DRAIN_DEADLINE=300ms migrate-cli cutover writers
                  migrate-cli cutover writers --yes --json > cutover.jsonl
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            try await OperationCommand.execute(.writerCutover, options: options, change: change)
        }
    }
}

struct FailbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failback",
        abstract: "Move reads or writes back from Aurora to the source.",
        discussion: "The mirror image of `cutover`. A writer failback needs reverse replication running (the writer cut-over starts it).",
        subcommands: [Readers.self, Writers.self]
    )

    struct Readers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "readers",
            abstract: "Move reads back to the source reader.",
            discussion: readerDiscussion + """


                Example:
                  migrate-cli failback readers --dry-run
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            try await OperationCommand.execute(.readerFailback, options: options, change: change)
        }
    }

    struct Writers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "writers",
            abstract: "Move writes back to the source writer (Aurora is fenced by ProxySQL only: no read_only on Aurora).",
            discussion: writerDiscussion + """


                Example:
                  migrate-cli failback writers --dry-run
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            try await OperationCommand.execute(.writerFailback, options: options, change: change)
        }
    }
}

// MARK: - plan

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the exact statements an operation would send, per endpoint; change nothing.",
        discussion: """
            A dry run of the operation: the same state machine and the same executor code as a real run, over \
            simulated servers that record each statement (passwords masked) instead of receiving it. Same as \
            `cutover writers --dry-run`. It first reads, read-only, what each server is (version, RDS procedures, \
            replication state, ProxySQL rows and variables) so the statements are the ones that server would get; \
            an endpoint that does not answer is assumed (the plan says so), and --offline assumes everything. \
            Statements marked * change something; <placeholders> are values read during the run (binlog \
            coordinates, session ids); "(once per row found)" statements are sent for each session found.

            Operations: reader-cutover, reader-failback, writer-cutover, writer-failback; and `plan finish` \
            (the guards and steps of `finish`).

            Examples:
              migrate-cli plan writer-cutover
              migrate-cli plan writer-failback --offline
              migrate-cli plan reader-cutover --json
              migrate-cli plan finish
            """
    )

    @Argument(help: ArgumentHelp("reader-cutover, reader-failback, writer-cutover, writer-failback or finish.", valueName: "operation"))
    var operation: PlanOperation

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Connect to nothing: assume MySQL 8.0 for the source, Aurora MySQL 3 for the target and the usual starting state.")
    var offline = false

    func run() async throws {
        var change = try ChangeOptions.parse([])
        change.dryRun = true
        switch operation {
        case .switch(let operation):
            try await OperationCommand.execute(operation, options: options, change: change, planOptions: PlanOptions(detect: !offline))
        case .finish:
            try await FinishCommand.execute(options: options, change: change, reverseWait: .seconds(30))
        }
    }
}

/// What `plan` plans: a switch, or `finish`.
enum PlanOperation: ExpressibleByArgument, Sendable, Hashable {
    case `switch`(CutoverOperation)
    case finish

    init?(argument: String) {
        if argument == "finish" {
            self = .finish
        } else if let operation = CutoverOperation(argument: argument) {
            self = .switch(operation)
        } else {
            return nil
        }
    }

    static var allValueStrings: [String] { CutoverOperation.allValueStrings + ["finish"] }
}

// MARK: - resume

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish the unfinished run recorded in the journal.",
        discussion: """
            Replays the journal's unfinished run into the state machine and continues it: before the point of no \
            return it rolls back, after it it completes the remaining steps (stop forward replication, start reverse \
            replication, restore ProxySQL settings, save to disk). Refuses a journal made with another topology. \
            With a `switch` configuration (no ProxySQL) it finishes the switch run: before the switch command it \
            rolls back (forward replication restarted, the fence lifted), from it it goes on (the command runs \
            again: it must be idempotent).

            Changes: the remaining steps of that run. Exit 2 when there is nothing to resume. --dry-run prints \
            the statements of those steps (the journal is replayed into a simulation) and changes nothing. Undo: \
            after the point of no return, run the opposite command (`failback writers` after a cut-over).

            Examples:
              migrate-cli journal show          # see where the run stopped
              migrate-cli resume --dry-run
              migrate-cli resume
            """
    )

    @OptionGroup var options: GlobalOptions

    @OptionGroup var change: ChangeOptions

    func run() async throws {
        let runtime = CommandRuntime(options: options)
        let bridge = LibraryBridge.live
        try await runtime.run {
            let environment = try runtime.commandEnvironment(bridge: bridge)
            // Without ProxySQL: the switch run's own resume (#15).
            if let settings = environment.configuration.switchSettings {
                let json = runtime.options.json
                let killHook = change.dryRun ? nil : try runtime.testKillHook()
                let report = try await HookSwitchWiring.resume(
                    environment, settings: settings, dryRun: change.dryRun,
                    confirm: { try runtime.confirm($0, change: change) }, killHook: killHook
                ) { step in
                    if !json { runtime.writeError("  \(step.step): \(step.outcome)\n") }
                }
                runtime.emit(report)
                return report.exitStatus
            }
            if change.dryRun {
                let entries = try CutoverJournal.read(path: environment.configuration.journalPath)
                return OperationCommand.write(try await bridge.planResume(environment, entries), runtime: runtime)
            }
            try runtime.confirm("About to resume the unfinished run in \(environment.configuration.journalPath).", change: change)
            return try await OperationCommand.withJournaledSession(environment, runtime: runtime, bridge: bridge) { session in
                try await session.resume().1
            }
        }
    }
}
