import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import InMemoryLogging
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

/// How a fault case must end.
enum ExpectedOutcome: Sendable, Equatable, CustomStringConvertible {
    case completed
    case rolledBack
    /// The new writer took over; the listed steps remain.
    case stoppedAfterPointOfNoReturn
    /// The guards refused; the check named is among the reasons.
    case refused(String)

    var description: String {
        switch self {
        case .completed: "completed"
        case .rolledBack: "rolled back"
        case .stoppedAfterPointOfNoReturn: "stopped after the point of no return"
        case .refused(let check): "refused (\(check))"
        }
    }

    func matches(_ outcome: CutoverOutcome) -> Bool {
        switch (self, outcome) {
        case (.completed, .completed): true
        case (.rolledBack, .rolledBack): true
        case (.stoppedAfterPointOfNoReturn, .stoppedAfterPointOfNoReturn): true
        case (.refused(let check), .refused(let reasons)): reasons.contains { $0.check == check }
        default: false
        }
    }
}

/// One fault case: an operation under write load, faults injected at given steps, and what must hold afterwards.
struct FaultCase: Sendable {
    var name: String
    var operation: CutoverOperation = .writerCutover
    var policy: CutoverPolicy = FaultPolicies.standard
    var injections: [Injection] = []
    /// Request a graceful shutdown (what SIGINT/SIGTERM do in the CLI) right before or after a step.
    var shutdown: (point: FaultPoint, moment: Injection.Moment)?
    var expected: ExpectedOutcome
    var clients: Int = 4
    /// The load's table and its clients' shapes (issue #18: applications that ProxySQL pins).
    var workload: WriteLoadWorkload = .clientKeys
    var shapes: [WriteLoad.ClientShape] = [.plain]
    /// Whether writes can be acknowledged right after the run (false while the writer's server is down).
    var writerAvailableAfterRun = true
    /// Whether replication must be healthy at the end (false for cases that break it on purpose).
    var checkReplicationAfter = true
    /// Added to the bound on a failed attempt's window (faults that make a step wait for a node deadline).
    var extraWindowAllowance: Duration = .zero
    /// Journal the run here.
    var journalPath: String?
    /// Runs after the load stopped and before the rows are read (restart a killed server, release a lock...).
    var repair: @Sendable (FaultBed) async throws -> Void = { _ in }
}

/// What one fault case did.
struct FaultCaseResult: Sendable {
    var name: String
    var report: CutoverReport
    var verification: WriteLoadVerification
    var load: WriteLoadReport
    var sampler: RoutingSampler.Summary
    var performed: [PerformedAction]
    var progress: [CutoverProgress]
    var runDuration: Duration
    var firedInjections: [String]

    /// One row of the fault matrix.
    var matrixRow: String {
        let window = report.timeline.window.map { FaultMatrix.milliseconds($0) } ?? "-"
        return
            "| \(name) | \(FaultMatrix.outcome(report.outcome)) | \(window) | \(FaultMatrix.milliseconds(runDuration)) | "
            + "\(verification.acknowledgedCount) | \(verification.lost.count) | \(verification.duplicated.count) | "
            + "\(sampler.totalSamples) / \(sampler.violations.count) |"
    }
}

/// Rows of the fault matrix, printed with a `FAULT-MATRIX` prefix so a run's output can be collected into
/// `Documentation/reliability.md`.
enum FaultMatrix {
    static func record(_ row: String) {
        print("FAULT-MATRIX \(row)")
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
    }

    static func outcome(_ outcome: CutoverOutcome) -> String {
        switch outcome {
        case .completed: "completed"
        case .refused(let reasons): "refused: " + reasons.map(\.check).joined(separator: ", ")
        case .rolledBack(let reason, let failures):
            "rolled back (\(reason.prefix(90)))" + (failures.isEmpty ? "" : "; rollback failures: \(failures.count)")
        case .stoppedAfterPointOfNoReturn(_, let failures, let remaining):
            "stopped after PONR; remaining \(remaining.map(\.rawValue).joined(separator: ", "))"
                + (failures.isEmpty ? "" : "; failures on " + failures.compactMap(\.endpoint).joined(separator: ", "))
        }
    }
}

/// Holds the runner so an injection can ask it for a graceful shutdown.
final class RunnerBox: Sendable {
    private let runner = Mutex<CutoverRunner?>(nil)
    func set(_ value: CutoverRunner) { runner.withLock { $0 = value } }
    func requestGracefulShutdown() async { await runner.withLock { $0 }?.requestGracefulShutdown() }

    /// An injection that asks the runner for a graceful shutdown (what SIGINT/SIGTERM do in the CLI) at `shutdown`.
    func shutdownInjection(_ shutdown: (point: FaultPoint, moment: Injection.Moment)) -> Injection {
        Injection(point: shutdown.point, moment: shutdown.moment, name: "graceful shutdown") {
            await self.requestGracefulShutdown()
        }
    }
}

enum FaultScenario {
    /// Runs `faultCase` on `bed` under write load and checks every invariant; returns what happened.
    @discardableResult
    static func run(_ faultCase: FaultCase, on bed: FaultBed, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
        -> FaultCaseResult
    {
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "fault", factory: { _ in logs })
        logger.logLevel = .trace
        let (environment, close) = try await bed.makeEnvironment(logger: logger)
        let secrets = bed.secrets(of: environment)
        let journal = try faultCase.journalPath.map { try CutoverJournal(path: $0) }
        let box = RunnerBox()
        var injections = faultCase.injections
        if let shutdown = faultCase.shutdown { injections.append(box.shutdownInjection(shutdown)) }
        let executor = FaultInjectingExecutor(
            base: LiveCutoverExecutor(environment: environment),
            operation: faultCase.operation,
            injections: injections
        )
        var loadConfiguration = WriteLoad.Configuration(
            endpoint: bed.rehearsal.writerEndpoint,
            clients: faultCase.clients,
            workload: faultCase.workload,
            pauseAfterFailure: .milliseconds(5)
        )
        loadConfiguration.shapes = faultCase.shapes
        // A fleet bed (issue #16): the clients spread over every node's writer port.
        loadConfiguration.additionalEndpoints = Array(bed.rehearsal.writerEndpoints.dropFirst())
        loadConfiguration.idleTime = .milliseconds(700)
        let load = try WriteLoad(
            configuration: loadConfiguration,
            logger: Logger(label: "fault.load", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let sampler = RoutingSampler(nodes: bed.proxyNodes)
        struct RunOutput: Sendable {
            var report: CutoverReport
            var progress: [CutoverProgress]
            var started: ContinuousClock.Instant
            var ended: ContinuousClock.Instant
        }
        let (loadReport, output) = try await load.run { load -> RunOutput in
            guard try await load.waitForAcknowledgedWrites(100, timeout: .seconds(30)) else {
                throw FaultBedError("\(faultCase.name): the write load did not start")
            }
            // Taken before the runner exists, so `started + offset` is never later than the real moment.
            let started = ContinuousClock.now
            let runner = CutoverRunner(
                configuration: .init(
                    operation: faultCase.operation,
                    policy: faultCase.policy,
                    topologyFingerprint: environment.topology.fingerprint
                ),
                executor: executor,
                journal: journal,
                logger: logger
            )
            box.set(runner)
            let (report, progress) = try await sampler.sampling {
                async let progress = Self.collect(runner.events)
                let report = try await runner.run()
                return (report, await progress)
            }
            let ended = ContinuousClock.now
            if faultCase.writerAvailableAfterRun {
                let more = try await load.waitForMoreAcknowledgedWrites(50, timeout: .seconds(20))
                #expect(more, "\(faultCase.name): no writes acknowledged after the run", sourceLocation: sourceLocation)
            }
            return RunOutput(report: report, progress: progress, started: started, ended: ended)
        }
        await journal?.close()
        await close()
        try await faultCase.repair(bed)

        // Rows: on the server that is the writer now; the other one must hold no write of its own that the writer
        // lacks, and must have accepted none while it was not the writer.
        let report = output.report
        let finalRole = report.outcome.isPastPointOfNoReturn ? faultCase.operation.to : faultCase.operation.from
        let finalServer = finalRole == .source ? bed.source : bed.target
        let otherServer = finalRole == .source ? bed.target : bed.source
        var fences: [CutoverSandbox.WriteFence] = []
        if report.outcome.isPastPointOfNoReturn, let closed = report.timeline.marks[.windowClosed] {
            fences.append(
                CutoverSandbox.WriteFence(serverID: UInt32(otherServer.serverID), from: output.started + closed))
        } else {
            fences.append(CutoverSandbox.WriteFence(serverID: UInt32(otherServer.serverID), from: loadReport.startedAt))
        }
        let finalConnection = try await finalServer.connectAsRoot()
        let otherConnection = try await otherServer.connectAsRoot()
        let verification = try await WriteLoadChecker.verify(
            loadReport,
            finalWriter: finalConnection,
            oldSource: otherConnection,
            fences: fences
        )
        await finalConnection.close()
        await otherConnection.close()

        let result = FaultCaseResult(
            name: faultCase.name,
            report: report,
            verification: verification,
            load: loadReport,
            sampler: sampler.summary,
            performed: executor.performed,
            progress: output.progress,
            runDuration: output.started.duration(to: output.ended),
            firedInjections: executor.firedInjections
        )
        FaultMatrix.record(result.matrixRow)
        print(
            "FAULT-OUTCOME \(faultCase.name): \(report.outcome); timeline \(report.timeline.marks.sorted { $0.value < $1.value }.map { "\($0.key.rawValue)@\(FaultMatrix.milliseconds($0.value))" }.joined(separator: " "))"
        )

        // The invariants.
        let name = faultCase.name
        #expect(
            executor.faultErrors.isEmpty, "\(name): injections failed: \(executor.faultErrors)",
            sourceLocation: sourceLocation)
        #expect(
            result.firedInjections.count == injections.count,
            "\(name): only \(result.firedInjections) of \(injections.map(\.name)) fired",
            sourceLocation: sourceLocation
        )
        #expect(
            faultCase.expected.matches(report.outcome),
            "\(name): expected \(faultCase.expected), got \(report.outcome)", sourceLocation: sourceLocation)
        expectNoWriteLostOrDoubled(verification, name, sourceLocation: sourceLocation)
        #expect(
            result.sampler.violations.isEmpty, "\(name): two writers ONLINE: \(result.sampler.violations)",
            sourceLocation: sourceLocation)
        // Sampled all along (every 3 ms; a refusal takes a few tens of milliseconds).
        #expect(
            result.sampler.totalSamples >= (result.report.timeline.window == nil ? 1 : 10),
            "\(name): the routing was sampled only \(result.sampler.totalSamples) times",
            sourceLocation: sourceLocation
        )
        expectBoundedWaits(
            result, policy: faultCase.policy, nodeDeadline: environment.proxies.nodeDeadline,
            extra: faultCase.extraWindowAllowance, sourceLocation: sourceLocation)
        expectMessagesNameEndpointAndStep(result, sourceLocation: sourceLocation)

        switch report.outcome {
        case .completed:
            try await bed.expectCutOverState(
                name, checkReplication: faultCase.checkReplicationAfter, sourceLocation: sourceLocation)
        case .stoppedAfterPointOfNoReturn(_, _, let remaining):
            #expect(
                !remaining.isEmpty, "\(name): stopped after the point of no return with nothing remaining",
                sourceLocation: sourceLocation)
            for node in bed.proxyNodes where faultCase.checkReplicationAfter {
                let writers = try await bed.runtimeWriters(node: node.configuration)
                #expect(
                    writers == [bed.targetEndpoint], "\(name): \(node.name) routes writes to \(writers)",
                    sourceLocation: sourceLocation)
            }
        case .rolledBack, .refused:
            if faultCase.checkReplicationAfter {
                try await bed.expectStartingState(name, sourceLocation: sourceLocation)
            }
        }

        // No secret anywhere: journal, logs, progress, outcome.
        var texts: [String] = [String(describing: report.outcome), String(reflecting: report.outcome)]
        texts += output.progress.map { String(describing: $0) }
        texts += logs.entries.map { "\($0.message) \($0.metadata) \(String(describing: $0.error))" }
        if let path = faultCase.journalPath, let journalText = try? String(contentsOfFile: path, encoding: .utf8) {
            texts.append(journalText)
            #expect(!journalText.isEmpty, "\(name): empty journal", sourceLocation: sourceLocation)
        }
        let everything = texts.joined(separator: "\n")
        for secret in secrets {
            #expect(
                !everything.contains(secret), "\(name): a password appears in the output, journal or logs",
                sourceLocation: sourceLocation)
        }
        return result
    }

    static func collect(_ events: AsyncStream<CutoverProgress>) async -> [CutoverProgress] {
        var collected: [CutoverProgress] = []
        for await event in events { collected.append(event) }
        return collected
    }

    static func expectNoWriteLostOrDoubled(
        _ verification: WriteLoadVerification, _ name: String, sourceLocation: SourceLocation
    ) {
        #expect(
            verification.lost.isEmpty, "\(name): \(verification.lost.count) acknowledged write(s) lost",
            sourceLocation: sourceLocation)
        #expect(
            verification.duplicated.isEmpty, "\(name): \(verification.duplicated.count) write(s) applied twice",
            sourceLocation: sourceLocation)
        #expect(
            verification.partiallyPresent.isEmpty, "\(name): partially applied writes", sourceLocation: sourceLocation)
        #expect(verification.unknownRows.isEmpty, "\(name): unknown rows", sourceLocation: sourceLocation)
        #expect(
            verification.oldSourceOnlyRows.isEmpty,
            "\(name): \(verification.oldSourceOnlyRows.count) write(s) only on the other server",
            sourceLocation: sourceLocation)
        #expect(
            verification.fenceViolations.isEmpty,
            "\(name): \(verification.fenceViolations.count) write(s) accepted by a server that was not the writer",
            sourceLocation: sourceLocation
        )
        #expect(
            verification.acknowledgedCount >= 100,
            "\(name): only \(verification.acknowledgedCount) writes acknowledged", sourceLocation: sourceLocation)
    }

    /// Every wait ended by its deadline, and a failed attempt's window is bounded by the configured deadlines.
    static func expectBoundedWaits(
        _ result: FaultCaseResult,
        policy: CutoverPolicy,
        nodeDeadline: Duration,
        extra: Duration,
        sourceLocation: SourceLocation
    ) {
        expectBoundedWaits(
            name: result.name, performed: result.performed, report: result.report, policy: policy,
            nodeDeadline: nodeDeadline, extra: extra, sourceLocation: sourceLocation)
    }

    /// Every wait ended by its deadline, and a failed attempt's window is bounded by the configured deadlines.
    static func expectBoundedWaits(
        name: String,
        performed actions: [PerformedAction],
        report: CutoverReport,
        policy: CutoverPolicy,
        nodeDeadline: Duration,
        extra: Duration,
        sourceLocation: SourceLocation
    ) {
        let slack = Duration.seconds(1)
        for performed in actions {
            let bound: Duration
            switch performed.action {
            // A poll that starts just before the drain's deadline runs to its own node deadline (the whole suite on a
            // loaded 2-core machine overran a 1 s drain by 1.85 s that way).
            case .pollDrain(_, let timeout, _): bound = timeout + nodeDeadline + slack
            case .settleAutoIncrementPins(_, let timeout, _): bound = timeout + nodeDeadline + slack
            case .waitForCatchUp(_, _, let timeout): bound = timeout + slack + .milliseconds(500)
            case .settleReplication(_, _, _, let timeout): bound = timeout + slack + .milliseconds(500)
            case .fence(_, let timeout): bound = timeout + slack
            // The last reading may start just before the bound: a read, a login probe (5 s at most), a re-LOAD and
            // one more read, each node operation bounded by the node deadline.
            case .watchNewWriter(_, _, let recovery, let interval, _):
                bound = recovery + interval + nodeDeadline * 3 + .seconds(5) + slack
            case .startReplication, .stopReplication, .verifyReplication, .persistReadOnly:
                bound = policy.replicationStepTimeout + slack
            case .setStatus, .prepareProxy, .restoreProxySettings, .saveProxyConfiguration, .closeSessions, .runGuards:
                bound = nodeDeadline * 2 + slack
            case .liftFence, .readPosition, .proveFenceHeld: bound = policy.fenceTimeout + slack
            case .wait, .finish: bound = .zero
            }
            #expect(
                performed.duration <= bound,
                "\(name): \(CutoverRunner.describe(performed.action)) took \(performed.duration), bound \(bound)",
                sourceLocation: sourceLocation
            )
        }
        if !report.outcome.isPastPointOfNoReturn, let window = report.timeline.window {
            let bound = policy.drainDeadline + policy.fenceTimeout + policy.catchUpDeadline + .seconds(2) + extra
            #expect(
                window <= bound, "\(name): failed attempt's window \(window) exceeds \(bound)",
                sourceLocation: sourceLocation)
        }
    }

    /// Every failure names the step and the endpoint, and says what to do.
    static func expectMessagesNameEndpointAndStep(_ result: FaultCaseResult, sourceLocation: SourceLocation) {
        expectMessagesNameEndpointAndStep(
            name: result.name, performed: result.performed, outcome: result.report.outcome,
            sourceLocation: sourceLocation)
    }

    /// Every failure names the step and the endpoint, and says what to do.
    static func expectMessagesNameEndpointAndStep(
        name: String, performed: [PerformedAction], outcome: CutoverOutcome, sourceLocation: SourceLocation
    ) {
        var failures: [StepFailure] = performed.compactMap {
            if case .stepFailed(let failure, _) = $0.event { failure } else { nil }
        }
        switch outcome {
        case .completed: break
        case .refused(let reasons):
            for reason in reasons {
                #expect(
                    !reason.message.isEmpty && !reason.remedy.isEmpty, "\(name): \(reason)",
                    sourceLocation: sourceLocation)
            }
        case .rolledBack(let reason, let list):
            #expect(!reason.isEmpty, sourceLocation: sourceLocation)
            failures += list
        case .stoppedAfterPointOfNoReturn(_, let list, _):
            failures += list
        }
        for failure in failures where failure.step != "rollback" {
            #expect(
                !failure.step.isEmpty, "\(name): a failure without its step: \(failure)", sourceLocation: sourceLocation
            )
            #expect(
                failure.endpoint != nil, "\(name): a failure without its endpoint: \(failure)",
                sourceLocation: sourceLocation)
            #expect(
                failure.remedy?.isEmpty == false, "\(name): a failure without a remedy: \(failure)",
                sourceLocation: sourceLocation)
        }
    }
}
