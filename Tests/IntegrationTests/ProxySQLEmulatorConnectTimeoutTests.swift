#if canImport(Glibc)
    import Glibc
#endif
@testable import CutoverSandbox
import Foundation
import MariaDB
import Testing

/// A backend connect that gets no handshake, as on ProxySQL 2.7.1 (#14 item 8): it is abandoned after
/// `mysql-connect_timeout_server`, 1000 ms by default (`lib/MySQL_Thread.cpp`, `MySQL_Threads_Handler` constructor),
/// and counted as a failed connect (`MySQL_Connection::handler`, `ASYNC_CONNECT_TIMEOUT` → `MySrvC::connect_error`).
/// Each retry costs as long again: one of the few second-scale waits on a client's path through a writer switch.
@Suite("ProxySQL emulator: connect timeout", .integration, .mariaDBSandbox(servers: 1))
struct ProxySQLEmulatorConnectTimeoutTests {
    typealias Fixture = DataPlaneFixture

    /// A loopback port that accepts TCP connections into its backlog and never greets (see `LoopbackPort`).
    static func silentPort() throws -> Int { try LoopbackPort.reserve(.silent) }

    @Test("mysql-connect_timeout_server is 1000 ms by default, as on 2.7.1; a connect that gets no greeting is abandoned after it and counted in ConnERR")
    func silentServerTimesOut() async throws {
        // No retries, so the statement's answer follows its one attempt; the live server is OFFLINE_HARD, so the
        // silent one is the only choice; connect_timeout_server itself is left at its default.
        try await Fixture.with(
            statuses: ["OFFLINE_HARD"],
            variables: ["mysql-connect_retries_on_failure": "0", "mysql-connect_timeout_server_max": "120000"]
        ) { fixture in
            let timeout = try await fixture.admin.queryFirst(
                "SELECT variable_value FROM global_variables WHERE variable_name = 'mysql-connect_timeout_server'"
            )?[0].string
            #expect(timeout == "1000", "ProxySQL 2.7.1's default")
            let port = try Self.silentPort()
            try await fixture.admin.run(
                "INSERT INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (10, '127.0.0.1', \(port), 'silent')"
            )
            try await fixture.admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            let client = try await fixture.rawClient()
            defer { client.close() }
            let started = ContinuousClock.now
            let response = try await client.query("SELECT 1")
            let elapsed = ContinuousClock.now - started
            // Event-based: the statement ends in an error (not a result, not a 9001 at connect_timeout_server_max)
            // and the one abandoned connect is counted; only a lower bound on time.
            let error = try #require(response.error, "a connect that never gets a greeting cannot answer")
            #expect(error.code != 9001)
            // The attempt timed out (no MySQL error number): ProxySQL answers 9002, not a backend error
            // (`handler_again___status_CONNECTING_SERVER`, #14).
            #expect(error.code == 9002)
            #expect(error.message == "Max connect failure while reaching hostgroup 10")
            #expect(elapsed >= .milliseconds(900), "abandoned before mysql-connect_timeout_server")
            let errors = try await fixture.admin.queryFirst(
                "SELECT ConnERR FROM stats_mysql_connection_pool WHERE hostgroup = 10 AND srv_port = \(port)"
            )?[0].string
            #expect(errors == "1")
        }
    }
}
