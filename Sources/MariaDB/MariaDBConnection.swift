internal import CMariaDB
import Dispatch
public import Logging
import Synchronization

/// One connection to a MySQL-protocol server (MariaDB, MySQL, Aurora, ProxySQL), over libmariadb.
///
/// Every C call for the connection runs on the connection's own serial dispatch queue: a slow query blocks that
/// queue, never Swift's cooperative thread pool. A lost connection is never silently re-established: it surfaces
/// as ``MariaDBError/Code/connectionLost`` and the connection stays unusable.
///
/// Cancelling the task of a running ``execute(_:timeout:)``, or passing its `timeout`, interrupts the statement
/// on the server with `KILL QUERY` sent over a short-lived side connection; if the server does not answer that
/// within a second, the socket is shut down with `mariadb_cancel` and the connection becomes unusable.
public actor MariaDBConnection: SQLSession {
    private let executor: DispatchQueueExecutor
    /// The serial dispatch-queue executor every C call of this connection runs on.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The configuration this connection was opened with.
    public nonisolated let configuration: Configuration
    /// What the server announced in its handshake.
    public nonisolated let identity: ServerIdentity
    /// The server's id for this connection (`CONNECTION_ID()`).
    public nonisolated let connectionID: UInt64
    /// `host:port` (or the socket path), for messages.
    public nonisolated let endpointDescription: String

    private let handle: Handle
    private var usable = true
    private var noBackslashEscapes: Bool
    private let logger: Logger

    /// Owns the `MYSQL*`; closes it when the last reference goes away.
    final class Handle: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<MYSQL>
        private let closed = Mutex(false)

        init(pointer: UnsafeMutablePointer<MYSQL>) { self.pointer = pointer }

        func close() {
            let wasClosed = closed.withLock { value in
                defer { value = true }
                return value
            }
            if !wasClosed { mysql_close(pointer) }
        }

        deinit { close() }
    }

    /// Calls `mysql_server_init` once per process, before the first `mysql_init`.
    static let libraryInitialized: Bool = {
        mysql_server_init(0, nil, nil) == 0
    }()

    private init(
        executor: DispatchQueueExecutor,
        configuration: Configuration,
        handle: Handle,
        identity: ServerIdentity,
        connectionID: UInt64,
        noBackslashEscapes: Bool,
        logger: Logger
    ) {
        self.executor = executor
        self.configuration = configuration
        self.handle = handle
        self.identity = identity
        self.connectionID = connectionID
        self.endpointDescription = configuration.endpoint.description
        self.noBackslashEscapes = noBackslashEscapes
        var logger = logger
        logger[metadataKey: "mariadb.connection_id"] = "\(connectionID)"
        logger[metadataKey: "mariadb.endpoint"] = "\(configuration.endpoint)"
        self.logger = logger
    }

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - configuration: where and as whom to connect; checked with ``Configuration/validate()`` first.
    ///   - logger: receives `trace` records of statements (literals redacted) and `debug` records of the session.
    /// - Throws: ``MariaDBError``: ``MariaDBError/Code/invalidConfiguration`` for a bad field,
    ///   ``MariaDBError/Code/connectionFailed`` when the server cannot be reached or refuses the login
    ///   (``MariaDBError/isAccessDenied`` tells a wrong password), within ``Configuration/connectTimeout``.
    public static func connect(
        configuration: Configuration,
        logger: Logger = Logger(label: "mariadb", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> MariaDBConnection {
        try configuration.validate()
        let executor = DispatchQueueExecutor(label: "mariadb.connection")
        let opened: (Handle, UInt64, String, Bool) = try await withCheckedThrowingContinuation { continuation in
            executor.queue.async {
                continuation.resume(with: Result { try Self.open(configuration) })
            }
        }
        let (handle, connectionID, versionString, noBackslashEscapes) = opened
        let connection = MariaDBConnection(
            executor: executor,
            configuration: configuration,
            handle: handle,
            // ProxySQL's admin interface announces a MySQL version (`mysql-server_version`), not itself.
            identity: ServerIdentity.parse(
                versionString: versionString,
                versionComment: configuration.quoting == .proxySQLAdmin ? "ProxySQL Admin Module" : nil
            ),
            connectionID: connectionID,
            noBackslashEscapes: noBackslashEscapes,
            logger: logger
        )
        logger.debug(
            "connected",
            metadata: [
                "mariadb.connection_id": "\(connectionID)", "mariadb.endpoint": "\(configuration.endpoint)",
                "mariadb.server": "\(versionString)",
            ]
        )
        return connection
    }

    /// Runs on the connection's queue: `mysql_init`, options, `mysql_real_connect`.
    private static func open(_ configuration: Configuration) throws -> (Handle, UInt64, String, Bool) {
        precondition(libraryInitialized, "mysql_server_init failed")
        guard let pointer = mysql_init(nil) else {
            throw MariaDBError(code: .clientLibrary, message: "mysql_init failed (out of memory)")
        }
        let handle = Handle(pointer: pointer)
        let endpoint = configuration.endpoint.description

        func check(_ result: Int32, _ what: String) throws {
            if result != 0 {
                throw MariaDBError(
                    code: .invalidConfiguration,
                    message: "libmariadb refused option \(what)",
                    endpoint: endpoint
                )
            }
        }

        try check(
            cmariadb_set_uint_option(pointer, MYSQL_OPT_CONNECT_TIMEOUT, configuration.connectTimeout.wholeSecondsRoundedUp),
            "connect timeout"
        )
        if let readTimeout = configuration.readTimeout {
            try check(cmariadb_set_uint_option(pointer, MYSQL_OPT_READ_TIMEOUT, readTimeout.wholeSecondsRoundedUp), "read timeout")
        }
        if let writeTimeout = configuration.writeTimeout {
            try check(cmariadb_set_uint_option(pointer, MYSQL_OPT_WRITE_TIMEOUT, writeTimeout.wholeSecondsRoundedUp), "write timeout")
        }
        try check(cmariadb_set_bool_option(pointer, MYSQL_OPT_RECONNECT, 0), "reconnect")
        try check(cmariadb_set_string_option(pointer, MYSQL_SET_CHARSET_NAME, configuration.characterSet), "character set")
        if let programName = configuration.programName {
            try check(cmariadb_set_connect_attribute(pointer, "program_name", programName), "program name")
        }
        if let optionFile = configuration.optionFile {
            try check(cmariadb_set_string_option(pointer, MYSQL_READ_DEFAULT_FILE, optionFile.path), "option file")
            try check(
                cmariadb_set_string_option(pointer, MYSQL_READ_DEFAULT_GROUP, optionFile.group ?? "client"),
                "option group"
            )
        }
        if let tls = configuration.tls {
            if let ca = tls.certificateAuthorityFile {
                try check(cmariadb_set_string_option(pointer, MYSQL_OPT_SSL_CA, ca), "TLS CA file")
            }
            if let cert = tls.certificateFile {
                try check(cmariadb_set_string_option(pointer, MYSQL_OPT_SSL_CERT, cert), "TLS certificate file")
            }
            if let key = tls.keyFile {
                try check(cmariadb_set_string_option(pointer, MYSQL_OPT_SSL_KEY, key), "TLS key file")
            }
            try check(cmariadb_set_bool_option(pointer, MYSQL_OPT_SSL_ENFORCE, 1), "TLS enforce")
            try check(
                cmariadb_set_bool_option(pointer, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, tls.verifyServerCertificate ? 1 : 0),
                "TLS verify server certificate"
            )
        }

        let host: String?
        let port: UInt32
        let socket: String?
        switch configuration.endpoint {
        case .tcp(let tcpHost, let tcpPort):
            host = tcpHost
            port = UInt32(tcpPort)
            socket = nil
            // Force TCP even for "localhost" so that the port is honoured.
            var protocolValue = UInt32(MYSQL_PROTOCOL_TCP.rawValue)
            _ = mysql_optionsv_uint_pointer(pointer, &protocolValue)
        case .unixSocket(let path):
            host = "localhost"
            port = 0
            socket = path
        }
        // Pass a password (possibly empty) unless the option file provides one, so that libmariadb never falls
        // back to MYSQL_PWD.
        let connected = mysql_real_connect(
            pointer,
            host,
            configuration.user,
            configuration.passwordForConnect(),
            configuration.database,
            port,
            socket,
            cmariadb_client_flags()
        )
        if connected == nil {
            let number = mysql_errno(pointer)
            throw MariaDBError(
                code: .connectionFailed,
                serverErrorNumber: number,
                sqlState: String(cString: mysql_sqlstate(pointer)),
                message: String(cString: mysql_error(pointer)),
                endpoint: endpoint
            )
        }
        let connectionID = UInt64(mysql_thread_id(pointer))
        let version = String(cString: mysql_get_server_info(pointer))
        let noBackslashEscapes = (cmariadb_server_status(pointer) & cmariadb_status_no_backslash_escapes()) != 0
        return (handle, connectionID, version, noBackslashEscapes)
    }

    /// How literals are quoted on this connection right now.
    public var dialect: SQLDialect {
        switch configuration.quoting {
        case .server: .mysql(noBackslashEscapes: noBackslashEscapes)
        case .proxySQLAdmin: .proxySQLAdmin
        }
    }

    /// Whether the connection can still be used (not closed, not lost, not broken by a cancellation).
    public var isUsable: Bool { usable }

    /// Sends `statement` and returns every result set it produced and the final status.
    ///
    /// - Parameters:
    ///   - statement: rendered for ``dialect``.
    ///   - timeout: when it passes, the statement is interrupted on the server and the call throws
    ///     ``MariaDBError/Code/deadlineExceeded``.
    /// - Throws: ``MariaDBError``: ``MariaDBError/Code/server`` for a server error,
    ///   ``MariaDBError/Code/connectionLost`` when the connection broke, ``MariaDBError/Code/cancelled`` when
    ///   the task was cancelled, ``MariaDBError/Code/deadlineExceeded``, ``MariaDBError/Code/connectionClosed``
    ///   on a closed or unusable connection.
    public func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        guard usable else {
            throw MariaDBError(
                code: .connectionClosed,
                message: "connection is closed or was lost; open a new one",
                statement: statement.redacted,
                endpoint: endpointDescription
            )
        }
        if Task.isCancelled {
            throw MariaDBError(code: .cancelled, statement: statement.redacted, endpoint: endpointDescription)
        }
        let sql = statement.rendered(for: dialect)
        logger.trace("statement", metadata: ["mariadb.statement": "\(statement.redacted)"])
        let interrupter = QueryInterrupter(
            configuration: configuration,
            connectionID: connectionID,
            handle: handle
        )
        if let timeout { interrupter.schedule(after: timeout) }
        return try await withTaskCancellationHandler {
            try runOnQueue(sql, statement: statement, interrupter: interrupter)
        } onCancel: {
            interrupter.fire(.cancelled)
        }
    }

    /// Sends `SELECT`-free `mysql_ping`: checks that the server answers.
    ///
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/connectionLost`` when it does not).
    public func ping() async throws {
        guard usable else {
            throw MariaDBError(code: .connectionClosed, message: "connection is closed or was lost", endpoint: endpointDescription)
        }
        if mysql_ping(handle.pointer) != 0 {
            let error = currentError(statement: nil)
            usable = false
            throw MariaDBError(
                code: .connectionLost,
                serverErrorNumber: error.serverErrorNumber,
                sqlState: error.sqlState,
                message: error.message,
                endpoint: endpointDescription
            )
        }
    }

    /// Closes the connection. Further calls throw ``MariaDBError/Code/connectionClosed``.
    public func close() {
        usable = false
        handle.close()
    }

    // MARK: Private

    private func runOnQueue(_ sql: String, statement: SQLStatement, interrupter: QueryInterrupter) throws -> SQLResult {
        interrupter.started()
        var outcome: Result<SQLResult, MariaDBError>
        do {
            outcome = .success(try performQuery(sql, statement: statement))
        } catch let error as MariaDBError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(MariaDBError(code: .clientLibrary, underlying: error))
        }
        let interruption = interrupter.finished()
        if interruption.socketCancelled { usable = false }
        if usable {
            // Track NO_BACKSLASH_ESCAPES after every statement, failed ones included (an error can follow a
            // `SET sql_mode` inside the same CALL).
            noBackslashEscapes = (cmariadb_server_status(handle.pointer) & cmariadb_status_no_backslash_escapes()) != 0
        }
        if let reason = interruption.reason {
            // Whatever the server said, the caller asked to stop: report that (the statement may or may not have
            // taken effect if it was a write; the server error, if any, is kept as the underlying error).
            let underlying: (any Error)? = if case .failure(let error) = outcome { error } else { nil }
            throw MariaDBError(
                code: reason == .cancelled ? .cancelled : .deadlineExceeded,
                message: reason == .cancelled ? "task cancelled; statement interrupted" : "deadline passed; statement interrupted",
                statement: statement.redacted,
                endpoint: endpointDescription,
                underlying: underlying
            )
        }
        return try outcome.get()
    }

    private func performQuery(_ sql: String, statement: SQLStatement) throws -> SQLResult {
        let pointer = handle.pointer
        let status = sql.withCString { cString in
            mysql_real_query(pointer, cString, UInt(sql.utf8.count))
        }
        if status != 0 { throw failure(statement: statement) }

        var result = SQLResult()
        while true {
            if let stored = mysql_store_result(pointer) {
                result.resultSets.append(Self.read(stored))
                mysql_free_result(stored)
            } else if mysql_field_count(pointer) != 0 {
                throw failure(statement: statement)
            } else {
                let affected = mysql_affected_rows(pointer)
                result.affectedRows = affected == UInt64.max ? 0 : affected
            }
            result.lastInsertID = max(result.lastInsertID, mysql_insert_id(pointer))
            result.warningCount = mysql_warning_count(pointer)
            let next = mysql_next_result(pointer)
            if next == -1 { break }
            if next > 0 { throw failure(statement: statement) }
        }
        return result
    }

    private static func read(_ stored: UnsafeMutablePointer<MYSQL_RES>) -> ResultSet {
        let fieldCount = Int(mysql_num_fields(stored))
        var columns: [ColumnMetadata] = []
        columns.reserveCapacity(fieldCount)
        if let fields = mysql_fetch_fields(stored) {
            for index in 0..<fieldCount {
                let field = fields[index]
                columns.append(
                    ColumnMetadata(
                        name: field.name.map { String(cString: $0) } ?? "",
                        table: field.table.map { String(cString: $0) } ?? "",
                        type: ColumnType(rawValue: field.type.rawValue),
                        isBinary: field.charsetnr == 63
                    )
                )
            }
        }
        var builder = ResultSet.Builder(columns: columns, expectedRows: Int(mysql_num_rows(stored)))
        while let row = mysql_fetch_row(stored) {
            guard let lengths = mysql_fetch_lengths(stored) else { break }
            for index in 0..<fieldCount {
                if let cell = row[index] {
                    builder.append(UnsafeRawBufferPointer(start: cell, count: Int(lengths[index])))
                } else {
                    builder.append(nil as UnsafeRawBufferPointer?)
                }
            }
        }
        return builder.build()
    }

    private func currentError(statement: SQLStatement?) -> MariaDBError {
        let pointer = handle.pointer
        let number = mysql_errno(pointer)
        return MariaDBError(
            code: .server,
            serverErrorNumber: number,
            sqlState: String(cString: mysql_sqlstate(pointer)),
            message: String(cString: mysql_error(pointer)),
            statement: statement?.redacted,
            endpoint: endpointDescription
        )
    }

    /// The error of the last call; marks the connection unusable when the connection itself broke.
    private func failure(statement: SQLStatement) -> MariaDBError {
        var error = currentError(statement: statement)
        if let number = error.serverErrorNumber, MariaDBError.connectionLostNumbers.contains(number) {
            // The server is gone, killed this connection, timed it out or is shutting down.
            usable = false
            error.code = .connectionLost
        } else if let number = error.serverErrorNumber, (2000..<3000).contains(number) {
            // Other client-side errors: the protocol state is unknown. Never reuse the handle.
            usable = false
            error.code = .clientLibrary
        }
        return error
    }
}

private func mysql_optionsv_uint_pointer(_ pointer: UnsafeMutablePointer<MYSQL>, _ value: inout UInt32) -> Int32 {
    withUnsafePointer(to: &value) { mysql_options(pointer, MYSQL_OPT_PROTOCOL, $0) }
}
