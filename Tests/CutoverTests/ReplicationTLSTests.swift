import CutoverTestSupport
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Testing

@testable import Cutover

private let logger = Logger(label: "replication-tls-tests")

/// Replica status rows of MariaDB's `SHOW SLAVE STATUS`, reduced to the columns these tests need.
private enum Status {
    static let columns = ["Slave_IO_Running", "Slave_SQL_Running", "Master_Host", "Master_Port", "Master_SSL_Allowed"]
    static let notConfigured = SQLResult(resultSets: [ResultSet(columnNames: columns, rows: [])])
    static func row(_ running: String, ssl: String) -> SQLResult {
        SQLResult(resultSets: [
            ResultSet(columnNames: columns, rows: [[running, running, "aurora.example", "3306", ssl]])
        ])
    }
}

@Suite("Replication TLS: from the topology to the statements")
struct ReplicationTLSTests {
    static let coordinate = ReplicationCoordinate(file: "mysql-bin.000007", offset: 1234)

    func database(_ session: ScriptedSQLSession, rds: Bool) throws -> ReplicationControlDatabase {
        try ScriptedReplication.database(session, rds: rds, name: "db")
    }

    @Test("a native replica: MASTER_SSL follows the TLS setting", arguments: [ReplicationTLS.required, .disabled])
    func native(tls: ReplicationTLS) async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.notConfigured))
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.notConfigured))
        session.expect(
            "CHANGE MASTER TO MASTER_HOST = 'aurora.example', MASTER_PORT = 3306, MASTER_USER = 'repl_back', "
                + "MASTER_PASSWORD = 'pw', MASTER_LOG_FILE = 'mysql-bin.000007', MASTER_LOG_POS = 1234, "
                + "MASTER_USE_GTID = no, MASTER_SSL = \(tls == .required ? 1 : 0)")
        session.expect(.prefix("SET GLOBAL replicate_wild_ignore_table"))
        session.expect(.prefix("SET GLOBAL replicate_ignore_db"))
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.row("No", ssl: "No")))
        session.expect("START SLAVE")
        session.expect(
            .exact("SHOW SLAVE STATUS"), reply: .result(Status.row("Yes", ssl: tls == .required ? "Yes" : "No")))
        try await database(session, rds: false).startReplication(
            from: ServerEndpoint(host: "aurora.example", port: 3306), user: "repl_back", password: "pw", tls: tls,
            at: Self.coordinate, timeout: .seconds(5), logger: logger)
        try session.verifyAllConsumed()
    }

    @Test(
        "Aurora (the RDS procedures): the ssl_encryption argument follows the TLS setting",
        arguments: [ReplicationTLS.required, .disabled])
    func rds(tls: ReplicationTLS) async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.notConfigured))
        session.expect(
            "CALL mysql.rds_set_external_master('10.0.0.5', 3306, 'repl', 'pw', 'mysql-bin.000007', 1234, "
                + "\(tls == .required ? 1 : 0))")
        session.expect("CALL mysql.rds_start_replication")
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.row("Yes", ssl: "Yes")))
        try await database(session, rds: true).startReplication(
            from: ServerEndpoint(host: "10.0.0.5", port: 3306), user: "repl", password: "pw", tls: tls,
            at: Self.coordinate, timeout: .seconds(5), logger: logger)
        try session.verifyAllConsumed()
    }

    @Test("the replica status tells whether replication is configured with TLS")
    func statusShowsTLS() async throws {
        for (value, expected) in [("Yes", true), ("No", false), ("Ignored", nil)] as [(String, Bool?)] {
            let session = ScriptedSQLSession()
            session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.row("Yes", ssl: value)))
            let health = try await database(session, rds: false).replicaHealth(logger: logger)
            #expect(health?.usesTLS == expected, "Master_SSL_Allowed \(value)")
        }
    }

    @Test("the executor passes each direction's setting: reverse on a cut-over, forward on a failback")
    func executorPassesTheDirection() async throws {
        func plan(_ operation: CutoverOperation, forward: ReplicationTLS, reverse: ReplicationTLS) async -> [String] {
            var topology = DryRunExecutorTests.topology
            topology.forwardReplicationTLS = forward
            topology.reverseReplicationTLS = reverse
            let environment = DryRunEnvironment.startingState(
                for: operation, topology: topology, policy: CutoverPolicy(),
                source: DryRunExecutorTests.mariaDB, target: DryRunExecutorTests.mariaDBWithProcedures)
            let plan = await DryRunExecutor.plan(operation, environment: environment, logger: logger)
            return plan.steps.flatMap(\.statements).filter(\.isChange).map(\.text)
        }
        let cutover = await plan(.writerCutover, forward: .disabled, reverse: .required)
        #expect(cutover.contains { $0.hasPrefix("CHANGE MASTER TO") && $0.hasSuffix("MASTER_SSL = 1") }, "\(cutover)")
        let clear = await plan(.writerCutover, forward: .required, reverse: .disabled)
        #expect(clear.contains { $0.hasPrefix("CHANGE MASTER TO") && $0.hasSuffix("MASTER_SSL = 0") }, "\(clear)")
        let failback = await plan(.writerFailback, forward: .required, reverse: .disabled)
        #expect(failback.contains { $0.hasPrefix("CALL mysql.rds_set_external_master(") && $0.hasSuffix(", 1)") })
        let clearFailback = await plan(.writerFailback, forward: .disabled, reverse: .required)
        #expect(clearFailback.contains { $0.hasPrefix("CALL mysql.rds_set_external_master(") && $0.hasSuffix(", 0)") })
    }

    @Test("a topology journaled before the TLS settings decodes as it ran: in clear text")
    func oldTopologyDecodes() throws {
        var current = DryRunExecutorTests.topology
        #expect(current.forwardReplicationTLS == .required && current.reverseReplicationTLS == .required)
        current.reverseReplicationTLS = .disabled
        let encoded = try JSONEncoder().encode(current)
        #expect(try JSONDecoder().decode(CutoverTopology.self, from: encoded) == current)
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        object["forwardReplicationTLS"] = nil
        object["reverseReplicationTLS"] = nil
        let old = try JSONDecoder().decode(CutoverTopology.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.forwardReplicationTLS == .disabled && old.reverseReplicationTLS == .disabled)
        // TLS is not part of the fingerprint: a run resumed with another TLS setting is the same topology.
        #expect(old.fingerprint == current.fingerprint)
    }
}

@Suite("Preflight: replication encrypted across the network")
struct PreflightReplicationTLSTests {
    func check(_ configure: (inout PreflightFixture) -> Void) async throws -> PreflightCheck {
        var fixture = PreflightFixture()
        configure(&fixture)
        return try await fixture.check("replication.tls")
    }

    @Test("TLS required on both directions, servers that offer TLS: pass")
    func encrypted() async throws {
        let check = try await check { fixture in
            for server in [fixture.source, fixture.target] {
                server.update { $0.binlog.variables["have_ssl"] = "YES" }
            }
        }
        #expect(check.status == .pass, "\(check)")
        #expect(check.detail.contains("reverse replication"))
        #expect(check.detail.contains("TLS to aurora-writer:3306"))
    }

    @Test("clear text across a network warns with the setting to change; on loopback it passes")
    func clearText() async throws {
        let remote = try await check { fixture in
            fixture.topology.reverseReplicationTLS = .disabled
        }
        #expect(remote.status == .warn)
        #expect(
            remote.detail.contains("reverse replication") && remote.detail.contains("unencrypted to aurora-writer:3306")
        )
        #expect(remote.remedy?.contains("replication.reverse.tls: required") == true)

        let loopback = try await check { fixture in
            fixture.topology.reverseReplicationTLS = .disabled
            fixture.topology.forwardReplicationTLS = .disabled
            fixture.topology.sourceReplicationEndpoint = ServerEndpoint(host: "127.0.0.1", port: 3306)
            fixture.topology.targetReplicationEndpoint = ServerEndpoint(host: "127.0.0.1", port: 3307)
        }
        #expect(loopback.status == .pass, "\(loopback)")
        #expect(loopback.detail.contains("on loopback 127.0.0.1:3307"))
    }

    @Test("forward replication running unencrypted across a network warns")
    func runningClearText() async throws {
        let check = try await check { fixture in
            fixture.targetDatabase.setHealth(
                .success(
                    ReplicaHealth(
                        ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
                        sourceEndpoint: "source-db:3306", usesTLS: false)))
        }
        #expect(check.status == .warn)
        #expect(check.detail.contains("forward replication into target runs unencrypted from source-db:3306"))
        #expect(check.remedy?.contains("rds_set_external_source('source-db', 3306, 'repl', '<password>'") == true)
    }

    @Test(
        "TLS required but the target offers none fails (reverse replication could not connect after the point of no return)"
    )
    func targetWithoutTLS() async throws {
        let target = try await check { fixture in
            fixture.target.update { $0.binlog.variables["have_ssl"] = "DISABLED" }
        }
        #expect(target.status == .fail)
        #expect(target.detail.contains("offers none (have_ssl = DISABLED)"))
        // Preflight's server names carry no address: the endpoint is shown once, labelled (#15).
        #expect(target.detail.contains("but the target via replication endpoint "), "\(target.detail)")
        #expect(target.remedy?.contains("replication.reverse.tls: disabled") == true)

        let source = try await check { fixture in
            fixture.source.update { $0.binlog.variables["have_ssl"] = "DISABLED" }
        }
        #expect(source.status == .warn, "a source without TLS only hurts a failback's re-point")
        #expect(source.remedy?.contains("replication.forward.tls: disabled") == true)
    }

    @Test(
        "loopback addresses",
        arguments: [
            ("127.0.0.1", true), ("127.10.0.3", true), ("::1", true), ("localhost", true), ("10.0.0.5", false),
            ("127.0.0.1.example.com", false), ("aurora.cluster-x.eu-west-1.rds.amazonaws.com", false),
        ])
    func loopback(host: String, expected: Bool) {
        #expect(Preflight.isLoopback(host) == expected)
    }
}
