import Cutover
import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Logging
import MariaDB
import ReplicationControl
import Synchronization
import Testing

/// Set-up the fault suites share: the start of a test, one run or resume of an operation with fresh connections,
/// preflight, and the checks of the state an operation leaves.
extension FaultBed {
    /// The suite's bed, checked to be in the starting state; nil where integration tests are skipped.
    static func inStartingState(sourceLocation: SourceLocation = #_sourceLocation) async throws -> FaultBed? {
        guard let bed = try available(sourceLocation: sourceLocation) else { return nil }
        try await bed.expectStartingState("before", sourceLocation: sourceLocation)
        return bed
    }

    /// The suite's bed; nil where integration tests are skipped.
    static func available(sourceLocation: SourceLocation = #_sourceLocation) throws -> FaultBed? {
        guard try IntegrationGate.skipIfUnavailable(), !skipped else { return nil }
        return try require(sourceLocation: sourceLocation)
    }

    /// Runs `operation` (with `resume`, resumes the run journaled at `journalPath`) with fresh connections and a
    /// fresh runner, journaled at `journalPath` when given; closes the journal and the connections, also when it
    /// throws. The executor is what `makeExecutor` makes of the live one; it is returned with the report.
    func runOperation<Executor: CutoverExecutor>(
        _ operation: CutoverOperation, policy: CutoverPolicy = FaultPolicies.standard, journalPath: String? = nil,
        resume: Bool = false, logger: Logger, executor makeExecutor: (LiveCutoverExecutor) -> Executor
    ) async throws -> (report: CutoverReport, executor: Executor) {
        let (environment, close) = try await makeEnvironment(logger: logger)
        let journal: CutoverJournal?
        do {
            journal = try journalPath.map { try CutoverJournal(path: $0) }
        } catch {
            await close()
            throw error
        }
        let executor = makeExecutor(LiveCutoverExecutor(environment: environment))
        let runner = CutoverRunner(
            configuration: .init(
                operation: operation, policy: policy, topologyFingerprint: environment.topology.fingerprint),
            executor: executor,
            journal: journal,
            logger: logger
        )
        let report: CutoverReport
        do {
            if resume, let journalPath {
                report = try await runner.resume(from: try CutoverJournal.read(path: journalPath))
            } else {
                report = try await runner.run()
            }
        } catch {
            await journal?.close()
            await close()
            throw error
        }
        await journal?.close()
        await close()
        return (report, executor)
    }

    /// Runs `operation` (with `resume`, resumes the run journaled at `journalPath`) with the live executor, fresh
    /// connections and a fresh runner; see ``runOperation(_:policy:journalPath:resume:logger:executor:)``.
    @discardableResult
    func runOperation(
        _ operation: CutoverOperation, policy: CutoverPolicy = FaultPolicies.standard, journalPath: String? = nil,
        resume: Bool = false, logger: Logger
    ) async throws -> CutoverReport {
        try await runOperation(
            operation, policy: policy, journalPath: journalPath, resume: resume, logger: logger, executor: { $0 }
        ).report
    }

    /// Runs the preflight checks against the bed with the standard policy: with the connections of `environment`
    /// when given (the caller closes them), else with fresh ones it closes.
    func preflight(
        environment given: CutoverEnvironment? = nil, checkTimeout: Duration = .seconds(5), logger: Logger
    ) async throws -> PreflightReport {
        let environment: CutoverEnvironment
        var close: (@Sendable () async -> Void)?
        if let given {
            environment = given
        } else {
            (environment, close) = try await makeEnvironment(logger: logger)
        }
        let sourceConnection = try await source.connectAsRoot()
        let targetConnection = try await MariaDBConnection.connect(
            configuration: rehearsal.auroraShim.adminConfiguration)
        let report = await Preflight(
            topology: environment.topology,
            policy: FaultPolicies.standard,
            source: ServerInspector(session: sourceConnection, name: "source"),
            target: ServerInspector(session: targetConnection, name: "aurora"),
            targetDatabase: environment.target,
            proxies: environment.proxies,
            options: Preflight.Options(checkTimeout: checkTimeout)
        ).run(logger: logger)
        await sourceConnection.close()
        await targetConnection.close()
        await close?()
        return report
    }

    /// Resumes the run journaled at `journalPath`, which must complete; records the row `name` with the outcome in
    /// the fault matrix; checks the cut-over state, then fails back.
    func resumeAndFailBack(
        journalPath: String, matrixRow name: String, logger: Logger, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let resumed = try await resume(journalPath: journalPath, logger: logger)
        #expect(resumed.outcome == .completed, "resume: \(resumed.outcome)", sourceLocation: sourceLocation)
        FaultMatrix.record("| \(name) | \(FaultMatrix.outcome(resumed.outcome)) | - | - | - | - | - | - |")
        try await expectCutOverState("after resume", sourceLocation: sourceLocation)
        // A restarted MySQL source (5-7 s here) starts its reverse replication that far behind: the failback's lag
        // guard (budget 5 s) would rightly refuse until it has applied the new writer's writes.
        try await waitForReplica(source, of: target)
        try await failBack(logger: logger, sourceLocation: sourceLocation)
    }

    /// Checks the data a write load left on `finalWriter`: every acknowledged write there exactly once.
    func expectNoWriteLostOrDoubled(
        _ report: WriteLoadReport, finalWriter: SandboxServer, _ name: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> WriteLoadVerification {
        let writer = try await finalWriter.connectAsRoot()
        let verification = try await WriteLoadChecker.verify(report, finalWriter: writer)
        await writer.close()
        FaultScenario.expectNoWriteLostOrDoubled(verification, name, sourceLocation: sourceLocation)
        return verification
    }

    /// Checks the data a write load left through writer operations that ended with `finalOperation`: every
    /// acknowledged write on the final writer exactly once, and the same rows on the other server once it caught up.
    func expectNoWriteLostOrDoubled(
        _ report: WriteLoadReport, after finalOperation: CutoverOperation, _ name: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> WriteLoadVerification {
        let finalWriter = finalOperation == .writerCutover ? target : source
        let other = finalOperation == .writerCutover ? source : target
        try await waitForReplica(other, of: finalWriter)
        let verification = try await expectNoWriteLostOrDoubled(
            report, finalWriter: finalWriter, name, sourceLocation: sourceLocation)
        let otherConnection = try await other.connectAsRoot()
        let otherRows = try await WriteLoadChecker.readRows(of: report, from: otherConnection)
        await otherConnection.close()
        #expect(otherRows.count == verification.rowsOnFinalWriter, sourceLocation: sourceLocation)
        return verification
    }

    /// Checks the state a completed `operation` leaves: cut over after a writer cut-over, the starting state after
    /// a failback.
    func expectCompletedState(
        of operation: CutoverOperation, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        if operation == .writerCutover {
            try await expectCutOverState(label, sourceLocation: sourceLocation)
        } else {
            try await expectStartingState(label, sourceLocation: sourceLocation)
        }
    }

    /// Checks the state a rolled-back `operation` leaves: the starting state after a writer cut-over, cut over
    /// after a failback.
    func expectRolledBackState(
        of operation: CutoverOperation, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let reverse: CutoverOperation = operation == .writerCutover ? .writerFailback : .writerCutover
        try await expectCompletedState(of: reverse, label, sourceLocation: sourceLocation)
    }
}

extension Injection {
    /// Drops every admin connection of both ProxySQL nodes right before `point`; fails where a node had none.
    static func dropEveryAdminConnection(before point: FaultPoint, on bed: FaultBed) -> Injection {
        .before(point, "drop every admin connection") {
            let first = bed.rehearsal.emulator.dropAdminConnections()
            let second = bed.secondNode!.dropAdminConnections()
            if first == 0 || second == 0 {
                throw FaultBedError("no admin connection to drop (\(first), \(second))")
            }
        }
    }

    /// Cuts the tool off the second ProxySQL node right before `point` (its data plane keeps serving).
    static func cutOffSecondNode(before point: FaultPoint, on bed: FaultBed) -> Injection {
        .before(point, "cut the tool off the second node") { bed.secondNodeReachable.withLock { $0 = false } }
    }
}
