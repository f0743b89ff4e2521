import Cutover
import Foundation
import Logging
import Testing

@testable import MigrateCLI

/// `migrate-cli resume --dry-run` with a `switch` configuration (#15): reads only the journal, says where the switch
/// run stopped and what the resume will do; a journal that does not replay is a typed refusal (exit 78), not a crash.
@Suite("resume --dry-run of a switch without ProxySQL")
struct HookSwitchResumeWiringTests {
    func environment(journal: String) throws -> CommandEnvironment {
        let yaml = try Fixture.merged(SwitchConfigurationTests.withoutProxy, SwitchConfigurationTests.switchSection)
        let configuration = try Fixture.load(yaml: yaml, assignments: ["journal.path=\(journal)"])
        return CommandEnvironment(
            configuration: configuration,
            connections: ConnectionFactory(configuration: configuration, environment: Fixture.passwords, loginPathResolver: nil),
            logger: Logger(label: "test"))
    }

    /// A switch run's journal as ``HookSwitchRun`` writes it, cut after `events` (and the next action's entry).
    func write(_ events: [HookSwitchMachine.Event], to path: String, fingerprint: String) throws {
        var machine = HookSwitchMachine(direction: .cutover, policy: CutoverPolicy(), observeTimeout: .seconds(60))
        var entries: [JournalRecord] = []
        func entry(_ kind: JournalRecord.Kind) -> JournalRecord {
            var entry = JournalRecord(sequence: entries.count + 1, runID: "switch-wiring", kind: kind, time: "2026-12-06T19:00:00.000Z", elapsedMicroseconds: 0)
            entry.hookSwitch = HookSwitchJournalPayload(direction: .cutover)
            return entry
        }
        var header = entry(.runStarted)
        header.policy = CutoverPolicy()
        header.topologyFingerprint = fingerprint
        header.hookSwitch?.observeTimeout = .seconds(60)
        entries.append(header)
        var action = machine.started()
        for event in events + [nil] {
            var line = entry(.action)
            line.step = machine.currentStep
            line.hookSwitch?.action = action
            entries.append(line)
            guard let event else { break }
            var answer = entry(.event)
            answer.step = machine.currentStep
            answer.hookSwitch?.event = event
            entries.append(answer)
            action = machine.receive(event)
        }
        let encoder = JSONEncoder()
        try entries.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n").appending("\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("killed after the fence: the dry run says it will roll back and lists the undo, changing nothing")
    func dryRunBeforeTheCommand() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("switch-resume-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environment = try environment(journal: path)
        let settings = try #require(environment.configuration.switchSettings)
        try write([.guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: false, at: .zero), .fenced(at: .zero)],
                  to: path, fingerprint: environment.configuration.topology.fingerprint)
        let before = try String(contentsOfFile: path, encoding: .utf8)
        let report = try await HookSwitchWiring.resume(environment, settings: settings, dryRun: true, confirm: { _ in Issue.record("a dry run asks nothing") }) { _ in }
        #expect(report.notes.contains { $0.contains("switch-wiring") && $0.contains("switch.close-sessions") && $0.contains("roll back") }, "\(report.notes)")
        #expect(report.changes.count == 2 && report.changes.first == "lift the fence on source", "\(report.changes)")
        #expect(report.changes.last?.hasPrefix("finish:") == true, "\(report.changes)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before, "the dry run writes nothing")
        // The next switch is refused, naming resume.
        let refusal = try #require(HookSwitchWiring.unfinishedRun(journalPath: path))
        #expect(refusal.remedy.contains("migrate-cli resume"))
    }

    @Test("a journal that does not replay: journal-mismatch (exit 78), naming the entry")
    func badJournal() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("switch-resume-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environment = try environment(journal: path)
        let settings = try #require(environment.configuration.switchSettings)
        try write([.guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: false, at: .zero)],
                  to: path, fingerprint: environment.configuration.topology.fingerprint)
        // The fence's action edited into a switch command.
        let edited = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        var last = try JSONDecoder().decode(JournalRecord.self, from: Data(edited.last!.utf8))
        last.hookSwitch?.action = .runSwitchCommand(.cutover)
        try (edited.dropLast() + [String(decoding: try JSONEncoder().encode(last), as: UTF8.self)]).joined(separator: "\n").appending("\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try await HookSwitchWiring.resume(environment, settings: settings, dryRun: true, confirm: { _ in }) { _ in }
            Issue.record("a journal that does not replay must be refused")
        } catch let error as CutoverError {
            #expect(error.code == .journalMismatch && error.message.contains("entry 4"), "\(error)")
            #expect(ExitStatus.of(error).status == .configuration)
        }
        // Another topology: refused too.
        try write([], to: path, fingerprint: "another")
        await #expect(throws: CutoverError.self) {
            _ = try await HookSwitchWiring.resume(environment, settings: settings, dryRun: true, confirm: { _ in }) { _ in }
        }
    }
}
