#if canImport(Glibc)
    import Glibc
#endif
@testable import CutoverSandbox
import Foundation
import MariaDB
import NIOCore
import NIOPosix
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

    /// A loopback port nothing listens on (bound, then closed): connects there are refused.
    static func deadPort() async throws -> Int {
        // A socket bound and never listening: connects are refused (ECONNREFUSED), and no other test's server can take
        // the port meanwhile (a port merely closed again was reused by a sandbox server in the whole suite, which
        // answered 1045). The descriptor is left open for the rest of the test process on purpose: one per test.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        try #require(named == 0)
        return Int(UInt16(bigEndian: address.sin_port))
    }

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

    @Test("a sole server refusing connections is SHUNNED after 5 failures in one second; the statement waits for the desperate re-try and then gets the backend's error, not 9001")
    func refusedConnectsShun() async throws {
        try await Fixture.with(statuses: ["OFFLINE_HARD"]) { fixture in
            let port = try await Self.deadPort()
            try await Self.addDeadServer(fixture, port: port)
            let client = try await fixture.rawClient()
            defer { client.close() }
            let sent = ContinuousClock.now
            async let answer = client.query("SELECT 1")
            var sawShunned = false
            var poolShunned = false
            while ContinuousClock.now - sent < .seconds(12), !sawShunned || !poolShunned {
                if try await Self.runtimeStatus(fixture, port: port) == "SHUNNED" { sawShunned = true }
                if try await Self.pool(fixture, port: port).status == "SHUNNED" { poolShunned = true }
                try await Task.sleep(for: .milliseconds(20))
            }
            let response = try await answer
            let elapsed = ContinuousClock.now - sent
            #expect(sawShunned, "runtime_mysql_servers never showed SHUNNED")
            #expect(poolShunned, "stats_mysql_connection_pool never showed SHUNNED")
            let error = try #require(response.error)
            #expect(error.code == 2003, "ProxySQL forwards the backend's connect error once its retries are spent")
            #expect(error.message.hasPrefix("Can't connect to MySQL server on '127.0.0.1'"))
            // 1 attempt + 10 retries (mysql-connect_retries_on_failure), each counted in ConnERR.
            #expect(try await Self.pool(fixture, port: port).connectErrors == 11)
            // Shunned within the first second, the server is tried again only when the desperate wait (> 1 whole
            // second since the last error) is over; then it fails again. Not the 10 s of a 9001.
            #expect(elapsed >= .milliseconds(1_000), "the statement never waited for the shunned server (\(elapsed))")
            #expect(elapsed < .seconds(9), "it must end with the backend's error, not a 9001 (\(elapsed))")
            // The configured row is untouched.
            #expect(
                try await fixture.admin.queryFirst("SELECT status FROM mysql_servers WHERE port = \(port)")?[0].string
                    == "ONLINE")
            print("emulator: a sole refusing server: error 2003 after \(elapsed) (11 connect errors, shunned meanwhile)")
        }
    }

    @Test("the threshold is min(mysql-shun_on_failures, mysql-connect_retries_on_failure + 1): with 2 retries, 3 failures shun, and the third failure is the client's answer at once")
    func thresholdFollowsRetries() async throws {
        try await Fixture.with(statuses: ["OFFLINE_HARD"], variables: ["mysql-connect_retries_on_failure": "2"]) { fixture in
            let port = try await Self.deadPort()
            try await Self.addDeadServer(fixture, port: port)
            let client = try await fixture.rawClient()
            defer { client.close() }
            // Three failures take a few ms; should they straddle a wall-clock second the count restarts (ProxySQL
            // counts per second), which a loaded machine (the whole suite on 2 cores) does more than once: allow up
            // to five statements. A server that is never shunned still fails below.
            var statements = 0
            var firstAnswer: Duration?
            while try await Self.runtimeStatus(fixture, port: port) != "SHUNNED", statements < 5 {
                let sent = ContinuousClock.now
                let response = try await client.query("SELECT 1")
                firstAnswer = firstAnswer ?? ContinuousClock.now - sent
                #expect(response.error?.code == 2003)
                statements += 1
            }
            #expect(try await Self.runtimeStatus(fixture, port: port) == "SHUNNED")
            #expect(try await Self.pool(fixture, port: port).connectErrors == 3 * statements)
            // Bounded well below the 10 s a statement would wait for a usable server (connect_timeout_server_max) if it were
            // not answered at once; a loaded 2-core machine took over 900 ms.
            #expect(try #require(firstAnswer) < .seconds(5), "3 fast failures: no wait before the error")
        }
    }

    @Test("LOAD MYSQL SERVERS puts an automatically shunned server whose row says ONLINE back ONLINE; a row saying SHUNNED is a manual shun that never recovers by itself (the statement gets 9001)")
    func loadUnshuns() async throws {
        try await Fixture.with(
            statuses: ["OFFLINE_HARD"],
            variables: ["mysql-connect_retries_on_failure": "4", "mysql-connect_timeout_server_max": "2500"]
        ) { fixture in
            let port = try await Self.deadPort()
            try await Self.addDeadServer(fixture, port: port)
            let client = try await fixture.rawClient()
            defer { client.close() }
            // Failures are counted per wall-clock second: on a loaded machine a statement's five may straddle one,
            // so up to five statements (a server that is never shunned still fails below).
            var statements = 0
            while try await Self.runtimeStatus(fixture, port: port) != "SHUNNED", statements < 5 {
                _ = try await client.query("SELECT 1")
                statements += 1
            }
            #expect(try await Self.runtimeStatus(fixture, port: port) == "SHUNNED")
            try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            #expect(try await Self.runtimeStatus(fixture, port: port) == "ONLINE", "a LOAD unshuns a row that says ONLINE")

            // A manual shun: the statement waits for a usable server until connect_timeout_server_max (9001);
            // the desperate re-try is only for servers shunned automatically.
            try await fixture.admin.run("UPDATE mysql_servers SET status = 'SHUNNED' WHERE port = \(port)")
            try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            let errorsBefore = try await Self.pool(fixture, port: port).connectErrors
            let sent = ContinuousClock.now
            let response = try await client.query("SELECT 1")
            #expect(response.error?.code == 9001)
            #expect(ContinuousClock.now - sent >= .milliseconds(2_400))
            #expect(try await Self.pool(fixture, port: port).connectErrors == errorsBefore, "a manual shun is never tried")
            #expect(try await Self.runtimeStatus(fixture, port: port) == "SHUNNED")
        }
    }

    @Test("while shunned the server is skipped and the hostgroup's other ONLINE server takes every statement; after mysql-shun_recovery_time_sec it is tried again")
    func shunnedServerSkippedThenRetried() async throws {
        try await Fixture.with(
            statuses: ["ONLINE"], variables: ["mysql-shun_recovery_time_sec": "2"]
        ) { fixture in
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
            let shunnedAt = ContinuousClock.now
            let errors = try #require(try await Self.pool(fixture, port: port).connectErrors)
            for _ in 0..<30 { #expect(try await Fixture.backend(of: client) == 0) }
            if ContinuousClock.now - shunnedAt < .milliseconds(900) {
                #expect(
                    try await Self.pool(fixture, port: port).connectErrors == errors,
                    "a shunned server is not tried while another one is ONLINE")
            }
            // Recovery: more than 2 whole seconds after its last error a pick puts it back ONLINE and tries it.
            let retried = try await Fixture.eventually(timeout: .seconds(6)) {
                _ = try await Fixture.backend(of: client)
                return try await Self.pool(fixture, port: port).connectErrors ?? 0 > errors
            }
            #expect(retried, "the shunned server was never tried again")
            #expect(ContinuousClock.now - shunnedAt >= .seconds(1), "tried again too early")
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
