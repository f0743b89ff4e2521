import CutoverTestSupport
import InMemoryLogging
import Logging
import MariaDB
import ProxySQLAdmin
import Testing

@Suite("ProxySQLAdminClient over a scripted session")
struct ProxySQLAdminClientTests {
    let logger = Fixtures.logger

    // MARK: Reading servers

    @Test("Reads configured servers with every column")
    func configuredServers() async throws {
        let session = Fixtures.session()
        let servers = [
            BackendServer(hostgroup: 10, host: "db1", comment: "source writer"),
            BackendServer(hostgroup: 10, host: "aurora", status: .offlineHard, weight: 1000),
        ]
        session.expect(
            .exact(Fixtures.selectServers("mysql_servers")), columns: Fixtures.serverColumns,
            rows: servers.map(Fixtures.cells))
        let read = try await Fixtures.client(session).configuredServers(logger: logger)
        #expect(read == servers)
        try session.verifyAllConsumed()
    }

    @Test("Reads runtime servers of one hostgroup, or of several")
    func runtimeServers() async throws {
        let session = Fixtures.session()
        session.expect(
            .exact(Fixtures.selectServers("runtime_mysql_servers", where: "hostgroup_id = 10")),
            columns: Fixtures.serverColumns, rows: [Fixtures.cells(BackendServer(hostgroup: 10, host: "db1"))])
        session.expect(
            .exact(Fixtures.selectServers("runtime_mysql_servers", where: "hostgroup_id IN (10, 11)")),
            columns: Fixtures.serverColumns, rows: [])
        let client = Fixtures.client(session)
        #expect(try await client.runtimeServers(hostgroup: 10, logger: logger).map(\.key) == [Fixtures.writer])
        #expect(try await client.servers(in: .runtime, hostgroups: [11, 10], logger: logger).isEmpty)
        try session.verifyAllConsumed()
    }

    @Test("A negative hostgroup is refused before sending")
    func negativeHostgroup() async throws {
        let session = Fixtures.session()
        await #expect(throws: ProxySQLAdminError(code: .invalidArgument)) {
            try await Fixtures.client(session).runtimeServers(hostgroup: -1, logger: logger)
        }
        #expect(session.receivedStatements.isEmpty)
    }

    // MARK: Adding and removing

    @Test("Adds a server with every column")
    func addServer() async throws {
        let session = Fixtures.session()
        session.expect(
            "INSERT INTO mysql_servers (\(Fixtures.columnList)) VALUES (10, 'aurora-writer', 3306, 0, 'OFFLINE_HARD', 1, 0, 1000, 0, 0, 0, 'aurora writer')",
            result: SQLResult(affectedRows: 1)
        )
        var server = BackendServer(hostgroup: 10, host: "aurora-writer", status: .offlineHard, comment: "aurora writer")
        try await Fixtures.client(session).addServer(server, logger: logger)

        server.useSSL = true
        server.gtidPort = 3307
        server.compression = 1
        server.maxReplicationLag = 30
        server.maxLatencyMs = 50
        server.endpoint.port = 3308
        session.expect(
            "INSERT INTO mysql_servers (\(Fixtures.columnList)) VALUES (10, 'aurora-writer', 3308, 3307, 'OFFLINE_HARD', 1, 1, 1000, 30, 1, 50, 'aurora writer')",
            result: SQLResult(affectedRows: 1)
        )
        try await Fixtures.client(session).addServer(server, logger: logger)
        try session.verifyAllConsumed()
    }

    @Test("Adding an existing server is alreadyExists")
    func addDuplicate() async throws {
        let session = Fixtures.session()
        let failure = Fixtures.adminFailure(
            "UNIQUE constraint failed: mysql_servers.hostgroup_id, mysql_servers.hostname, mysql_servers.port"
        )
        session.expect(.prefix("INSERT INTO mysql_servers"), reply: .error(failure))
        let error = await #expect(throws: ProxySQLAdminError.self) {
            try await Fixtures.client(session).addServer(BackendServer(hostgroup: 10, host: "db1"), logger: logger)
        }
        #expect(error?.code == .alreadyExists)
        #expect(error?.node == "proxy-a:6032")
        #expect(error?.statement?.hasPrefix("INSERT INTO mysql_servers") == true)
        try session.verifyAllConsumed()
    }

    @Test("A row out of ProxySQL's ranges is refused before sending")
    func addInvalid() async throws {
        let session = Fixtures.session()
        let error = await #expect(throws: ProxySQLAdminError.self) {
            try await Fixtures.client(session).addServer(
                BackendServer(hostgroup: 10, host: "db1", port: 70000),
                logger: logger)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.detail == "port 70000 is outside 0...65535")
        #expect(session.receivedStatements.isEmpty)
    }

    @Test("Removes a server by key; nothing removed is notFound")
    func remove() async throws {
        let session = Fixtures.session()
        let sql = "DELETE FROM mysql_servers WHERE hostgroup_id = 9990 AND hostname = 'scratch' AND port = 3306"
        session.expect(sql, result: SQLResult(affectedRows: 1))
        session.expect(sql, result: SQLResult(affectedRows: 0))
        session.expect("DELETE FROM mysql_servers WHERE comment = 'scratch'", result: SQLResult(affectedRows: 3))
        let client = Fixtures.client(session)
        let key = BackendServer.Key(hostgroup: 9990, host: "scratch")
        try await client.removeServer(key, logger: logger)
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await client.removeServer(key, logger: logger)
        }
        #expect(try await client.removeServers(.comment("scratch"), logger: logger) == 3)
        try session.verifyAllConsumed()
    }

    // MARK: Changing servers

    @Test("Sets the status of a server identified by key")
    func setStatusByKey() async throws {
        let session = Fixtures.session()
        session.expect(
            "UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostgroup_id = 10 AND hostname = 'db1' AND port = 3306",
            result: SQLResult(affectedRows: 1)
        )
        try await Fixtures.client(session).setStatus(.offlineSoft, of: Fixtures.writer, logger: logger)
        try session.verifyAllConsumed()
    }

    @Test("Zero affected rows is a typed notFound naming no SQL in its description")
    func setStatusNotFound() async throws {
        let session = Fixtures.session()
        session.expect(
            .prefix("UPDATE mysql_servers SET status = 'ONLINE'"), reply: .result(SQLResult(affectedRows: 0)))
        let error = await #expect(throws: ProxySQLAdminError.self) {
            try await Fixtures.client(session).setStatus(.online, of: Fixtures.writer, logger: logger)
        }
        #expect(error?.code == .notFound)
        #expect(error?.detail == "server 10/db1:3306")
        #expect(error?.description == "ProxySQLAdminError.notFound at proxy-a:6032: no server matched")
        try session.verifyAllConsumed()
    }

    @Test("Sets the status of every server with a comment and reports how many changed")
    func setStatusByComment() async throws {
        let session = Fixtures.session()
        session.expect(
            "UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE comment = 'old-reader'",
            result: SQLResult(affectedRows: 2))
        session.expect(
            "UPDATE mysql_servers SET status = 'ONLINE' WHERE comment = 'nobody'",
            result: SQLResult(affectedRows: 0))
        let client = Fixtures.client(session)
        #expect(try await client.setStatus(.offlineHard, ofServersWithComment: "old-reader", logger: logger) == 2)
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await client.setStatus(.online, ofServersWithComment: "nobody", logger: logger)
        }
        try session.verifyAllConsumed()
    }

    @Test("Sets weight, comment, and several columns at once")
    func otherColumns() async throws {
        let session = Fixtures.session()
        let keyClause = "WHERE hostgroup_id = 10 AND hostname = 'db1' AND port = 3306"
        session.expect("UPDATE mysql_servers SET weight = 0 \(keyClause)", result: SQLResult(affectedRows: 1))
        session.expect("UPDATE mysql_servers SET comment = 'drained' \(keyClause)", result: SQLResult(affectedRows: 1))
        session.expect(
            "UPDATE mysql_servers SET status = 'ONLINE', weight = 5, comment = 'c', max_connections = 10, max_replication_lag = 3 WHERE hostname = 'db1' AND port = 3306",
            result: SQLResult(affectedRows: 2)
        )
        session.expect(
            "UPDATE mysql_servers SET status = 'SHUNNED' WHERE hostgroup_id = 11",
            result: SQLResult(affectedRows: 4))
        let client = Fixtures.client(session)
        try await client.setWeight(0, of: Fixtures.writer, logger: logger)
        try await client.setComment("drained", of: Fixtures.writer, logger: logger)
        let change = ServerChange(status: .online, weight: 5, comment: "c", maxConnections: 10, maxReplicationLag: 3)
        #expect(try await client.updateServers(.endpoint(Fixtures.writer.endpoint), set: change, logger: logger) == 2)
        #expect(
            try await client.updateServers(.hostgroup(11), set: ServerChange(status: .shunned), logger: logger) == 4)
        try session.verifyAllConsumed()
    }

    @Test("An empty or out-of-range change is refused before sending")
    func invalidChange() async throws {
        let session = Fixtures.session()
        let client = Fixtures.client(session)
        await #expect(throws: ProxySQLAdminError(code: .invalidArgument)) {
            try await client.updateServers(.key(Fixtures.writer), set: ServerChange(), logger: logger)
        }
        await #expect(throws: ProxySQLAdminError(code: .invalidArgument)) {
            try await client.setWeight(10_000_001, of: Fixtures.writer, logger: logger)
        }
        #expect(session.receivedStatements.isEmpty)
    }

    @Test("LOAD and SAVE commands are sent verbatim")
    func loadAndSave() async throws {
        let session = Fixtures.session()
        for command in [
            "LOAD MYSQL SERVERS TO RUNTIME", "SAVE MYSQL SERVERS TO DISK", "LOAD MYSQL VARIABLES TO RUNTIME",
            "SAVE MYSQL VARIABLES TO DISK",
        ] {
            session.expect(command)
        }
        let client = Fixtures.client(session)
        try await client.loadServersToRuntime(logger: logger)
        try await client.saveServersToDisk(logger: logger)
        try await client.loadVariablesToRuntime(logger: logger)
        try await client.saveVariablesToDisk(logger: logger)
        try session.verifyAllConsumed()
    }

    @Test("setStatusAndLoad sends the update, then the LOAD")
    func setStatusAndLoad() async throws {
        let session = Fixtures.session()
        session.expect(
            .prefix("UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE hostgroup_id = 10"),
            reply: .result(SQLResult(affectedRows: 1)))
        session.expect("LOAD MYSQL SERVERS TO RUNTIME")
        try await Fixtures.client(session).setStatusAndLoad(.offlineHard, of: Fixtures.writer, logger: logger)
        try session.verifyAllConsumed()
    }

    @Test("A mistyped command comes back as SQLite's syntax error, classified")
    func typo() async throws {
        let session = Fixtures.session()
        session.expect(
            .exact("LOAD MYSQL SERVERS TO RUNTIME"),
            reply: .error(Fixtures.adminFailure("near \"LOAD\": syntax error")))
        let error = await #expect(throws: ProxySQLAdminError.self) {
            try await Fixtures.client(session).loadServersToRuntime(logger: logger)
        }
        #expect(error?.code == .adminStatementFailed)
        #expect(error?.isSyntaxError == true)
        #expect(error?.statement == "LOAD MYSQL SERVERS TO RUNTIME")
    }

    // MARK: Pool, processlist, kill

    @Test("Reads the pool statistics of one server; no row is nil")
    func poolStats() async throws {
        let session = Fixtures.session()
        let sql =
            "SELECT * FROM stats_mysql_connection_pool WHERE hostgroup = 10 AND srv_host = 'db1' AND srv_port = 3306"
        session.expect(
            .exact(sql), columns: Fixtures.poolColumns,
            rows: [["10", "db1", "3306", "OFFLINE_SOFT", "2", "0", "5", "0", "4", "100", "0", "10", "20", "300"]])
        session.expect(.exact(sql), columns: Fixtures.poolColumns, rows: [])
        let client = Fixtures.client(session)
        let stats = try #require(try await client.connectionPoolStats(for: Fixtures.writer, logger: logger))
        #expect(stats.connectionsUsed == 2)
        #expect(stats.status == .offlineSoft)
        #expect(try await client.connectionPoolStats(for: Fixtures.writer, logger: logger) == nil)
        try session.verifyAllConsumed()
    }

    @Test("Reads every pool row of a hostgroup")
    func poolStatsAll() async throws {
        let session = Fixtures.session()
        session.expect(
            .exact(
                "SELECT * FROM stats_mysql_connection_pool WHERE hostgroup = 11 ORDER BY hostgroup, srv_host, srv_port"),
            columns: Fixtures.poolColumns,
            rows: [
                ["11", "r1", "3306", "ONLINE", "0", "3", "3", "0", "3", "9", "0", "1", "2", "3"],
                ["11", "r2", "3306", "ONLINE", "1", "3", "4", "0", "3", "9", "0", "1", "2", "3"],
            ])
        let stats = try await Fixtures.client(session).connectionPoolStats(hostgroup: 11, logger: logger)
        #expect(stats.map(\.connectionsUsed) == [0, 1])
        try session.verifyAllConsumed()
    }

    @Test("Reads the sessions attached to one server")
    func processlist() async throws {
        let session = Fixtures.session()
        session.expect(
            .exact(
                "SELECT * FROM stats_mysql_processlist WHERE srv_host = 'db1' AND srv_port = 3306 AND hostgroup = 10 ORDER BY SessionID"
            ),
            columns: Fixtures.processlistColumns,
            rows: [
                [
                    "1", "42", "app", "shop", "10.0.0.5", "5000", "10", "10.0.0.9", "4000", "db1", "3306", "Sleep",
                    "900", nil,
                ]
            ]
        )
        session.expect(
            .exact(
                "SELECT * FROM stats_mysql_processlist WHERE srv_host = 'db1' AND srv_port = 3306 ORDER BY SessionID"),
            columns: Fixtures.processlistColumns, rows: []
        )
        session.expect(
            .exact("SELECT * FROM stats_mysql_processlist ORDER BY SessionID"),
            columns: Fixtures.processlistColumns, rows: [])
        let client = Fixtures.client(session)
        let entries = try await client.processlist(attachedTo: Fixtures.writer, logger: logger)
        #expect(entries.map(\.sessionID) == [42])
        #expect(entries[0].isIdleHoldingBackend)
        #expect(try await client.processlist(attachedTo: Fixtures.writer.endpoint, logger: logger).isEmpty)
        #expect(try await client.processlist(logger: logger).isEmpty)
        try session.verifyAllConsumed()
    }

    @Test("Kills a session by SessionID; an unknown id is notFound")
    func kill() async throws {
        let session = Fixtures.session()
        session.expect("KILL CONNECTION 42")
        session.expect(.exact("KILL CONNECTION 43"), reply: .error(Fixtures.adminFailure("Unknown thread id: 43")))
        let client = Fixtures.client(session)
        try await client.killSession(42, logger: logger)
        let error = await #expect(throws: ProxySQLAdminError.self) { try await client.killSession(43, logger: logger) }
        #expect(error?.code == .notFound)
        #expect(error?.adminMessage == "Unknown thread id: 43")
        try session.verifyAllConsumed()
    }

    // MARK: Variables

    @Test("Reads and sets variables; an unknown name is notFound")
    func variables() async throws {
        let session = Fixtures.session()
        let columns = ["variable_name", "variable_value"]
        session.expect(
            .exact(
                "SELECT variable_name, variable_value FROM global_variables WHERE variable_name = 'mysql-query_retries_on_failure'"
            ),
            columns: columns, rows: [["mysql-query_retries_on_failure", "1"]]
        )
        session.expect(
            .exact(
                "SELECT variable_name, variable_value FROM runtime_global_variables WHERE variable_name = 'mysql-connect_timeout_server_max'"
            ),
            columns: columns, rows: [["mysql-connect_timeout_server_max", "10000"]]
        )
        session.expect(
            .exact("SELECT variable_name, variable_value FROM global_variables WHERE variable_name = 'mysql-nope'"),
            columns: columns, rows: []
        )
        session.expect(
            "UPDATE global_variables SET variable_value = '0' WHERE variable_name = 'mysql-query_retries_on_failure'",
            result: SQLResult(affectedRows: 1)
        )
        session.expect(
            "UPDATE global_variables SET variable_value = 'x' WHERE variable_name = 'mysql-nope'",
            result: SQLResult(affectedRows: 0))
        let client = Fixtures.client(session)
        #expect(try await client.variable(.queryRetriesOnFailure, logger: logger).intValue == 1)
        #expect(try await client.variable(.connectTimeoutServerMax, layer: .runtime, logger: logger).value == "10000")
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await client.variable("mysql-nope", logger: logger)
        }
        try await client.setVariable(.queryRetriesOnFailure, to: 0, logger: logger)
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await client.setVariable("mysql-nope", to: "x", logger: logger)
        }
        try session.verifyAllConsumed()
    }

    @Test("Sets several variables in name order, then loads them")
    func setVariablesAndLoad() async throws {
        let session = Fixtures.session()
        session.expect(
            "UPDATE global_variables SET variable_value = '0' WHERE variable_name = 'mysql-auto_increment_delay_multiplex'",
            result: SQLResult(affectedRows: 1))
        session.expect(
            "UPDATE global_variables SET variable_value = '0' WHERE variable_name = 'mysql-query_retries_on_failure'",
            result: SQLResult(affectedRows: 1))
        session.expect("LOAD MYSQL VARIABLES TO RUNTIME")
        try await Fixtures.client(session).setVariablesAndLoad(
            [.queryRetriesOnFailure: "0", .autoIncrementDelayMultiplex: "0"], logger: logger
        )
        try session.verifyAllConsumed()
    }

    @Test("Reads several variables with one statement")
    func severalVariables() async throws {
        let session = Fixtures.session()
        session.expect(
            .exact(
                "SELECT variable_name, variable_value FROM global_variables WHERE variable_name IN ('mysql-query_retries_on_failure', 'mysql-auto_increment_delay_multiplex') ORDER BY variable_name"
            ),
            columns: ["variable_name", "variable_value"],
            rows: [["mysql-auto_increment_delay_multiplex", "5"], ["mysql-query_retries_on_failure", "1"]]
        )
        let values = try await Fixtures.client(session).variables(
            [.queryRetriesOnFailure, .autoIncrementDelayMultiplex], logger: logger
        )
        #expect(values.map(\.value) == ["5", "1"])
        try session.verifyAllConsumed()
    }

    // MARK: Replication hostgroups

    @Test("Reports which replication hostgroup pairs would let the monitor move a server, per layer")
    func monitorExposure() async throws {
        let session = Fixtures.session()
        let pairColumns = ["writer_hostgroup", "reader_hostgroup", "check_type", "comment"]
        session.expect(
            .exact("SELECT * FROM mysql_replication_hostgroups ORDER BY writer_hostgroup"),
            columns: pairColumns, rows: [["10", "11", "read_only", ""], ["20", "21", "read_only", ""]])
        session.expect(
            .exact(Fixtures.selectServers("mysql_servers", where: "hostgroup_id IN (10, 11, 20, 21)")),
            columns: Fixtures.serverColumns,
            rows: [
                Fixtures.cells(BackendServer(hostgroup: 10, host: "db1")),
                Fixtures.cells(BackendServer(hostgroup: 11, host: "aurora", status: .offlineHard)),
            ])
        session.expect(
            .exact("SELECT * FROM runtime_mysql_replication_hostgroups ORDER BY writer_hostgroup"),
            columns: pairColumns, rows: [])
        let exposure = try await Fixtures.client(session).monitorExposure(
            of: ServerEndpoint(host: "aurora", port: 3306), logger: logger
        )
        #expect(exposure.count == 1)
        #expect(exposure.first?.pair.writerHostgroup == 10)
        #expect(exposure.first?.layer == .configured)
        #expect(exposure.first?.servers.map(\.status) == [.offlineHard])
        try session.verifyAllConsumed()
    }

    // MARK: Verification

    @Test("Verifies the runtime against an intended state, OFFLINE_HARD meaning absent")
    func verifyRuntime() async throws {
        let session = Fixtures.session()
        let sql = Fixtures.selectServers("runtime_mysql_servers", where: "hostgroup_id = 10")
        session.expect(
            .exact(sql), columns: Fixtures.serverColumns,
            rows: [Fixtures.cells(BackendServer(hostgroup: 10, host: Fixtures.aurora.endpoint.host))])
        session.expect(
            .exact(sql), columns: Fixtures.serverColumns,
            rows: [Fixtures.cells(BackendServer(hostgroup: 10, host: "db1", status: .offlineSoft))])
        let client = Fixtures.client(session)
        let intended = [
            IntendedBackendState(key: Fixtures.writer, status: .offlineHard),
            IntendedBackendState(key: Fixtures.aurora, status: .online),
        ]
        let good = try await client.verifyRuntime(intended, exhaustiveHostgroups: [10], logger: logger)
        #expect(good.isSatisfied)
        let error = await #expect(throws: ProxySQLAdminError.self) {
            try await client.requireRuntime(intended, exhaustiveHostgroups: [10], logger: logger)
        }
        #expect(error?.code == .verificationFailed)
        #expect(error?.runtimeDifferences.count == 2)
        try session.verifyAllConsumed()
    }

    @Test("Verifies that the runtime equals the configuration")
    func verifyAgainstConfiguration() async throws {
        let session = Fixtures.session()
        let configured = [
            BackendServer(hostgroup: 10, host: "aurora", status: .offlineHard),
            BackendServer(hostgroup: 10, host: "db1", weight: 5),
        ]
        session.expect(
            .exact(Fixtures.selectServers("mysql_servers", where: "hostgroup_id = 10")),
            columns: Fixtures.serverColumns, rows: configured.map(Fixtures.cells))
        session.expect(
            .exact(Fixtures.selectServers("runtime_mysql_servers", where: "hostgroup_id = 10")),
            columns: Fixtures.serverColumns, rows: [Fixtures.cells(configured[1])])
        let verification = try await Fixtures.client(session).verifyRuntimeMatchesConfiguration(
            hostgroups: [10],
            logger: logger)
        #expect(verification.isSatisfied)
        try session.verifyAllConsumed()
    }

    // MARK: Misc

    @Test("Reads ProxySQL's version")
    func version() async throws {
        let session = Fixtures.session()
        session.expect(.exact("SELECT @@version"), columns: ["@@version"], rows: [["2.7.1-16-g2726c27"]])
        let version = try await Fixtures.client(session).version(logger: logger)
        #expect(version.version == ServerVersion(2, 7, 1))
        try session.verifyAllConsumed()
    }

    @Test("A session that quotes for MySQL is refused before anything is sent")
    func wrongDialect() async throws {
        for dialect in [SQLDialect.mysql, .mysql(noBackslashEscapes: true)] {
            let session = ScriptedSQLSession(dialect: dialect)
            let error = await #expect(throws: ProxySQLAdminError.self) {
                try await ProxySQLAdminClient(session: session).setStatus(.online, of: Fixtures.writer, logger: logger)
            }
            #expect(error?.code == .wrongDialect)
            #expect(session.receivedStatements.isEmpty)
        }
    }

    @Test("The node name defaults to the session's endpoint and can be overridden")
    func nodeName() {
        #expect(Fixtures.client(Fixtures.session(name: "10.0.0.1:6032")).nodeName == "10.0.0.1:6032")
        #expect(Fixtures.client(Fixtures.session(), name: "proxy-b").nodeName == "proxy-b")
    }

    @Test("Statements are traced redacted, changes logged with proxysql metadata")
    func logging() async throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "test", factory: { _ in handler })
        logger.logLevel = .trace
        let session = Fixtures.session()
        session.expect(.prefix("UPDATE mysql_servers"), reply: .result(SQLResult(affectedRows: 1)))
        try await Fixtures.client(session, name: "proxy-a").setStatus(.offlineSoft, of: Fixtures.writer, logger: logger)

        let entries = handler.entries
        let trace = try #require(entries.first { $0.level == .trace })
        #expect(trace.message == "proxysql admin statement")
        #expect(
            trace.metadata["proxysql.statement"]?.description
                == "UPDATE mysql_servers SET status = '…' WHERE hostgroup_id = 10 AND hostname = '…' AND port = 3306"
        )
        #expect(trace.metadata["proxysql.node"]?.description == "proxy-a")
        let change = try #require(entries.first { $0.message == "proxysql servers updated" })
        #expect(change.level == .debug)
        #expect(change.metadata["proxysql.hostgroup"]?.description == "10")
        #expect(change.metadata["proxysql.server"]?.description == "db1:3306")
        #expect(change.metadata["proxysql.affected_rows"]?.description == "1")
        #expect(change.metadata["proxysql.change"]?.description == "status=OFFLINE_SOFT")
        #expect(entries.allSatisfy { $0.level <= .debug })
    }
}
