import Cutover
import Logging

/// Everything a command hands to the library: the validated configuration, the connection factory (passwords are
/// read only when it is asked for a configuration), and the logger.
struct CommandEnvironment: Sendable {
    var configuration: MigrateConfiguration
    var connections: ConnectionFactory
    var logger: Logger
}

/// How an executor will be used.
enum ExecutionMode: Sendable, Hashable {
    /// Against the servers.
    case live
    /// Records the statements a live run would send, changes nothing (`plan`, `--dry-run`).
    case dryRun
}

/// `rehearse` options.
struct RehearsalRequest: Sendable {
    var writeThreads: Int
    var duration: Duration
    var auroraProcedureDelay: Duration
    var keepSandbox: Bool
    var stateDirectory: String
    var logger: Logger
}

/// `sandbox up|status|down` options.
struct SandboxRequest: Sendable {
    var stateDirectory: String
    var auroraProcedureDelay: Duration
    var logger: Logger
}

/// `accounts compare|copy` options.
struct AccountsRequest: Sendable {
    /// Only these accounts (empty: every non-system account of the source).
    var users: [String]
    /// Host-pattern rewrites (`10.0.%` → `%`), applied when copying.
    var hostRewrites: [(from: String, to: String)]
    var dryRun: Bool
}

/// The library entry points the CLI calls, one closure each. A nil closure means the library part has not landed in
/// this build: the command fails with exit code 6 and "not available yet in this build", never with a fake success.
///
/// The lead wires each one in ``live`` when its library part lands; nothing else in the CLI changes.
struct LibraryBridge: Sendable {
    /// Reads a login path: `{ name, file in try MariaDBConnection.Configuration.fromLoginPath(name, file: file) }`
    /// (branch `mariadb-unit`).
    var resolveLoginPath: LoginPathResolver?

    /// The executor of a cut-over or failback against the configured endpoints: the live executor (ProxySQL cluster,
    /// replication control, primary controller) for `.live`, the dry-run executor for `.dryRun` (its
    /// `CutoverStepResult.statements` are what `plan` prints).
    var makeExecutor: (@Sendable (CommandEnvironment, ExecutionMode) async throws -> any CutoverExecutor)?

    /// Preflight for an operation (or all of them when nil): the checks and their blocking reasons.
    var preflight: (@Sendable (CommandEnvironment, CutoverOperation?) async throws -> CommandReport)?

    /// ProxySQL runtime rows with status and ConnUsed on every node, replication in both directions (lag, errors),
    /// and the journal's current phase.
    var status: (@Sendable (CommandEnvironment) async throws -> CommandReport)?

    /// The whole job on a sandbox; reports progress of each run through the sink; the report holds the timeline
    /// of each switch and the writes sent / acknowledged / lost.
    var rehearse: (@Sendable (RehearsalRequest, _ progress: @escaping @Sendable (CutoverProgress) -> Void) async throws -> CommandReport)?

    var sandboxUp: (@Sendable (SandboxRequest) async throws -> CommandReport)?
    var sandboxStatus: (@Sendable (SandboxRequest) async throws -> CommandReport)?
    var sandboxDown: (@Sendable (SandboxRequest) async throws -> CommandReport)?

    var accountsCompare: (@Sendable (CommandEnvironment, AccountsRequest) async throws -> CommandReport)?
    var accountsCopy: (@Sendable (CommandEnvironment, AccountsRequest) async throws -> CommandReport)?
    /// Creates `replication.reverse.user` on the target with exactly the grants reverse replication needs.
    var reverseUserCreate: (@Sendable (CommandEnvironment, _ dryRun: Bool) async throws -> CommandReport)?
    var timezonesCheck: (@Sendable (CommandEnvironment) async throws -> CommandReport)?
    var timezonesImport: (@Sendable (CommandEnvironment, _ dryRun: Bool) async throws -> CommandReport)?
    var retentionCheck: (@Sendable (CommandEnvironment) async throws -> CommandReport)?
    /// `mysql.rds_set_configuration('binlog retention hours', hours)` on the target.
    var retentionSet: (@Sendable (CommandEnvironment, _ hours: Int, _ dryRun: Bool) async throws -> CommandReport)?

    /// The bridge this build uses. Wire library parts here.
    static let live = LibraryBridge()

    /// Returns `part`, or throws ``FeatureUnavailable`` naming the command.
    static func require<T>(_ part: T?, _ command: String) throws -> T {
        guard let part else { throw FeatureUnavailable(feature: "migrate-cli \(command)") }
        return part
    }
}
