import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import Testing

extension FaultTests {
    /// Issue #13, item 1: the guards of `failback writers` prove the fence of the cut-over before it, from the
    /// journal's last writer switch: a root write on the old source after a completed cut-over (reverse replication
    /// running) refuses the failback, naming the extra transaction; without it the failback proceeds. The bed is left
    /// in the starting state (the row removed outside the binlog, then a failback without a journal). On MySQL 9.7
    /// the extra GTID is of the source's own server_uuid, and root needs `super_read_only` lifted to write.
    @Suite("Fence proof in the failback's guards (#13)", .faultBed(kinds: FaultBed.kinds))
    struct FailbackFenceProof {
        let logger = Logger(label: "fault.failback-fence", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test(
            "A root write on the fenced source after the cut-over refuses the failback with fence.diverged naming its GTID",
            arguments: FaultBed.kinds)
        func divergedSource(_ kind: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(kind) else { return }
            try await FailbackFenceScenario.run(on: bed, logger: logger)
        }
    }
}

enum FailbackFenceScenario {
    static func run(on bed: FaultBed, logger: Logger) async throws {
        let journal = FileManager.default.temporaryDirectory
            .appendingPathComponent("failback-fence-\(UInt32.random(in: 0...UInt32.max)).jsonl").path
        defer {
            try? FileManager.default.removeItem(atPath: journal)
            try? FileManager.default.removeItem(atPath: journal + ".lock")
        }
        let setup = try await bed.source.connectAsRoot()
        try await setup.run("CREATE TABLE IF NOT EXISTS cutover_load.fault_failback_fence (id BIGINT PRIMARY KEY)")
        await setup.close()
        try await bed.waitForReplica(bed.target, of: bed.source)

        // Without a write on the old source: the failback proves the fence and proceeds.
        let first = try await bed.runOperation(.writerCutover, journalPath: journal, logger: logger)
        try #require(first.outcome == .completed, "cut-over: \(first.outcome)")
        try await bed.waitForReplica(bed.source, of: bed.target)
        let clean = try await bed.runOperation(.writerFailback, journalPath: journal, logger: logger)
        try #require(clean.outcome == .completed, "failback without a write on the source: \(clean.outcome)")
        try await bed.expectStartingState("after the clean failback")

        // Again, with a root write on the fenced source (directly, not through ProxySQL) after the cut-over.
        try await bed.waitForReplica(bed.target, of: bed.source)
        let second = try await bed.runOperation(.writerCutover, journalPath: journal, logger: logger)
        try #require(second.outcome == .completed, "second cut-over: \(second.outcome)")
        try await bed.waitForReplica(bed.source, of: bed.target)
        let source = try await bed.source.connectAsRoot()
        if bed.kind == .mysql { try await source.run("SET GLOBAL super_read_only = OFF") }
        try await source.run("INSERT INTO cutover_load.fault_failback_fence (id) VALUES (1)")
        if bed.kind == .mysql { try await source.run("SET GLOBAL super_read_only = ON") }
        let refused = try await bed.runOperation(.writerFailback, journalPath: journal, logger: logger)

        // Put the bed back: the row removed outside the binlog, then a failback without the journal (which can then
        // only warn that the fence cannot be proved).
        try await source.run("SET SESSION sql_log_bin = 0")
        if bed.kind == .mysql { try await source.run("SET GLOBAL super_read_only = OFF") }
        try await source.run("DELETE FROM cutover_load.fault_failback_fence WHERE id = 1")
        if bed.kind == .mysql { try await source.run("SET GLOBAL super_read_only = ON") }
        await source.close()
        try await bed.expectCutOverState("after the refused failback")
        try await bed.failBack(logger: logger)
        try await bed.expectStartingState("at the end")

        guard case .refused(let reasons) = refused.outcome else {
            Issue.record("the failback over a diverged source was not refused: \(refused.outcome)")
            return
        }
        let reason = reasons.first { $0.check == "fence.diverged" }
        #expect(reason != nil, "\(reasons)")
        #expect(reason?.message.contains("THE FENCE DID NOT HOLD") == true, "\(reasons)")
        #expect(reason?.message.contains("127.0.0.1:\(bed.source.port)") == true, "\(reasons)")
        #expect(reason?.message.contains(bed.kind == .mysql ? "of its own server_uuid" : "of its own server_id") == true, "\(reasons)")
        #expect(reason?.message.contains("extra GTIDs") == true, "\(reasons)")
        #expect(reason?.remedy.isEmpty == false)
        FaultMatrix.record(
            "| A root write on the old source after a completed cut-over (reverse replication running), then "
                + "`failback writers` (\(bed.kind)) | between the runs | refused: `fence.diverged` \""
                + (reason?.message ?? "-")
                + "…\"; without the write the failback completed ([#13] item 1; before: the failback completed "
                + "and replication ran on top of the diverged source) | - | - | - | - | - | - |")
    }
}
