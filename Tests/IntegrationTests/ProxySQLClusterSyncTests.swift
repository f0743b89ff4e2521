import Cutover
import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Testing

/// Issue #16 item 2: ProxySQL Cluster between emulator nodes (`proxysql_servers`, `runtime_checksums_values`, the
/// pull of `mysql_servers` by ProxySQL's version/epoch/diff_check rule), and preflight's refusal of an unlisted peer.
@Suite("ProxySQL Cluster sync between emulator nodes", .integration, .serialized)
struct ProxySQLClusterSyncTests {
    let logger = Logger(label: "cluster", factory: { _ in SwiftLogNoOpLogHandler() })
    static let interval = 100

    /// Two nodes that monitor each other every 100 ms with the shared admin account as cluster credentials.
    func withTwoNodes(_ body: (ProxySQLEmulator, ProxySQLEmulator) async throws -> Void) async throws {
        let password = "cluster-secret-1"
        var configuration = ProxySQLEmulator.Configuration(
            adminPassword: password,
            frontendUsers: [.init(username: "app", password: "app-secret")],
            initialVariables: [
                "admin-cluster_username": "admin", "admin-cluster_password": password,
                "admin-cluster_check_interval_ms": "\(Self.interval)",
            ]
        )
        configuration.adminLatency = .fast
        try await withProxySQLEmulator(configuration: configuration) { first in
            try await withProxySQLEmulator(configuration: configuration) { second in
                for node in [first, second] {
                    try await admin(node) { admin in
                        for peer in [first, second] {
                            try await admin.run("INSERT INTO proxysql_servers (hostname, port) VALUES ('127.0.0.1', \(peer.adminPort))")
                        }
                        try await admin.run("LOAD PROXYSQL SERVERS TO RUNTIME")
                    }
                }
                try await body(first, second)
            }
        }
    }

    func admin<T: Sendable>(_ node: ProxySQLEmulator, _ body: (MariaDBConnection) async throws -> T) async throws -> T {
        let connection = try await MariaDBConnection.connect(configuration: node.adminConfiguration)
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    func strings(_ node: ProxySQLEmulator, _ sql: SQLStatement) async throws -> [[String]] {
        try await admin(node) { try await $0.query(sql, timeout: .seconds(5)).map { row in (0..<row.count).map { row[$0].string ?? "NULL" } } }
    }

    func checksum(_ node: ProxySQLEmulator) async throws -> [String] {
        try await strings(node, "SELECT version, epoch, checksum FROM runtime_checksums_values WHERE name = 'mysql_servers_v2'").first ?? []
    }

    @Test("a change LOADed on one node is pulled by its just-booted peer after diffs_before_sync checks, with the peer's epoch, without OFFLINE_HARD rows, and saved")
    func changePulledByPeer() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        try await withTwoNodes { first, second in
            try await admin(first) { admin in
                try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port, status) VALUES (10, '127.0.0.1', 3306, 'ONLINE')")
                try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port, status) VALUES (11, '127.0.0.1', 3307, 'OFFLINE_HARD')")
                try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            }
            let loaded = ContinuousClock.now
            var pulledAt: ContinuousClock.Instant?
            while ContinuousClock.now - loaded < .seconds(10) {
                let rows = try await strings(second, "SELECT hostgroup_id, port, status FROM runtime_mysql_servers")
                if rows == [["10", "3306", "ONLINE"]] {
                    pulledAt = .now
                    break
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            let pulled = try #require(pulledAt, "the peer never pulled the change")
            // diff_check reaches 3 at the third check that sees the new checksum: never at the first one.
            #expect(pulled - loaded >= .milliseconds(Self.interval * 3 / 2), "pulled after \(pulled - loaded)")
            #expect(try await strings(second, "SELECT hostgroup_id, port, status FROM mysql_servers") == [["10", "3306", "ONLINE"]])
            #expect(try await strings(second, "SELECT hostgroup_id, port FROM disk.mysql_servers") == [["10", "3306"]])
            let source = try await checksum(first)
            let puller = try await checksum(second)
            #expect(puller.count == 3 && source.count == 3)
            #expect(puller[1] == source[1], "epoch: \(puller) vs \(source)")
            #expect(puller[2] == source[2], "checksum: \(puller) vs \(source)")
        }
    }

    @Test("the same change applied to every node (the tool's way): equal checksums, nothing pulled")
    func sameChangeEverywhere() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        try await withTwoNodes { first, second in
            // As the tool does it: sessions open and rows staged on every node first, then the LOADs in parallel
            // (one after the other with a connect in between can exceed the three checks of a loaded machine, and
            // then the later node rightly pulls).
            let sessions = [
                try await MariaDBConnection.connect(configuration: first.adminConfiguration),
                try await MariaDBConnection.connect(configuration: second.adminConfiguration),
            ]
            for session in sessions {
                try await session.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (10, '127.0.0.1', 3306)")
            }
            async let loadFirst = sessions[0].run("LOAD MYSQL SERVERS TO RUNTIME")
            async let loadSecond = sessions[1].run("LOAD MYSQL SERVERS TO RUNTIME")
            _ = try await (loadFirst, loadSecond)
            for session in sessions { await session.close() }
            try await Task.sleep(for: .milliseconds(Self.interval * 10))
            // One LOAD each (version 1 at boot, 2 after it): a pull would have loaded once more.
            #expect(try await checksum(first).first == "2")
            #expect(try await checksum(second).first == "2")
            #expect(try await checksum(first).last == (try await checksum(second).last))
        }
    }

    @Test("sync off (admin-cluster_mysql_servers_diffs_before_sync = 0): nothing is pulled")
    func syncOff() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        try await withTwoNodes { first, second in
            try await admin(second) { admin in
                try await admin.run("SET admin-cluster_mysql_servers_diffs_before_sync = 0")
                try await admin.run("LOAD ADMIN VARIABLES TO RUNTIME")
            }
            try await admin(first) { admin in
                try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (10, '127.0.0.1', 3306)")
                try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            }
            try await Task.sleep(for: .milliseconds(Self.interval * 10))
            #expect(try await strings(second, "SELECT COUNT(*) FROM runtime_mysql_servers") == [["0"]])
        }
    }

    @Test("preflight refuses a fleet whose proxysql_servers lists a node missing from the configuration, and passes once it is configured")
    func preflightRefusesUnlistedPeer() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        var options = Rehearsal.Options(adminLatency: .fast)
        options.proxyNodes = 2
        try await withRehearsal(options: options, logger: logger) { rehearsal in
            func listPeers(extra: Bool) async throws {
                for node in rehearsal.emulators {
                    try await admin(node) { admin in
                        try await admin.run("DELETE FROM proxysql_servers")
                        for peer in rehearsal.emulators {
                            try await admin.run("INSERT INTO proxysql_servers (hostname, port) VALUES ('127.0.0.1', \(peer.adminPort))")
                        }
                        if extra { try await admin.run("INSERT INTO proxysql_servers (hostname, port) VALUES ('127.0.0.1', 1)") }
                        try await admin.run("LOAD PROXYSQL SERVERS TO RUNTIME")
                    }
                }
            }
            func clusterCheck() async throws -> PreflightCheck? {
                let (environment, close) = try await rehearsal.makeEnvironment(logger: logger)
                let source = try await rehearsal.source.connectAsRoot(logger: logger)
                let target = try await MariaDBConnection.connect(configuration: rehearsal.auroraShim.adminConfiguration)
                let report = await Preflight(
                    topology: rehearsal.topology,
                    policy: CutoverPolicy(),
                    source: ServerInspector(session: source, name: "source"),
                    target: ServerInspector(session: target, name: "aurora"),
                    targetDatabase: environment.target,
                    proxies: environment.proxies
                ).run(logger: logger)
                await source.close()
                await target.close()
                await close()
                return report.checks.first { $0.id == "proxysql.cluster-members" }
            }
            #expect(try await clusterCheck()?.status == .pass)
            try await listPeers(extra: true)
            let refused = try #require(try await clusterCheck())
            #expect(refused.status == .fail)
            #expect(refused.detail.contains("127.0.0.1:1"), "\(refused.detail)")
            try await listPeers(extra: false)
            let accepted = try #require(try await clusterCheck())
            #expect(accepted.status == .pass)
            #expect(accepted.detail.contains("all configured"), "\(accepted.detail)")
        }
    }
}
