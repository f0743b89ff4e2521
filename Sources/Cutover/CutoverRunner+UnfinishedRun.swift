extension CutoverRunner {
    /// The refusal of a new run over a journal whose last run is unfinished (interrupted, or stopped after the point
    /// of no return). Starting anyway would hide that run from `resume` and orphan its remaining steps (restoring
    /// ProxySQL's variables, the old writer's durable fence, `SAVE MYSQL SERVERS TO DISK`).
    ///
    /// - Parameter unreadableEnd: why the run's `run-finished` entry cannot be read, when that is why it counts as
    ///   unfinished: then `resume` refuses it too (a journal mismatch), so it is not named as the remedy (#17).
    static func unfinishedRunError(_ header: JournalRecord, journalPath: String, unreadableEnd: String? = nil)
        -> CutoverError
    {
        let operation = header.operation?.rawValue ?? header.hookSwitch.map { "switch \($0.direction.rawValue)" }
            ?? "an operation"
        if let unreadableEnd {
            return CutoverError(
                code: .unfinishedRun,
                message: "the journal \(journalPath) holds the run \(header.runID) (\(operation)), which ended with an "
                    + "outcome this version cannot read (\(unreadableEnd)): it is not known to have finished",
                remedy: "inspect it with `migrate-cli journal show` and `migrate-cli status` (`migrate-cli resume` "
                    + "refuses it), finish by hand what is left, then move the journal aside"
            )
        }
        return CutoverError(
            code: .unfinishedRun,
            message: "the journal \(journalPath) holds the unfinished run \(header.runID) (\(operation)); "
                + "a new run would hide it from `migrate-cli resume`",
            remedy: "finish it first with `migrate-cli resume` (`migrate-cli journal show` shows where it stopped); "
                + "only if you finished it by hand, move the journal aside"
        )
    }
}

extension CutoverRunner {
    /// `outcome`, saying in its reason that the journal could not be written when `journalFailure` is set: the
    /// steps after that point ran (a rollback always runs) but are not in the journal, so `resume` and
    /// `journal show` cannot see them.
    static func outcome(_ outcome: CutoverOutcome, journalFailure: String?) -> CutoverOutcome {
        guard let journalFailure else { return outcome }
        let note = " (the journal could not be written: \(journalFailure); the steps after that ran without their "
            + "journal entries: check `migrate-cli status`)"
        switch outcome {
        case .completed, .refused:
            return outcome
        case .rolledBack(let reason, let failures):
            return .rolledBack(reason: reason + note, failures: failures)
        case .stoppedAfterPointOfNoReturn(let reason, let failures, let remaining):
            return .stoppedAfterPointOfNoReturn(reason: reason + note, failures: failures, remainingSteps: remaining)
        }
    }
}
