public import ReplicationControl

/// What the journal held when a run opened it, for the guards (issue #13, item 1): the last writer switch past the
/// point of no return of an earlier run, whose fence a switch back onto its old writer must prove.
public struct JournalHistory: Sendable, Hashable {
    /// The journal's file (for messages).
    public var path: String
    /// The facts of the last writer switch past the point of no return in an earlier run (a completed run, or one
    /// stopped after the point of no return and resumed), nil when the journal holds none.
    public var lastWriterSwitch: FenceProof.JournalFacts?

    /// Creates a history.
    public init(path: String, lastWriterSwitch: FenceProof.JournalFacts?) {
        self.path = path
        self.lastWriterSwitch = lastWriterSwitch
    }

    /// The history of `entries` (a whole journal) for a new run: the last writer switch past the point of no return
    /// among its runs, the run still unfinished excepted (it is the one a `resume` continues, not an earlier one).
    public init(path: String, entries: [JournalRecord]) {
        let unfinished = CutoverJournal.unfinishedRun(in: entries)?.first?.runID
        var last: FenceProof.JournalFacts?
        for run in Self.runs(in: entries) where run.first?.runID != unfinished {
            if let facts = FenceProof.journalFacts(run: run) { last = facts }
        }
        self.init(path: path, lastWriterSwitch: last)
    }

    /// The runs of a journal in order, each its entries from its `run-started` entry (a resume appends to its run,
    /// possibly after other runs' entries: they are gathered by run identifier).
    static func runs(in entries: [JournalRecord]) -> [[JournalRecord]] {
        var order: [String] = []
        var byID: [String: [JournalRecord]] = [:]
        for entry in entries {
            if entry.kind == .runStarted, byID[entry.runID] == nil { order.append(entry.runID) }
            byID[entry.runID, default: []].append(entry)
        }
        return order.compactMap { byID[$0] }
    }
}

extension FenceProof {
    /// What the guards of a writer switch concluded about the fence of the switch before it (a failback proving that
    /// the source wrote nothing of its own since the cut-over fenced it).
    public enum EarlierFenceFinding: Sendable, Hashable {
        /// Nothing to prove: not a writer switch, or a first cut-over (its new writer was never fenced by this tool).
        case notApplicable
        /// The switch's new writer was the old writer of the journal's last writer switch; the facts say what to
        /// read on it.
        case check(JournalFacts)
        /// A switch back onto a fenced writer whose fence cannot be proved from the journal; the text says why (a
        /// warning, never silence).
        case cannotProve(String)
    }

    /// What the guards must check about the earlier fence before `operation`, from the journal's history.
    ///
    /// A failback (writes back onto the source) must prove the source's fence of the earlier cut-over; a cut-over
    /// after a failback proves the target's fence the same way. Without a journal, or with one that holds no earlier
    /// writer switch away from the run's new writer, a failback cannot prove it: a warning, not a refusal (the
    /// journal may have been moved aside, or the cut-over made by other means).
    ///
    /// - Parameters:
    ///   - operation: the run's operation.
    ///   - history: what the journal held when the run opened it; nil for a run without a journal.
    public static func earlierFence(for operation: CutoverOperation, history: JournalHistory?) -> EarlierFenceFinding {
        guard operation.movesWriter else { return .notApplicable }
        if let facts = history?.lastWriterSwitch, facts.oldWriter == operation.to {
            return .check(facts)
        }
        // A cut-over onto the target with no earlier switch away from it: the ordinary first cut-over.
        guard operation == .writerFailback else { return .notApplicable }
        let name = "\(operation.to)"
        guard let history else {
            return .cannotProve(
                "this run has no journal, so the final position read when the cut-over fenced \(name) is unknown: "
                    + "whether \(name) wrote anything of its own since cannot be proved")
        }
        return .cannotProve(
            "the journal \(history.path) holds no earlier writer switch away from \(name) past the point of no "
                + "return (moved aside, or the cut-over was made by other means), so the final position read when "
                + "\(name) was fenced is unknown: whether \(name) wrote anything of its own since cannot be proved")
    }

    /// The guards' verdict on the earlier fence: a refusal (check `fence.diverged`) when the run's new writer wrote
    /// transactions of its own after its final position was read at the earlier fence, naming them; reverse
    /// replication would otherwise run on top of a diverged server, and those rows would be lost or conflict.
    ///
    /// - Parameters:
    ///   - facts: the earlier switch's facts (``earlierFence(for:history:)``).
    ///   - verdict: ``laterVerdict(atFence:now:reverseReplicationStarted:mariaDBBinlogState:serverID:serverUUID:)``
    ///     of the new writer now.
    ///   - name: the new writer, for messages (`source (127.0.0.1:3306)`).
    ///   - journalPath: the journal the facts came from.
    /// - Returns: the blocking reason, or a note for the guards' report (held, or cannot be told).
    public static func earlierFenceVerdict(
        _ facts: JournalFacts, verdict: LaterVerdict, name: String, journalPath: String?
    ) -> (reason: BlockingReason?, note: String?) {
        let origin = journalPath.map { " (journal \($0))" } ?? ""
        switch verdict {
        case .held:
            return (
                nil,
                "the fence of the earlier switch held: \(name) wrote nothing of its own since its final position "
                    + "\(facts.atFence) was read\(origin)"
            )
        case .diverged(let extra):
            return (
                BlockingReason(
                    check: "fence.diverged",
                    message: "THE FENCE DID NOT HOLD: \(name) wrote transactions of its own after its final position "
                        + "\(facts.atFence) was read when the earlier switch fenced it\(origin): \(extra). They are "
                        + "not on the current writer, and switching writes back would run replication on top of a "
                        + "diverged server",
                    remedy: "find who wrote them (sessions that bypass ProxySQL with SUPER / READ ONLY ADMIN or "
                        + "root), compare them with the current writer and apply or discard them there (then remove "
                        + "them from \(name), or rebuild \(name) from the current writer); only then move the "
                        + "journal aside and run again (without the journal this check cannot run: decide knowingly)"
                ),
                nil
            )
        case .unprovable(let why):
            return (nil, "the fence of the earlier switch on \(name) cannot be proved: \(why)")
        }
    }
}
