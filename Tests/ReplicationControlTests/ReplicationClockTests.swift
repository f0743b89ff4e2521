import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

/// The replication controllers measure and sleep on an injected clock (issue #17): a manual clock drives a polling
/// catch-up wait to its result and to its deadline without any real waiting, and the measured times are the manual
/// clock's, to the nanosecond.
@Suite("Replication waits on an injected clock")
struct ReplicationClockTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let target = try! BinlogPosition(file: "mysql-bin.000003", offset: 2000)

    /// Runs `body` while advancing `clock` by `step` each time something sleeps on it.
    func driving<T: Sendable>(
        _ clock: ManualClock, step: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while !Task.isCancelled {
                    if clock.sleeperCount > 0 { clock.advance(by: step) }
                    try? await Task.sleep(for: .milliseconds(1))
                }
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            preconditionFailure("the body always returns")
        }
    }

    func waiter(_ session: ScriptedSQLSession, clock: ManualClock, pollInterval: Duration) -> CatchUpWaiter {
        CatchUpWaiter(
            session: session, dialect: Dialects.mariaDB,
            options: .init(strategy: .polling, pollInterval: pollInterval), clock: ReplicationClock(clock))
    }

    @Test func pollingWaitsOnTheInjectedClock() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW SLAVE STATUS", answer: StatusRow(executedOffset: "1000").legacy)
        session.expect("SHOW SLAVE STATUS", answer: StatusRow(executedOffset: "1500").legacy)
        session.expect("SHOW SLAVE STATUS", answer: StatusRow(executedOffset: "2000").legacy)
        let clock = ManualClock()
        let waiter = waiter(session, clock: clock, pollInterval: .milliseconds(250))
        let (target, logger) = (target, logger)
        let result = try await driving(clock, step: .milliseconds(250)) {
            try await waiter.waitUntilExecuted(
                .position(target), deadline: .now.advanced(by: .seconds(30)), logger: logger)
        }
        #expect(result.method == .polling)
        #expect(result.rounds == 3)
        // Two polls' pauses on the manual clock, exactly: the continuous clock would add the statements' time.
        #expect(result.waited == .milliseconds(500))
        #expect(clock.now.offset == .milliseconds(500))
        try session.verifyAllConsumed()
    }

    @Test func theDeadlinePassesOnTheInjectedClock() async throws {
        let session = ScriptedSQLSession()
        for _ in 0..<4 { session.expect("SHOW SLAVE STATUS", answer: StatusRow(executedOffset: "1000").legacy) }
        let clock = ManualClock()
        let waiter = waiter(session, clock: clock, pollInterval: .milliseconds(400))
        let (target, logger) = (target, logger)
        let error = await #expect(throws: ReplicationError.self) {
            try await driving(clock, step: .milliseconds(400)) {
                try await waiter.waitUntilExecuted(
                    .position(target), deadline: .now.advanced(by: .seconds(1)), logger: logger)
            }
        }
        #expect(error?.code == .catchUpTimedOut)
        // Polls at 0, 400 and 800 ms, then a last one at the deadline (1 s on the manual clock, in well under a
        // second of real time): four status reads.
        try session.verifyAllConsumed()
        #expect(clock.now.offset >= .milliseconds(999) && clock.now.offset <= .milliseconds(1200))
    }
}
