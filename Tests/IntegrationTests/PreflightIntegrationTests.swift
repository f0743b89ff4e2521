import Cutover
import CutoverSandbox
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Testing

private let logger = Logger(label: "preflight-integration")

/// ``ServerInspector`` and ``Preflight`` against real MariaDB servers: server 0 plays the source, server 1 the
/// target. No ProxySQL: a static admin fake stands in for it. Serialized: some tests change a server briefly.
@Suite(.integration, .mariaDBSandbox(servers: 2), .serialized)
struct PreflightIntegrationTests {
    // MARK: ServerInspector

    @Test func inspectorReadsIdentityCharacterSetsAndBinlogSettings() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        let inspector = ServerInspector(session: connection, name: "source")

        let identity = try await inspector.identity(logger: logger)
        #expect(identity.serverIdentity.flavor == .mariaDB)
        #expect(identity.auroraVersion == nil)  // error 1193 on MariaDB, caught
        #expect(identity.versionString.contains("MariaDB"))

        // The sandbox starts every server with utf8mb4 / utf8mb4_general_ci.
        let settings = try await inspector.characterSettings(logger: logger)
        #expect(
            settings == ServerInspection.CharacterSettings(characterSet: "utf8mb4", collation: "utf8mb4_general_ci"))

        let binlog = try await inspector.binlogSettings(logger: logger)
        #expect(binlog.binaryLogEnabled == true)
        #expect(binlog.binlogFormat == "ROW")
        #expect(binlog.serverID == UInt64(server.serverID))
        #expect(binlog.gtidDomainID == UInt64(server.serverID))
        #expect(binlog.gtidMode == nil)  // MySQL only
        #expect(binlog.logReplicaUpdates == true)

        let readOnly = try await inspector.readOnlyState(logger: logger)
        #expect(readOnly.acceptsWrites)
        #expect(readOnly.superReadOnly == nil)  // MySQL only
        try await connection.run("SET GLOBAL read_only = 1")
        let nowReadOnly = try await inspector.readOnlyState(logger: logger)
        try await connection.run("SET GLOBAL read_only = 0")
        #expect(nowReadOnly.readOnly)
        #expect(!nowReadOnly.acceptsWrites)
        await connection.close()
    }

    @Test func inspectorListsSchemasWithTheirDefaultsButNoSystemSchema() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        let name = "inspect_\(UInt32.random(in: 0...UInt32.max))"
        try await connection.run("CREATE DATABASE \(identifier: name) CHARACTER SET latin1 COLLATE latin1_swedish_ci")
        let schemas = try await ServerInspector(session: connection).schemas(logger: logger)
        try await connection.run("DROP DATABASE \(identifier: name)")
        await connection.close()
        #expect(
            schemas.contains(
                ServerInspection.Schema(name: name, characterSet: "latin1", collation: "latin1_swedish_ci")))
        #expect(schemas.allSatisfy { !ServerInspection.Schema.systemSchemas.contains($0.name) })
        #expect(schemas == schemas.sorted())
    }

    @Test func inspectorCountsTimeZonesAndCallsAnRDSConfigurationProcedure() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        let inspector = ServerInspector(session: connection)
        let zones = try await inspector.timeZoneCount(logger: logger)
        try await connection.run(
            "INSERT INTO mysql.time_zone_name (Name, Time_zone_id) VALUES ('Test/Inspection', 999999)")
        let more = try await inspector.timeZoneCount(logger: logger)
        try await connection.run("DELETE FROM mysql.time_zone_name WHERE Name = 'Test/Inspection'")
        #expect(more == zones + 1)

        // Not RDS: no procedure, so no configuration (error 1305 is caught).
        #expect(try await inspector.rdsProcedureNames(logger: logger) == [])
        #expect(try await inspector.rdsConfiguration(logger: logger) == nil)
        // A stand-in with RDS's result shape: one result set (name, value, description), then the CALL's OK.
        try await connection.run(
            """
            CREATE PROCEDURE mysql.rds_show_configuration() \
            SELECT 'binlog retention hours' AS name, NULL AS value, 'hours' AS description \
            UNION ALL SELECT 'source delay', '0', 'seconds'
            """)
        let names = try await inspector.rdsProcedureNames(logger: logger)
        let entries = try await inspector.rdsConfiguration(logger: logger)
        try await connection.run("DROP PROCEDURE mysql.rds_show_configuration")
        await connection.close()
        #expect(names == ["rds_show_configuration"])
        #expect(
            entries == [
                ServerInspection.ConfigurationEntry(name: "binlog retention hours", value: nil, explanation: "hours"),
                ServerInspection.ConfigurationEntry(name: "source delay", value: "0", explanation: "seconds"),
            ])
    }

    @Test func inspectorReadsAccountsAndParsesGrants() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        let user = "insp_\(UInt32.random(in: 0...UInt32.max))"
        try await connection.run("CREATE USER \(user)@'10.0.%' IDENTIFIED BY \(secret: "pw-\(user)")")
        try await connection.run("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO \(user)@'10.0.%'")
        let inspector = ServerInspector(session: connection)
        let accounts = try await inspector.accounts(users: [user], logger: logger)
        let all = try await inspector.accounts(users: nil, logger: logger)
        let grants = try await inspector.grants(
            for: ServerInspection.Account(user: user, host: "10.0.%"), logger: logger)
        try await connection.run("DROP USER \(user)@'10.0.%'")
        await connection.close()
        #expect(accounts == [ServerInspection.Account(user: user, host: "10.0.%")])
        #expect(all.contains(accounts[0]))
        #expect(all.contains { $0.user == "root" })
        // MariaDB 10.5+ shows REPLICATION CLIENT as BINLOG MONITOR; the password hash is not kept.
        #expect(ServerInspection.Grant.grantsGlobally("REPLICATION SLAVE", in: grants))
        #expect(ServerInspection.Grant.grantsGlobally("REPLICATION CLIENT", in: grants))
        #expect(!ServerInspection.Grant.grantsGlobally("SUPER", in: grants))
        #expect(grants.allSatisfy { !$0.description.contains("PASSWORD") })
    }

    @Test func inspectorSeesAnOpenWriteTransactionOfAnotherConnection() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let (writer, database) = try await server.connectToFreshDatabase(prefix: "trx")
        let observer = try await server.connectAsRoot()
        try await writer.run("CREATE TABLE t (id INT PRIMARY KEY)")
        try await writer.run("BEGIN")
        try await writer.run("INSERT INTO t VALUES (1), (2)")
        let inspector = ServerInspector(session: observer)
        // INNODB_TRX is a cache that InnoDB refreshes only when it has not been read for 100 ms: poll more slowly
        // than that (with a deadline) rather than read once.
        let open = try await eventually {
            try await inspector.openWriteTransactions(olderThan: .zero, logger: logger)
        } until: {
            $0.contains { $0.connectionID == writer.connectionID }
        }
        let old = try await inspector.openWriteTransactions(olderThan: .seconds(3600), logger: logger)
        try await writer.run("ROLLBACK")
        let afterRollback = try await eventually {
            try await inspector.openWriteTransactions(olderThan: .zero, logger: logger)
        } until: {
            !$0.contains { $0.connectionID == writer.connectionID }
        }
        try await writer.run("DROP DATABASE \(identifier: database)")
        await writer.close()
        await observer.close()

        let transaction = try #require(open.first { $0.connectionID == writer.connectionID })
        #expect(transaction.rowsModified == 2)
        #expect(transaction.user == "root")
        #expect(transaction.database == database)
        #expect(transaction.seconds >= 0)
        #expect(!old.contains { $0.connectionID == writer.connectionID })
        #expect(!afterRollback.contains { $0.connectionID == transaction.connectionID })
    }

    // MARK: Preflight

    @Test func preflightOnTwoFreshServersPassesTheServerChecksAndFailsReplication() async throws {
        let sandbox = try SuiteSandbox.require()
        let source = try await sandbox.servers[0].connectAsRoot()
        let target = try await sandbox.servers[1].connectAsRoot()
        let app = "app_\(UInt32.random(in: 0...UInt32.max))"
        let reverse = "rev_\(UInt32.random(in: 0...UInt32.max))"
        for connection in [source, target] {
            try await connection.run("CREATE USER \(app)@'%' IDENTIFIED BY \(secret: "app-password")")
        }
        try await target.run("CREATE USER \(reverse)@'%' IDENTIFIED BY \(secret: "reverse-password")")
        try await target.run("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO \(reverse)@'%'")

        let fixture = SandboxPreflight(
            sourcePort: sandbox.servers[0].port, targetPort: sandbox.servers[1].port, applicationUser: app,
            reverseUser: reverse)
        let report = await fixture.preflight(source: source, target: target).run(logger: logger)
        // TLS required with servers that have no certificate: reverse replication could not connect.
        var withTLS = fixture
        withTLS.replicationTLS = .required
        let tlsReport = await withTLS.preflight(source: source, target: target).run(logger: logger)
        try await target.run("DROP USER \(reverse)@'%'")
        for connection in [source, target] {
            try await connection.run("DROP USER \(app)@'%'")
            await connection.close()
        }

        #expect(report.checks.map(\.id) == Preflight.checkIDs)
        for id in [
            "source.connectivity", "target.connectivity", "versions.compatible", "charset.server", "charset.schemas",
            "timezone.tables", "replication.identities", "target.binlog", "target.binlog-retention", "target.read-only",
            "reverse-replication.account", "application.accounts", "source.long-transactions",
            "proxysql.connectivity", "proxysql.source-rows", "proxysql.target-rows", "proxysql.replication-hostgroups",
            "proxysql.runtime-equal",
        ] {
            #expect(report[id]?.status == .pass, "\(report[id].map(\.description) ?? id)")
        }
        // Replication is not configured between the two servers.
        let replication = try #require(report["replication.target"])
        #expect(replication.status == .fail)
        #expect(replication.detail.contains("does not replicate from anyone"))
        // A plain MariaDB has no mysql.rds_* procedures: a self-managed target, which warns.
        #expect(report["target.procedures"]?.status == .warn)
        // The static admin has no monitor logs: reachability cannot be confirmed.
        #expect(report["proxysql.target-reachable"]?.status == .warn)
        #expect(!report.canProceed)
        #expect(report.blockingReasons.map(\.check) == ["replication.target"])
        #expect(report["replication.tls"]?.status == .pass, "\(report["replication.tls"].map(\.description) ?? "")")
        #expect(report["replication.tls"]?.detail.contains("on loopback") == true)
        let tls = try #require(tlsReport["replication.tls"])
        #expect(tls.status == .fail, "\(tls)")
        #expect(tls.detail.contains("have_ssl = DISABLED"))
        #expect(tlsReport.blockingReasons.map(\.check) == ["replication.target", "replication.tls"])
    }

    @Test func preflightFindsDifferencesBetweenRealServers() async throws {
        let sandbox = try SuiteSandbox.require()
        let source = try await sandbox.servers[0].connectAsRoot()
        let target = try await sandbox.servers[1].connectAsRoot()
        let writer = try await sandbox.servers[0].connectAsRoot()
        let schema = "diff_\(UInt32.random(in: 0...UInt32.max))"
        try await source.run("CREATE DATABASE \(identifier: schema) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        try await target.run("CREATE DATABASE \(identifier: schema) CHARACTER SET latin1")
        try await source.run("INSERT INTO mysql.time_zone_name (Name, Time_zone_id) VALUES ('Test/Preflight', 999998)")
        try await writer.run("CREATE TABLE \(identifier: schema).t (id INT PRIMARY KEY)")
        try await writer.run("BEGIN")
        try await writer.run("INSERT INTO \(identifier: schema).t VALUES (1)")

        let sourceInspector = ServerInspector(session: source)
        _ = try await eventually {
            try await sourceInspector.openWriteTransactions(olderThan: .zero, logger: logger)
        } until: {
            $0.contains { $0.connectionID == writer.connectionID }
        }

        var fixture = SandboxPreflight(
            sourcePort: sandbox.servers[0].port, targetPort: sandbox.servers[1].port, applicationUser: "nobody_here",
            reverseUser: "nobody_either")
        fixture.policy.longTransactionLimit = .zero
        let report = await fixture.preflight(source: source, target: target).run(logger: logger)

        try await writer.run("ROLLBACK")
        try await source.run("DELETE FROM mysql.time_zone_name WHERE Name = 'Test/Preflight'")
        try await source.run("DROP DATABASE \(identifier: schema)")
        try await target.run("DROP DATABASE \(identifier: schema)")
        for connection in [source, target, writer] { await connection.close() }

        let schemas = try #require(report["charset.schemas"])
        #expect(schemas.status == .fail)
        #expect(schemas.detail.contains("\(schema): source utf8mb4 / utf8mb4_bin, target latin1 / latin1_swedish_ci"))
        #expect(report["timezone.tables"]?.status == .fail)
        #expect(report["reverse-replication.account"]?.status == .fail)
        #expect(report["application.accounts"]?.status == .fail)
        let long = try #require(report["source.long-transactions"])
        #expect(long.status == .fail)
        #expect(long.remedy?.contains("KILL \(writer.connectionID)") == true)
    }
}

/// Calls `read` until `condition` holds of its value, every 150 ms (INNODB_TRX's cache is refreshed only after
/// 100 ms without a read) for at most `deadline`; returns the last value.
private func eventually<Value>(
    within deadline: Duration = .seconds(3),
    _ read: () async throws -> Value,
    until condition: (Value) -> Bool
) async throws -> Value {
    let end = ContinuousClock.now + deadline
    var value = try await read()
    while !condition(value), ContinuousClock.now < end {
        try await Task.sleep(for: .milliseconds(150))
        value = try await read()
    }
    return value
}

/// The topology and fakes around two sandbox servers.
struct SandboxPreflight {
    var sourcePort: Int
    var targetPort: Int
    var applicationUser: String
    var reverseUser: String
    var policy = CutoverPolicy()
    /// The sandbox's servers have no certificates and replicate on loopback.
    var replicationTLS = ReplicationTLS.disabled

    var sourceWriter: BackendServer.Key { BackendServer.Key(hostgroup: 10, host: "127.0.0.1", port: sourcePort) }
    var targetWriter: BackendServer.Key { BackendServer.Key(hostgroup: 10, host: "127.0.0.1", port: targetPort) }

    var topology: CutoverTopology {
        CutoverTopology(
            source: .init(writer: sourceWriter),
            target: .init(writer: targetWriter),
            proxyNodes: ["static-admin"],
            sourceReplicationEndpoint: sourceWriter.endpoint,
            targetReplicationEndpoint: targetWriter.endpoint,
            forwardReplicationUser: "repl",
            reverseReplicationUser: reverseUser,
            applicationUsers: [applicationUser],
            forwardReplicationTLS: replicationTLS,
            reverseReplicationTLS: replicationTLS
        )
    }

    func preflight(source: MariaDBConnection, target: MariaDBConnection) -> Preflight {
        let admin = StaticProxyAdmin(
            nodeName: "static-admin",
            configured: [
                BackendServer(hostgroup: 10, host: "127.0.0.1", port: sourcePort, status: .online),
                BackendServer(hostgroup: 10, host: "127.0.0.1", port: targetPort, status: .offlineHard),
            ])
        return Preflight(
            topology: topology,
            policy: policy,
            source: ServerInspector(session: source, name: "source"),
            target: ServerInspector(session: target, name: "target"),
            targetDatabase: ReplicaStatusDatabase(name: "target", session: target),
            proxies: ProxySQLCluster(nodes: [admin], nodeDeadline: .seconds(2)),
            options: Preflight.Options(checkTimeout: .seconds(10))
        )
    }
}

/// Replication health from `SHOW SLAVE STATUS`, for these tests only: the live ``CutoverDatabase`` is built on
/// ReplicationControl's replica controllers. Everything but ``replicaHealth(logger:)`` is refused.
struct ReplicaStatusDatabase: CutoverDatabase {
    let name: String
    let session: any SQLSession
    var canFence: Bool { false }

    func replicaHealth(logger: Logger) async throws -> ReplicaHealth? {
        guard let row = try await session.queryFirst("SHOW SLAVE STATUS") else { return nil }
        let host = row["Master_Host"]?.string ?? ""
        return ReplicaHealth(
            ioThreadRunning: row["Slave_IO_Running"]?.string == "Yes",
            sqlThreadRunning: row["Slave_SQL_Running"]?.string == "Yes",
            secondsBehind: row["Seconds_Behind_Master"]?.int,
            lastError: [row["Last_IO_Error"]?.string, row["Last_SQL_Error"]?.string].compactMap { $0 }
                .filter { !$0.isEmpty }.first,
            sourceEndpoint: host.isEmpty ? nil : "\(host):\(row["Master_Port"]?.string ?? "?")"
        )
    }

    private func refused() -> MariaDBError { MariaDBError(code: .unexpectedResult, message: "not for preflight") }
    func longWriteTransactions(olderThan limit: Duration, logger: Logger) async throws -> [LongTransaction] {
        throw refused()
    }
    func currentPosition(logger: Logger) async throws -> ReplicationCoordinate { throw refused() }
    func fence(timeout: Duration, logger: Logger) async throws { throw refused() }
    func liftFence(logger: Logger) async throws { throw refused() }
    func closeSessions(users: [String], logger: Logger) async throws -> Int { throw refused() }
    func waitForCatchUp(
        to coordinate: ReplicationCoordinate, timeout: Duration,
        progress: @escaping @Sendable (ReplicationCoordinate?) -> Void, logger: Logger
    ) async throws { throw refused() }
    func stopAndResetReplication(timeout: Duration, logger: Logger) async throws { throw refused() }
    func startReplication(
        from source: ServerEndpoint, user: String, password: String, tls: ReplicationTLS,
        at coordinate: ReplicationCoordinate,
        timeout: Duration, logger: Logger
    ) async throws { throw refused() }
    func verifyReplication(timeout: Duration, logger: Logger) async throws { throw refused() }
}

/// A ProxySQL admin fake with fixed `mysql_servers` rows (the runtime is the rows not OFFLINE_HARD), no
/// replication hostgroup pairs and no monitor logs; every change is refused.
struct StaticProxyAdmin: ProxySQLAdministering {
    let nodeName: String
    let configured: [BackendServer]

    private func refused() -> ProxySQLAdminError {
        ProxySQLAdminError(code: .invalidArgument, node: nodeName, message: "static fake: no changes")
    }

    func version(logger: Logger) async throws -> ProxySQLVersion { ProxySQLVersion(versionString: "2.7.1-static") }
    func servers(in layer: ConfigurationLayer, hostgroups: Set<HostgroupID>, logger: Logger) async throws
        -> [BackendServer]
    {
        let rows = layer == .configured ? configured : configured.filter { $0.status != .offlineHard }
        return rows.filter { hostgroups.isEmpty || hostgroups.contains($0.hostgroup) }.sorted { $0.key < $1.key }
    }
    func replicationHostgroupPairs(layer: ConfigurationLayer, logger: Logger) async throws -> [ReplicationHostgroupPair]
    { [] }
    func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async throws -> ConnectionPoolStats? { nil }
    func processlist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID?, logger: Logger) async throws
        -> [ProcesslistEntry]
    { [] }
    func variable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer, logger: Logger) async throws
        -> ProxySQLVariable
    {
        throw ProxySQLAdminError(code: .notFound, node: nodeName, message: "no such variable")
    }
    func addServer(_ server: BackendServer, logger: Logger) async throws { throw refused() }
    func updateServers(_ selector: ServerSelector, set change: ServerChange, logger: Logger) async throws -> UInt64 {
        throw refused()
    }
    func removeServers(_ selector: ServerSelector, logger: Logger) async throws -> UInt64 { throw refused() }
    func loadServersToRuntime(logger: Logger) async throws { throw refused() }
    func saveServersToDisk(logger: Logger) async throws { throw refused() }
    func killSession(_ session: ProxySQLSessionID, logger: Logger) async throws { throw refused() }
    func setVariable(_ name: ProxySQLVariable.Name, to value: String, logger: Logger) async throws { throw refused() }
    func loadVariablesToRuntime(logger: Logger) async throws { throw refused() }
    func saveVariablesToDisk(logger: Logger) async throws { throw refused() }
}
