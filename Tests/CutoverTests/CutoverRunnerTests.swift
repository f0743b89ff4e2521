import CutoverTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import Cutover

/// Answers every action with its success event, advancing the manual clock by a fixed cost per action; can fail a
/// chosen step and ask for a shutdown in the middle of another.
final class FakeExecutor: CutoverExecutor, Sendable {
    let clock: ManualClock
    let failing: String?
    let performed = Mutex<[CutoverAction]>([])
    let onPerform: (@Sendable (CutoverAction) async -> Void)?

    init(clock: ManualClock, failing: String? = nil, onPerform: (@Sendable (CutoverAction) async -> Void)? = nil) {
        self.clock = clock
        self.failing = failing
        self.onPerform = onPerform
    }

    var actions: [CutoverAction] { performed.withLock { $0 } }

    func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult {
        performed.withLock { $0.append(action) }
        await onPerform?(action)
        clock.advance(by: .milliseconds(2))
        let at = context.elapsed()
        let name = CutoverRunner.describe(action)
        if let failing, name.contains(failing) {
            return CutoverStepResult(event: .stepFailed(StepFailure(step: failing, message: "injected"), at: at))
        }
        let statements = [ExecutedStatement(endpoint: "fake", statement: name)]
        switch action {
        case .runGuards: return CutoverStepResult(event: .guardsFinished(blockingReasons: []), statements: statements)
        case .prepareProxy: return CutoverStepResult(event: .proxyPrepared(ProxySettingsSnapshot(previousValues: ["p": ["mysql-query_retries_on_failure": "1"]])))
        case .settleAutoIncrementPins(let server, _, _): return CutoverStepResult(event: .autoIncrementPinsSettled(server, stillHeld: 0, at: at))
        case .settleReplication(let role, _, _, _):
            var observation = ReplicationSettleObservation(startedAt: at - .milliseconds(1))
            observation.recordWait(.milliseconds(1), for: ReplicationCoordinate(file: "bin.000001", offset: 42))
            return CutoverStepResult(event: .replicationSettleEnded(role, observation, at: at))
        case .setStatus(let server, let status): return CutoverStepResult(event: .statusSet(server, status, at: at), statements: statements)
        case .watchNewWriter(let role, _, _, _, _):
            return CutoverStepResult(event: .newWriterWatched(role, ShunnedWriterWatch(), at: at), statements: statements)
        case .pollDrain(let server, _, _): return CutoverStepResult(event: .drained(server, at: at))
        case .closeSessions(let role): return CutoverStepResult(event: .sessionsClosed(role, count: 1, at: at))
        case .fence(let role, _): return CutoverStepResult(event: .fenced(role, at: at))
        case .liftFence(let role): return CutoverStepResult(event: .fenceLifted(role))
        case .readPosition(let role):
            return CutoverStepResult(event: .positionRead(role, ReplicationCoordinate(file: "\(role)-bin.000001", offset: 42), at: at))
        case .proveFenceHeld(let role, let atFence): return CutoverStepResult(event: .positionRead(role, atFence, at: at))
        case .waitForCatchUp(let role, _, _): return CutoverStepResult(event: .caughtUp(role, at: at))
        case .stopReplication(let role): return CutoverStepResult(event: .replicationStopped(role))
        case .startReplication(let role, _, _): return CutoverStepResult(event: .replicationStarted(role))
        case .verifyReplication(let role): return CutoverStepResult(event: .replicationVerified(role))
        case .persistReadOnly(let role, let readOnly):
            return CutoverStepResult(
                event: .readOnlyPersisted(
                    role, ReadOnlyDurability(database: "\(role)", readOnly: readOnly, persisted: true, optionFileLines: [])))
        case .restoreProxySettings: return CutoverStepResult(event: .proxySettingsRestored)
        case .saveProxyConfiguration: return CutoverStepResult(event: .proxyConfigurationSaved)
        case .wait, .finish: fatalError("not an executable action")
        }
    }
}

private func temporaryJournalPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString).jsonl").path
}

private let logger = Logger(label: "test")

@Suite("CutoverRunner")
struct CutoverRunnerTests {
    let configuration = CutoverRunner.Configuration(operation: .writerCutover, policy: CutoverPolicy(), topologyFingerprint: "topo-1")

    /// Runs the whole cut-over with a ``FakeExecutor``, journaled at `path`; returns the journal's entries.
    func completeJournaledRun(path: String, clock: ManualClock) async throws -> [CutoverJournalEntry] {
        let journal = try CutoverJournal(path: path)
        _ = try await CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: journal, clock: clock, logger: logger).run()
        await journal.close()
        return try CutoverJournal.read(path: path)
    }

    @Test("a run journals every action and outcome durably and reports the measured window")
    func journalsEveryStep() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let executor = FakeExecutor(clock: clock)
        let journal = try CutoverJournal(path: path)
        let runner = CutoverRunner(configuration: configuration, executor: executor, journal: journal, clock: clock, logger: logger)
        let report = try await runner.run()
        await journal.close()

        #expect(report.outcome == .completed)
        // OFFLINE_SOFT answered at 6 ms (3rd action), ONLINE at 22 ms (11th action): 8 actions of 2 ms later.
        #expect(report.timeline.window == .milliseconds(16))
        let entries = try CutoverJournal.read(path: path)
        #expect(entries.first?.kind == .runStarted)
        #expect(entries.last?.kind == .runFinished)
        #expect(entries.map(\.sequence) == Array(1...entries.count))
        let actions = entries.filter { $0.kind == .action }
        let events = entries.filter { $0.kind == .event }
        #expect(actions.count == executor.actions.count)
        #expect(events.count == actions.count)
        #expect(actions.first { $0.action == .setStatus(.writer(.target), .online) }?.pastPointOfNoReturn == false)
        #expect(actions.first { $0.action == .stopReplication(.target) }?.pastPointOfNoReturn == true)
        #expect(events.first?.statements?.first?.endpoint == "fake")
    }

    @Test("the event stream carries the run from start to finish, including the point of no return")
    func eventStream() async throws {
        let clock = ManualClock()
        let runner = CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: nil, clock: clock, logger: logger)
        let report = try await runner.run()
        var progress: [CutoverProgress] = []
        for await event in runner.events { progress.append(event) }
        #expect(report.outcome == .completed)
        guard case .runStarted = progress.first, case .runFinished(.completed, _) = progress.last else {
            Issue.record("unexpected stream ends: \(progress.first as Any) … \(progress.last as Any)")
            return
        }
        #expect(progress.contains { if case .pointOfNoReturnPassed = $0 { true } else { false } })
    }

    @Test("a failing catch-up rolls back and says so in the stream")
    func failureRollsBack() async throws {
        let clock = ManualClock()
        let executor = FakeExecutor(clock: clock, failing: "wait for target")
        let runner = CutoverRunner(configuration: configuration, executor: executor, journal: nil, clock: clock, logger: logger)
        let report = try await runner.run()
        guard case .rolledBack = report.outcome else {
            Issue.record("expected rollback, got \(report.outcome)")
            return
        }
        #expect(executor.actions.suffix(3) == [.liftFence(.source), .setStatus(.writer(.source), .online), .restoreProxySettings(ProxySettingsSnapshot(previousValues: ["p": ["mysql-query_retries_on_failure": "1"]]))])
        var sawRollback = false
        for await event in runner.events { if case .rollbackStarted = event { sawRollback = true } }
        #expect(sawRollback)
    }

    @Test("a graceful shutdown during drain rolls back")
    func gracefulShutdown() async throws {
        let clock = ManualClock()
        let box = Mutex<CutoverRunner?>(nil)
        let executor = FakeExecutor(clock: clock) { action in
            if case .pollDrain = action { await box.withLock { $0 }?.requestGracefulShutdown() }
        }
        let runner = CutoverRunner(configuration: configuration, executor: executor, journal: nil, clock: clock, logger: logger)
        box.withLock { $0 = runner }
        let report = try await runner.run()
        guard case .rolledBack(let reason, _) = report.outcome else {
            Issue.record("expected rollback, got \(report.outcome)")
            return
        }
        #expect(reason == "shutdown requested")
        #expect(!executor.actions.contains(.setStatus(.writer(.source), .offlineHard)))
    }

    @Test("resume after a crash before the point of no return rolls back; after it, finishes forward")
    func resumeFromJournal() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let full = try await completeJournaledRun(path: path, clock: clock)

        // Crash right after the catch-up wait was journaled as started (before its outcome).
        let catchUpIndex = try #require(full.firstIndex { if case .waitForCatchUp? = $0.action { true } else { false } })
        let crashedEarly = Array(full[...catchUpIndex])
        let earlyExecutor = FakeExecutor(clock: clock)
        let earlyRunner = CutoverRunner(configuration: configuration, executor: earlyExecutor, journal: nil, clock: clock, logger: logger)
        let early = try await earlyRunner.resume(from: crashedEarly)
        guard case .rolledBack = early.outcome else {
            Issue.record("expected rollback on resume, got \(early.outcome)")
            return
        }
        #expect(earlyExecutor.actions.first == .liftFence(.source))
        // The stream names the resumed run (renderers print its operation and id) and the true rollback reason.
        var earlyProgress: [CutoverProgress] = []
        for await event in earlyRunner.events { earlyProgress.append(event) }
        guard case .runStarted(let runID, .writerCutover)? = earlyProgress.first else {
            Issue.record("the resume's stream starts with \(earlyProgress.first as Any)")
            return
        }
        #expect(runID == full[0].runID)
        let reasons = earlyProgress.compactMap { if case .rollbackStarted(let reason, _) = $0 { reason } else { nil } }
        #expect(reasons == ["the run was interrupted before the point of no return"])

        // Crash right after the new writer's ONLINE was journaled as done.
        let onlineIndex = try #require(full.firstIndex { $0.event == .statusSet(.writer(.target), .online, at: $0.event.flatMap(Self.at) ?? .zero) })
        let crashedLate = Array(full[...onlineIndex])
        let lateExecutor = FakeExecutor(clock: clock)
        let late = try await CutoverRunner(configuration: configuration, executor: lateExecutor, journal: nil, clock: clock, logger: logger)
            .resume(from: crashedLate)
        #expect(late.outcome == .completed)
        // The watch after the ONLINE (#14 item 8) runs first, then the rest.
        guard case .watchNewWriter(.target, _, _, _, _)? = lateExecutor.actions.first else {
            Issue.record("the resume after the ONLINE starts with \(lateExecutor.actions.first as Any)")
            return
        }
        #expect(lateExecutor.actions.dropFirst().first == .stopReplication(.target))
        #expect(!lateExecutor.actions.contains(.setStatus(.writer(.source), .online)))
    }

    static func at(_ event: CutoverEvent) -> Duration? {
        if case .statusSet(_, _, let at) = event { return at }
        return nil
    }

    @Test("resume refuses a journal of another topology, and a finished journal")
    func resumeRefusals() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        var entries = try await completeJournaledRun(path: path, clock: clock)
        await #expect(throws: CutoverError(code: .nothingToResume, message: "")) {
            _ = try await CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: nil, clock: clock, logger: logger).resume(from: entries)
        }
        entries.removeLast()
        let other = CutoverRunner.Configuration(operation: .writerCutover, policy: CutoverPolicy(), topologyFingerprint: "topo-2")
        await #expect(throws: CutoverError(code: .journalMismatch, message: "")) {
            _ = try await CutoverRunner(configuration: other, executor: FakeExecutor(clock: clock), journal: nil, clock: clock, logger: logger).resume(from: entries)
        }
    }

    @Test("a run that stopped after the point of no return is resumable: resume runs its remaining steps, then it is done")
    func resumeAfterStoppedRun() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let journal = try CutoverJournal(path: path)
        let stopped = try await CutoverRunner(
            configuration: configuration, executor: FakeExecutor(clock: clock, failing: "start replication"),
            journal: journal, clock: clock, logger: logger
        ).run()
        await journal.close()
        guard case .stoppedAfterPointOfNoReturn(_, _, let remaining) = stopped.outcome else {
            Issue.record("expected stoppedAfterPointOfNoReturn, got \(stopped.outcome)")
            return
        }
        #expect(remaining == ["startReverseReplication", "verifyReverseReplication"])
        #expect(CutoverJournal.unfinishedRun(in: try CutoverJournal.read(path: path)) != nil)

        let executor = FakeExecutor(clock: clock)
        let resumeJournal = try CutoverJournal(path: path)
        let resumed = try await CutoverRunner(configuration: configuration, executor: executor, journal: resumeJournal, clock: clock, logger: logger)
            .resume(from: try CutoverJournal.read(path: path))
        await resumeJournal.close()
        #expect(resumed.outcome == .completed)
        #expect(executor.actions.first == .startReplication(.source, source: .target, coordinate: ReplicationCoordinate(file: "target-bin.000001", offset: 42)))
        #expect(!executor.actions.contains { if case .setStatus = $0 { true } else { false } })
        // Completed now: nothing left to resume.
        #expect(CutoverJournal.unfinishedRun(in: try CutoverJournal.read(path: path)) == nil)
    }

    @Test("a resume that is itself interrupted is replayed with its decision: the second resume finishes the rollback")
    func resumeInterruptedTwice() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let full = try await completeJournaledRun(path: path, clock: clock)
        // First crash: right after the catch-up wait was journaled.
        let catchUpIndex = try #require(full.firstIndex { if case .waitForCatchUp? = $0.action { true } else { false } })
        let secondPath = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: secondPath) }
        let firstResumeJournal = try CutoverJournal(path: secondPath)
        for entry in full[...catchUpIndex] { try await firstResumeJournal.append(entry) }
        _ = try await CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: firstResumeJournal, clock: clock, logger: logger)
            .resume(from: Array(full[...catchUpIndex]))
        await firstResumeJournal.close()
        // Second crash: the first resume's rollback journaled its first action and outcome (lift the fence), then died.
        let resumedEntries = try CutoverJournal.read(path: secondPath)
        let lifted = try #require(resumedEntries.firstIndex { $0.event == .fenceLifted(.source) })
        let executor = FakeExecutor(clock: clock)
        let report = try await CutoverRunner(configuration: configuration, executor: executor, journal: nil, clock: clock, logger: logger)
            .resume(from: Array(resumedEntries[...lifted]))
        guard case .rolledBack(_, let failures) = report.outcome else {
            Issue.record("expected rolledBack, got \(report.outcome)")
            return
        }
        #expect(failures.isEmpty)
        // Only what the first resume had not done.
        #expect(executor.actions == [.setStatus(.writer(.source), .online), .restoreProxySettings(ProxySettingsSnapshot(previousValues: ["p": ["mysql-query_retries_on_failure": "1"]]))])
    }

    @Test("a journal that does not replay (an action the run would not have taken) is refused")
    func resumeRefusesInconsistentJournal() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        var entries = try await completeJournaledRun(path: path, clock: clock)
        entries.removeLast()
        let index = try #require(entries.firstIndex { $0.action == .closeSessions(.source) })
        entries[index].action = .readPosition(.target)
        await #expect(throws: CutoverError(code: .journalMismatch, message: "")) {
            _ = try await CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: nil, clock: clock, logger: logger).resume(from: entries)
        }
    }

    @Test("a second run on the same journal is refused while the first holds it")
    func journalLock() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try CutoverJournal(path: path)
        #expect(throws: CutoverError(code: .journalLocked, message: "")) { _ = try CutoverJournal(path: path) }
        await first.close()
        let second = try CutoverJournal(path: path)
        await second.close()
    }

    @Test("a lock file left by a dead process never blocks, even when its pid now belongs to a live process")
    func staleLockOfReusedPID() async throws {
        let path = temporaryJournalPath()
        let lock = path + ".lock"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: lock)
        }
        // What a SIGKILLed run leaves behind is its lock file with its pid. That pid can be alive again by the time
        // `resume` runs: a container's PID 1 restarted (our own pid, here), or any reused pid (our parent's, here).
        for pid in [getpid(), getppid()] {
            try "\(pid)\n".write(toFile: lock, atomically: true, encoding: .utf8)
            let journal = try CutoverJournal(path: path)
            #expect(try String(contentsOfFile: lock, encoding: .utf8) == "\(getpid())\n")
            // While it is held, a second journal is refused, naming the holder.
            do {
                _ = try CutoverJournal(path: path)
                Issue.record("a second journal took a held lock")
            } catch let error as CutoverError {
                #expect(error.code == .journalLocked)
                #expect(error.message.contains("pid \(getpid())") && error.message.contains(path))
            }
            await journal.close()
            #expect(!FileManager.default.fileExists(atPath: lock))
        }
    }

    @Test("didAppend sees every entry once it is in the file, in order")
    func didAppendObserver() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let seen = Mutex<[(Int, Int)]>([])
        let journal = try CutoverJournal(path: path) { entry in
            // The file holds the entry when the observer runs (flushed to disk when the entry is durable).
            let onDisk = (try? CutoverJournal.read(path: path).count) ?? -1
            seen.withLock { $0.append((entry.sequence, onDisk)) }
        }
        let clock = ManualClock()
        _ = try await CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: journal, clock: clock, logger: logger).run()
        await journal.close()
        let entries = try CutoverJournal.read(path: path)
        let observed = seen.withLock { $0 }
        #expect(observed.map(\.0) == entries.map(\.sequence))
        #expect(observed.map(\.1) == Array(1...entries.count))
    }

    @Test("entries appended without durable are in the file at once (a killed process leaves them), and still there after close")
    func nonDurableEntriesAreWritten() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = try CutoverJournal(path: path)
        var entry = CutoverJournalEntry(sequence: 0, runID: "r", kind: .event, time: "2026-11-21T00:00:00.000Z", elapsedMicroseconds: 1)
        entry.step = "drainOld"
        try await journal.append(entry, durable: false)
        try await journal.append(entry, durable: false)
        #expect(try CutoverJournal.read(path: path).map(\.sequence) == [1, 2])
        try await journal.append(entry)
        await journal.close()
        #expect(try CutoverJournal.read(path: path).map(\.sequence) == [1, 2, 3])
    }

    @Test("the intent of every action that changes a server is flushed before it runs; reads are not")
    func durableIntents() {
        let position = ReplicationCoordinate(file: "mysql-bin.000001", offset: 4)
        let changing: [CutoverAction] = [
            .prepareProxy(disableQueryRetries: true, relaxAutoIncrementPin: false),
            .setStatus(.writer(.source), .offlineSoft),
            .closeSessions(.source),
            .fence(.source, timeout: .seconds(1)),
            .liftFence(.source),
            .stopReplication(.target),
            .startReplication(.source, source: .target, coordinate: position),
            .persistReadOnly(.source, readOnly: true),
            .restoreProxySettings(ProxySettingsSnapshot()),
            .saveProxyConfiguration,
        ]
        let reading: [CutoverAction] = [
            .runGuards(.writerCutover),
            .settleAutoIncrementPins(.writer(.source), timeout: .milliseconds(200), interval: .milliseconds(2)),
            .settleReplication(.target, source: .source, threshold: .milliseconds(10), timeout: .seconds(10)),
            .pollDrain(.writer(.source), timeout: .seconds(1), interval: .milliseconds(2)),
            .readPosition(.source),
            .waitForCatchUp(.target, coordinate: position, timeout: .seconds(2)),
            .verifyReplication(.source),
        ]
        for action in changing { #expect(CutoverRunner.changesServers(action), "\(action)") }
        for action in reading { #expect(!CutoverRunner.changesServers(action), "\(action)") }
    }

    @Test("a torn last line is ignored, a corrupt middle line is reported with its number")
    func tornJournal() throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let good = #"{"elapsedMicroseconds":0,"kind":"run-started","runID":"r","sequence":1,"time":"2026-11-21T00:00:00.000Z"}"#
        try (good + "\n" + #"{"elapsedMicro"#).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try CutoverJournal.read(path: path).count == 1)
        try (good + "\nnot json\n" + good + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try CutoverJournal.read(path: path)
            Issue.record("expected an error")
        } catch let error as CutoverError {
            #expect(error.message.contains("line 2"))
        }
    }

    @Test("a journal written before the auto-increment pin settle existed decodes and resumes as that run ran")
    func journalWithoutSettleField() async throws {
        var policy = CutoverPolicy()
        policy.autoIncrementPin = .relax
        policy.autoIncrementPinSettle = .zero
        let relaxed = CutoverRunner.Configuration(operation: .writerCutover, policy: policy, topologyFingerprint: "topo-1")
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let journal = try CutoverJournal(path: path)
        _ = try await CutoverRunner(configuration: relaxed, executor: FakeExecutor(clock: clock), journal: journal, clock: clock, logger: logger).run()
        await journal.close()
        // The run-started line as an older build wrote it: no `autoIncrementPinSettle` in the policy.
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines[0].contains(#""autoIncrementPinSettle":"#))
        lines[0] = lines[0].replacingOccurrences(
            of: #""autoIncrementPinSettle":\[[^\]]*\],"#, with: "", options: .regularExpression)
        #expect(!lines[0].contains("autoIncrementPinSettle"))
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)

        let entries = try CutoverJournal.read(path: path)
        let header = try #require(entries.first?.policy)
        #expect(header.autoIncrementPin == .relax)
        #expect(header.autoIncrementPinSettle == .zero)
        // Interrupted after the drain (before the point of no return): the replay must fit, then roll back.
        let drained = try #require(entries.firstIndex { if case .drained? = $0.event { true } else { false } })
        let executor = FakeExecutor(clock: clock)
        let report = try await CutoverRunner(configuration: relaxed, executor: executor, journal: nil, clock: clock, logger: logger)
            .resume(from: Array(entries[...drained]))
        guard case .rolledBack = report.outcome else {
            Issue.record("expected rolledBack, got \(report.outcome)")
            return
        }
        #expect(!executor.actions.contains { if case .settleAutoIncrementPins = $0 { true } else { false } })
        #expect(executor.actions.contains(.setStatus(.writer(.source), .online)))
    }

    @Test("a policy round-trips through JSON with its settle; the default settle is 200 ms")
    func policyRoundTrip() throws {
        var policy = CutoverPolicy()
        #expect(policy.autoIncrementPinSettle == .milliseconds(200))
        policy.autoIncrementPin = .relax
        policy.autoIncrementPinSettle = .milliseconds(350)
        let decoded = try JSONDecoder().decode(CutoverPolicy.self, from: JSONEncoder().encode(policy))
        #expect(decoded == policy)
    }
}

@Suite("Journal timestamps")
struct JournalTimestampTests {
    @Test("a timestamp is ISO 8601 in UTC with milliseconds and parses back to the same millisecond")
    func roundTrip() throws {
        for seconds in [0.0, 1_795_252_405.399, 1_795_252_405.9996, 4_102_444_799.001] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = CutoverJournalEntry.timestamp(date)
            #expect(text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(text)")
            let parsed = try #require(CutoverJournalEntry.date(fromTimestamp: text))
            #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.001, "\(text)")
            #expect(CutoverJournalEntry.timestamp(parsed) == text)
        }
        #expect(CutoverJournalEntry.timestamp(Date(timeIntervalSince1970: 1_795_252_405.399)) == "2026-11-21T09:13:25.399Z")
    }

    @Test("timestamps written by the former ISO8601DateFormatter still parse, with or without fractions")
    func formerFormat() throws {
        let former = ISO8601DateFormatter()
        former.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = Date(timeIntervalSince1970: 1_795_252_405.125)
        let text = former.string(from: date)
        #expect(text == CutoverJournalEntry.timestamp(date))
        let parsed = try #require(CutoverJournalEntry.date(fromTimestamp: text))
        #expect(abs(parsed.timeIntervalSince(date)) < 0.001)
        let whole = try #require(CutoverJournalEntry.date(fromTimestamp: "2026-11-21T09:13:25Z"))
        #expect(whole.timeIntervalSince1970 == 1_795_252_405)
        #expect(CutoverJournalEntry.date(fromTimestamp: "yesterday") == nil)
        #expect(CutoverJournalEntry.date(fromTimestamp: "") == nil)
    }

    @Test("the shared format gives the same text from many tasks at once")
    func concurrentUse() async {
        let dates = (0..<64).map { Date(timeIntervalSince1970: 1_795_252_405 + Double($0) * 0.037) }
        let expected = dates.map(CutoverJournalEntry.timestamp)
        let results = await withTaskGroup(of: (Int, String).self) { group in
            for (index, date) in dates.enumerated() {
                group.addTask {
                    var last = ""
                    for _ in 0..<50 { last = CutoverJournalEntry.timestamp(date) }
                    return (index, last)
                }
            }
            var collected = Array(repeating: "", count: dates.count)
            for await (index, text) in group { collected[index] = text }
            return collected
        }
        #expect(results == expected)
    }
}

@Suite("CutoverTimeline coding")
struct CutoverTimelineCodingTests {
    @Test("a timeline journaled before follow-ups existed still decodes; a new one keeps them")
    func decodesWithoutFollowUps() throws {
        var timeline = CutoverTimeline()
        timeline.marks[.windowOpened] = .milliseconds(3)
        timeline.followUps = ["add `read_only = ON`"]
        let data = try JSONEncoder().encode(timeline)
        #expect(try JSONDecoder().decode(CutoverTimeline.self, from: data) == timeline)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object.removeValue(forKey: "followUps")
        let old = try JSONDecoder().decode(CutoverTimeline.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(old.followUps.isEmpty)
        #expect(old.marks == timeline.marks)
    }
}
