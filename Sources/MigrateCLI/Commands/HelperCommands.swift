import ArgumentParser

/// Runs a helper: load the configuration, confirm a change, run the library part, emit the report.
enum HelperCommand {
    static func perform(
        options: GlobalOptions,
        change: ChangeOptions? = nil,
        confirmation: String? = nil,
        _ part: @escaping @Sendable (CommandEnvironment) async throws -> CommandReport
    ) async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let environment = try runtime.commandEnvironment()
            if let change, let confirmation { try runtime.confirm(confirmation, change: change) }
            let report = try await part(environment)
            runtime.emit(report)
            return report.exitStatus
        }
    }
}

// MARK: - accounts

/// `--rewrite-host FROM=TO`.
struct HostRewrite: ExpressibleByArgument, Sendable, Hashable {
    var from: String
    var to: String

    init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        from = String(parts[0])
        to = String(parts[1])
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

struct AccountsOptions: ParsableArguments {
    @Option(name: .customLong("user"), help: ArgumentHelp("Only this account (repeatable; default: application.users, else every non-system account of the source).", valueName: "name"))
    var users: [String] = []

    @Option(
        name: .customLong("rewrite-host"),
        help: ArgumentHelp(
            "Rewrite a host pattern when copying (repeatable), e.g. 10.0.%=% (IP limits rarely fit Aurora).",
            valueName: "from=to"
        )
    )
    var hostRewrites: [HostRewrite] = []

    func request(dryRun: Bool) -> AccountsRequest {
        AccountsRequest(users: users, hostRewrites: hostRewrites.map { ($0.from, $0.to) }, dryRun: dryRun)
    }
}

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Compare or copy application accounts and their grants from the source to Aurora.",
        subcommands: [Compare.self, Copy.self]
    )

    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compare",
            abstract: "List accounts and grants that differ between the source and Aurora; change nothing.",
            discussion: """
                Exit 0 when they match, 2 when something differs (each difference says what to do).

                Examples:
                  migrate-cli accounts compare
                  migrate-cli accounts compare --user app --rewrite-host 10.0.%=%
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var accounts: AccountsOptions

        func run() async throws {
            let request = accounts.request(dryRun: false)
            try await HelperCommand.perform(options: options) { try await LibraryBridge.live.accountsCompare($0, request) }
        }
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Create on Aurora the source's accounts that it lacks, with their grants.",
            discussion: """
                Creates missing accounts with the source's authentication (password hashes are copied, never shown) \
                and grants, rewriting host patterns with --rewrite-host. Privileges Aurora refuses (SUPER, FILE, ...) \
                are listed, not granted. Never changes or drops an existing account.

                Changes: CREATE USER and GRANT on Aurora. Undo: DROP USER of the accounts it lists.

                Examples:
                  migrate-cli accounts copy --dry-run --rewrite-host 10.0.%=%
                  migrate-cli accounts copy --user app --user app_ro
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var accounts: AccountsOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            let request = accounts.request(dryRun: change.dryRun)
            try await HelperCommand.perform(
                options: options,
                change: change,
                confirmation: "About to create accounts and grants on the target."
            ) { try await LibraryBridge.live.accountsCopy($0, request) }
        }
    }
}

// MARK: - reverse-user

struct ReverseUserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reverse-user",
        abstract: "Create the reverse-replication account on Aurora.",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create replication.reverse.user on Aurora with exactly REPLICATION SLAVE and REPLICATION CLIENT.",
            discussion: """
                The source replicates from Aurora with this account after the writer switch, so a failback loses \
                nothing. Its password comes from replication.reverse.password-env or -file. --host is the host \
                pattern of the account: the source's address as Aurora sees it (default %). It is created through \
                the target account of the configuration (on Aurora, the master user: no SUPER needed). An \
                existing account keeps its password; the grants are ensured and checked afterwards.

                Changes: CREATE USER IF NOT EXISTS and GRANT on Aurora. Undo: DROP USER (the output names it).

                Examples:
                  migrate-cli reverse-user create --dry-run
                  migrate-cli reverse-user create --host 10.0.0.%
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        @Option(name: .long, help: ArgumentHelp("Host pattern of the account (the source as Aurora sees it).", valueName: "pattern"))
        var host: String = "%"

        func validate() throws {
            guard !host.isEmpty, host.count <= 255 else { throw ValidationError("--host must be a host pattern such as % or 10.0.0.%") }
        }

        func run() async throws {
            let (host, dryRun) = (host, change.dryRun)
            try await HelperCommand.perform(
                options: options,
                change: change,
                confirmation: "About to create the reverse-replication account (host \(host)) on the target."
            ) { try await LibraryBridge.live.reverseUserCreate($0, host, dryRun) }
        }
    }
}

// MARK: - timezones

struct TimezonesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timezones",
        abstract: "Check and import time zone tables (CONVERT_TZ and named zones must give the same answers).",
        subcommands: [Check.self, Import.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Compare the time zone tables and @@time_zone of the source and Aurora; change nothing.",
            discussion: "Exit 0 when they agree, 2 when they differ."
        )
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await HelperCommand.perform(options: options) { try await LibraryBridge.live.timezonesCheck($0) }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Copy the time zone tables from the source to Aurora when Aurora has none.",
            discussion: """
                When the target's mysql.time_zone* tables are empty and the source's are not, copies the source's \
                rows (in batches of 1000). Otherwise it changes nothing and prints the mysql_tzinfo_to_sql command \
                that loads the zones from the operating system on the side that lacks them.

                Changes: rows of the target's mysql.time_zone* tables. Undo: delete them (they were empty before).

                Example:
                  migrate-cli timezones import --dry-run
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            let dryRun = change.dryRun
            try await HelperCommand.perform(
                options: options,
                change: change,
                confirmation: "About to copy the time zone tables to the target."
            ) { try await LibraryBridge.live.timezonesImport($0, dryRun) }
        }
    }
}

// MARK: - retention

struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Check and set binlog retention on Aurora (reverse replication needs the binlog kept).",
        subcommands: [Check.self, SetRetention.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Show Aurora's binlog format and 'binlog retention hours'; change nothing.",
            discussion: "Exit 0 when the binlog is on and retention is set, 2 otherwise."
        )
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await HelperCommand.perform(options: options) { try await LibraryBridge.live.retentionCheck($0) }
        }
    }

    struct SetRetention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set Aurora's 'binlog retention hours' (mysql.rds_set_configuration).",
            discussion: """
                Changes: the retention setting of the Aurora cluster (at most 2160 hours). Undo: set the previous \
                value, which `retention check` shows.

                Examples:
                  migrate-cli retention set --hours 72 --dry-run
                  migrate-cli retention set --hours 72
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        @Option(name: .long, help: "Hours of binlog Aurora keeps (1–2160).")
        var hours: Int

        func validate() throws {
            guard (1...2160).contains(hours) else {
                throw ValidationError("--hours must be 1–2160 (Aurora's maximum is 2160 hours, 90 days)")
            }
        }

        func run() async throws {
            let (hours, dryRun) = (hours, change.dryRun)
            try await HelperCommand.perform(
                options: options,
                change: change,
                confirmation: "About to set binlog retention hours to \(hours) on the target."
            ) { try await LibraryBridge.live.retentionSet($0, hours, dryRun) }
        }
    }
}
