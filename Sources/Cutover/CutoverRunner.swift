import Foundation
import Synchronization
public import Logging

/// Drives a `CutoverStateMachine`: performs each action with a ``CutoverExecutor``, journals the action before it
/// starts and its outcome when it ends, feeds the outcome back, and publishes progress on ``events``.
///
/// Use ``requestGracefulShutdown()`` (the CLI calls it on SIGINT/SIGTERM) to stop a run: before the point of no
/// return it rolls back (a drain or catch-up wait in flight ends at once), after it the step in flight finishes, the
/// cheap safety steps still run (durable fence, ProxySQL variables, SAVE) and the run stops with the replication
/// steps left for ``resume(from:)``.
/// Cancelling the task that runs ``run()`` is a hard stop that may leave work half done: prefer the graceful path.
public actor CutoverRunner {
    /// What to run.
    public struct Configuration: Sendable {
        /// The operation to run.
        public var operation: CutoverOperation
        /// The bounds of the run.
        public var policy: CutoverPolicy
        /// Identifies the topology; journaled, and checked on resume.
        public var topologyFingerprint: String

        /// Creates a configuration.
        public init(operation: CutoverOperation, policy: CutoverPolicy, topologyFingerprint: String) {
            self.operation = operation
            self.policy = policy
            self.topologyFingerprint = topologyFingerprint
        }
    }

    /// What this runner runs.
    public nonisolated let configuration: Configuration
    /// The run's identifier (`20261121T061500Z-3fa9c2d1`), journaled with every line. ``resume(from:)``
    /// continues the journaled run under that run's identifier (the report carries it), whatever this one is.
    public nonisolated let runID: String
    /// The identifier the entries are journaled under: ``runID``, or the resumed run's.
    private var journaledRunID: String
    /// Progress of the run, finished when the run ends.
    public nonisolated let events: AsyncStream<CutoverProgress>

    private let continuation: AsyncStream<CutoverProgress>.Continuation
    private let executor: any CutoverExecutor
    private let journal: CutoverJournal?
    private let clockElapsed: @Sendable () -> Duration
    private let clockSleep: @Sendable (Duration) async throws -> Void
    /// The policy the machine runs under: the configuration's, or the journaled one on resume. Handed to the executor
    /// in the execution context.
    private var runPolicy: CutoverPolicy
    private var elapsedBase: Duration = .zero
    private let logger: Logger
    private var machine = CutoverStateMachine()
    private var shutdownRequested = false
    /// The same request, readable by executors while an action runs (``CutoverExecutionContext/isStopRequested``).
    private let stopFlag = StopFlag()
    private var shutdownFed = false
    private var started = false

    /// Creates a runner.
    ///
    /// - Parameters:
    ///   - configuration: the operation, its policy and the topology fingerprint.
    ///   - executor: performs the actions (live, fake, or dry run).
    ///   - journal: where every action and outcome is appended; nil for none (dry runs, tests).
    ///   - clock: the clock event times are read from (tests pass a manual clock).
    ///   - logger: `debug` for decisions; the journal is the audit record.
    ///   - runID: the run's identifier; nil for a new one made of the UTC time and a random suffix.
    public init<C: Clock>(
        configuration: Configuration,
        executor: any CutoverExecutor,
        journal: CutoverJournal?,
        clock: C,
        logger: Logger,
        runID: String? = nil
    ) where C.Duration == Duration {
        self.configuration = configuration
        self.executor = executor
        self.journal = journal
        let start = clock.now
        self.clockElapsed = { start.duration(to: clock.now) }
        self.clockSleep = { try await clock.sleep(for: $0) }
        self.runPolicy = configuration.policy
        var logger = logger
        let runID = runID ?? Self.makeRunID()
        logger[metadataKey: "cutover.run_id"] = "\(runID)"
        logger[metadataKey: "cutover.operation"] = "\(configuration.operation)"
        self.logger = logger
        self.runID = runID
        self.journaledRunID = runID
        (events, continuation) = AsyncStream.makeStream(of: CutoverProgress.self, bufferingPolicy: .unbounded)
    }

    /// Creates a runner on the continuous clock.
    public init(
        configuration: Configuration,
        executor: any CutoverExecutor,
        journal: CutoverJournal?,
        logger: Logger,
        runID: String? = nil
    ) {
        self.init(
            configuration: configuration,
            executor: executor,
            journal: journal,
            clock: ContinuousClock(),
            logger: logger,
            runID: runID
        )
    }

    /// Asks the run to stop safely (see the type's documentation). Safe to call at any time, more than once.
    public func requestGracefulShutdown() {
        guard !shutdownRequested else { return }
        shutdownRequested = true
        stopFlag.set()
        continuation.yield(.shutdownRequested(at: elapsed()))
        logger.debug("graceful shutdown requested", metadata: ["cutover.phase": "\(machine.currentStep ?? "-")"])
    }

    /// Runs the operation from the start.
    ///
    /// - Returns: the outcome (completed, refused, rolled back, or stopped after the point of no return) and timeline.
    /// - Throws: ``CutoverError`` only when the run cannot start (for example the journal cannot be written);
    ///   failures of steps are outcomes, not errors.
    public func run() async throws -> CutoverReport {
        precondition(!started, "a CutoverRunner runs once")
        started = true
        if let unfinished = journal?.unfinishedRunAtOpen {
            throw Self.unfinishedRunError(
                unfinished, journalPath: journal?.path ?? "", unreadableEnd: journal?.unfinishedRunEndUnreadable)
        }
        var entry = makeEntry(.runStarted)
        entry.operation = configuration.operation
        entry.policy = configuration.policy
        entry.topologyFingerprint = configuration.topologyFingerprint
        try await journal?.append(entry)
        continuation.yield(.runStarted(runID: runID, operation: configuration.operation))
        let first = machine.started(operation: configuration.operation, policy: configuration.policy)
        return await drive(from: first)
    }

    /// Resumes the unfinished run recorded in `entries` (read with ``CutoverJournal/read(path:)``): its events are
    /// replayed into a fresh state machine, then the run continues as
    /// `CutoverStateMachine.resumeAfterInterruption(actionJournaled:)` decides.
    ///
    /// - Throws: ``CutoverError``: ``CutoverError/Code/nothingToResume`` when every run in the journal finished,
    ///   ``CutoverError/Code/journalMismatch`` when the unfinished run is of another topology or operation or its
    ///   entries do not replay (edited, cut short, or written by another version; see ``JournalRecord``),
    ///   ``CutoverError/Code/unsupportedJournalVersion`` when an entry is of a later format.
    public func resume(from entries: [JournalRecord]) async throws -> CutoverReport {
        precondition(!started, "a CutoverRunner runs once")
        started = true
        guard let run = CutoverJournal.unfinishedRun(in: entries), let header = run.first else {
            throw CutoverError(
                code: .nothingToResume,
                message: "the journal has no unfinished run",
                remedy: "start a new operation instead"
            )
        }
        guard header.topologyFingerprint == configuration.topologyFingerprint else {
            throw CutoverError(
                code: .journalMismatch,
                message: "the unfinished run \(header.runID) was planned for another topology",
                remedy: "resume with the configuration that started it, or move the journal aside"
            )
        }
        guard let operation = header.operation, operation == configuration.operation, let policy = header.policy else {
            throw CutoverError(
                code: .journalMismatch,
                message: "the unfinished run \(header.runID) is a \(header.operation?.rawValue ?? "unknown") operation, not \(configuration.operation)",
                remedy: "resume it as \(header.operation?.rawValue ?? "recorded")"
            )
        }
        // A resume appends to the same run, so that the journal shows one run and a later resume finds all of it.
        journaledRunID = header.runID
        // The journaled policy wins: the machine replays and continues under it, and the executor gets it too.
        runPolicy = policy
        // Replay, validating every entry: a journal that does not fit is refused, never a crash.
        let replay = try JournalReplay(run: run, operation: operation, policy: policy)
        machine = replay.machine
        // Continue the run's clock from where the journal left it.
        if let last = run.last {
            let gap = JournalRecord.date(fromTimestamp: last.time).map { max(0, Date().timeIntervalSince($0)) } ?? 0
            elapsedBase = .microseconds(last.elapsedMicroseconds) + .milliseconds(Int64(gap * 1000))
        }
        continuation.yield(.runStarted(runID: header.runID, operation: operation))
        continuation.yield(.note("resuming run \(header.runID) at step \(machine.currentStep ?? "end")"))
        let action = machine.resumeAfterInterruption(actionJournaled: replay.actionJournaled)
        return await drive(from: action)
    }

    // MARK: Private

    private func elapsed() -> Duration { elapsedBase + clockElapsed() }

    private func drive(from first: CutoverAction) async -> CutoverReport {
        var action = first
        var inRollback = false
        while true {
            if case .finish(let outcome) = action {
                return await finish(outcome)
            }
            if case .wait = action {
                preconditionFailure("the state machine asked to wait with no action in flight")
            }
            let step = machine.currentStep ?? "-"
            if step.isRollback, !inRollback {
                inRollback = true
                continuation.yield(.rollbackStarted(reason: rollbackReason(), at: elapsed()))
            }
            var actionEntry = makeEntry(.action)
            actionEntry.step = step
            actionEntry.action = action
            actionEntry.pastPointOfNoReturn = machine.isPastPointOfNoReturn
            let result: CutoverStepResult
            var journaled = true
            do {
                try await journal?.append(actionEntry, durable: Self.changesServers(action))
            } catch {
                journaled = false
                noteJournalFailure(error, step: step)
            }
            if journaled || inRollback {
                // A rollback step runs even when its intent could not be journaled (disk full, I/O error): putting
                // the starting routing back matters more than the audit line, and the outcome says it is missing.
                continuation.yield(.stepStarted(step: step.rawValue, action: Self.describe(action), at: elapsed()))
                logger.debug("step started", metadata: ["cutover.phase": "\(step)"])
                result = await executor.perform(action, context: executionContext())
            } else {
                // Without a journal entry a forward step must not run: treat it as a failed step (which rolls back
                // before the point of no return).
                result = CutoverStepResult(
                    event: .stepFailed(
                        StepFailure(step: step.rawValue, message: "journal write failed: \(journalFailure ?? "unknown error")"),
                        at: elapsed()
                    )
                )
            }
            if shutdownRequested, !shutdownFed {
                shutdownFed = true
                await record(.gracefulShutdownRequested, step: step, statements: [])
                _ = machine.receive(.gracefulShutdownRequested)
            }
            await record(result.event, step: step, statements: result.statements)
            continuation.yield(.stepFinished(step: step.rawValue, outcome: Self.describe(result.event), at: elapsed()))
            let wasPast = machine.isPastPointOfNoReturn
            action = machine.receive(result.event)
            if !wasPast, machine.isPastPointOfNoReturn {
                continuation.yield(.pointOfNoReturnPassed(at: elapsed()))
                logger.debug("point of no return passed", metadata: ["cutover.phase": "\(step)"])
            }
        }
    }

    /// Whether `action` changes a server (ProxySQL or a database), so its journal entry must be on disk before it
    /// runs. Reads (guards, the pin settle, drain polls, positions, catch-up waits, replication checks) need not
    /// be: a power cut that loses their entries reads as a crash before them. One `fsync` fewer per read step
    /// inside the write window.
    static func changesServers(_ action: CutoverAction) -> Bool {
        switch action {
        case .runGuards, .settleAutoIncrementPins, .settleReplication, .pollDrain, .readPosition, .proveFenceHeld, .waitForCatchUp,
            .verifyReplication,
            .wait, .finish:
            return false
        case .prepareProxy, .setStatus, .watchNewWriter, .closeSessions, .fence, .liftFence, .stopReplication, .startReplication,
            .persistReadOnly, .restoreProxySettings, .saveProxyConfiguration:
            return true
        }
    }

    private func rollbackReason() -> String {
        if case .stepFailed(let failure, _)? = lastFailure { return failure.description }
        // A resume that rolls back an interrupted run, or any other reason the machine gave.
        if let reason = machine.rollbackReason { return reason }
        return shutdownRequested ? "shutdown requested" : "a step failed before the point of no return"
    }

    private var lastFailure: CutoverEvent?
    /// The first journal write that failed in this run, if any (the outcome says so).
    private var journalFailure: String?

    private func noteJournalFailure(_ error: any Error, step: StepID) {
        let text = (error as? CutoverError)?.message ?? "\(error)"
        if journalFailure == nil { journalFailure = text }
        logger.warning("journal write failed", metadata: ["cutover.phase": "\(step)", "error": "\(text)"])
        continuation.yield(.note("journal write failed at step \(step): \(text)"))
    }

    private func record(_ event: CutoverEvent, step: StepID, statements: [ExecutedStatement]) async {
        if case .stepFailed = event { lastFailure = event }
        var entry = makeEntry(.event)
        entry.step = step
        entry.event = event
        entry.statements = statements.isEmpty ? nil : statements
        do {
            // Not flushed on its own: the next action that changes a server (or the end of the run) flushes it.
            // Lost in a power cut, it reads as a crash before the outcome, which `resume` handles.
            try await journal?.append(entry, durable: false)
        } catch {
            noteJournalFailure(error, step: step)
        }
    }

    private func finish(_ outcome: CutoverOutcome) async -> CutoverReport {
        let outcome = Self.outcome(outcome, journalFailure: journalFailure)
        let timeline = machine.timeline
        var entry = makeEntry(.runFinished)
        entry.outcome = outcome
        entry.timeline = timeline
        do {
            try await journal?.append(entry)
        } catch {
            continuation.yield(.note("journal write failed at the end of the run: \(error)"))
        }
        continuation.yield(.runFinished(outcome: outcome, timeline: timeline))
        continuation.finish()
        return CutoverReport(
            runID: journaledRunID,
            operation: configuration.operation,
            outcome: outcome,
            timeline: timeline,
            journalPath: journal?.path
        )
    }

    private func executionContext() -> CutoverExecutionContext {
        let base = elapsedBase
        let clockElapsed = clockElapsed
        let continuation = continuation
        let stopFlag = stopFlag
        return CutoverExecutionContext(
            elapsed: { base + clockElapsed() },
            report: { continuation.yield($0) },
            logger: logger,
            isStopRequested: { stopFlag.isSet },
            policy: runPolicy,
            sleep: clockSleep,
            journalHistory: journal?.historyAtOpen
        )
    }

    private func makeEntry(_ kind: JournalRecord.Kind) -> JournalRecord {
        let offset = elapsed()
        let (seconds, attoseconds) = offset.components
        return JournalRecord(
            sequence: 0,
            runID: journaledRunID,
            kind: kind,
            time: JournalRecord.now(),
            elapsedMicroseconds: seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        )
    }

    static func makeRunID() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(formatter.string(from: Date()))-\(suffix)"
    }

    /// A short human description of an action (no secrets: actions carry none).
    public static func describe(_ action: CutoverAction) -> String {
        switch action {
        case .runGuards(let operation): "check guards for \(operation)"
        case .prepareProxy(let retries, let relax):
            "prepare ProxySQL" + (retries ? " (query retries off)" : "") + (relax ? " (auto-increment pin relaxed)" : "")
        case .settleAutoIncrementPins(let server, let timeout, _):
            "let auto-increment pins on \(server) run out before OFFLINE_SOFT (at most \(timeout))"
        case .settleReplication(let role, let source, let threshold, let timeout):
            "let \(role) come within \(ReplicationSettleObservation.readable(threshold)) of \(source) before OFFLINE_SOFT (at most \(ReplicationSettleObservation.readable(timeout)))"
        case .setStatus(let server, let status): "set \(server) \(status) + LOAD"
        case .watchNewWriter(let role, let watch, _, _, let reloads):
            "watch \(role) writer for SHUNNED (\(ReplicationSettleObservation.readable(watch)), re-LOAD at most \(reloads)×)"
        case .pollDrain(let server, let timeout, _): "drain \(server) (deadline \(timeout))"
        case .closeSessions(let role): "close sessions still on \(role)"
        case .fence(let role, let timeout): "fence \(role) read-only (deadline \(timeout))"
        case .liftFence(let role): "lift the fence on \(role)"
        case .readPosition(let role): "read \(role) binlog position"
        case .proveFenceHeld(let role, let coordinate): "prove the fence held on \(role) (position still \(coordinate))"
        case .waitForCatchUp(let role, let coordinate, let timeout): "wait for \(role) to execute \(coordinate) (deadline \(timeout))"
        case .stopReplication(let role): "stop and reset replication on \(role)"
        case .startReplication(let role, let source, let coordinate): "start replication \(source) → \(role) from \(coordinate)"
        case .verifyReplication(let role): "verify replication on \(role)"
        case .persistReadOnly(let role, let readOnly):
            readOnly ? "keep \(role) read-only across a restart" : "keep \(role) writable across a restart"
        case .restoreProxySettings: "restore ProxySQL variables"
        case .saveProxyConfiguration: "SAVE MYSQL SERVERS TO DISK"
        case .wait: "wait"
        case .finish: "finish"
        }
    }

    /// A short human description of an event.
    public static func describe(_ event: CutoverEvent) -> String {
        switch event {
        case .guardsFinished(let reasons, let pinned, _, _):
            (reasons.isEmpty ? "guards passed" : "guards blocked: \(reasons.map(\.check).joined(separator: ", "))")
                + (pinned.map { $0.isEmpty ? "" : " (\($0.count) session(s) pinned to the old server)" } ?? "")
        case .proxyPrepared: "ProxySQL prepared"
        case .autoIncrementPinsSettled(let server, let stillHeld, _):
            switch stillHeld {
            case 0?: "no session holds \(server) from before the relaxation"
            case let count?: "settle bound reached: \(count) session(s) still hold \(server) (the drain waits for them)"
            case nil: "settle waited its bound (the processlist could not be read)"
            }
        case .replicationSettleEnded(let role, let observation, _):
            // No durations: a dry run's plan must not depend on the clock (the progress and timeline carry them).
            "\(role) settle ended after \(observation.rounds) wait(s)"
                + (observation.stopped ? ", stopped on request" : observation.timedOut ? " at its deadline" : "")
        case .statusSet(let server, let status, _): "\(server) is \(status)"
        case .newWriterWatched(_, let watch, _): "\(watch)"
        case .drained(let server, _): "\(server) drained"
        case .drainEndedWithIdlePins(let server, let holders, _):
            "\(server) held only by idle pins: "
                + DrainClassifier.counts(holders).map { "\($0.1) \($0.0)" }.joined(separator: ", ")
                + " (cut at OFFLINE_HARD)"
        case .drainDeadlinePassed(let server, let holders, _): "\(server) drain deadline passed (\(holders.count) holding)"
        case .drainStopped(let server, let holders, _): "\(server) drain stopped on request (\(holders.count) holding)"
        case .catchUpStopped(let role, _): "\(role) catch-up stopped on request"
        case .sessionsClosed(let role, let count, _): "\(count) session(s) closed on \(role)"
        case .fenced(let role, _): "\(role) fenced"
        case .fenceLifted(let role): "\(role) fence lifted"
        case .positionRead(let role, let coordinate, _): "\(role) at \(coordinate)"
        case .caughtUp(let role, _): "\(role) caught up"
        case .replicationStopped(let role): "replication stopped on \(role)"
        case .replicationStarted(let role): "replication started on \(role)"
        case .replicationVerified(let role): "replication verified on \(role)"
        case .readOnlyPersisted(let role, let durability):
            "\(role) read_only \(durability.readOnly ? "ON" : "OFF")"
                + (durability.persisted ? " (persisted)" : " (until a restart)")
                + (durability.followUp.map { "; to do: \($0)" } ?? "")
        case .proxySettingsRestored: "ProxySQL variables restored"
        case .proxyConfigurationSaved: "ProxySQL configuration saved"
        case .stepFailed(let failure, _): "failed: \(failure)"
        case .gracefulShutdownRequested: "shutdown requested"
        }
    }
}

/// A stop request, set once by the runner's actor and read by executors from any thread.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
