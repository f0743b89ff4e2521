/// Typed progress of a run, for any consumer (the CLI renders it; `--json` prints one per line).
public enum CutoverProgress: Sendable, Hashable, Codable {
    /// A run started (or was resumed).
    case runStarted(runID: String, operation: CutoverOperation)
    /// A step's action started.
    case stepStarted(step: String, action: String, at: Duration)
    /// A step's action ended with `outcome` (a short description of its event).
    case stepFinished(step: String, outcome: String, at: Duration)
    /// Drain poll: connections still used on the old server, and the sessions holding them.
    case drainProgress(server: RoutedServer, connectionsUsed: Int, holders: [SessionHolder], at: Duration)
    /// Catch-up: how far the replica still is from the target coordinate.
    case catchUpProgress(role: DatabaseRole, executed: ReplicationCoordinate?, target: ReplicationCoordinate, at: Duration)
    /// Replication settle before the window (outside it): the wait of `round` on `role` for the old writer's
    /// position took `lastWait`; the settle ends once one takes at most `threshold`.
    case settleProgress(role: DatabaseRole, round: Int, lastWait: Duration, threshold: Duration, at: Duration)
    /// The new writer is `ONLINE`: from here the run only moves forward.
    case pointOfNoReturnPassed(at: Duration)
    /// A rollback started, and why.
    case rollbackStarted(reason: String, at: Duration)
    /// A graceful shutdown was requested.
    case shutdownRequested(at: Duration)
    /// Something worth telling the operator (a resumed run, a journal write that failed).
    case note(String)
    /// The run ended; always the last event.
    case runFinished(outcome: CutoverOutcome, timeline: CutoverTimeline)
}

/// How a run went, for the caller: the outcome, the timeline, and where it was journaled.
public struct CutoverReport: Sendable {
    /// The run's identifier (also in the journal).
    public var runID: String
    /// The operation that ran.
    public var operation: CutoverOperation
    /// How it ended.
    public var outcome: CutoverOutcome
    /// The measured window and its parts.
    public var timeline: CutoverTimeline
    /// The journal's path, nil when the run was not journaled.
    public var journalPath: String?

    /// Creates a report.
    public init(runID: String, operation: CutoverOperation, outcome: CutoverOutcome, timeline: CutoverTimeline, journalPath: String?) {
        self.runID = runID
        self.operation = operation
        self.outcome = outcome
        self.timeline = timeline
        self.journalPath = journalPath
    }
}
