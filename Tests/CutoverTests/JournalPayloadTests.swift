import CutoverTestSupport
import Foundation
import Logging
import Testing

@testable import Cutover

/// The journal's own payload types (`JournalPayload.swift`): what main 26a150a wrote with the machine's synthesized
/// `Codable` enums reads, replays and is written back byte for byte, and a payload this version cannot read is a
/// typed ``CutoverError/Code/journalMismatch`` on resume, not an unreadable journal or a crash.
@Suite struct JournalPayloadTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// One line per case of `Action`, `Event` and `CutoverOutcome`, encoded by main 26a150a.
    static let payloadsPath = fixtures.appendingPathComponent("journal-v1-payloads-main-26a150a.jsonl").path
    /// Six runs of the runner over `FakeExecutor` at main 26a150a: writer cut-over (pin relaxed), reader cut-over, a
    /// writer cut-over rolled back at the catch-up, a writer failback, a reader failback rolled back at the drain, and
    /// a writer cut-over stopped after the point of no return (reverse replication failed; unfinished).
    static let runsPath = fixtures.appendingPathComponent("journal-v1-runs-main-26a150a.jsonl").path
    let logger = Logger(label: "journal-payload-tests")

    /// An event through the journal's coding and back (what a journal line does to it).
    static func roundTrip(_ event: CutoverEvent) throws -> CutoverEvent {
        try decodeEvent(JSONEncoder().encode(JournalEventPayload(event)))
    }

    /// An event as the journal reads it from `json`.
    static func decodeEvent(_ json: Data) throws -> CutoverEvent {
        try JSONDecoder().decode(JournalEventPayload.self, from: json).machineEvent()
    }

    static func encodeLine(_ record: JournalRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(record), as: UTF8.self)
    }

    /// The name of the case a payload field holds (`setStatus` in `{"setStatus":{…}}`).
    static func caseName(_ line: Substring, field: String) throws -> String? {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return (object?[field] as? [String: Any])?.keys.first
    }

    @Test func everyPayloadOfMain26a150aReadsAndIsWrittenBackByteForByte() throws {
        let text = try String(contentsOfFile: Self.payloadsPath, encoding: .utf8)
        let lines = text.split(separator: "\n")
        let records = try CutoverJournal.read(path: Self.payloadsPath)
        #expect(records.count == lines.count)
        for (line, record) in zip(lines, records) {
            #expect(record.unreadablePayload == nil, "\(line)")
            #expect(record.action != nil || record.event != nil || record.outcome != nil, "\(line)")
            #expect(try Self.encodeLine(record) == String(line))
            // Through the machine's values and back: the same bytes.
            var rebuilt = record
            rebuilt.action = record.action
            rebuilt.event = record.event
            rebuilt.outcome = record.outcome
            #expect(try Self.encodeLine(rebuilt) == String(line))
        }
        // Every case of each payload is in the fixture.
        let actions = Set(try lines.compactMap { try Self.caseName($0, field: "action") })
        let events = Set(try lines.compactMap { try Self.caseName($0, field: "event") })
        let outcomes = Set(try lines.compactMap { try Self.caseName($0, field: "outcome") })
        #expect(actions.count == 20, "\(actions.sorted())")
        #expect(events.count == 23, "\(events.sorted())")
        #expect(outcomes == ["completed", "refused", "rolledBack", "stoppedAfterPointOfNoReturn"])
    }

    @Test func runsOfMain26a150aReplayToTheirJournaledOutcomes() throws {
        let entries = try CutoverJournal.read(path: Self.runsPath)
        let runs = JournalFormatTests.runs(entries)
        #expect(runs.map { $0.first?.operation } == [
            .writerCutover, .readerCutover, .writerCutover, .writerFailback, .readerFailback, .writerCutover,
        ])
        var outcomes: [String] = []
        for run in runs {
            for end in 1...run.count { _ = try JournalFormatTests.replay(Array(run[..<end])) }
            var machine = try JournalFormatTests.replay(run)
            let outcome = try #require(run.last?.outcome)
            let next = machine.resumeAfterInterruption()
            switch outcome {
            case .completed: outcomes.append("completed")
            case .rolledBack: outcomes.append("rolledBack")
            case .stoppedAfterPointOfNoReturn: outcomes.append("stopped")
            case .refused: outcomes.append("refused")
            }
            if case .stoppedAfterPointOfNoReturn = outcome {
                #expect(next == .startReplication(.source, source: .target, coordinate: .init(file: "target-bin.000001", offset: 42)))
            } else {
                #expect(next == .finish(outcome))
            }
        }
        #expect(outcomes == ["completed", "completed", "rolledBack", "completed", "rolledBack", "stopped"])
        // The rollbacks journaled as rollback steps.
        #expect(entries.contains { $0.step == "rollback.liftFence" && $0.action == .liftFence(.source) })
        #expect(entries.contains { $0.step == "rollback.onlineOld" && $0.action == .setStatus(.reader(.target), .online) })
    }

    @Test func unfinishedRunOfMain26a150aResumesToCompletion() async throws {
        let entries = try CutoverJournal.read(path: Self.runsPath)
        let run = try #require(CutoverJournal.unfinishedRun(in: entries))
        let header = try #require(run.first)
        let executor = FakeExecutor(clock: ManualClock())
        let runner = CutoverRunner(
            configuration: .init(
                operation: try #require(header.operation), policy: .init(),
                topologyFingerprint: try #require(header.topologyFingerprint)),
            executor: executor, journal: nil, clock: ManualClock(), logger: logger)
        let report = try await runner.resume(from: entries)
        #expect(report.outcome == .completed)
        #expect(executor.actions.first == .startReplication(.source, source: .target, coordinate: ReplicationCoordinate(file: "target-bin.000001", offset: 42)))
    }

    // MARK: Payloads this version cannot read

    /// `lines` with the line of `sequence` changed by `edit`, written to a file; returns what `read` gives back.
    static func edited(_ path: String, sequence: Int, _ edit: (String) -> String) throws -> [JournalRecord] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let changed = lines.enumerated().map { $0.offset + 1 == sequence ? edit($0.element) : $0.element }
        let out = try JournalFormatTests.write(Data((changed.joined(separator: "\n") + "\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: out) }
        return try CutoverJournal.read(path: out)
    }

    func resume(_ entries: [JournalRecord]) async throws -> CutoverReport {
        let run = try #require(CutoverJournal.unfinishedRun(in: entries))
        let header = try #require(run.first)
        let runner = CutoverRunner(
            configuration: .init(
                operation: try #require(header.operation), policy: .init(),
                topologyFingerprint: try #require(header.topologyFingerprint)),
            executor: FakeExecutor(clock: ManualClock()), journal: nil, clock: ManualClock(), logger: logger)
        return try await runner.resume(from: entries)
    }

    /// The unfinished run's last event (`replicationStopped`) replaced by an event no version has, then by a known
    /// event whose field does not read: the journal still reads (for `journal show`), the line says why, and resume
    /// refuses with `journalMismatch` naming the entry. Before the journal had its own payload types such a line made
    /// the whole journal unreadable.
    @Test func unknownOrMalformedEventIsAJournalMismatch() async throws {
        let entries = try CutoverJournal.read(path: Self.runsPath)
        let stopped = try #require(entries.last { $0.kind == .event && $0.step == "stopForwardReplication" })
        for replacement in [#"{"teleported":{"_0":"target"}}"#, #"{"replicationStopped":{"_0":"aurora"}}"#, #"[1]"#] {
            let edited = try Self.edited(Self.runsPath, sequence: stopped.sequence) {
                $0.replacingOccurrences(of: #"{"replicationStopped":{"_0":"target"}}"#, with: replacement)
            }
            let line = try #require(edited.first { $0.sequence == stopped.sequence })
            #expect(line.event == nil)
            #expect(line.unreadablePayload?.contains("cannot be read by this version") == true, "\(line)")
            let error = await #expect(throws: CutoverError.self) { try await resume(edited) }
            #expect(error?.code == .journalMismatch)
            #expect(error?.message.contains("entry \(stopped.sequence)") == true, "\(String(describing: error))")
        }
    }

    @Test func unknownActionOrOutcomeIsAJournalMismatch() async throws {
        let entries = try CutoverJournal.read(path: Self.runsPath)
        let start = try #require(entries.last { $0.kind == .action && $0.step == "startReverseReplication" })
        let edited = try Self.edited(Self.runsPath, sequence: start.sequence) {
            $0.replacingOccurrences(of: #""action":{"startReplication""#, with: #""action":{"startTeleport""#)
        }
        #expect(edited.first { $0.sequence == start.sequence }?.unreadablePayload?.contains("startTeleport") == true)
        let error = await #expect(throws: CutoverError.self) { try await resume(edited) }
        #expect(error?.code == .journalMismatch)

        // The end of the last run unreadable: not taken as finished, and refused rather than resumed.
        let finish = try #require(entries.last { $0.kind == .runFinished })
        let editedEnd = try Self.edited(Self.runsPath, sequence: finish.sequence) {
            $0.replacingOccurrences(of: #""outcome":{"stoppedAfterPointOfNoReturn""#, with: #""outcome":{"paused""#)
        }
        #expect(editedEnd.last?.outcome == nil)
        #expect(CutoverJournal.unfinishedRun(in: editedEnd) != nil)
        let endError = await #expect(throws: CutoverError.self) { try await resume(editedEnd) }
        #expect(endError?.code == .journalMismatch)
        #expect(endError?.message.contains("paused") == true, "\(String(describing: endError))")
    }

    /// A new run over a journal whose last run ended with an outcome this version cannot read is refused, and the
    /// refusal does not send the operator to `resume` (which refuses such a run too: a journal mismatch); an ordinary
    /// unfinished run still names `resume`.
    @Test func newRunOverAnUnreadableEndNamesWhatToDo() async throws {
        let entries = try CutoverJournal.read(path: Self.runsPath)
        let finish = try #require(entries.last { $0.kind == .runFinished })
        let lines = try String(contentsOfFile: Self.runsPath, encoding: .utf8).split(separator: "\n").map(String.init)
        for (unreadable, text) in [
            (true, lines.enumerated().map { index, line in
                index + 1 == finish.sequence
                    ? line.replacingOccurrences(
                        of: #""outcome":{"stoppedAfterPointOfNoReturn""#, with: #""outcome":{"paused""#)
                    : line
            }),
            (false, lines),
        ] {
            let path = try JournalFormatTests.write(Data((text.joined(separator: "\n") + "\n").utf8))
            defer {
                try? FileManager.default.removeItem(atPath: path)
                try? FileManager.default.removeItem(atPath: path + ".lock")
            }
            let journal = try CutoverJournal(path: path)
            #expect((journal.unfinishedRunEndUnreadable != nil) == unreadable)
            let header = try #require(journal.unfinishedRunAtOpen)
            let runner = CutoverRunner(
                configuration: .init(
                    operation: try #require(header.operation), policy: .init(),
                    topologyFingerprint: try #require(header.topologyFingerprint)),
                executor: FakeExecutor(clock: ManualClock()), journal: journal, clock: ManualClock(), logger: logger)
            let error = await #expect(throws: CutoverError.self) { try await runner.run() }
            await journal.close()
            #expect(error?.code == .unfinishedRun)
            if unreadable {
                #expect(error?.message.contains("cannot read") == true, "\(String(describing: error))")
                #expect(error?.message.contains("paused") == true, "\(String(describing: error))")
                #expect(error?.remedy?.contains("refuses it") == true, "\(String(describing: error))")
                #expect(error?.remedy?.contains("finish it first with `migrate-cli resume`") == false)
            } else {
                #expect(error?.remedy?.contains("finish it first with `migrate-cli resume`") == true)
            }
        }
    }

    /// A line whose payload cannot be read is never written back as something else.
    @Test func unreadablePayloadIsNotWrittenBack() throws {
        var record = JournalRecord(sequence: 1, runID: "r", kind: .event, time: "2026-12-06T10:00:00.000Z", elapsedMicroseconds: 0)
        record.eventPayload = .unreadable(name: "teleported", reason: "unknown")
        #expect(throws: EncodingError.self) { try Self.encodeLine(record) }
    }
}
