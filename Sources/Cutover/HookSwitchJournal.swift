/// The part of a journal line that belongs to a switch without ProxySQL (``HookSwitchRun``), in
/// ``JournalRecord/hookSwitch``: on `run-started` the direction and the observation bound, on `action` lines the
/// machine's action, on `event` lines its answer. A line with this payload has no ``JournalRecord/operation``, so the
/// ProxySQL path's readers (`resume` of a ProxySQL run, `status`'s phase, the failback's fence proof) never mistake
/// it for one of their runs.
///
/// Versioned on its own (``version``): a later format is refused by ``HookSwitchReplay`` with
/// ``CutoverError/Code/unsupportedJournalVersion``.
public struct HookSwitchJournalPayload: Sendable, Codable, Hashable {
    /// The version of this payload this library writes and reads.
    public static let currentVersion = 1

    public var version: Int
    /// Which way the writer moves.
    public var direction: HookSwitch.Direction
    /// How long the run waits for the first write on the new writer (on `run-started`: a resume uses the journaled
    /// bound, as it uses the journaled policy).
    public var observeTimeout: Duration?
    /// The action (on `action` lines).
    public var action: HookSwitchMachine.Action?
    /// The event (on `event` lines).
    public var event: HookSwitchMachine.Event?

    /// Creates a payload of the current version.
    public init(
        direction: HookSwitch.Direction, observeTimeout: Duration? = nil, action: HookSwitchMachine.Action? = nil,
        event: HookSwitchMachine.Event? = nil
    ) {
        self.version = Self.currentVersion
        self.direction = direction
        self.observeTimeout = observeTimeout
        self.action = action
        self.event = event
    }
}

/// Rebuilds a ``HookSwitchMachine`` from the journaled entries of one switch run, validating every entry, then
/// decides how the run goes on (``HookSwitchMachine/resumeAfterInterruption()``).
///
/// A journal is outside input: an entry without the payload, of a later payload version, an action that is not the
/// one the machine asked for (nor the one an earlier resume decided), an event that does not answer the action in
/// flight, a `run-finished` whose outcome this version cannot read, all end the replay with a typed ``CutoverError``
/// naming the entry; the process never stops on them.
public struct HookSwitchReplay: Sendable {
    /// The run's id (a resume appends to the same run).
    public var runID: String
    /// The run's `run-started` entry.
    public var header: JournalRecord
    public var direction: HookSwitch.Direction
    /// The run's policy, as journaled.
    public var policy: CutoverPolicy
    public var observeTimeout: Duration
    /// The machine with every journaled event fed back, and the resume decided.
    public var machine: HookSwitchMachine
    /// The step where the run stopped (the action in flight, or the last one answered).
    public var stoppedAt: StepID
    /// Whether the run had started the switch command when it stopped.
    public var wasPastPointOfNoReturn: Bool
    /// The first action of the resumed run (a `finish` when nothing is left to do).
    public var next: HookSwitchMachine.Action

    /// The unfinished switch run of `entries`, nil when the journal's last run is finished or is not a switch run
    /// without ProxySQL.
    public static func unfinishedRun(in entries: [JournalRecord]) -> [JournalRecord]? {
        guard let run = CutoverJournal.unfinishedRun(in: entries), run.first?.hookSwitch != nil else { return nil }
        return run
    }

    /// Replays `run` (its `run-started` entry first, as ``unfinishedRun(in:)`` returns it).
    ///
    /// - Throws: ``CutoverError`` (``CutoverError/Code/journalMismatch``, ``CutoverError/Code/unsupportedJournalVersion``).
    public init(run: [JournalRecord]) throws(CutoverError) {
        guard let header = run.first, header.kind == .runStarted, let start = header.hookSwitch else {
            throw CutoverError(
                code: .journalMismatch,
                message: "the journal's last run is not a switch without ProxySQL (its first entry has no switch payload)",
                remedy: "inspect it with `migrate-cli journal show`; a ProxySQL run is resumed with a `proxysql` configuration")
        }
        let runID = header.runID
        guard start.version <= HookSwitchJournalPayload.currentVersion else {
            throw JournalReplay.unsupportedVersion(start.version, line: header.sequence, path: nil)
        }
        guard let policy = header.policy, let observeTimeout = start.observeTimeout else {
            throw JournalReplay.mismatch(runID, header, "has no policy or observation bound")
        }
        var machine = HookSwitchMachine(direction: start.direction, policy: policy, observeTimeout: observeTimeout)
        var pending = machine.started()
        var stoppedAt = machine.currentStep
        for entry in run.dropFirst() {
            guard entry.effectiveFormatVersion <= JournalRecord.currentFormatVersion else {
                throw JournalReplay.unsupportedVersion(entry, path: nil)
            }
            switch entry.kind {
            case .runStarted:
                throw JournalReplay.mismatch(runID, entry, "starts the run a second time")
            case .runFinished:
                // An end this version cannot read (another version wrote it, or it was edited): how the run ended is
                // not known, so it is refused, never replayed to the machine's own outcome (as `JournalReplay`).
                if let problem = entry.unreadablePayload {
                    throw JournalReplay.mismatch(runID, entry, problem)
                }
                guard case .finish(let outcome) = pending, entry.outcome == nil || entry.outcome == outcome else {
                    throw JournalReplay.mismatch(runID, entry, "ends the run, which was waiting on: \(pending)")
                }
            case .action:
                guard let payload = entry.hookSwitch, let action = payload.action else {
                    throw JournalReplay.mismatch(runID, entry, "is an action line without a switch action")
                }
                guard payload.version <= HookSwitchJournalPayload.currentVersion else {
                    throw JournalReplay.unsupportedVersion(payload.version, line: entry.sequence, path: nil)
                }
                if action != pending {
                    // An earlier resume: replay its decision, so the entries after it fit.
                    pending = machine.resumeAfterInterruption()
                    guard action == pending else {
                        throw JournalReplay.mismatch(runID, entry, "is \"\(action)\", the run would have done \"\(pending)\"")
                    }
                }
                if let step = entry.step, step != machine.currentStep {
                    throw JournalReplay.mismatch(runID, entry, "names step \(step), the run was at step \(machine.currentStep)")
                }
                stoppedAt = machine.currentStep
            case .event:
                guard let payload = entry.hookSwitch, let event = payload.event else {
                    throw JournalReplay.mismatch(runID, entry, "is an event line without a switch event")
                }
                guard let next = machine.accept(event) else {
                    throw JournalReplay.mismatch(
                        runID, entry,
                        "is the event \(event), which does not answer \"\(pending)\" (the journal was edited, cut short or written by another version)")
                }
                pending = next
            }
        }
        self.runID = runID
        self.header = header
        self.direction = start.direction
        self.policy = policy
        self.observeTimeout = observeTimeout
        self.stoppedAt = stoppedAt
        self.wasPastPointOfNoReturn = machine.isPastPointOfNoReturn
        self.next = machine.resumeAfterInterruption()
        self.machine = machine
    }
}
