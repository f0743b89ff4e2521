import Cutover
import Foundation
import Logging
import Testing

@testable import MigrateCLI

/// Serialized: a signal goes to the whole process, so two relays must not be installed at once.
@Suite("Signals", .serialized)
struct SignalTests {
    @Test("SIGINT cancels a task run under cancellingOnInterrupt (long before its 60 s sleep ends), and does not kill the process")
    func interruptCancels() async throws {
        let start = ContinuousClock.now
        await #expect(throws: CancellationError.self) {
            _ = try await cancellingOnInterrupt {
                kill(getpid(), SIGINT)
                try await Task.sleep(for: .seconds(60))
                return 1
            }
        }
        // The body sleeps 60 s: finishing well before proves the sleep was cancelled, not merely outlived (the whole
        // suite on a loaded 2-core machine took nearly 10 s to get here, so the bound is far from both).
        #expect(ContinuousClock.now - start < .seconds(45))
    }

    @Test("without a signal the result comes through")
    func noSignal() async throws {
        let value = try await cancellingOnInterrupt { 42 }
        #expect(value == 42)
    }

    /// Sends SIGINT to the process while draining, then lets the relay deliver it.
    final class InterruptingExecutor: CutoverExecutor, Sendable {
        let inner = AnsweringExecutor()

        func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult {
            if case .pollDrain = action {
                kill(getpid(), SIGINT)
                try? await Task.sleep(for: .milliseconds(300))
            }
            return await inner.perform(action, context: context)
        }
    }

    @Test("Ctrl-C during a writer cut-over: graceful shutdown, rollback, exit 130")
    func interruptRollsBack() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try Fixture.load(yaml: Fixture.minimalYAML, assignments: ["journal.path=\(directory)/journal.jsonl"])
        let environment = CommandEnvironment(
            configuration: configuration,
            connections: ConnectionFactory(configuration: configuration, environment: [:], loginPathResolver: nil),
            logger: Logger(label: "test")
        )
        let output = OutputCollector()
        let session = OperationSession(
            environment: environment,
            executor: InterruptingExecutor(),
            context: RunContext(),
            journaled: true,
            relaysSignals: true,
            output: { output.append($0) },
            makeRenderer: OperationCommand.rendererFactory(json: false, style: .plain)
        )
        let (report, status) = try await session.run(.writerCutover)
        guard case .rolledBack(let reason, let failures) = report.outcome else {
            Issue.record("expected a rollback, got \(report.outcome)")
            return
        }
        #expect(failures.isEmpty)
        #expect(reason.contains("shutdown"))
        #expect(status == .interrupted)
        #expect(output.value.contains("stop requested"))
        #expect(output.value.contains("stopped on request before the point of no return and rolled back"))
    }
}
