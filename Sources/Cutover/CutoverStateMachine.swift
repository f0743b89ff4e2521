/// The decisions of a cut-over or failback, as a pure state machine: events in (past tense), actions out
/// (imperative). No I/O, no clock (times arrive inside events, as offsets from the start of the run), no logging.
///
/// A ``CutoverRunner`` performs each action with a ``CutoverExecutor``, journals it, and feeds the outcome back as
/// an event. The journal holds the events in its own on-disk form (``JournalRecord``), so a journal can be replayed
/// into a fresh machine to rebuild its state (see ``resumeAfterInterruption(actionJournaled:)``).
///
/// The writer switch crosses a **point of no return** when the new writer is set ONLINE. Before it, any failure,
/// deadline or shutdown request leads to a rollback that restores the starting routing. After it, the machine only
/// moves forward; a failure there is reported with what remains to be done. A reader switch crosses it when the old
/// reader is OFFLINE_HARD (the new reader serves alone): only saving the configuration follows, and it goes forward.
///
/// Internal to the module: the library's callers drive it through ``CutoverRunner`` (issue #17); tests use
/// `@testable import`; the micro benchmarks reach its steps through `BenchmarkedStateMachine`
/// (`@_spi(Benchmarks) import Cutover`). Executors see only its vocabulary, ``CutoverAction`` and ``CutoverEvent``.
struct CutoverStateMachine: Sendable {
    /// What the runner must do next (the executor's vocabulary, public as ``CutoverAction``).
    public typealias Action = CutoverAction

    /// What happened (reported by the runner; public as ``CutoverEvent``).
    public typealias Event = CutoverEvent

    /// One step of an operation, in order.
    enum Step: String, Sendable, Hashable, Codable {
        case guards
        case prepareProxy
        /// Let the auto-increment pins taken before the relaxation run out, outside the window.
        case settlePins
        /// Bring the new writer within ``CutoverPolicy/replicationSettleThreshold`` of the old one, outside the
        /// window.
        case settleReplication
        case offlineSoftOld
        case drainOld
        case offlineHardOld
        case closeSessionsOld
        case fenceOld
        case readFinalPosition
        case catchUp
        case readNewWriterPosition
        case unfenceNew
        case onlineNew
        /// Right after the ONLINE (past the point of no return, outside the window): watch ProxySQL's runtime for the
        /// new writer being `SHUNNED` by clients' failed connects, and re-load where that can spare them ProxySQL's
        /// 1–2 s re-try (``ShunnedWriterRecovery``). Never fails; reported in the timeline.
        case watchNewWriter
        case stopForwardReplication
        /// Read the old writer's position again and prove the fence held: it must equal the final position read at
        /// the fence (``FenceProof``); a difference is a failure naming the extra transactions, and reverse
        /// replication is not started on top of a diverged old writer.
        case proveFenceOld
        case startReverseReplication
        case verifyReverseReplication
        /// The old writer's fence again, after the point of no return, made durable: a restart of the old writer
        /// silently drops a `read_only` set with `SET GLOBAL`, and it is now a replica that must not take writes
        /// (``Action/persistReadOnly(_:readOnly:)``: `SET PERSIST` where possible, option-file lines otherwise).
        case confirmFenceOld
        /// A failback's new writer (the source) writable for good: its fence lifted again and no longer persisted
        /// (`RESET PERSIST`), or the option-file lines to take out.
        case persistUnfenceNew
        case restoreProxy
        case saveConfiguration
        case onlineNewReader
    }

    /// One step of a rollback.
    enum RollbackStep: String, Sendable, Hashable {
        case offlineHardNew
        case refenceNew
        case liftFence
        case onlineOld
        case restoreProxy
    }

    /// What the run has done so far; drives rollbacks and the timeline.
    struct Context: Sendable {
        let operation: CutoverOperation
        let policy: CutoverPolicy
        let steps: [Step]
        var snapshot = ProxySettingsSnapshot()
        var proxyPrepareAttempted = false
        var oldStatusTouched = false
        var newOnlineAttempted = false
        var fenceAttempted = false
        var unfenceNewAttempted = false
        var finalPosition: ReplicationCoordinate?
        var newWriterPosition: ReplicationCoordinate?
        /// The fence proof held once: a resume does not repeat it (reverse replication may have started since, and its
        /// transactions on the old writer are the new writer's, not a leak).
        var fenceProved = false
        var shutdownRequested = false
        var forwardFailures: [StepFailure] = []
        var skipped: Set<Step> = []
        var timeline = CutoverTimeline()
        /// The guards' decision about the auto-increment pin (``AutoIncrementPinPolicy/auto``).
        var autoIncrementPinDecision: AutoIncrementPinDecision?

        /// Whether the window relaxes the auto-increment pin: by policy, or by the guards' evidence.
        var relaxesAutoIncrementPin: Bool {
            switch policy.autoIncrementPin {
            case .keep: false
            case .relax: true
            case .auto: autoIncrementPinDecision?.relax ?? false
            }
        }

        var old: DatabaseRole { operation.from }
        var new: DatabaseRole { operation.to }
        var kind: RoutedServer.Kind { operation.movesWriter ? .writer : .reader }
    }

    enum State: Sendable {
        case initial
        case running(Step, Context)
        case rollingBack([RollbackStep], Context, reason: String, failures: [StepFailure])
        case finished(CutoverOutcome, Context?)
    }

    private var state: State = .initial

    /// Creates a machine; call ``started(operation:policy:)`` first.
    public init() {}

    // MARK: Inputs

    /// Starts an operation; returns the first action.
    public mutating func started(operation: CutoverOperation, policy: CutoverPolicy) -> Action {
        guard case .initial = state else {
            preconditionFailure("started(operation:policy:) called twice on one state machine")
        }
        let context = Context(operation: operation, policy: policy, steps: Self.steps(for: operation, policy: policy))
        return enter(context.steps[0], context)
    }

    /// Feeds the outcome of the last action (or a shutdown request); returns the next action.
    public mutating func receive(_ event: Event) -> Action {
        guard let action = accept(event) else {
            preconditionFailure("event \(event) does not answer \(currentStep.map { "step \($0)" } ?? "the machine's state")")
        }
        return action
    }

    /// Feeds `event` and returns the next action, or nil (leaving the machine as it was) when `event` does not answer
    /// the step in flight: a bug when the runner feeds it (``receive(_:)`` stops then), bad input when it comes from
    /// a journal (``JournalReplay`` refuses it with ``CutoverError/Code/journalMismatch``).
    mutating func accept(_ event: Event) -> Action? {
        switch state {
        case .initial:
            return nil
        case .finished(let outcome, _):
            if case .gracefulShutdownRequested = event { return .finish(outcome) }
            return nil
        case .running(let step, var context):
            if case .gracefulShutdownRequested = event {
                context.shutdownRequested = true
                state = .running(step, context)
                return .wait
            }
            return advance(step, context, event)
        case .rollingBack(let steps, var context, let reason, var failures):
            switch event {
            case .gracefulShutdownRequested:
                return .wait
            case .stepFailed(let failure, _):
                failures.append(failure)
                var remaining = Array(steps.dropFirst())
                if steps.first == .offlineHardNew, context.operation.movesWriter {
                    // The new writer may be ONLINE: putting the old one back (or lifting its fence) could make two
                    // writers. Leave both for the operator. (A reader left ONLINE is harmless: reads have two servers
                    // on that node, and the failure names it.)
                    remaining.removeAll { $0 == .onlineOld || $0 == .liftFence || $0 == .refenceNew }
                    failures.append(
                        StepFailure(
                            step: "rollback",
                            message: "the new writer could not be confirmed OFFLINE_HARD, so the old writer was left offline; check ProxySQL runtime on every node"
                        )
                    )
                }
                return continueRollback(remaining, context, reason: reason, failures: failures)
            case .statusSet(let server, let status, let at):
                if server == .writer(context.old) || server == .reader(context.old), status == .online {
                    context.timeline.mark(.restored, at: at)
                }
                return continueRollback(Array(steps.dropFirst()), context, reason: reason, failures: failures)
            case .fenceLifted, .proxySettingsRestored, .fenced:
                return continueRollback(Array(steps.dropFirst()), context, reason: reason, failures: failures)
            case .guardsFinished, .proxyPrepared, .autoIncrementPinsSettled, .replicationSettleEnded, .newWriterWatched,
                .drained,
                .drainEndedWithIdlePins, .drainDeadlinePassed,
                .drainStopped, .catchUpStopped, .sessionsClosed,
                .positionRead, .caughtUp, .replicationStopped, .replicationStarted, .replicationVerified,
                .readOnlyPersisted, .proxyConfigurationSaved:
                return nil
            }
        }
    }

    /// Rebuilds the next action after the process died, once the journaled events have been fed back with
    /// ``receive(_:)``: before the point of no return the run is rolled back (the interrupted action may or may not
    /// have taken effect, and the rollback covers both); after it, the interrupted step is issued again (every
    /// forward step is idempotent). An interrupted ONLINE of the new writer counts as past the point of no return:
    /// it may have taken effect and writes may have landed there, while going forward is safe (the old writer is
    /// hard-offline and fenced, the new one caught up). A run that stopped after the point of no return (a failed
    /// or interrupted later step) continues from its first remaining step; any other finished run reports its
    /// outcome again.
    ///
    /// A run that died after the last step before the point of no return, with the ONLINE of the new writer **not
    /// journaled** (`actionJournaled` false: so it never ran), is still before the point of no return, but the
    /// old writer may have restarted writable (or ProxySQL reloaded its old routing) while nobody watched: the fence is
    /// established again, the final position read again and the catch-up waited for again before the ONLINE (from
    /// ``Step/offlineHardOld`` on); any failure there rolls back (issue #13, item 3).
    ///
    /// - Parameter actionJournaled: whether the journal holds the action of the step in flight (it may have taken
    ///   effect); true when unknown.
    public mutating func resumeAfterInterruption(actionJournaled: Bool = true) -> Action {
        switch state {
        case .initial:
            preconditionFailure("resumeAfterInterruption() on a machine that never started")
        case .finished(let outcome, let context):
            guard case .stoppedAfterPointOfNoReturn(_, _, let remaining) = outcome, var context,
                let first = context.steps.first(where: { remaining.contains(StepID($0)) })
            else {
                return .finish(outcome)
            }
            // Every forward step is idempotent: run again from the first one that remains.
            context.forwardFailures = []
            context.skipped = []
            context.shutdownRequested = false
            context.timeline.finished = false
            return enter(first, context)
        case .running(let step, let context):
            if step == .onlineNew, !actionJournaled, let first = Self.reverificationStart(context) {
                var context = context
                context.newOnlineAttempted = false  // never journaled, so never performed
                return enter(first, context)
            }
            if isPast(step, context) || step == .onlineNew {
                return action(for: step, context)
            }
            return startRollback(context, reason: "the run was interrupted before the point of no return")
        case .rollingBack(let steps, let context, let reason, let failures):
            return continueRollback(steps, context, reason: reason, failures: failures)
        }
    }

    // MARK: Queries

    /// Whether the new writer has been set ONLINE (a reader switch: the old reader OFFLINE_HARD): from here on the
    /// run only moves forward.
    public var isPastPointOfNoReturn: Bool {
        switch state {
        case .initial: false
        case .running(let step, let context):
            isPast(step, context)
        case .rollingBack: false
        case .finished(let outcome, _): outcome.isPastPointOfNoReturn
        }
    }

    /// Why the run is rolling back, while it is (nil otherwise).
    public var rollbackReason: String? {
        switch state {
        case .rollingBack(_, _, let reason, _): reason
        case .initial, .running, .finished: nil
        }
    }

    /// The measured phases so far.
    public var timeline: CutoverTimeline {
        switch state {
        case .initial: CutoverTimeline()
        case .running(_, let context): context.timeline
        case .rollingBack(_, let context, _, _): context.timeline
        case .finished(_, let context): context?.timeline ?? CutoverTimeline()
        }
    }

    /// The name of the current step (for progress and the journal), or nil before the start and after the end.
    public var currentStep: StepID? {
        switch state {
        case .initial, .finished: nil
        case .running(let step, _): StepID(step)
        case .rollingBack(let steps, _, _, _): steps.first.map(StepID.init)
        }
    }

    /// The operation being run, once started.
    public var operation: CutoverOperation? {
        switch state {
        case .initial: nil
        case .running(_, let context): context.operation
        case .rollingBack(_, let context, _, _): context.operation
        case .finished(_, let context): context?.operation
        }
    }

    // MARK: Steps

    static func steps(for operation: CutoverOperation, policy: CutoverPolicy) -> [Step] {
        if operation.movesWriter {
            var steps: [Step] = [.guards]
            if policy.disableQueryRetries || policy.autoIncrementPin != .keep { steps.append(.prepareProxy) }
            if policy.settlesAutoIncrementPins { steps.append(.settlePins) }
            if policy.settlesReplication { steps.append(.settleReplication) }
            steps += [.offlineSoftOld, .drainOld, .offlineHardOld, .closeSessionsOld]
            // Aurora refuses SET GLOBAL: the old writer can be fenced only when it is the source.
            if policy.fenceOldWriter && operation.from == .source { steps.append(.fenceOld) }
            steps += [.readFinalPosition, .catchUp, .readNewWriterPosition]
            // A failback makes the source the writer again: lift the read-only fence an earlier cut-over left on it.
            if operation.to == .source { steps.append(.unfenceNew) }
            steps.append(.onlineNew)
            if policy.watchesNewWriter { steps.append(.watchNewWriter) }
            steps += [.stopForwardReplication, .proveFenceOld, .startReverseReplication, .verifyReverseReplication]
            if steps.contains(.fenceOld) { steps.append(.confirmFenceOld) }
            if steps.contains(.unfenceNew) { steps.append(.persistUnfenceNew) }
            if policy.disableQueryRetries || policy.autoIncrementPin != .keep { steps.append(.restoreProxy) }
            steps.append(.saveConfiguration)
            return steps
        } else {
            return [.guards, .onlineNewReader, .offlineSoftOld, .drainOld, .offlineHardOld, .saveConfiguration]
        }
    }

    /// The step whose success passes the point of no return: the new writer's ONLINE for a writer switch; for a
    /// reader switch, the old reader's OFFLINE_HARD (the new reader serves alone; only saving the configuration
    /// remains, and a rollback after a save that reached some nodes would leave their disk and runtime apart).
    private static func pointOfNoReturnStep(_ context: Context) -> Step {
        context.operation.movesWriter ? .onlineNew : .offlineHardOld
    }

    private func isPast(_ step: Step, _ context: Context) -> Bool {
        guard let point = context.steps.firstIndex(of: Self.pointOfNoReturnStep(context)),
            let index = context.steps.firstIndex(of: step)
        else { return false }
        return index > point
    }

    /// The action that performs `step`.
    private func action(for step: Step, _ context: Context) -> Action {
        let policy = context.policy
        let old = RoutedServer(context.old, context.kind)
        switch step {
        case .guards:
            return .runGuards(context.operation)
        case .prepareProxy:
            return .prepareProxy(
                disableQueryRetries: policy.disableQueryRetries,
                relaxAutoIncrementPin: context.relaxesAutoIncrementPin
            )
        case .settlePins:
            return .settleAutoIncrementPins(old, timeout: policy.autoIncrementPinSettle, interval: policy.drainPollInterval)
        case .settleReplication:
            return .settleReplication(
                context.new, source: context.old, threshold: policy.replicationSettleThreshold,
                timeout: policy.replicationSettleDeadline)
        case .offlineSoftOld:
            return .setStatus(old, .offlineSoft)
        case .drainOld:
            return .pollDrain(old, timeout: policy.drainDeadline, interval: policy.drainPollInterval)
        case .offlineHardOld:
            return .setStatus(old, .offlineHard)
        case .closeSessionsOld:
            return .closeSessions(context.old)
        case .fenceOld:
            return .fence(context.old, timeout: policy.fenceTimeout)
        case .confirmFenceOld:
            return .persistReadOnly(context.old, readOnly: true)
        case .persistUnfenceNew:
            return .persistReadOnly(context.new, readOnly: false)
        case .readFinalPosition:
            return .readPosition(context.old)
        case .catchUp:
            guard let position = context.finalPosition else {
                preconditionFailure("catch-up step without a final position")
            }
            return .waitForCatchUp(context.new, coordinate: position, timeout: policy.catchUpDeadline)
        case .readNewWriterPosition:
            return .readPosition(context.new)
        case .proveFenceOld:
            guard let position = context.finalPosition else {
                preconditionFailure("fence proof without a final position")
            }
            return .proveFenceHeld(context.old, atFence: position)
        case .unfenceNew:
            return .liftFence(context.new)
        case .onlineNew:
            return .setStatus(.writer(context.new), .online)
        case .watchNewWriter:
            return .watchNewWriter(
                context.new, watch: policy.shunnedWriterWatch, recovery: ShunnedWriterRecovery.defaultRecoveryBound,
                interval: ShunnedWriterRecovery.defaultInterval, maximumReloads: policy.shunnedWriterReloads)
        case .stopForwardReplication:
            return .stopReplication(context.new)
        case .startReverseReplication:
            guard let position = context.newWriterPosition else {
                preconditionFailure("reverse replication step without the new writer's position")
            }
            return .startReplication(context.old, source: context.new, coordinate: position)
        case .verifyReverseReplication:
            return .verifyReplication(context.old)
        case .restoreProxy:
            return .restoreProxySettings(context.snapshot)
        case .saveConfiguration:
            return .saveProxyConfiguration
        case .onlineNewReader:
            return .setStatus(.reader(context.new), .online)
        }
    }

    /// Records that `step` is in flight and returns its action.
    private mutating func enter(_ step: Step, _ context: Context) -> Action {
        var context = context
        if step == .proveFenceOld, context.fenceProved { return next(after: step, context) }
        switch step {
        case .prepareProxy: context.proxyPrepareAttempted = true
        case .offlineSoftOld: context.oldStatusTouched = true
        case .onlineNew, .onlineNewReader: context.newOnlineAttempted = true
        case .fenceOld: context.fenceAttempted = true
        case .unfenceNew: context.unfenceNewAttempted = true
        case .guards, .settlePins, .settleReplication, .drainOld, .offlineHardOld, .closeSessionsOld, .readFinalPosition,
            .catchUp, .readNewWriterPosition, .watchNewWriter, .stopForwardReplication, .proveFenceOld, .startReverseReplication,
            .verifyReverseReplication,
            .confirmFenceOld, .persistUnfenceNew, .restoreProxy, .saveConfiguration:
            break
        }
        state = .running(step, context)
        return action(for: step, context)
    }

    /// Moves to the step after `step`, or finishes.
    mutating func next(after step: Step, _ context: Context) -> Action {
        guard let index = context.steps.firstIndex(of: step) else {
            preconditionFailure("step \(step) is not part of \(context.operation)")
        }
        var context = context
        let past = isPast(step, context) || step == Self.pointOfNoReturnStep(context)
        if context.shutdownRequested {
            if !past {
                return startRollback(context, reason: "shutdown requested")
            }
            // Past the point of no return a stop still runs the cheap steps that keep the switch safe (the durable
            // fence, ProxySQL's variables, SAVE); the replication steps are left for `resume`.
            for later in context.steps[(index + 1)...] where !Self.runsDespiteShutdown(later) {
                context.skipped.insert(later)
            }
        }
        var nextIndex = index + 1
        while nextIndex < context.steps.count,
            context.skipped.contains(context.steps[nextIndex])
                || (context.steps[nextIndex] == .settlePins && !context.relaxesAutoIncrementPin)
        {
            nextIndex += 1
        }
        guard nextIndex < context.steps.count else {
            let remaining = context.steps.filter { context.skipped.contains($0) }.map(StepID.init)
            let outcome: CutoverOutcome =
                context.forwardFailures.isEmpty && remaining.isEmpty
                ? .completed
                : .stoppedAfterPointOfNoReturn(
                    reason: context.shutdownRequested ? "shutdown requested" : "steps after the point of no return failed",
                    failures: context.forwardFailures,
                    remainingSteps: remaining
                )
            context.timeline.finished = true
            state = .finished(outcome, context)
            return .finish(outcome)
        }
        return enter(context.steps[nextIndex], context)
    }

    /// The machine's answer to `event` while `step` is in flight: a failure goes to
    /// ``stepFailed(_:_:_:at:)``; any other event is answered by the part of the run `step` belongs to. nil: the
    /// event does not answer `step` (the caller decides: a bug for the runner, bad journal input).
    private mutating func advance(_ step: Step, _ context: Context, _ event: Event) -> Action? {
        if case .stepFailed(let failure, let at) = event {
            return stepFailed(step, context, failure, at: at)
        }
        switch step {
        case .guards, .prepareProxy, .settlePins, .settleReplication:
            return preparationAnswered(step, context, event)
        case .drainOld:
            return drainAnswered(context, event)
        case .offlineSoftOld, .offlineHardOld, .closeSessionsOld, .fenceOld, .readFinalPosition, .catchUp:
            return windowStepAnswered(step, context, event)
        case .readNewWriterPosition, .unfenceNew, .onlineNew, .onlineNewReader:
            return switchAnswered(step, context, event)
        case .watchNewWriter, .stopForwardReplication, .proveFenceOld, .startReverseReplication,
            .verifyReverseReplication, .confirmFenceOld, .persistUnfenceNew, .restoreProxy, .saveConfiguration:
            return finishingStepAnswered(step, context, event)
        }
    }

    /// A failure: before the point of no return, roll back (or, for the guards, refuse); after it, record it and go
    /// on where that is safe, skipping what depends on the failed step. An ONLINE of the new writer that may have
    /// taken effect on some node is past the point of no return: writes may have landed on the new writer, and a
    /// rollback would strand them (see ``resumeAfterInterruption(actionJournaled:)``).
    private mutating func stepFailed(_ step: Step, _ context: Context, _ failure: StepFailure, at: Duration) -> Action {
        var context = context
        if step == .onlineNew, failure.mayHaveTakenEffect {
            context.timeline.mark(.windowClosed, at: at)
        }
        if isPast(step, context) || (step == .onlineNew && failure.mayHaveTakenEffect) {
            context.forwardFailures.append(failure)
            switch step {
            case .stopForwardReplication:
                // Never start reverse replication while forward replication may still run (a loop).
                context.skipped.insert(.startReverseReplication)
                context.skipped.insert(.verifyReverseReplication)
            case .startReverseReplication:
                context.skipped.insert(.verifyReverseReplication)
            case .proveFenceOld:
                // Unproved fence: reverse replication would run on top of a possibly diverged old writer.
                context.skipped.insert(.startReverseReplication)
                context.skipped.insert(.verifyReverseReplication)
            default:
                break
            }
            context.skipped.insert(step)
            return next(after: step, context)
        }
        if step == .guards {
            let outcome = CutoverOutcome.refused([
                BlockingReason(check: "guards", message: failure.description, remedy: "fix the cause and run again")
            ])
            state = .finished(outcome, context)
            return .finish(outcome)
        }
        context.timeline.mark(.failed, at: at)
        return startRollback(context, reason: failure.description, failures: [])
    }

    /// The steps before the window (guards, ProxySQL's variables, the settles) answered.
    private mutating func preparationAnswered(_ step: Step, _ context: Context, _ event: Event) -> Action? {
        var context = context
        switch (step, event) {
        case (.guards, .guardsFinished(let reasons, _, let proxySettings, let pinDecision)):
            context.autoIncrementPinDecision = pinDecision
            context.timeline.autoIncrementPin = pinDecision
            // The values the window's ProxySQL changes will replace, read by the guards: journaled before the
            // change, so a run that dies between the change and its own outcome can still restore them.
            if let proxySettings { context.snapshot = proxySettings }
            if !reasons.isEmpty {
                let outcome = CutoverOutcome.refused(reasons)
                state = .finished(outcome, context)
                return .finish(outcome)
            }
            return next(after: step, context)

        case (.prepareProxy, .proxyPrepared(let snapshot)):
            context.snapshot = snapshot
            return next(after: step, context)

        case (.settlePins, .autoIncrementPinsSettled(_, _, let at)):
            context.timeline.mark(.pinsSettled, at: at)
            return next(after: step, context)

        case (.settleReplication, .replicationSettleEnded(_, let observation, let at)):
            context.timeline.mark(.settleStarted, at: observation.startedAt)
            context.timeline.replicationSettle = observation
            let policy = context.policy
            switch observation.verdict(
                threshold: policy.replicationSettleThreshold, deadline: policy.replicationSettleDeadline, at: at)
            {
            case .settled:
                context.timeline.mark(.replicationSettled, at: at)
                return next(after: step, context)
            case .stopped:
                context.shutdownRequested = true
                return next(after: step, context)
            case .gaveUp, .waitAgain:
                // `waitAgain` here: the executor ended early without settling; it did not settle either way.
                context.timeline.mark(.failed, at: at)
                return startRollback(context, reason: observation.refusal(of: context.new, policy: policy))
            }

        default:
            // An event that does not answer `step`: the caller decides (a bug for the runner, bad journal input).
            return nil
        }
    }

    /// How the drain ended: every session let go (or only idle pins, cut at OFFLINE_HARD); the deadline passed, which
    /// ``DrainDeadlinePolicy`` turns into a rollback or a forced drain; or a stop request ended it early.
    private mutating func drainAnswered(_ context: Context, _ event: Event) -> Action? {
        var context = context
        switch event {
        case .drained(_, let at):
            context.timeline.mark(.drained, at: at)
            return next(after: .drainOld, context)

        case .drainEndedWithIdlePins(_, let holders, let at):
            context.timeline.mark(.drained, at: at)
            context.timeline.idlePinsCut = holders
            return next(after: .drainOld, context)

        case .drainDeadlinePassed(_, let holders, let at):
            context.timeline.mark(.drained, at: at)
            context.timeline.holdersAtDeadline = holders
            switch context.policy.drainDeadlinePolicy {
            case .rollBack:
                return startRollback(
                    context,
                    reason: "drain did not finish within \(context.policy.drainDeadline) (\(holders.count) session(s) held on)",
                    failures: []
                )
            case .force:
                context.timeline.forcedDrain = true
                return next(after: .drainOld, context)
            }

        case .drainStopped(_, _, let at):
            // Only a stop request ends a drain early: the run stops as for any stop (a rollback before the point of
            // no return). The flag is set again in case a journal lacks the request's own entry.
            context.timeline.mark(.drained, at: at)
            context.shutdownRequested = true
            return next(after: .drainOld, context)

        default:
            // An event that does not answer the drain: the caller decides (a bug for the runner, bad journal input).
            return nil
        }
    }

    /// The window's steps up to catch-up answered (the drain aside): the old writer leaves service, is cut off and
    /// fenced, its final position is read and the new writer catches up to it.
    private mutating func windowStepAnswered(_ step: Step, _ context: Context, _ event: Event) -> Action? {
        var context = context
        switch (step, event) {
        case (.offlineSoftOld, .statusSet(let server, .offlineSoft, let at)) where server.role == context.old:
            context.timeline.mark(.windowOpened, at: at)
            return next(after: step, context)

        case (.offlineHardOld, .statusSet(let server, .offlineHard, let at)) where server.role == context.old:
            context.timeline.mark(.hardOffline, at: at)
            return next(after: step, context)

        case (.closeSessionsOld, .sessionsClosed(_, let count, let at)):
            context.timeline.sessionsCut = count
            context.timeline.mark(.sessionsClosed, at: at)
            return next(after: step, context)

        case (.fenceOld, .fenced(_, let at)):
            context.timeline.mark(.fenced, at: at)
            return next(after: step, context)

        case (.readFinalPosition, .positionRead(let role, let coordinate, let at)) where role == context.old:
            context.finalPosition = coordinate
            context.timeline.finalPosition = coordinate
            context.timeline.mark(.finalPositionRead, at: at)
            return next(after: step, context)

        case (.catchUp, .caughtUp(_, let at)):
            context.timeline.mark(.caughtUp, at: at)
            return next(after: step, context)

        case (.catchUp, .catchUpStopped(_, let at)):
            // As a stopped drain: not caught up, so the run cannot go forward; it rolls back for the stop.
            context.timeline.mark(.failed, at: at)
            context.shutdownRequested = true
            return next(after: step, context)

        default:
            // An event that does not answer `step`: the caller decides (a bug for the runner, bad journal input).
            return nil
        }
    }

    /// The switch itself answered: the new writer's position, its fence lifted (a failback), its ONLINE (the point of
    /// no return of a writer switch), or the new reader's ONLINE.
    private mutating func switchAnswered(_ step: Step, _ context: Context, _ event: Event) -> Action? {
        var context = context
        switch (step, event) {
        case (.readNewWriterPosition, .positionRead(let role, let coordinate, let at)) where role == context.new:
            context.newWriterPosition = coordinate
            context.timeline.newWriterPosition = coordinate
            context.timeline.mark(.newWriterPositionRead, at: at)
            return next(after: step, context)

        case (.unfenceNew, .fenceLifted):
            return next(after: step, context)

        case (.onlineNew, .statusSet(let server, .online, let at)) where server == .writer(context.new):
            context.timeline.mark(.windowClosed, at: at)
            return next(after: step, context)

        case (.onlineNewReader, .statusSet(let server, .online, let at)) where server == .reader(context.new):
            context.timeline.mark(.newReaderOnline, at: at)
            return next(after: step, context)

        default:
            // An event that does not answer `step`: the caller decides (a bug for the runner, bad journal input).
            return nil
        }
    }

    /// The steps after the switch answered: the fence proof, replication turned around, the durable fences,
    /// ProxySQL's variables restored and its configuration saved.
    private mutating func finishingStepAnswered(_ step: Step, _ context: Context, _ event: Event) -> Action? {
        var context = context
        switch (step, event) {
        case (.proveFenceOld, .positionRead(let role, let coordinate, let at)) where role == context.old:
            return proveFence(context, now: coordinate, at: at)

        case (.watchNewWriter, .newWriterWatched(let role, let watch, _)) where role == context.new:
            context.timeline.newWriterWatch = watch
            if let followUp = ShunnedWriterRecovery.followUp(watch), !context.timeline.followUps.contains(followUp) {
                context.timeline.followUps.append(followUp)
            }
            return next(after: step, context)

        case (.confirmFenceOld, .fenced):
            // Journals written before the fence was made durable.
            return next(after: step, context)

        case (.confirmFenceOld, .readOnlyPersisted(_, let durability)),
            (.persistUnfenceNew, .readOnlyPersisted(_, let durability)):
            if let followUp = durability.followUp, !context.timeline.followUps.contains(followUp) {
                context.timeline.followUps.append(followUp)
            }
            return next(after: step, context)

        case (.stopForwardReplication, .replicationStopped),
            (.startReverseReplication, .replicationStarted),
            (.verifyReverseReplication, .replicationVerified),
            (.restoreProxy, .proxySettingsRestored),
            (.saveConfiguration, .proxyConfigurationSaved):
            return next(after: step, context)

        default:
            // An event that does not answer `step`: the caller decides (a bug for the runner, bad journal input).
            return nil
        }
    }

    // MARK: Rollback

    private mutating func startRollback(_ context: Context, reason: String, failures: [StepFailure] = []) -> Action {
        var steps: [RollbackStep] = []
        if context.operation.movesWriter {
            if context.newOnlineAttempted { steps.append(.offlineHardNew) }
            if context.unfenceNewAttempted { steps.append(.refenceNew) }
            if context.fenceAttempted { steps.append(.liftFence) }
            if context.oldStatusTouched { steps.append(.onlineOld) }
            if context.proxyPrepareAttempted { steps.append(.restoreProxy) }
        } else {
            // Readers: put the old reader back first so reads always have somewhere to go.
            if context.oldStatusTouched { steps.append(.onlineOld) }
            if context.newOnlineAttempted { steps.append(.offlineHardNew) }
        }
        return continueRollback(steps, context, reason: reason, failures: failures)
    }

    private mutating func continueRollback(
        _ steps: [RollbackStep],
        _ context: Context,
        reason: String,
        failures: [StepFailure]
    ) -> Action {
        guard let step = steps.first else {
            let outcome = CutoverOutcome.rolledBack(reason: reason, failures: failures)
            state = .finished(outcome, context)
            return .finish(outcome)
        }
        state = .rollingBack(steps, context, reason: reason, failures: failures)
        switch step {
        case .offlineHardNew:
            return .setStatus(RoutedServer(context.new, context.kind), .offlineHard)
        case .refenceNew:
            return .fence(context.new, timeout: context.policy.fenceTimeout)
        case .liftFence:
            return .liftFence(context.old)
        case .onlineOld:
            return .setStatus(RoutedServer(context.old, context.kind), .online)
        case .restoreProxy:
            return .restoreProxySettings(context.snapshot)
        }
    }
}

/// How a run ended.
public enum CutoverOutcome: Sendable, Hashable, Codable {
    /// Every step succeeded.
    case completed
    /// The guards refused to start; nothing was changed.
    case refused([BlockingReason])
    /// A failure, deadline or interruption before the point of no return; the starting routing was restored
    /// (unless `failures` says otherwise).
    case rolledBack(reason: String, failures: [StepFailure])
    /// The new writer took writes, but later steps failed or were interrupted: finish them with `resume`.
    case stoppedAfterPointOfNoReturn(reason: String, failures: [StepFailure], remainingSteps: [StepID])

    /// Whether the run got past the point of no return.
    public var isPastPointOfNoReturn: Bool {
        switch self {
        case .completed, .stoppedAfterPointOfNoReturn: true
        case .refused, .rolledBack: false
        }
    }
}
