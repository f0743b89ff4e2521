import CutoverTestSupport
import Foundation
import Logging
import ProxySQLAdmin
import ReplicationControl
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
        let policies = Mutex<[CutoverPolicy]>([])
        let sleepFirst: Duration?

        init(clock: ManualClock, sleepFirst: Duration? = nil) {
            inner = FakeExecutor(clock: clock)
            self.sleepFirst = sleepFirst
        }

        func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult {
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

    /// A database that records the timeout of every replication step the executor asks of it (they are bounded by
    /// ``CutoverPolicy/replicationStepTimeout``), and otherwise answers as ``FakeCutoverDatabase``.
    final class TimeoutRecordingDatabase: CutoverDatabase, Sendable {
        let base: FakeCutoverDatabase
        let timeouts = Mutex<[String: Duration]>([:])
        init(_ base: FakeCutoverDatabase) { self.base = base }
        var name: String { base.name }
        var canFence: Bool { base.canFence }
        private func note(_ step: String, _ timeout: Duration) { timeouts.withLock { $0[step] = timeout } }
        func replicaHealth(logger: Logger) async throws -> ReplicaHealth? { try await base.replicaHealth(logger: logger) }
        func longWriteTransactions(olderThan limit: Duration, logger: Logger) async throws -> [LongTransaction] {
            try await base.longWriteTransactions(olderThan: limit, logger: logger)
        }
        func currentPosition(logger: Logger) async throws -> ReplicationCoordinate {
            try await base.currentPosition(logger: logger)
        }
        func fence(timeout: Duration, logger: Logger) async throws { try await base.fence(timeout: timeout, logger: logger) }
        func liftFence(logger: Logger) async throws { try await base.liftFence(logger: logger) }
        func closeSessions(users: [String], logger: Logger) async throws -> Int {
            try await base.closeSessions(users: users, logger: logger)
        }
        func waitForCatchUp(
            to coordinate: ReplicationCoordinate, timeout: Duration,
            progress: @escaping @Sendable (ReplicationCoordinate?) -> Void, logger: Logger
        ) async throws {
            try await base.waitForCatchUp(to: coordinate, timeout: timeout, progress: progress, logger: logger)
        }
        func stopAndResetReplication(timeout: Duration, logger: Logger) async throws {
            note("stopAndResetReplication", timeout)
        }
        func startReplication(
            from source: ServerEndpoint, user: String, password: String, tls: ReplicationTLS,
            at coordinate: ReplicationCoordinate, timeout: Duration, logger: Logger
        ) async throws {
            note("startReplication", timeout)
        }
        func verifyReplication(timeout: Duration, logger: Logger) async throws { note("verifyReplication", timeout) }
        func makeReadOnlyDurable(_ readOnly: Bool, timeout: Duration, logger: Logger) async throws -> ReadOnlyDurability {
            note("makeReadOnlyDurable", timeout)
            return try await base.makeReadOnlyDurable(readOnly, timeout: timeout, logger: logger)
        }
    }

    /// The live executor on a resume: the steps after the point of no return run under the journaled policy's
    /// bounds, not the current configuration's (before #17's one-policy change the executor was built with the
    /// configuration's policy, so these steps got `current`'s timeout).
    @Test func resumedLiveStepsUseTheJournaledPolicy() async throws {
        let records = try JournalFormatTests.interruptedAtOnline()
        let header = try #require(records.first)
        let journaled = try #require(header.policy)
        var current = journaled
        current.replicationStepTimeout = journaled.replicationStepTimeout + .seconds(7)
        let node = RecordingProxySQLAdmin(
            nodeName: "p1",
            servers: [
                BackendServer(hostgroup: 10, endpoint: ExecutorFixture.sourceEndpoint, status: .offlineHard),
                BackendServer(hostgroup: 10, endpoint: ExecutorFixture.targetEndpoint, status: .offlineHard),
            ])
        let source = TimeoutRecordingDatabase(FakeCutoverDatabase(name: "source", health: nil))
        let target = TimeoutRecordingDatabase(FakeCutoverDatabase(name: "aurora", health: nil))
        let executor = LiveCutoverExecutor(
            environment: CutoverEnvironment(
                topology: ExecutorFixture.topology(proxyNodes: ["p1"]), source: source, target: target,
                proxies: ProxySQLCluster(nodes: [node], nodeDeadline: .seconds(10)),  // generous: a loaded machine
                forwardReplicationPassword: "x", reverseReplicationPassword: "y"))
        let runner = CutoverRunner(
            configuration: .init(
                operation: try #require(header.operation), policy: current,
                topologyFingerprint: try #require(header.topologyFingerprint)),
            executor: executor, journal: nil, clock: ManualClock(), logger: logger)
        _ = try await runner.resume(from: records)
        let seen = source.timeouts.withLock { $0 }.merging(target.timeouts.withLock { $0 }) { first, _ in first }
        // The first forward step after ONLINE stops forward replication, bounded by the policy's step timeout (the
        // fence proof that follows fails on the fake, so the reverse replication steps do not run).
        #expect(seen["stopAndResetReplication"] == journaled.replicationStepTimeout, "\(seen)")
        for (step, timeout) in seen {
            #expect(timeout == journaled.replicationStepTimeout, "\(step) ran with \(timeout)")
        }
    }
}
