import ArgumentParser
import Foundation

/// `replication start-forward|stop-forward|reset-forward`: forward replication (source → Aurora) from a restored
/// copy, before any switch, and forgetting it at the end.
struct ReplicationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replication",
        abstract: "Set up forward replication (source → Aurora) from a restored copy; stop or forget it at the end.",
        discussion: """
            The first step of a migration: restore a consistent copy of the source into Aurora (a dump taken with \
            its coordinates, or a snapshot of a read replica whose replication was stopped), then point Aurora at \
            the source from those coordinates with `start-forward`. `stop-forward` pauses it, `reset-forward` forgets \
            it (`finish` does that at the end of a migration).
            """,
        subcommands: [StartForward.self, StopForward.self, ResetForward.self]
    )

    struct StartForward: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start-forward",
            abstract: "Point Aurora at the source from the copy's coordinates, start replication, prove it runs.",
            discussion: """
                Give exactly one start point:
                  --file F --position P   a binlog file and position of the source (a stopped RDS read replica's \
                Relay_Master_Log_File / Exec_Master_Log_Pos, or a snapshot's "Binlog position" event)
                  --gtid                  GTID auto-positioning: Aurora's own executed GTIDs (restored with the dump's \
                SET @@GLOBAL.GTID_PURGED, or MariaDB's gtid_slave_pos) say where it is
                  --from-dump DUMP.sql    read them from the dump's header: the CHANGE MASTER TO / CHANGE REPLICATION \
                SOURCE TO line that mysqldump --source-data (--master-data) and mariadb-dump --master-data write, \
                commented or not (its file/position is used), and SET @@GLOBAL.GTID_PURGED (used only when the header \
                has no position). Only the header is read, however large the dump.

                Before changing anything it checks, each a refusal with its remedy: the binlog file still exists on \
                the source (SHOW BINARY LOGS) and the position is inside it; the source keeps binlogs at least \
                --min-retention (binlog_expire_logs_seconds / expire_logs_days; on an RDS source 'binlog retention \
                hours'); binlog_format = ROW; the two server_ids differ; the replication account \
                (replication.forward.user, its password from replication.forward.password-env or -file, never a \
                flag) can log in to replication.forward.host (tried from here); Aurora is not already replicating.

                Then it calls the procedure the target has: mysql.rds_set_external_source on Aurora v3 (..._master on \
                v2, ..._with_auto_position for --gtid), or CHANGE REPLICATION SOURCE / CHANGE MASTER on a server \
                without the procedures; TLS per replication.forward.tls; then mysql.rds_start_replication (START \
                REPLICA). A success message is not proof: it samples the replica status until the IO and SQL threads \
                run, the received position moves (or equals the source's) and lag is not growing, within --timeout. \
                With --wait it then waits, showing progress, until lag is within policy.lag-budget or --wait-timeout.

                Changes: Aurora's replication configuration, and starts it. Undo: `migrate-cli replication \
                stop-forward` then `reset-forward` (mysql.rds_reset_external_source). The password is sent to the \
                target inside the CALL and never printed or logged (--dry-run shows <secret>).

                Examples:
                  migrate-cli replication start-forward --from-dump /backups/app.sql --dry-run
                  migrate-cli replication start-forward --file mysql-bin.000042 --position 1337 --wait
                  migrate-cli replication start-forward --gtid --yes --json
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        @Option(name: .long, help: ArgumentHelp("The source's binlog file to start from (with --position).", valueName: "file"))
        var file: String?

        @Option(name: .long, help: ArgumentHelp("The offset in --file to start from.", valueName: "offset"))
        var position: UInt64?

        @Flag(name: .long, help: "Start by GTID auto-positioning.")
        var gtid = false

        @Option(name: .customLong("from-dump"), help: ArgumentHelp("Read the start point from this dump's header.", valueName: "dump.sql"))
        var fromDump: String?

        @Flag(name: .long, help: "After the proof, wait until lag is within policy.lag-budget, with progress.")
        var wait = false

        @Option(name: .customLong("timeout"), help: ArgumentHelp("How long the proof that replication runs may take (default 60s).", valueName: "duration"))
        var proofTimeout: String = "60s"

        @Option(name: .customLong("wait-timeout"), help: ArgumentHelp("Deadline of --wait (default 1h).", valueName: "duration"))
        var waitTimeout: String = "1h"

        @Option(name: .customLong("min-retention"), help: ArgumentHelp("The shortest source binlog retention accepted (default 24h).", valueName: "duration"))
        var minimumRetention: String = "24h"

        func validate() throws {
            let kinds = [file != nil || position != nil, gtid, fromDump != nil].filter { $0 }.count
            guard kinds == 1 else {
                throw ValidationError("give exactly one start point: --file F --position P, --gtid, or --from-dump DUMP.sql")
            }
            if file != nil || position != nil {
                guard let file, !file.isEmpty, position != nil else {
                    throw ValidationError("--file and --position go together")
                }
            }
            for (name, text) in [("--timeout", proofTimeout), ("--wait-timeout", waitTimeout), ("--min-retention", minimumRetention)] {
                guard let value = HumanDuration.parse(text), value > .zero else {
                    throw ValidationError("\(name) must be a duration such as 30s, 10m or 24h")
                }
            }
        }

        func run() async throws {
            let request = ForwardStartRequest(
                file: file, position: position, gtid: gtid, dumpPath: fromDump, wait: wait,
                proofTimeout: HumanDuration.parse(proofTimeout) ?? .seconds(60),
                waitTimeout: HumanDuration.parse(waitTimeout) ?? .seconds(3600),
                minimumRetention: HumanDuration.parse(minimumRetention) ?? .seconds(86400),
                dryRun: change.dryRun, json: options.json)
            try await HelperCommand.perform(
                options: options,
                change: change,
                confirmation: "About to point the target at the source and start forward replication."
            ) { try await ReplicationWiring.startForward($0, request) }
        }
    }

    struct StopForward: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop-forward",
            abstract: "Stop forward replication on Aurora (mysql.rds_stop_replication); keep its configuration.",
            discussion: """
                Changes: stops Aurora's IO and SQL threads (rds_stop_replication, or STOP REPLICA on a server \
                without the procedures) and checks they stopped. Undo: `migrate-cli replication start-forward` is not \
                needed: CALL mysql.rds_start_replication resumes from where it stopped (the output prints it).

                Example:
                  migrate-cli replication stop-forward --dry-run
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            let dryRun = change.dryRun
            try await HelperCommand.perform(
                options: options, change: change,
                confirmation: "About to stop forward replication on the target."
            ) { try await ReplicationWiring.stopForward($0, dryRun: dryRun) }
        }
    }

    struct ResetForward: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-forward",
            abstract: "Forget forward replication on Aurora (mysql.rds_reset_external_source|master).",
            discussion: """
                For the end of a migration (`finish` does it too) or to start over from new coordinates. Stops \
                replication first if it runs.

                Changes: Aurora forgets its source and coordinates. Undo: `migrate-cli replication start-forward` \
                with coordinates (the output prints where it had got to, so you can start again from there).

                Example:
                  migrate-cli replication reset-forward --dry-run
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            let dryRun = change.dryRun
            try await HelperCommand.perform(
                options: options, change: change,
                confirmation: "About to make the target forget its forward replication (its source and coordinates)."
            ) { try await ReplicationWiring.resetForward($0, dryRun: dryRun) }
        }
    }
}
