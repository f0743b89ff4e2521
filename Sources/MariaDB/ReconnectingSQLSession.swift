public import Logging

/// An ``SQLSession`` over a ``MariaDBConnection`` that survives a dropped connection: when the connection turns
/// out to be lost, it opens a new one (bounded by the configuration's connect timeout) and sends the statement that
/// found it lost **once more** on the new connection. A connection left unusable by an earlier failure (an
/// interrupted statement, a client-library error) is replaced before the next statement, which is sent once.
///
/// Re-sending is only safe where every statement is idempotent: a statement whose reply was lost may have run.
/// That holds for the ProxySQL admin interface as the cut-over uses it (`UPDATE mysql_servers SET status = ...`,
/// `LOAD ... TO RUNTIME`, `SAVE ... TO DISK`, `SELECT`, `SET` of a variable, and `KILL CONNECTION`, which at worst
/// answers "unknown thread" the second time), so ``ProxySQLAdminClient`` uses it for the connections it opens.
/// Do not use it for application writes.
///
/// ```swift
/// let session = try await ReconnectingSQLSession.connect(configuration: adminConfiguration, logger: logger)
/// try await session.run("LOAD MYSQL SERVERS TO RUNTIME")   // re-sent once if the admin connection was dropped
/// ```
public actor ReconnectingSQLSession: SQLSession {
    /// The configuration every connection is opened with.
    public nonisolated let configuration: MariaDBConnection.Configuration
    /// `host:port` of the server, for messages (never credentials).
    public nonisolated let endpointDescription: String

    private var connection: MariaDBConnection?
    private var closed = false
    private let logger: Logger
    /// How many times a lost connection was replaced.
    public private(set) var reconnections = 0

    /// Wraps an open connection; later connections use its configuration.
    public init(
        connection: MariaDBConnection,
        logger: Logger = Logger(label: "mariadb", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = connection.configuration
        self.endpointDescription = connection.endpointDescription
        self.connection = connection
        self.logger = logger
    }

    /// Opens the first connection.
    ///
    /// - Throws: ``MariaDBError`` as ``MariaDBConnection/connect(configuration:logger:)`` does.
    public static func connect(
        configuration: MariaDBConnection.Configuration,
        logger: Logger = Logger(label: "mariadb", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> ReconnectingSQLSession {
        ReconnectingSQLSession(
            connection: try await MariaDBConnection.connect(configuration: configuration, logger: logger),
            logger: logger
        )
    }

    /// The current connection's quoting, or the configuration's when no connection is open.
    public var dialect: SQLDialect {
        get async {
            if let connection { return await connection.dialect }
            return configuration.quoting == .proxySQLAdmin ? .proxySQLAdmin : .mysql(noBackslashEscapes: false)
        }
    }

    /// Sends `statement`; when the connection is found lost, reconnects and sends it once more.
    ///
    /// - Throws: ``MariaDBError``: the statement's own error, or the reconnection's
    ///   (``MariaDBError/Code/connectionFailed``, an access denial), or ``MariaDBError/Code/connectionClosed`` after
    ///   ``close()``.
    public func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        let current = try await usableConnection(for: statement)
        do {
            return try await current.execute(statement, timeout: timeout)
        } catch let error as MariaDBError where error.code == .connectionLost || error.code == .connectionClosed {
            guard !closed else { throw error }
            logger.debug(
                "connection lost; reconnecting and sending the statement once more",
                metadata: ["mariadb.endpoint": "\(endpointDescription)", "mariadb.error": "\(error)"]
            )
            let fresh = try await replace(current)
            return try await fresh.execute(statement, timeout: timeout)
        }
    }

    /// Closes the current connection; later calls throw ``MariaDBError/Code/connectionClosed``.
    public func close() async {
        closed = true
        await connection?.close()
        connection = nil
    }

    private func usableConnection(for statement: SQLStatement) async throws -> MariaDBConnection {
        guard !closed else {
            throw MariaDBError(
                code: .connectionClosed,
                message: "the session was closed",
                statement: statement.redacted,
                endpoint: endpointDescription
            )
        }
        if let connection, await connection.isUsable { return connection }
        return try await replace(connection)
    }

    /// Opens a new connection in place of `broken`, unless another call already did.
    private func replace(_ broken: MariaDBConnection?) async throws -> MariaDBConnection {
        if let connection, connection !== broken, await connection.isUsable { return connection }
        await broken?.close()
        let fresh = try await MariaDBConnection.connect(configuration: configuration, logger: logger)
        if closed {
            await fresh.close()
            throw MariaDBError(
                code: .connectionClosed, message: "the session was closed", endpoint: endpointDescription)
        }
        connection = fresh
        reconnections += 1
        logger.debug(
            "reconnected",
            metadata: ["mariadb.endpoint": "\(endpointDescription)", "mariadb.connection_id": "\(fresh.connectionID)"])
        return fresh
    }
}
