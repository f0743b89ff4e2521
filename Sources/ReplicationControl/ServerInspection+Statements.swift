public import MariaDB

extension ServerInspection {
    /// The exact statements ``ServerInspector`` sends. All are read-only (`SELECT`, `SHOW`, and
    /// `CALL mysql.rds_show_configuration`, which only reads). Literals are interpolated, never pasted.
    public enum Statements {
        /// `SELECT @@version AS version, @@version_comment AS version_comment`.
        public static let selectVersion: SQLStatement =
            "SELECT @@version AS version, @@version_comment AS version_comment"

        /// `SELECT @@aurora_version AS aurora_version` (error 1193 where the variable does not exist).
        public static let selectAuroraVersion: SQLStatement = "SELECT @@aurora_version AS aurora_version"

        /// `SELECT @@global.character_set_server ..., @@global.collation_server ...`.
        public static let selectCharacterSettings: SQLStatement =
            "SELECT @@global.character_set_server AS character_set_server, "
            + "@@global.collation_server AS collation_server"

        /// The non-system schemas with their defaults, ordered by name.
        public static var selectSchemas: SQLStatement {
            let excluded = SQLStatement.joined(Schema.systemSchemas.map { "\($0)" }, separator: ", ")
            return "SELECT SCHEMA_NAME AS schema_name, DEFAULT_CHARACTER_SET_NAME AS character_set, "
                + "DEFAULT_COLLATION_NAME AS collation_name FROM information_schema.SCHEMATA "
                + "WHERE SCHEMA_NAME NOT IN (\(excluded)) ORDER BY SCHEMA_NAME"
        }

        /// `SELECT COUNT(*) AS zones FROM mysql.time_zone_name`.
        public static let countTimeZones: SQLStatement = "SELECT COUNT(*) AS zones FROM mysql.time_zone_name"

        /// `SHOW GLOBAL VARIABLES WHERE Variable_name IN (<names>)`.
        public static func showVariables(_ names: [String]) -> SQLStatement {
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN (\(SQLStatement.joined(names.map { "\($0)" }, separator: ", ")))"
        }

        /// The binlog and GTID variables of ``BinlogSettings``.
        public static var showBinlogVariables: SQLStatement { showVariables(BinlogSettings.variableNames) }

        /// `read_only`, `super_read_only`, `innodb_read_only`.
        public static var showReadOnlyVariables: SQLStatement {
            showVariables(["innodb_read_only", "read_only", "super_read_only"])
        }

        /// The procedures of schema `mysql` whose names start with `rds`, ordered by name.
        public static let selectRDSProcedures: SQLStatement =
            "SELECT ROUTINE_NAME AS routine_name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = \("mysql") "
            + "AND ROUTINE_TYPE = \("PROCEDURE") AND ROUTINE_NAME LIKE \("rds%") ORDER BY ROUTINE_NAME"

        /// `CALL mysql.rds_show_configuration`.
        public static let showRDSConfiguration: SQLStatement = "CALL mysql.rds_show_configuration"

        /// `SELECT User AS user, Host AS host FROM mysql.user [WHERE User IN (...)] ORDER BY User, Host`.
        public static func selectAccounts(users: [String]? = nil) -> SQLStatement {
            var statement: SQLStatement = "SELECT User AS user, Host AS host FROM mysql.user"
            if let users {
                statement =
                    statement
                    + " WHERE User IN (\(SQLStatement.joined(users.map { "\($0)" }, separator: ", ")))"
            }
            return statement + " ORDER BY User, Host"
        }

        /// `SHOW GRANTS FOR 'user'@'host'`.
        public static func showGrants(for account: Account) -> SQLStatement {
            "SHOW GRANTS FOR \(account.user)@\(account.host)"
        }

        /// Transactions of other connections that modified or locked rows and started at least `seconds` ago,
        /// with their process list row, oldest first.
        public static func selectOpenWriteTransactions(olderThanSeconds seconds: Int) -> SQLStatement {
            "SELECT trx.trx_mysql_thread_id AS connection_id, p.USER AS user, p.HOST AS client_host, "
                + "p.DB AS db, p.COMMAND AS command, "
                + "TIMESTAMPDIFF(SECOND, trx.trx_started, NOW()) AS seconds, "
                + "trx.trx_rows_modified AS rows_modified, trx.trx_lock_structs AS lock_structs, "
                + "trx.trx_state AS state "
                + "FROM information_schema.INNODB_TRX trx "
                + "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = trx.trx_mysql_thread_id "
                + "WHERE trx.trx_mysql_thread_id <> CONNECTION_ID() "
                + "AND (trx.trx_rows_modified > 0 OR trx.trx_lock_structs > 0) "
                + "AND TIMESTAMPDIFF(SECOND, trx.trx_started, NOW()) >= \(seconds) "
                + "ORDER BY trx.trx_started, trx.trx_mysql_thread_id"
        }
    }
}
