public import Logging
public import MariaDB

/// Makes a sandbox MariaDB or MySQL server behave like Aurora MySQL for replication: the `mysql.rds_*` procedures with the
/// real names, arguments, messages and SQLSTATE 45000 errors, and an admin account that, like Aurora's master user,
/// may call them but may not run `CHANGE MASTER`, `START`/`STOP`/`RESET SLAVE` or `SET GLOBAL` itself (it gets
/// error 1227).
///
/// This is a test double and rehearsal aid. The procedures are `SQL SECURITY DEFINER` routines owned by a locked
/// `rdsadmin@localhost` account; they run MariaDB's own replication statements through `EXECUTE IMMEDIATE`, keep
/// their bookkeeping (`mysql.rds_history`, `mysql.rds_replication_status`, `mysql.rds_configuration`) out of the
/// binary log with `sql_log_bin = 0`, and sleep like Aurora's (about 1 s before and 2 s after a start or stop)
/// unless ``Options/simulatedDelays`` is off.
///
/// ```swift
/// let aurora = try await AuroraProcedureShim.install(on: sandbox.servers[1], options: .init(simulatedDelays: false), logger: logger)
/// let admin = try await MariaDBConnection.connect(configuration: aurora.adminConfiguration)
/// ```
///
/// On MySQL (9.7) the same procedures run MySQL's statements through `PREPARE`/`EXECUTE`, set
/// `GET_SOURCE_PUBLIC_KEY = 1` and a 1 s `SOURCE_CONNECT_RETRY`, and read the state from `performance_schema`
/// (see `AuroraProcedureShim+MySQL.swift`); the admin gets ``mysqlAdminPrivileges``.
///
/// Known differences from Aurora on MariaDB: MariaDB GTIDs instead of MySQL GTIDs (auto-position means `MASTER_USE_GTID =
/// slave_pos`); the replication state is derived from `Slave_running` and the process list, and "configured" from
/// the shim's own bookkeeping (a `CHANGE MASTER` run by root behind its back is not seen); the admin account holds
/// DML on `*.*` including the `mysql` schema, as Aurora's master user roughly does, so it is a guard against
/// accidental use of forbidden statements, not a security boundary.
public enum AuroraProcedureShim {
    /// Which Aurora generation's procedure names to install.
    public enum Generation: String, Sendable, Hashable {
        /// Aurora MySQL version 2: `rds_set_external_master`, `rds_reset_external_master`, ...
        case auroraVersion2
        /// Aurora MySQL version 3: `rds_set_external_source`, `rds_reset_external_source`, ...
        case auroraVersion3

        var spelling: String { self == .auroraVersion2 ? "master" : "source" }
    }

    /// How to install.
    public struct Options: Sendable, Hashable {
        /// Whether start and stop sleep like Aurora's (1 s before, 2 s after). Off for fast tests.
        public var simulatedDelays: Bool
        /// Which procedure names to install.
        public var generation: Generation
        /// The restricted admin account's name.
        public var adminUser: String
        /// Its password; a random one when nil.
        public var adminPassword: String?

        /// Creates options.
        public init(
            simulatedDelays: Bool = true,
            generation: Generation = .auroraVersion3,
            adminUser: String = "aurora_admin",
            adminPassword: String? = nil
        ) {
            self.simulatedDelays = simulatedDelays
            self.generation = generation
            self.adminUser = adminUser
            self.adminPassword = adminPassword
        }
    }

    /// What was installed, and how to connect as the restricted admin.
    public struct Installation: Sendable, CustomStringConvertible {
        /// The options used.
        public let options: Options
        /// The restricted admin account.
        public let adminUser: String
        /// Its password (a sandbox secret: do not log it).
        public let adminPassword: String
        /// Settings to connect as the admin (127.0.0.1 and the server's port).
        public let adminConfiguration: MariaDBConnection.Configuration
        /// The `mysql.rds_*` procedures installed.
        public let procedures: [String]

        /// The admin and the procedures; never the password.
        public var description: String {
            "Aurora stand-in (\(options.generation.rawValue), delays \(options.simulatedDelays ? "on" : "off")) with admin '\(adminUser)'"
        }
    }

    /// The privileges of the restricted admin: roughly those of Aurora's master user, without `SUPER`,
    /// `REPLICATION SLAVE ADMIN`, `BINLOG ADMIN`, `READ_ONLY ADMIN`, `CONNECTION ADMIN` or `SET USER`, plus
    /// MariaDB's `SLAVE MONITOR` (needed for `SHOW SLAVE STATUS`, which Aurora's master user may run). `RELOAD`,
    /// which Aurora's master user has, is left out: on MariaDB it is enough to run `RESET SLAVE` directly.
    public static let adminPrivileges = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "PROCESS", "REFERENCES", "INDEX", "ALTER",
        "SHOW DATABASES", "CREATE TEMPORARY TABLES", "LOCK TABLES", "EXECUTE", "REPLICATION SLAVE", "BINLOG MONITOR",
        "SLAVE MONITOR", "CREATE VIEW", "SHOW VIEW", "CREATE ROUTINE", "ALTER ROUTINE", "CREATE USER", "EVENT",
        "TRIGGER",
    ]

    /// Installs the stand-in on a sandbox server (as root), idempotently.
    ///
    /// - Returns: the installation, with the restricted admin's connection settings.
    /// - Throws: ``SandboxError`` (``SandboxError/Code/invalidOptions``) for an unusable admin name;
    ///   `MariaDBError` when a statement fails.
    public static func install(on server: SandboxServer, options: Options = Options(), logger: Logger) async throws
        -> Installation
    {
        let root = try await server.connectAsRoot(logger: logger)
        let password = options.adminPassword ?? randomPassword()
        let procedures: [String]
        do {
            procedures = try await install(usingRoot: root, options: options, adminPassword: password, logger: logger)
        } catch {
            await root.close()
            throw error
        }
        await root.close()
        return Installation(
            options: options,
            adminUser: options.adminUser,
            adminPassword: password,
            adminConfiguration: server.configuration(user: options.adminUser, password: password),
            procedures: procedures
        )
    }

    /// Installs the stand-in through a root session (of any server), idempotently.
    ///
    /// - Returns: the procedure names installed.
    /// - Throws: ``SandboxError`` (``SandboxError/Code/invalidOptions``) for an unusable admin name;
    ///   `MariaDBError` when a statement fails.
    public static func install(
        usingRoot root: any SQLSession,
        options: Options,
        adminPassword: String,
        logger: Logger
    ) async throws -> [String] {
        guard !options.adminUser.isEmpty, options.adminUser.count <= 80, options.adminUser != "rdsadmin" else {
            throw SandboxError(
                code: .invalidOptions,
                message: "the Aurora stand-in's admin name must be 1–80 characters and not 'rdsadmin'")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let isMySQL = try await !(root.queryFirst("SELECT VERSION()")?[0].string ?? "").contains("MariaDB")
        let routines =
            isMySQL
            ? mysqlRoutineStatements(options.generation, simulatedDelays: options.simulatedDelays)
            : routineStatements(options.generation, simulatedDelays: options.simulatedDelays)
        let privileges = isMySQL ? mysqlAdminPrivileges : adminPrivileges
        // Nothing of the stand-in may reach the binary log: reverse replication would replay it on the source.
        try await root.run("SET SESSION sql_log_bin = 0")
        let setup = isMySQL ? try await mysqlSetupStatements(usingRoot: root) : setupStatements()
        for statement in setup + routines {
            try await root.run(SQLStatement(unsafeRaw: statement))
        }
        let user: SQLStatement = "\(options.adminUser)@'%'"
        try await root.run("CREATE USER IF NOT EXISTS " + user + " IDENTIFIED BY \(secret: adminPassword)")
        try await root.run("ALTER USER " + user + " IDENTIFIED BY \(secret: adminPassword)")
        try await root.run(
            SQLStatement(unsafeRaw: "GRANT \(privileges.joined(separator: ", ")) ON *.* TO ") + user
                + " WITH GRANT OPTION")
        if isMySQL { try await dropSystemUserFromRoot(root) }
        try await root.run("SET SESSION sql_log_bin = 1")
        let names = procedureNames(options.generation)
        logger.info(
            "Aurora stand-in installed",
            metadata: [
                "sandbox.aurora_generation": "\(options.generation.rawValue)",
                "sandbox.aurora_delays": "\(options.simulatedDelays)",
                "sandbox.duration": "\(start.duration(to: clock.now))",
            ]
        )
        return names
    }

    /// Writes a heartbeat row into `mysql.rds_heartbeat2` the way Aurora's agent does: **with** binary logging, so
    /// it reaches whoever replicates from this server. Reverse replication must filter it (the source has no such
    /// table). Needs a root session.
    ///
    /// - Throws: `MariaDBError`.
    public static func writeHeartbeat(usingRoot root: any SQLSession) async throws {
        try await root.run(
            "INSERT INTO mysql.rds_heartbeat2 (id, value) VALUES (1, UNIX_TIMESTAMP(NOW(3)) * 1000) ON DUPLICATE KEY UPDATE value = VALUES(value)"
        )
    }

    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
