public import Logging
public import MariaDB

/// Read-only questions a preflight asks one database server, as a protocol so that upper layers (Cutover) can be
/// tested with fakes. ``ServerInspector`` is the real implementation.
///
/// No method changes anything on the server. Each throws `MariaDBError` (from the session, or with
/// `MariaDBError.Code.unexpectedResult` when the answer has an unexpected shape).
public protocol ServerInspecting: Sendable {
    /// The server's name in messages (`source (10.0.0.5:3306)`); never includes credentials.
    var name: String { get }

    /// `@@version`, `@@version_comment`, and `@@aurora_version` where it exists.
    func identity(logger: Logger) async throws -> ServerInspection.Identity

    /// `character_set_server` and `collation_server`.
    func characterSettings(logger: Logger) async throws -> ServerInspection.CharacterSettings

    /// The schemas other than the system ones, with their default character set and collation, by name.
    func schemas(logger: Logger) async throws -> [ServerInspection.Schema]

    /// The number of rows of `mysql.time_zone_name` (0: named time zones are not loaded, `CONVERT_TZ` with a
    /// zone name returns NULL).
    func timeZoneCount(logger: Logger) async throws -> Int

    /// Binary-log and GTID settings.
    func binlogSettings(logger: Logger) async throws -> ServerInspection.BinlogSettings

    /// The names of the `mysql.rds*` procedures the account can see, lower-cased and sorted (empty on a server
    /// that is not RDS or Aurora).
    func rdsProcedureNames(logger: Logger) async throws -> [String]

    /// The rows of `CALL mysql.rds_show_configuration`, or nil when the procedure does not exist (error 1305).
    func rdsConfiguration(logger: Logger) async throws -> [ServerInspection.ConfigurationEntry]?

    /// The accounts of `mysql.user` (only those of `users` when given), ordered by user and host.
    func accounts(users: [String]?, logger: Logger) async throws -> [ServerInspection.Account]

    /// The parsed lines of `SHOW GRANTS FOR account` (role grants and unparsable lines left out).
    func grants(for account: ServerInspection.Account, logger: Logger) async throws -> [ServerInspection.Grant]

    /// Transactions of other connections that modified or locked rows and have been open at least `limit`
    /// (rounded up to whole seconds: `trx_started` has one-second resolution), oldest first.
    func openWriteTransactions(olderThan limit: Duration, logger: Logger) async throws
        -> [ServerInspection.OpenWriteTransaction]

    /// `read_only`, `super_read_only`, `innodb_read_only`.
    func readOnlyState(logger: Logger) async throws -> ServerInspection.ReadOnlyState
}

/// ``ServerInspecting`` over a `SQLSession` (a `MariaDBConnection` in production, a scripted fake in tests).
///
/// ```swift
/// let inspector = ServerInspector(session: connection, name: "target")
/// let identity = try await inspector.identity(logger: logger)
/// let configuration = try await inspector.rdsConfiguration(logger: logger)  // nil: not RDS or Aurora
/// ```
///
/// Every statement (see ``ServerInspection/Statements``) is read-only, bounded by ``statementTimeout`` and logged
/// at `trace` with literals redacted.
public struct ServerInspector: ServerInspecting {
    /// The session statements go to.
    public let session: any SQLSession
    /// The server's name in messages.
    public let name: String
    /// The deadline of each statement (nil: the connection's own timeouts only).
    public let statementTimeout: Duration?

    /// Creates an inspector.
    ///
    /// - Parameters:
    ///   - session: an open session to the server, as an account that can read `mysql.user`,
    ///     `information_schema` and the process list (`PROCESS`).
    ///   - name: the server's name in messages; defaults to the session's endpoint.
    ///   - statementTimeout: the deadline of each statement.
    public init(session: any SQLSession, name: String? = nil, statementTimeout: Duration? = .seconds(10)) {
        self.session = session
        self.name = name ?? session.endpointDescription
        self.statementTimeout = statementTimeout
    }

    private typealias Statements = ServerInspection.Statements

    private func rows(_ statement: SQLStatement, logger: Logger) async throws -> [Row] {
        try await execute(statement, logger: logger).rows
    }

    private func execute(_ statement: SQLStatement, logger: Logger) async throws -> SQLResult {
        logger.trace(
            "server inspection statement",
            metadata: ["inspection.server": "\(name)", "inspection.statement": "\(statement.redacted)"]
        )
        return try await session.execute(statement, timeout: statementTimeout)
    }

    private func unexpected(_ message: String, _ statement: SQLStatement) -> MariaDBError {
        MariaDBError(
            code: .unexpectedResult,
            message: message,
            statement: statement.redacted,
            endpoint: session.endpointDescription
        )
    }

    private func firstRow(_ statement: SQLStatement, logger: Logger) async throws -> Row {
        guard let row = try await rows(statement, logger: logger).first else {
            throw unexpected("the statement returned no row", statement)
        }
        return row
    }

    /// Rows of `SHOW VARIABLES` as a name → value dictionary.
    private func variables(_ statement: SQLStatement, logger: Logger) async throws -> [String: String] {
        var values: [String: String] = [:]
        for row in try await rows(statement, logger: logger) {
            guard let name = row["Variable_name"]?.string, let value = row["Value"] else {
                throw unexpected("SHOW VARIABLES returned a row without Variable_name and Value", statement)
            }
            values[name.lowercased()] = value.string ?? ""
        }
        return values
    }

    /// Version, flavor and `@@server_id`-style identity of the server.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError`` when it cannot be read.
    public func identity(logger: Logger) async throws -> ServerInspection.Identity {
        let row = try await firstRow(Statements.selectVersion, logger: logger)
        guard let version = row["version"]?.string else {
            throw unexpected("@@version is missing or NULL", Statements.selectVersion)
        }
        let comment = row["version_comment"]?.string
        var auroraVersion: String?
        do {
            auroraVersion = try await firstRow(Statements.selectAuroraVersion, logger: logger)["aurora_version"]?.string
        } catch let error as MariaDBError where error.isUnknownVariable {
            auroraVersion = nil
        }
        return ServerInspection.Identity(versionString: version, versionComment: comment, auroraVersion: auroraVersion)
    }

    /// `character_set_server` and `collation_server`.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError``.
    public func characterSettings(logger: Logger) async throws -> ServerInspection.CharacterSettings {
        let statement = Statements.selectCharacterSettings
        let row = try await firstRow(statement, logger: logger)
        guard let characterSet = row["character_set_server"]?.string, let collation = row["collation_server"]?.string
        else {
            throw unexpected("character_set_server or collation_server is missing", statement)
        }
        return ServerInspection.CharacterSettings(characterSet: characterSet, collation: collation)
    }

    /// Every schema but the system ones, with its default character set and collation.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError``.
    public func schemas(logger: Logger) async throws -> [ServerInspection.Schema] {
        let statement = Statements.selectSchemas
        return try await rows(statement, logger: logger).map { row in
            guard let name = row["schema_name"]?.string, let characterSet = row["character_set"]?.string,
                let collation = row["collation_name"]?.string
            else {
                throw unexpected("a schema row lacks its name, character set or collation", statement)
            }
            return ServerInspection.Schema(name: name, characterSet: characterSet, collation: collation)
        }
    }

    /// The number of rows of `mysql.time_zone_name`.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError``.
    public func timeZoneCount(logger: Logger) async throws -> Int {
        let statement = Statements.countTimeZones
        guard let count = try await firstRow(statement, logger: logger)["zones"]?.int else {
            throw unexpected("COUNT(*) is not a number", statement)
        }
        return count
    }

    /// The binary-log and GTID variables a migration depends on.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError``.
    public func binlogSettings(logger: Logger) async throws -> ServerInspection.BinlogSettings {
        ServerInspection.BinlogSettings(variables: try await variables(Statements.showBinlogVariables, logger: logger))
    }

    /// The `rds_*` procedures of schema `mysql` this account can see.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError``.
    public func rdsProcedureNames(logger: Logger) async throws -> [String] {
        let statement = Statements.selectRDSProcedures
        let names = try await rows(statement, logger: logger).map { row in
            guard let name = row["routine_name"]?.string else { throw unexpected("ROUTINE_NAME is missing", statement) }
            return name.lowercased()
        }
        return names.filter { $0.hasPrefix("rds_") }.sorted()
    }

    /// The rows of `CALL mysql.rds_show_configuration`, or nil when the procedure does not exist.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError`` for any other failure.
    public func rdsConfiguration(logger: Logger) async throws -> [ServerInspection.ConfigurationEntry]? {
        let statement = Statements.showRDSConfiguration
        let result: SQLResult
        do {
            result = try await execute(statement, logger: logger)
        } catch MariaDBError.ServerCode.unknownProcedure {
            return nil
        }
        // The procedure answers with one result set (name, value, description); a CALL adds an empty OK after it.
        guard let resultSet = result.resultSets.first(where: { $0.columnIndex(named: "name") != nil }) else {
            if result.resultSets.isEmpty { return [] }
            throw unexpected("rds_show_configuration returned no name column", statement)
        }
        return try resultSet.rows.map { row in
            guard let name = row["name"]?.string else { throw unexpected("a configuration row has no name", statement) }
            return ServerInspection.ConfigurationEntry(
                name: name,
                value: row["value"]?.string,
                explanation: row["description"]?.string
            )
        }
    }

    /// The accounts (user and host) of `users`, or every account when nil.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError``.
    public func accounts(users: [String]?, logger: Logger) async throws -> [ServerInspection.Account] {
        if let users, users.isEmpty { return [] }
        let statement = Statements.selectAccounts(users: users)
        return try await rows(statement, logger: logger).map { row in
            guard let user = row["user"]?.string, let host = row["host"]?.string else {
                throw unexpected("an account row lacks its user or host", statement)
            }
            return ServerInspection.Account(user: user, host: host)
        }
    }

    /// The grants of `account` (`SHOW GRANTS FOR`), parsed.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError``.
    public func grants(for account: ServerInspection.Account, logger: Logger) async throws -> [ServerInspection.Grant] {
        try await rows(Statements.showGrants(for: account), logger: logger).compactMap { row in
            guard !row.isEmpty, let line = row[0].string else { return nil }
            return ServerInspection.Grant(parsing: line)
        }
    }

    /// Open transactions that changed rows or hold locks, older than `limit` (rounded up to whole seconds).
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError`` (the account needs `PROCESS`).
    public func openWriteTransactions(olderThan limit: Duration, logger: Logger) async throws
        -> [ServerInspection.OpenWriteTransaction]
    {
        let statement = Statements.selectOpenWriteTransactions(olderThanSeconds: Self.wholeSecondsRoundedUp(limit))
        return try await rows(statement, logger: logger).map { row in
            guard let connectionID = row["connection_id"]?.uint64 else {
                throw unexpected("trx_mysql_thread_id is not a number", statement)
            }
            return ServerInspection.OpenWriteTransaction(
                connectionID: connectionID,
                user: row["user"]?.string,
                clientHost: row["client_host"]?.string,
                database: row["db"]?.string,
                command: row["command"]?.string,
                seconds: row["seconds"]?.int ?? 0,
                rowsModified: row["rows_modified"]?.uint64 ?? 0,
                lockStructs: row["lock_structs"]?.uint64 ?? 0,
                state: row["state"]?.string ?? ""
            )
        }
    }

    /// `read_only`, `super_read_only` and `innodb_read_only`.
    ///
    /// - Throws: `MariaDBError` or ``ReplicationError``.
    public func readOnlyState(logger: Logger) async throws -> ServerInspection.ReadOnlyState {
        let statement = Statements.showReadOnlyVariables
        let values = try await variables(statement, logger: logger)
        func flag(_ name: String) -> Bool? { values[name].flatMap { SQLValue($0).bool } }
        guard let readOnly = flag("read_only") else { throw unexpected("read_only is missing", statement) }
        return ServerInspection.ReadOnlyState(
            readOnly: readOnly,
            superReadOnly: flag("super_read_only"),
            innodbReadOnly: flag("innodb_read_only")
        )
    }

    /// `limit` in whole seconds, rounded up (0 for zero or negative).
    static func wholeSecondsRoundedUp(_ limit: Duration) -> Int {
        let (seconds, attoseconds) = limit.components
        if seconds < 0 { return 0 }
        return Int(seconds) + (attoseconds > 0 ? 1 : 0)
    }
}
