/// The decider of the writer switch without ProxySQL (``HookSwitch``): events in, actions out; no I/O, no clock.
///
/// Forward: guards → fence the old writer → close its sessions → read its final position → catch-up on the new
/// writer → stop forward replication → make the new writer writable (when `read_only` is on) → read the new writer's
/// position → start and verify reverse replication → **run the switch command (point of no return)** → close the old
/// writer's sessions again (so connection pools reconnect through what the command changed) → observe the first write
/// on the new writer → keep `read_only` on the old writer across a restart (unless the operator fenced it: then the
/// operator's setting keeps it).
///
/// A failure or a stop request before the switch command undoes, in reverse order, exactly what was done: reverse
/// replication stopped, `read_only` put back on the new writer, forward replication restarted at the final position
/// and verified, the fence lifted. After it the machine only goes forward.
public struct HookSwitchMachine: Sendable {
    /// What to do next.
    public enum Action: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Read ``HookSwitch/Facts`` and judge them.
        case runGuards
        /// `SET GLOBAL super_read_only`/`read_only` on, bounded by `timeout` (the existing fence).
        case fence(DatabaseRole, timeout: Duration)
        /// Close every client session on the database (open write transactions end).
        case closeSessions(DatabaseRole)
        /// Read the binlog position and GTID state.
        case readPosition(DatabaseRole)
        /// Wait until the database, as a replica, has executed `coordinate`.
        case waitForCatchUp(DatabaseRole, ReplicationCoordinate, timeout: Duration)
        /// Stop and reset the database's replication.
        case stopReplication(DatabaseRole)
        /// Set `read_only` on or off now, and across a restart where the server can.
        case setReadOnly(DatabaseRole, Bool)
        /// Configure and start replication of the database from `from` at `coordinate`.
        case startReplication(DatabaseRole, from: DatabaseRole, at: ReplicationCoordinate)
        /// Check the database's replication runs.
        case verifyReplication(DatabaseRole)
        /// Lift the fence set by ``fence(_:timeout:)``.
        case liftFence(DatabaseRole)
        /// Run the operator's switch command (the point of no return).
        case runSwitchCommand(HookSwitch.Direction)
        /// Poll the database's own binlog position until it moves past `after`, bounded by `timeout`.
        case observeWrites(DatabaseRole, after: ReplicationCoordinate, timeout: Duration)
        /// The run is over.
        case finish(CutoverOutcome)

        public var description: String {
            switch self {
            case .runGuards: "run guards"
            case .fence(let role, let timeout): "fence \(role) (read_only, within \(timeout))"
            case .closeSessions(let role): "close client sessions on \(role)"
            case .readPosition(let role): "read \(role)'s position"
            case .waitForCatchUp(let role, let coordinate, _): "wait until \(role) executed \(coordinate)"
            case .stopReplication(let role): "stop and reset replication on \(role)"
            case .setReadOnly(let role, let on): "set read_only \(on ? "ON" : "OFF") on \(role)"
            case .startReplication(let role, let from, let coordinate): "start replication on \(role) from \(from) at \(coordinate)"
            case .verifyReplication(let role): "verify replication on \(role)"
            case .liftFence(let role): "lift the fence on \(role)"
            case .runSwitchCommand(let direction): "run the \(direction) switch command"
            case .observeWrites(let role, let after, _): "observe writes on \(role) after \(after)"
            case .finish(let outcome): "finish: \(outcome)"
            }
        }
    }

    /// What happened.
    public enum Event: Sendable, Hashable, Codable {
        case guardsFinished(blockingReasons: [BlockingReason], oldAlreadyReadOnly: Bool, newWriterReadOnly: Bool, at: Duration)
        case fenced(at: Duration)
        case sessionsClosed(count: Int)
        case positionRead(DatabaseRole, ReplicationCoordinate)
        case caughtUp(at: Duration)
        case replicationStopped
        case readOnlySet
        case replicationStarted
        case replicationVerified
        case fenceLifted
        /// The command ended (exit status 0) at `at`; `started` is when it began.
        case switchCommandSucceeded(started: Duration, at: Duration)
        /// The command failed (non-zero status, killed at its timeout, or could not start).
        case switchCommandFailed(StepFailure, started: Duration, at: Duration)
        /// The new writer's position moved past the one read before the command.
        case writeObserved(ReplicationCoordinate, at: Duration)
        /// No write arrived within the observation bound.
        case noWriteObserved(at: Duration)
        /// The step failed.
        case stepFailed(StepFailure)
        /// The operator asked the run to stop (SIGINT/SIGTERM).
        case stopRequested
    }

    /// The measured moments and the facts of the run, for the report and the journal.
    public struct Report: Sendable, Hashable, Codable {
        public var direction: HookSwitch.Direction
        /// When the old writer was fenced (the window's start), from the start of the run.
        public var fencedAt: Duration?
        /// Whether the operator had made the old writer read-only before the run (the tool only checked).
        public var fencedByOperator = false
        public var sessionsClosed = 0
        public var finalPosition: ReplicationCoordinate?
        public var caughtUpAt: Duration?
        public var reverseStartPosition: ReplicationCoordinate?
        public var switchCommandStartedAt: Duration?
        public var switchCommandFinishedAt: Duration?
        /// The first write seen on the new writer (the window's end), nil when none arrived within the bound.
        public var firstWriteObservedAt: Duration?
        public var firstWritePosition: ReplicationCoordinate?
        /// The undo steps a rollback performed (`lift the fence on source`), in order.
        public var undone: [String] = []

        /// Fence → first write observed on the new writer; nil when either is unknown.
        public var window: Duration? {
            guard let fencedAt, let firstWriteObservedAt else { return nil }
            return firstWriteObservedAt - fencedAt
        }

        init(direction: HookSwitch.Direction) { self.direction = direction }
    }

    /// What a rollback has to undo, in the order it was done.
    enum Undo: Sendable, Hashable {
        case liftFence
        case restartForward(ReplicationCoordinate)
        case restoreReadOnly
        case stopReverse
    }

    enum State: Sendable {
        case idle
        case guarding
        case fencing
        case closingSessions
        case readingFinal
        case catchingUp(ReplicationCoordinate)
        case stoppingForward
        case liftingReadOnly
        case readingNew
        case startingReverse
        case verifyingReverse
        case switching
        case disconnectingOld
        case observing
        case persistingReadOnly
        /// Undoing; `current` is being performed, `remaining` follow.
        case rollingBack(current: Undo, step: Int, remaining: [Undo], reason: String)
        case done
    }

    public let direction: HookSwitch.Direction
    public let policy: CutoverPolicy
    public let observeTimeout: Duration
    // Internal, not private: the resume (HookSwitchMachine+Resume.swift) reads and sets them.
    var state: State = .idle
    var undo: [Undo] = []
    var newWriterReadOnly = false
    var failures: [StepFailure] = []
    var pastPointOfNoReturn = false
    /// The action the machine waits on.
    var pending: Action?
    var commandSucceeded = false
    /// The facts measured so far.
    public internal(set) var report: Report

    /// Creates the decider of a switch in `direction`.
    public init(direction: HookSwitch.Direction, policy: CutoverPolicy, observeTimeout: Duration) {
        self.direction = direction
        self.policy = policy
        self.observeTimeout = observeTimeout
        self.report = Report(direction: direction)
    }

    /// Whether the switch command has been started: from then on the machine only goes forward.
    public var isPastPointOfNoReturn: Bool { pastPointOfNoReturn }

    private var old: DatabaseRole { direction.oldWriter }
    private var new: DatabaseRole { direction.newWriter }

    /// The first action.
    public mutating func started() -> Action {
        guard case .idle = state else { preconditionFailure("started twice") }
        state = .guarding
        return remember(.runGuards)
    }

    /// The step name of the action the machine is waiting on, for the journal.
    public var currentStep: StepID {
        switch state {
        case .idle, .guarding: "switch.guards"
        case .fencing: "switch.fence"
        case .closingSessions: "switch.close-sessions"
        case .readingFinal: "switch.read-final-position"
        case .catchingUp: "switch.catch-up"
        case .stoppingForward: "switch.stop-forward-replication"
        case .liftingReadOnly: "switch.make-writable"
        case .readingNew: "switch.read-new-position"
        case .startingReverse: "switch.start-reverse-replication"
        case .verifyingReverse: "switch.verify-reverse-replication"
        case .switching: "switch.switch-command"
        case .disconnectingOld: "switch.disconnect-old"
        case .observing: "switch.observe-writes"
        case .persistingReadOnly: "switch.persist-read-only"
        case .rollingBack(let current, let step, _, _):
            StepID(Self.undoName(current, step: step), phase: .rollback)
        case .done: "switch.done"
        }
    }

    private static func undoName(_ undo: Undo, step: Int) -> String {
        switch undo {
        case .liftFence: "switch.lift-fence"
        case .restartForward: step == 0 ? "switch.restart-forward-replication" : "switch.verify-forward-replication"
        case .restoreReadOnly: "switch.restore-read-only"
        case .stopReverse: "switch.stop-reverse-replication"
        }
    }

    /// Feeds `event`; returns the next action.
    public mutating func receive(_ event: Event) -> Action {
        if case .stepFailed(let failure) = event { return remember(failed(failure)) }
        if case .stopRequested = event {
            if case .done = state { preconditionFailure("event after the run finished") }
            if case .idle = state { preconditionFailure("stop requested before the run started") }
            // Past the point of no return, and during a rollback, the run goes on: the pending action is repeated
            // (the runner asks in place of performing it).
            if pastPointOfNoReturn { return pending! }
            if case .rollingBack = state { return pending! }
            if case .guarding = state {
                state = .done
                return remember(.finish(.rolledBack(reason: "stop requested by the operator", failures: [])))
            }
            return remember(rollBack("stop requested by the operator"))
        }
        return remember(decide(event))
    }

    mutating func remember(_ action: Action) -> Action {
        pending = action
        return action
    }

    /// The answer to `event` in the current state, by the part of the run it belongs to.
    private mutating func decide(_ event: Event) -> Action {
        switch state {
        case .guarding, .fencing, .closingSessions, .readingFinal, .catchingUp:
            return windowAnswered(event)
        case .stoppingForward, .liftingReadOnly, .readingNew, .startingReverse, .verifyingReverse:
            return reverseAnswered(event)
        case .switching, .disconnectingOld, .observing, .persistingReadOnly:
            return switchAnswered(event)
        case .rollingBack(let current, let step, let remaining, let reason):
            return rollbackStepAnswered(event, current, step: step, remaining: remaining, reason: reason)
        case .idle, .done:
            preconditionFailure("\(event) cannot follow in state \(state)")
        }
    }

    /// The read-only window up to catch-up: the guards, the fence (or the operator's), the old writer's sessions
    /// closed, its final position read, the new writer caught up to it.
    private mutating func windowAnswered(_ event: Event) -> Action {
        switch (state, event) {
        case (.guarding, .guardsFinished(let reasons, let alreadyReadOnly, let newReadOnly, let at)):
            guard reasons.isEmpty else {
                state = .done
                return .finish(.refused(reasons))
            }
            newWriterReadOnly = newReadOnly
            if alreadyReadOnly {
                // The operator fenced it (Aurora: parameter group); the window started before the run.
                report.fencedByOperator = true
                report.fencedAt = at
                state = .closingSessions
                return .closeSessions(old)
            }
            undo.append(.liftFence)
            state = .fencing
            return .fence(old, timeout: policy.fenceTimeout)

        case (.fencing, .fenced(let at)):
            report.fencedAt = at
            state = .closingSessions
            return .closeSessions(old)

        case (.closingSessions, .sessionsClosed(let count)):
            report.sessionsClosed += count
            state = .readingFinal
            return .readPosition(old)

        case (.readingFinal, .positionRead(let role, let coordinate)) where role == old:
            report.finalPosition = coordinate
            state = .catchingUp(coordinate)
            return .waitForCatchUp(new, coordinate, timeout: policy.catchUpDeadline)

        case (.catchingUp(let coordinate), .caughtUp(let at)):
            report.caughtUpAt = at
            undo.append(.restartForward(coordinate))
            state = .stoppingForward
            return .stopReplication(new)

        default:
            preconditionFailure("\(event) cannot follow in state \(state)")
        }
    }

    /// Replication turned around before the switch: forward replication stopped, the new writer made writable when
    /// it was read-only, its position read, reverse replication started and verified; then the switch command (the
    /// point of no return).
    private mutating func reverseAnswered(_ event: Event) -> Action {
        switch (state, event) {
        case (.stoppingForward, .replicationStopped):
            if newWriterReadOnly {
                undo.append(.restoreReadOnly)
                state = .liftingReadOnly
                return .setReadOnly(new, false)
            }
            state = .readingNew
            return .readPosition(new)

        case (.liftingReadOnly, .readOnlySet):
            state = .readingNew
            return .readPosition(new)

        case (.readingNew, .positionRead(let role, let coordinate)) where role == new:
            report.reverseStartPosition = coordinate
            undo.append(.stopReverse)
            state = .startingReverse
            return .startReplication(old, from: new, at: coordinate)

        case (.startingReverse, .replicationStarted):
            state = .verifyingReverse
            return .verifyReplication(old)

        case (.verifyingReverse, .replicationVerified):
            state = .switching
            pastPointOfNoReturn = true
            return .runSwitchCommand(direction)

        default:
            preconditionFailure("\(event) cannot follow in state \(state)")
        }
    }

    /// The switch command and after: the old writer's sessions closed again, the first write on the new writer
    /// observed, the old writer's read-only made durable.
    private mutating func switchAnswered(_ event: Event) -> Action {
        switch (state, event) {
        case (.switching, .switchCommandSucceeded(let started, let at)):
            report.switchCommandStartedAt = started
            report.switchCommandFinishedAt = at
            commandSucceeded = true
            state = .disconnectingOld
            return .closeSessions(old)

        case (.switching, .switchCommandFailed(let failure, let started, let at)):
            report.switchCommandStartedAt = started
            report.switchCommandFinishedAt = at
            failures.append(failure)
            return .finish(stoppedAfter("the switch command failed: \(failure.message)"))

        case (.disconnectingOld, .sessionsClosed(let count)):
            report.sessionsClosed += count
            state = .observing
            return .observeWrites(new, after: report.reverseStartPosition!, timeout: observeTimeout)

        case (.observing, .writeObserved(let coordinate, let at)):
            report.firstWriteObservedAt = at
            report.firstWritePosition = coordinate
            return persistReadOnly()

        case (.observing, .noWriteObserved):
            return persistReadOnly()

        case (.persistingReadOnly, .readOnlySet):
            state = .done
            return .finish(failures.isEmpty ? .completed : stoppedAfter("a step after the switch failed"))

        default:
            preconditionFailure("\(event) cannot follow in state \(state)")
        }
    }

    /// One rollback step answered: the next part of a two-part undo, or the next undo.
    private mutating func rollbackStepAnswered(
        _ event: Event, _ current: Undo, step: Int, remaining: [Undo], reason: String
    ) -> Action {
        guard Self.answers(event, current, step: step) else {
            preconditionFailure("\(event) does not answer the rollback step \(current)")
        }
        report.undone.append(describe(current, step: step))
        if case .restartForward = current, step == 0 {
            state = .rollingBack(current: current, step: 1, remaining: remaining, reason: reason)
            return .verifyReplication(new)
        }
        state = .rollingBack(current: current, step: 0, remaining: remaining, reason: reason)
        return nextRollbackAction()
    }

    mutating func persistReadOnly() -> Action {
        if report.fencedByOperator {
            // The operator's setting (a parameter group) keeps it; the tool could not set it anyway.
            state = .done
            return .finish(failures.isEmpty ? .completed : stoppedAfter("a step after the switch failed"))
        }
        state = .persistingReadOnly
        return .setReadOnly(old, true)
    }

    private mutating func failed(_ failure: StepFailure) -> Action {
        switch state {
        case .idle, .done:
            preconditionFailure("a step failed while no step was running")
        case .guarding:
            state = .done
            return .finish(.refused([BlockingReason(check: "switch.guards", message: failure.message, remedy: failure.remedy ?? "fix it, then run again")]))
        case .rollingBack(let current, let step, let remaining, let reason):
            // Go on with the other undo steps (a restart of forward replication that failed is not verified).
            failures.append(failure)
            state = .rollingBack(current: current, step: step, remaining: remaining, reason: reason)
            return nextRollbackAction()
        case .disconnectingOld:
            // The applications have been pointed at the new writer; pooled sessions on the old one get 1290.
            failures.append(failure)
            state = .observing
            return .observeWrites(new, after: report.reverseStartPosition!, timeout: observeTimeout)
        case .observing:
            failures.append(failure)
            return persistReadOnly()
        case .persistingReadOnly:
            failures.append(failure)
            state = .done
            return .finish(stoppedAfter("read_only could not be kept on \(old) across a restart: \(failure.message)"))
        case .switching:
            failures.append(failure)
            state = .done
            return .finish(stoppedAfter("the switch command failed: \(failure.message)"))
        case .fencing, .closingSessions, .readingFinal, .catchingUp, .stoppingForward, .liftingReadOnly, .readingNew,
            .startingReverse, .verifyingReverse:
            // Each undo step is recorded before its action runs, so a step that failed half-way is undone too
            // (stopping forward replication, starting reverse replication, the fence).
            failures.append(failure)
            return rollBack("\(failure.step) failed: \(failure.message)")
        }
    }

    mutating func rollBack(_ reason: String) -> Action {
        let steps = Array(undo.reversed())
        undo = []
        guard let first = steps.first else {
            state = .done
            return .finish(.rolledBack(reason: reason, failures: failures))
        }
        state = .rollingBack(current: first, step: 0, remaining: Array(steps.dropFirst()), reason: reason)
        return action(for: first)
    }

    private mutating func nextRollbackAction() -> Action {
        guard case .rollingBack(_, _, let remaining, let reason) = state else { preconditionFailure("not rolling back") }
        guard let next = remaining.first else {
            state = .done
            return .finish(.rolledBack(reason: reason, failures: failures))
        }
        state = .rollingBack(current: next, step: 0, remaining: Array(remaining.dropFirst()), reason: reason)
        return action(for: next)
    }

    private func action(for undo: Undo) -> Action {
        switch undo {
        case .liftFence: .liftFence(old)
        case .restartForward(let coordinate): .startReplication(new, from: old, at: coordinate)
        case .restoreReadOnly: .setReadOnly(new, true)
        case .stopReverse: .stopReplication(old)
        }
    }

    private func describe(_ undo: Undo, step: Int) -> String {
        switch undo {
        case .liftFence: "read_only lifted on \(old)"
        case .restartForward(let coordinate):
            step == 0 ? "forward replication \(old) → \(new) restarted at \(coordinate)" : "forward replication verified running"
        case .restoreReadOnly: "read_only put back on \(new)"
        case .stopReverse: "reverse replication \(new) → \(old) stopped and reset"
        }
    }

    private static func answers(_ event: Event, _ undo: Undo, step: Int) -> Bool {
        switch (undo, event) {
        case (.liftFence, .fenceLifted), (.restoreReadOnly, .readOnlySet), (.stopReverse, .replicationStopped): true
        case (.restartForward, .replicationStarted): step == 0
        case (.restartForward, .replicationVerified): step == 1
        default: false
        }
    }

    private mutating func stoppedAfter(_ reason: String) -> CutoverOutcome {
        state = .done
        var remaining: [StepID] = []
        if !commandSucceeded {
            remaining.append("switch.switch-command")
        }
        remaining.append("switch.persist-read-only")
        return .stoppedAfterPointOfNoReturn(reason: reason, failures: failures, remainingSteps: remaining)
    }

    /// What the operator must do by hand after an outcome, in words (the switch command's failure, a rollback step
    /// that failed).
    public static func remedy(for outcome: CutoverOutcome, direction: HookSwitch.Direction) -> String? {
        let old = direction.oldWriter, new = direction.newWriter
        switch outcome {
        case .completed, .refused: return nil
        case .rolledBack(_, let failures):
            guard !failures.isEmpty else { return nil }
            return "the rollback did not finish: " + failures.map { "\($0.step): \($0.remedy ?? $0.message)" }.joined(separator: "; ")
                + ". Check with `migrate-cli status`: \(old) must be writable again and \(new) replicating from it."
        case .stoppedAfterPointOfNoReturn:
            return "the switch command has run (or was started): the applications may point at either writer. \(old) is "
                + "read-only, so no write can land on both. Fix the cause, then run the command by hand with the same "
                + "environment (it must be idempotent), or go back with `migrate-cli \(direction == .cutover ? "failback" : "cutover") writers`."
        }
    }
}
