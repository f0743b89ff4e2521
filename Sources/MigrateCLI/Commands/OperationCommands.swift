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
            if change.dryRun {
                return write(try await bridge.plan(environment, operation, planOptions), runtime: runtime)
            }
            try runtime.confirm(confirmation(for: operation, configuration: environment.configuration), change: change)
            return try await withJournaledSession(environment, runtime: runtime, bridge: bridge) { session in
                try await session.run(operation).1
            }
        }
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
    ONLINE in its own LOAD (the window closes: the point of no return). Then, off the critical path: stop forward \
    replication, start reverse replication from the new writer's position, restore ProxySQL settings, SAVE MYSQL \
    SERVERS TO DISK on every node.

    Undo: any failure, deadline or Ctrl-C before the point of no return rolls back by itself (old writer ONLINE, \
    fence lifted, settings restored). After it, the run only moves forward: if it stops, finish with \
    `migrate-cli resume`; to go back, run the opposite command.
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

            Operations: reader-cutover, reader-failback, writer-cutover, writer-failback.

            Examples:
              migrate-cli plan writer-cutover
              migrate-cli plan writer-failback --offline
              migrate-cli plan reader-cutover --json
            """
    )

    @Argument(help: ArgumentHelp("reader-cutover, reader-failback, writer-cutover or writer-failback.", valueName: "operation"))
    var operation: CutoverOperation

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Connect to nothing: assume MySQL 8.0 for the source, Aurora MySQL 3 for the target and the usual starting state.")
    var offline = false

    func run() async throws {
        var change = try ChangeOptions.parse([])
        change.dryRun = true
        try await OperationCommand.execute(operation, options: options, change: change, planOptions: PlanOptions(detect: !offline))
    }
}

// MARK: - resume

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish the unfinished run recorded in the journal.",
        discussion: """
            Replays the journal's unfinished run into the state machine and continues it: before the point of no \
            return it rolls back, after it it completes the remaining steps (stop forward replication, start reverse \
            replication, restore ProxySQL settings, save to disk). Refuses a journal made with another topology.

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
