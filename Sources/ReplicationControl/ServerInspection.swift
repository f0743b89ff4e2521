public import MariaDB

/// What a read-only look at one MySQL, MariaDB or Aurora server finds: the value types of ``ServerInspecting``.
///
/// Every value is plain data (`Sendable`, `Codable`), so a preflight can compare two servers, report the
/// difference and journal what it saw. Nothing here holds a password or a password hash.
public enum ServerInspection {
    /// The server's identity: `SELECT @@version, @@version_comment`, and `@@aurora_version` where it exists.
    public struct Identity: Sendable, Hashable, Codable, CustomStringConvertible {
        /// `@@version` (`10.11.19-MariaDB-0+deb12u1`, `8.0.mysql_aurora.3.05.2`).
        public var versionString: String
        /// `@@version_comment` (`Debian 12`, `Source distribution`), nil when NULL.
        public var versionComment: String?
        /// `@@aurora_version` (`3.05.2`), nil where the variable does not exist (every server but Aurora).
        public var auroraVersion: String?

        /// Creates an identity.
        public init(versionString: String, versionComment: String? = nil, auroraVersion: String? = nil) {
            self.versionString = versionString
            self.versionComment = versionComment
            self.auroraVersion = auroraVersion
        }

        /// The product and its MySQL-compatible version, worked out from the three values.
        public var serverIdentity: ServerIdentity {
            ServerIdentity.parse(
                versionString: versionString, versionComment: versionComment, auroraVersion: auroraVersion)
        }

        /// `MariaDB 10.11.19-MariaDB-0+deb12u1`, `Aurora MySQL 3.5.2 8.0.mysql_aurora.3.05.2`.
        public var description: String { serverIdentity.description }
    }

    /// The server-wide defaults `character_set_server` and `collation_server`.
    public struct CharacterSettings: Sendable, Hashable, Codable, CustomStringConvertible {
        /// `@@global.character_set_server` (`utf8mb4`).
        public var characterSet: String
        /// `@@global.collation_server` (`utf8mb4_general_ci`).
        public var collation: String

        /// Creates the settings.
        public init(characterSet: String, collation: String) {
            self.characterSet = characterSet
            self.collation = collation
        }

        /// `utf8mb4 / utf8mb4_general_ci`.
        public var description: String { "\(characterSet) / \(collation)" }
    }

    /// A schema (database) and its default character set and collation, from `information_schema.SCHEMATA`.
    public struct Schema: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
        /// `SCHEMA_NAME`.
        public var name: String
        /// `DEFAULT_CHARACTER_SET_NAME`.
        public var characterSet: String
        /// `DEFAULT_COLLATION_NAME`.
        public var collation: String

        /// Creates a schema description.
        public init(name: String, characterSet: String, collation: String) {
            self.name = name
            self.characterSet = characterSet
            self.collation = collation
        }

        /// The system schemas every inspection leaves out.
        public static let systemSchemas = ["information_schema", "mysql", "performance_schema", "sys"]

        public static func < (lhs: Schema, rhs: Schema) -> Bool { lhs.name < rhs.name }

        /// `app (utf8mb4 / utf8mb4_general_ci)`.
        public var description: String { "\(name) (\(characterSet) / \(collation))" }
    }

    /// Binary-log and GTID settings, read with `SHOW GLOBAL VARIABLES WHERE Variable_name IN (...)` so that a
    /// variable a flavor lacks (`gtid_mode` on MariaDB, `gtid_strict_mode` on MySQL) is simply absent.
    public struct BinlogSettings: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The variables asked for, in the order ``variables`` is sent.
        public static let variableNames = [
            "aurora_enable_repl_bin_log_filtering", "binlog_expire_logs_seconds", "binlog_format", "binlog_row_image",
            "enforce_gtid_consistency", "expire_logs_days", "gtid_domain_id", "gtid_mode", "gtid_strict_mode",
            "have_ssl", "log_bin", "log_replica_updates", "log_slave_updates", "server_id",
        ]

        /// Every variable the server returned, by lower-case name, with its value as text.
        public var variables: [String: String]

        /// Creates settings from variable names and values (names are lower-cased).
        public init(variables: [String: String]) {
            self.variables = Dictionary(variables.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        }

        /// The value of `name`, or nil when the server lacks the variable.
        public subscript(name: String) -> String? { variables[name.lowercased()] }

        /// `log_bin`: whether the server writes a binary log (nil when unknown).
        public var binaryLogEnabled: Bool? { flag("log_bin") }
        /// `binlog_format` (`ROW`, `MIXED`, `STATEMENT`).
        public var binlogFormat: String? { self["binlog_format"]?.uppercased() }
        /// `server_id`.
        public var serverID: UInt64? { self["server_id"].flatMap { UInt64($0) } }
        /// MySQL's `gtid_mode` (`OFF`, `OFF_PERMISSIVE`, `ON_PERMISSIVE`, `ON`); nil on MariaDB.
        public var gtidMode: String? { self["gtid_mode"]?.uppercased() }
        /// MySQL's `enforce_gtid_consistency`; nil on MariaDB.
        public var enforceGTIDConsistency: String? { self["enforce_gtid_consistency"]?.uppercased() }
        /// MariaDB's `gtid_domain_id`; nil on MySQL.
        public var gtidDomainID: UInt64? { self["gtid_domain_id"].flatMap { UInt64($0) } }
        /// MariaDB's `gtid_strict_mode`; nil on MySQL.
        public var gtidStrictMode: Bool? { flag("gtid_strict_mode") }
        /// `log_replica_updates` / `log_slave_updates`.
        public var logReplicaUpdates: Bool? { flag("log_replica_updates") ?? flag("log_slave_updates") }
        /// Aurora's `aurora_enable_repl_bin_log_filtering`; nil elsewhere.
        public var auroraBinlogReplicationFiltering: Bool? { flag("aurora_enable_repl_bin_log_filtering") }
        /// Whether the server accepts TLS connections, from `have_ssl` (`YES` → true, `DISABLED`/`NO` → false); nil
        /// where the server no longer has the variable (MySQL 8.4 always offers TLS).
        public var acceptsTLS: Bool? {
            switch self["have_ssl"]?.uppercased() {
            case "YES"?: true
            case "DISABLED"?, "NO"?: false
            default: nil
            }
        }

        private func flag(_ name: String) -> Bool? {
            self[name].flatMap { SQLValue($0).bool }
        }

        /// `log_bin=ON binlog_format=ROW server_id=2 ...`, in name order.
        public var description: String {
            variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    /// One row of `CALL mysql.rds_show_configuration`: `name`, `value`, `description`.
    public struct ConfigurationEntry: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The setting's name (`binlog retention hours`).
        public var name: String
        /// Its value, nil when NULL (not set).
        public var value: String?
        /// The server's explanation of the setting.
        public var explanation: String?

        /// Creates an entry.
        public init(name: String, value: String?, explanation: String? = nil) {
            self.name = name
            self.value = value
            self.explanation = explanation
        }

        /// The name of the binlog retention setting.
        public static let binlogRetentionHours = "binlog retention hours"

        /// `binlog retention hours = 24` or `... = NULL`.
        public var description: String { "\(name) = \(value ?? "NULL")" }
    }

    /// A database account, `'user'@'host'`.
    public struct Account: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
        /// The user name.
        public var user: String
        /// The host pattern (`%`, `10.0.%`, `localhost`).
        public var host: String

        /// Creates an account.
        public init(user: String, host: String) {
            self.user = user
            self.host = host
        }

        public static func < (lhs: Account, rhs: Account) -> Bool { (lhs.user, lhs.host) < (rhs.user, rhs.host) }

        /// `'app'@'10.0.%'`.
        public var description: String { "'\(user)'@'\(host)'" }
    }

    /// `read_only`, `super_read_only` and `innodb_read_only`.
    public struct ReadOnlyState: Sendable, Hashable, Codable, CustomStringConvertible {
        /// `read_only`: only privileged accounts can write.
        public var readOnly: Bool
        /// `super_read_only` (MySQL), nil where it does not exist.
        public var superReadOnly: Bool?
        /// `innodb_read_only` (true on Aurora reader instances), nil when unknown.
        public var innodbReadOnly: Bool?

        /// Creates a state.
        public init(readOnly: Bool, superReadOnly: Bool? = nil, innodbReadOnly: Bool? = nil) {
            self.readOnly = readOnly
            self.superReadOnly = superReadOnly
            self.innodbReadOnly = innodbReadOnly
        }

        /// Whether an ordinary application account can write (none of the three is on).
        public var acceptsWrites: Bool { !readOnly && superReadOnly != true && innodbReadOnly != true }

        /// `read_only=OFF super_read_only=OFF innodb_read_only=OFF`.
        public var description: String {
            func show(_ flag: Bool?) -> String { flag.map { $0 ? "ON" : "OFF" } ?? "n/a" }
            return
                "read_only=\(show(readOnly)) super_read_only=\(show(superReadOnly)) innodb_read_only=\(show(innodbReadOnly))"
        }
    }

    /// A transaction that has written or locked rows and has been open for a while, from
    /// `information_schema.innodb_trx` joined to the process list.
    public struct OpenWriteTransaction: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The connection (`trx_mysql_thread_id`, the process list `ID`): `KILL <id>` ends it.
        public var connectionID: UInt64
        /// The account's user, nil when the process list has no row for it.
        public var user: String?
        /// The client's host and port as the process list shows it.
        public var clientHost: String?
        /// The current schema.
        public var database: String?
        /// The process list `COMMAND` (`Sleep` for a transaction idle between statements).
        public var command: String?
        /// Seconds since the transaction started (`trx_started`).
        public var seconds: Int
        /// `trx_rows_modified`.
        public var rowsModified: UInt64
        /// `trx_lock_structs`.
        public var lockStructs: UInt64
        /// `trx_state` (`RUNNING`, `LOCK WAIT`, ...).
        public var state: String

        /// Creates a transaction description.
        public init(
            connectionID: UInt64,
            user: String?,
            clientHost: String?,
            database: String?,
            command: String?,
            seconds: Int,
            rowsModified: UInt64,
            lockStructs: UInt64,
            state: String
        ) {
            self.connectionID = connectionID
            self.user = user
            self.clientHost = clientHost
            self.database = database
            self.command = command
            self.seconds = seconds
            self.rowsModified = rowsModified
            self.lockStructs = lockStructs
            self.state = state
        }

        /// `connection 42 (app@10.0.0.9:51234, Sleep) open 12 s, 3 row(s) modified`.
        public var description: String {
            "connection \(connectionID) (\(user ?? "?")@\(clientHost ?? "?"), \(command ?? "?")) open \(seconds) s, "
                + "\(rowsModified) row(s) modified"
        }
    }
}
