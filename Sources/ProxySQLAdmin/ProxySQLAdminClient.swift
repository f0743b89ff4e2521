public import Logging
public import MariaDB

/// Typed operations on one ProxySQL admin interface (port 6032), over any `SQLSession` that quotes literals
/// with ProxySQL admin rules.
///
/// ```swift
/// var configuration = MariaDBConnection.Configuration(host: "127.0.0.1", port: 6032, user: "admin", password: pw)
/// let admin = try await ProxySQLAdminClient.connect(configuration: configuration, logger: logger)
/// let writer = BackendServer.Key(hostgroup: 10, host: "db1", port: 3306)
/// try await admin.setStatusAndLoad(.offlineSoft, of: writer, logger: logger)
/// let pool = try await admin.connectionPoolStats(for: writer, logger: logger)
/// ```
///
/// Every statement is built with `SQLStatement` interpolation (see ``ProxySQLAdminStatements``) and refused
/// before sending unless the session's dialect is `.proxySQLAdmin`: MySQL-style escaping lets a
/// value such as `x\' OR 1=1 --` out of its literal on the admin interface. Statements are logged at `trace`
/// with literals redacted; passwords never reach this type's logs.
public struct ProxySQLAdminClient: ProxySQLAdministering {
    /// The session statements go to.
    public let session: any SQLSession
    /// The node's name in logs, errors and cluster results.
    public let nodeName: String
    /// The deadline of each statement (nil: the connection's own timeouts only).
    public let statementTimeout: Duration?
    /// The session opened by ``connect(configuration:name:statementTimeout:logger:)``, closed by ``close()``.
    let ownedSession: ReconnectingSQLSession?

    /// Creates a client over an open session.
    ///
    /// - Parameters:
    ///   - session: a session whose `dialect` is `.proxySQLAdmin` (a
    ///     `MariaDBConnection` opened with `configuration.quoting = .proxySQLAdmin`, or a test fake). Every
    ///     call throws ``ProxySQLAdminError/Code/wrongDialect`` otherwise.
    ///   - name: the node's name; defaults to the session's endpoint (`host:port`).
    ///   - statementTimeout: the deadline of each statement.
    public init(session: any SQLSession, name: String? = nil, statementTimeout: Duration? = .seconds(10)) {
        self.session = session
        self.nodeName = name ?? session.endpointDescription
        self.statementTimeout = statementTimeout
        self.ownedSession = nil
    }

    init(session: ReconnectingSQLSession, name: String?, statementTimeout: Duration?) {
        self.session = session
        self.nodeName = name ?? session.endpointDescription
        self.statementTimeout = statementTimeout
        self.ownedSession = session
    }

    /// Opens a connection to a ProxySQL admin interface, forcing ProxySQL admin quoting.
    ///
    /// The client survives a dropped admin connection (a network blip, a restart of the admin module): the
    /// statement that finds the connection lost is sent once more on a new connection (``ReconnectingSQLSession``;
    /// every statement of this client is idempotent). A node that stays unreachable fails the statement.
    ///
    /// - Parameters:
    ///   - configuration: where and as whom to connect; its `quoting` is set to `.proxySQLAdmin` here.
    ///   - name: the node's name; defaults to `host:port`.
    ///   - statementTimeout: the deadline of each statement.
    ///   - logger: receives connection diagnostics (never the password).
    /// - Throws: ``ProxySQLAdminError`` with ``ProxySQLAdminError/Code/accessDenied`` for a refused login
    ///   (`ProxySQL Error: Access denied ...`) and ``ProxySQLAdminError/Code/connectionFailed`` when the
    ///   interface cannot be reached.
    public static func connect(
        configuration: MariaDBConnection.Configuration,
        name: String? = nil,
        statementTimeout: Duration? = .seconds(10),
        logger: Logger
    ) async throws -> ProxySQLAdminClient {
        var configuration = configuration
        configuration.quoting = .proxySQLAdmin
        do {
            let session = try await ReconnectingSQLSession.connect(configuration: configuration, logger: logger)
            return ProxySQLAdminClient(session: session, name: name, statementTimeout: statementTimeout)
        } catch {
            throw ProxySQLAdminError(classifying: error, node: name ?? configuration.endpoint.description)
        }
    }

    /// Closes the connection opened by ``connect(configuration:name:statementTimeout:logger:)``; does nothing for
    /// a client created over a session it does not own.
    public func close() async {
        await ownedSession?.close()
    }

    // MARK: Sending

    /// Sends `statement` after checking the dialect; classifies failures as ``ProxySQLAdminError``.
    @discardableResult
    func execute(_ statement: SQLStatement, logger: Logger) async throws -> SQLResult {
        let dialect = await session.dialect
        guard dialect == .proxySQLAdmin else {
            throw ProxySQLAdminError(
                code: .wrongDialect,
                node: nodeName,
                message: "the session quotes literals for \(dialect), not for the ProxySQL admin interface",
                statement: statement.redacted
            )
        }
        logger.trace(
            "proxysql admin statement",
            metadata: ["proxysql.node": "\(nodeName)", "proxysql.statement": "\(statement.redacted)"]
        )
        do {
            return try await session.execute(statement, timeout: statementTimeout)
        } catch {
            let classified = ProxySQLAdminError(classifying: error, node: nodeName, statement: statement)
            logger.debug(
                "proxysql admin statement failed",
                metadata: ["proxysql.node": "\(nodeName)", "proxysql.error": "\(classified)"]
            )
            throw classified
        }
    }

    func rows(_ statement: SQLStatement, logger: Logger) async throws -> [Row] {
        try await execute(statement, logger: logger).rows
    }

    func decodeAll<T>(_ rows: [Row], statement: SQLStatement, _ decode: (Row) throws -> T) throws -> [T] {
        do {
            return try rows.map(decode)
        } catch {
            throw ProxySQLAdminError(classifying: error, node: nodeName, statement: statement)
        }
    }

    func invalid(_ problems: [String], _ what: String) -> ProxySQLAdminError {
        ProxySQLAdminError(
            code: .invalidArgument, node: nodeName, message: "invalid \(what)",
            detail: problems.joined(separator: "; "))
    }

    // MARK: Reading

    /// `SELECT @@version`, parsed.
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func version(logger: Logger) async throws -> ProxySQLVersion {
        let statement = ProxySQLAdminStatements.selectVersion
        guard let row = try await rows(statement, logger: logger).first, !row.isEmpty, let text = row[0].string else {
            throw ProxySQLAdminError(
                code: .unexpectedResult, node: nodeName, message: "SELECT @@version returned no value",
                statement: statement.redacted)
        }
        return ProxySQLVersion(versionString: text)
    }

    /// The `mysql_servers` rows of `layer` in `hostgroups` (every hostgroup when empty).
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func servers(in layer: ConfigurationLayer, hostgroups: Set<HostgroupID>, logger: Logger) async throws
        -> [BackendServer]
    {
        if let bad = hostgroups.first(where: { !$0.isValid }) {
            throw invalid(["hostgroup \(bad) is negative"], "hostgroup")
        }
        let statement = ProxySQLAdminStatements.selectServers(layer: layer, hostgroups: hostgroups)
        return try decodeAll(try await rows(statement, logger: logger), statement: statement, BackendServer.init(row:))
    }

    /// The `stats_mysql_connection_pool` row of `server`, nil when the server is not live (an `OFFLINE_HARD` server has
    /// none).
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func connectionPoolStats(for server: BackendServer.Key, logger: Logger) async throws -> ConnectionPoolStats?
    {
        let statement = ProxySQLAdminStatements.selectConnectionPool(for: server)
        let stats = try decodeAll(
            try await rows(statement, logger: logger), statement: statement,
            ConnectionPoolStats.init(row:))
        return stats.first
    }

    /// Every row of `stats_mysql_connection_pool`, optionally of one hostgroup.
    public func connectionPoolStats(hostgroup: HostgroupID? = nil, logger: Logger) async throws -> [ConnectionPoolStats]
    {
        let statement = ProxySQLAdminStatements.selectConnectionPool(hostgroup: hostgroup)
        return try decodeAll(
            try await rows(statement, logger: logger), statement: statement,
            ConnectionPoolStats.init(row:))
    }

    /// The `stats_mysql_processlist` sessions holding a backend connection to `endpoint` (in `hostgroup` when given).
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func processlist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID?, logger: Logger) async throws
        -> [ProcesslistEntry]
    {
        let statement = ProxySQLAdminStatements.selectProcesslist(attachedTo: endpoint, hostgroup: hostgroup)
        return try decodeAll(
            try await rows(statement, logger: logger), statement: statement,
            ProcesslistEntry.init(row:))
    }

    /// Every client session of `stats_mysql_processlist`, optionally of one hostgroup.
    public func processlist(hostgroup: HostgroupID? = nil, logger: Logger) async throws -> [ProcesslistEntry] {
        let statement = ProxySQLAdminStatements.selectProcesslist(hostgroup: hostgroup)
        return try decodeAll(
            try await rows(statement, logger: logger), statement: statement,
            ProcesslistEntry.init(row:))
    }

    /// One variable of `layer` (`global_variables` or `runtime_global_variables`).
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/notFound`` for an unknown name).
    public func variable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer, logger: Logger) async throws
        -> ProxySQLVariable
    {
        let statement = ProxySQLAdminStatements.selectVariable(name, layer: layer)
        let variables = try decodeAll(
            try await rows(statement, logger: logger), statement: statement,
            ProxySQLVariable.init(row:))
        guard let variable = variables.first else {
            throw ProxySQLAdminError(
                code: .notFound, node: nodeName, message: "no such variable", detail: name.rawValue,
                statement: statement.redacted)
        }
        return variable
    }

    /// Several variables at once (missing names are simply absent from the result), ordered by name.
    public func variables(_ names: [ProxySQLVariable.Name], layer: ConfigurationLayer = .configured, logger: Logger)
        async throws -> [ProxySQLVariable]
    {
        guard !names.isEmpty else { return [] }
        let statement = ProxySQLAdminStatements.selectVariables(names, layer: layer)
        return try decodeAll(
            try await rows(statement, logger: logger), statement: statement,
            ProxySQLVariable.init(row:))
    }

    /// The `mysql_replication_hostgroups` pairs of `layer`.
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func replicationHostgroupPairs(layer: ConfigurationLayer, logger: Logger) async throws
        -> [ReplicationHostgroupPair]
    {
        let statement = ProxySQLAdminStatements.selectReplicationHostgroups(layer: layer)
        return try decodeAll(
            try await rows(statement, logger: logger), statement: statement,
            ReplicationHostgroupPair.init(row:))
    }

    // MARK: Changing

    /// `INSERT INTO mysql_servers` (configured layer only; LOAD to apply).
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/constraintViolation`` for a duplicate key or a bad
    ///   value).
    public func addServer(_ server: BackendServer, logger: Logger) async throws {
        let problems = server.validationProblems
        guard problems.isEmpty else { throw invalid(problems, "server") }
        let statement = ProxySQLAdminStatements.insertServer(server)
        do {
            try await execute(statement, logger: logger)
        } catch var error as ProxySQLAdminError where error.isUniqueViolation {
            error.code = .alreadyExists
            error.message = "the server exists already"
            throw error
        }
        logger.debug("proxysql server added", metadata: serverMetadata(server.key, status: server.status))
    }

    /// `UPDATE mysql_servers` of the rows `selector` matches; returns how many changed.
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/notFound`` when nothing matches).
    @discardableResult
    public func updateServers(_ selector: ServerSelector, set change: ServerChange, logger: Logger) async throws
        -> UInt64
    {
        let problems = change.validationProblems + selectorProblems(selector)
        guard problems.isEmpty else { throw invalid(problems, "server change") }
        let statement = ProxySQLAdminStatements.updateServers(selector, set: change)
        let affected = try await execute(statement, logger: logger).affectedRows
        var metadata = selectorMetadata(selector)
        metadata["proxysql.change"] = "\(change)"
        metadata["proxysql.affected_rows"] = "\(affected)"
        guard affected > 0 else {
            logger.debug("proxysql server update matched nothing", metadata: metadata)
            throw ProxySQLAdminError(
                code: .notFound, node: nodeName, message: "no server matched",
                detail: "\(selector)", statement: statement.redacted)
        }
        logger.debug("proxysql servers updated", metadata: metadata)
        return affected
    }

    /// `DELETE FROM mysql_servers` of the rows `selector` matches; returns how many.
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/notFound`` when nothing matches).
    @discardableResult
    public func removeServers(_ selector: ServerSelector, logger: Logger) async throws -> UInt64 {
        let problems = selectorProblems(selector)
        guard problems.isEmpty else { throw invalid(problems, "server selector") }
        let statement = ProxySQLAdminStatements.deleteServers(selector)
        let affected = try await execute(statement, logger: logger).affectedRows
        var metadata = selectorMetadata(selector)
        metadata["proxysql.affected_rows"] = "\(affected)"
        guard affected > 0 else {
            throw ProxySQLAdminError(
                code: .notFound, node: nodeName, message: "no server matched",
                detail: "\(selector)", statement: statement.redacted)
        }
        logger.debug("proxysql servers removed", metadata: metadata)
        return affected
    }

    /// `LOAD MYSQL SERVERS TO RUNTIME`.
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func loadServersToRuntime(logger: Logger) async throws {
        try await execute(ProxySQLAdminStatements.loadServersToRuntime, logger: logger)
        logger.debug("proxysql servers loaded to runtime", metadata: ["proxysql.node": "\(nodeName)"])
    }

    /// `SAVE MYSQL SERVERS TO DISK`.
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func saveServersToDisk(logger: Logger) async throws {
        try await execute(ProxySQLAdminStatements.saveServersToDisk, logger: logger)
        logger.debug("proxysql servers saved to disk", metadata: ["proxysql.node": "\(nodeName)"])
    }

    /// `KILL CONNECTION <SessionID>` on the admin interface: ends the client session and its backend connection.
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func killSession(_ session: ProxySQLSessionID, logger: Logger) async throws {
        let statement = ProxySQLAdminStatements.killConnection(session)
        do {
            try await execute(statement, logger: logger)
        } catch var error as ProxySQLAdminError where error.adminMessage?.hasPrefix("Unknown thread id") ?? false {
            error.code = .notFound
            error.message = "no such session"
            throw error
        }
        logger.debug(
            "proxysql session killed",
            metadata: ["proxysql.node": "\(nodeName)", "proxysql.session_id": "\(session)"]
        )
    }

    /// `UPDATE global_variables` (LOAD to apply).
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/notFound`` for an unknown name).
    public func setVariable(_ name: ProxySQLVariable.Name, to value: String, logger: Logger) async throws {
        let statement = ProxySQLAdminStatements.updateVariable(name, to: value)
        let affected = try await execute(statement, logger: logger).affectedRows
        guard affected > 0 else {
            throw ProxySQLAdminError(
                code: .notFound, node: nodeName, message: "no such variable", detail: name.rawValue,
                statement: statement.redacted)
        }
        logger.debug(
            "proxysql variable set",
            metadata: ["proxysql.node": "\(nodeName)", "proxysql.variable": "\(name)", "proxysql.value": "\(value)"]
        )
    }

    /// `LOAD MYSQL VARIABLES TO RUNTIME`.
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func loadVariablesToRuntime(logger: Logger) async throws {
        try await execute(ProxySQLAdminStatements.loadVariablesToRuntime, logger: logger)
        logger.debug("proxysql variables loaded to runtime", metadata: ["proxysql.node": "\(nodeName)"])
    }

    /// `SAVE MYSQL VARIABLES TO DISK`.
    ///
    /// - Throws: ``ProxySQLAdminError``.
    public func saveVariablesToDisk(logger: Logger) async throws {
        try await execute(ProxySQLAdminStatements.saveVariablesToDisk, logger: logger)
        logger.debug("proxysql variables saved to disk", metadata: ["proxysql.node": "\(nodeName)"])
    }

    // MARK: Metadata

    func selectorProblems(_ selector: ServerSelector) -> [String] {
        switch selector {
        case .key(let key):
            key.hostgroup.isValid ? [] : ["hostgroup \(key.hostgroup) is negative"]
        case .hostgroup(let hostgroup):
            hostgroup.isValid ? [] : ["hostgroup \(hostgroup) is negative"]
        case .comment, .endpoint:
            []
        }
    }

    func serverMetadata(_ key: BackendServer.Key, status: BackendStatus?) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "proxysql.node": "\(nodeName)",
            "proxysql.hostgroup": "\(key.hostgroup)",
            "proxysql.server": "\(key.endpoint)",
        ]
        if let status { metadata["proxysql.status"] = "\(status)" }
        return metadata
    }

    func selectorMetadata(_ selector: ServerSelector) -> Logger.Metadata {
        switch selector {
        case .key(let key):
            return serverMetadata(key, status: nil)
        case .comment(let comment):
            return ["proxysql.node": "\(nodeName)", "proxysql.comment": "\(comment)"]
        case .endpoint(let endpoint):
            return ["proxysql.node": "\(nodeName)", "proxysql.server": "\(endpoint)"]
        case .hostgroup(let hostgroup):
            return ["proxysql.node": "\(nodeName)", "proxysql.hostgroup": "\(hostgroup)"]
        }
    }
}
