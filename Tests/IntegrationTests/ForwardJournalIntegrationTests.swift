import Cutover
@_spi(Testing) import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import MariaDB
import Testing

/// `replication start-forward` is journaled (#15): the procedure call without the password, the coordinates, the
/// proof and the undo, under a run `forward-…` that `journal show` and `status` list and `resume` does not take.
@Suite("start-forward journaled", .integration, .serialized)
struct ForwardJournalIntegrationTests {
    static let logger = Logger(label: "forward-journal-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func startForwardIsJournaledWithoutThePassword() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        var options = Rehearsal.Options(adminLatency: .fast)
        options.startsForwardReplication = false
        try await withRehearsal(options: options, logger: Self.logger) { rehearsal in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("forward-journal-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let configuration = try HookSwitchResumeIntegrationTests.writeConfiguration(rehearsal: rehearsal, directory: directory, hook: "true")
            let cli = ["--config", configuration]
            let root = try await rehearsal.source.connectAsRoot()
            let status = try #require(try await root.queryFirst("SHOW MASTER STATUS"))
            await root.close()
            let file = try #require(status["File"]?.string)
            let position = try #require(status["Position"]?.int)

            let started = try await MigrateBinary.run(
                ["replication", "start-forward", "--file", file, "--position", "\(position)", "--yes"] + cli, in: directory)
            #expect(started.code == 0, "\(started)")
            #expect(started.standardOutput.contains("journaled as run forward-"), "\(started.standardOutput)")

            let journalPath = directory + "/journal.jsonl"
            let text = try String(contentsOfFile: journalPath, encoding: .utf8)
            #expect(!text.contains(rehearsal.forwardReplicationPassword), "no password in the journal")
            let entries = try CutoverJournal.read(path: journalPath)
            #expect(entries.allSatisfy { $0.runID.hasPrefix("forward-") })
            #expect(entries.map { "\($0.kind.rawValue) \($0.step?.rawValue ?? "-")" } == [
                "action forward.configure", "event forward.configure", "action forward.start", "event forward.start",
                "action forward.proof", "event forward.proof", "run-finished forward.done",
            ])
            let configure = try #require(entries.first?.statements?.first?.statement)
            #expect(configure.contains("rds_set_external") && configure.contains(file) && configure.contains("\(position)"), "\(configure)")
            #expect(configure.contains("stop-forward") && configure.contains("reset-forward"), "the undo is said: \(configure)")
            #expect(entries[5].statements?.first?.statement.hasPrefix("running") == true, "\(entries[5])")
            #expect(entries.last?.outcome == .completed)
            #expect(CutoverJournal.unfinishedRun(in: entries) == nil, "resume does not take it")

            let shown = try await MigrateBinary.run(["journal", "show"] + cli, in: directory)
            #expect(shown.code == 0 && shown.standardOutput.contains("forward.configure") && shown.standardOutput.contains("stop-forward"), "\(shown)")
            let statusOutput = try await MigrateBinary.run(["status"] + cli, in: directory)
            #expect(statusOutput.standardOutput.contains("forward-") && statusOutput.standardOutput.contains("completed"), "\(statusOutput)")
        }
    }
}
