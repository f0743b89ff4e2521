/// Resuming a switch without ProxySQL whose process died (issue #15): the journal's events are fed back through
/// ``accept(_:)`` (which refuses, instead of stopping the process, an event that does not answer the action in
/// flight), then ``resumeAfterInterruption()`` decides how the run ends.
///
/// - Before the switch command: roll back. Every undo step was recorded before its action ran, so what may have
///   taken effect is undone (reverse replication stopped, `read_only` put back on the new writer, forward replication
///   restarted at the final position and verified, the fence lifted); each undo is idempotent, so one whose action
///   never ran does no harm. Interrupted during the guards: nothing had changed.
/// - During a rollback: the rollback goes on from the undo step in flight.
/// - From the switch command on (the point of no return): only forward. The step in flight is performed again: the
///   switch command (it must be idempotent: it may have run), the old writer's sessions closed, the observation of
///   the first write, the durable `read_only` on the old writer.
/// - A run that stopped past the point of no return (its command failed, or `read_only` could not be made
///   durable): the step that failed is performed again, then the rest.
extension HookSwitchMachine {
    /// Feeds a journaled `event` if it answers the action the machine waits on; nil when it does not (the journal was
    /// edited, cut short or written by another version). Never stops the process on what a file says.
    public mutating func accept(_ event: Event) -> Action? {
        guard let pending else { return nil }
        if case .stopRequested = event {
            switch state {
            case .idle, .done: return nil
            default: return receive(event)
            }
        }
        guard Self.answers(event, pending) else { return nil }
        return receive(event)
    }

    /// The action the machine waits on (nil before ``started()``).
    public var pendingAction: Action? { pending }

    /// Whether the run has ended (a `finish` action was returned).
    public var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// How a resumed run goes on, decided from where the replayed run stopped (see the type's documentation).
    public mutating func resumeAfterInterruption() -> Action {
        switch state {
        case .idle:
            preconditionFailure("resume before the replay started the machine")
        case .guarding, .fencing, .closingSessions, .readingFinal, .catchingUp, .stoppingForward, .liftingReadOnly,
            .readingNew, .startingReverse, .verifyingReverse:
            return remember(rollBack("the run was interrupted at \(currentStep), before the switch command: rolled back by `resume`"))
        case .switching, .disconnectingOld, .observing, .persistingReadOnly, .rollingBack:
            // Performed again: past the point of no return only forward, and a rollback goes on.
            return pending!
        case .done:
            guard case .finish(.stoppedAfterPointOfNoReturn)? = pending else { return pending! }
            // The failures were the earlier attempt's; the resumed steps are judged afresh.
            failures = []
            if commandSucceeded { return remember(persistReadOnly()) }
            state = .switching
            return remember(.runSwitchCommand(direction))
        }
    }

    /// The actions from `first` to the end when every step succeeds (and no write is observed), for `resume
    /// --dry-run`: what the resumed run will do, in order, ending with its `finish`.
    public func plannedActions(from first: Action) -> [Action] {
        var machine = self
        var actions = [first]
        var action = first
        for _ in 0..<64 {
            let event: Event
            switch action {
            case .finish: return actions
            case .runGuards: event = .guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: false, at: .zero)
            case .fence: event = .fenced(at: .zero)
            case .closeSessions: event = .sessionsClosed(count: 0)
            case .readPosition(let role): event = .positionRead(role, ReplicationCoordinate(file: "binlog.000001", offset: 4))
            case .waitForCatchUp: event = .caughtUp(at: .zero)
            case .stopReplication: event = .replicationStopped
            case .setReadOnly: event = .readOnlySet
            case .startReplication: event = .replicationStarted
            case .verifyReplication: event = .replicationVerified
            case .liftFence: event = .fenceLifted
            case .runSwitchCommand: event = .switchCommandSucceeded(started: .zero, at: .zero)
            case .observeWrites: event = .noWriteObserved(at: .zero)
            }
            action = machine.receive(event)
            actions.append(action)
        }
        return actions
    }

    /// Whether `event` is an answer to `action` (``Event/stepFailed(_:)`` answers any step).
    public static func answers(_ event: Event, _ action: Action) -> Bool {
        if case .finish = action { return false }
        if case .stepFailed = event { return true }
        switch (action, event) {
        case (.runGuards, .guardsFinished), (.fence, .fenced), (.closeSessions, .sessionsClosed),
            (.waitForCatchUp, .caughtUp), (.stopReplication, .replicationStopped), (.setReadOnly, .readOnlySet),
            (.startReplication, .replicationStarted), (.verifyReplication, .replicationVerified),
            (.liftFence, .fenceLifted), (.runSwitchCommand, .switchCommandSucceeded),
            (.runSwitchCommand, .switchCommandFailed), (.observeWrites, .writeObserved),
            (.observeWrites, .noWriteObserved):
            return true
        case (.readPosition(let asked), .positionRead(let read, _)):
            return asked == read
        default:
            return false
        }
    }
}
