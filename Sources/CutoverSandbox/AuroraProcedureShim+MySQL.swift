import MariaDB

// The Aurora stand-in on MySQL 9.7: the same procedures as on MariaDB (AuroraProcedureShim+SQL.swift), with
// MySQL's statements. MySQL has no EXECUTE IMMEDIATE: a procedure runs a built statement with PREPARE / EXECUTE
// (CHANGE REPLICATION SOURCE, START/STOP/RESET REPLICA are preparable) and clears the user variable that carried
// it, which holds the replication password. The replication state comes from performance_schema.

extension AuroraProcedureShim {
    /// The privileges of the restricted admin on MySQL: those of Aurora v3's master user without `SUPER`,
    /// `REPLICATION_SLAVE_ADMIN`, `SYSTEM_VARIABLES_ADMIN`, `BINLOG_ADMIN`, `CONNECTION_ADMIN` and without
    /// `RELOAD` (enough on MySQL to run `RESET REPLICA` directly). `REPLICATION CLIENT` lets it read
    /// `SHOW REPLICA STATUS` and `SHOW BINARY LOG STATUS`, as Aurora's master user may.
    public static let mysqlAdminPrivileges = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "PROCESS", "REFERENCES", "INDEX", "ALTER",
        "SHOW DATABASES", "CREATE TEMPORARY TABLES", "LOCK TABLES", "EXECUTE", "REPLICATION SLAVE",
        "REPLICATION CLIENT", "CREATE VIEW", "SHOW VIEW", "CREATE ROUTINE", "ALTER ROUTINE", "CREATE USER", "EVENT",
        "TRIGGER",
    ]

    /// The set-up statements on MySQL: the definer is created and granted only the first time, and loses
    /// `SYSTEM_USER` (see ``dropSystemUserFromRoot(_:)``: a root without it can then re-create the routines with that
    /// definer; MySQL answers 1227 to `CREATE DEFINER=` a `SYSTEM_USER` account, and its `GRANT ALL` would give the
    /// privilege back).
    static func mysqlSetupStatements(usingRoot root: any SQLSession) async throws -> [String] {
        let statements = setupStatements()
        let definerExists =
            try await root.queryFirst(
                "SELECT COUNT(*) FROM mysql.user WHERE user = 'rdsadmin' AND host = 'localhost'")?[0].int64 ?? 0 > 0
        let account = statements.prefix { $0.contains("'rdsadmin'@'localhost'") }
        let rest = Array(statements.dropFirst(account.count))
        return definerExists ? rest : Array(account) + ["REVOKE SYSTEM_USER ON *.* FROM 'rdsadmin'@'localhost'"] + rest
    }

    /// Takes `SYSTEM_USER` from the stand-in's root account (the account of `root`'s session), as Aurora's master user
    /// has none. MySQL 8.0.16+ lets only a session that logged in with `SYSTEM_USER` kill one that did, whatever the
    /// definer of the routine running the `KILL`: with it, `mysql.rds_kill` called by the restricted admin answers
    /// 1095 ("You are not owner of thread") for every root session, where Aurora's closes the master user's (a MySQL
    /// benchmark failback rolled back on it: #12). Idempotent; the server's root@localhost keeps it.
    static func dropSystemUserFromRoot(_ root: any SQLSession) async throws {
        let held = try await root.queryFirst(
            """
            SELECT COUNT(*) FROM mysql.global_grants
            WHERE CONCAT(user, '@', host) = CURRENT_USER() AND priv = 'SYSTEM_USER'
            """)?[0].int64 ?? 0
        guard held > 0 else { return }
        guard let account = try await root.queryFirst("SELECT CURRENT_USER()")?[0].string,
            let at = account.lastIndex(of: "@")
        else { return }
        let user = String(account[..<at]), host = String(account[account.index(after: at)...])
        try await root.run("REVOKE SYSTEM_USER ON *.* FROM \(user)@\(host)")
    }

    /// The `SOURCE_CONNECT_RETRY` the MySQL procedures set: the default of 60 s makes a replica that lost its
    /// source wait a minute before it tries again.
    static let mysqlConnectRetrySeconds = 1

    /// The routines for MySQL: the MariaDB text with MySQL's statements and state function.
    static func mysqlRoutineStatements(_ generation: Generation, simulatedDelays: Bool) -> [String] {
        routineStatements(generation, simulatedDelays: simulatedDelays).map { statement in
            if statement.contains("FUNCTION mysql.rds_replication_service_state()"), statement.hasPrefix("CREATE") {
                return mysqlServiceStateFunction
            }
            return mysqlSpelling(statement)
        }
    }

    /// Runs the statement in the SQL expression `expression` (MariaDB's `EXECUTE IMMEDIATE`).
    static func mysqlExecute(_ expression: String) -> String {
        "SET @rds_command = \(expression); PREPARE rds_statement FROM @rds_command; SET @rds_command = NULL; "
            + "EXECUTE rds_statement; DEALLOCATE PREPARE rds_statement;"
    }

    /// Rewrites one MariaDB routine into MySQL's spelling.
    static func mysqlSpelling(_ statement: String) -> String {
        // Without TLS, caching_sha2_password needs the source's RSA key (error 2061 otherwise).
        let channelOptions = "GET_SOURCE_PUBLIC_KEY = 1, SOURCE_CONNECT_RETRY = \(mysqlConnectRetrySeconds)"
        var text = statement
        for (mariadb, mysql) in [
            ("'CHANGE MASTER TO MASTER_HOST = '", "'CHANGE REPLICATION SOURCE TO SOURCE_HOST = '"),
            ("', MASTER_PORT = '", "', SOURCE_PORT = '"),
            ("', MASTER_USER = '", "', SOURCE_USER = '"),
            ("', MASTER_PASSWORD = '", "', SOURCE_PASSWORD = '"),
            ("', MASTER_LOG_FILE = '", "', SOURCE_LOG_FILE = '"),
            ("', MASTER_LOG_POS = '", "', SOURCE_LOG_POS = '"),
            ("', MASTER_SSL = '", "', SOURCE_SSL = '"),
            ("', MASTER_USE_GTID = no'", "', SOURCE_AUTO_POSITION = 0, \(channelOptions)'"),
            ("', MASTER_USE_GTID = slave_pos'", "', SOURCE_AUTO_POSITION = 1, \(channelOptions)'"),
            ("'START SLAVE UNTIL MASTER_LOG_FILE = '", "'START REPLICA UNTIL SOURCE_LOG_FILE = '"),
            ("EXECUTE IMMEDIATE v_command;", mysqlExecute("v_command")),
            ("EXECUTE IMMEDIATE 'STOP SLAVE';", mysqlExecute("'STOP REPLICA'")),
            ("EXECUTE IMMEDIATE 'START SLAVE';", mysqlExecute("'START REPLICA'")),
            ("EXECUTE IMMEDIATE 'RESET SLAVE ALL';", mysqlExecute("'RESET REPLICA ALL'")),
            ("sql_slave_skip_counter", "sql_replica_skip_counter"),
            (
                "SELECT COUNT(*) INTO v_sql_threads FROM information_schema.PROCESSLIST WHERE USER = 'system user' AND COMMAND = 'Slave_SQL';",
                "SELECT COUNT(*) INTO v_sql_threads FROM performance_schema.replication_applier_status WHERE CHANNEL_NAME = '' AND SERVICE_STATE = 'ON';"
            ),
        ] {
            text = text.replacing(mariadb, with: mysql)
        }
        return text
    }

    /// `ON` when the default channel's receiver and applier both run, `OFF` when neither does, `BROKEN` in between
    /// (a receiver still connecting or stopped by an error), `NOT_EXIST` when the stand-in has no source configured.
    static let mysqlServiceStateFunction = """
        CREATE DEFINER=\(definer) FUNCTION mysql.rds_replication_service_state() RETURNS VARCHAR(10)
        NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
        BEGIN
          DECLARE v_configured INT DEFAULT 0;
          DECLARE v_receiver VARCHAR(16) DEFAULT 'OFF';
          DECLARE v_applier VARCHAR(16) DEFAULT 'OFF';
          SELECT COUNT(*) INTO v_configured FROM mysql.rds_replication_status WHERE master_host IS NOT NULL;
          IF v_configured = 0 THEN RETURN 'NOT_EXIST'; END IF;
          SELECT IFNULL(MAX(SERVICE_STATE), 'OFF') INTO v_receiver FROM performance_schema.replication_connection_status
            WHERE CHANNEL_NAME = '';
          SELECT IFNULL(MAX(SERVICE_STATE), 'OFF') INTO v_applier FROM performance_schema.replication_applier_status
            WHERE CHANNEL_NAME = '';
          IF v_receiver = 'ON' AND v_applier = 'ON' THEN RETURN 'ON'; END IF;
          IF v_receiver = 'OFF' AND v_applier = 'OFF' THEN RETURN 'OFF'; END IF;
          RETURN 'BROKEN';
        END
        """
}
