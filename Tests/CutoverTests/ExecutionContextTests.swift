import CutoverTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import Cutover

/// One policy and one clock per run (issue #17): the runner hands the executor the policy the machine runs under —
/// the journaled one on resume, not the current configuration's — and a sleep on the run's own clock.
@Suite struct ExecutionContextTests {
    let logger = Logger(label: "execution-context-tests")

    /// Records the policy of every context it is given, then answers as ``FakeExecutor``.
    final class PolicyRecorder: CutoverExecutor, Sendable {
        let inner: FakeExecutor
        let policies = Mutex<[CutoverPolicy?]>([])
        let sleepFirst: Duration?

        init(clock: ManualClock, sleepFirst: Duration? = nil) {
            inner = FakeExecutor(clock: clock)
            self.sleepFirst = sleepFirst
        }

        func perform(_ action: CutoverStateMachine.Action, context: CutoverExecutionContext) async -> CutoverStepResult {
            let first = policies.withLock { policies in
                policies.append(context.policy)
                return policies.count == 1
            }
            if first, let sleepFirst { try? await context.sleep(sleepFirst) }
            return await inner.perform(action, context: context)
        }
    }

    @Test func resumeHandsTheExecutorTheJournaledPolicy() async throws {
        let records = try JournalFormatTests.interruptedAtOnline()
        let header = try #require(records.first)
        let journaled = try #require(header.policy)
        var current = journaled
        current.drainDeadline = journaled.drainDeadline + .seconds(7)
        #expect(current != journaled)
        let clock = ManualClock()
        let executor = PolicyRecorder(clock: clock)
        let runner = CutoverRunner(
            configuration: .init(
                operation: try #require(header.operation), policy: current,
                topologyFingerprint: try #require(header.topologyFingerprint)),
            executor: executor, journal: nil, clock: clock, logger: logger)
        let report = try await runner.resume(from: records)
        #expect(report.outcome == .completed)
        let policies = executor.policies.withLock { $0 }
        #expect(!policies.isEmpty)
        #expect(policies.allSatisfy { $0 == journaled }, "\(policies.count) contexts")
    }

    @Test func aNewRunHandsItsPolicyAndSleepsOnTheRunClock() async throws {
        var policy = CutoverPolicy()
        policy.drainDeadline = .seconds(9)
        let clock = ManualClock()
        let executor = PolicyRecorder(clock: clock, sleepFirst: .seconds(5))
        let runner = CutoverRunner(
            configuration: .init(operation: .writerCutover, policy: policy, topologyFingerprint: "t"),
            executor: executor, journal: nil, clock: clock, logger: logger)
        let sawSleeper = StopFlag()
        let report = try await withThrowingTaskGroup(of: CutoverReport?.self) { group in
            group.addTask { try await runner.run() }
            group.addTask {
                // The executor's first action sleeps 5 s on the context: on the run's manual clock it waits until the
                // clock is advanced (on any other clock it would sleep 5 real seconds and never be seen here).
                while !Task.isCancelled {
                    if clock.sleeperCount > 0 {
                        sawSleeper.set()
                        clock.advance(by: .seconds(5))
                    }
                    try? await Task.sleep(for: .milliseconds(1))
                }
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            preconditionFailure("the run always returns")
        }
        #expect(report.outcome == .completed)
        #expect(sawSleeper.isSet)
        #expect(clock.now.offset >= .seconds(5))
        let policies = executor.policies.withLock { $0 }
        #expect(policies.allSatisfy { $0 == policy })
    }
}
