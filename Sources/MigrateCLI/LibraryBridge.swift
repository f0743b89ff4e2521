import Cutover
import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB

/// Everything a command hands to the library: the validated configuration, the connection factory (passwords are
/// read only when it is asked for a configuration), and the logger.
struct CommandEnvironment: Sendable {
    var configuration: MigrateConfiguration
    var connections: ConnectionFactory
    var logger: Logger
}

/// `rehearse` options.
struct RehearsalRequest: Sendable {
    var workload: RehearsalWorkload
    var clients: Int
    var auroraDelays: Bool
    var loadBetweenSwitches: Duration
    var serverKind: SandboxServerKind = .mariadb
    var logger: Logger
    /// ProxySQL emulator nodes (issue #16).
    var proxyNodes: Int = 1
    /// One canary per node (`--canary-per-node`, #14 item 9).
    var canaryPerNode = false
}

/// `sandbox up|status|down` options.
struct SandboxRequest: Sendable {
    var stateDirectory: String
    var auroraDelays: Bool
    var serverKind: SandboxServerKind = .mariadb
    var logger: Logger
    /// ProxySQL emulator nodes `up` starts (issue #16).
    var proxyNodes: Int = 1
}

/// `accounts compare|copy` options.
struct AccountsRequest: Sendable {
    /// Only these accounts (empty: `application.users`, else every non-system account of the source).
    var users: [String]
    /// Host-pattern rewrites (`10.0.%` → `%`), applied when comparing and copying.
    var hostRewrites: [(from: String, to: String)]
    var dryRun: Bool
}

/// The library entry points the CLI calls, one closure each, so tests can put fakes in their place. ``live`` is
/// the wiring of this build: every command is backed by the library.
struct LibraryBridge: Sendable {
    /// Reads a login path (`~/.mylogin.cnf`).
    var resolveLoginPath: LoginPathResolver
    /// The live executor of a cut-over or failback against the configured endpoints, and what closes them.
    var openExecutor: @Sendable (CommandEnvironment) async throws -> PreparedExecutor
    /// The dry run of an operation: the exact statements per endpoint.
    var plan: @Sendable (CommandEnvironment, CutoverOperation, PlanOptions) async throws -> DryRunPlan
    /// The dry run of resuming the journal's unfinished run.
    var planResume: @Sendable (CommandEnvironment, [JournalRecord]) async throws -> DryRunPlan
    /// Preflight: the checks and their blocking reasons.
    var preflight: @Sendable (CommandEnvironment, CutoverOperation?) async throws -> CommandReport
    /// ProxySQL runtime rows with status and ConnUsed on every node, and replication in both directions.
    var status: @Sendable (CommandEnvironment) async throws -> CommandReport
    /// The whole job on a sandbox; progress through the sink; the report holds the timeline and the writes.
    var rehearse: @Sendable (RehearsalRequest, _ progress: @escaping @Sendable (RehearsalScript.Event) -> Void) async throws -> CommandReport
    /// Starts the sandbox, hands its endpoints to `ready`, and returns once it was told to stop and stopped.
    var sandboxUp: @Sendable (SandboxRequest, _ ready: @escaping @Sendable (CommandReport) -> Void) async throws -> CommandReport
    var sandboxStatus: @Sendable (SandboxRequest) async throws -> CommandReport
    var sandboxDown: @Sendable (SandboxRequest) async throws -> CommandReport
    var accountsCompare: @Sendable (CommandEnvironment, AccountsRequest) async throws -> CommandReport
    var accountsCopy: @Sendable (CommandEnvironment, AccountsRequest) async throws -> CommandReport
    /// Creates `replication.reverse.user`@`host` on the target with exactly the grants reverse replication needs.
    var reverseUserCreate: @Sendable (CommandEnvironment, _ host: String, _ dryRun: Bool) async throws -> CommandReport
    var timezonesCheck: @Sendable (CommandEnvironment) async throws -> CommandReport
    var timezonesImport: @Sendable (CommandEnvironment, _ dryRun: Bool) async throws -> CommandReport
    var retentionCheck: @Sendable (CommandEnvironment) async throws -> CommandReport
    /// `mysql.rds_set_configuration('binlog retention hours', hours)` on the target.
    var retentionSet: @Sendable (CommandEnvironment, _ hours: Int, _ dryRun: Bool) async throws -> CommandReport

    /// The bridge this build uses.
    static let live = LibraryBridge(
        resolveLoginPath: { name, file in try MariaDBConnection.Configuration.fromLoginPath(name, file: file) },
        openExecutor: OperationWiring.openExecutor,
        plan: OperationWiring.plan,
        planResume: OperationWiring.planResume,
        preflight: InspectionWiring.preflight,
        status: InspectionWiring.status,
        rehearse: RehearsalWiring.rehearse,
        sandboxUp: SandboxWiring.up,
        sandboxStatus: SandboxWiring.status,
        sandboxDown: SandboxWiring.down,
        accountsCompare: HelperWiring.accountsCompare,
        accountsCopy: HelperWiring.accountsCopy,
        reverseUserCreate: HelperWiring.reverseUserCreate,
        timezonesCheck: HelperWiring.timezonesCheck,
        timezonesImport: HelperWiring.timezonesImport,
        retentionCheck: HelperWiring.retentionCheck,
        retentionSet: HelperWiring.retentionSet
    )
}
