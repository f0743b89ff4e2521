import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import Testing

extension FaultTests {
    /// Issue #13, item 3: the process died after the last step before the point of no return (the new writer's
    /// position read, the ONLINE not journaled), and while it was dead the source became writable again (as after a
    /// restart that dropped `SET GLOBAL read_only`) and took a write. Before: `resume` put Aurora ONLINE at once, the
    /// write existed only on the source, and the fence proof then stopped the run past the point of no return. Now
    /// `resume` fences again, reads the final position again and waits for Aurora to execute it before the ONLINE.
    @Suite("Resume before the ONLINE (#13)", .faultBed())
    struct ResumeBeforeOnline {
        let logger = Logger(label: "fault.resume-reverify", factory: { _ in SwiftLogNoOpLogHandler() })

        /// With the standard policy the cut-over's 11th action reads the new writer's position; the 12th is the ONLINE.
        static let lastActionBeforeOnline = 11

        @Test("source writable again and written while the process was dead: resume re-fences, re-reads, re-waits")
        func sourceWritableWhileDead() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let setup = try await bed.source.connectAsRoot()
            try await setup.run("CREATE TABLE IF NOT EXISTS cutover_load.fault_resume_reverify (id BIGINT PRIMARY KEY)")
            await setup.close()
            try await bed.waitForReplica(bed.target, of: bed.source)
            let journal = TemporaryJournal("run")
            let leftBehind = TemporaryJournal("left-behind")
            defer {
                journal.cleanup()
                leftBehind.cleanup()
            }
            let (_, dying) = try await bed.runOperation(.writerCutover, journalPath: journal.path, logger: logger) {
                DyingExecutor(
                    base: $0, death: .afterEvent(Self.lastActionBeforeOnline), journalPath: journal.path,
                    leftBehindPath: leftBehind.path)
            }
            try #require(dying.died, "the cut-over ended before its death point")
            guard case .readPosition(.target) = try #require(dying.actions.last) else {
                Issue.record("the last action before the death is \(String(describing: dying.actions.last))")
                return
            }
            // While nobody watches: the source is writable again and takes a write (directly, not through ProxySQL).
            let source = try await bed.source.connectAsRoot()
            try await source.run("SET GLOBAL read_only = 0")
            try await source.run("INSERT INTO cutover_load.fault_resume_reverify (id) VALUES (1)")
            await source.close()

            let resumed = try await bed.resume(journalPath: leftBehind.path, logger: logger)
            FaultMatrix.record(
                "| killed after the last outcome before the ONLINE, source writable again and written meanwhile; resume | \(FaultMatrix.outcome(resumed.outcome)) | - | - | - | - | - | - |"
            )
            #expect(resumed.outcome == .completed, "resume: \(resumed.outcome)")
            // The write reached Aurora before it went ONLINE (the catch-up was waited for again).
            let target = try await bed.target.connectAsRoot()
            let count = try await target.queryFirst("SELECT COUNT(*) FROM cutover_load.fault_resume_reverify")?[0].string
            await target.close()
            #expect(count == "1", "the write the source took while the process was dead is not on Aurora")
            if resumed.outcome == .completed {
                try await bed.expectCutOverState("after resume")
                try await bed.failBack(logger: logger)
                try await bed.expectStartingState("at the end")
            }
        }
    }
}
