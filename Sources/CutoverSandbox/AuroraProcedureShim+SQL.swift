// The SQL of the Aurora stand-in: bookkeeping tables, the service-state function and the mysql.rds_* procedures,
// modelled on the procedure bodies RDS for MySQL ships (names, arguments, messages and SQLSTATE 45000 errors),
// implemented with MariaDB's own replication statements through EXECUTE IMMEDIATE.

extension AuroraProcedureShim {
    /// The account every procedure runs as (`SQL SECURITY DEFINER`), like RDS's `rdsadmin@localhost`. It is locked:
    /// nobody can log in as it.
    static let definer = "`rdsadmin`@`localhost`"

    /// Statements that create the definer and the bookkeeping tables (run with `sql_log_bin = 0`).
    static func setupStatements() -> [String] {
        [
            "CREATE USER IF NOT EXISTS 'rdsadmin'@'localhost' ACCOUNT LOCK",
            "GRANT ALL PRIVILEGES ON *.* TO 'rdsadmin'@'localhost' WITH GRANT OPTION",
            """
            CREATE TABLE IF NOT EXISTS mysql.rds_history (
              action_timestamp TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
              called_by_user VARCHAR(352), action VARCHAR(40), mysql_version VARCHAR(60),
              master_host VARCHAR(255), master_port INT, master_user VARCHAR(96), master_log_file VARCHAR(255),
              master_log_pos BIGINT UNSIGNED, master_ssl TINYINT(1), auto_position TINYINT(1)
            ) ENGINE=InnoDB
            """,
            """
            CREATE TABLE IF NOT EXISTS mysql.rds_replication_status (
              id TINYINT NOT NULL PRIMARY KEY,
              action_timestamp TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
              called_by_user VARCHAR(352), action VARCHAR(40), mysql_version VARCHAR(60),
              master_host VARCHAR(255), master_port INT, replication_log_file TEXT, replication_stop_point BIGINT
            ) ENGINE=InnoDB
            """,
            "INSERT IGNORE INTO mysql.rds_replication_status (id) VALUES (1)",
            """
            CREATE TABLE IF NOT EXISTS mysql.rds_configuration (
              name VARCHAR(100) NOT NULL PRIMARY KEY, value VARCHAR(100), description VARCHAR(300)
            ) ENGINE=InnoDB
            """,
            """
            INSERT IGNORE INTO mysql.rds_configuration (name, value, description) VALUES ('binlog retention hours', NULL,
              'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.')
            """,
            // Aurora's agent writes a heartbeat here, and those writes are binlogged: reverse replication must filter
            // them (see `writeHeartbeat`).
            "CREATE TABLE IF NOT EXISTS mysql.rds_heartbeat2 (id INT NOT NULL PRIMARY KEY, value BIGINT) ENGINE=InnoDB",
        ]
    }

    /// The names of the procedures for a generation.
    static func procedureNames(_ generation: Generation) -> [String] {
        let s = generation.spelling
        return [
            "rds_set_external_\(s)", "rds_set_external_\(s)_with_auto_position", "rds_reset_external_\(s)",
            "rds_start_replication", "rds_stop_replication", "rds_start_replication_until", "rds_skip_repl_error",
            "rds_set_configuration", "rds_show_configuration", "rds_kill", "rds_kill_query",
        ]
    }

    /// `CREATE PROCEDURE` / `CREATE FUNCTION` statements (each preceded by a `DROP ... IF EXISTS`).
    static func routineStatements(_ generation: Generation, simulatedDelays: Bool) -> [String] {
        let s = generation.spelling
        let setProcedure = "mysql.rds_set_external_\(s)"
        // Aurora sleeps about 1 s before and 2 s after a start or stop; the fast variant polls briefly instead so
        // the state it reports is settled.
        let sleepBefore = simulatedDelays ? "DO SLEEP(1);" : ""
        let settleAfterStart =
            simulatedDelays
            ? "DO SLEEP(2);"
            : "WHILE mysql.rds_replication_service_state() <> 'ON' AND v_wait < 150 DO DO SLEEP(0.02); SET v_wait = v_wait + 1; END WHILE;"
        let settleAfterStop = simulatedDelays ? "DO SLEEP(2);" : ""
        /// Declarations (the procedure's own first), then the handler that restores `sql_log_bin` on any error,
        /// then `sql_log_bin = 0` so the bookkeeping never reaches the binary log.
        func prologue(_ declarations: String = "") -> String {
            """
              DECLARE v_log_bin INT DEFAULT @@SESSION.sql_log_bin;
              DECLARE v_state VARCHAR(10);
              DECLARE v_wait INT DEFAULT 0;
            \(declarations)
              DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN SET SESSION sql_log_bin = v_log_bin; RESIGNAL; END;
              SET SESSION sql_log_bin = 0;
            """
        }
        func history(_ action: String) -> String {
            "INSERT INTO mysql.rds_history (called_by_user, action, mysql_version) VALUES (USER(), '\(action)', VERSION());"
        }
        let notConfiguredStart =
            "You can''t start replication because the replica isn''t configured. First call \(setProcedure)."
        let encounteredError = #"Slave has encountered an error. Run SHOW SLAVE STATUS\\G; to see the error."#

        return [
            "DROP FUNCTION IF EXISTS mysql.rds_replication_service_state",
            """
            CREATE DEFINER=\(definer) FUNCTION mysql.rds_replication_service_state() RETURNS VARCHAR(10)
            NOT DETERMINISTIC READS SQL DATA SQL SECURITY DEFINER
            BEGIN
              DECLARE v_configured INT DEFAULT 0;
              DECLARE v_running VARCHAR(10) DEFAULT 'OFF';
              DECLARE v_threads INT DEFAULT 0;
              SELECT COUNT(*) INTO v_configured FROM mysql.rds_replication_status WHERE master_host IS NOT NULL;
              IF v_configured = 0 THEN RETURN 'NOT_EXIST'; END IF;
              SELECT VARIABLE_VALUE INTO v_running FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'SLAVE_RUNNING';
              IF v_running = 'ON' THEN RETURN 'ON'; END IF;
              SELECT COUNT(*) INTO v_threads FROM information_schema.PROCESSLIST
                WHERE USER = 'system user' AND COMMAND IN ('Slave_IO', 'Slave_SQL', 'Connect');
              IF v_threads > 0 THEN RETURN 'BROKEN'; END IF;
              RETURN 'OFF';
            END
            """,

            "DROP PROCEDURE IF EXISTS \(setProcedure)",
            """
            CREATE DEFINER=\(definer) PROCEDURE \(setProcedure)(host VARCHAR(255), port INT, user TEXT, passwd TEXT,
              name TEXT, pos BIGINT UNSIGNED, enable_ssl_encryption TINYINT(1))
            SQL SECURITY DEFINER
            BEGIN
            \(prologue("  DECLARE v_command TEXT;"))
              INSERT INTO mysql.rds_history (called_by_user, action, mysql_version, master_host, master_port, master_user,
                master_log_file, master_log_pos, master_ssl, auto_position)
                VALUES (USER(), 'Starting: set master', VERSION(), TRIM(host), port, TRIM(user), TRIM(name), pos, enable_ssl_encryption, 0);
              IF host IS NULL OR port IS NULL OR user IS NULL OR passwd IS NULL OR name IS NULL OR pos IS NULL THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Invalid arguments';
              END IF;
              SET v_state = mysql.rds_replication_service_state();
              IF v_state <> 'OFF' AND v_state <> 'NOT_EXIST' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'You can''t modify replication because replication is running. First call mysql.rds_stop_replication.';
              END IF;
              SET v_command = CONCAT('CHANGE MASTER TO MASTER_HOST = ', QUOTE(TRIM(host)), ', MASTER_PORT = ', port,
                ', MASTER_USER = ', QUOTE(TRIM(user)), ', MASTER_PASSWORD = ', QUOTE(TRIM(passwd)),
                ', MASTER_LOG_FILE = ', QUOTE(TRIM(name)), ', MASTER_LOG_POS = ', pos,
                ', MASTER_SSL = ', IFNULL(enable_ssl_encryption, 0), ', MASTER_USE_GTID = no');
              EXECUTE IMMEDIATE v_command;
              UPDATE mysql.rds_replication_status SET called_by_user = USER(), action = 'set master', mysql_version = VERSION(),
                master_host = TRIM(host), master_port = port, action_timestamp = NOW(6) WHERE id = 1;
              INSERT INTO mysql.rds_history (called_by_user, action, mysql_version, master_host, master_port, master_user,
                master_log_file, master_log_pos, master_ssl, auto_position)
                VALUES (USER(), 'set master', VERSION(), TRIM(host), port, TRIM(user), TRIM(name), pos, enable_ssl_encryption, 0);
              SET SESSION sql_log_bin = v_log_bin;
            END
            """,

            "DROP PROCEDURE IF EXISTS \(setProcedure)_with_auto_position",
            """
            CREATE DEFINER=\(definer) PROCEDURE \(setProcedure)_with_auto_position(host VARCHAR(255), port INT, user TEXT,
              passwd TEXT, ssl_encryption TINYINT(1))
            SQL SECURITY DEFINER
            BEGIN
            \(prologue("  DECLARE v_command TEXT;"))
              INSERT INTO mysql.rds_history (called_by_user, action, mysql_version, master_host, master_port, master_user, master_ssl, auto_position)
                VALUES (USER(), 'Starting: set master', VERSION(), TRIM(host), port, TRIM(user), ssl_encryption, 1);
              IF host IS NULL OR port IS NULL OR user IS NULL OR passwd IS NULL THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Invalid arguments';
              END IF;
              SET v_state = mysql.rds_replication_service_state();
              IF v_state <> 'OFF' AND v_state <> 'NOT_EXIST' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'You can''t modify replication because replication is running. First call mysql.rds_stop_replication.';
              END IF;
              SET v_command = CONCAT('CHANGE MASTER TO MASTER_HOST = ', QUOTE(TRIM(host)), ', MASTER_PORT = ', port,
                ', MASTER_USER = ', QUOTE(TRIM(user)), ', MASTER_PASSWORD = ', QUOTE(TRIM(passwd)),
                ', MASTER_SSL = ', IFNULL(ssl_encryption, 0), ', MASTER_USE_GTID = slave_pos');
              EXECUTE IMMEDIATE v_command;
              UPDATE mysql.rds_replication_status SET called_by_user = USER(), action = 'set master', mysql_version = VERSION(),
                master_host = TRIM(host), master_port = port, action_timestamp = NOW(6) WHERE id = 1;
              INSERT INTO mysql.rds_history (called_by_user, action, mysql_version, master_host, master_port, master_user, master_ssl, auto_position)
                VALUES (USER(), 'set master', VERSION(), TRIM(host), port, TRIM(user), ssl_encryption, 1);
              SET SESSION sql_log_bin = v_log_bin;
            END
            """,

            "DROP PROCEDURE IF EXISTS mysql.rds_reset_external_\(s)",
            """
            CREATE DEFINER=\(definer) PROCEDURE mysql.rds_reset_external_\(s)()
            SQL SECURITY DEFINER
            BEGIN
            \(prologue())
              \(history("Starting: reset slave"))
              SET v_state = mysql.rds_replication_service_state();
              IF v_state = 'NOT_EXIST' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'You can''t reset replication because replication isn''t configured. First run \(setProcedure).';
              END IF;
              IF v_state <> 'OFF' THEN
                EXECUTE IMMEDIATE 'STOP SLAVE';
                \(settleAfterStop)
              END IF;
              EXECUTE IMMEDIATE 'RESET SLAVE ALL';
              UPDATE mysql.rds_replication_status SET called_by_user = USER(), action = 'reset slave', mysql_version = VERSION(),
                master_host = NULL, master_port = NULL, action_timestamp = NOW(6) WHERE id = 1;
              \(history("reset slave"))
              SET SESSION sql_log_bin = v_log_bin;
              SELECT 'Slave has been reset' AS message;
            END
            """,

            "DROP PROCEDURE IF EXISTS mysql.rds_start_replication",
            """
            CREATE DEFINER=\(definer) PROCEDURE mysql.rds_start_replication()
            SQL SECURITY DEFINER
            BEGIN
            \(prologue())
              \(history("Starting: start slave"))
              SET v_state = mysql.rds_replication_service_state();
              IF v_state = 'ON' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Replication may already be running. Call rds_stop_replication to stop replication';
              ELSEIF v_state = 'NOT_EXIST' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '\(notConfiguredStart)';
              ELSEIF v_state = 'BROKEN' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Replication might be running. First call mysql.rds_stop_replication.';
              END IF;
              \(sleepBefore)
              EXECUTE IMMEDIATE 'START SLAVE';
              \(settleAfterStart)
              IF mysql.rds_replication_service_state() <> 'ON' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '\(encounteredError)';
              END IF;
              UPDATE mysql.rds_replication_status SET called_by_user = USER(), action = 'start slave', action_timestamp = NOW(6) WHERE id = 1;
              \(history("start slave"))
              SET SESSION sql_log_bin = v_log_bin;
              SELECT 'Replication started. Slave is now running normally.' AS Message;
            END
            """,

            "DROP PROCEDURE IF EXISTS mysql.rds_stop_replication",
            """
            CREATE DEFINER=\(definer) PROCEDURE mysql.rds_stop_replication()
            SQL SECURITY DEFINER
            BEGIN
            \(prologue())
              \(history("Starting: stop slave"))
              SET v_state = mysql.rds_replication_service_state();
              IF v_state = 'OFF' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Slave is already stopped or may not be configured. Run SHOW SLAVE STATUS\\\\G;';
              ELSEIF v_state = 'NOT_EXIST' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'You can''t stop replication because the replica isn''t configured. First call \(setProcedure).';
              END IF;
              \(sleepBefore)
              EXECUTE IMMEDIATE 'STOP SLAVE';
              \(settleAfterStop)
              IF mysql.rds_replication_service_state() <> 'OFF' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '\(encounteredError)';
              END IF;
              UPDATE mysql.rds_replication_status SET called_by_user = USER(), action = 'stop slave', action_timestamp = NOW(6) WHERE id = 1;
              \(history("stop slave"))
              SET SESSION sql_log_bin = v_log_bin;
              SELECT 'Slave is now down or disabled' AS Message;
            END
            """,

            "DROP PROCEDURE IF EXISTS mysql.rds_start_replication_until",
            """
            CREATE DEFINER=\(definer) PROCEDURE mysql.rds_start_replication_until(replication_log_file TEXT, replication_stop_point BIGINT)
            SQL SECURITY DEFINER
            BEGIN
            \(prologue("  DECLARE v_command TEXT;"))
              INSERT INTO mysql.rds_history (called_by_user, action, mysql_version, master_log_file, master_log_pos)
                VALUES (USER(), 'Starting: start slave until', VERSION(), SUBSTRING(replication_log_file, 1, 50), replication_stop_point);
              SET v_state = mysql.rds_replication_service_state();
              IF v_state = 'NOT_EXIST' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '\(notConfiguredStart)';
              ELSEIF v_state = 'ON' OR v_state = 'BROKEN' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Replication may already be running. Call rds_stop_replication to stop replication';
              ELSEIF replication_stop_point IS NULL OR replication_stop_point <= 0 OR replication_log_file IS NULL THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Invalid input: replication_stop_point cannot be NULL, less than or equal to 0';
              END IF;
              UPDATE mysql.rds_replication_status SET called_by_user = USER(), action = 'start slave until',
                replication_log_file = TRIM(replication_log_file), replication_stop_point = replication_stop_point,
                action_timestamp = NOW(6) WHERE id = 1;
              SET v_command = CONCAT('START SLAVE UNTIL MASTER_LOG_FILE = ', QUOTE(TRIM(replication_log_file)),
                ', MASTER_LOG_POS = ', replication_stop_point);
              EXECUTE IMMEDIATE v_command;
              \(settleAfterStart)
              IF mysql.rds_replication_service_state() <> 'ON' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '\(encounteredError)';
              END IF;
              INSERT INTO mysql.rds_history (called_by_user, action, mysql_version, master_log_file, master_log_pos)
                VALUES (USER(), 'start slave until', VERSION(), SUBSTRING(replication_log_file, 1, 50), replication_stop_point);
              SET SESSION sql_log_bin = v_log_bin;
              SELECT CONCAT('Replication started until MASTER_LOG_FILE = ', QUOTE(TRIM(replication_log_file)),
                ' and MASTER_LOG_POS = ', replication_stop_point) AS Message;
            END
            """,

            "DROP PROCEDURE IF EXISTS mysql.rds_skip_repl_error",
            """
            CREATE DEFINER=\(definer) PROCEDURE mysql.rds_skip_repl_error()
            SQL SECURITY DEFINER
            BEGIN
            \(prologue("  DECLARE v_sql_threads INT DEFAULT 0;"))
              \(history("Starting: skip_repl_error"))
              SET v_state = mysql.rds_replication_service_state();
              IF v_state = 'NOT_EXIST' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'You can''t skip a replication error because the replica isn''t configured. First call \(setProcedure).';
              ELSEIF v_state = 'ON' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Slave is running normally.  No errors detected to skip.';
              ELSEIF v_state = 'OFF' THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Slave is down or disabled.';
              END IF;
              SELECT COUNT(*) INTO v_sql_threads FROM information_schema.PROCESSLIST WHERE USER = 'system user' AND COMMAND = 'Slave_SQL';
              IF v_sql_threads > 0 THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Slave is running normally.  No errors detected to skip.';
              END IF;
              IF @@GLOBAL.sql_slave_skip_counter > 0 THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'A mysql.rds_skip_repl_error procedure is in progress. Wait a few seconds before calling mysql.rds_skip_repl_error again.';
              END IF;
              EXECUTE IMMEDIATE 'STOP SLAVE';
              SET GLOBAL sql_slave_skip_counter = 1;
              EXECUTE IMMEDIATE 'START SLAVE';
              \(settleAfterStart)
              SELECT 'Statement in error has been skipped' AS Message;
              IF mysql.rds_replication_service_state() = 'ON' THEN
                \(history("skip_repl_error:OK"))
                SET SESSION sql_log_bin = v_log_bin;
                SELECT 'Slave is now running normally' AS Message;
              ELSE
                \(history("skip_repl_error:ERR"))
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Slave has encountered a new error. Please use SHOW SLAVE STATUS to see the error.';
              END IF;
            END
            """,

            "DROP PROCEDURE IF EXISTS mysql.rds_set_configuration",
            """
            CREATE DEFINER=\(definer) PROCEDURE mysql.rds_set_configuration(name VARCHAR(30), value INT)
            SQL SECURITY DEFINER
            BEGIN
            \(prologue("  DECLARE v_exists INT DEFAULT 0;\n  DECLARE v_message VARCHAR(200);"))
              SELECT COUNT(*) INTO v_exists FROM mysql.rds_configuration c WHERE c.name = name;
              IF v_exists = 0 THEN
                SET v_message = CONCAT('Cannot set unknown configuration parameter ', QUOTE(name), ' using mysql.rds_set_configuration.');
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = v_message;
              END IF;
              IF name = 'binlog retention hours' AND value IS NOT NULL AND value NOT BETWEEN 1 AND 2160 THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'For binlog retention hours the value must be between 1 and 2160 inclusive or be NULL';
              END IF;
              UPDATE mysql.rds_configuration c SET c.value = value WHERE c.name = name;
              IF name = 'binlog retention hours' THEN
                SET GLOBAL binlog_expire_logs_seconds = IFNULL(value, 0) * 3600;
              END IF;
              SET SESSION sql_log_bin = v_log_bin;
            END
            """,

            "DROP PROCEDURE IF EXISTS mysql.rds_kill",
            """
            CREATE DEFINER=\(definer) PROCEDURE mysql.rds_kill(thread BIGINT UNSIGNED)
            SQL SECURITY DEFINER
            BEGIN
              KILL CONNECTION thread;
            END
            """,

            "DROP PROCEDURE IF EXISTS mysql.rds_kill_query",
            """
            CREATE DEFINER=\(definer) PROCEDURE mysql.rds_kill_query(thread BIGINT UNSIGNED)
            SQL SECURITY DEFINER
            BEGIN
              KILL QUERY thread;
            END
            """,

            "DROP PROCEDURE IF EXISTS mysql.rds_show_configuration",
            """
            CREATE DEFINER=\(definer) PROCEDURE mysql.rds_show_configuration()
            SQL SECURITY DEFINER
            BEGIN
              SELECT name, value, description FROM mysql.rds_configuration;
            END
            """,
        ]
    }
}
