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
            if case .finish(let outcome) = action {
                // The run ended: its `run-finished` entry, as `HookSwitchRun` writes it.
                var last = entry(.runFinished)
                last.step = "switch.done"
                last.outcome = outcome
                last.statements = [ExecutedStatement(endpoint: "switch cutover", statement: "2 session(s) closed")]
                entries.append(last)
                break
            }
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

    /// ADR 0013 "Not yet" (#17): a finished switch run whose `run-finished` outcome this version cannot read (written
    /// by another version, or edited) was replayed to the machine's own outcome: `resume` wrote a second end and the
    /// run looked finished-ok. Now `resume` refuses it (journal mismatch, exit 78), `status` shows the end as
    /// unreadable rather than ended or interrupted, and a new switch is refused without naming `resume`.
    @Test("a finished run whose outcome cannot be read: resume refuses it (exit 78), status says so, a new switch is refused")
    func finishedWithUnreadableOutcome() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("switch-resume-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environment = try environment(journal: path)
        let settings = try #require(environment.configuration.switchSettings)
        let final = ReplicationCoordinate(file: "source-bin.000007", offset: 4_242)
        try write(
            [
                .guardsFinished(blockingReasons: [], oldAlreadyReadOnly: false, newWriterReadOnly: false, at: .zero),
                .fenced(at: .milliseconds(10)), .sessionsClosed(count: 1), .positionRead(.source, final),
                .caughtUp(at: .milliseconds(20)), .replicationStopped,
                .positionRead(.target, ReplicationCoordinate(file: "aurora-bin.000002", offset: 900)),
                .replicationStarted, .replicationVerified,
                .switchCommandSucceeded(started: .milliseconds(30), at: .milliseconds(40)), .sessionsClosed(count: 2),
                .writeObserved(ReplicationCoordinate(file: "aurora-bin.000002", offset: 1_350), at: .milliseconds(50)),
                .readOnlySet,
            ], to: path, fingerprint: environment.configuration.topology.fingerprint)
        let written = try CutoverJournal.read(path: path)
        #expect(written.last?.kind == .runFinished && written.last?.outcome == .completed)
        #expect(HookSwitchWiring.unfinishedRun(journalPath: path) == nil, "a finished run refuses nothing")
        // Its outcome edited into a case this version does not know.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(#""outcome":{"completed""#))
        try text.replacingOccurrences(of: #""outcome":{"completed""#, with: #""outcome":{"paused""#)
            .write(toFile: path, atomically: true, encoding: .utf8)
        let end = try #require(try CutoverJournal.read(path: path).last)

        do {
            let report = try await HookSwitchWiring.resume(environment, settings: settings, dryRun: true, confirm: { _ in }) { _ in }
            Issue.record("an end that cannot be read must be refused, got \(report.notes) \(report.changes)")
        } catch let error as CutoverError {
            #expect(error.code == .journalMismatch, "\(error)")
            #expect(error.message.contains("entry \(end.sequence) its outcome paused cannot be read"), "\(error)")
            #expect(ExitStatus.of(error).status == .configuration)
        }
        let state = JournalRenderer.phase(try CutoverJournal.read(path: path), path: path).rows.first { $0.first == "state" }
        let shown = try #require(state?.last)
        #expect(shown.hasPrefix("outcome unreadable: entry \(end.sequence) its outcome paused cannot be read"), "\(shown)")
        #expect(!shown.hasPrefix("ended") && !shown.hasPrefix("unfinished") && !shown.hasPrefix("completed"), "\(shown)")
        let refusal = try #require(HookSwitchWiring.unfinishedRun(journalPath: path))
        #expect(refusal.message.contains("outcome this version cannot read"), "\(refusal.message)")
        #expect(refusal.remedy.contains("`migrate-cli resume` refuses it"), "\(refusal.remedy)")
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
