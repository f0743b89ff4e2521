import CutoverTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import Cutover

/// Issue #13 items 7 and 8: the journal must neither disable a rollback nor let a new run hide an unfinished one.
@Suite("CutoverRunner safety")
struct CutoverRunnerSafetyTests {
    let logger = Logger(label: "test")

    func configuration(_ operation: CutoverOperation) -> CutoverRunner.Configuration {
        CutoverRunner.Configuration(operation: operation, policy: CutoverPolicy(), topologyFingerprint: "topo-1")
    }

    func temporaryJournalPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString).jsonl").path
    }

    @Test("a full disk at the fence: every rollback step still runs, and the outcome says the journal failed")
    func rollbackRunsWithoutJournal() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let executor = FakeExecutor(clock: clock)
        // The disk fills when the fence is journaled: from then on every append fails with ENOSPC.
        let full = Atomic<Bool>(false)
        let journal = try CutoverJournal(path: path, didAppend: nil) { entry in
            if entry.action.map({ if case .fence = $0 { true } else { false } }) == true {
                full.store(true, ordering: .sequentiallyConsistent)
            }
            return full.load(ordering: .sequentiallyConsistent) ? ENOSPC : nil
        }
        let runner = CutoverRunner(
            configuration: configuration(.writerCutover), executor: executor, journal: journal, clock: clock, logger: logger)
        let report = try await runner.run()
        await journal.close()

        guard case .rolledBack(let reason, let failures) = report.outcome else {
            Issue.record("expected a rollback, got \(report.outcome)")
            return
        }
        #expect(failures.isEmpty)
        #expect(reason.contains("the journal could not be written"))
        #expect(reason.contains("No space left on device"))
        // The fence itself never ran (its intent was not on disk), but the rollback did, step by step.
        #expect(!executor.actions.contains { if case .fence = $0 { true } else { false } })
        #expect(executor.actions.contains(.setStatus(.writer(.source), .online)))
        #expect(executor.actions.contains { if case .restoreProxySettings = $0 { true } else { false } })
        // Nothing after the fault reached the file.
        let entries = try CutoverJournal.read(path: path)
        #expect(!entries.contains { $0.action == .setStatus(.writer(.source), .online) })
    }

    @Test("the disk fills during the rollback: the remaining rollback steps run all the same")
    func rollbackContinuesWhenJournalFailsMidway() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let executor = FakeExecutor(clock: clock, failing: "wait for target")
        let full = Atomic<Bool>(false)
        let journal = try CutoverJournal(path: path, didAppend: nil) { entry in
            if entry.step?.isRollback == true { full.store(true, ordering: .sequentiallyConsistent) }
            return full.load(ordering: .sequentiallyConsistent) ? EIO : nil
        }
        let runner = CutoverRunner(
            configuration: configuration(.writerCutover), executor: executor, journal: journal, clock: clock, logger: logger)
        let report = try await runner.run()
        await journal.close()
        guard case .rolledBack(let reason, _) = report.outcome else {
            Issue.record("expected a rollback, got \(report.outcome)")
            return
        }
        #expect(reason.contains("the journal could not be written"))
        #expect(executor.actions.contains(.liftFence(.source)))
        #expect(executor.actions.contains(.setStatus(.writer(.source), .online)))
        #expect(executor.actions.contains { if case .restoreProxySettings = $0 { true } else { false } })
    }

    @Test("a new run is refused while the journal holds a run stopped after the point of no return; resume still finishes it")
    func newRunRefusedOverUnfinished() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        // A writer cut-over that stops after the point of no return (exit 5).
        let first = try CutoverJournal(path: path)
        let stopped = try await CutoverRunner(
            configuration: configuration(.writerCutover), executor: FakeExecutor(clock: clock, failing: "stop and reset replication"),
            journal: first, clock: clock, logger: logger
        ).run()
        await first.close()
        guard case .stoppedAfterPointOfNoReturn = stopped.outcome else {
            Issue.record("expected a stop after the point of no return, got \(stopped.outcome)")
            return
        }
        let before = try CutoverJournal.read(path: path)

        for operation in [CutoverOperation.readerCutover, .writerCutover, .writerFailback] {
            let journal = try CutoverJournal(path: path)
            let executor = FakeExecutor(clock: clock)
            let error = await #expect(throws: CutoverError.self) {
                _ = try await CutoverRunner(
                    configuration: configuration(operation), executor: executor, journal: journal, clock: clock, logger: logger
                ).run()
            }
            await journal.close()
            #expect(error?.code == .unfinishedRun)
            #expect(error?.description.contains("migrate-cli resume") == true)
            #expect(executor.actions.isEmpty)
            #expect(try CutoverJournal.read(path: path) == before)
        }

        let journal = try CutoverJournal(path: path)
        let resumed = try await CutoverRunner(
            configuration: configuration(.writerCutover), executor: FakeExecutor(clock: clock), journal: journal, clock: clock,
            logger: logger
        ).resume(from: before)
        await journal.close()
        #expect(resumed.outcome == .completed)
        // Once finished, a new run may start again.
        let next = try CutoverJournal(path: path)
        #expect(next.unfinishedRunAtOpen == nil)
        await next.close()
    }

    @Test("a run killed mid-window (no run-finished line) also blocks a new run")
    func newRunRefusedOverInterrupted() async throws {
        let path = temporaryJournalPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock()
        let first = try CutoverJournal(path: path)
        _ = try await CutoverRunner(
            configuration: configuration(.writerCutover), executor: FakeExecutor(clock: clock), journal: first, clock: clock,
            logger: logger
        ).run()
        await first.close()
        // Cut the journal after the drain's action, as a SIGKILL there would leave it.
        let entries = try CutoverJournal.read(path: path)
        let cut = try #require(entries.firstIndex { if case .pollDrain? = $0.action { true } else { false } })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = try entries[...cut].map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)

        let journal = try CutoverJournal(path: path)
        #expect(journal.unfinishedRunAtOpen?.runID == entries.first?.runID)
        await #expect(throws: CutoverError.self) {
            _ = try await CutoverRunner(
                configuration: configuration(.readerCutover), executor: FakeExecutor(clock: clock), journal: journal, clock: clock,
                logger: logger
            ).run()
        }
        await journal.close()
    }
}
