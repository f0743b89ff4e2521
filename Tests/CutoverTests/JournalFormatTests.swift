import CutoverTestSupport
import Foundation
import Logging
import Testing

@testable import Cutover

/// The journal as outside input: the committed sample written by the format before ``JournalRecord`` had a version
/// (a writer cut-over and a failback on the sandbox, `migrate-cli` at main 20d148f) still reads and replays, and a
/// corrupted, truncated or future-version journal is refused with a typed error instead of stopping the process.
@Suite struct JournalFormatTests {
    static let samplePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/journal-v1-main-20d148f.jsonl").path
    let logger = Logger(label: "journal-format-tests")

    static func sample() throws -> [JournalRecord] { try CutoverJournal.read(path: samplePath) }

    /// The runs of the sample, each from its `run-started` entry.
    static func runs(_ entries: [JournalRecord]) -> [[JournalRecord]] {
        var runs: [[JournalRecord]] = []
        for entry in entries {
            if entry.kind == .runStarted { runs.append([]) }
            runs[runs.count - 1].append(entry)
        }
        return runs
    }

    static func replay(_ run: [JournalRecord]) throws -> CutoverStateMachine {
        let header = try #require(run.first)
        let operation = try #require(header.operation)
        let policy = try #require(header.policy)
        return try JournalReplay(run: run, operation: operation, policy: policy).machine
    }

    /// Writes `records` as a journal file (the current encoder) and returns its path.
    static func write(_ records: [JournalRecord]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for record in records {
            data.append(try encoder.encode(record))
            data.append(0x0A)
        }
        return try write(data)
    }

    static func write(_ data: Data) throws -> String {
        let path = NSTemporaryDirectory() + "journal-format-\(UUID().uuidString).jsonl"
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The first run of the sample cut just after `onlineNew`'s action, as a SIGKILL there leaves it.
    static func interruptedAtOnline() throws -> [JournalRecord] {
        let first = try #require(runs(try sample()).first)
        let online = try #require(first.firstIndex { $0.kind == .action && $0.step == "onlineNew" })
        return Array(first[...online])
    }

    func resume(_ records: [JournalRecord]) async throws -> CutoverReport {
        let header = try #require(records.first)
        let runner = CutoverRunner(
            configuration: .init(
                operation: try #require(header.operation), policy: .init(),
                topologyFingerprint: try #require(header.topologyFingerprint)),
            executor: FakeExecutor(clock: ManualClock()), journal: nil, clock: ManualClock(), logger: logger)
        return try await runner.resume(from: records)
    }

    // MARK: Today's format

    @Test func sampleWrittenBeforeVersioningReadsAsVersionOne() throws {
        let entries = try Self.sample()
        #expect(entries.count == 80)
        #expect(entries.allSatisfy { $0.formatVersion == nil && $0.effectiveFormatVersion == 1 })
        let steps = entries.compactMap(\.step)
        #expect(steps.count == 76)
        let unknown = steps.filter { !$0.isKnown }
        #expect(unknown.isEmpty, "\(unknown)")
        #expect(Self.runs(entries).map { $0.first?.operation } == [.writerCutover, .writerFailback])
        #expect(CutoverJournal.unfinishedRun(in: entries) == nil)
    }

    @Test func sampleRunsReplayToTheirJournaledOutcome() throws {
        for run in Self.runs(try Self.sample()) {
            var machine = try Self.replay(run)
            let outcome = try #require(run.last?.outcome)
            #expect(outcome == .completed)
            #expect(machine.currentStep == nil)
            #expect(machine.isPastPointOfNoReturn)
            #expect(machine.resumeAfterInterruption() == .finish(outcome))
        }
    }

    /// A crash leaves a journal cut at a line boundary: every such cut of the sample replays.
    @Test func everyPrefixOfTheSampleReplays() throws {
        for run in Self.runs(try Self.sample()) {
            for end in 1...run.count {
                _ = try Self.replay(Array(run[..<end]))
            }
        }
    }

    /// What this version writes reads back as what it wrote, with its version.
    @Test func currentWriterRoundTripsTheSample() throws {
        let entries = try Self.sample()
        let rewritten = entries.map { entry -> JournalRecord in
            var entry = entry
            entry.formatVersion = JournalRecord.currentFormatVersion
            return entry
        }
        let path = try Self.write(rewritten)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").allSatisfy { $0.contains("\"version\":1") })
        #expect(try CutoverJournal.read(path: path) == rewritten)
    }

    @Test func stepIDsKeepTheirTextAndPhase() throws {
        let rollback: StepID = "rollback.onlineOld"
        #expect(rollback.isRollback && rollback.name == "onlineOld" && rollback.isKnown)
        #expect(StepID(CutoverStateMachine.RollbackStep.onlineOld) == rollback)
        let forward = StepID(rawValue: "offlineSoftOld")
        #expect(!forward.isRollback && forward.isKnown && forward.rawValue == "offlineSoftOld")
        #expect(!StepID(rawValue: "rollback.teleport").isKnown)
        let data = try JSONEncoder().encode([rollback, forward])
        #expect(String(decoding: data, as: UTF8.self) == #"["rollback.onlineOld","offlineSoftOld"]"#)
    }

    @Test func interruptedSampleResumesForward() async throws {
        let report = try await resume(Self.interruptedAtOnline())
        #expect(report.outcome == .completed)
    }

    // MARK: Refusals

    /// An event edited into another (the drain's `drained` into `caughtUp`): main 20d148f stopped the process with
    /// "Fatal error: event caughtUp(...) does not answer step drainOld" on this journal; now a typed refusal.
    @Test func corruptedEventIsAJournalMismatch() async throws {
        var records = try Self.interruptedAtOnline()
        let drained = try #require(records.firstIndex { $0.kind == .event && $0.step == "drainOld" })
        records[drained].event = .caughtUp(.target, at: .milliseconds(100))
        let error = await #expect(throws: CutoverError.self) { try await resume(records) }
        #expect(error?.code == .journalMismatch)
        #expect(error?.message.contains("entry \(records[drained].sequence)") == true, "\(String(describing: error))")
    }

    @Test func editedActionOrStepIsAJournalMismatch() throws {
        var records = try Self.interruptedAtOnline()
        let fence = try #require(records.firstIndex { $0.kind == .action && $0.step == "fenceOld" })
        var otherAction = records
        otherAction[fence].action = .liftFence(.source)
        #expect(throws: CutoverError.self) { try Self.replay(otherAction) }
        records[fence].step = "catchUp"
        let error = #expect(throws: CutoverError.self) { try Self.replay(records) }
        #expect(error?.code == .journalMismatch)
        var empty = try Self.interruptedAtOnline()
        empty[fence].action = nil
        #expect(throws: CutoverError.self) { try Self.replay(empty) }
    }

    /// Lines lost in the middle (a journal cut and pasted together, a bad copy): the drain's outcome is missing, so
    /// the next action does not follow.
    @Test func missingLinesAreAJournalMismatch() async throws {
        var records = try Self.interruptedAtOnline()
        let drained = try #require(records.firstIndex { $0.kind == .event && $0.step == "drainOld" })
        records.remove(at: drained)
        let error = await #expect(throws: CutoverError.self) { try await resume(records) }
        #expect(error?.code == .journalMismatch)
        // The outcome of the fence dropped: the next event answers another action.
        var records2 = try Self.interruptedAtOnline()
        let fenced = try #require(records2.firstIndex { $0.kind == .event && $0.step == "fenceOld" })
        records2.removeSubrange(fenced...(fenced + 1))
        let error2 = #expect(throws: CutoverError.self) { try Self.replay(records2) }
        #expect(error2?.code == .journalMismatch)
    }

    /// Truncated bytes: a torn last line is a crash in the middle of a write (ignored, the run resumes); a line
    /// torn in the middle of the file is unreadable.
    @Test func truncatedJournalIsRefusedOrResumedNeverACrash() async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.samplePath))
        let lines = data.split(separator: 0x0A)
        // The first run, cut in the middle of its 25th line (the ONLINE's event).
        var torn = Data(lines[..<24].joined(separator: [0x0A]))
        torn.append(0x0A)
        torn.append(lines[24].prefix(lines[24].count / 2))
        let tornPath = try Self.write(torn)
        defer { try? FileManager.default.removeItem(atPath: tornPath) }
        let read = try CutoverJournal.read(path: tornPath)
        #expect(read.count == 24)
        #expect(try await resume(read).outcome == .completed)

        var middle = Data(lines[..<10].joined(separator: [0x0A]))
        middle.append(0x0A)
        middle.append(lines[10].prefix(lines[10].count / 2))
        middle.append(0x0A)
        middle.append(Data(lines[11..<24].joined(separator: [0x0A])))
        middle.append(0x0A)
        let middlePath = try Self.write(middle)
        defer { try? FileManager.default.removeItem(atPath: middlePath) }
        let error = #expect(throws: CutoverError.self) { try CutoverJournal.read(path: middlePath) }
        #expect(error?.code == .journalUnreadable)
        #expect(error?.message.contains("line 11") == true)
    }

    /// A line of a later format, even one whose payload this version cannot decode, is refused as such.
    @Test func futureVersionIsUnsupported() async throws {
        var records = try Self.interruptedAtOnline()
        records[3].formatVersion = JournalRecord.currentFormatVersion + 1
        let path = try Self.write(records)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: CutoverError.self) { try CutoverJournal.read(path: path) }
        #expect(error?.code == .unsupportedJournalVersion)
        #expect(error?.message.contains("line 4") == true)

        let future = #"{"version":2,"sequence":1,"kind":"checkpoint","payload":{"teleport":true}}"# + "\n"
        let futurePath = try Self.write(Data(future.utf8))
        defer { try? FileManager.default.removeItem(atPath: futurePath) }
        let error2 = #expect(throws: CutoverError.self) { try CutoverJournal.read(path: futurePath) }
        #expect(error2?.code == .unsupportedJournalVersion)

        // Records built in memory (a caller that decoded them itself) are checked by the replay too.
        let replayError = await #expect(throws: CutoverError.self) { try await resume(records) }
        #expect(replayError?.code == .unsupportedJournalVersion)
    }
}
