/// The one place the journal's payloads and the state machine's values meet: from the machine to the journal every
/// value maps (writing cannot fail), from the journal to the machine only what this version can read
/// (``JournalPayloadMismatch`` otherwise, which ``JournalReplay`` turns into ``CutoverError/Code/journalMismatch``).
struct JournalPayloadMismatch: Error, Sendable, CustomStringConvertible {
    /// Which payload (`event teleported`) and why it cannot be read.
    var description: String

    init(_ kind: String, _ name: String, _ reason: String) {
        description = "its \(kind) \(name) cannot be read by this version (\(reason))"
    }
}

extension JournalActionPayload {
    /// The journal's form of `action`.
    init(_ action: CutoverAction) {
        switch action {
        case .runGuards(let operation): self = .runGuards(operation)
        case .prepareProxy(let retries, let relax): self = .prepareProxy(disableQueryRetries: retries, relaxAutoIncrementPin: relax)
        case .settleAutoIncrementPins(let server, let timeout, let interval):
            self = .settleAutoIncrementPins(server, timeout: timeout, interval: interval)
        case .settleReplication(let role, let source, let threshold, let timeout):
            self = .settleReplication(role, source: source, threshold: threshold, timeout: timeout)
        case .setStatus(let server, let status): self = .setStatus(server, status)
        case .watchNewWriter(let role, let watch, let recovery, let interval, let maximumReloads):
            self = .watchNewWriter(role, watch: watch, recovery: recovery, interval: interval, maximumReloads: maximumReloads)
        case .pollDrain(let server, let timeout, let interval): self = .pollDrain(server, timeout: timeout, interval: interval)
        case .closeSessions(let role): self = .closeSessions(role)
        case .fence(let role, let timeout): self = .fence(role, timeout: timeout)
        case .liftFence(let role): self = .liftFence(role)
        case .readPosition(let role): self = .readPosition(role)
        case .proveFenceHeld(let role, let atFence): self = .proveFenceHeld(role, atFence: atFence)
        case .waitForCatchUp(let role, let coordinate, let timeout):
            self = .waitForCatchUp(role, coordinate: coordinate, timeout: timeout)
        case .stopReplication(let role): self = .stopReplication(role)
        case .startReplication(let role, let source, let coordinate):
            self = .startReplication(role, source: source, coordinate: coordinate)
        case .verifyReplication(let role): self = .verifyReplication(role)
        case .persistReadOnly(let role, let readOnly): self = .persistReadOnly(role, readOnly: readOnly)
        case .restoreProxySettings(let snapshot): self = .restoreProxySettings(snapshot)
        case .saveProxyConfiguration: self = .saveProxyConfiguration
        case .wait: self = .wait
        case .finish(let outcome): self = .finish(JournalOutcomePayload(outcome))
        }
    }

    /// The machine's action, or why this version cannot read it.
    func machineAction() throws(JournalPayloadMismatch) -> CutoverAction {
        switch self {
        case .runGuards(let operation): return .runGuards(operation)
        case .prepareProxy(let retries, let relax):
            return .prepareProxy(disableQueryRetries: retries, relaxAutoIncrementPin: relax)
        case .settleAutoIncrementPins(let server, let timeout, let interval):
            return .settleAutoIncrementPins(server, timeout: timeout, interval: interval)
        case .settleReplication(let role, let source, let threshold, let timeout):
            return .settleReplication(role, source: source, threshold: threshold, timeout: timeout)
        case .setStatus(let server, let status): return .setStatus(server, status)
        case .watchNewWriter(let role, let watch, let recovery, let interval, let maximumReloads):
            return .watchNewWriter(role, watch: watch, recovery: recovery, interval: interval, maximumReloads: maximumReloads)
        case .pollDrain(let server, let timeout, let interval): return .pollDrain(server, timeout: timeout, interval: interval)
        case .closeSessions(let role): return .closeSessions(role)
        case .fence(let role, let timeout): return .fence(role, timeout: timeout)
        case .liftFence(let role): return .liftFence(role)
        case .readPosition(let role): return .readPosition(role)
        case .proveFenceHeld(let role, let atFence): return .proveFenceHeld(role, atFence: atFence)
        case .waitForCatchUp(let role, let coordinate, let timeout):
            return .waitForCatchUp(role, coordinate: coordinate, timeout: timeout)
        case .stopReplication(let role): return .stopReplication(role)
        case .startReplication(let role, let source, let coordinate):
            return .startReplication(role, source: source, coordinate: coordinate)
        case .verifyReplication(let role): return .verifyReplication(role)
        case .persistReadOnly(let role, let readOnly): return .persistReadOnly(role, readOnly: readOnly)
        case .restoreProxySettings(let snapshot): return .restoreProxySettings(snapshot)
        case .saveProxyConfiguration: return .saveProxyConfiguration
        case .wait: return .wait
        case .finish(let outcome):
            do { return .finish(try outcome.machineOutcome()) } catch { throw JournalPayloadMismatch("action", "finish", "\(error)") }
        case .unreadable(let name, let reason): throw JournalPayloadMismatch("action", name, reason)
        }
    }
}

extension JournalEventPayload {
    /// The journal's form of `event`.
    init(_ event: CutoverEvent) {
        switch event {
        case .guardsFinished(let reasons, let pinned, let settings, let pin):
            self = .guardsFinished(blockingReasons: reasons, pinnedSessions: pinned, proxySettings: settings, autoIncrementPin: pin)
        case .proxyPrepared(let snapshot): self = .proxyPrepared(snapshot)
        case .autoIncrementPinsSettled(let server, let stillHeld, let at): self = .autoIncrementPinsSettled(server, stillHeld: stillHeld, at: at)
        case .replicationSettleEnded(let role, let observation, let at): self = .replicationSettleEnded(role, observation, at: at)
        case .statusSet(let server, let status, let at): self = .statusSet(server, status, at: at)
        case .newWriterWatched(let role, let watch, let at): self = .newWriterWatched(role, watch, at: at)
        case .drained(let server, let at): self = .drained(server, at: at)
        case .drainEndedWithIdlePins(let server, let holders, let at): self = .drainEndedWithIdlePins(server, holders: holders, at: at)
        case .drainDeadlinePassed(let server, let holders, let at): self = .drainDeadlinePassed(server, holders: holders, at: at)
        case .drainStopped(let server, let holders, let at): self = .drainStopped(server, holders: holders, at: at)
        case .catchUpStopped(let role, let at): self = .catchUpStopped(role, at: at)
        case .sessionsClosed(let role, let count, let at): self = .sessionsClosed(role, count: count, at: at)
        case .fenced(let role, let at): self = .fenced(role, at: at)
        case .fenceLifted(let role): self = .fenceLifted(role)
        case .positionRead(let role, let coordinate, let at): self = .positionRead(role, coordinate, at: at)
        case .caughtUp(let role, let at): self = .caughtUp(role, at: at)
        case .replicationStopped(let role): self = .replicationStopped(role)
        case .replicationStarted(let role): self = .replicationStarted(role)
        case .replicationVerified(let role): self = .replicationVerified(role)
        case .readOnlyPersisted(let role, let durability): self = .readOnlyPersisted(role, durability)
        case .proxySettingsRestored: self = .proxySettingsRestored
        case .proxyConfigurationSaved: self = .proxyConfigurationSaved
        case .stepFailed(let failure, let at): self = .stepFailed(failure, at: at)
        case .gracefulShutdownRequested: self = .gracefulShutdownRequested
        }
    }

    /// The machine's event, or why this version cannot read it.
    func machineEvent() throws(JournalPayloadMismatch) -> CutoverEvent {
        switch self {
        case .guardsFinished(let reasons, let pinned, let settings, let pin):
            return .guardsFinished(blockingReasons: reasons, pinnedSessions: pinned, proxySettings: settings, autoIncrementPin: pin)
        case .proxyPrepared(let snapshot): return .proxyPrepared(snapshot)
        case .autoIncrementPinsSettled(let server, let stillHeld, let at): return .autoIncrementPinsSettled(server, stillHeld: stillHeld, at: at)
        case .replicationSettleEnded(let role, let observation, let at): return .replicationSettleEnded(role, observation, at: at)
        case .statusSet(let server, let status, let at): return .statusSet(server, status, at: at)
        case .newWriterWatched(let role, let watch, let at): return .newWriterWatched(role, watch, at: at)
        case .drained(let server, let at): return .drained(server, at: at)
        case .drainEndedWithIdlePins(let server, let holders, let at): return .drainEndedWithIdlePins(server, holders: holders, at: at)
        case .drainDeadlinePassed(let server, let holders, let at): return .drainDeadlinePassed(server, holders: holders, at: at)
        case .drainStopped(let server, let holders, let at): return .drainStopped(server, holders: holders, at: at)
        case .catchUpStopped(let role, let at): return .catchUpStopped(role, at: at)
        case .sessionsClosed(let role, let count, let at): return .sessionsClosed(role, count: count, at: at)
        case .fenced(let role, let at): return .fenced(role, at: at)
        case .fenceLifted(let role): return .fenceLifted(role)
        case .positionRead(let role, let coordinate, let at): return .positionRead(role, coordinate, at: at)
        case .caughtUp(let role, let at): return .caughtUp(role, at: at)
        case .replicationStopped(let role): return .replicationStopped(role)
        case .replicationStarted(let role): return .replicationStarted(role)
        case .replicationVerified(let role): return .replicationVerified(role)
        case .readOnlyPersisted(let role, let durability): return .readOnlyPersisted(role, durability)
        case .proxySettingsRestored: return .proxySettingsRestored
        case .proxyConfigurationSaved: return .proxyConfigurationSaved
        case .stepFailed(let failure, let at): return .stepFailed(failure, at: at)
        case .gracefulShutdownRequested: return .gracefulShutdownRequested
        case .unreadable(let name, let reason): throw JournalPayloadMismatch("event", name, reason)
        }
    }
}

extension JournalOutcomePayload {
    /// The journal's form of `outcome`.
    init(_ outcome: CutoverOutcome) {
        switch outcome {
        case .completed: self = .completed
        case .refused(let reasons): self = .refused(reasons)
        case .rolledBack(let reason, let failures): self = .rolledBack(reason: reason, failures: failures)
        case .stoppedAfterPointOfNoReturn(let reason, let failures, let remaining):
            self = .stoppedAfterPointOfNoReturn(reason: reason, failures: failures, remainingSteps: remaining)
        }
    }

    /// The outcome, or why this version cannot read it.
    func machineOutcome() throws(JournalPayloadMismatch) -> CutoverOutcome {
        switch self {
        case .completed: return .completed
        case .refused(let reasons): return .refused(reasons)
        case .rolledBack(let reason, let failures): return .rolledBack(reason: reason, failures: failures)
        case .stoppedAfterPointOfNoReturn(let reason, let failures, let remaining):
            return .stoppedAfterPointOfNoReturn(reason: reason, failures: failures, remainingSteps: remaining)
        case .unreadable(let name, let reason): throw JournalPayloadMismatch("outcome", name, reason)
        }
    }

    /// Whether this version cannot read the outcome.
    var isUnreadable: Bool {
        if case .unreadable = self { return true }
        return false
    }
}

extension JournalRecord {
    /// The action (on `action` lines), nil when absent or unreadable by this version (``unreadablePayload`` says
    /// why; a replay refuses such a line).
    public var action: CutoverAction? {
        get { try? actionPayload?.machineAction() }
        set { actionPayload = newValue.map(JournalActionPayload.init) }
    }

    /// The event (on `event` lines), nil when absent or unreadable by this version (see ``unreadablePayload``).
    public var event: CutoverEvent? {
        get { try? eventPayload?.machineEvent() }
        set { eventPayload = newValue.map(JournalEventPayload.init) }
    }

    /// How the run ended (on `run-finished`), nil when absent or unreadable by this version (see
    /// ``unreadablePayload``).
    public var outcome: CutoverOutcome? {
        get { try? outcomePayload?.machineOutcome() }
        set { outcomePayload = newValue.map(JournalOutcomePayload.init) }
    }

    /// Why this version cannot read the line's action, event or outcome (written by another version, or edited), nil
    /// when it can. `journal show` and `status` still read such a line; a replay refuses it.
    public var unreadablePayload: String? {
        do {
            _ = try actionPayload?.machineAction()
            _ = try eventPayload?.machineEvent()
            _ = try outcomePayload?.machineOutcome()
            return nil
        } catch {
            return error.description
        }
    }
}
