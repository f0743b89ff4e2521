import ArgumentParser

/// Runs a helper: load the configuration, check the library part exists, confirm a change, emit the report.
enum HelperCommand {
    static func perform(
        options: GlobalOptions,
        change: ChangeOptions? = nil,
        command: String,
        confirmation: String? = nil,
        _ part: (@Sendable (CommandEnvironment) async throws -> CommandReport)?
    ) async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let environment = try runtime.commandEnvironment()
            let part = try LibraryBridge.require(part, command)
            if let change, let confirmation { try runtime.confirm(confirmation, change: change) }
            let report = try await part(environment)
            runtime.emit(report)
            return report.exitStatus
        }
    }
}

/// Binds a library part's extra arguments, keeping "not available" (nil) as it is.
func bind<Part: Sendable>(
    _ part: Part?,
    _ call: @escaping @Sendable (Part, CommandEnvironment) async throws -> CommandReport
) -> (@Sendable (CommandEnvironment) async throws -> CommandReport)? {
    guard let part else { return nil }
    return { environment in try await call(part, environment) }
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
    @Option(name: .customLong("user"), help: ArgumentHelp("Only this account (repeatable; default: every non-system account of the source).", valueName: "name"))
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
            let part = LibraryBridge.live.accountsCompare
            let request = accounts.request(dryRun: false)
            try await HelperCommand.perform(options: options, command: "accounts compare", bind(part) { part, environment in try await part(environment, request) })
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
            let part = LibraryBridge.live.accountsCopy
            let request = accounts.request(dryRun: change.dryRun)
            try await HelperCommand.perform(
                options: options,
                change: change,
                command: "accounts copy",
                confirmation: "About to create accounts and grants on the target.",
                bind(part) { part, environment in try await part(environment, request) }
            )
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
                nothing. Its password comes from replication.reverse.password-env or -file. The host pattern is \
                the source's address as Aurora sees it.

                Changes: CREATE USER and GRANT on Aurora. Undo: DROP USER.

                Examples:
                  migrate-cli reverse-user create --dry-run
                  migrate-cli reverse-user create
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            let part = LibraryBridge.live.reverseUserCreate
            let dryRun = change.dryRun
            try await HelperCommand.perform(
                options: options,
                change: change,
                command: "reverse-user create",
                confirmation: "About to create the reverse-replication account on the target.",
                bind(part) { part, environment in try await part(environment, dryRun) }
            )
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
            try await HelperCommand.perform(options: options, command: "timezones check", LibraryBridge.live.timezonesCheck)
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Copy the time zone tables to the database that lacks them.",
            discussion: """
                Copies the mysql.time_zone* tables from the side that has them to the side that lacks them (usually \
                the source, when Aurora's are newer). Changes: rows of mysql.time_zone*. Undo: restore them from the \
                dump this command prints first.

                Example:
                  migrate-cli timezones import --dry-run
                """
        )
        @OptionGroup var options: GlobalOptions
        @OptionGroup var change: ChangeOptions

        func run() async throws {
            let part = LibraryBridge.live.timezonesImport
            let dryRun = change.dryRun
            try await HelperCommand.perform(
                options: options,
                change: change,
                command: "timezones import",
                confirmation: "About to replace time zone tables.",
                bind(part) { part, environment in try await part(environment, dryRun) }
            )
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
            try await HelperCommand.perform(options: options, command: "retention check", LibraryBridge.live.retentionCheck)
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
            let part = LibraryBridge.live.retentionSet
            let (hours, dryRun) = (hours, change.dryRun)
            try await HelperCommand.perform(
                options: options,
                change: change,
                command: "retention set",
                confirmation: "About to set binlog retention hours to \(hours) on the target.",
                bind(part) { part, environment in try await part(environment, hours, dryRun) }
            )
        }
    }
}
