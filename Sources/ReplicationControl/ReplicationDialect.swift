public import Logging
public import MariaDB

/// What a server calls its replication statements, chosen from its flavor and version: which status statement,
/// which configure/start/stop statements, which wait function, and which RDS procedures.
///
/// | Server                  | replica status        | source status          | change source                 | position wait     |
/// |-------------------------|-----------------------|------------------------|-------------------------------|-------------------|
/// | MySQL < 8.0.22          | `SHOW SLAVE STATUS`   | `SHOW MASTER STATUS`   | `CHANGE MASTER TO`            | `MASTER_POS_WAIT` |
/// | MySQL 8.0.22–8.0.25     | `SHOW REPLICA STATUS` | `SHOW MASTER STATUS`   | `CHANGE MASTER TO` (< 8.0.23) | `MASTER_POS_WAIT` |
/// | MySQL 8.0.26–8.1        | `SHOW REPLICA STATUS` | `SHOW MASTER STATUS`   | `CHANGE REPLICATION SOURCE TO`| `SOURCE_POS_WAIT` |
/// | MySQL 8.2+ (8.4)        | `SHOW REPLICA STATUS` | `SHOW BINARY LOG STATUS`| `CHANGE REPLICATION SOURCE TO`| `SOURCE_POS_WAIT`|
/// | MariaDB                 | `SHOW SLAVE STATUS`   | `SHOW BINLOG STATUS` (10.5.2+) | `CHANGE MASTER TO`    | `MASTER_POS_WAIT` |
/// | Aurora v2 / v3          | as MySQL 5.7 / 8.0.x  | `SHOW MASTER STATUS`   | `mysql.rds_*` procedures      | as MySQL          |
public struct ReplicationDialect: Sendable, Hashable, CustomStringConvertible {
    /// The kind of server.
    public enum Server: Sendable, Hashable, CustomStringConvertible {
        /// Community MySQL (or RDS for MySQL).
        case mysql
        /// MariaDB.
        case mariaDB
        /// Amazon Aurora MySQL, with its own version (`2.11.2`, `3.05.2`).
        case auroraMySQL(auroraVersion: ServerVersion)

        public var description: String {
            switch self {
            case .mysql: "MySQL"
            case .mariaDB: "MariaDB"
            case .auroraMySQL(let version): "Aurora MySQL \(version)"
            }
        }
    }

    /// The kind of server.
    public let server: Server
    /// The MySQL-compatible version (MariaDB's own version for MariaDB); for Aurora, the MySQL version its
    /// release is based on.
    public let version: ServerVersion
    /// The `mysql.rds_*` procedures the server has, nil when it has none.
    public let rdsProcedures: RDSProcedures?

    /// Creates a dialect.
    ///
    /// For Aurora, `version` is raised to at least the MySQL release the Aurora version is based on (Aurora
    /// announces `8.0.mysql_aurora.3.05.2`, whose leading digits say only `8.0`).
    public init(server: Server, version: ServerVersion, rdsProcedures: RDSProcedures? = nil) {
        self.server = server
        if case .auroraMySQL(let auroraVersion) = server {
            self.version = max(version, Self.mysqlVersion(ofAurora: auroraVersion))
        } else {
            self.version = version
        }
        self.rdsProcedures = rdsProcedures
    }

    /// Creates a dialect from a connection's identity.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/unsupported``) for a ProxySQL endpoint.
    public init(identity: ServerIdentity, rdsProcedures: RDSProcedures? = nil) throws {
        switch identity.flavor {
        case .mysql: self.init(server: .mysql, version: identity.version, rdsProcedures: rdsProcedures)
        case .mariaDB: self.init(server: .mariaDB, version: identity.version, rdsProcedures: rdsProcedures)
        case .auroraMySQL(let auroraVersion):
            self.init(
                server: .auroraMySQL(auroraVersion: auroraVersion), version: identity.version,
                rdsProcedures: rdsProcedures)
        case .proxySQL:
            throw ReplicationError(code: .unsupported, message: "a ProxySQL endpoint has no replication")
        }
    }

    /// The statement ``detect(on:logger:)`` sends first: version variables, one row per variable.
    public static let versionQuery: SQLStatement =
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'version_comment', 'aurora_version')"

    /// The statement ``detect(on:logger:)`` sends second: the `rds_*` procedures in schema `mysql` visible to the
    /// account.
    public static let proceduresQuery: SQLStatement =
        "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_TYPE = 'PROCEDURE' AND ROUTINE_NAME LIKE 'rds\\_%'"

    /// Asks the server what it is (``versionQuery``) and which RDS procedures it has (``proceduresQuery``).
    ///
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/unexpectedResult`` when the server does not report
    ///   its version, ``ReplicationError/Code/unsupported`` for ProxySQL, or a wrapped server error.
    public static func detect(on session: some SQLSession, logger: Logger) async throws -> ReplicationDialect {
        let variables: [String: String]
        let procedureNames: [String]
        do {
            var values: [String: String] = [:]
            for row in try await session.query(versionQuery) {
                guard let name = row[0].string, let value = row[1].string else { continue }
                values[name.lowercased()] = value
            }
            variables = values
            procedureNames = try await session.query(proceduresQuery).compactMap { $0[0].string }
        } catch {
            throw ReplicationError.wrapping(
                error, message: "could not detect the server's replication dialect",
                endpoint: session.endpointDescription)
        }
        guard let versionString = variables["version"] else {
            throw ReplicationError(
                code: .unexpectedResult, message: "the server did not report @@version",
                endpoint: session.endpointDescription)
        }
        let identity = ServerIdentity.parse(
            versionString: versionString,
            versionComment: variables["version_comment"],
            auroraVersion: variables["aurora_version"]
        )
        let procedures = procedureNames.isEmpty ? nil : try? RDSProcedures(availableProcedures: procedureNames)
        let dialect = try ReplicationDialect(identity: identity, rdsProcedures: procedures)
        logger.debug(
            "detected replication dialect",
            metadata: [
                "replication.server": "\(dialect.server)", "replication.version": "\(dialect.version)",
                "replication.rds_procedures": "\(procedures.map { $0.generation.rawValue } ?? "none")",
            ]
        )
        return dialect
    }

    // MARK: Capabilities

    /// Whether the server is MariaDB.
    public var isMariaDB: Bool { server == .mariaDB }

    /// Whether the server is Aurora MySQL.
    public var isAurora: Bool {
        if case .auroraMySQL = server { true } else { false }
    }

    /// Whether `SHOW REPLICA STATUS` / `START REPLICA` exist (MySQL 8.0.22+). MariaDB is served with the `SLAVE`
    /// spelling, which every MariaDB version accepts.
    public var usesReplicaKeyword: Bool { !isMariaDB && version >= ServerVersion(8, 0, 22) }

    /// Whether `CHANGE REPLICATION SOURCE TO` and the `SOURCE_*` options exist (MySQL 8.0.23+).
    public var usesSourceOptions: Bool { !isMariaDB && version >= ServerVersion(8, 0, 23) }

    /// Whether the account can be expected to run `SET GLOBAL` (not on Aurora).
    public var allowsGlobalVariables: Bool { !isAurora }

    /// Whether `super_read_only` exists (MySQL 5.7.8+; not MariaDB).
    public var hasSuperReadOnly: Bool { !isMariaDB && version >= ServerVersion(5, 7, 8) }

    /// Whether the server can keep a global variable across a restart itself (`SET PERSIST`, MySQL 8.0+; not
    /// MariaDB, which has no `SET PERSIST`, and not Aurora or RDS, which allow no `SET GLOBAL`).
    public var supportsPersistedVariables: Bool {
        !isMariaDB && !isAurora && rdsProcedures == nil && version >= ServerVersion(8, 0, 0)
    }

    /// The option-file lines (`[mysqld]` section) that keep the server read-only across a restart: `read_only`,
    /// and `super_read_only` where it exists.
    public var readOnlyOptionFileLines: [String] {
        hasSuperReadOnly ? ["read_only = ON", "super_read_only = ON"] : ["read_only = ON"]
    }

    /// The option-file lines (`[mysqld]` section) that install `filter` at start: neither MySQL's
    /// `CHANGE REPLICATION FILTER` nor MariaDB's `SET GLOBAL replicate_*` survives a restart.
    public func replicationFilterOptionFileLines(_ filter: ReplicationFilter) -> [String] {
        switch filter {
        case .none: []
        case .ignoreRDSTables: ["replicate_wild_ignore_table = \(ReplicationFilter.rdsTablesPattern)"]
        case .ignoreMySQLSchema: ["replicate_ignore_db = mysql"]
        }
    }

    // MARK: Status statements

    /// The statement that shows the default channel's status (MySQL shows every channel).
    public var replicaStatusStatement: SQLStatement {
        usesReplicaKeyword ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS"
    }

    /// The statement that shows every channel's status.
    public var allReplicaStatusesStatement: SQLStatement {
        isMariaDB ? "SHOW ALL SLAVES STATUS" : replicaStatusStatement
    }

    /// The statement that shows the server's own binlog position.
    public var sourceStatusStatement: SQLStatement {
        if isMariaDB {
            return version >= ServerVersion(10, 5, 2) ? "SHOW BINLOG STATUS" : "SHOW MASTER STATUS"
        }
        return version >= ServerVersion(8, 2, 0) ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS"
    }

    /// MariaDB only: the statement that reads the source's GTID position (`@@gtid_binlog_pos`); nil on MySQL,
    /// whose source status row carries `Executed_Gtid_Set`.
    public var sourceGTIDStatement: SQLStatement? {
        isMariaDB ? "SELECT @@GLOBAL.gtid_binlog_pos AS gtid_binlog_pos" : nil
    }

    /// MariaDB only: the statement that reads the GTID position a replica has applied (`@@gtid_slave_pos`).
    public var replicaGTIDStatement: SQLStatement? {
        isMariaDB ? "SELECT @@GLOBAL.gtid_slave_pos AS gtid_slave_pos" : nil
    }

    // MARK: Native replica statements

    /// Whether replication statements name their channel (MySQL 5.7.6+, multi-source): without `FOR CHANNEL`, `STOP
    /// REPLICA` stops and `RESET REPLICA ALL` wipes **every** channel, not only the one the cut-over drives (issue
    /// #13). The cut-over's channel is the default one, `FOR CHANNEL ''`. MariaDB's unnamed forms act on the
    /// connection named by `@@default_master_connection` (empty by default), never on all of them.
    public var namesChannel: Bool { !isMariaDB && version >= ServerVersion(5, 7, 6) }

    /// ` FOR CHANNEL ''` where ``namesChannel``, else nothing.
    var channelClause: SQLStatement { namesChannel ? " FOR CHANNEL ''" : "" }

    /// `START REPLICA` / `START SLAVE` (MySQL: `FOR CHANNEL ''`).
    public var startReplicaStatement: SQLStatement {
        (usesReplicaKeyword ? "START REPLICA" : "START SLAVE") + channelClause
    }

    /// `STOP REPLICA` / `STOP SLAVE` (MySQL: `FOR CHANNEL ''`).
    public var stopReplicaStatement: SQLStatement {
        (usesReplicaKeyword ? "STOP REPLICA" : "STOP SLAVE") + channelClause
    }

    /// `RESET REPLICA ALL` / `RESET SLAVE ALL` (MySQL: `FOR CHANNEL ''`): forgets the source configuration of the
    /// cut-over's channel only.
    public var resetReplicaStatement: SQLStatement {
        (usesReplicaKeyword ? "RESET REPLICA ALL" : "RESET SLAVE ALL") + channelClause
    }

    /// Starts replication until the SQL thread reaches `position` of the source's binlog.
    public func startReplicaUntilStatement(_ position: BinlogPosition) -> SQLStatement {
        let prefix = usesSourceOptions ? "SOURCE" : "MASTER"
        let start: SQLStatement = usesReplicaKeyword ? "START REPLICA" : "START SLAVE"
        return
            "\(start) UNTIL \(unsafeRaw: prefix)_LOG_FILE = \(position.file), \(unsafeRaw: prefix)_LOG_POS = \(position.offset)"
            + channelClause
    }

    /// The statements that point a native replica at `source` (MariaDB with a GTID start point needs two).
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/unsupported``) for a MariaDB GTID start point on
    ///   MySQL; (``ReplicationError/Code/invalidArgument``) for invalid fields.
    public func changeSourceStatements(_ source: ReplicationSource) throws -> [SQLStatement] {
        try source.validate()
        let option = usesSourceOptions ? "SOURCE" : "MASTER"
        var statement: SQLStatement = usesSourceOptions ? "CHANGE REPLICATION SOURCE TO " : "CHANGE MASTER TO "
        statement =
            statement
            + "\(unsafeRaw: option)_HOST = \(source.host), \(unsafeRaw: option)_PORT = \(source.port), "
            + "\(unsafeRaw: option)_USER = \(source.user), \(unsafeRaw: option)_PASSWORD = \(secret: source.password)"
        var prelude: [SQLStatement] = []
        switch source.startPoint {
        case .position(let position):
            statement =
                statement
                + ", \(unsafeRaw: option)_LOG_FILE = \(position.file), \(unsafeRaw: option)_LOG_POS = \(position.offset)"
            statement = statement + (isMariaDB ? ", MASTER_USE_GTID = no" : ", \(unsafeRaw: option)_AUTO_POSITION = 0")
        case .autoPosition:
            statement =
                statement + (isMariaDB ? ", MASTER_USE_GTID = slave_pos" : ", \(unsafeRaw: option)_AUTO_POSITION = 1")
        case .mariaDBGTID(let position):
            guard isMariaDB else {
                throw ReplicationError(
                    code: .unsupported, message: "a MariaDB GTID start point needs a MariaDB replica")
            }
            prelude.append("SET GLOBAL gtid_slave_pos = \(position.description)")
            statement = statement + ", MASTER_USE_GTID = slave_pos"
        }
        statement = statement + ", \(unsafeRaw: option)_SSL = \(source.useTLS ? 1 : 0)"
        if requestsSourcePublicKey(useTLS: source.useTLS) {
            statement = statement + ", \(unsafeRaw: usesSourceOptions ? "GET_SOURCE_PUBLIC_KEY" : "GET_MASTER_PUBLIC_KEY") = 1"
        }
        if let retry = source.connectRetrySeconds {
            statement = statement + ", \(unsafeRaw: option)_CONNECT_RETRY = \(retry)"
        }
        return prelude + [statement + channelClause]
    }

    /// Whether `CHANGE ... TO` asks the source for its RSA public key: on MySQL 8.0.4+ without TLS. Their default
    /// account plugin, `caching_sha2_password`, sends the password over a plain connection only RSA-encrypted;
    /// without the key the receiver fails with error 2061 ("Authentication requires secure connection", seen on
    /// MySQL 9.7.4 replicating from MySQL 9.7.4). MariaDB and Aurora's procedures have no such option.
    public func requestsSourcePublicKey(useTLS: Bool) -> Bool {
        !useTLS && !isMariaDB && !isAurora && version >= ServerVersion(8, 0, 4)
    }

    /// The statement that installs `filter` on a native replica (replication must be stopped). MySQL uses
    /// `CHANGE REPLICATION FILTER` (not persisted across a restart; put it in the option file too); MariaDB
    /// `SET GLOBAL replicate_*` (likewise).
    ///
    /// Installing ``ReplicationFilter/ignoreRDSTables`` clears an ignore-database filter and the other way round,
    /// so exactly the chosen filter is active.
    public func replicationFilterStatements(_ filter: ReplicationFilter) -> [SQLStatement] {
        let pattern = ReplicationFilter.rdsTablesPattern
        if isMariaDB {
            switch filter {
            case .none:
                return ["SET GLOBAL replicate_wild_ignore_table = ''", "SET GLOBAL replicate_ignore_db = ''"]
            case .ignoreRDSTables:
                return ["SET GLOBAL replicate_wild_ignore_table = \(pattern)", "SET GLOBAL replicate_ignore_db = ''"]
            case .ignoreMySQLSchema:
                return ["SET GLOBAL replicate_wild_ignore_table = ''", "SET GLOBAL replicate_ignore_db = 'mysql'"]
            }
        }
        let statement: SQLStatement
        switch filter {
        case .none:
            statement = "CHANGE REPLICATION FILTER REPLICATE_WILD_IGNORE_TABLE = (), REPLICATE_IGNORE_DB = ()"
        case .ignoreRDSTables:
            statement = "CHANGE REPLICATION FILTER REPLICATE_WILD_IGNORE_TABLE = (\(pattern)), REPLICATE_IGNORE_DB = ()"
        case .ignoreMySQLSchema:
            statement = "CHANGE REPLICATION FILTER REPLICATE_WILD_IGNORE_TABLE = (), REPLICATE_IGNORE_DB = (mysql)"
        }
        return [statement + (namesFilterChannel ? " FOR CHANNEL ''" : "")]
    }

    /// Whether `CHANGE REPLICATION FILTER` takes `FOR CHANNEL` (MySQL 8.0.1+): without it the statement sets the
    /// **global** filters, which every channel without channel-specific filters inherits, not only the one the
    /// cut-over drives (issue #13, item 11). Earlier MySQL has only global filters.
    public var namesFilterChannel: Bool { !isMariaDB && version >= ServerVersion(8, 0, 1) }

    // MARK: Wait functions

    /// A server function that blocks until a replica has executed a target, with its own timeout.
    public struct WaitFunction: Sendable, Hashable, CustomStringConvertible {
        /// The function's name (`MASTER_POS_WAIT`, `SOURCE_POS_WAIT`, `WAIT_FOR_EXECUTED_GTID_SET`,
        /// `MASTER_GTID_WAIT`).
        public let name: String
        /// Whether the timeout argument may be fractional (MariaDB `MASTER_GTID_WAIT`); otherwise it is whole
        /// seconds, and a fraction would be truncated (MariaDB's `MASTER_POS_WAIT` waits forever for `0.3`).
        public let acceptsFractionalTimeout: Bool
        let kind: Kind

        enum Kind: Sendable, Hashable { case position, mysqlGTID, mariaDBGTID }

        /// What one call of the function reported.
        public enum Outcome: Sendable, Hashable {
            /// The target was executed.
            case reached
            /// The function's own timeout passed first.
            case timedOut
            /// The function says replication is not running (`NULL` from `MASTER_POS_WAIT`).
            case replicationNotRunning
        }

        public var description: String { name }

        /// The `SELECT` that waits for `target` up to `timeout` (rounded up to whole seconds when the function
        /// needs them, and never below the smallest timeout it accepts: 0 means "forever" to these functions).
        public func statement(for target: CatchUpTarget, timeout: Duration) -> SQLStatement {
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            let argument: SQLStatement
            if acceptsFractionalTimeout {
                let clamped = (max(seconds, 0.001) * 1000).rounded(.up) / 1000
                argument = "\(clamped)"
            } else {
                argument = "\(Int(max(1, seconds.rounded(.up))))"
            }
            switch target {
            case .position(let position):
                return "SELECT \(unsafeRaw: name)(\(position.file), \(position.offset), \(argument)) AS result"
            case .mysqlGTIDSet(let set):
                return "SELECT \(unsafeRaw: name)(\(set.description), \(argument)) AS result"
            case .mariaDBGTIDPosition(let position):
                return "SELECT \(unsafeRaw: name)(\(position.description), \(argument)) AS result"
            }
        }

        /// Interprets the function's result; nil for a value it never returns.
        func outcome(of value: SQLValue) -> Outcome? {
            guard let number = value.int64 else { return value.isNull ? .replicationNotRunning : nil }
            switch kind {
            case .position:
                // Events waited for (≥ 0), or -1 on timeout.
                return number >= 0 ? .reached : (number == -1 ? .timedOut : nil)
            case .mysqlGTID:
                // 0 when executed, 1 on timeout.
                return number == 0 ? .reached : (number == 1 ? .timedOut : nil)
            case .mariaDBGTID:
                // 0 when executed, -1 on timeout.
                return number == 0 ? .reached : (number == -1 ? .timedOut : nil)
            }
        }
    }

    /// The function that waits for `target` on this server, or nil when the target's kind does not fit it (a
    /// MySQL GTID set on MariaDB, or the other way round).
    public func waitFunction(for target: CatchUpTarget) -> WaitFunction? {
        switch target {
        case .position:
            let name = !isMariaDB && version >= ServerVersion(8, 0, 26) ? "SOURCE_POS_WAIT" : "MASTER_POS_WAIT"
            return WaitFunction(name: name, acceptsFractionalTimeout: false, kind: .position)
        case .mysqlGTIDSet:
            return isMariaDB
                ? nil
                : WaitFunction(name: "WAIT_FOR_EXECUTED_GTID_SET", acceptsFractionalTimeout: false, kind: .mysqlGTID)
        case .mariaDBGTIDPosition:
            return isMariaDB
                ? WaitFunction(name: "MASTER_GTID_WAIT", acceptsFractionalTimeout: true, kind: .mariaDBGTID) : nil
        }
    }

    public var description: String {
        var text = "\(server) \(version)"
        if let rdsProcedures { text += ", RDS procedures (\(rdsProcedures.generation.rawValue))" }
        return text
    }

    /// The MySQL release an Aurora version is based on (from the Aurora release notes); later 3.x releases than
    /// this table knows map to the last known one, which only errs towards older syntax.
    static func mysqlVersion(ofAurora aurora: ServerVersion) -> ServerVersion {
        switch aurora.major {
        case ...1: return ServerVersion(5, 6, 10)
        case 2: return ServerVersion(5, 7, 12)
        default:
            let table: [(minor: Int, mysql: ServerVersion)] = [
                (1, ServerVersion(8, 0, 23)), (2, ServerVersion(8, 0, 23)), (3, ServerVersion(8, 0, 26)),
                (4, ServerVersion(8, 0, 28)), (5, ServerVersion(8, 0, 32)), (6, ServerVersion(8, 0, 34)),
                (7, ServerVersion(8, 0, 36)), (8, ServerVersion(8, 0, 39)), (9, ServerVersion(8, 0, 40)),
            ]
            return table.last { $0.minor <= aurora.minor }?.mysql ?? ServerVersion(8, 0, 23)
        }
    }
}
