import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import InMemoryLogging
import Logging
import MariaDB
import ProxySQLAdmin
import Testing

/// One fault case of a reader switch: the operation under a read load through every ProxySQL node, faults
/// injected at given steps, and what must hold afterwards.
struct ReaderFaultCase: Sendable {
    var name: String
    var operation: CutoverOperation = .readerCutover
    var policy: CutoverPolicy = FaultPolicies.standard
    var injections: [Injection] = []
    /// Request a graceful shutdown right before or after a step.
    var shutdown: (point: FaultPoint, moment: Injection.Moment)?
    var expected: ExpectedOutcome
    /// Whether reads may fail (a case that kills a server under them): then only between the first injection and
    /// the end of the run (plus a second).
    var readFailuresAllowed = false
    /// Nodes the tool cannot reach at the end: their routing is not checked (the outcome must name them).
    var unreachableNodes: Set<String> = []
    /// Added to the bound on a failed attempt's window.
    var extraWindowAllowance: Duration = .zero
    /// Changes the environment the run gets (bad input: a topology without reader rows).
    var adjustEnvironment: @Sendable (inout CutoverEnvironment) -> Void = { _ in }
    var journalPath: String?
    /// Runs after the run (restart a killed server, make a node reachable again...), before the final checks.
    var repair: @Sendable (FaultBed) async throws -> Void = { _ in }
}

/// What one reader fault case did.
struct ReaderFaultResult: Sendable {
    var name: String
    var report: CutoverReport
    var reads: ReadLoad.Report
    var sampler: RoutingSampler.Summary
    var performed: [PerformedAction]
    var runDuration: Duration

    /// One row of the reader matrix.
    var matrixRow: String {
        "| \(name) | \(FaultMatrix.outcome(report.outcome)) | \(FaultMatrix.milliseconds(runDuration)) | "
            + "\(reads.succeeded) | \(reads.failures.count) | \(FaultMatrix.milliseconds(reads.maximumLatency)) | "
            + "\(sampler.totalSamples) / \(sampler.readerGaps.count) / \(sampler.violations.count) |"
    }
}

extension FaultBed {
    /// The ONLINE readers (hostgroup 11) in the runtime of one node (`host:port`).
    func runtimeReaders(node configuration: MariaDBConnection.Configuration) async throws -> [String] {
        let admin = try await MariaDBConnection.connect(configuration: configuration)
        let rows: [Row]
        do {
            rows = try await admin.query(
                "SELECT hostname, port FROM runtime_mysql_servers WHERE hostgroup_id = 11 AND status = 'ONLINE'",
                timeout: .seconds(5))
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        return rows.map { "\($0[0].string ?? "?"):\($0[1].string ?? "?")" }.sorted()
    }

    /// Checks that every node (but `skipping`) routes reads to `role`'s reader only, and writes to the source.
    func expectReaderRouting(
        _ role: DatabaseRole, _ label: String, skipping: Set<String> = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let expected = role == .source ? sourceEndpoint : targetEndpoint
        for node in proxyNodes where !skipping.contains(node.name) {
            let readers = try await runtimeReaders(node: node.configuration)
            #expect(
                readers == [expected], "\(label): \(node.name) routes reads to \(readers), not \(role)",
                sourceLocation: sourceLocation)
            let writers = try await runtimeWriters(node: node.configuration)
            #expect(
                writers == [sourceEndpoint], "\(label): \(node.name) routes writes to \(writers)",
                sourceLocation: sourceLocation)
        }
    }

    /// Sets the reader rows of one node directly (what an operator does by hand).
    func setReaders(source: BackendStatus, target: BackendStatus, on configuration: MariaDBConnection.Configuration)
        async throws
    {
        let admin = try await ProxySQLAdminClient.connect(configuration: configuration, logger: logger)
        try await admin.setStatus(source, of: rehearsal.topology.source.reader!, logger: logger)
        try await admin.setStatus(target, of: rehearsal.topology.target.reader!, logger: logger)
        try await admin.loadServersToRuntime(logger: logger)
        await admin.close()
    }

    /// Runs a reader operation with the standard policy (to reset the bed) and requires it to complete.
    func runReaderOperation(
        _ operation: CutoverOperation, logger: Logger, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let report = try await runOperation(operation, logger: logger)
        try #require(report.outcome == .completed, "\(operation): \(report.outcome)", sourceLocation: sourceLocation)
    }

    /// The reader endpoints of every node's data plane.
    var readerEndpoints: [MariaDBConnection.Configuration] {
        var endpoints = [rehearsal.readerEndpoint]
        if let secondNode,
            let second = secondNode.dataConfiguration(hostgroup: 11, user: rehearsal.applicationAccount)
        {
            endpoints.append(second)
        }
        return endpoints
    }
}

enum ReaderFaultScenario {
    /// Runs `faultCase` on `bed` under a read load and checks every invariant; returns what happened.
    @discardableResult
    static func run(
        _ faultCase: ReaderFaultCase, on bed: FaultBed, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ReaderFaultResult {
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "fault.reader", factory: { _ in logs })
        logger.logLevel = .trace
        let (made, close) = try await bed.makeEnvironment(logger: logger)
        var environment = made
        faultCase.adjustEnvironment(&environment)
        let secrets = bed.secrets(of: environment)
        let journal = try faultCase.journalPath.map { try CutoverJournal(path: $0) }
        let box = RunnerBox()
        let firstInjection = Slot<ContinuousClock.Instant>()
        var injections = faultCase.injections.map { injection in
            var marked = injection
            marked.fault = {
                if firstInjection.current == nil { firstInjection.set(.now) }
                try await injection.fault()
            }
            return marked
        }
        if let shutdown = faultCase.shutdown { injections.append(box.shutdownInjection(shutdown)) }
        let executor = FaultInjectingExecutor(
            base: LiveCutoverExecutor(environment: environment),
            operation: faultCase.operation,
            injections: injections
        )
        let load = ReadLoad(endpoints: bed.readerEndpoints)
        let sampler = RoutingSampler(nodes: bed.proxyNodes)
        let name = faultCase.name
        let (report, started, ended) = try await load.run {
            load -> (CutoverReport, ContinuousClock.Instant, ContinuousClock.Instant) in
            guard try await load.waitForMoreReads(50, timeout: .seconds(20)) else {
                throw FaultBedError("\(name): the read load did not start")
            }
            let started = ContinuousClock.now
            let runner = CutoverRunner(
                configuration: .init(
                    operation: faultCase.operation, policy: faultCase.policy,
                    topologyFingerprint: environment.topology.fingerprint),
                executor: executor,
                journal: journal,
                logger: logger
            )
            box.set(runner)
            let report = try await sampler.sampling { try await runner.run() }
            let ended = ContinuousClock.now
            // Reads keep working after the run, on every node's data plane.
            let more = try await load.waitForMoreReads(30, timeout: .seconds(20))
            #expect(more, "\(name): no reads answered after the run", sourceLocation: sourceLocation)
            return (report, started, ended)
        }
        await journal?.close()
        await close()
        try await faultCase.repair(bed)

        let result = ReaderFaultResult(
            name: name, report: report, reads: load.report, sampler: sampler.summary, performed: executor.performed,
            runDuration: started.duration(to: ended))
        FaultMatrix.record("READER " + result.matrixRow)
        print("FAULT-OUTCOME \(name): \(report.outcome)")

        #expect(executor.faultErrors.isEmpty, "\(name): injections failed: \(executor.faultErrors)")
        #expect(
            executor.firedInjections.count == injections.count,
            "\(name): only \(executor.firedInjections) of \(injections.map(\.name)) fired", sourceLocation: sourceLocation)
        #expect(
            faultCase.expected.matches(report.outcome), "\(name): expected \(faultCase.expected), got \(report.outcome)",
            sourceLocation: sourceLocation)

        // Writes: never two writers, and a reader switch never touches the writer rows.
        let summary = result.sampler
        #expect(summary.violations.isEmpty, "\(name): two writers ONLINE: \(summary.violations)")
        for (node, sets) in summary.writerSets {
            #expect(sets == [bed.sourceEndpoint], "\(name): \(node) routed writes to \(sets)", sourceLocation: sourceLocation)
        }
        #expect(summary.totalSamples >= 2, "\(name): sampled only \(summary.totalSamples) times")
        // Reads: never a node without an ONLINE reader, unless the outcome names that node.
        let named = Set(failures(of: report.outcome).compactMap(\.endpoint))
        let gaps = summary.readerGaps.filter { !named.contains($0.node) }
        #expect(gaps.isEmpty, "\(name): nodes without an ONLINE reader: \(gaps.prefix(3))", sourceLocation: sourceLocation)
        // Reads kept working: no failure, or (a server killed under them) only from the fault to the end of the run.
        let reads = result.reads
        if faultCase.readFailuresAllowed, let fault = firstInjection.current {
            let outside = reads.failures.filter { $0.at < fault || $0.at > ended + .seconds(1) }
            #expect(outside.isEmpty, "\(name): reads failed outside the fault: \(outside.prefix(3))", sourceLocation: sourceLocation)
        } else {
            #expect(reads.failures.isEmpty, "\(name): reads failed: \(reads.failures.prefix(3))", sourceLocation: sourceLocation)
        }
        // A read waits at most through the drain deadline and a few admin steps (never for ProxySQL's 10 s).
        let latencyBound = faultCase.policy.drainDeadline + environment.proxies.nodeDeadline * 2 + .seconds(3)
        #expect(
            reads.maximumLatency <= latencyBound, "\(name): a read waited \(reads.maximumLatency)",
            sourceLocation: sourceLocation)

        FaultScenario.expectBoundedWaits(
            name: name, performed: result.performed, report: report, policy: faultCase.policy,
            nodeDeadline: environment.proxies.nodeDeadline, extra: faultCase.extraWindowAllowance,
            sourceLocation: sourceLocation)
        FaultScenario.expectMessagesNameEndpointAndStep(
            name: name, performed: result.performed, outcome: report.outcome, sourceLocation: sourceLocation)

        // The routing at the end: the new reader after a completed switch (or one stopped past its point of no
        // return), the starting routing otherwise, on every node the tool can reach.
        let servingRole = report.outcome.isPastPointOfNoReturn ? faultCase.operation.to : faultCase.operation.from
        try await bed.expectReaderRouting(
            servingRole, name, skipping: faultCase.unreachableNodes, sourceLocation: sourceLocation)

        var texts = [String(describing: report.outcome), String(reflecting: report.outcome)]
        texts += logs.entries.map { "\($0.message) \($0.metadata) \(String(describing: $0.error))" }
        if let path = faultCase.journalPath, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            texts.append(text)
        }
        let everything = texts.joined(separator: "\n")
        for secret in secrets {
            #expect(!everything.contains(secret), "\(name): a password in the output, journal or logs")
        }
        return result
    }

    static func failures(of outcome: CutoverOutcome) -> [StepFailure] {
        switch outcome {
        case .completed, .refused: []
        case .rolledBack(_, let failures): failures
        case .stoppedAfterPointOfNoReturn(_, let failures, _): failures
        }
    }
}
