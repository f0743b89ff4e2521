public import Cutover
public import CutoverSandbox
public import Logging
import MariaDB
import ReplicationControl
import Synchronization

/// The whole job on a fresh machine: starts a ``Rehearsal``, runs a write load through the ProxySQL emulator's
/// writer port, then preflight, reader cut-over, writer cut-over, writer failback and writer cut-over again, and
/// proves with ``WriteLoadChecker`` that no acknowledged write was lost or doubled. Always stops the sandbox.
///
/// What `migrate-cli rehearse` runs; progress arrives through a callback so any front end can render it.
public enum RehearsalScript {
    /// What to run.
    public struct Options: Sendable {
        /// The load's writes: client-chosen keys, or AUTO_INCREMENT inserts (which pin ProxySQL sessions).
        public var workload: WriteLoadWorkload
        /// The application the rehearsal runs (its load's shapes, sysbench beside); the mix by default.
        public var application: RehearsalWorkload
        /// Concurrent load clients.
        public var clients: Int
        /// Make the Aurora stand-in's procedures sleep like Aurora's (1–3 s each, off the critical path).
        public var auroraDelays: Bool
        /// How long the load runs before the first switch and between switches.
        public var loadBetweenSwitches: Duration
        /// The switches, in order.
        public var operations: [CutoverOperation]
        /// The cut-over policy (the auto-increment workload relaxes the pin, or sessions would never drain).
        public var policy: CutoverPolicy
        /// Which server the source and "Aurora" are (MariaDB by default, or MySQL 9.7).
        public var serverKind: SandboxServerKind
        /// Start with an empty "Aurora": dump the source with the stock client tool, restore the dump, and start
        /// forward replication from its header (`replication start-forward --from-dump`). Off: "Aurora" replicates
        /// from the source's position at start-up, as before.
        public var startsFromCopy: Bool = true
        /// After the last switch (when it leaves "Aurora" the writer), decommission the source (`finish`).
        public var finishes: Bool = true
        /// How many ProxySQL emulator nodes (a fleet: the load spread over their writer ports, every switch applied
        /// to and verified on each). 1 by default.
        public var proxyNodes: Int = 1
        /// The load's clients write through the nodes' application ports (query rules) instead of their writer
        /// ports. Only for workloads whose statements the rules send to the writers and that pin no session on a
        /// reader (``RehearsalWorkload/plain``, ``RehearsalWorkload/autoIncrement``): the emulator keeps one backend
        /// per session, where ProxySQL would keep one per hostgroup (`Documentation/proxysql-emulator.md`).
        public var writesThroughApplicationPort = false
        /// One canary per ProxySQL node (through each node's writer port, each reported, the worst as the headline)
        /// instead of one through the first node's (#14 item 9). Off by default.
        public var canaryPerNode = false

        /// Creates options; `policy` defaults to ``defaultPolicy(for:)``. Without `application`, a `workload` of
        /// `.clientKeys` / `.autoIncrement` runs that plain load, and neither runs ``RehearsalWorkload/mix``.
        public init(
            workload: WriteLoadWorkload? = nil,
            application: RehearsalWorkload? = nil,
            clients: Int = 4,
            auroraDelays: Bool = false,
            loadBetweenSwitches: Duration = .seconds(2),
            operations: [CutoverOperation] = [.readerCutover, .writerCutover, .writerFailback, .writerCutover],
            policy: CutoverPolicy? = nil,
            serverKind: SandboxServerKind = .mariadb
        ) {
            let application = application ?? workload.map { $0 == .clientKeys ? .plain : .autoIncrement } ?? .mix
            self.application = application
            self.workload = application.loadWorkload
            self.clients = application.clients(requested: clients)
            self.auroraDelays = auroraDelays
            self.loadBetweenSwitches = loadBetweenSwitches
            self.operations = operations
            self.policy = policy ?? Self.defaultPolicy(for: application.loadWorkload)
            self.serverKind = serverKind
        }

        /// The library's defaults with a looser drain and catch-up (the emulator and a debug build are slower than
        /// a real ProxySQL). The auto-increment pin and pinned sessions follow the library's defaults (relax on
        /// evidence, cut idle pins: issue #18), for every workload.
        public static func defaultPolicy(for workload: WriteLoadWorkload) -> CutoverPolicy {
            var policy = CutoverPolicy()
            policy.drainDeadline = .seconds(2)
            policy.catchUpDeadline = .seconds(5)
            return policy
        }
    }

    /// Progress of a rehearsal.
    public enum Event: Sendable {
        /// A phase began (`starting the sandbox`, `preflight`, ...).
        case phase(String)
        /// Something worth saying that is not a phase.
        case note(String)
        /// The preflight's report.
        case preflight(PreflightReport)
        /// A switch's own progress.
        case cutover(CutoverOperation, CutoverProgress)
        /// What the canary saw during a switch (after the switch's own `runFinished`).
        case canary(CutoverOperation, CanaryReport)
    }

    /// One switch as the rehearsal saw it.
    public struct Switch: Sendable {
        /// The operation.
        public var operation: CutoverOperation
        /// The runner's report (outcome and timeline).
        public var report: CutoverReport
        /// The longest time no write was acknowledged while the switch ran, as the clients saw it.
        public var clientGap: Duration?
        /// When the switch started (the runner's offsets count from here).
        public var started: ContinuousClock.Instant
        /// When it ended.
        public var ended: ContinuousClock.Instant
        /// What the canary saw: heartbeats through the writer port while the switch ran (nil: no canary).
        public var canary: CanaryReport? = nil
    }

    /// One stage of the whole migration and how long it took.
    public struct Stage: Sendable, Hashable {
        public var name: String
        public var duration: Duration
        public var detail: String

        public init(name: String, duration: Duration, detail: String) {
            self.name = name
            self.duration = duration
            self.detail = detail
        }
    }

    /// What a rehearsal found.
    public struct Result: Sendable {
        /// The preflight before the first switch.
        public var preflight: PreflightReport
        /// Every switch that ran, in order.
        public var switches: [Switch]
        /// The load's own record of every write.
        public var load: WriteLoadReport
        /// The checker's verdict on the final writer and the old source.
        public var verification: WriteLoadVerification
        /// sysbench's own counters, when it ran beside.
        public var sysbench: SysbenchReport?
        /// What could be checked of sysbench's writes on the final writer (row counts), when it ran.
        public var sysbenchCheck: SysbenchCheck?
        /// Why the rehearsal stopped before running every switch, if it did.
        public var stoppedEarly: String?
        /// Every stage in order (copy, restore, forward set-up, each switch, finish), with its duration.
        public var stages: [Stage] = []
        /// The reads through every node's application port (query rules send them to the readers), from before
        /// the first switch to after the last: how many, which server answered, every failure.
        public var reads: ReadLoad.Report? = nil

        /// Every switch completed, and nothing acknowledged was lost, doubled or accepted by a fenced server.
        public var succeeded: Bool {
            stoppedEarly == nil && switches.allSatisfy { $0.report.outcome == .completed } && verification.isClean
                && (sysbenchCheck?.isClean ?? true) && (readVerdict?.unexpected.isEmpty ?? true)
        }
    }

    /// Runs the rehearsal.
    ///
    /// Cancelling the calling task (the CLI does on SIGINT/SIGTERM) asks the switch in flight to stop safely (it
    /// rolls back before its point of no return), stops the load, stops the sandbox and throws
    /// `CancellationError`.
    ///
    /// - Throws: `SandboxError` and friends when the sandbox cannot start; `CancellationError`. A switch that fails
    ///   is a result, not an error.
    public static func run(
        options: Options,
        logger: Logger,
        progress: @escaping @Sendable (Event) -> Void
    ) async throws -> Result {
        if options.writesThroughApplicationPort, !Set(options.application.shapes).isSubset(of: [.plain, .lastInsertID]) {
            throw RehearsalOptionsError(
                message: "writes through the application port need a workload whose clients pin no session on a reader "
                    + "(plain or auto-increment), not \(options.application): the emulator keeps one backend per session")
        }
        progress(.phase("starting the sandbox: two \(options.serverKind.displayName) servers (source, \"Aurora\" with the mysql.rds_* procedures), the ProxySQL emulator, replication through the procedures"))
        return try await withRehearsal(
            options: {
                var rehearsalOptions = Rehearsal.Options(simulateAuroraDelays: options.auroraDelays, serverKind: options.serverKind)
                rehearsalOptions.startsForwardReplication = !options.startsFromCopy
                rehearsalOptions.proxyNodes = options.proxyNodes
                return rehearsalOptions
            }(),
            logger: logger
        ) { rehearsal in
            try await run(rehearsal, options: options, logger: logger, progress: progress)
        }
    }

    static func run(
        _ rehearsal: Rehearsal,
        options: Options,
        logger: Logger,
        progress: @escaping @Sendable (Event) -> Void
    ) async throws -> Result {
        progress(.note("source 127.0.0.1:\(rehearsal.source.port), \"Aurora\" 127.0.0.1:\(rehearsal.target.port), ProxySQL emulator admin 127.0.0.1:\(rehearsal.emulator.adminPort), writer port \(rehearsal.writerEndpoint.endpoint)"))
        var stages: [Stage] = []
        if options.startsFromCopy {
            stages += try await seedTarget(rehearsal, logger: logger, progress: progress)
        }
        if rehearsal.emulators.count > 1 {
            progress(.note("ProxySQL fleet: \(rehearsal.emulators.count) emulator nodes (\(rehearsal.proxyNodeNames.joined(separator: ", "))); the load's clients spread over their writer ports, every switch applied to and verified on each"))
        }
        try await prepareTarget(rehearsal, logger: logger, progress: progress)
        let (environment, closeEnvironment) = try await rehearsal.makeEnvironment(logger: logger)
        let closed = Mutex(false)
        let close: @Sendable () async -> Void = {
            guard closed.withLock({ closed in defer { closed = true }; return !closed }) else { return }
            await closeEnvironment()
        }
        do {
            progress(.phase("preflight"))
            let preflight = try await runPreflight(rehearsal, environment: environment, policy: options.policy, logger: logger)
            progress(.preflight(preflight))

            progress(.phase("workload \(options.application): \(options.application.summary); \(options.clients) client(s) of ours, through the emulator's writer port"))
            var loadConfiguration = rehearsal.fleetLoadConfiguration(clients: options.clients, workload: options.workload)
            loadConfiguration.shapes = options.application.shapes
            if options.writesThroughApplicationPort {
                let ports = rehearsal.applicationEndpoints
                loadConfiguration.endpoint = ports[0]
                loadConfiguration.additionalEndpoints = Array(ports.dropFirst())
                progress(.note("writes through the application port too (query rules: everything but SELECT to the writers)"))
            }
            let load = try WriteLoad(configuration: loadConfiguration, logger: logger)
            let sysbench = try await prepareSysbench(rehearsal, options: options, progress: progress)
            let sysbenchTime = options.loadBetweenSwitches * (options.operations.count + 1) + .seconds(8) * options.operations.count
            let sysbenchRun = SysbenchRun()
            let canaryEndpoints = try await prepareCanary(rehearsal, perNode: options.canaryPerNode, logger: logger)
            let finishStage = Mutex<Stage?>(nil)
            let reads = ReadLoad(endpoints: rehearsal.applicationEndpoints, clientsPerEndpoint: 1, serverKind: rehearsal.source.kind)
            progress(.note("reads: one client per node through the application port (query rules: SELECT to the readers), every failure counted"))
            let (report, outcome) = try await reads.run { reads in try await load.run { load -> ([Switch], String?) in
                if let sysbench { sysbenchRun.start(sysbench, for: sysbenchTime) }
                guard preflight.canProceed else {
                    return ([], "preflight failed: " + preflight.blockingReasons.map(\.check).joined(separator: ", "))
                }
                guard try await load.waitForAcknowledgedWrites(1, timeout: .seconds(30)) else {
                    return ([], "the load acknowledged no write within 30 s")
                }
                guard try await reads.waitForMoreReads(1, timeout: .seconds(30)) else {
                    return ([], "no read through the application port succeeded within 30 s: \(reads.report.failures.last?.description ?? "no answer")")
                }
                try await Task.sleep(for: options.loadBetweenSwitches)
                var switches: [Switch] = []
                for operation in options.operations {
                    try Task.checkCancellation()
                    progress(.phase(describe(operation)))
                    let change = try await runSwitch(
                        operation, environment: environment, policy: options.policy, logger: logger,
                        canaryEndpoints: canaryEndpoints, progress: progress
                    )
                    switches.append(change)
                    guard change.report.outcome == .completed else {
                        return (switches, "\(operation) did not complete")
                    }
                    try await Task.sleep(for: options.loadBetweenSwitches)
                }
                if options.finishes, let last = switches.last, last.operation == .writerCutover {
                    progress(.phase("finish: decommission the source (reverse replication stopped, its ProxySQL rows removed, forward replication reset)"))
                    let (stage, refusal) = try await runFinish(environment: environment, logger: logger, progress: progress)
                    finishStage.withLock { $0 = stage }
                    if let refusal { return (switches, refusal) }
                }
                return (switches, nil)
            } }
            await close()
            let sysbenchReport = try await sysbenchRun.finish(progress: progress)
            progress(.phase("checking every write on the final writer"))
            var switches = outcome.0
            for index in switches.indices {
                switches[index].clientGap = report.longestGap(overlapping: switches[index].started...switches[index].ended)?.duration
            }
            let verification = try await verify(rehearsal, report: report, switches: switches, logger: logger)
            var sysbenchCheck: SysbenchCheck?
            if let sysbenchReport {
                sysbenchCheck = try await checkSysbench(rehearsal, report: sysbenchReport, switches: switches, logger: logger)
            }
            stages += switches.map { Stage(name: $0.operation.rawValue, duration: $0.ended - $0.started, detail: "\($0.report.outcome)") }
            if let stage = finishStage.withLock({ $0 }) { stages.append(stage) }
            return Result(
                preflight: preflight, switches: switches, load: report, verification: verification,
                sysbench: sysbenchReport, sysbenchCheck: sysbenchCheck, stoppedEarly: outcome.1, stages: stages,
                reads: reads.report)
        } catch {
            await close()
            throw error
        }
    }

    /// The copy, the restore and `replication start-forward --from-dump`, as stages.
    static func seedTarget(_ rehearsal: Rehearsal, logger: Logger, progress: @Sendable (Event) -> Void) async throws -> [Stage] {
        let tool = rehearsal.source.kind == .mysql ? "mysqldump --single-transaction --source-data=2" : "mariadb-dump --single-transaction --master-data=2 --gtid"
        progress(.phase("copy: \(tool) of the source's schema, restored into the empty \"Aurora\""))
        let copy = try await rehearsal.copySourceToTarget(logger: logger)
        progress(.note("dump header: \(copy.coordinates)"))
        progress(.phase("replication start-forward --from-dump: pre-checks, the procedures, the proof"))
        let started = ContinuousClock.now
        let start = try await rehearsal.startForwardReplication(from: copy.coordinates, logger: logger)
        guard case .running(let why) = start.proof else {
            throw ReplicationError(
                code: .replicationFailed,
                message: "forward replication from the dump's header did not start: \(start.proof); "
                    + start.verdict.blockingReasons.map(\.description).joined(separator: "; "))
        }
        progress(.note("forward replication proved: \(why)"))
        return [
            Stage(name: "copy (dump)", duration: copy.dumpDuration, detail: tool),
            Stage(name: "restore", duration: copy.restoreDuration, detail: "into the empty \"Aurora\""),
            Stage(name: "start-forward --from-dump", duration: ContinuousClock.now - started, detail: "\(copy.coordinates.position.map { "from \($0)" } ?? "by GTID")"),
        ]
    }

    /// `finish`: the guards, then the steps; a refusal is returned, not thrown.
    static func runFinish(environment: CutoverEnvironment, logger: Logger, progress: @Sendable (Event) -> Void) async throws -> (Stage, String?) {
        let started = ContinuousClock.now
        let run = FinishRun(environment: environment)
        let facts = await run.readFacts(logger: logger)
        let reasons = Finish.blockingReasons(facts)
        guard reasons.isEmpty else {
            let text = reasons.map(\.description).joined(separator: "; ")
            return (Stage(name: "finish", duration: ContinuousClock.now - started, detail: "refused: \(text)"), "finish refused: \(text)")
        }
        let steps = try await run.perform(journal: nil, logger: logger) { step in
            progress(.note("finish: \(step.name) on \(step.endpoint)"))
        }
        return (Stage(name: "finish", duration: ContinuousClock.now - started, detail: steps.map(\.name).joined(separator: ", ")), nil)
    }

    static func describe(_ operation: CutoverOperation) -> String {
        switch operation {
        case .readerCutover: "reader cut-over: reads to \"Aurora\""
        case .readerFailback: "reader failback: reads back to the source"
        case .writerCutover: "writer cut-over: writes to \"Aurora\" (the write window)"
        case .writerFailback: "writer failback: writes back to the source"
        }
    }

    /// What the runbook does before the first switch: binlog retention on the target, for reverse replication.
    static func prepareTarget(_ rehearsal: Rehearsal, logger: Logger, progress: @Sendable (Event) -> Void) async throws {
        let admin = try await MariaDBConnection.connect(configuration: rehearsal.auroraShim.adminConfiguration, logger: logger)
        do {
            let controller = try await RDSReplicaController.detecting(on: admin, logger: logger)
            try await controller.setBinlogRetentionHours(24, logger: logger)
            progress(.note("\"Aurora\": CALL mysql.rds_set_configuration('binlog retention hours', 24), as the runbook does before a cut-over"))
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }

    static func runPreflight(_ rehearsal: Rehearsal, environment: CutoverEnvironment, policy: CutoverPolicy, logger: Logger) async throws
        -> PreflightReport
    {
        let source = try await rehearsal.source.connectAsRoot(logger: logger)
        let target: MariaDBConnection
        do {
            target = try await MariaDBConnection.connect(configuration: rehearsal.auroraShim.adminConfiguration, logger: logger)
        } catch {
            await source.close()
            throw error
        }
        var preflight = Preflight(
            topology: rehearsal.topology,
            policy: policy,
            source: ServerInspector(session: source, name: "source"),
            target: ServerInspector(session: target, name: "aurora"),
            targetDatabase: environment.target,
            proxies: environment.proxies
        )
        preflight.replicationLogin = Preflight.ReplicationLogin(password: rehearsal.reverseReplicationPassword)
        let report = await preflight.run(logger: logger)
        await source.close()
        await target.close()
        return report
    }

    /// Creates the canary's table in the application's schema on the source (replicated to "Aurora") and returns
    /// the canary's endpoints by node name: the first emulator node's writer port, or with `perNode` every node's,
    /// as the application account (on by default in rehearsals).
    static func prepareCanary(_ rehearsal: Rehearsal, perNode: Bool = false, logger: Logger) async throws
        -> [(node: String, endpoint: MariaDBConnection.Configuration)]
    {
        let root = try await rehearsal.source.connectAsRoot(logger: logger)
        do {
            try await root.run("USE \(identifier: rehearsal.options.schema.database)")
            try await root.run(CanaryProxyWriter.createTableStatement())
            await root.close()
        } catch {
            await root.close()
            throw error
        }
        let endpoints = perNode ? rehearsal.writerEndpoints : [rehearsal.writerEndpoint]
        return zip(rehearsal.proxyNodeNames, endpoints).map { name, endpoint in
            var endpoint = endpoint
            endpoint.database = rehearsal.options.schema.database
            return (name, endpoint)
        }
    }

    /// One switch, its progress forwarded. The runner runs in its own task so a cancellation of the rehearsal
    /// becomes a graceful shutdown (a rollback before the point of no return), not a half-done step. With canary
    /// endpoints, a canary writes through each while the switch runs (one: a plain report; several: per node).
    static func runSwitch(
        _ operation: CutoverOperation,
        environment: CutoverEnvironment,
        policy: CutoverPolicy,
        logger: Logger,
        canaryEndpoints: [(node: String, endpoint: MariaDBConnection.Configuration)] = [],
        progress: @escaping @Sendable (Event) -> Void
    ) async throws -> Switch {
        guard !canaryEndpoints.isEmpty else {
            return try await runSwitch(operation, environment: environment, policy: policy, logger: logger, progress: progress)
        }
        let run = UInt32.random(in: 0...UInt32.max)
        let nodes = canaryEndpoints.map { node, endpoint in
            Canary.Node(
                name: node,
                writer: CanaryProxyWriter(configuration: endpoint, runID: "rehearse-\(operation)-\(run)-\(node)", managesTable: false)
            )
        }
        var (change, canary) = try await Canary.measure(nodes: nodes, logger: logger) {
            try await runSwitch(operation, environment: environment, policy: policy, logger: logger, progress: progress)
        }
        change.canary = canary
        progress(.canary(operation, canary))
        return change
    }

    /// One switch, its progress forwarded (no canary).
    static func runSwitch(
        _ operation: CutoverOperation,
        environment: CutoverEnvironment,
        policy: CutoverPolicy,
        logger: Logger,
        progress: @escaping @Sendable (Event) -> Void
    ) async throws -> Switch {
        let started = ContinuousClock.now
        let runner = CutoverRunner(
            configuration: .init(operation: operation, policy: policy, topologyFingerprint: environment.topology.fingerprint),
            executor: LiveCutoverExecutor(environment: environment),
            journal: nil,
            logger: logger
        )
        let execution = Task { try await runner.run() }
        let report = try await withTaskCancellationHandler {
            async let forwarded: Void = {
                for await event in runner.events { progress(.cutover(operation, event)) }
            }()
            let report = try await execution.value
            await forwarded
            return report
        } onCancel: {
            Task { await runner.requestGracefulShutdown() }
        }
        return Switch(operation: operation, report: report, clientGap: nil, started: started, ended: ContinuousClock.now)
    }

    /// Every acknowledged write on the final writer exactly once; nothing accepted by a server after it stopped
    /// being the writer (until a later switch made it the writer again).
    static func verify(_ rehearsal: Rehearsal, report: WriteLoadReport, switches: [Switch], logger: Logger) async throws
        -> WriteLoadVerification
    {
        let writerSwitches = switches.filter { $0.operation.movesWriter && $0.report.outcome == .completed }
        let finalIsTarget = writerSwitches.last.map { $0.operation.to == .target } ?? false
        let finalServer = finalIsTarget ? rehearsal.target : rehearsal.source
        let otherServer = finalIsTarget ? rehearsal.source : rehearsal.target
        let finalWriter = try await finalServer.connectAsRoot(logger: logger)
        let other: MariaDBConnection
        do {
            other = try await otherServer.connectAsRoot(logger: logger)
        } catch {
            await finalWriter.close()
            throw error
        }
        func closedAt(_ change: Switch) -> ContinuousClock.Instant? {
            change.report.timeline.marks[.windowClosed].map { change.started + $0 }
        }
        // The fenced server may take writes again as soon as the next switch starts its ONLINE: on a fleet the nodes
        // apply it one after the other, and `windowClosed` is marked after the last, so a write acknowledged by the
        // server through the first node is legitimate before that mark. The new writer's position is read right
        // before the ONLINE.
        func reopenedAt(_ change: Switch) -> ContinuousClock.Instant? {
            (change.report.timeline.marks[.newWriterPositionRead] ?? change.report.timeline.marks[.windowClosed])
                .map { change.started + $0 }
        }
        var fences: [CutoverSandbox.WriteFence] = []
        for (index, change) in writerSwitches.enumerated() {
            guard let from = closedAt(change) else { continue }
            let until = index + 1 < writerSwitches.count ? reopenedAt(writerSwitches[index + 1]) : nil
            let server = change.operation.from == .source ? rehearsal.source : rehearsal.target
            fences.append(CutoverSandbox.WriteFence(serverID: UInt32(server.serverID), from: from, until: until))
        }
        do {
            let verification = try await WriteLoadChecker.verify(report, finalWriter: finalWriter, oldSource: other, fences: fences)
            await finalWriter.close()
            await other.close()
            return verification
        } catch {
            await finalWriter.close()
            await other.close()
            throw error
        }
    }
}
