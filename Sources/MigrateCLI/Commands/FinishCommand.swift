import ArgumentParser
import Cutover

/// `finish`: decommission the old source after a confirmed migration.
struct FinishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finish",
        abstract: "Decommission the old source after a confirmed migration. There is no failback after it.",
        discussion: """
            The last step, once the migration is confirmed (the applications have run on Aurora long enough).

            Guards, before anything changes (each a refusal with its remedy): Aurora's writer is ONLINE and the \
            source's writer and reader rows are not routed to (not ONLINE / OFFLINE_SOFT) at runtime on every \
            ProxySQL node; no connection to the source is in use there (ConnUsed); reverse replication runs and \
            executes Aurora's current position within --reverse-wait.

            Then, each step journaled: reverse replication stopped and reset on the source (STOP REPLICA, RESET \
            REPLICA ALL); the source's writer and reader rows deleted from mysql_servers on every node, LOAD MYSQL \
            SERVERS TO RUNTIME, SAVE MYSQL SERVERS TO DISK, runtime checked; forward replication reset on Aurora \
            (mysql.rds_reset_external_source|master) when it is still configured. Finally it prints what is left \
            to do by hand (stop the old server, drop the replication accounts, binlog retention back to normal).

            Changes: the above. Undo: none by the tool. After finish there is no failback; it says so before \
            asking. `plan finish` and `finish --dry-run` show the steps and change nothing.

            Examples:
              migrate-cli finish --dry-run
              migrate-cli finish
            """
    )
    @OptionGroup var options: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Option(name: .customLong("reverse-wait"), help: ArgumentHelp("How long the guard waits for reverse replication to execute Aurora's position (default 30s).", valueName: "duration"))
    var reverseWait: String = "30s"

    func validate() throws {
        guard let value = HumanDuration.parse(reverseWait), value > .zero else {
            throw ValidationError("--reverse-wait must be a duration such as 30s or 2m")
        }
    }

    func run() async throws {
        try await Self.execute(options: options, change: change, reverseWait: HumanDuration.parse(reverseWait) ?? .seconds(30))
    }

    static func execute(options: GlobalOptions, change: ChangeOptions, reverseWait: Duration) async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let environment = try runtime.commandEnvironment()
            let report = try await FinishWiring.finish(environment, dryRun: change.dryRun, reverseWait: reverseWait) {
                try runtime.confirm(Finish.noFailbackWarning + "\nAbout to decommission the source.", change: change)
            } progress: { step in
                if !options.json { runtime.writeError("  \(step.name) on \(step.endpoint): done in \(HumanDuration.readable(step.duration))\n") }
            }
            runtime.emit(report)
            return report.exitStatus
        }
    }
}

/// `plan finish`: the steps of `finish`, changing nothing.
struct PlanFinishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finish",
        abstract: "Show what `finish` would check and do; change nothing (same as `finish --dry-run`)."
    )
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        var change = try ChangeOptions.parse([])
        change.dryRun = true
        try await FinishCommand.execute(options: options, change: change, reverseWait: .seconds(30))
    }
}
