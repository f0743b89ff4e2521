import Cutover
import Testing

/// Transcripts of the writer switch without ProxySQL (#15 item 2): one expectation per event → action step.
@Suite("Hook switch: the decider")
struct HookSwitchMachineTests {
    static let final = ReplicationCoordinate(file: "source-bin.000007", offset: 4_242)
    static let newStart = ReplicationCoordinate(file: "aurora-bin.000002", offset: 900)
    static let moved = ReplicationCoordinate(file: "aurora-bin.000002", offset: 1_350)

    static var policy: CutoverPolicy {
        var policy = CutoverPolicy()
        policy.fenceTimeout = .seconds(3)
        policy.catchUpDeadline = .seconds(20)
        return policy
    }

    static func machine(_ direction: HookSwitch.Direction = .cutover) -> HookSwitchMachine {
        HookSwitchMachine(direction: direction, policy: policy, observeTimeout: .seconds(30))
    }

    static func failure(_ step: String, mayHaveTakenEffect: Bool = false) -> StepFailure {
        StepFailure(step: step, message: "planted", endpoint: "x", mayHaveTakenEffect: mayHaveTakenEffect)
    }

    /// Feeds `machine` the events of a run from its start (at time zero, no sessions): guards passed, old writer
    /// fenced, sessions closed, final position read, and the new writer caught up (unless `caughtUp` is false).
    static func throughCatchUp(_ machine: inout HookSwitchMachine, newWriterReadOnly: Bool = false, caughtUp: Bool = true) {
        _ = machine.started()
        _ = machine.receive(.guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: newWriterReadOnly, at: .zero))
        _ = machine.receive(.fenced(at: .zero))
        _ = machine.receive(.sessionsClosed(count: 0))
        _ = machine.receive(.positionRead(.source, final))
        if caughtUp { _ = machine.receive(.caughtUp(at: .zero)) }
    }

    /// Drives `machine` from the start up to the action that follows the reverse replication's verification.
    static func upToTheSwitch(_ machine: inout HookSwitchMachine, newWriterReadOnly: Bool = false) -> HookSwitchMachine.Action {
        _ = machine.started()
        _ = machine.receive(.guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: newWriterReadOnly, at: .milliseconds(100)))
        _ = machine.receive(.fenced(at: .milliseconds(120)))
        _ = machine.receive(.sessionsClosed(count: 3))
        _ = machine.receive(.positionRead(.source, final))
        _ = machine.receive(.caughtUp(at: .milliseconds(150)))
        if newWriterReadOnly { _ = machine.receive(.replicationStopped) }
        let next = machine.receive(newWriterReadOnly ? .readOnlySet : .replicationStopped)
        #expect(next == .readPosition(.target))
        _ = machine.receive(.positionRead(.target, newStart))
        _ = machine.receive(.replicationStarted)
        return machine.receive(.replicationVerified)
    }

    @Test("cut-over: fence, sessions, final position, catch-up, forward stopped, reverse started, the command, then the first write ends the window")
    func cutoverTranscript() {
        var machine = Self.machine()
        #expect(machine.started() == .runGuards)
        #expect(machine.receive(.guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: false, at: .milliseconds(100)))
            == .fence(.source, timeout: .seconds(3)))
        #expect(machine.receive(.fenced(at: .milliseconds(120))) == .closeSessions(.source))
        #expect(machine.receive(.sessionsClosed(count: 3)) == .readPosition(.source))
        #expect(machine.receive(.positionRead(.source, Self.final)) == .waitForCatchUp(.target, Self.final, timeout: .seconds(20)))
        #expect(machine.receive(.caughtUp(at: .milliseconds(150))) == .stopReplication(.target))
        #expect(machine.receive(.replicationStopped) == .readPosition(.target))
        #expect(machine.receive(.positionRead(.target, Self.newStart)) == .startReplication(.source, from: .target, at: Self.newStart))
        #expect(machine.receive(.replicationStarted) == .verifyReplication(.source))
        #expect(!machine.isPastPointOfNoReturn)
        #expect(machine.receive(.replicationVerified) == .runSwitchCommand(.cutover))
        #expect(machine.isPastPointOfNoReturn, "the switch command is the point of no return")
        #expect(machine.receive(.switchCommandSucceeded(started: .milliseconds(200), at: .milliseconds(260))) == .closeSessions(.source))
        #expect(machine.receive(.sessionsClosed(count: 2)) == .observeWrites(.target, after: Self.newStart, timeout: .seconds(30)))
        #expect(machine.receive(.writeObserved(Self.moved, at: .milliseconds(300))) == .setReadOnly(.source, true))
        #expect(machine.receive(.readOnlySet) == .finish(.completed))
        let report = machine.report
        #expect(report.window == .milliseconds(180), "fence (120 ms) → first write on the new writer (300 ms)")
        #expect(report.sessionsClosed == 5)
        #expect(report.finalPosition == Self.final)
        #expect(report.reverseStartPosition == Self.newStart)
        #expect(report.firstWritePosition == Self.moved)
        #expect(report.undone.isEmpty)
    }

    @Test("a new writer with read_only on is made writable after forward replication stops")
    func newWriterReadOnly() {
        var machine = Self.machine()
        Self.throughCatchUp(&machine, newWriterReadOnly: true)
        #expect(machine.receive(.replicationStopped) == .setReadOnly(.target, false))
        #expect(machine.receive(.readOnlySet) == .readPosition(.target))
    }

    @Test("guards that refuse: finish refused, nothing changed")
    func refused() {
        var machine = Self.machine()
        _ = machine.started()
        let reason = BlockingReason(check: "replication.lag", message: "behind", remedy: "wait")
        #expect(machine.receive(.guardsFinished(blockingReasons: [reason], oldAlreadyReadOnly: false, newWriterReadOnly: false, at: .zero))
            == .finish(.refused([reason])))
        #expect(machine.report.fencedAt == nil)
    }

    @Test("catch-up fails: only the fence is undone, and the report says so")
    func catchUpFails() {
        var machine = Self.machine()
        Self.throughCatchUp(&machine, caughtUp: false)
        #expect(machine.receive(.stepFailed(Self.failure("catch-up"))) == .liftFence(.source))
        guard case .finish(.rolledBack(let reason, let failures)) = machine.receive(.fenceLifted) else {
            Issue.record("expected a rollback")
            return
        }
        #expect(reason.contains("catch-up failed"))
        #expect(failures.map(\.step) == ["catch-up"])
        #expect(machine.report.undone == ["read_only lifted on source"])
    }

    @Test("the reverse replication fails to verify: everything done is undone in reverse order")
    func reverseFailsRollsEverythingBack() {
        var machine = Self.machine()
        Self.throughCatchUp(&machine, newWriterReadOnly: true)
        _ = machine.receive(.replicationStopped)
        _ = machine.receive(.readOnlySet)
        _ = machine.receive(.positionRead(.target, Self.newStart))
        _ = machine.receive(.replicationStarted)
        #expect(machine.receive(.stepFailed(Self.failure("verify-reverse-replication"))) == .stopReplication(.source))
        #expect(machine.currentStep == StepID("switch.stop-reverse-replication", phase: .rollback))
        #expect(machine.receive(.replicationStopped) == .setReadOnly(.target, true))
        #expect(machine.receive(.readOnlySet) == .startReplication(.target, from: .source, at: Self.final))
        #expect(machine.receive(.replicationStarted) == .verifyReplication(.target))
        #expect(machine.receive(.replicationVerified) == .liftFence(.source))
        guard case .finish(.rolledBack) = machine.receive(.fenceLifted) else {
            Issue.record("expected a rollback")
            return
        }
        #expect(machine.report.undone == [
            "reverse replication target → source stopped and reset", "read_only put back on target",
            "forward replication source → target restarted at \(Self.final)", "forward replication verified running",
            "read_only lifted on source",
        ])
        #expect(!machine.isPastPointOfNoReturn)
    }

    @Test("a rollback step that fails is reported, and the other undo steps still run")
    func rollbackStepFails() {
        var machine = Self.machine()
        Self.throughCatchUp(&machine)
        #expect(machine.receive(.stepFailed(Self.failure("stop-forward-replication", mayHaveTakenEffect: true)))
            == .startReplication(.target, from: .source, at: Self.final))
        #expect(machine.receive(.stepFailed(Self.failure("restart-forward-replication"))) == .liftFence(.source))
        guard case .finish(.rolledBack(_, let failures)) = machine.receive(.fenceLifted) else {
            Issue.record("expected a rollback")
            return
        }
        #expect(failures.map(\.step) == ["stop-forward-replication", "restart-forward-replication"])
        #expect(HookSwitchMachine.remedy(for: .rolledBack(reason: "", failures: failures), direction: .cutover) != nil)
    }

    @Test("the switch command fails: past the point of no return, no rollback, the remedy says what to do")
    func switchCommandFails() {
        var machine = Self.machine()
        #expect(Self.upToTheSwitch(&machine) == .runSwitchCommand(.cutover))
        let action = machine.receive(.switchCommandFailed(Self.failure("switch-command"), started: .milliseconds(200), at: .milliseconds(900)))
        guard case .finish(.stoppedAfterPointOfNoReturn(let reason, _, let remaining)) = action else {
            Issue.record("expected a stop past the point of no return, got \(action)")
            return
        }
        #expect(reason.contains("switch command failed"))
        #expect(remaining.contains("switch.switch-command"))
        let remedy = HookSwitchMachine.remedy(for: .stoppedAfterPointOfNoReturn(reason: reason, failures: [], remainingSteps: remaining), direction: .cutover)
        #expect(remedy?.contains("read-only") == true)
    }

    @Test("a stop request before the switch command rolls back; after it, the run goes on")
    func stopRequests() {
        var before = Self.machine()
        _ = before.started()
        _ = before.receive(.guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: false, at: .zero))
        _ = before.receive(.fenced(at: .zero))
        #expect(before.receive(.stopRequested) == .liftFence(.source))

        var after = Self.machine()
        _ = Self.upToTheSwitch(&after)
        _ = after.receive(.switchCommandSucceeded(started: .zero, at: .zero))
        #expect(after.receive(.stopRequested) == .closeSessions(.source), "the pending action is repeated")
    }

    @Test("no write within the bound: the run completes without a window")
    func noWriteObserved() {
        var machine = Self.machine()
        _ = Self.upToTheSwitch(&machine)
        _ = machine.receive(.switchCommandSucceeded(started: .zero, at: .zero))
        _ = machine.receive(.sessionsClosed(count: 0))
        #expect(machine.receive(.noWriteObserved(at: .seconds(30))) == .setReadOnly(.source, true))
        #expect(machine.receive(.readOnlySet) == .finish(.completed))
        #expect(machine.report.window == nil)
    }

    @Test("failback is the mirror image; an old writer already read-only (set by the operator) is checked, not fenced, and not unfenced on rollback")
    func failbackMirror() {
        var machine = Self.machine(.failback)
        _ = machine.started()
        #expect(machine.receive(.guardsFinished(blockingReasons: [], oldAlreadyReadOnly: true, newWriterReadOnly: true, at: .milliseconds(40)))
            == .closeSessions(.target))
        #expect(machine.report.fencedByOperator)
        #expect(machine.receive(.sessionsClosed(count: 1)) == .readPosition(.target))
        #expect(machine.receive(.positionRead(.target, Self.newStart)) == .waitForCatchUp(.source, Self.newStart, timeout: .seconds(20)))
        #expect(machine.receive(.caughtUp(at: .zero)) == .stopReplication(.source))
        #expect(machine.receive(.replicationStopped) == .setReadOnly(.source, false))
        #expect(machine.receive(.stepFailed(Self.failure("make-writable"))) == .setReadOnly(.source, true))
        #expect(machine.receive(.readOnlySet) == .startReplication(.source, from: .target, at: Self.newStart))
        #expect(machine.receive(.replicationStarted) == .verifyReplication(.source))
        guard case .finish(.rolledBack) = machine.receive(.replicationVerified) else {
            Issue.record("expected a rollback without lifting the operator's fence")
            return
        }

        // Forward to the end: the operator's fence is kept by the operator's setting, not persisted by the tool.
        var forward = Self.machine(.failback)
        _ = forward.started()
        _ = forward.receive(.guardsFinished(blockingReasons: [], oldAlreadyReadOnly: true, newWriterReadOnly: false, at: .zero))
        _ = forward.receive(.sessionsClosed(count: 0))
        _ = forward.receive(.positionRead(.target, Self.newStart))
        _ = forward.receive(.caughtUp(at: .zero))
        _ = forward.receive(.replicationStopped)
        _ = forward.receive(.positionRead(.source, Self.final))
        #expect(forward.receive(.replicationStarted) == .verifyReplication(.target))
        #expect(forward.receive(.replicationVerified) == .runSwitchCommand(.failback))
        _ = forward.receive(.switchCommandSucceeded(started: .zero, at: .zero))
        #expect(forward.receive(.sessionsClosed(count: 0)) == .observeWrites(.source, after: Self.final, timeout: .seconds(30)))
        #expect(forward.receive(.writeObserved(Self.moved, at: .seconds(1))) == .finish(.completed))
    }
}

/// The guards of the switch without ProxySQL: facts in, refusals with remedies out.
@Suite("Hook switch: the guards")
struct HookSwitchGuardTests {
    static let running = ReplicaHealth(ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil, sourceEndpoint: "10.0.0.5:3306")

    static func facts(
        replication: ReplicaHealth? = running, oldCanFence: Bool = true, oldReadOnly: Bool = false,
        newReadOnly: Bool = false, newCanLift: Bool = true, command: String = "./switch"
    ) -> HookSwitch.Facts {
        HookSwitch.Facts(
            newWriterReplication: replication,
            oldWriter: DatabaseSafetyFacts(readOnly: oldReadOnly, serverID: 1),
            newWriter: DatabaseSafetyFacts(readOnly: newReadOnly, serverID: 2),
            oldWriterCanFence: oldCanFence, newWriterCanLiftReadOnly: newCanLift, command: command)
    }

    static func checks(_ facts: HookSwitch.Facts, _ direction: HookSwitch.Direction = .cutover) -> [String] {
        HookSwitch.blockingReasons(facts, direction: direction, policy: CutoverPolicy(), names: ("old", "new")).map(\.check)
    }

    @Test("everything in order: no refusal")
    func clean() { #expect(Self.checks(Self.facts()).isEmpty) }

    @Test("the way back is checked before the switch: a new writer that keeps no binary logs long enough, or a replication account that cannot log in, refuses it (#13 item 5)")
    func reversePrerequisites() {
        var facts = Self.facts()
        facts.reversePrerequisites = ReversePrerequisitesTests.facts()
        #expect(Self.checks(facts).isEmpty, "healthy prerequisites: nothing to refuse")
        facts.reversePrerequisites = ReversePrerequisitesTests.facts(retention: .some(nil))
        #expect(Self.checks(facts) == ["reverse.binlog-retention"])
        facts.reversePrerequisites = ReversePrerequisitesTests.facts(login: .refused(errorNumber: 1045, message: "Access denied"))
        #expect(Self.checks(facts).contains("reverse.login"))
        facts.reversePrerequisites = ReversePrerequisitesTests.facts(oldVariables: ["binlog_format": "MIXED"])
        #expect(Self.checks(facts) == ["reverse.binlog-format"])
    }

    @Test("no replication, stopped replication, lag over the budget")
    func replication() {
        #expect(Self.checks(Self.facts(replication: nil)) == ["replication.running"])
        #expect(Self.checks(Self.facts(replication: ReplicaHealth(ioThreadRunning: false, sqlThreadRunning: true, secondsBehind: nil, lastError: nil, sourceEndpoint: nil))) == ["replication.running"])
        #expect(Self.checks(Self.facts(replication: ReplicaHealth(ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 3_600, lastError: nil, sourceEndpoint: nil))) == ["replication.lag"])
    }

    @Test("an old writer the tool cannot fence is refused unless the operator made it read-only")
    func fence() {
        #expect(Self.checks(Self.facts(oldCanFence: false)) == ["switch.fence"])
        #expect(Self.checks(Self.facts(oldCanFence: false, oldReadOnly: true)).isEmpty)
    }

    @Test("a read-only new writer the tool cannot make writable; an empty command")
    func writableAndCommand() {
        #expect(Self.checks(Self.facts(newReadOnly: true, newCanLift: false)) == ["switch.writable"])
        #expect(Self.checks(Self.facts(newReadOnly: true)).isEmpty)
        #expect(Self.checks(Self.facts(command: "  ")) == ["switch.command"])
    }

    @Test("the plan lists the fence first and the switch command as the point of no return")
    func plan() {
        let steps = HookSwitch.plannedSteps(direction: .cutover, fenceBySetting: true, liftNewReadOnly: false).map(\.step)
        #expect(steps == [
            "guards", "fence", "close-sessions", "read-final-position", "catch-up", "stop-forward-replication",
            "read-new-position", "start-reverse-replication", "switch-command", "observe-writes",
        ])
    }
}
