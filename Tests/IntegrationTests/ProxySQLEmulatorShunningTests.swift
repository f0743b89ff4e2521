#if canImport(Glibc)
    import Glibc
#endif
@testable import CutoverSandbox
import Foundation
import MariaDB
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Automatic SHUNNED as ProxySQL 2.7.1 does it (#14 item 7; rules read in `MySrvC::connect_error`,
/// `MyHGC::get_random_MySrvC`, `MySQL_HostGroups_Manager::commit` and
/// `MySQL_Session::handler_again___status_CONNECTING_SERVER`): failed connects, counted per wall-clock second, shun
/// an ONLINE server at `min(mysql-shun_on_failures, mysql-connect_retries_on_failure + 1)`; a statement retries
/// its connect `connect_retries_on_failure` times and then gets the backend's own error; a shunned server comes back
/// lazily, or at once with any LOAD MYSQL SERVERS when its row says ONLINE.
@Suite("ProxySQL emulator: SHUNNED", .integration, .mariaDBSandbox(servers: 1))
struct ProxySQLEmulatorShunningTests {
    typealias Fixture = DataPlaneFixture

    /// A loopback port whose connects are refused, held for the test (see `LoopbackPort`).
    static func deadPort() async throws -> Int { try LoopbackPort.reserve(.refusing) }

    /// Adds a `mysql_servers` row for the dead port in hostgroup 10 and loads.
    static func addDeadServer(_ fixture: Fixture, port: Int, weight: Int = 1) async throws {
        try await fixture.admin.run(
            "INSERT INTO mysql_servers (hostgroup_id, hostname, port, weight, comment) VALUES (10, '127.0.0.1', \(port), \(weight), 'dead')"
        )
        try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
    }

    static func runtimeStatus(_ fixture: Fixture, port: Int) async throws -> String? {
        try await fixture.admin.queryFirst(
            "SELECT status FROM runtime_mysql_servers WHERE hostgroup_id = 10 AND port = \(port)"
        )?[0].string
    }

    static func pool(_ fixture: Fixture, port: Int) async throws -> (status: String?, connectErrors: Int?) {
        let row = try await fixture.admin.queryFirst(
            "SELECT status, ConnERR FROM stats_mysql_connection_pool WHERE hostgroup = 10 AND srv_port = \(port)"
        )
        return (row?[0].string, row?[1].string.flatMap { Int($0) })
    }

    /// The emulator's second for shunning, held still until the test moves it on: every error of a statement then
    /// falls in one second however slowly the machine runs (a loaded 2-core CI machine straddled wall-clock seconds
    /// again and again), and recovery becomes due exactly when the test says. `ShunRulesTests` prove the per-second
    /// arithmetic itself.
    final class HeldSecond: Sendable {
        private let value = Mutex(1_000)
        var clock: ShunClock { ShunClock { [self] in self.value.withLock { $0 } } }
        func advance(by seconds: Int) { value.withLock { $0 += seconds } }
    }

    /// Variables for the shunning fixtures: connects to the live servers and waits for a usable server are given far
    /// more time than a loaded machine needs, so that only the dead server ever fails or makes a statement wait.
    static let generousTimeouts = ["mysql-connect_timeout_server": "20000", "mysql-connect_timeout_server_max": "120000"]

    /// Waits (deadline 30 s) until `count` statements wait for a usable server.
    static func waiting(_ fixture: Fixture, count: Int = 1) async throws -> Bool {
        try await Fixture.eventually(timeout: .seconds(30)) { fixture.emulator.waitingStatementCount() == count }
    }

    @Test("a sole server refusing connections is SHUNNED after 5 failures in one second; the statement waits for the desperate re-try (more than 1 whole second after the last error) and then gets the backend's error, not 9001")
    func refusedConnectsShun() async throws {
        let second = HeldSecond()
        try await Fixture.with(statuses: ["OFFLINE_HARD"], variables: Self.generousTimeouts, shunClock: second.clock) {
            fixture in
            let port = try await Self.deadPort()
            try await Self.addDeadServer(fixture, port: port)
            let client = try await fixture.rawClient()
            defer { client.close() }
            let answer = Task { try await client.query("SELECT 1") }
            // Five failures within the held second shun it; with no other server the statement waits.
            #expect(try await Self.waiting(fixture), "the statement never waited after the server was shunned")
            #expect(try await Self.runtimeStatus(fixture, port: port) == "SHUNNED")
            #expect(try await Self.pool(fixture, port: port).status == "SHUNNED")
            #expect(try await Self.pool(fixture, port: port).connectErrors == 5)
            // One second later the desperate wait (strictly more than 1 whole second) is not over: nothing is tried.
            second.advance(by: 1)
            try await Task.sleep(for: .milliseconds(300))  // several of the emulator's 50 ms recovery sweeps
            #expect(fixture.emulator.waitingStatementCount() == 1)
            #expect(try await Self.pool(fixture, port: port).connectErrors == 5, "tried again before the desperate wait")
            // Two seconds later it is: the server is tried again, fails five more times in that second (shunned
            // again), and the statement waits once more with one retry left.
            second.advance(by: 1)
            #expect(
                try await Fixture.eventually(timeout: .seconds(30)) {
                    try await Self.pool(fixture, port: port).connectErrors == 10
                        && fixture.emulator.waitingStatementCount() == 1
                }, "the desperate re-try did not come")
            #expect(try await Self.runtimeStatus(fixture, port: port) == "SHUNNED")
            second.advance(by: 2)
            let response = try await answer.value
            let error = try #require(response.error)
            #expect(error.code == 2003, "ProxySQL forwards the backend's connect error once its retries are spent")
            #expect(error.message.hasPrefix("Can't connect to MySQL server on '127.0.0.1'"))
            // 1 attempt + 10 retries (mysql-connect_retries_on_failure), each counted in ConnERR.
            #expect(try await Self.pool(fixture, port: port).connectErrors == 11)
            // The configured row is untouched.
            #expect(
                try await fixture.admin.queryFirst("SELECT status FROM mysql_servers WHERE port = \(port)")?[0].string
                    == "ONLINE")
        }
    }

    @Test("the threshold is min(mysql-shun_on_failures, mysql-connect_retries_on_failure + 1): with 2 retries, 3 failures shun, and the third failure is the client's answer at once")
    func thresholdFollowsRetries() async throws {
        let second = HeldSecond()
        try await Fixture.with(
            statuses: ["OFFLINE_HARD"], variables: ["mysql-connect_retries_on_failure": "2"], shunClock: second.clock
        ) { fixture in
            let port = try await Self.deadPort()
            try await Self.addDeadServer(fixture, port: port)
            let client = try await fixture.rawClient()
            defer { client.close() }
            let response = try await client.query("SELECT 1")
            // Answered with the backend's error, not a 9001 after connect_timeout_server_max: it never waited (with
            // the second held, a wait could only end in 9001).
            #expect(response.error?.code == 2003)
            #expect(try await Self.runtimeStatus(fixture, port: port) == "SHUNNED")
            #expect(try await Self.pool(fixture, port: port).connectErrors == 3)
        }
    }

    @Test("LOAD MYSQL SERVERS puts an automatically shunned server whose row says ONLINE back ONLINE; a row saying SHUNNED is a manual shun that never recovers by itself (the statement gets 9001)")
    func loadUnshuns() async throws {
        let second = HeldSecond()
        try await Fixture.with(
            statuses: ["OFFLINE_HARD"],
            variables: ["mysql-connect_retries_on_failure": "4", "mysql-connect_timeout_server_max": "2500"],
            shunClock: second.clock
        ) { fixture in
            let port = try await Self.deadPort()
            try await Self.addDeadServer(fixture, port: port)
            let client = try await fixture.rawClient()
            defer { client.close() }
            // Five failures in the held second: shunned, and the fifth is the client's answer.
            #expect(try await client.query("SELECT 1").error?.code == 2003)
            #expect(try await Self.runtimeStatus(fixture, port: port) == "SHUNNED")
            try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            #expect(try await Self.runtimeStatus(fixture, port: port) == "ONLINE", "a LOAD unshuns a row that says ONLINE")

            // A manual shun: the statement waits for a usable server until connect_timeout_server_max (9001), even
            // when recovery would be due; the desperate re-try is only for servers shunned automatically.
            try await fixture.admin.run("UPDATE mysql_servers SET status = 'SHUNNED' WHERE port = \(port)")
            try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            second.advance(by: 3_600)
            let errorsBefore = try await Self.pool(fixture, port: port).connectErrors
            let sent = ContinuousClock.now
            let response = try await client.query("SELECT 1")
            #expect(response.error?.code == 9001)
            #expect(ContinuousClock.now - sent >= .milliseconds(2_400))
            #expect(try await Self.pool(fixture, port: port).connectErrors == errorsBefore, "a manual shun is never tried")
            #expect(try await Self.runtimeStatus(fixture, port: port) == "SHUNNED")
        }
    }

    @Test("while shunned the server is skipped and the hostgroup's other ONLINE server takes every statement; more than mysql-shun_recovery_time_sec whole seconds after its last error it is tried again")
    func shunnedServerSkippedThenRetried() async throws {
        let second = HeldSecond()
        var variables = Self.generousTimeouts
        variables["mysql-shun_recovery_time_sec"] = "2"
        try await Fixture.with(statuses: ["ONLINE"], variables: variables, shunClock: second.clock) { fixture in
            let port = try await Self.deadPort()
            // Heavy weight: nearly every pick goes to the dead server until it is shunned.
            try await Self.addDeadServer(fixture, port: port, weight: 1_000)
            let client = try await fixture.client()
            var attempts = 0
            while try await Self.runtimeStatus(fixture, port: port) != "SHUNNED", attempts < 20 {
                // A failed connect is retried on another pick: the statement still succeeds on server 0.
                #expect(try await Fixture.backend(of: client) == 0)
                attempts += 1
            }
            #expect(try await Self.runtimeStatus(fixture, port: port) == "SHUNNED")
            let errors = try #require(try await Self.pool(fixture, port: port).connectErrors)
            for _ in 0..<30 { #expect(try await Fixture.backend(of: client) == 0) }
            #expect(
                try await Self.pool(fixture, port: port).connectErrors == errors,
                "a shunned server is not tried while another one is ONLINE")
            // Exactly 2 whole seconds later it is still skipped (recovery needs strictly more).
            second.advance(by: 2)
            for _ in 0..<10 { #expect(try await Fixture.backend(of: client) == 0) }
            #expect(try await Self.pool(fixture, port: port).connectErrors == errors, "tried again too early")
            // One more second: the next pick puts it back ONLINE and tries it (weight 1 000 against 1).
            second.advance(by: 1)
            var retried = false
            for _ in 0..<20 where !retried {
                #expect(try await Fixture.backend(of: client) == 0)
                retried = try await Self.pool(fixture, port: port).connectErrors ?? 0 > errors
            }
            #expect(retried, "the shunned server was never tried again")
            await client.close()
        }
    }
}

/// The shunning arithmetic alone (no server).
@Suite("ProxySQL emulator: SHUNNED rules")
struct ShunRulesTests {
    @Test("errors count per wall-clock second: the first of a new second restarts the count at 1")
    func countsPerSecond() {
        var counter = ShunCounter()
        let shun1 = counter.record(second: 100, threshold: 5)
        #expect(!shun1)
        for _ in 0..<3 {
            let shun2 = counter.record(second: 100, threshold: 5)
            #expect(!shun2)
        }
        let shun3 = counter.record(second: 100, threshold: 5)
        #expect(shun3, "the 5th error within second 100 shuns")
        var split = ShunCounter()
        for _ in 0..<4 { _ = split.record(second: 100, threshold: 5) }
        let shun4 = split.record(second: 101, threshold: 5)
        #expect(!shun4, "a new second restarts the count")
        #expect(split.errorsInSecond == 1)
        let shun5 = split.record(second: 99, threshold: 5)
        #expect(!shun5, "an error stamped in the past is ignored")
    }

    @Test("client-side errors (access denied, per-user limits, a locked account) never count; 1040 and 2003 do")
    func excludedErrors() {
        for code in [1044, 1045, 1049, 1203, 1226, 3118, 1064] { #expect(!ShunRules.counts(errorCode: code), "\(code)") }
        for code in [1040, 2003, 2013, 1053, 1129] { #expect(ShunRules.counts(errorCode: code), "\(code)") }
    }

    @Test("threshold and recovery waits from the variables, as in MySrvC::connect_error and MyHGC::get_random_MySrvC")
    func waits() {
        var variables = RuntimeVariables()
        #expect(ShunRules.threshold(variables) == 5)
        variables.connectRetriesOnFailure = 2
        #expect(ShunRules.threshold(variables) == 3)
        variables = RuntimeVariables()
        // Defaults: shun_recovery_time_sec 10 s against connect_timeout_server_max 10 000 ms: 10000/1000 - 1 = 9.
        #expect(ShunRules.recoveryWait(variables, desperate: false) == 9)
        // Desperate (no usable server): 10000/10000 - 1 = 0, at least 1.
        #expect(ShunRules.recoveryWait(variables, desperate: true) == 1)
        variables.shunRecoveryTimeSec = 2
        #expect(ShunRules.recoveryWait(variables, desperate: false) == 2)
        variables.shunRecoveryTimeSec = 0
        #expect(ShunRules.recoveryWait(variables, desperate: false) == nil, "0 turns recovery off")
        #expect(ShunRules.recoveryWait(variables, desperate: true) == 1)
        var counter = ShunCounter(lastErrorSecond: 100, errorsInSecond: 5, automatic: true)
        #expect(!counter.mayRecover(second: 101, wait: 1))
        #expect(counter.mayRecover(second: 102, wait: 1), "strictly more than the wait, in whole seconds")
        counter.automatic = false
        #expect(!counter.mayRecover(second: 200, wait: 1), "a manual shun never recovers by itself")
    }
}
