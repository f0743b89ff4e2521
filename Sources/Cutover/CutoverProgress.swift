/// Typed progress of a run, for any consumer (the CLI renders it; `--json` prints one per line).
public enum CutoverProgress: Sendable, Hashable, Codable {
    case runStarted(runID: String, operation: CutoverOperation)
    case stepStarted(step: String, action: String, at: Duration)
    case stepFinished(step: String, outcome: String, at: Duration)
    /// Drain poll: connections still used on the old server, and the sessions holding them.
    case drainProgress(server: RoutedServer, connectionsUsed: Int, holders: [SessionHolder], at: Duration)
    /// Catch-up: how far the replica still is from the target coordinate.
    case catchUpProgress(role: DatabaseRole, executed: ReplicationCoordinate?, target: ReplicationCoordinate, at: Duration)
    case pointOfNoReturnPassed(at: Duration)
    case rollbackStarted(reason: String, at: Duration)
    case shutdownRequested(at: Duration)
    case note(String)
    case runFinished(outcome: CutoverOutcome, timeline: CutoverTimeline)
}

/// How a run went, for the caller: the outcome, the timeline, and where it was journaled.
public struct CutoverReport: Sendable {
    public var runID: String
    public var operation: CutoverOperation
    public var outcome: CutoverOutcome
    public var timeline: CutoverTimeline
    public var journalPath: String?

    public init(runID: String, operation: CutoverOperation, outcome: CutoverOutcome, timeline: CutoverTimeline, journalPath: String?) {
        self.runID = runID
        self.operation = operation
        self.outcome = outcome
        self.timeline = timeline
        self.journalPath = journalPath
    }
}
