import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import Testing

/// Where a real ProxySQL admin interface listens, from `PROXYSQL_ADMIN_HOST`, `PROXYSQL_ADMIN_PORT` (6032),
/// `PROXYSQL_ADMIN_USER` (`admin`) and `PROXYSQL_ADMIN_PASSWORD`; nil when `PROXYSQL_ADMIN_HOST` is unset.
enum RealProxySQL {
    static var configuration: MariaDBConnection.Configuration? {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["PROXYSQL_ADMIN_HOST"], !host.isEmpty else { return nil }
        var configuration = MariaDBConnection.Configuration(
            host: host,
            port: environment["PROXYSQL_ADMIN_PORT"].flatMap { Int($0) } ?? 6032,
            user: environment["PROXYSQL_ADMIN_USER"] ?? "admin",
            password: environment["PROXYSQL_ADMIN_PASSWORD"]
        )
        configuration.connectTimeout = .seconds(5)
        configuration.readTimeout = .seconds(10)
        return configuration
    }

    static var isConfigured: Bool { configuration != nil }
}

/// Exercises `ProxySQLAdminClient` against a real ProxySQL admin interface on scratch hostgroup 9990 (rows
/// are removed and loaded away at the end; nothing is saved to disk). Runs only when `PROXYSQL_ADMIN_HOST` is
/// set; otherwise the suite is skipped. The checks are the facts of DESIGN.md §3, so the same body can run
/// against the sandbox's ProxySQL emulator.
@Suite(
    "ProxySQLAdminClient against a real ProxySQL",
    .serialized,
    .enabled(if: RealProxySQL.isConfigured, "set PROXYSQL_ADMIN_HOST (and _PORT, _USER, _PASSWORD) to run")
)
struct ProxySQLAdminRealTests {
    static let scratch: HostgroupID = 9990

    let logger = Logger(label: "test.proxysql-admin.real")

    @Test("Read, add, change status, load, verify and remove on a scratch hostgroup")
    func scratchRoundTrip() async throws {
        let configuration = try #require(RealProxySQL.configuration)
        let admin = try await ProxySQLAdminClient.connect(configuration: configuration, logger: logger)
        do {
            try await Self.exercise(admin, scratch: Self.scratch, logger: logger)
        } catch {
            await Self.cleanUp(admin, scratch: Self.scratch, logger: logger)
            await admin.close()
            throw error
        }
        await Self.cleanUp(admin, scratch: Self.scratch, logger: logger)
        await admin.close()
    }

    @Test("A wrong password is accessDenied, told apart from a refused statement by its text")
    func wrongPassword() async throws {
        var configuration = try #require(RealProxySQL.configuration)
        configuration.password = "definitely-not-the-password-\(UInt32.random(in: 0...UInt32.max))"
        let error = await #expect(throws: ProxySQLAdminError.self) {
            _ = try await ProxySQLAdminClient.connect(configuration: configuration, logger: logger)
        }
        #expect(error?.code == .accessDenied)
        #expect(error?.serverErrorNumber == 1045)
    }

    @Test("Refused statements are 1045/28000 with SQLite's message")
    func refusedStatements() async throws {
        let configuration = try #require(RealProxySQL.configuration)
        let admin = try await ProxySQLAdminClient.connect(configuration: configuration, logger: logger)
        let typo = await #expect(throws: (any Error).self) {
            try await admin.session.execute("LOAD MYSQL SERVERS TO RUNTIM")
        }
        let classifiedTypo = typo.map { ProxySQLAdminError(classifying: $0) }
        #expect(classifiedTypo?.code == .adminStatementFailed)
        #expect(classifiedTypo?.isSyntaxError == true)
        #expect(classifiedTypo?.sqlState == "28000")

        let table = await #expect(throws: (any Error).self) {
            try await admin.session.execute("SELECT * FROM no_such_table_9990")
        }
        let classifiedTable = table.map { ProxySQLAdminError(classifying: $0) }
        #expect(classifiedTable?.code == .adminStatementFailed)
        #expect(classifiedTable?.isNoSuchTable == true)
        await admin.close()
    }

    /// The scratch round trip, usable against any admin endpoint (real ProxySQL or the emulator).
    static func exercise(_ admin: ProxySQLAdminClient, scratch: HostgroupID, logger: Logger) async throws {
        let version = try await admin.version(logger: logger)
        #expect(version.version.major >= 1, "version \(version)")
        _ = try await admin.configuredServers(logger: logger)
        _ = try await admin.runtimeServers(logger: logger)
        _ = try await admin.replicationHostgroupPairs(layer: .configured, logger: logger)
        _ = try await admin.variable(.queryRetriesOnFailure, logger: logger)

        await cleanUp(admin, scratch: scratch, logger: logger)
        let hostile = "scratch x\\' OR 1=1 -- ü"
        let soft = BackendServer(hostgroup: scratch, host: "127.0.0.1", port: 9, status: .offlineSoft, comment: hostile)
        let hard = BackendServer(
            hostgroup: scratch, host: "127.0.0.2", port: 9, status: .offlineHard, comment: "scratch hard")
        try await admin.addServer(soft, logger: logger)
        try await admin.addServer(hard, logger: logger)
        await #expect(throws: ProxySQLAdminError(code: .alreadyExists)) {
            try await admin.addServer(hard, logger: logger)
        }
        #expect(try await admin.configuredServers(hostgroup: scratch, logger: logger) == [soft, hard])

        // The hostile comment matches exactly its own row.
        #expect(try await admin.setStatus(.offlineSoft, ofServersWithComment: hostile, logger: logger) == 1)

        try await admin.loadServersToRuntime(logger: logger)
        let afterLoad = try await admin.runtimeServers(hostgroup: scratch, logger: logger)
        #expect(afterLoad.map(\.key) == [soft.key], "OFFLINE_HARD must be absent from runtime after LOAD")
        #expect(try await admin.connectionPoolStats(for: soft.key, logger: logger)?.status == .offlineSoft)
        #expect(try await admin.connectionPoolStats(for: hard.key, logger: logger) == nil)
        try await admin.requireRuntime(
            [
                IntendedBackendState(key: soft.key, status: .offlineSoft, comment: hostile),
                IntendedBackendState(key: hard.key, status: .offlineHard),
            ],
            exhaustiveHostgroups: [scratch],
            logger: logger
        )
        #expect(try await admin.verifyRuntimeMatchesConfiguration(hostgroups: [scratch], logger: logger).isSatisfied)

        // Swap them in two LOADs, as a cut-over would.
        try await admin.setStatusAndLoad(.offlineHard, of: soft.key, logger: logger)
        try await admin.setStatusAndLoad(.offlineSoft, of: hard.key, logger: logger)
        try await admin.requireRuntime(
            [
                IntendedBackendState(key: soft.key, status: .offlineHard),
                IntendedBackendState(key: hard.key, status: .offlineSoft),
            ],
            exhaustiveHostgroups: [scratch],
            logger: logger
        )
        #expect(try await admin.processlist(attachedTo: hard.key, logger: logger).isEmpty)
        #expect(
            try await admin.monitorExposure(of: hard.endpoint, logger: logger).allSatisfy {
                !$0.pair.contains(scratch)
            })

        #expect(try await admin.removeServers(.hostgroup(scratch), logger: logger) == 2)
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await admin.removeServer(soft.key, logger: logger)
        }
        try await admin.loadServersToRuntime(logger: logger)
        #expect(try await admin.runtimeServers(hostgroup: scratch, logger: logger).isEmpty)
    }

    /// Removes every scratch row (none is fine) and loads.
    static func cleanUp(_ admin: ProxySQLAdminClient, scratch: HostgroupID, logger: Logger) async {
        do {
            do {
                try await admin.removeServers(.hostgroup(scratch), logger: logger)
            } catch let error as ProxySQLAdminError where error.code == .notFound {
                // nothing left from an earlier run
            }
            try await admin.loadServersToRuntime(logger: logger)
        } catch {
            Issue.record("cleaning up hostgroup \(scratch) failed: \(error)")
        }
    }
}
