import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

private let logger = Logger(label: "server-inspector-tests")

@Suite("ServerInspector")
struct ServerInspectorTests {
    let session = ScriptedSQLSession(dialect: .mysql, endpointDescription: "db:3306")
    var inspector: ServerInspector { ServerInspector(session: session, name: "target") }

    @Test("identity reads @@version, @@version_comment and @@aurora_version")
    func identityOnAurora() async throws {
        session.expect(
            .exact("SELECT @@version AS version, @@version_comment AS version_comment"),
            columns: ["version", "version_comment"], rows: [["8.0.mysql_aurora.3.05.2", "Source distribution"]])
        session.expect(
            .exact("SELECT @@aurora_version AS aurora_version"), columns: ["aurora_version"], rows: [["3.05.2"]])
        let identity = try await inspector.identity(logger: logger)
        #expect(identity.auroraVersion == "3.05.2")
        #expect(identity.serverIdentity.flavor == .auroraMySQL(auroraVersion: ServerVersion(3, 5, 2)))
        #expect(identity.serverIdentity.version == ServerVersion(8, 0, 0))
        try session.verifyAllConsumed()
    }

    @Test("identity without @@aurora_version (error 1193) is not Aurora")
    func identityWithoutAuroraVersion() async throws {
        session.expect(
            .exact("SELECT @@version AS version, @@version_comment AS version_comment"),
            columns: ["version", "version_comment"], rows: [["10.11.19-MariaDB-0+deb12u1", "Debian 12"]])
        session.expect(
            .exact("SELECT @@aurora_version AS aurora_version"), failingWith: 1193,
            message: "Unknown system variable 'aurora_version'")
        let identity = try await inspector.identity(logger: logger)
        #expect(identity.auroraVersion == nil)
        #expect(identity.versionComment == "Debian 12")
        #expect(identity.serverIdentity.flavor == .mariaDB)
        #expect(identity.description.hasPrefix("MariaDB 10.11.19"))
        try session.verifyAllConsumed()
    }

    @Test("identity passes other errors on")
    func identityOtherError() async throws {
        session.expect(
            .exact("SELECT @@version AS version, @@version_comment AS version_comment"),
            columns: ["version", "version_comment"], rows: [["8.0.36", "MySQL Community Server - GPL"]])
        session.expect(
            .exact("SELECT @@aurora_version AS aurora_version"),
            reply: .error(MariaDBError(code: .connectionLost, serverErrorNumber: 2013)))
        await #expect(throws: MariaDBError.self) { try await inspector.identity(logger: logger) }
        try session.verifyAllConsumed()
    }

    @Test("server character set and collation")
    func characterSettings() async throws {
        session.expect(
            .exact(
                "SELECT @@global.character_set_server AS character_set_server, "
                    + "@@global.collation_server AS collation_server"),
            columns: ["character_set_server", "collation_server"], rows: [["utf8mb4", "utf8mb4_0900_ai_ci"]])
        let settings = try await inspector.characterSettings(logger: logger)
        #expect(
            settings == ServerInspection.CharacterSettings(characterSet: "utf8mb4", collation: "utf8mb4_0900_ai_ci"))
        try session.verifyAllConsumed()
    }

    @Test("schemas exclude the system schemas, by literal")
    func schemas() async throws {
        session.expect(
            .exact(
                "SELECT SCHEMA_NAME AS schema_name, DEFAULT_CHARACTER_SET_NAME AS character_set, "
                    + "DEFAULT_COLLATION_NAME AS collation_name FROM information_schema.SCHEMATA "
                    + "WHERE SCHEMA_NAME NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys') "
                    + "ORDER BY SCHEMA_NAME"),
            columns: ["schema_name", "character_set", "collation_name"],
            rows: [["app", "utf8mb4", "utf8mb4_general_ci"], ["legacy", "latin1", "latin1_swedish_ci"]])
        let schemas = try await inspector.schemas(logger: logger)
        #expect(
            schemas == [
                ServerInspection.Schema(name: "app", characterSet: "utf8mb4", collation: "utf8mb4_general_ci"),
                ServerInspection.Schema(name: "legacy", characterSet: "latin1", collation: "latin1_swedish_ci"),
            ])
        try session.verifyAllConsumed()
    }

    @Test("a schema row with NULL collation is an unexpected result")
    func schemaWithNull() async throws {
        session.expect(
            .prefix("SELECT SCHEMA_NAME"), columns: ["schema_name", "character_set", "collation_name"],
            rows: [["app", "utf8mb4", nil]])
        let error = await #expect(throws: MariaDBError.self) { try await inspector.schemas(logger: logger) }
        #expect(error?.code == .unexpectedResult)
    }

    @Test("time zone tables: the number of zone names")
    func timeZones() async throws {
        session.expect(
            .exact("SELECT COUNT(*) AS zones FROM mysql.time_zone_name"), columns: ["zones"], rows: [["1790"]])
        #expect(try await inspector.timeZoneCount(logger: logger) == 1790)
        session.expect(.exact("SELECT COUNT(*) AS zones FROM mysql.time_zone_name"), columns: ["zones"], rows: [["0"]])
        #expect(try await inspector.timeZoneCount(logger: logger) == 0)
        try session.verifyAllConsumed()
    }

    @Test("binlog and GTID settings through SHOW GLOBAL VARIABLES, absent variables stay absent")
    func binlogSettings() async throws {
        session.expect(
            .exact(
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('aurora_enable_repl_bin_log_filtering', "
                    + "'binlog_expire_logs_seconds', 'binlog_format', 'binlog_row_image', 'enforce_gtid_consistency', "
                    + "'expire_logs_days', 'gtid_domain_id', 'gtid_mode', 'gtid_strict_mode', 'have_ssl', 'log_bin', "
                    + "'log_replica_updates', 'log_slave_updates', 'server_id')"),
            columns: ["Variable_name", "Value"],
            rows: [
                ["binlog_format", "ROW"], ["gtid_domain_id", "2"], ["gtid_strict_mode", "OFF"], ["have_ssl", "DISABLED"],
                ["log_bin", "ON"], ["log_slave_updates", "ON"], ["server_id", "2"],
            ])
        let settings = try await inspector.binlogSettings(logger: logger)
        #expect(settings.binaryLogEnabled == true)
        #expect(settings.binlogFormat == "ROW")
        #expect(settings.serverID == 2)
        #expect(settings.gtidDomainID == 2)
        #expect(settings.gtidStrictMode == false)
        #expect(settings.gtidMode == nil)
        #expect(settings.acceptsTLS == false)
        #expect(settings.logReplicaUpdates == true)
        #expect(settings.auroraBinlogReplicationFiltering == nil)
        try session.verifyAllConsumed()
    }

    @Test("rds procedure names from information_schema.ROUTINES, lower-cased, rds_ only")
    func procedures() async throws {
        session.expect(
            .exact(
                "SELECT ROUTINE_NAME AS routine_name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' "
                    + "AND ROUTINE_TYPE = 'PROCEDURE' AND ROUTINE_NAME LIKE 'rds%' ORDER BY ROUTINE_NAME"),
            columns: ["routine_name"],
            rows: [
                ["rds_set_external_source"], ["RDS_START_REPLICATION"], ["rdsadmin_thing"], ["rds_stop_replication"],
            ])
        let names = try await inspector.rdsProcedureNames(logger: logger)
        #expect(names == ["rds_set_external_source", "rds_start_replication", "rds_stop_replication"])
        try session.verifyAllConsumed()
    }

    @Test("rds_show_configuration rows are parsed by name, NULL values kept")
    func rdsConfiguration() async throws {
        let set = ResultSet(
            columnNames: ["name", "value", "description"],
            rows: [
                [
                    "binlog retention hours", nil,
                    "binlog retention hours specifies the duration in hours before binary logs are automatically deleted.",
                ],
                [
                    "source delay", "0",
                    "source delay specifies replication delay in seconds between current instance and its master.",
                ],
            ])
        session.expect(.exact("CALL mysql.rds_show_configuration"), reply: .result(SQLResult(resultSets: [set])))
        let entries = try #require(try await inspector.rdsConfiguration(logger: logger))
        #expect(entries.count == 2)
        #expect(entries[0].name == ServerInspection.ConfigurationEntry.binlogRetentionHours)
        #expect(entries[0].value == nil)
        #expect(entries[1].value == "0")
        #expect(entries[1].explanation?.hasPrefix("source delay") == true)
        try session.verifyAllConsumed()
    }

    @Test("rds_show_configuration missing (1305) is nil, other errors are thrown")
    func rdsConfigurationMissing() async throws {
        session.expect(
            .exact("CALL mysql.rds_show_configuration"), failingWith: 1305, sqlState: "42000",
            message: "PROCEDURE mysql.rds_show_configuration does not exist")
        #expect(try await inspector.rdsConfiguration(logger: logger) == nil)
        session.expect(
            .exact("CALL mysql.rds_show_configuration"), failingWith: 1370, sqlState: "42000",
            message: "execute command denied to user 'x'@'%' for routine 'mysql.rds_show_configuration'")
        await #expect(throws: MariaDBError.self) { try await inspector.rdsConfiguration(logger: logger) }
        try session.verifyAllConsumed()
    }

    @Test("accounts, all or by user name, with hostile names quoted")
    func accounts() async throws {
        session.expect(
            .exact("SELECT User AS user, Host AS host FROM mysql.user ORDER BY User, Host"),
            columns: ["user", "host"], rows: [["app", "%"], ["app", "10.0.%"], ["root", "localhost"]])
        let all = try await inspector.accounts(users: nil, logger: logger)
        #expect(all.map(\.description) == ["'app'@'%'", "'app'@'10.0.%'", "'root'@'localhost'"])
        session.expect(
            .exact(
                "SELECT User AS user, Host AS host FROM mysql.user WHERE User IN ('app', 'o''brien\\\\') ORDER BY User, Host"
            ),
            columns: ["user", "host"], rows: [["app", "%"]])
        let some = try await inspector.accounts(users: ["app", "o'brien\\"], logger: logger)
        #expect(some == [ServerInspection.Account(user: "app", host: "%")])
        #expect(try await inspector.accounts(users: [], logger: logger) == [])
        try session.verifyAllConsumed()
    }

    @Test("SHOW GRANTS FOR an account: parsed lines, role grants skipped")
    func grants() async throws {
        session.expect(
            .exact("SHOW GRANTS FOR 'repl'@'%'"), columns: ["Grants for repl@%"],
            rows: [
                [
                    "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`%` IDENTIFIED BY PASSWORD '*A4B6157319038724E3560894F7F932C8886EBFCF'"
                ],
                ["GRANT SELECT (`id`, `name`), INSERT ON `app`.`t` TO `repl`@`%`"],
                ["GRANT `reporting` TO `repl`@`%`"],
            ])
        let grants = try await inspector.grants(for: ServerInspection.Account(user: "repl", host: "%"), logger: logger)
        #expect(grants.count == 2)
        #expect(grants[0].privileges == ["REPLICATION SLAVE", "BINLOG MONITOR"])
        #expect(grants[0].isGlobal)
        #expect(!grants[0].description.contains("PASSWORD"))
        #expect(grants[1].privileges == ["SELECT", "INSERT"])
        #expect(grants[1].target == "app.t")
        #expect(ServerInspection.Grant.grantsGlobally("REPLICATION CLIENT", in: grants))
        #expect(ServerInspection.Grant.grantsGlobally("replication slave", in: grants))
        #expect(!ServerInspection.Grant.grantsGlobally("SUPER", in: grants))
        try session.verifyAllConsumed()
    }

    @Test("open write transactions: innodb_trx joined to the process list, limit rounded up to seconds")
    func openWriteTransactions() async throws {
        let sql =
            "SELECT trx.trx_mysql_thread_id AS connection_id, p.USER AS user, p.HOST AS client_host, "
            + "p.DB AS db, p.COMMAND AS command, TIMESTAMPDIFF(SECOND, trx.trx_started, NOW()) AS seconds, "
            + "trx.trx_rows_modified AS rows_modified, trx.trx_lock_structs AS lock_structs, trx.trx_state AS state "
            + "FROM information_schema.INNODB_TRX trx "
            + "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = trx.trx_mysql_thread_id "
            + "WHERE trx.trx_mysql_thread_id <> CONNECTION_ID() "
            + "AND (trx.trx_rows_modified > 0 OR trx.trx_lock_structs > 0) "
            + "AND TIMESTAMPDIFF(SECOND, trx.trx_started, NOW()) >= 2 "
            + "ORDER BY trx.trx_started, trx.trx_mysql_thread_id"
        session.expect(
            .exact(sql),
            columns: [
                "connection_id", "user", "client_host", "db", "command", "seconds", "rows_modified", "lock_structs",
                "state",
            ],
            rows: [
                ["42", "app", "10.0.0.9:51234", "app", "Sleep", "12", "3", "2", "RUNNING"],
                ["43", nil, nil, nil, nil, "5", "0", "1", "LOCK WAIT"],
            ])
        let transactions = try await inspector.openWriteTransactions(olderThan: .milliseconds(1500), logger: logger)
        #expect(transactions.count == 2)
        #expect(transactions[0].connectionID == 42)
        #expect(transactions[0].seconds == 12)
        #expect(transactions[0].rowsModified == 3)
        #expect(transactions[0].description == "connection 42 (app@10.0.0.9:51234, Sleep) open 12 s, 3 row(s) modified")
        #expect(transactions[1].user == nil)
        #expect(transactions[1].state == "LOCK WAIT")
        try session.verifyAllConsumed()
    }

    @Test(
        "the transaction limit is rounded up to whole seconds",
        arguments: [
            (Duration.zero, 0), (.seconds(1), 1), (.milliseconds(1001), 2), (.milliseconds(1), 1), (.seconds(-3), 0),
        ])
    func rounding(limit: Duration, seconds: Int) async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .regex("NOW\\(\\)\\) >= \(seconds) ORDER BY trx.trx_started"), columns: ["connection_id"], rows: [])
        let transactions = try await ServerInspector(session: session).openWriteTransactions(
            olderThan: limit, logger: logger)
        #expect(transactions.isEmpty)
        try session.verifyAllConsumed()
    }

    @Test("read_only state through SHOW GLOBAL VARIABLES; a missing read_only is an unexpected result")
    func readOnly() async throws {
        let sql = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('innodb_read_only', 'read_only', 'super_read_only')"
        session.expect(
            .exact(sql), columns: ["Variable_name", "Value"],
            rows: [["innodb_read_only", "OFF"], ["read_only", "OFF"]])
        let writable = try await inspector.readOnlyState(logger: logger)
        #expect(writable.acceptsWrites)
        #expect(writable.superReadOnly == nil)
        session.expect(
            .exact(sql), columns: ["Variable_name", "Value"],
            rows: [["innodb_read_only", "OFF"], ["read_only", "ON"], ["super_read_only", "ON"]])
        let readOnly = try await inspector.readOnlyState(logger: logger)
        #expect(!readOnly.acceptsWrites)
        #expect(readOnly.description == "read_only=ON super_read_only=ON innodb_read_only=OFF")
        session.expect(.exact(sql), columns: ["Variable_name", "Value"], rows: [])
        let error = await #expect(throws: MariaDBError.self) { try await inspector.readOnlyState(logger: logger) }
        #expect(error?.code == .unexpectedResult)
        try session.verifyAllConsumed()
    }

    @Test("the name defaults to the session's endpoint")
    func name() {
        #expect(ServerInspector(session: session).name == "db:3306")
        #expect(inspector.name == "target")
    }
}
