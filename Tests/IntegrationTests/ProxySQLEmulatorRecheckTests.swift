@testable import CutoverSandbox
import Foundation
import MariaDB
import Testing

/// Two behaviours of ProxySQL 2.7.1 that stretch what clients see of a writer switch (DESIGN §8): a statement
/// waiting for a hostgroup with no usable server sees a server that became ONLINE only at its next re-check, every
/// `mysql-connect_retries_delay` ms; and fresh backend connections to a server back from OFFLINE_HARD are cold.
@Suite("ProxySQL emulator: re-check delay and cold connections", .integration, .mariaDBSandbox(servers: 2))
struct ProxySQLEmulatorRecheckTests {
    typealias Fixture = DataPlaneFixture

    @Test("a waiting statement sees a LOAD that brings a server ONLINE only at its next re-check")
    func waitingStatementRechecksEveryDelay() async throws {
        try await Fixture.with(
            statuses: ["OFFLINE_SOFT", "OFFLINE_HARD"], variables: ["mysql-connect_retries_delay": "1000"]
        ) { fixture in
            let client = try await fixture.client()
            let sent = ContinuousClock.now
            async let statement: UInt64 = client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(
                try await Fixture.eventually(timeout: .seconds(5)) {
                    fixture.emulator.sessionSummaries().contains { $0.isRunningStatement }
                })
            let loaded = ContinuousClock.now
            try await fixture.setStatus([1: "ONLINE"])
            let loadReturned = ContinuousClock.now
            #expect(try await statement == 1)
            let finished = ContinuousClock.now
            // The emulator started waiting after `sent`, so its first re-check falls at least 1000 ms after it.
            #expect(finished - sent >= .milliseconds(1_000), "the statement saw the LOAD before its next re-check")
            #expect(finished - loaded < .seconds(9), "it must proceed at the re-check, not time out (10 s)")
            #expect(try await Fixture.backend(of: client) == 1)
            print(
                "emulator: with connect_retries_delay 1000 the waiting statement ran \(finished - loadReturned) after "
                    + "the LOAD returned (\(finished - sent) after it was sent)")
        }
    }

    @Test("with the default re-check delay (1 ms) a waiting statement proceeds right after the LOAD")
    func defaultDelayIsShort() async throws {
        try await Fixture.with(statuses: ["OFFLINE_SOFT", "OFFLINE_HARD"]) { fixture in
            #expect(
                try await fixture.admin.queryFirst(
                    "SELECT variable_value FROM runtime_global_variables WHERE variable_name = 'mysql-connect_retries_delay'"
                )?[0].string == "1")
            let client = try await fixture.client()
            async let statement: UInt64 = client.run("UPDATE counter SET n = n + 1 WHERE id = 1")
            #expect(
                try await Fixture.eventually(timeout: .seconds(5)) {
                    fixture.emulator.sessionSummaries().contains { $0.isRunningStatement }
                })
            // Wait well past a 1000 ms re-check so the two cases cannot be confused.
            try await Task.sleep(for: .milliseconds(1_200))
            let loaded = ContinuousClock.now
            try await fixture.setStatus([1: "ONLINE"])
            #expect(try await statement == 1)
            let elapsed = ContinuousClock.now - loaded
            print("emulator: with the default re-check delay the waiting statement ran \(elapsed) after the LOAD began")
            // Alone this takes milliseconds; inside the whole suite on 2 cores (dozens of servers and emulators at
            // once) the LOAD and the fresh backend login took 0.98 and 1.42 s in two CI-like runs. A wall-clock
            // bound cannot tell a slow machine from a slow re-check there, so a miss is recorded as an intermittent
            // known issue, not a failure; the 1000 ms case above proves the re-check by its lower bound.
            withKnownIssue("wall-clock bound on a loaded machine", isIntermittent: true) {
                #expect(elapsed < .milliseconds(900), "bound for a loaded machine")
            }
        }
    }

    @Test("the first statement on a fresh backend connection pays the configured cold-connection delay; warm ones do not")
    func coldConnections() async throws {
        let delay = Duration.milliseconds(2_000)
        try await Fixture.with(statuses: ["ONLINE", "OFFLINE_HARD"], coldConnectionDelay: delay) { fixture in
            let client = try await fixture.client()
            func timed(_ sql: SQLStatement) async throws -> Duration {
                let started = ContinuousClock.now
                try await client.run(sql)
                return ContinuousClock.now - started
            }
            #expect(try await timed("UPDATE counter SET n = n + 1 WHERE id = 1") >= delay, "fresh connection")
            #expect(try await timed("UPDATE counter SET n = n + 1 WHERE id = 1") < delay, "pooled connection")
            // Back from OFFLINE_HARD: the pool was emptied, the next connection is fresh again.
            try await fixture.setStatus([0: "OFFLINE_HARD", 1: "ONLINE"])
            #expect(try await timed("UPDATE counter SET n = n + 1 WHERE id = 1") >= delay, "fresh on server 1")
            try await fixture.setStatus([1: "OFFLINE_HARD", 0: "ONLINE"])
            #expect(try await timed("UPDATE counter SET n = n + 1 WHERE id = 1") >= delay, "back from OFFLINE_HARD")
            #expect(try await timed("UPDATE counter SET n = n + 1 WHERE id = 1") < delay, "warm again")
            #expect(try await fixture.counter(on: 0) == 4)
            #expect(try await fixture.counter(on: 1) == 1)
        }
    }
}

@Suite("ProxySQL emulator: re-check schedule")
struct ProxySQLEmulatorRecheckScheduleTests {
    @Test("the next re-check falls on the waiting statement's own schedule, never before the change")
    func schedule() {
        let started = ContinuousClock.now
        let every = Duration.milliseconds(1_000)
        #expect(DataSession.nextRecheck(started: started, now: started + .milliseconds(150), every: every)
            == started + every)
        #expect(DataSession.nextRecheck(started: started, now: started + .milliseconds(1_000), every: every)
            == started + every)
        #expect(DataSession.nextRecheck(started: started, now: started + .milliseconds(2_001), every: every)
            == started + every * 3)
        #expect(DataSession.nextRecheck(started: started, now: started, every: every) == started + every)
        #expect(DataSession.nextRecheck(started: started, now: started + .milliseconds(5), every: .zero) == nil)
    }
}
