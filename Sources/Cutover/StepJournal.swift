/// Journals the steps of a command that is not a run of a state machine (`replication start-forward`,
/// `stop-forward`, `reset-forward`; issue #15), as `finish` does (ADR 0011): entries under one run id
/// (`forward-…`), an `action` entry before each step and an `event` entry after it, and a closing `run-finished`
/// entry. No `run-started`, so `resume` never takes such a run for a cut-over, and `journal show` / `status` list it.
/// Nothing secret goes in: the callers pass statements rendered with their secrets hidden.
public struct StepJournal: Sendable {
    /// The run id (`forward-1a2b…`).
    public let runID: String
    let journal: CutoverJournal?
    let started: ContinuousClock.Instant

    /// A trail of a new run `prefix-<random>` in `journal` (nil: nothing is written).
    public init(journal: CutoverJournal?, prefix: String) {
        self.journal = journal
        self.runID = prefix + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        self.started = ContinuousClock.now
    }

    /// Appends one entry: `step` (`forward.configure`), where it applies (`target`) and what was done or found.
    ///
    /// - Throws: ``CutoverError`` when the journal cannot be written.
    public func record(
        _ kind: JournalRecord.Kind, step: String, endpoint: String, _ text: String, outcome: CutoverOutcome? = nil
    ) async throws {
        guard let journal else { return }
        var entry = JournalRecord(
            sequence: 0, runID: runID, kind: kind, time: JournalRecord.now(),
            elapsedMicroseconds: Int64((ContinuousClock.now - started) / .microseconds(1)))
        entry.step = StepID(rawValue: step)
        entry.statements = [ExecutedStatement(endpoint: endpoint, statement: text)]
        entry.outcome = outcome
        try await journal.append(entry)
    }
}
