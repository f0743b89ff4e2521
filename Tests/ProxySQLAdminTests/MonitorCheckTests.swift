import CutoverTestSupport
import Logging
import MariaDB
import ProxySQLAdmin
import Testing

private let logger = Logger(label: "monitor-check-tests")

@Suite("Monitor logs")
struct MonitorCheckTests {
    @Test("connect log: exact statement, admin quoting, rows newest first, NULL or empty error is success")
    func connectLog() async throws {
        let session = ScriptedSQLSession(dialect: .proxySQLAdmin, endpointDescription: "proxy:6032")
        session.expect(
            .exact(
                "SELECT hostname, port, time_start_us, connect_success_time_us, connect_error "
                    + "FROM monitor.mysql_server_connect_log WHERE hostname = 'o''brien\\' AND port = 3306 "
                    + "ORDER BY time_start_us DESC LIMIT 3"),
            columns: ["hostname", "port", "time_start_us", "connect_success_time_us", "connect_error"],
            rows: [
                ["o'brien\\", "3306", "1800000000000000", "0", "Can't connect to MySQL server on 'o'brien' (110)"],
                ["o'brien\\", "3306", "1799999990000000", "1534", nil],
                ["o'brien\\", "3306", "1799999980000000", "1400", ""],
            ])
        let client = ProxySQLAdminClient(session: session, name: "proxy-1")
        let checks = try await client.monitorChecks(
            of: ServerEndpoint(host: "o'brien\\", port: 3306), kind: .connect, limit: 3, logger: logger)
        #expect(checks.count == 3)
        #expect(checks[0].kind == .connect)
        #expect(!checks[0].succeeded)
        #expect(checks[0].error?.hasPrefix("Can't connect") == true)
        #expect(checks[1].succeeded)
        #expect(checks[1].durationMicroseconds == 1534)
        #expect(checks[2].succeeded)
        #expect(checks[1].description == "connect o'brien\\:3306 at 1799999990.000000: ok in 1534 µs")
        try session.verifyAllConsumed()
    }

    @Test("ping log: its own table and columns; a limit below 1 asks for one row")
    func pingLog() async throws {
        let session = ScriptedSQLSession(dialect: .proxySQLAdmin)
        session.expect(
            .exact(
                "SELECT hostname, port, time_start_us, ping_success_time_us, ping_error "
                    + "FROM monitor.mysql_server_ping_log WHERE hostname = 'aurora' AND port = 3307 "
                    + "ORDER BY time_start_us DESC LIMIT 1"),
            columns: ["hostname", "port", "time_start_us", "ping_success_time_us", "ping_error"],
            rows: [["aurora", "3307", "1800000000000123", "212", nil]])
        let checks = try await ProxySQLAdminClient(session: session).monitorChecks(
            of: ServerEndpoint(host: "aurora", port: 3307), kind: .ping, limit: 0, logger: logger)
        #expect(
            checks == [
                MonitorCheck(
                    kind: .ping, endpoint: ServerEndpoint(host: "aurora", port: 3307),
                    startedAtMicroseconds: 1_800_000_000_000_123, durationMicroseconds: 212, error: nil)
            ])
        #expect(checks[0].description == "ping aurora:3307 at 1800000000.000123: ok in 212 µs")
        try session.verifyAllConsumed()
    }

    @Test("a node without the monitor tables answers adminStatementFailed")
    func noSuchTable() async throws {
        let session = ScriptedSQLSession(dialect: .proxySQLAdmin)
        session.expect(
            .prefix("SELECT hostname, port, time_start_us, ping_success_time_us"), failingWith: 1045, sqlState: "28000",
            message: "ProxySQL Admin Error: no such table: monitor.mysql_server_ping_log")
        let error = await #expect(throws: ProxySQLAdminError.self) {
            try await ProxySQLAdminClient(session: session).monitorChecks(
                of: ServerEndpoint(host: "aurora"), kind: .ping, limit: 5, logger: logger)
        }
        #expect(error?.code == .adminStatementFailed)
        #expect(error?.adminMessage == "no such table: monitor.mysql_server_ping_log")
    }

    @Test("a malformed row is an unexpected result")
    func malformed() async throws {
        let session = ScriptedSQLSession(dialect: .proxySQLAdmin)
        session.expect(
            .prefix("SELECT hostname"),
            columns: ["hostname", "port", "time_start_us", "connect_success_time_us", "connect_error"],
            rows: [["aurora", "3306", "yesterday", "0", nil]])
        let error = await #expect(throws: ProxySQLAdminError.self) {
            try await ProxySQLAdminClient(session: session).monitorChecks(
                of: ServerEndpoint(host: "aurora"), kind: .connect, limit: 5, logger: logger)
        }
        #expect(error?.code == .unexpectedResult)
    }

    @Test("the statement is refused on a MySQL-dialect session (nothing sent)")
    func wrongDialect() async throws {
        let session = ScriptedSQLSession(dialect: .mysql)
        let error = await #expect(throws: ProxySQLAdminError.self) {
            try await ProxySQLAdminClient(session: session).monitorChecks(
                of: ServerEndpoint(host: "aurora"), kind: .connect, limit: 5, logger: logger)
        }
        #expect(error?.code == .wrongDialect)
        #expect(session.receivedStatements.isEmpty)
    }
}
