/// Rebuilds a state machine from the journaled entries of one run, validating every entry on the way.
///
/// A journal is outside input: it may be truncated, edited by hand or written by another version. Each entry is
/// checked against what the machine asked for at that point: an action must be the pending one (or the one an
/// earlier resume decided), an action's step must be the machine's step, and an event must answer the action in
/// flight; each payload must be one this version reads (the validating conversion of `JournalPayload+Machine.swift`).
/// The first entry that does not fit ends the replay with ``CutoverError/Code/journalMismatch`` naming its
/// sequence number; the process never stops on bytes that came from a file.
struct JournalReplay {
    /// The machine, with every journaled event fed back; call `CutoverStateMachine.resumeAfterInterruption(actionJournaled:)` next.
    var machine: CutoverStateMachine
    /// Whether the last action or event entry is an action: the action in flight when the process died was journaled
    /// (it may have taken effect). `CutoverStateMachine.resumeAfterInterruption(actionJournaled:)` needs it.
    var actionJournaled = false

    /// Replays `run` (the entries of one run, its `run-started` entry first, as
    /// ``CutoverJournal/unfinishedRun(in:)`` returns them) under the journaled `operation` and `policy`.
    ///
    /// - Throws: ``CutoverError`` (``CutoverError/Code/unsupportedJournalVersion`` for an entry of a later format,
    ///   ``CutoverError/Code/journalMismatch`` for an entry that does not fit the run).
    init(run: [JournalRecord], operation: CutoverOperation, policy: CutoverPolicy) throws(CutoverError) {
        let runID = run.first?.runID ?? "-"
        var machine = CutoverStateMachine()
        // An action entry that is not the action the machine asked for marks an earlier resume (the run was
        // interrupted more than once): replay that resume's decision too, so the events after it fit.
        var pending = machine.started(operation: operation, policy: policy)
        var actionJournaled = false
        for entry in run {
            defer { if entry.kind == .action || entry.kind == .event { actionJournaled = entry.kind == .action } }
            guard entry.effectiveFormatVersion <= JournalRecord.currentFormatVersion else {
                throw Self.unsupportedVersion(entry, path: nil)
            }
            switch entry.kind {
            case .action:
                guard let payload = entry.actionPayload else {
                    throw Self.mismatch(runID, entry, "is an action line without an action")
                }
                let action: CutoverAction
                do { action = try payload.machineAction() } catch { throw Self.mismatch(runID, entry, "\(error)") }
                if action != pending {
                    pending = machine.resumeAfterInterruption(actionJournaled: actionJournaled)
                    guard pending == action else {
                        throw Self.mismatch(
                            runID, entry,
                            "is \(CutoverRunner.describe(action)), the run would have done "
                                + CutoverRunner.describe(pending))
                    }
                }
                if let step = entry.step, step != machine.currentStep {
                    throw Self.mismatch(
                        runID, entry, "names step \(step), the run was at step \(machine.currentStep ?? "-")")
                }
            case .event:
                guard let payload = entry.eventPayload else {
                    throw Self.mismatch(runID, entry, "is an event line without an event")
                }
                let event: CutoverEvent
                do { event = try payload.machineEvent() } catch { throw Self.mismatch(runID, entry, "\(error)") }
                guard let next = machine.accept(event) else {
                    throw Self.mismatch(
                        runID, entry,
                        "is the event \(CutoverRunner.describe(event)), which does not answer "
                            + CutoverRunner.describe(pending)
                            + " (the journal was edited, cut short or written by another version)")
                }
                if next != .wait { pending = next }
            case .runFinished:
                if let outcome = entry.outcomePayload, outcome.isUnreadable {
                    throw Self.mismatch(runID, entry, entry.unreadablePayload ?? "its outcome cannot be read")
                }
            case .runStarted:
                break
            }
        }
        self.machine = machine
        self.actionJournaled = actionJournaled
    }

    static func mismatch(_ runID: String, _ entry: JournalRecord, _ what: String) -> CutoverError {
        CutoverError(
            code: .journalMismatch,
            message: "the journal of run \(runID) does not replay: entry \(entry.sequence) \(what)",
            remedy: "inspect it with `migrate-cli journal show`, finish the run by hand, and move the journal aside"
        )
    }

    static func unsupportedVersion(_ entry: JournalRecord, path: String?) -> CutoverError {
        unsupportedVersion(entry.effectiveFormatVersion, line: entry.sequence, path: path)
    }

    static func unsupportedVersion(_ version: Int, line: Int, path: String?) -> CutoverError {
        CutoverError(
            code: .unsupportedJournalVersion,
            message: "journal \(path.map { "\($0) " } ?? "")line \(line) is of format version \(version); this "
                + "version of migrate-cli reads up to version \(JournalRecord.currentFormatVersion)",
            remedy: "resume or inspect it with the migrate-cli version that wrote it"
        )
    }
}
