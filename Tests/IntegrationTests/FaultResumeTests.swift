import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import Synchronization
import Testing

/// An executor that "dies" like a process killed with SIGKILL: at the chosen moment it copies the journal as it is
/// on disk (what a killed process leaves behind), then performs nothing more (every later action fails at once,
/// without touching anything, so the abandoned runner ends quickly; its further journal lines go to the original
/// file, which is discarded).
final class DyingExecutor: CutoverExecutor {
    enum Death: Sendable, Hashable, CustomStringConvertible {
        /// Killed right after the n-th action (from 1) was journaled, before it started.
        case beforeAction(Int)
        /// Killed right after the n-th action took effect, before its outcome was journaled.
        case afterAction(Int)
        /// Killed right after the n-th action's outcome was journaled.
        case afterEvent(Int)

        var description: String {
            switch self {
            case .beforeAction(let n): "journaled action \(n), not performed"
            case .afterAction(let n): "action \(n) performed, outcome not journaled"
            case .afterEvent(let n): "outcome \(n) journaled"
            }
        }
    }

    let base: any CutoverExecutor
    let death: Death
    let journalPath: String
    let leftBehindPath: String
    private let state = Mutex<(count: Int, dead: Bool, actions: [CutoverAction])>((0, false, []))

    init(base: any CutoverExecutor, death: Death, journalPath: String, leftBehindPath: String) {
        self.base = base
        self.death = death
        self.journalPath = journalPath
        self.leftBehindPath = leftBehindPath
    }

    /// Whether the death happened (false: the run ended first).
    var died: Bool { state.withLock { $0.dead } }
    /// The actions started before the death.
    var actions: [CutoverAction] { state.withLock { $0.actions } }

    func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult {
        let (number, dead) = state.withLock { state in
            if !state.dead { state.count += 1 }
            return (state.count, state.dead)
        }
        if dead { return Self.deadResult(context) }
        switch death {
        case .beforeAction(number):
            die(droppingLastLine: false)
            return Self.deadResult(context)
        case .afterAction(number):
            state.withLock { $0.actions.append(action) }
            _ = await base.perform(action, context: context)
            die(droppingLastLine: false)
            return Self.deadResult(context)
        case .afterEvent(let n) where n + 1 == number:
            // The n-th outcome is the last line but one: the (n+1)-th action was journaled after it.
            die(droppingLastLine: true)
            return Self.deadResult(context)
        default:
            state.withLock { $0.actions.append(action) }
            return await base.perform(action, context: context)
        }
    }

    private func die(droppingLastLine: Bool) {
        var data = FileManager.default.contents(atPath: journalPath) ?? Data()
        if droppingLastLine {
            var lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
            lines.removeLast()
            data = Data(lines.joined(separator: [0x0A])) + Data([0x0A])
        }
        _ = FileManager.default.createFile(atPath: leftBehindPath, contents: data)
        state.withLock { $0.dead = true }
    }

    private static func deadResult(_ context: CutoverExecutionContext) -> CutoverStepResult {
        CutoverStepResult(
            event: .stepFailed(
                StepFailure(step: "dead", message: "the process was killed", endpoint: "test"), at: context.elapsed()))
    }
}

extension FaultTests {
    /// The process killed after each journal entry in turn (at the runner level: the journal as a killed process
    /// leaves it, then a fresh runner over fresh connections resumes it). The result must equal an uninterrupted
    /// run: a resume before the point of no return rolls back (and the operation is then run again), one after it
    /// finishes the run; either way the final routing, replication direction and data are those of a completed
    /// operation. One write load runs through all of it; cut-overs and failbacks alternate.
    @Suite("Process killed, then resumed", .faultBed())
    struct ProcessKilled {
        let logger = Logger(label: "fault.resume", factory: { _ in SwiftLogNoOpLogHandler() })

        /// Actions of a writer failback and of a cut-over (the cut-over fences the old writer in the window and
        /// makes the fence durable after the point of no return; the failback lifts the source's fence in the window
        /// and makes that durable after it).
        static let actionCount = 17

        static var deaths: [DyingExecutor.Death] {
            if LongTests.enabled {
                // After the last outcome: `killedBeforeRunFinished` (no action follows it to die at).
                return (1...actionCount).flatMap { n -> [DyingExecutor.Death] in
                    n < actionCount
                        ? [.beforeAction(n), .afterAction(n), .afterEvent(n)] : [.beforeAction(n), .afterAction(n)]
                }
            }
            // Both sides of every action of the window and of the point of no return, and a few later ones.
            var deaths: [DyingExecutor.Death] = []
            for n in [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16] {
                deaths += [.beforeAction(n), .afterAction(n)]
            }
            return deaths + [.afterEvent(1), .afterEvent(14)]
        }

        @Test("killed after each journal entry in turn, then resumed: the result equals an uninterrupted run")
        func killedAfterEachEntry() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let load = try WriteLoad(
                configuration: WriteLoad.Configuration(
                    endpoint: bed.rehearsal.writerEndpoint, clients: 4, pauseAfterFailure: .milliseconds(5)),
                logger: Logger(label: "fault.load", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            let sampler = RoutingSampler(nodes: bed.proxyNodes)
            let (report, finalOperation) = try await load.run { load -> CutoverOperation in
                guard try await load.waitForAcknowledgedWrites(100, timeout: .seconds(30)) else {
                    throw FaultBedError("the write load did not start")
                }
                return try await sampler.sampling {
                    var operation = CutoverOperation.writerCutover
                    for death in Self.deaths {
                        try await killAndResume(operation, death, bed: bed)
                        _ = try await load.waitForMoreAcknowledgedWrites(20, timeout: .seconds(20))
                        operation = operation == .writerCutover ? .writerFailback : .writerCutover
                    }
                    return operation == .writerCutover ? .writerFailback : .writerCutover
                }
            }
            #expect(sampler.summary.violations.isEmpty, "two writers ONLINE: \(sampler.summary.violations)")
            #expect(sampler.summary.totalSamples > 100)
            // The data: every acknowledged write on the final writer exactly once, and the same rows on the other
            // server (replication in the final direction carried everything).
            let verification = try await bed.expectNoWriteLostOrDoubled(report, after: finalOperation, "kill and resume")
            FaultMatrix.record(
                "| kill after each of \(Self.deaths.count) journal points, resume (\(report.acknowledgedCount) writes acknowledged through all) | lost \(verification.lost.count), duplicated \(verification.duplicated.count) | - | - | \(verification.acknowledgedCount) | \(verification.lost.count) | \(verification.duplicated.count) | \(sampler.summary.totalSamples) / \(sampler.summary.violations.count) |"
            )
            if finalOperation == .writerCutover { try await bed.failBack(logger: logger) }
            try await bed.expectStartingState("at the end")
        }

        @Test(
            "killed again while resuming: a second resume replays both runs and finishes",
            arguments: [
                (DyingExecutor.Death.afterAction(5), DyingExecutor.Death.afterAction(1)),
                (DyingExecutor.Death.beforeAction(14), DyingExecutor.Death.afterAction(2)),
            ])
        func killedWhileResuming(first: DyingExecutor.Death, second: DyingExecutor.Death) async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let journal = TemporaryJournal("run")
            let leftBehind = TemporaryJournal("left-behind")
            let leftBehindAgain = TemporaryJournal("left-behind-again")
            defer {
                journal.cleanup()
                leftBehind.cleanup()
                leftBehindAgain.cleanup()
            }
            try await runUntilDeath(.writerCutover, first, journal: journal.path, leftBehind: leftBehind.path, bed: bed)
            // The first resume dies too.
            let (_, dying) = try await bed.runOperation(
                .writerCutover, journalPath: leftBehind.path, resume: true, logger: logger
            ) { DyingExecutor(base: $0, death: second, journalPath: leftBehind.path, leftBehindPath: leftBehindAgain.path) }
            #expect(dying.died, "the resume ended before its death point")
            // The second resume.
            let report = try await bed.resume(journalPath: leftBehindAgain.path, logger: logger)
            FaultMatrix.record(
                "| killed at \(first), resume killed at \(second), resumed again | \(FaultMatrix.outcome(report.outcome)) | - | - | - | - | - | - |"
            )
            switch report.outcome {
            case .completed:
                try await bed.expectCutOverState("after the second resume")
                try await bed.failBack(logger: logger)
            case .rolledBack(_, let failures):
                #expect(failures.isEmpty, "\(failures)")
            default:
                Issue.record("second resume: \(report.outcome)")
            }
            try await bed.expectStartingState("at the end")
        }

        @Test("killed after the last outcome, before `run-finished`: resume reports the outcome again")
        func killedBeforeRunFinished() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let journal = TemporaryJournal("complete")
            defer { journal.cleanup() }
            let report = try await bed.runOperation(.writerCutover, journalPath: journal.path, logger: logger)
            #expect(report.outcome == .completed)
            // Drop the `run-finished` line.
            let data = try #require(FileManager.default.contents(atPath: journal.path))
            var lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
            lines.removeLast()
            _ = FileManager.default.createFile(
                atPath: journal.path, contents: Data(lines.joined(separator: [0x0A])) + Data([0x0A]))
            let resumed = try await bed.resume(journalPath: journal.path, logger: logger)
            #expect(resumed.outcome == .completed)
            try await bed.expectCutOverState("after")
            try await bed.failBack(logger: logger)
            try await bed.expectStartingState("at the end")
        }

        /// Runs `operation` with a journal until `death`, leaving the journal a killed process would leave at
        /// `leftBehind`.
        func runUntilDeath(
            _ operation: CutoverOperation, _ death: DyingExecutor.Death, journal path: String, leftBehind: String,
            bed: FaultBed
        ) async throws {
            let (_, dying) = try await bed.runOperation(operation, journalPath: path, logger: logger) {
                DyingExecutor(base: $0, death: death, journalPath: path, leftBehindPath: leftBehind)
            }
            try #require(dying.died, "\(operation) ended before \(death)")
        }

        /// One kill point: run until the death, resume with a fresh runner; if the resume rolled back, run the
        /// operation again. Then the state must be that of a completed `operation`.
        func killAndResume(_ operation: CutoverOperation, _ death: DyingExecutor.Death, bed: FaultBed) async throws {
            let journal = TemporaryJournal("run")
            let leftBehind = TemporaryJournal("left-behind")
            defer {
                journal.cleanup()
                leftBehind.cleanup()
            }
            try await runUntilDeath(operation, death, journal: journal.path, leftBehind: leftBehind.path, bed: bed)
            let label = "\(operation) killed (\(death))"
            // Nothing the journal shows may contain a password.
            let journalText = try String(contentsOfFile: leftBehind.path, encoding: .utf8)
            let (environment, close) = try await bed.makeEnvironment(logger: logger)
            for secret in bed.secrets(of: environment) {
                #expect(!journalText.contains(secret), "\(label): a password in the journal")
            }
            await close()

            let resumed = try await bed.resume(journalPath: leftBehind.path, operation: operation, logger: logger)
            var rerun = "-"
            switch resumed.outcome {
            case .completed:
                break
            case .rolledBack(_, let failures):
                #expect(failures.isEmpty, "\(label): rollback incomplete: \(failures)")
                try await bed.expectRolledBackState(of: operation, "\(label), rolled back")
                let again = try await bed.runOperation(operation, logger: logger)
                rerun = FaultMatrix.outcome(again.outcome)
                #expect(again.outcome == .completed, "\(label): run again after the rollback: \(again.outcome)")
            default:
                Issue.record("\(label): resume ended \(resumed.outcome)")
            }
            FaultMatrix.record(
                "| \(label) | resume: \(FaultMatrix.outcome(resumed.outcome)); run again: \(rerun) | - | - | - | - | - | - |"
            )
            try await bed.expectCompletedState(of: operation, label)
        }
    }
}
