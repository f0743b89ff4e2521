public import Logging
import MariaDB
import ProxySQLAdmin
public import ReplicationControl
import Synchronization

/// What a dry run simulates: the topology, the policy, each database's dialect and replication state, and each
/// ProxySQL node's tables. ``startingState(for:topology:policy:source:target:filter:endpoints:)`` builds the usual
/// state before an operation; the CLI replaces parts with what it reads from the servers.
public struct DryRunEnvironment: Sendable {
    /// Who is who.
    public var topology: CutoverTopology
    /// The run's policy (it decides the steps and the bounds in the statements).
    public var policy: CutoverPolicy
    /// The source database.
    public var source: DryRunDatabase.Configuration
    /// Its simulated state at the start.
    public var sourceState: DryRunDatabase.State
    /// The target database (Aurora).
    public var target: DryRunDatabase.Configuration
    /// Its simulated state at the start.
    public var targetState: DryRunDatabase.State
    /// Each ProxySQL node's simulated tables at the start, in ``CutoverTopology/proxyNodes`` order.
    public var proxyNodes: [String: DryRunProxySQLNode.State]
    /// What was assumed rather than read (shown with the plan).
    public var assumptions: [String]

    /// Creates an environment.
    public init(
        topology: CutoverTopology,
        policy: CutoverPolicy,
        source: DryRunDatabase.Configuration,
        sourceState: DryRunDatabase.State,
        target: DryRunDatabase.Configuration,
        targetState: DryRunDatabase.State,
        proxyNodes: [String: DryRunProxySQLNode.State],
        assumptions: [String] = []
    ) {
        self.topology = topology
        self.policy = policy
        self.source = source
        self.sourceState = sourceState
        self.target = target
        self.targetState = targetState
        self.proxyNodes = proxyNodes
        self.assumptions = assumptions
    }

    /// A dialect for planning without a server: MySQL 8.0 for the source (`SHOW REPLICA STATUS`,
    /// `CHANGE REPLICATION SOURCE TO`, `super_read_only`).
    public static let assumedSourceDialect = ReplicationDialect(server: .mysql, version: ServerVersion(8, 0, 36))

    /// A dialect for planning without a server: Aurora MySQL version 3 with its documented procedures.
    public static let assumedTargetDialect = ReplicationDialect(
        server: .auroraMySQL(auroraVersion: ServerVersion(3, 5, 2)),
        version: ServerVersion(8, 0, 32),
        rdsProcedures: .auroraVersion3
    )

    /// The usual state before `operation`: before a writer or reader cut-over the target replicates from the source
    /// and the source rows serve; before a failback the source replicates from the target (reverse replication),
    /// the target rows serve, and the source is read-only from the cut-over's fence.
    ///
    /// - Parameters:
    ///   - endpoints: the names the live run journals for the source and the target.
    public static func startingState(
        for operation: CutoverOperation,
        topology: CutoverTopology,
        policy: CutoverPolicy,
        source: ReplicationDialect = assumedSourceDialect,
        target: ReplicationDialect = assumedTargetDialect,
        filter: ReplicationFilter = .ignoreRDSTables,
        endpoints: (source: String, target: String) = ("source", "target")
    ) -> DryRunEnvironment {
        let failback = operation == .writerFailback || operation == .readerFailback
        let sourceConfiguration = DryRunDatabase.Configuration(
            name: "source (\(topology.source.writer.endpoint))", endpoint: endpoints.source, role: .source,
            dialect: source, filter: filter)
        let targetConfiguration = DryRunDatabase.Configuration(
            name: "target (\(topology.target.writer.endpoint))", endpoint: endpoints.target, role: .target,
            dialect: target, filter: filter)
        let sourceState: DryRunDatabase.State
        let targetState: DryRunDatabase.State
        if failback {
            sourceState = DryRunDatabase.State(
                replicatingFrom: topology.targetReplicationEndpoint, replicationRunning: true,
                readOnly: policy.fenceOldWriter && source.allowsGlobalVariables,
                superReadOnly: source.hasSuperReadOnly ? policy.fenceOldWriter : nil)
            targetState = DryRunDatabase.State()
        } else {
            sourceState = DryRunDatabase.State(superReadOnly: source.hasSuperReadOnly ? false : nil)
            targetState = DryRunDatabase.State(
                replicatingFrom: topology.sourceReplicationEndpoint, replicationRunning: true)
        }
        // Writers: the source serves until the writer cut-over. Readers move first and come back last.
        let writerServes: DatabaseRole = operation == .writerFailback ? .target : .source
        let readerServes: DatabaseRole = operation == .readerCutover ? .source : .target
        var rows: [BackendServer] = []
        for role in [DatabaseRole.source, .target] {
            let routing = topology.routing(role)
            rows.append(BackendServer(
                hostgroup: routing.writer.hostgroup, endpoint: routing.writer.endpoint,
                status: role == writerServes ? .online : .offlineHard))
            if let reader = routing.reader {
                rows.append(BackendServer(
                    hostgroup: reader.hostgroup, endpoint: reader.endpoint,
                    status: role == readerServes ? .online : .offlineHard))
            }
        }
        // A server that is both a writer and a reader row keeps both; duplicates of one key cannot happen here.
        var nodes: [String: DryRunProxySQLNode.State] = [:]
        for node in topology.proxyNodes { nodes[node] = DryRunProxySQLNode.State(servers: rows) }
        return DryRunEnvironment(
            topology: topology,
            policy: policy,
            source: sourceConfiguration,
            sourceState: sourceState,
            target: targetConfiguration,
            targetState: targetState,
            proxyNodes: nodes,
            assumptions: []
        )
    }
}

/// A ``CutoverExecutor`` that changes nothing: it runs the live executor's code (``LiveCutoverExecutor``) against
/// ``DryRunDatabase`` and ``DryRunProxySQLNode`` parts, so every step records exactly the statements a live run
/// would send, built by the same builders, with secrets hidden. Use ``plan(_:environment:logger:)`` for a whole
/// operation.
///
/// ```swift
/// let environment = DryRunEnvironment.startingState(for: .writerCutover, topology: topology, policy: policy)
/// let plan = await DryRunExecutor.plan(.writerCutover, environment: environment, logger: logger)
/// for step in plan.steps { print(step.action); step.statements.forEach { print("  \($0)") } }
/// ```
public final class DryRunExecutor: CutoverExecutor {
    private let log: DryRunLog
    private let live: LiveCutoverExecutor
    private let endpointOrder: [String]
    private let recorded = Mutex<[DryRunPlan.Step]>([])
    /// The environment it simulates.
    public let environment: DryRunEnvironment
    /// The simulated source.
    public let source: DryRunDatabase
    /// The simulated target.
    public let target: DryRunDatabase
    /// The simulated ProxySQL nodes, in topology order.
    public let proxyNodes: [DryRunProxySQLNode]

    /// Creates an executor over a fresh simulation of `environment`.
    public init(environment: DryRunEnvironment) {
        self.environment = environment
        let log = DryRunLog()
        self.log = log
        source = DryRunDatabase(configuration: environment.source, state: environment.sourceState, log: log)
        target = DryRunDatabase(configuration: environment.target, state: environment.targetState, log: log)
        proxyNodes = environment.topology.proxyNodes.map { name in
            DryRunProxySQLNode(
                name: name,
                state: environment.proxyNodes[name] ?? DryRunProxySQLNode.State(servers: []),
                log: log
            )
        }
        endpointOrder = [environment.source.endpoint, environment.target.endpoint] + environment.topology.proxyNodes
        var liveEnvironment = CutoverEnvironment(
            topology: environment.topology,
            source: source,
            target: target,
            proxies: ProxySQLCluster(nodes: proxyNodes, nodeDeadline: .seconds(60)),
            forwardReplicationPassword: "<redacted>",
            reverseReplicationPassword: "<redacted>"
        )
        // The guards' login with the replication account: planned (who logs in where), never tried.
        liveEnvironment.replicationLoginProbe = DryRunLoginProbe(log: log)
        live = LiveCutoverExecutor(environment: liveEnvironment)
    }

    /// The steps performed so far.
    public var steps: [DryRunPlan.Step] { recorded.withLock { $0 } }

    public func perform(_ action: CutoverAction, context: CutoverExecutionContext) async
        -> CutoverStepResult
    {
        let start = log.count
        var context = context
        if case .settleReplication = action {
            // The simulated wait is instant: time stands still during it, so the plan shows the one round a live
            // run makes when the new writer is level, whatever the load of the machine planning it.
            let frozen = context.elapsed()
            context = CutoverExecutionContext(
                elapsed: { frozen }, report: context.report, logger: context.logger,
                isStopRequested: context.isStopRequested, policy: context.policy, sleep: context.sleep)
        }
        var performed = action
        if case .watchNewWriter(let role, _, _, let interval, let reloads) = action {
            // One reading: the simulated nodes never shun, and a plan must not depend on how many reads a clock fits.
            performed = .watchNewWriter(role, watch: .zero, recovery: .zero, interval: interval, maximumReloads: reloads)
        }
        let result = await live.perform(performed, context: context)
        let statements = log.statements(since: start)
        // Nodes run in parallel: group by endpoint (databases first, then nodes in order), each in its own order.
        let order = endpointOrder
        let grouped = statements.enumerated().sorted { lhs, rhs in
            let left = order.firstIndex(of: lhs.element.endpoint) ?? order.count
            let right = order.firstIndex(of: rhs.element.endpoint) ?? order.count
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
        var outcome = CutoverRunner.describe(result.event)
        if case .sessionsClosed(let role, _, _) = result.event {
            // The count is the simulation's stand-in rows: say what a live run does instead.
            outcome = "the sessions found on \(role) are closed"
        }
        recorded.withLock { steps in
            steps.append(
                DryRunPlan.Step(
                    index: steps.count + 1,
                    action: DryRunLog.describing(CutoverRunner.describe(action)),
                    outcome: DryRunLog.describing(outcome),
                    pastPointOfNoReturn: false,
                    statements: grouped
                )
            )
        }
        return result
    }

    /// Plans `operation`: runs the state machine with this executor (no journal) and collects every step.
    public static func plan(_ operation: CutoverOperation, environment: DryRunEnvironment, logger: Logger) async
        -> DryRunPlan
    {
        await plan(operation, environment: environment, logger: logger) { try await $0.run() }
    }

    /// Plans what resuming the unfinished run of `entries` (a journal) would do: its events are replayed into the
    /// state machine, then the remaining steps (or the rollback) run against the simulation.
    ///
    /// - Throws: ``CutoverError`` (``CutoverError/Code/nothingToResume``, ``CutoverError/Code/journalMismatch``).
    public static func planResume(entries: [JournalRecord], environment: DryRunEnvironment, logger: Logger)
        async throws -> DryRunPlan
    {
        guard let run = CutoverJournal.unfinishedRun(in: entries), let operation = run.first?.operation else {
            throw CutoverError(code: .nothingToResume, message: "the journal has no unfinished run", remedy: "nothing to do")
        }
        guard run.first?.topologyFingerprint == environment.topology.fingerprint else {
            throw CutoverError(
                code: .journalMismatch, message: "the unfinished run was planned for another topology",
                remedy: "resume with the configuration that started it")
        }
        var resumed: (any Error)?
        let plan = await plan(operation, environment: environment, logger: logger) { runner in
            do {
                return try await runner.resume(from: entries)
            } catch {
                resumed = error
                throw error
            }
        }
        if let resumed { throw resumed }
        return plan
    }

    private static func plan(
        _ operation: CutoverOperation,
        environment: DryRunEnvironment,
        logger: Logger,
        start: (CutoverRunner) async throws -> CutoverReport
    ) async -> DryRunPlan {
        let executor = DryRunExecutor(environment: environment)
        let runner = CutoverRunner(
            configuration: .init(
                operation: operation,
                policy: environment.policy,
                topologyFingerprint: environment.topology.fingerprint
            ),
            executor: executor,
            journal: nil,
            logger: logger
        )
        // The step after which the point of no return was passed, counted from the events.
        async let pointOfNoReturnStep: Int? = {
            var started = 0
            var point: Int?
            for await event in runner.events {
                switch event {
                case .stepStarted: started += 1
                case .pointOfNoReturnPassed: point = point ?? started
                default: break
                }
            }
            return point
        }()
        let outcome: CutoverOutcome
        do {
            outcome = try await start(runner).outcome
        } catch {
            // A dry run has no journal: only a resume that cannot start throws (the caller reports it). Its events
            // never end: leaving the scope cancels their reader.
            return DryRunPlan(
                operation: operation, steps: executor.steps,
                outcome: .refused([BlockingReason(check: "dry-run", message: "\(error)", remedy: "see the error")]),
                assumptions: environment.assumptions)
        }
        let point = await pointOfNoReturnStep
        var steps = executor.steps
        if let point {
            for index in steps.indices where steps[index].index > point { steps[index].pastPointOfNoReturn = true }
        }
        return DryRunPlan(operation: operation, steps: steps, outcome: outcome, assumptions: environment.assumptions)
    }
}
