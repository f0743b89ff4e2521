import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import Testing

extension FaultTests.ProcessLevel {
    // MARK: #13 item 1: the fence proof in `status`

    @Test("status after a completed cut-over: the fence held; a root write on the old source afterwards: alarm fence.diverged naming the GTID")
    func statusProvesTheFence() async throws {
        guard let bed = try await FaultBed.inStartingState() else { return }
        let workspace = try CLIWorkspace(bed: bed)
        defer { workspace.remove() }
        let setup = try await bed.source.connectAsRoot()
        try await setup.run("CREATE TABLE IF NOT EXISTS cutover_load.fault_status_fence (id BIGINT PRIMARY KEY)")
        await setup.close()
        try await bed.waitForReplica(bed.target, of: bed.source)
        let journal = workspace.journalPath("status-fence")
        let cutover = try await MigrateBinary.run(
            workspace.arguments(journal: journal, ["cutover", "writers", "--yes", "--json"]), in: workspace.directory)
        #expect(cutover.code == 0, "\(cutover)")
        try await bed.expectCutOverState("after the cut-over")
        // Reverse replication applies the new writer's transactions on the old source: those are not leaks.
        try await bed.waitForReplica(bed.source, of: bed.target)
        let held = try await MigrateBinary.run(
            workspace.arguments(journal: journal, ["status", "--json"]), in: workspace.directory)
        #expect(held.code == 0, "\(held)")
        #expect(held.standardOutput.contains("the fence held"), "\(held.standardOutput)")
        #expect(!held.standardOutput.contains("fence.diverged"))

        // A privileged session writes on the old source directly (root passes read_only).
        let source = try await bed.source.connectAsRoot()
        try await source.run("INSERT INTO cutover_load.fault_status_fence (id) VALUES (1)")
        let diverged = try await MigrateBinary.run(
            workspace.arguments(journal: journal, ["status", "--json"]), in: workspace.directory)
        // Put the data back as it was (the row only on the source), outside the binlog.
        try await source.run("SET SESSION sql_log_bin = 0")
        try await source.run("DELETE FROM cutover_load.fault_status_fence WHERE id = 1")
        await source.close()
        #expect(diverged.code == 1, "\(diverged)")
        #expect(diverged.standardOutput.contains("fence.diverged"), "\(diverged.standardOutput)")
        #expect(diverged.standardOutput.contains("THE FENCE DID NOT HOLD"), "\(diverged.standardOutput)")
        #expect(diverged.standardOutput.contains("extra GTIDs of its own server_id"), "\(diverged.standardOutput)")
        FaultMatrix.record("| A root write on the old source after a completed cut-over (reverse replication running) | `status` | before it: \"the fence held\", exit 0; after it: alarm `fence.diverged` \"THE FENCE DID NOT HOLD … extra GTIDs of its own server_id …\", exit \(diverged.code.map(String.init) ?? "-") ([#13] item 1; before: nothing, exit 0) | - | - | - | - | - | - |")
        try await bed.failBack(logger: logger)
        try await bed.expectStartingState("at the end")
    }
}
