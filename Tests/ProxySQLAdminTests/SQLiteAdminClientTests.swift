import Logging
import MariaDB
import ProxySQLAdmin
import Testing

/// The client's statements run on SQLite with ProxySQL's admin schema (column names, defaults, CHECK
/// constraints): every statement parses, affected-row counts are real, and SQLite's errors are classified as
/// they would be when ProxySQL relays them.
@Suite(
    "ProxySQLAdminClient on SQLite with ProxySQL's schema",
    .enabled(if: SQLiteLibrary.isRequired, SQLiteLibrary.skipReason)
)
struct SQLiteAdminClientTests {
    let logger = Fixtures.logger

    @Test("Add, change status, load, verify, remove: the scratch-hostgroup round trip")
    func roundTrip() async throws {
        let session = try SQLiteAdminSession()
        let admin = ProxySQLAdminClient(session: session)
        let hostgroup: HostgroupID = 9990
        let live = BackendServer(hostgroup: hostgroup, host: "127.0.0.1", port: 3306, comment: "scratch live")
        let hard = BackendServer(
            hostgroup: hostgroup, host: "127.0.0.2", port: 3306, status: .offlineHard,
            comment: "scratch hard")
        try await admin.addServer(live, logger: logger)
        try await admin.addServer(hard, logger: logger)
        #expect(try await admin.configuredServers(hostgroup: hostgroup, logger: logger) == [live, hard])
        #expect(try await admin.runtimeServers(hostgroup: hostgroup, logger: logger).isEmpty)

        try await admin.loadServersToRuntime(logger: logger)
        #expect(try await admin.runtimeServers(hostgroup: hostgroup, logger: logger) == [live])
        let intended = [
            IntendedBackendState(key: live.key, status: .online),
            IntendedBackendState(key: hard.key, status: .offlineHard),
        ]
        try await admin.requireRuntime(intended, exhaustiveHostgroups: [hostgroup], logger: logger)
        #expect(try await admin.verifyRuntimeMatchesConfiguration(hostgroups: [hostgroup], logger: logger).isSatisfied)

        // Config changed, runtime not yet: verification sees the difference until LOAD.
        try await admin.setStatus(.offlineSoft, of: live.key, logger: logger)
        let before = try await admin.verifyRuntimeMatchesConfiguration(hostgroups: [hostgroup], logger: logger)
        #expect(before.differences == [.statusMismatch(live.key, expected: .offlineSoft, actual: .online)])
        try await admin.loadServersToRuntime(logger: logger)
        #expect(try await admin.verifyRuntimeMatchesConfiguration(hostgroups: [hostgroup], logger: logger).isSatisfied)

        // Swap: the hard one goes online, the soft one hard; after LOAD only the new one is live.
        try await admin.setStatus(.online, of: hard.key, logger: logger)
        try await admin.setStatusAndLoad(.offlineHard, of: live.key, logger: logger)
        let swapped = [
            IntendedBackendState(key: live.key, status: .offlineHard),
            IntendedBackendState(key: hard.key, status: .online),
        ]
        #expect(try await admin.verifyRuntime(swapped, exhaustiveHostgroups: [hostgroup], logger: logger).isSatisfied)

        #expect(try await admin.removeServers(.hostgroup(hostgroup), logger: logger) == 2)
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await admin.removeServer(live.key, logger: logger)
        }
        try await admin.loadServersToRuntime(logger: logger)
        #expect(try await admin.runtimeServers(hostgroup: hostgroup, logger: logger).isEmpty)
        try await admin.saveServersToDisk(logger: logger)
    }

    @Test("Affected rows are SQLite's true counts, by comment and by endpoint")
    func affectedRows() async throws {
        let session = try SQLiteAdminSession()
        let admin = ProxySQLAdminClient(session: session)
        for hostgroup in [10, 11, 12] as [HostgroupID] {
            try await admin.addServer(BackendServer(hostgroup: hostgroup, host: "db1", comment: "old"), logger: logger)
        }
        #expect(try await admin.setStatus(.offlineSoft, ofServersWithComment: "old", logger: logger) == 3)
        #expect(
            try await admin.updateServers(
                .endpoint(ServerEndpoint(host: "db1")),
                set: ServerChange(weight: 0, comment: "drained"), logger: logger) == 3)
        #expect(
            try await admin.updateServers(
                .key(BackendServer.Key(hostgroup: 11, host: "db1")),
                set: ServerChange(maxConnections: 5, maxReplicationLag: 10),
                logger: logger) == 1)
        let rows = try await admin.configuredServers(logger: logger)
        #expect(rows.map(\.comment) == ["drained", "drained", "drained"])
        #expect(rows.map(\.maxConnections) == [1000, 5, 1000])
    }

    @Test("SQLite's errors come back classified: UNIQUE is alreadyExists, a CHECK is constraintViolation")
    func constraints() async throws {
        let session = try SQLiteAdminSession()
        let admin = ProxySQLAdminClient(session: session)
        let server = BackendServer(hostgroup: 10, host: "db1")
        try await admin.addServer(server, logger: logger)
        let duplicate = await #expect(throws: ProxySQLAdminError.self) {
            try await admin.addServer(server, logger: logger)
        }
        #expect(duplicate?.code == .alreadyExists)
        #expect(
            duplicate?.adminMessage
                == "UNIQUE constraint failed: mysql_servers.hostgroup_id, mysql_servers.hostname, mysql_servers.port")

        // A value our validation lets through but ProxySQL's CHECK refuses is still classified.
        let check = await #expect(throws: ProxySQLAdminError.self) {
            try await admin.executeRaw("UPDATE mysql_servers SET status = 'MAINTENANCE'")
        }
        #expect(check?.code == .constraintViolation)
        #expect(check?.adminMessage?.hasPrefix("CHECK constraint failed") == true)

        let typo = await #expect(throws: ProxySQLAdminError.self) {
            try await admin.executeRaw("SELEC * FROM mysql_servers")
        }
        #expect(typo?.code == .adminStatementFailed)
        #expect(typo?.isSyntaxError == true)
        #expect(typo?.description.contains("SELEC") == false)
    }

    @Test("Pool, processlist, variables, pairs and version statements all run on the real schema")
    func everyRead() async throws {
        let session = try SQLiteAdminSession()
        try session.direct(
            """
            INSERT INTO stats_mysql_connection_pool VALUES (10, 'db1', 3306, 'OFFLINE_SOFT', 2, 1, 9, 0, 4, 100, 0, 10, 20, 300);
            INSERT INTO stats_mysql_connection_pool VALUES (11, 'db1', 3306, 'ONLINE', 0, 1, 9, 0, 4, 100, 0, 10, 20, 300);
            INSERT INTO stats_mysql_processlist VALUES (1, 42, 'app', 'shop', '10.0.0.5', 5000, 10, '10.0.0.9', 4000, 'db1', 3306, 'Sleep', 900, NULL, 0, NULL);
            INSERT INTO stats_mysql_processlist VALUES (1, 43, 'app', 'shop', '10.0.0.5', 5001, 10, NULL, NULL, NULL, NULL, 'Sleep', 3, NULL, 0, NULL);
            INSERT INTO mysql_replication_hostgroups VALUES (10, 11, 'read_only', 'pair');
            INSERT INTO mysql_servers (hostgroup_id, hostname, status) VALUES (11, 'aurora', 'OFFLINE_HARD');
            """)
        let admin = ProxySQLAdminClient(session: session)
        let key = BackendServer.Key(hostgroup: 10, host: "db1")

        let pool = try #require(try await admin.connectionPoolStats(for: key, logger: logger))
        #expect(pool.connectionsUsed == 2)
        #expect(pool.status == .offlineSoft)
        #expect(
            try await admin.connectionPoolStats(for: BackendServer.Key(hostgroup: 12, host: "db1"), logger: logger)
                == nil)
        #expect(try await admin.connectionPoolStats(hostgroup: nil, logger: logger).count == 2)

        let sessions = try await admin.processlist(attachedTo: key, logger: logger)
        #expect(sessions.map(\.sessionID) == [42])
        #expect(try await admin.processlist(logger: logger).map(\.sessionID) == [42, 43])
        await #expect(throws: ProxySQLAdminError(code: .notFound)) { try await admin.killSession(99, logger: logger) }

        #expect(try await admin.variable(.connectTimeoutServerMax, logger: logger).intValue == 10000)
        try await admin.setVariablesAndLoad(
            [.queryRetriesOnFailure: "0", .autoIncrementDelayMultiplex: "0"], logger: logger)
        #expect(try await admin.variable(.queryRetriesOnFailure, layer: .runtime, logger: logger).value == "0")
        #expect(
            try await admin.variables([.queryRetriesOnFailure, .autoIncrementDelayMultiplex], logger: logger)
                .map(\.value) == ["0", "0"])
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await admin.setVariable("mysql-no_such_thing", to: "1", logger: logger)
        }
        try await admin.saveVariablesToDisk(logger: logger)

        let aurora = ServerEndpoint(host: "aurora")
        let configured = try await admin.monitorExposure(of: aurora, logger: logger)
        #expect(configured.map(\.layer) == [.configured])
        try await admin.loadServersToRuntime(logger: logger)
        // OFFLINE_HARD leaves the runtime server table, so only the configured layer exposes it.
        #expect(try await admin.monitorExposure(of: aurora, logger: logger).map(\.layer) == [.configured])
        try await admin.setStatusAndLoad(.online, of: BackendServer.Key(hostgroup: 11, host: "aurora"), logger: logger)
        #expect(try await admin.monitorExposure(of: aurora, logger: logger).map(\.layer) == [.configured, .runtime])
        #expect(try await admin.monitorExposure(of: ServerEndpoint(host: "db1"), logger: logger).isEmpty)

        #expect(try await admin.version(logger: logger).versionString == "2.7.1-sqlite-fixture")
    }
}

extension ProxySQLAdminClient {
    /// Sends a raw statement on the client's session and classifies its failure as the client does (tests only).
    @discardableResult
    func executeRaw(_ sql: String) async throws -> SQLResult {
        do {
            return try await session.execute(SQLStatement(unsafeRaw: sql))
        } catch {
            throw ProxySQLAdminError(classifying: error, node: nodeName, statement: SQLStatement(unsafeRaw: sql))
        }
    }
}
