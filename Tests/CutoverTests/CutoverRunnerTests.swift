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
    let performed = Mutex<[CutoverStateMachine.Action]>([])
    let onPerform: (@Sendable (CutoverStateMachine.Action) async -> Void)?

    init(clock: ManualClock, failing: String? = nil, onPerform: (@Sendable (CutoverStateMachine.Action) async -> Void)? = nil) {
        self.clock = clock
        self.failing = failing
        self.onPerform = onPerform
    }

    var actions: [CutoverStateMachine.Action] { performed.withLock { $0 } }

    func perform(_ action: CutoverStateMachine.Action, context: CutoverExecutionContext) async -> CutoverStepResult {
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
        case .setStatus(let server, let status): return CutoverStepResult(event: .statusSet(server, status, at: at), statements: statements)
        case .pollDrain(let server, _, _): return CutoverStepResult(event: .drained(server, at: at))
        case .closeSessions(let role): return CutoverStepResult(event: .sessionsClosed(role, count: 1, at: at))
        case .fence(let role, _): return CutoverStepResult(event: .fenced(role, at: at))
        case .liftFence(let role): return CutoverStepResult(event: .fenceLifted(role))
        case .readPosition(let role):
            return CutoverStepResult(event: .positionRead(role, ReplicationCoordinate(file: "\(role)-bin.000001", offset: 42), at: at))
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
        let journal = try CutoverJournal(path: path)
        _ = try await CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: journal, clock: clock, logger: logger).run()
        await journal.close()
        let full = try CutoverJournal.read(path: path)

        // Crash right after the catch-up wait was journaled as started (before its outcome).
        let catchUpIndex = try #require(full.firstIndex { if case .waitForCatchUp? = $0.action { true } else { false } })
        let crashedEarly = Array(full[...catchUpIndex])
        let earlyExecutor = FakeExecutor(clock: clock)
        let early = try await CutoverRunner(configuration: configuration, executor: earlyExecutor, journal: nil, clock: clock, logger: logger)
            .resume(from: crashedEarly)
        guard case .rolledBack = early.outcome else {
            Issue.record("expected rollback on resume, got \(early.outcome)")
            return
        }
        #expect(earlyExecutor.actions.first == .liftFence(.source))

        // Crash right after the new writer's ONLINE was journaled as done.
        let onlineIndex = try #require(full.firstIndex { $0.event == .statusSet(.writer(.target), .online, at: $0.event.flatMap(Self.at) ?? .zero) })
        let crashedLate = Array(full[...onlineIndex])
        let lateExecutor = FakeExecutor(clock: clock)
        let late = try await CutoverRunner(configuration: configuration, executor: lateExecutor, journal: nil, clock: clock, logger: logger)
            .resume(from: crashedLate)
        #expect(late.outcome == .completed)
        #expect(lateExecutor.actions.first == .stopReplication(.target))
        #expect(!lateExecutor.actions.contains(.setStatus(.writer(.source), .online)))
    }

    static func at(_ event: CutoverStateMachine.Event) -> Duration? {
        if case .statusSet(_, _, let at) = event { return at }
        return nil
    }

    @Test("resume refuses a journal of another topology, and a finished journal")
    func resumeRefusals() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let journal = try CutoverJournal(path: path)
        _ = try await CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: journal, clock: clock, logger: logger).run()
        await journal.close()
        var entries = try CutoverJournal.read(path: path)
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
        let journal = try CutoverJournal(path: path)
        _ = try await CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: journal, clock: clock, logger: logger).run()
        await journal.close()
        let full = try CutoverJournal.read(path: path)
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
        let journal = try CutoverJournal(path: path)
        _ = try await CutoverRunner(configuration: configuration, executor: FakeExecutor(clock: clock), journal: journal, clock: clock, logger: logger).run()
        await journal.close()
        var entries = try CutoverJournal.read(path: path)
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
