import Cutover
@_spi(Testing) import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Synchronization

/// What a scenario measured.
struct ScenarioResult: Sendable {
    var scenario: Scenario
    /// Why the scenario stopped before its last run (the topology is then in an unknown state), or nil.
    var failure: String?
    var analyses: [RunAnalysis]
    /// The checker's verdict over the whole scenario (every acknowledged write on the final writer once).
    var verification: WriteLoadVerification?
    var verificationError: String?
    var acknowledged: Int
    var writesPerSecond: Double
    /// Failed / ambiguous client writes over the whole scenario, and their error numbers.
    var failed: Int
    var ambiguous: Int
    var errorNumbers: [UInt32?: Int]
    /// sysbench's counters and the row-count check (issue #18), when it ran beside.
    var sysbench: SysbenchReport?
    var sysbenchCheck: SysbenchCheck?
    var sysbenchError: String?
    /// `SELECT LAST_INSERT_ID()` reads of the `last-insert-id` clients.
    var lastInsertID = LastInsertIDTally()

    var completedRuns: Int { analyses.count { $0.record.completed } }

    /// A scenario that did not run.
    init(skipped scenario: Scenario, reason: String) {
        self.init(
            scenario: scenario, failure: reason, analyses: [], verification: nil, verificationError: reason,
            acknowledged: 0, writesPerSecond: 0, failed: 0, ambiguous: 0, errorNumbers: [:]
        )
    }

    init(
        scenario: Scenario,
        failure: String?,
        analyses: [RunAnalysis],
        verification: WriteLoadVerification?,
        verificationError: String?,
        acknowledged: Int,
        writesPerSecond: Double,
        failed: Int,
        ambiguous: Int,
        errorNumbers: [UInt32?: Int]
    ) {
        self.scenario = scenario
        self.failure = failure
        self.analyses = analyses
        self.verification = verification
        self.verificationError = verificationError
        self.acknowledged = acknowledged
        self.writesPerSecond = writesPerSecond
        self.failed = failed
        self.ambiguous = ambiguous
        self.errorNumbers = errorNumbers
    }
    var lost: Int? { verification?.lost.count }
}

/// Root connections to both servers, bypassing ProxySQL: they set the lag before a switch (a burst of writes on the
/// current writer, or a wait until the next writer has caught up). They reconnect: every switch closes every client
/// session on its old writer (#13), these idle ones included, and a lag scenario after `headline` found its source
/// connection killed (2013 at its first burst, #12). A burst statement lost that way never ran (the connection was
/// dead before it was sent); one lost while running would fail on its primary keys when sent again, not duplicate.
final class BurstWriter: Sendable {
    static let database = "cutover_bench_burst"
    let source: ReconnectingSQLSession
    let target: ReconnectingSQLSession
    let sourceDialect: ReplicationDialect
    let targetDialect: ReplicationDialect
    private let nextID = Mutex<Int64>(0)

    private init(
        source: ReconnectingSQLSession,
        target: ReconnectingSQLSession,
        sourceDialect: ReplicationDialect,
        targetDialect: ReplicationDialect
    ) {
        self.source = source
        self.target = target
        self.sourceDialect = sourceDialect
        self.targetDialect = targetDialect
    }

    /// Creates the burst table on the source (replication carries it to "Aurora") and opens root connections.
    static func prepare(_ rehearsal: Rehearsal, logger: Logger) async throws -> BurstWriter {
        let source = ReconnectingSQLSession(connection: try await rehearsal.source.connectAsRoot(logger: logger))
        let target = ReconnectingSQLSession(connection: try await rehearsal.target.connectAsRoot(logger: logger))
        try await source.run("CREATE DATABASE IF NOT EXISTS \(identifier: database)")
        try await source.run(
            "CREATE TABLE IF NOT EXISTS \(identifier: database).`filler` (id BIGINT PRIMARY KEY, payload VARCHAR(255) NOT NULL) ENGINE=InnoDB"
        )
        // The canary's table, in the application's schema (its account may insert there), created once on the
        // source and replicated.
        try await source.run("USE \(identifier: rehearsal.options.schema.database)")
        try await source.run(CanaryProxyWriter.createTableStatement())
        return BurstWriter(
            source: source,
            target: target,
            sourceDialect: try await ReplicationDialect.detect(on: source, logger: logger),
            targetDialect: try await ReplicationDialect.detect(on: target, logger: logger)
        )
    }

    /// Waits until the replica of `writer` is (nearly) caught up: it executes the writer's current position, again
    /// and again, until one such wait takes under 5 ms. The load keeps writing meanwhile, so a single wait would
    /// only bring the lag down to the length of that wait. The switch that follows then starts at zero lag,
    /// whatever the previous one left behind. Returns how long it took.
    func settle(writer: DatabaseRole, logger: Logger) async throws -> Duration {
        let (writerSession, writerDialect) = writer == .source ? (source, sourceDialect) : (target, targetDialect)
        let (replicaSession, replicaDialect) = writer == .source ? (target, targetDialect) : (source, sourceDialect)
        let start = ContinuousClock.now
        let deadline = start + .seconds(120)
        while true {
            let position = try await SourceController(session: writerSession, dialect: writerDialect)
                .sourceStatus(logger: logger).position
            let result = try await CatchUpWaiter(session: replicaSession, dialect: replicaDialect)
                .waitUntilExecuted(.position(position), deadline: deadline, logger: logger)
            if result.waited < .milliseconds(5) { return ContinuousClock.now - start }
        }
    }

    /// Inserts `rows` rows on `role` in statements of ``Scenario/burstChunk`` rows; returns how long it took.
    func write(rows: Int, on role: DatabaseRole) async throws -> Duration {
        guard rows > 0 else { return .zero }
        let connection = role == .source ? source : target
        let isMariaDB = (role == .source ? sourceDialect : targetDialect).isMariaDB
        let start = ContinuousClock.now
        var remaining = rows
        while remaining > 0 {
            let count = min(remaining, Scenario.burstChunk)
            let first = nextID.withLock { value -> Int64 in
                defer { value += Int64(count) }
                return value
            }
            // Only integers are spliced in. MariaDB numbers the rows with its SEQUENCE engine (`seq_1_to_N`); MySQL has
            // none, so there the numbers 1...count come from four digit tables joined (count ≤ 10 000).
            let numbered =
                isMariaDB
                ? "SELECT \(first) + seq, REPEAT('x', 200) FROM `\(Self.database)`.seq_1_to_\(count)"
                : "SELECT \(first) + n, REPEAT('x', 200) FROM (SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d AS n FROM "
                    + ["a", "b", "c", "e"].map { "(\(Self.digits)) \($0)" }.joined(separator: ", ")
                    + ") numbers WHERE n <= \(count)"
            try await connection.run(
                SQLStatement(unsafeRaw: "INSERT INTO `\(Self.database)`.`filler` (id, payload) " + numbered),
                timeout: .seconds(120)
            )
            remaining -= count
        }
        return ContinuousClock.now - start
    }

    /// The digits 0–9 as a derived table of one column `d`.
    static let digits = (0...9).map { "SELECT \($0) AS d" }.joined(separator: " UNION ALL ")

    func close() async {
        await source.close()
        await target.close()
    }
}

/// Runs one scenario: a write load through the emulator, `runs` alternating writer switches (cut-over, failback,
/// ...), then the checker.
struct ScenarioRunner {
    var scenario: Scenario
    var runs: Int
    var clients: Int
    var thinkTime: Duration
    var rehearsal: Rehearsal
    var burst: BurstWriter
    var logger: Logger
    /// The journal file of this scenario's runs (one per scenario, opened for each run and fsync'd per entry, as
    /// `migrate-cli` does), or nil to run without one.
    var journalPath: String?
    /// Where a stopped run's evidence goes (``FenceEvidence``), or nil.
    var evidenceDirectory: String?
    /// One canary per ProxySQL node (`--canary-per-node`), the worst as the headline; else one through the first.
    var canaryPerNode = false
    /// Progress lines.
    var progress: @Sendable (String) -> Void

    func run() async throws -> ScenarioResult {
        let timer = StatementTimer()
        // Ours: the strategy under test (wait function or 20 ms polling). The baseline: polling every second.
        let catchUp =
            scenario.procedure == .baseline
            ? CatchUpWaiter.Options(strategy: .polling, pollInterval: .seconds(1))
            : CatchUpWaiter.Options(strategy: scenario.strategy)
        let (environment, closeEnvironment) = try await rehearsal.makeEnvironment(
            options: Rehearsal.EnvironmentOptions(
                catchUp: catchUp,
                wrapSession: { [scenario, rehearsal] session, name in
                    // One slow node of the fleet (issue #16): every admin statement to it answers late.
                    guard scenario.lateNodeDelay > .zero, name == rehearsal.proxyNodeNames.last else {
                        return timer.wrap(session, name: name)
                    }
                    return timer.wrap(LateSQLSession(base: session, delay: scenario.lateNodeDelay), name: name)
                }
            ),
            logger: logger
        )
        var policy = CutoverPolicy()
        // Room for CPU noise on a shared 2-core machine: a rollback would tell nothing about the window.
        policy.drainDeadline = .seconds(2)
        policy.catchUpDeadline = .seconds(30)
        if scenario.workload == .autoIncrement, scenario.shapes == [.plain] { policy.autoIncrementPin = .relax }
        if let pinned = scenario.pinnedSessions { policy.pinnedSessions = pinned }
        if let pin = scenario.autoIncrementPin { policy.autoIncrementPin = pin }
        if !scenario.toolSettle { policy.replicationSettleDeadline = .zero }
        // Issue #14 item 8: ProxySQL's default `mysql-connect_timeout_server_max` (10 s) instead of the rehearsal's
        // 60 s, so clients wait for a shunned writer as they would at the defaults; the catch-up deadline is shortened
        // so the guards' worst-case window (drain + catch-up + fence + admin) stays under it (zero lag here).
        var restoreConnectTimeout: String?
        if scenario.hogNewWriter {
            if let reloads = scenario.shunnedWriterReloads { policy.shunnedWriterReloads = reloads }
            policy.catchUpDeadline = .seconds(5)
            let name = ProxySQLVariable.Name.connectTimeoutServerMax
            let previous = try await environment.proxies.variables([name], logger: logger).get()
            restoreConnectTimeout = previous.first?.first?.value
            _ = try await environment.proxies.setVariablesAndLoad([name: "10000"], logger: logger).get()
        }

        // Diagnostic scenario: no session may carry an auto-increment pin from before the run.
        var restorePin: String?
        if scenario.relaxPinBeforeLoad {
            let name = ProxySQLVariable.Name.autoIncrementDelayMultiplex
            let previous = try await environment.proxies.variables([name], logger: logger).get()
            restorePin = previous.first?.first?.value
            _ = try await environment.proxies.setVariablesAndLoad([name: "0"], logger: logger).get()
        }

        var loadConfiguration = WriteLoad.Configuration(
            endpoint: rehearsal.writerEndpoint,
            clients: scenario.clients ?? clients,
            workload: scenario.workload,
            transactionMode: scenario.transactionMode,
            transactionHold: scenario.hold,
            thinkTime: scenario.thinkTime ?? thinkTime
        )
        loadConfiguration.shapes = scenario.shapes
        // A fleet: the clients spread over every node's writer port.
        loadConfiguration.additionalEndpoints = Array(rehearsal.writerEndpoints.dropFirst())
        // This scenario's auto-increment-pin decision from its own statements, not those of the scenarios before it.
        try await Self.resetQueryDigests(rehearsal)
        let load = try WriteLoad(configuration: loadConfiguration, logger: logger)
        // Issue #18: sysbench as an independent client beside the load, for a time that covers the runs (it is
        // awaited after them; its own counters go in the tables).
        let sysbench = try await SysbenchBeside.prepare(scenario.sysbench, rehearsal: rehearsal)
        let sysbenchTask = sysbench.map { load in Task { try await load.run(for: .seconds(8) + .seconds(4) * self.runs) } }
        let scenario = self.scenario
        let runs = self.runs
        let burst = self.burst
        let logger = self.logger
        let progress = self.progress
        let evidenceDirectory = self.evidenceDirectory
        let rehearsal = self.rehearsal
        let outcome: (report: WriteLoadReport, result: (records: [RunRecord], failure: String?))
        do {
            outcome = try await load.run { load -> (records: [RunRecord], failure: String?) in
                guard try await load.waitForAcknowledgedWrites(200, timeout: .seconds(60)) else {
                    return ([], "the write load did not get going")
                }
                var records: [RunRecord] = []
                // A switch the tool refused before its window (and rolled back cleanly) changed nothing: it is tried
                // again, as an operator would, up to `maximumRefusals` times per scenario, so that the load's checker
                // still runs at the end (issue #18: under this machine's load the replication settle refuses some).
                let maximumRefusals = 5
                var completedSwitches = 0
                var refusals = 0
                var attempt = 0
                while completedSwitches < runs {
                    let index = attempt
                    attempt += 1
                    let operation: CutoverOperation = completedSwitches.isMultiple(of: 2) ? .writerCutover : .writerFailback
                    let burstTime: Duration
                    do {
                        // Zero lag first (the previous switch may have left the reverse direction behind, for
                        // example while Aurora's delayed procedures ran); then, for the lag scenarios, the burst.
                        if scenario.preSettle { _ = try await burst.settle(writer: operation.from, logger: logger) }
                        burstTime = try await burst.write(rows: scenario.lag.burstRows, on: operation.from)
                    } catch {
                        return (records, "before run \(index + 1) (\(operation)), replication could not be settled: \(error)")
                    }
                    _ = timer.take()
                    let started = ContinuousClock.now
                    let record: RunRecord
                    switch scenario.procedure {
                    case .ours:
                        let journal = try journalPath.map { try CutoverJournal(path: $0) }
                        // Issue #14 item 8: the new writer refuses connections from right before OFFLINE_SOFT until
                        // 600 ms after the emulator shows it SHUNNED; `finish()` releases it on every way out.
                        let hog =
                            scenario.hogNewWriter
                            ? ShunnedWriterHog(
                                base: LiveCutoverExecutor(environment: environment),
                                operation: operation,
                                server: (operation.to == .source ? rehearsal.source : rehearsal.target)
                                    .rootConfiguration,
                                admin: rehearsal.emulator.adminConfiguration,
                                writerKey: operation.to == .source
                                    ? environment.topology.source.writer : environment.topology.target.writer
                            ) : nil
                        // The runner's clock starts inside its init: its marks are offsets from an instant between
                        // these two. The fences take the safe side of each (see RunRecord.fenceFrom/onlineSent).
                        let beforeInit = ContinuousClock.now
                        let runner = CutoverRunner(
                            configuration: .init(
                                operation: operation,
                                policy: policy,
                                topologyFingerprint: environment.topology.fingerprint
                            ),
                            executor: hog ?? LiveCutoverExecutor(environment: environment),
                            journal: journal,
                            logger: logger
                        )
                        let afterInit = ContinuousClock.now
                        do {
                            // The canary: heartbeats through the emulator's writer port as the application account,
                            // while the switch runs (what a client sees, next to the tool's own window).
                            let canaryEndpoints = canaryPerNode ? rehearsal.writerEndpoints : [rehearsal.writerEndpoint]
                            let canaryNodes = zip(rehearsal.proxyNodeNames, canaryEndpoints).map { name, endpoint in
                                var endpoint = endpoint
                                endpoint.database = rehearsal.options.schema.database
                                return Canary.Node(
                                    name: name,
                                    writer: CanaryProxyWriter(
                                        configuration: endpoint,
                                        runID: "\(scenario.id)-\(index)-\(operation)-\(name)",
                                        managesTable: false
                                    )
                                )
                            }
                            let (report, canary) = try await Canary.measure(nodes: canaryNodes) {
                                let report = try await runner.run()
                                // A shun may outlast the run (without a re-LOAD the watch ends at the first SHUNNED
                                // reading, and ProxySQL's own re-try comes 1–2 s after the last error): the canary
                                // goes on 3 s more, so that its gap is measured whole, not cut at the run's end.
                                if scenario.hogNewWriter { try await Task.sleep(for: .seconds(3)) }
                                return report
                            }
                            let ended = ContinuousClock.now
                            await hog?.finish()
                            await journal?.close()
                            // The settle of auto-increment pins (before the window): its start from the progress
                            // events (finished with the run), its end from the timeline.
                            var settle: (start: Duration, boundReached: Bool)?
                            var onlineSent: Duration?
                            for await event in runner.events {
                                switch event {
                                case .stepStarted(let step, _, let at) where step == "onlineNew":
                                    onlineSent = at
                                case .stepStarted(let step, _, let at) where step == "settlePins":
                                    settle = (at, false)
                                case .stepFinished(let step, let outcome, _) where step == "settlePins":
                                    settle?.boundReached = !outcome.hasPrefix("no session")
                                default:
                                    break
                                }
                            }
                            var ours = RunRecord(
                                index: index, operation: operation, report: report, started: beforeInit,
                                originLatest: afterInit,
                                ended: ended, statements: timer.take(), burst: burstTime, settle: settle,
                                onlineSent: onlineSent
                            )
                            ours.canary = canary
                            ours.hog = hog?.record
                            record = ours
                        } catch {
                            await hog?.finish()
                            await journal?.close()
                            return (records, "run \(index + 1) (\(operation)) could not start: \(error)")
                        }
                    case .baseline:
                        var marks: BaselineProcedure.Marks?
                        var failure: (any Error)?
                        do {
                            marks = try await BaselineProcedure(environment: environment).run(operation, logger: logger)
                        } catch {
                            failure = error
                        }
                        record = RunRecord(
                            index: index, operation: operation, marks: marks, failure: failure, started: started,
                            ended: ContinuousClock.now, statements: timer.take(), burst: burstTime
                        )
                    }
                    records.append(record)
                    progress(
                        "  \(scenario.id) #\(index + 1) \(operation): \(record.outcome), window "
                            + (record.window.map { String(format: "%.1f ms", $0.inMilliseconds) } ?? "-")
                            + (record.canary.map { String(format: ", canary gap %.1f ms", $0.longestGap.inMilliseconds) } ?? "")
                            + (record.hog.map { hog in
                                ", hog: " + (hog.error ?? (hog.shunSeen == nil ? "never SHUNNED" : "SHUNNED, released"))
                                    + "; watch: " + (record.newWriterWatch.map { "\($0)" } ?? "-")
                            } ?? "")
                    )
                    if !record.completed, record.refusedBeforeWindow, refusals < maximumRefusals {
                        refusals += 1
                        guard try await load.waitForMoreAcknowledgedWrites(100, timeout: .seconds(60)) else {
                            return (records, "the write load stalled after run \(index + 1)")
                        }
                        try await Task.sleep(for: .milliseconds(150))
                        continue
                    }
                    guard record.completed else {
                        if let evidenceDirectory {
                            await FenceEvidence.captureServers(
                                rehearsal: rehearsal, record: record, finalPosition: record.finalPosition, directory: evidenceDirectory)
                        }
                        // The topology is in an unknown state (the baseline has no rollback): stop here.
                        return (records, "run \(index + 1) (\(operation)) did not complete: \(record.outcome)")
                    }
                    // Let the load settle on the new writer before the next switch.
                    guard try await load.waitForMoreAcknowledgedWrites(100, timeout: .seconds(60)) else {
                        return (records, "the write load stalled after run \(index + 1)")
                    }
                    try await Task.sleep(for: .milliseconds(150))
                    completedSwitches += 1
                }
                return (records, nil)
            }
        } catch {
            if let restoreConnectTimeout {
                _ = try? await environment.proxies.setVariablesAndLoad(
                    [.connectTimeoutServerMax: restoreConnectTimeout], logger: logger
                ).get()
            }
            await closeEnvironment()
            throw error
        }
        var sysbenchReport: SysbenchReport?
        var sysbenchCheck: SysbenchCheck?
        var sysbenchError: String?
        if let sysbenchTask, let sysbench {
            do {
                let finished = try await sysbenchTask.value
                sysbenchReport = finished
                if let failure = outcome.result.failure {
                    // The rows are counted on the source as the final writer: after a stop the writer may be the
                    // other server, with the source behind it, and every row missing there would read as lost.
                    sysbenchError = "rows not checked: the scenario stopped (\(failure))"
                } else {
                    sysbenchCheck = try await SysbenchBeside.check(finished, load: sysbench, rehearsal: rehearsal, logger: logger)
                }
            } catch {
                sysbenchError = "\(error)"
            }
        }
        if let restorePin {
            _ = try? await environment.proxies.setVariablesAndLoad([.autoIncrementDelayMultiplex: restorePin], logger: logger).get()
        }
        if let restoreConnectTimeout {
            _ = try? await environment.proxies.setVariablesAndLoad(
                [.connectTimeoutServerMax: restoreConnectTimeout], logger: logger
            ).get()
        }
        await closeEnvironment()
        let report = outcome.report
        let records = outcome.result.records
        let failure = outcome.result.failure
        if failure != nil, let evidenceDirectory, let stopped = records.last(where: { !$0.completed }) {
            FenceEvidence.writeLedger(report: report, record: stopped, directory: evidenceDirectory)
        }

        // Every acknowledged write must be on the final writer exactly once; nothing may be accepted by a server
        // after it stopped being the writer.
        var verification: WriteLoadVerification?
        var verificationError: String?
        if let failure {
            verificationError = "not checked: \(failure)"
        } else {
            do {
                verification = try await verify(report, records: records)
            } catch {
                verificationError = "\(error)"
            }
        }

        var analyses: [RunAnalysis] = []
        for (position, record) in records.enumerated() {
            let attributionEnd = position + 1 < records.count ? records[position + 1].started : report.finishedAt
            analyses.append(RunAnalysis(record: record, report: report, attributionEnd: attributionEnd))
        }
        var numbers: [UInt32?: Int] = [:]
        for record in report.records {
            if let error = record.outcome.error { numbers[error.number, default: 0] += 1 }
        }
        var result = ScenarioResult(
            scenario: scenario,
            failure: failure,
            analyses: analyses,
            verification: verification,
            verificationError: verificationError,
            acknowledged: report.acknowledgedCount,
            writesPerSecond: report.acknowledgedPerSecond,
            failed: report.failed.count,
            ambiguous: report.ambiguous.count,
            errorNumbers: numbers
        )
        result.sysbench = sysbenchReport
        result.sysbenchCheck = sysbenchCheck
        result.sysbenchError = sysbenchError
        result.lastInsertID = report.lastInsertID
        return result
    }

    /// The checker over the whole scenario: the final writer is the source (runs alternate and end with a
    /// failback); after each switch the old writer must accept nothing until the next switch makes it the writer.
    private func verify(_ report: WriteLoadReport, records: [RunRecord]) async throws -> WriteLoadVerification {
        let finalWriter = try await rehearsal.source.connectAsRoot(logger: logger)
        let oldSource: MariaDBConnection
        do {
            oldSource = try await rehearsal.target.connectAsRoot(logger: logger)
        } catch {
            await finalWriter.close()
            throw error
        }
        let sourceID = UInt32(rehearsal.source.serverID)
        let targetID = UInt32(rehearsal.target.serverID)
        var fences: [CutoverSandbox.WriteFence] = []
        for (position, record) in records.enumerated() {
            guard let from = record.fenceFrom ?? record.windowClosed else { continue }
            // Until the next switch sends its ONLINE: a write queued in ProxySQL runs on that server as soon as the
            // LOAD applies, a moment before the switch has read the LOAD's answer (its `windowClosed`).
            // (A switch refused before its window sent no ONLINE: the next one that did bounds the fence.)
            let next = records[(position + 1)...].first { $0.onlineSent != nil || $0.windowClosed != nil }
            let until = next.flatMap { $0.onlineSent ?? $0.windowClosed }
            let fenced = record.operation.from == .source ? sourceID : targetID
            fences.append(CutoverSandbox.WriteFence(serverID: fenced, from: from, until: until))
        }
        let result: Result<WriteLoadVerification, any Error>
        do {
            result = .success(
                try await WriteLoadChecker.verify(report, finalWriter: finalWriter, oldSource: oldSource, fences: fences)
            )
        } catch {
            result = .failure(error)
        }
        await finalWriter.close()
        await oldSource.close()
        return try result.get()
    }

}
