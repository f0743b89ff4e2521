import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ReplicationControl
import Testing

extension FaultTests {
    /// The old source restarted (process stopped and started) after a completed writer cut-over. MariaDB has no
    /// `SET PERSIST`: the run's result lists the option-file lines that keep it read-only and keep the
    /// reverse-replication filter; without them a restart leaves it writable (and `status` says so), with them it
    /// comes back read-only and replicating from the new writer. After the failback, the result says to take them
    /// out, and without them the source comes back writable.
    @Suite("Old source restarted after a completed cut-over", .faultBed())
    struct OldSourceRestarted {
        let logger = Logger(label: "fault.restart", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test("the fence survives a restart once the lines the run printed are in the option file")
        func fenceSurvivesRestart() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let journal = TemporaryJournal("restart")
            defer { journal.cleanup() }
            let result = try await FaultScenario.run(
                FaultCase(name: "writer cut-over, then the old source restarted", expected: .completed, journalPath: journal.path),
                on: bed
            )
            // What the run says to do, as data (the journal's event) and as text (the report's follow-ups).
            let durability = try #require(try Self.durability(inJournal: journal.path), "no durable fence in the journal")
            #expect(durability.readOnly && !durability.persisted, "\(durability)")
            #expect(durability.optionFileLines == ["read_only = ON", "replicate_wild_ignore_table = mysql.rds\\_%"])
            let followUps = result.report.timeline.followUps
            #expect(followUps.count == 1, "\(followUps)")
            #expect(followUps.first?.contains("127.0.0.1:\(bed.source.port)") == true, "\(followUps)")
            #expect(followUps.first?.contains("`read_only = ON`") == true, "\(followUps)")
            let rightAfter = try await Self.findings(bed)
            #expect(rightAfter.isEmpty, "right after the run: \(rightAfter)")
            // `status`'s check says the fence does not survive a restart yet.
            let before = try await Self.fenceFindings(bed)
            #expect(before.count == 1 && before[0].contains("only until its next restart"), "\(before)")

            // Restarted without the lines: writable (the finding), though reverse replication resumes.
            try await bed.source.restart()
            #expect(try await bed.readOnly(bed.source) == false, "the fence survived without the option file?")
            let writable = try await Self.fenceFindings(bed)
            #expect(writable.count == 1 && writable[0].contains("but is writable"), "\(writable)")
            #expect(writable.first?.contains("SET GLOBAL read_only = ON") == true)
            try await bed.waitUntilReplicating(bed.source)

            // The operator adds exactly the lines the run printed, and restarts the source.
            try bed.source.setOptionFileLines(durability.optionFileLines)
            try await bed.source.restart()
            #expect(try await bed.readOnly(bed.source), "read_only lost across the restart")
            let root = try await bed.source.connectAsRoot()
            let filter = try await root.queryFirst("SELECT @@GLOBAL.replicate_wild_ignore_table")?[0].string
            await root.close()
            #expect(filter == ReplicationFilter.rdsTablesPattern, "replicate_wild_ignore_table = \(filter ?? "NULL")")
            let restarted = try await Self.fenceFindings(bed)
            #expect(restarted.isEmpty, "\(restarted)")
            // Reverse replication resumed: the new writer's writes reach the source.
            try await bed.waitUntilReplicating(bed.source)
            let target = try await bed.target.connectAsRoot()
            try await target.run("CREATE TABLE IF NOT EXISTS cutover_load.fault_restart (id BIGINT PRIMARY KEY)")
            try await target.run("REPLACE INTO cutover_load.fault_restart (id) VALUES (1)")
            await target.close()
            try await bed.waitForReplica(bed.source, of: bed.target)
            // The application account cannot write on the restarted source.
            let account = bed.rehearsal.applicationAccount
            let application = try await MariaDBConnection.connect(
                configuration: bed.source.configuration(user: account.username, password: account.password))
            let refused = await #expect(throws: MariaDBError.self) {
                try await application.run(
                    "INSERT INTO cutover_load.keyed_writes (id, run_id, client, sequence, sent_at_us) VALUES (1, 0, 0, 0, 0)")
            }
            #expect(refused?.serverErrorNumber == 1290, "\(String(describing: refused))")
            await application.close()
            try await bed.expectCutOverState("after the restart with the option file")
            FaultMatrix.record(
                "| old source restarted after a completed cut-over | without the lines: writable (`status`: \"\(writable.first?.prefix(60) ?? "")…\"); with them: read-only, filter kept, reverse replication resumed | - | - | - | - | - | - |"
            )

            // The failback makes the source writable for good and says to take the lines out; without them a restart
            // leaves it writable.
            let failback = TemporaryJournal("restart-failback")
            defer { failback.cleanup() }
            let report = try await bed.runOperation(.writerFailback, journalPath: failback.path, logger: logger)
            #expect(report.outcome == .completed, "\(report.outcome)")
            let undo = try #require(try Self.durability(inJournal: failback.path))
            #expect(!undo.readOnly && undo.optionFileLines.contains("read_only = ON"), "\(undo)")
            #expect(report.timeline.followUps.first?.contains("take out") == true, "\(report.timeline.followUps)")
            try bed.source.setOptionFileLines(bed.source.optionFileLines.filter { !undo.optionFileLines.contains($0) })
            try await bed.source.restart()
            try await bed.reconnectReplica(bed.target)
            try await bed.waitUntilReplicating(bed.target)
            try await bed.expectStartingState("after the failback and a restart")
        }

        static func durability(inJournal path: String) throws -> ReadOnlyDurability? {
            try CutoverJournal.read(path: path).compactMap { entry -> ReadOnlyDurability? in
                if case .readOnlyPersisted(_, let durability)? = entry.event { durability } else { nil }
            }.last
        }

        /// What `status` says about the source's fence.
        static func fenceFindings(_ bed: FaultBed) async throws -> [String] {
            let root = try await bed.source.connectAsRoot()
            let findings = try await SourceFenceCheck.inspect(
                session: root, name: "source (127.0.0.1:\(bed.source.port))",
                logger: Logger(label: "fault.restart", factory: { _ in SwiftLogNoOpLogHandler() }))
            await root.close()
            return findings
        }

        /// Findings that must be empty right after a run: the source is read-only.
        static func findings(_ bed: FaultBed) async throws -> [String] {
            try await fenceFindings(bed).filter { $0.contains("but is writable") }
        }
    }
}
