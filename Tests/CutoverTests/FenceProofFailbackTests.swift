import Foundation
import ReplicationControl
import Testing

@testable import Cutover

/// Issue #13, item 1: the guards of `failback writers` prove the fence of the cut-over before it, from the journal's
/// last writer switch and the source's own transactions now.
@Suite("Fence proof in the failback's guards (#13)")
struct FenceProofFailbackTests {
    static let atFence = ReplicationCoordinate(file: "mysql-bin.000003", offset: 100, gtidSet: "1-1-100")

    /// A journal: a completed writer cut-over (final position `atFence`, reverse replication started), then the runs
    /// in `more`.
    static func journal(cutoverRunID: String = "r1", more: [[JournalRecord]] = []) -> [JournalRecord] {
        var entries: [JournalRecord] = []
        func add(_ runID: String, _ kind: JournalRecord.Kind, _ operation: CutoverOperation? = nil, step: StepID? = nil,
                 event: CutoverEvent? = nil, past: Bool? = nil, outcome: CutoverOutcome? = nil) {
            var entry = JournalRecord(sequence: entries.count + 1, runID: runID, kind: kind, time: "2026-12-06T08:00:00.000Z", elapsedMicroseconds: 0)
            entry.operation = operation
            entry.step = step
            entry.event = event
            entry.pastPointOfNoReturn = past
            entry.outcome = outcome
            entries.append(entry)
        }
        add(cutoverRunID, .runStarted, .writerCutover)
        add(cutoverRunID, .event, step: "readFinalPosition", event: .positionRead(.source, atFence, at: .zero))
        add(cutoverRunID, .event, step: "onlineNew", event: .statusSet(.writer(.target), .online, at: .zero), past: true)
        add(cutoverRunID, .event, step: "startReverseReplication", event: .replicationStarted(.source), past: true)
        add(cutoverRunID, .runFinished, outcome: .completed)
        for run in more { entries += run }
        return entries
    }

    static func refusedFailback(_ runID: String) -> [JournalRecord] {
        var start = JournalRecord(sequence: 0, runID: runID, kind: .runStarted, time: "2026-12-06T09:00:00.000Z", elapsedMicroseconds: 0)
        start.operation = .writerFailback
        var end = JournalRecord(sequence: 0, runID: runID, kind: .runFinished, time: "2026-12-06T09:00:01.000Z", elapsedMicroseconds: 0)
        end.outcome = .refused([BlockingReason(check: "fence.diverged", message: "m", remedy: "r")])
        return [start, end]
    }

    @Test("the history: the last writer switch past the point of no return, across refused runs after it")
    func history() {
        let facts = FenceProof.JournalFacts(oldWriter: .source, atFence: Self.atFence, reverseReplicationStarted: true)
        #expect(JournalHistory(path: "j", entries: Self.journal()).lastWriterSwitch == facts)
        // A refused failback after it (the guards refused: nothing changed) leaves the cut-over the last switch.
        #expect(JournalHistory(path: "j", entries: Self.journal(more: [Self.refusedFailback("r2")])).lastWriterSwitch == facts)
        // An unfinished run is the one `resume` continues, not an earlier switch.
        var unfinished = JournalRecord(sequence: 0, runID: "r3", kind: .runStarted, time: "2026-12-06T10:00:00.000Z", elapsedMicroseconds: 0)
        unfinished.operation = .readerCutover
        #expect(JournalHistory(path: "j", entries: Self.journal(more: [[unfinished]])).lastWriterSwitch == facts)
        #expect(JournalHistory(path: "j", entries: Self.refusedFailback("r9")).lastWriterSwitch == nil)
        #expect(JournalHistory(path: "j", entries: []).lastWriterSwitch == nil)
    }

    @Test("which runs must prove an earlier fence: a failback always (a warning when it cannot), a cut-over back onto a fenced target")
    func finding() {
        let history = JournalHistory(path: "/var/lib/j.jsonl", entries: Self.journal())
        guard case .check(let facts) = FenceProof.earlierFence(for: .writerFailback, history: history) else {
            Issue.record("a failback after a journaled cut-over must check the source")
            return
        }
        #expect(facts.oldWriter == .source && facts.atFence == Self.atFence)
        // The first cut-over, readers: nothing to prove.
        #expect(FenceProof.earlierFence(for: .writerCutover, history: JournalHistory(path: "j", lastWriterSwitch: nil)) == .notApplicable)
        #expect(FenceProof.earlierFence(for: .writerCutover, history: nil) == .notApplicable)
        #expect(FenceProof.earlierFence(for: .readerFailback, history: history) == .notApplicable)
        // A cut-over again after the cut-over: its last switch fenced the source, not the target.
        #expect(FenceProof.earlierFence(for: .writerCutover, history: history) == .notApplicable)
        // A cut-over after a failback proves the target's fence.
        let back = FenceProof.JournalFacts(oldWriter: .target, atFence: Self.atFence, reverseReplicationStarted: true)
        #expect(FenceProof.earlierFence(for: .writerCutover, history: JournalHistory(path: "j", lastWriterSwitch: back)) == .check(back))
        // A failback with no journal, or a journal without the cut-over: a warning naming why, not silence.
        guard case .cannotProve(let none) = FenceProof.earlierFence(for: .writerFailback, history: nil),
            case .cannotProve(let moved) = FenceProof.earlierFence(for: .writerFailback, history: JournalHistory(path: "/var/lib/j.jsonl", lastWriterSwitch: nil))
        else {
            Issue.record("a failback without the cut-over's journal must say it cannot prove the fence")
            return
        }
        #expect(none.contains("no journal") && none.contains("cannot be proved"), "\(none)")
        #expect(moved.contains("/var/lib/j.jsonl") && moved.contains("cannot be proved"), "\(moved)")
    }

    @Test("the verdict: the source's own GTIDs after the fence refuse the failback, naming them; held and unprovable are notes")
    func verdict() {
        let facts = FenceProof.JournalFacts(oldWriter: .source, atFence: Self.atFence, reverseReplicationStarted: true)
        // Reverse replication applied 2-2-1..2-2-40 from the target; a root session on the source wrote 1-1-101.
        let now = ReplicationCoordinate(file: "mysql-bin.000003", offset: 9_000, gtidSet: "1-1-101,2-2-40")
        let diverged = FenceProof.laterVerdict(
            atFence: facts.atFence, now: now, reverseReplicationStarted: true, mariaDBBinlogState: "1-1-101,2-2-40",
            serverID: 1, serverUUID: nil)
        let (reason, note) = FenceProof.earlierFenceVerdict(facts, verdict: diverged, name: "source (10.0.0.5:3306)", journalPath: "/j")
        #expect(note == nil)
        #expect(reason?.check == "fence.diverged")
        #expect(reason?.message.contains("THE FENCE DID NOT HOLD: source (10.0.0.5:3306)") == true, "\(String(describing: reason))")
        #expect(reason?.message.contains("1-1-101 (1 transaction") == true || reason?.message.contains("1-1-101..1-1-101") == true, "\(String(describing: reason))")
        #expect(reason?.message.contains("\(Self.atFence)") == true)
        #expect(reason?.remedy.contains("apply or discard") == true)
        // Only the target's transactions since the fence: held.
        let held = FenceProof.laterVerdict(
            atFence: facts.atFence, now: ReplicationCoordinate(file: "mysql-bin.000003", offset: 9_000, gtidSet: "2-2-40"),
            reverseReplicationStarted: true, mariaDBBinlogState: "1-1-100,2-2-40", serverID: 1, serverUUID: nil)
        #expect(held == .held)
        let heldResult = FenceProof.earlierFenceVerdict(facts, verdict: held, name: "source", journalPath: "/j")
        #expect(heldResult.reason == nil && heldResult.note?.contains("held") == true)
        let unprovable = FenceProof.earlierFenceVerdict(facts, verdict: .unprovable("no GTIDs"), name: "source", journalPath: nil)
        #expect(unprovable.reason == nil && unprovable.note?.contains("cannot be proved: no GTIDs") == true)
    }

    @Test("a journal opened for a new run carries the history to the guards")
    func journalOpen() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fence-failback-\(UInt32.random(in: 0...UInt32.max)).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let encoder = JSONEncoder()
        var data = Data()
        for entry in Self.journal(more: [Self.refusedFailback("r2")]) {
            data += try encoder.encode(entry)
            data.append(0x0A)
        }
        try data.write(to: URL(fileURLWithPath: path))
        let journal = try CutoverJournal(path: path)
        #expect(journal.historyAtOpen.lastWriterSwitch?.atFence == Self.atFence)
        #expect(journal.historyAtOpen.path == path)
        await journal.close()
    }
}
