import Cutover
import Foundation
import Testing

/// `migrate-cli resume` of a switch without ProxySQL (#15): the journal written as ``HookSwitchRun`` writes it, cut
/// where the process died, replayed through ``HookSwitchReplay``; the decision for each interruption point, and a
/// bad journal refused with a typed error.
@Suite("Hook switch: resume")
struct HookSwitchResumeTests {
    typealias Event = HookSwitchMachine.Event
    typealias Action = HookSwitchMachine.Action

    static let final = HookSwitchMachineTests.final
    static let newStart = HookSwitchMachineTests.newStart
    static let moved = HookSwitchMachineTests.moved
    static let policy = HookSwitchMachineTests.policy

    /// The events of a cut-over that goes through (fence by the tool, new writer writable), in order.
    static let cutoverEvents: [Event] = [
        .guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: false, at: .milliseconds(100)),
        .fenced(at: .milliseconds(120)),
        .sessionsClosed(count: 3),
        .positionRead(.source, final),
        .caughtUp(at: .milliseconds(150)),
        .replicationStopped,
        .positionRead(.target, newStart),
        .replicationStarted,
        .replicationVerified,
        .switchCommandSucceeded(started: .milliseconds(200), at: .milliseconds(260)),
        .sessionsClosed(count: 2),
        .writeObserved(moved, at: .milliseconds(300)),
        .readOnlySet,
    ]

    /// The journal a run writes when its events are `events`: `run-started`, then each action and its event; when
    /// `thenAction`, the next action's entry too (the process died while performing it). A `finish` writes
    /// `run-finished`.
    static func journal(
        _ events: [Event], thenAction: Bool, direction: HookSwitch.Direction = .cutover, runID: String = "switch-test"
    ) -> [JournalRecord] {
        var machine = HookSwitchMachine(direction: direction, policy: policy, observeTimeout: .seconds(30))
        var entries: [JournalRecord] = []
        func append(_ kind: JournalRecord.Kind, action: Action? = nil, event: Event? = nil, step: StepID? = nil) {
            var entry = JournalRecord(sequence: entries.count + 1, runID: runID, kind: kind, time: "2026-12-06T19:00:00.000Z", elapsedMicroseconds: 0)
            entry.hookSwitch = HookSwitchJournalPayload(direction: direction, action: action, event: event)
            entry.step = step
            if kind == .runStarted {
                entry.policy = policy
                entry.hookSwitch?.observeTimeout = .seconds(30)
            }
            entries.append(entry)
        }
        append(.runStarted)
        var action = machine.started()
        for event in events {
            if case .finish = action { break }
            if case .stopRequested = event {
                append(.event, event: event, step: machine.currentStep)
                action = machine.receive(event)
                continue
            }
            append(.action, action: action, step: machine.currentStep)
            append(.event, event: event, step: machine.currentStep)
            action = machine.receive(event)
        }
        if case .finish(let outcome) = action {
            var last = JournalRecord(sequence: entries.count + 1, runID: runID, kind: .runFinished, time: "2026-12-06T19:00:01.000Z", elapsedMicroseconds: 0)
            last.outcome = outcome
            last.hookSwitch = HookSwitchJournalPayload(direction: direction)
            entries.append(last)
        } else if thenAction {
            append(.action, action: action, step: machine.currentStep)
        }
        return entries
    }

    static func replay(_ entries: [JournalRecord]) throws -> HookSwitchReplay {
        let run = try #require(HookSwitchReplay.unfinishedRun(in: entries), "the run must be unfinished")
        return try HookSwitchReplay(run: run)
    }

    /// Feeds `events` to the replayed machine from its decided action; returns the actions in order.
    static func drive(_ replay: HookSwitchReplay, _ events: [Event]) -> [Action] {
        var machine = replay.machine
        var actions = [replay.next]
        for event in events {
            actions.append(machine.receive(event))
        }
        return actions
    }

    // MARK: Before the switch command: roll back

    @Test("killed during the guards: nothing had changed, the resumed run ends rolled back with nothing to undo")
    func killedDuringGuards() throws {
        let replay = try Self.replay(Self.journal([], thenAction: true))
        guard case .finish(.rolledBack(let reason, let failures)) = replay.next else {
            Issue.record("expected a rollback, got \(replay.next)")
            return
        }
        #expect(reason.contains("switch.guards") && reason.contains("before the switch command"))
        #expect(failures.isEmpty)
        #expect(replay.machine.report.undone.isEmpty)
        #expect(!replay.wasPastPointOfNoReturn)
    }

    @Test("killed while fencing: the fence is lifted (it may have taken effect)")
    func killedWhileFencing() throws {
        let replay = try Self.replay(Self.journal(Array(Self.cutoverEvents.prefix(1)), thenAction: true))
        #expect(replay.stoppedAt == "switch.fence")
        let actions = Self.drive(replay, [.fenceLifted])
        #expect(actions.first == .liftFence(.source))
        guard case .finish(.rolledBack) = actions.last else {
            Issue.record("expected a rollback, got \(actions)")
            return
        }
    }

    @Test("killed after the catch-up, before forward replication was stopped: forward replication restarted and verified, the fence lifted")
    func killedAfterCatchUp() throws {
        // The catch-up's event is journaled; the stop's action is not (the process died in between).
        let replay = try Self.replay(Self.journal(Array(Self.cutoverEvents.prefix(5)), thenAction: false))
        let actions = Self.drive(replay, [.replicationStarted, .replicationVerified, .fenceLifted])
        #expect(actions == [
            .startReplication(.target, from: .source, at: Self.final),
            .verifyReplication(.target),
            .liftFence(.source),
            actions.last!,
        ])
        guard case .finish(.rolledBack(_, let failures)) = actions.last else {
            Issue.record("expected a rollback, got \(actions)")
            return
        }
        #expect(failures.isEmpty)
    }

    @Test("killed while verifying reverse replication: reverse stopped, read_only back on the new writer, forward restarted, fence lifted, in that order")
    func killedWhileVerifyingReverse() throws {
        var events = Self.cutoverEvents.prefix(8).map { $0 }
        // A new writer that had read_only on: the tool made it writable, which is undone too.
        events[0] = .guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: true, at: .milliseconds(100))
        events.insert(.readOnlySet, at: 6)
        let replay = try Self.replay(Self.journal(events, thenAction: true))
        #expect(replay.stoppedAt == "switch.verify-reverse-replication")
        #expect(!replay.wasPastPointOfNoReturn)
        let actions = Self.drive(replay, [.replicationStopped, .readOnlySet, .replicationStarted, .replicationVerified, .fenceLifted])
        #expect(Array(actions.dropLast()) == [
            .stopReplication(.source),
            .setReadOnly(.target, true),
            .startReplication(.target, from: .source, at: Self.final),
            .verifyReplication(.target),
            .liftFence(.source),
        ])
        var machine = replay.machine
        for event in [Event.replicationStopped, .readOnlySet, .replicationStarted, .replicationVerified, .fenceLifted] {
            _ = machine.receive(event)
        }
        #expect(machine.report.undone.count == 5)
    }

    @Test("an operator's fence (read_only set before the run) is not lifted by the resumed rollback")
    func operatorFenceStays() throws {
        let events: [Event] = [
            .guardsFinished(blockingReasons: [], oldAlreadyReadOnly: true, newWriterReadOnly: false, at: .milliseconds(100)),
            .sessionsClosed(count: 1),
        ]
        let replay = try Self.replay(Self.journal(events, thenAction: true, direction: .failback))
        #expect(replay.stoppedAt == "switch.read-final-position")
        guard case .finish(.rolledBack) = replay.next else {
            Issue.record("expected a rollback with nothing to undo, got \(replay.next)")
            return
        }
    }

    @Test("a stop request journaled before the switch command, then killed in the rollback: the rollback goes on")
    func killedDuringRollbackAfterStop() throws {
        let events = Array(Self.cutoverEvents.prefix(3)) + [.stopRequested]
        let replay = try Self.replay(Self.journal(events, thenAction: true))
        #expect(replay.stoppedAt == StepID("switch.lift-fence", phase: .rollback))
        let actions = Self.drive(replay, [.fenceLifted])
        #expect(actions.first == .liftFence(.source))
        guard case .finish(.rolledBack(let reason, _)) = actions.last else {
            Issue.record("expected a rollback, got \(actions)")
            return
        }
        #expect(reason.contains("stop requested"))
    }

    @Test("killed in a rollback after a failure: the undo step in flight is performed again, then the others")
    func killedDuringRollbackAfterFailure() throws {
        let failure = StepFailure(step: "start-replication", message: "planted", endpoint: "source", mayHaveTakenEffect: true)
        let events = Array(Self.cutoverEvents.prefix(7)) + [.stepFailed(failure)]
        // Rollback: stop reverse (journaled, then killed).
        let replay = try Self.replay(Self.journal(events, thenAction: true))
        let actions = Self.drive(replay, [.replicationStopped, .replicationStarted, .replicationVerified, .fenceLifted])
        #expect(Array(actions.dropLast()) == [
            .stopReplication(.source), .startReplication(.target, from: .source, at: Self.final), .verifyReplication(.target), .liftFence(.source),
        ])
        guard case .finish(.rolledBack(_, let failures)) = actions.last else {
            Issue.record("expected a rollback, got \(actions)")
            return
        }
        #expect(failures.map(\.step) == ["start-replication"], "the earlier failure is still reported")
    }

    // MARK: From the switch command on: forward

    @Test("killed while the switch command ran: past the point of no return, the command runs again, then the rest")
    func killedDuringCommand() throws {
        let replay = try Self.replay(Self.journal(Array(Self.cutoverEvents.prefix(9)), thenAction: true))
        #expect(replay.wasPastPointOfNoReturn)
        #expect(replay.stoppedAt == "switch.switch-command")
        let actions = Self.drive(replay, Array(Self.cutoverEvents.suffix(4)))
        #expect(actions == [
            .runSwitchCommand(.cutover), .closeSessions(.source),
            .observeWrites(.target, after: Self.newStart, timeout: .seconds(30)), .setReadOnly(.source, true), .finish(.completed),
        ])
    }

    @Test("killed while observing: the observation goes on from the position read before the command")
    func killedWhileObserving() throws {
        let replay = try Self.replay(Self.journal(Array(Self.cutoverEvents.prefix(11)), thenAction: true))
        #expect(replay.next == .observeWrites(.target, after: Self.newStart, timeout: .seconds(30)))
        let actions = Self.drive(replay, [.noWriteObserved(at: .seconds(31)), .readOnlySet])
        #expect(actions.suffix(2) == [.setReadOnly(.source, true), .finish(.completed)])
    }

    @Test("killed while keeping read_only durable: performed again")
    func killedWhilePersisting() throws {
        let replay = try Self.replay(Self.journal(Array(Self.cutoverEvents.prefix(12)), thenAction: true))
        #expect(replay.next == .setReadOnly(.source, true))
        #expect(replay.machine.report.firstWritePosition == Self.moved)
    }

    @Test("killed after the last step, before run-finished: the resume only writes the end")
    func killedBeforeTheEnd() throws {
        var entries = Self.journal(Self.cutoverEvents, thenAction: false)
        #expect(entries.last?.kind == .runFinished)
        entries.removeLast()
        let replay = try Self.replay(entries)
        #expect(replay.next == .finish(.completed))
    }

    @Test("stopped past the point of no return (the command failed): resume runs the command again, then goes on")
    func stoppedAfterCommandFailed() throws {
        let failure = StepFailure(step: "switch-command", message: "exit 1", endpoint: "switch command", mayHaveTakenEffect: true)
        let events = Array(Self.cutoverEvents.prefix(9)) + [.switchCommandFailed(failure, started: .milliseconds(200), at: .milliseconds(210))]
        let entries = Self.journal(events, thenAction: false)
        guard case .stoppedAfterPointOfNoReturn? = entries.last?.outcome else {
            Issue.record("expected a stop past the point of no return, got \(String(describing: entries.last?.outcome))")
            return
        }
        let replay = try Self.replay(entries)
        let actions = Self.drive(replay, Array(Self.cutoverEvents.suffix(4)))
        #expect(actions.first == .runSwitchCommand(.cutover))
        #expect(actions.last == .finish(.completed), "the earlier attempt's failure does not taint the resumed steps")
    }

    @Test("a resume that was itself killed replays: its decision is inferred from its first action")
    func resumedTwice() throws {
        // First interruption: killed after the catch-up; the resume restarted forward replication, then died.
        var entries = Self.journal(Array(Self.cutoverEvents.prefix(5)), thenAction: false)
        let first = try Self.replay(entries)
        var resumeEntry = JournalRecord(sequence: entries.count + 1, runID: "switch-test", kind: .action, time: "2026-12-06T19:00:02.000Z", elapsedMicroseconds: 0)
        resumeEntry.hookSwitch = HookSwitchJournalPayload(direction: .cutover, action: first.next)
        resumeEntry.step = first.machine.currentStep
        entries.append(resumeEntry)
        var answer = resumeEntry
        answer.sequence += 1
        answer.kind = .event
        answer.hookSwitch = HookSwitchJournalPayload(direction: .cutover, event: .replicationStarted)
        entries.append(answer)
        let second = try Self.replay(entries)
        #expect(second.next == .verifyReplication(.target))
    }

    // MARK: A bad journal is refused, typed

    static func expectRefusal(_ entries: [JournalRecord], _ code: CutoverError.Code, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let run = HookSwitchReplay.unfinishedRun(in: entries) ?? entries
            _ = try HookSwitchReplay(run: run)
            Issue.record("the replay must refuse", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
        }
    }

    @Test("an event that does not answer the action in flight is a journal mismatch, not a crash")
    func eventThatDoesNotAnswer() {
        var entries = Self.journal(Array(Self.cutoverEvents.prefix(2)), thenAction: false)
        // The fence's answer replaced by a catch-up's.
        let index = entries.lastIndex { $0.kind == .event }!
        entries[index].hookSwitch?.event = .caughtUp(at: .zero)
        Self.expectRefusal(entries, .journalMismatch, "entry \(entries[index].sequence)")
    }

    @Test("a position read for the wrong server is a journal mismatch")
    func positionOfTheWrongServer() {
        var entries = Self.journal(Array(Self.cutoverEvents.prefix(4)), thenAction: false)
        let index = entries.lastIndex { $0.kind == .event }!
        entries[index].hookSwitch?.event = .positionRead(.target, Self.final)
        Self.expectRefusal(entries, .journalMismatch, "does not answer")
    }

    @Test("an action the run would not have done is a journal mismatch")
    func unexpectedAction() {
        var entries = Self.journal(Array(Self.cutoverEvents.prefix(2)), thenAction: true)
        entries[entries.count - 1].hookSwitch?.action = .runSwitchCommand(.cutover)
        Self.expectRefusal(entries, .journalMismatch, "the run would have done")
    }

    @Test("an action line without its payload, and a header without one, are refused")
    func missingPayload() {
        var entries = Self.journal(Array(Self.cutoverEvents.prefix(2)), thenAction: true)
        entries[entries.count - 1].hookSwitch?.action = nil
        Self.expectRefusal(entries, .journalMismatch, "without a switch action")
        var header = Self.journal([], thenAction: true)
        header[0].hookSwitch = nil
        Self.expectRefusal(header, .journalMismatch, "not a switch without ProxySQL")
    }

    @Test("a payload of a later version is refused as such")
    func laterPayloadVersion() {
        var entries = Self.journal(Array(Self.cutoverEvents.prefix(2)), thenAction: true)
        entries[entries.count - 1].hookSwitch?.version = HookSwitchJournalPayload.currentVersion + 1
        Self.expectRefusal(entries, .unsupportedJournalVersion, "version")
    }

    @Test("an event after the run's finish is refused")
    func eventAfterFinish() {
        var entries = Self.journal(Self.cutoverEvents, thenAction: false)
        entries.removeLast()
        var extra = entries[entries.count - 1]
        extra.sequence += 1
        entries.append(extra)
        Self.expectRefusal(entries, .journalMismatch, "does not answer")
    }

    /// `entries` written to a file with `edit` applied to the text of line `sequence`, read back as `resume` reads them.
    static func throughFile(_ entries: [JournalRecord], editing sequence: Int, _ edit: (String) -> String) throws -> [JournalRecord] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hook-resume-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = ""
        for entry in entries {
            let line = String(decoding: try encoder.encode(entry), as: UTF8.self)
            text += (entry.sequence == sequence ? edit(line) : line) + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try CutoverJournal.read(path: path)
    }

    /// ADR 0013 "Not yet" (#17): a finished switch run whose `run-finished` outcome this version cannot read (another
    /// version wrote it, or it was edited) was replayed to the machine's own outcome, so `resume` wrote a second end
    /// (`completed`) and the run looked finished-ok. Like the cut-over journal's replay (`JournalReplay`), it is now
    /// not taken as finished (a new switch is refused, naming the run) and `resume` refuses it with
    /// `journalMismatch` naming the entry and the reason; nothing is replayed past it.
    @Test(
        "a finished run whose outcome cannot be read is not taken as finished, and resume refuses it (journalMismatch)",
        arguments: [
            (Array(cutoverEvents), #""outcome":{"completed""#),
            (Array(cutoverEvents.prefix(2)) + [.stopRequested, .fenceLifted], #""outcome":{"rolledBack""#),
            (
                Array(cutoverEvents.prefix(9)) + [
                    .switchCommandFailed(
                        StepFailure(step: "switch-command", message: "exit 1", endpoint: "switch command", mayHaveTakenEffect: true),
                        started: .milliseconds(200), at: .milliseconds(210))
                ], #""outcome":{"stoppedAfterPointOfNoReturn""#
            ),
        ] as [([Event], String)])
    func finishedWithUnreadableOutcome(events: [Event], stored: String) throws {
        let entries = Self.journal(events, thenAction: false)
        let end = try #require(entries.last)
        #expect(end.kind == .runFinished && end.outcome != nil)
        let edited = try Self.throughFile(entries, editing: end.sequence) { line in
            #expect(line.contains(stored), "\(line)")
            return line.replacingOccurrences(of: stored, with: #""outcome":{"paused""#)
        }
        #expect(edited.last?.outcome == nil)
        #expect(edited.last?.unreadablePayload?.contains("paused") == true, "\(String(describing: edited.last))")
        #expect(HookSwitchReplay.unfinishedRun(in: edited) != nil, "an end that cannot be read is not known to be finished")
        Self.expectRefusal(edited, .journalMismatch, "entry \(end.sequence) its outcome paused cannot be read")
        // The same through `HookSwitchRun.replay`, what `resume` calls.
        #expect(throws: CutoverError.self) {
            _ = try HookSwitchRun.replay(entries: edited, topologyFingerprint: "any")
        }
    }

    @Test("a finished run is not resumed; the journal written to disk reads back and replays")
    func finishedAndRoundTrip() throws {
        #expect(HookSwitchReplay.unfinishedRun(in: Self.journal(Self.cutoverEvents, thenAction: false)) == nil)
        // Through the file: the payload's Codable form is what `resume` reads.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hook-resume-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let encoder = JSONEncoder()
        var data = Data()
        for entry in Self.journal(Array(Self.cutoverEvents.prefix(9)), thenAction: true) {
            data += try encoder.encode(entry) + Data([0x0A])
        }
        try data.write(to: URL(fileURLWithPath: path))
        let replay = try Self.replay(try CutoverJournal.read(path: path))
        #expect(replay.next == .runSwitchCommand(.cutover))
    }
}
