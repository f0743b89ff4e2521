import ProxySQLAdmin
import Testing

@testable import Cutover

private func ms(_ value: Int) -> Duration { .milliseconds(value) }

private func holder(_ id: UInt64, _ holderClass: DrainHolderClass) -> ClassifiedHolder {
    ClassifiedHolder(
        holder: SessionHolder(
            sessionID: id, user: "app", clientAddress: "10.1.0.7:\(50000 + id) via p1", command: "Sleep",
            timeMilliseconds: 1, reason: "test"),
        holderClass: holderClass)
}

/// Feeds `observations` to a schedule and returns the steps it asked for, the first one included: a transcript.
private func transcript(
    _ observations: [DrainSchedule.Observation],
    policy: CutoverPolicy = CutoverPolicy(),
    timeout: Duration = ms(2000)
) -> (steps: [DrainSchedule.Next], schedule: DrainSchedule) {
    var schedule = DrainSchedule(policy: policy, start: .zero, timeout: timeout, interval: ms(2))
    var steps = [schedule.first]
    for observation in observations { steps.append(schedule.next(after: observation)) }
    return (steps, schedule)
}

@Suite("Drain schedule (pure, issue #18)")
struct DrainScheduleTests {
    @Test("no holder: one ConnUsed poll ends the drain; one late poll is only slept over")
    func drained() {
        #expect(transcript([.pool(used: 0, at: ms(3))]).steps == [.pollPool, .finish(.drained(at: ms(3)))])
        let late = transcript([.pool(used: 1, at: ms(3)), .slept(at: ms(5)), .pool(used: 0, at: ms(8))])
        #expect(late.steps == [.pollPool, .sleep(ms(2)), .pollPool, .finish(.drained(at: ms(8)))])
        #expect(late.schedule.holderReads == 0)
    }

    @Test("only idle pins after two busy polls: the drain ends at once, OFFLINE_HARD cuts them")
    func idlePinsOnly() {
        let pins = [holder(1, .autoIncrementPin), holder(2, .sessionPin)]
        let run = transcript([
            .pool(used: 2, at: ms(3)), .slept(at: ms(5)), .pool(used: 2, at: ms(8)), .holders(pins, at: ms(11)),
        ])
        #expect(run.steps == [.pollPool, .sleep(ms(2)), .pollPool, .readHolders, .finish(.idlePinsOnly(pins, at: ms(11)))])
    }

    @Test("busy pinned clients: the chase reads the processlist back to back, killing each pin when it is seen idle, until nobody holds; one ConnUsed poll confirms")
    func chase() {
        let busyA = holder(1, .runningStatement)
        let idleA = holder(1, .autoIncrementPin)
        let busyB = holder(2, .runningStatement)
        let idleB = holder(2, .sessionPin)
        let run = transcript([
            .pool(used: 2, at: ms(3)), .slept(at: ms(5)), .pool(used: 2, at: ms(8)),
            .holders([idleA, busyB], at: ms(11)),  // A between two statements, B writing
            .killed([idleA], at: ms(12)),
            .holders([busyB], at: ms(15)),  // B still writing: read again at once
            .holders([idleB], at: ms(18)),  // B seen idle alone: only idle pins, the drain ends
        ])
        #expect(
            run.steps == [
                .pollPool, .sleep(ms(2)), .pollPool, .readHolders, .kill([idleA]), .readHolders, .readHolders,
                .finish(.idlePinsOnly([idleA, idleB], at: ms(18))),
            ])
        #expect(run.schedule.cut == [idleA])

        // The same with B seen holding nothing at the last read (it was killed by its own client meanwhile).
        let empty = transcript([
            .pool(used: 2, at: ms(3)), .slept(at: ms(5)), .pool(used: 2, at: ms(8)),
            .holders([idleA, busyB], at: ms(11)), .killed([idleA], at: ms(12)), .holders([], at: ms(15)),
            .pool(used: 0, at: ms(18)),
        ])
        #expect(empty.steps.suffix(2) == [.pollPool, .finish(.drainedAfterCuttingIdlePins([idleA], at: ms(18)))])
    }

    @Test("a transaction is waited for at the ordinary cadence: ConnUsed every interval, the processlist at most every 10 ms, never killed")
    func transactionCadence() {
        let transaction = holder(4, .openTransaction)
        let idle = holder(1, .autoIncrementPin)
        let run = transcript([
            .pool(used: 2, at: ms(3)), .slept(at: ms(5)), .pool(used: 2, at: ms(8)),
            .holders([idle, transaction], at: ms(11)), .killed([idle], at: ms(12)),
            .holders([transaction], at: ms(14)),  // only the transaction: back to the cadence
            .slept(at: ms(16)), .pool(used: 1, at: ms(19)),  // 5 ms after the last read: no read
            .slept(at: ms(21)), .pool(used: 1, at: ms(24)),  // 10 ms after it: read
            .holders([transaction], at: ms(27)),
            .slept(at: ms(29)), .pool(used: 0, at: ms(32)),
        ])
        #expect(
            run.steps == [
                .pollPool, .sleep(ms(2)), .pollPool, .readHolders, .kill([idle]), .readHolders, .sleep(ms(2)),
                .pollPool, .sleep(ms(2)), .pollPool, .readHolders, .sleep(ms(2)), .pollPool,
                .finish(.drainedAfterCuttingIdlePins([idle], at: ms(32))),
            ])
        #expect(!run.steps.contains(.kill([transaction])))
    }

    @Test("the chase stops at the deadline: a ConnUsed poll, then the deadline's read decides")
    func deadlineInChase() {
        let busy = holder(1, .runningStatement)
        let idle = holder(1, .sessionPin)
        let transaction = holder(4, .openTransaction)
        let run = transcript(
            [
                .pool(used: 2, at: ms(3)), .slept(at: ms(5)), .pool(used: 2, at: ms(8)),
                .holders([busy, transaction], at: ms(21)),  // past the 20 ms deadline
                .pool(used: 2, at: ms(23)),
                .holders([idle, transaction], at: ms(25)),
            ], timeout: ms(20))
        #expect(
            run.steps == [
                .pollPool, .sleep(ms(2)), .pollPool, .readHolders, .pollPool, .readHolders,
                .finish(.deadlinePassed(at: ms(25))),
            ])
        // Only idle pins at the deadline: cut, not rolled back.
        let pins = transcript(
            [.pool(used: 1, at: ms(3)), .slept(at: ms(5)), .pool(used: 1, at: ms(21)), .holders([idle], at: ms(23))],
            timeout: ms(20))
        #expect(pins.steps.last == .finish(.idlePinsOnly([idle], at: ms(23))))
    }

    @Test("an unreadable processlist: back to ConnUsed polling; at the deadline it is the deadline policy's")
    func unreadable() {
        let run = transcript(
            [
                .pool(used: 1, at: ms(3)), .slept(at: ms(5)), .pool(used: 1, at: ms(8)), .holders(nil, at: ms(10)),
                .slept(at: ms(12)), .pool(used: 1, at: ms(21)), .holders(nil, at: ms(23)),
            ], timeout: ms(20))
        #expect(
            run.steps == [
                .pollPool, .sleep(ms(2)), .pollPool, .readHolders, .sleep(ms(2)), .pollPool, .readHolders,
                .finish(.deadlinePassed(at: ms(23))),
            ])
    }

    @Test("pinned-sessions wait: no processlist read before the deadline, no kill (the behaviour before issue #18)")
    func waitPolicy() {
        let pin = holder(2, .sessionPin)
        var observations: [DrainSchedule.Observation] = []
        for step in 0..<5 {
            observations.append(.pool(used: 1, at: ms(4 * step + 1)))
            observations.append(.slept(at: ms(4 * step + 3)))
        }
        observations.append(.pool(used: 1, at: ms(21)))
        observations.append(.holders([pin], at: ms(23)))
        let run = transcript(observations, policy: CutoverPolicy(pinnedSessions: .wait), timeout: ms(20))
        #expect(run.steps.filter { $0 == .readHolders }.count == 1, "the deadline's read only")
        #expect(run.steps.last == .finish(.deadlinePassed(at: ms(23))))
        #expect(!run.steps.contains { if case .kill = $0 { true } else { false } })
    }
}
