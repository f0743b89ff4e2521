import Foundation
import Logging
import NIOCore

/// One client of a data-plane port: authenticates it, then runs its statements on backend connections of the
/// port's hostgroup (or of the hostgroup the query rules choose, on the application port), following ProxySQL's
/// multiplexing rules (see `Documentation/proxysql-emulator.md`).
struct DataSession {
    /// How the port a client connected to picks the hostgroup of its statements.
    enum Route: Sendable, Equatable {
        /// A test port: every statement goes to this hostgroup.
        case hostgroup(Int)
        /// The application port (`proxy_port` for the rules): the user's `default_hostgroup`, moved by
        /// `mysql_query_rules` and held by `transaction_persistent`.
        case queryRules(port: Int)
    }

    let dataPlane: DataPlane
    let route: Route
    let group: any EventLoopGroup
    let logger: Logger

    /// What the session itself remembers (the shared part lives in ``DataPlane/SessionRecord``).
    fileprivate struct Local {
        var id: UInt32
        var user: String
        var password: String
        var schema: String?
        var scramble: [UInt8]
        /// Tracked session variables, by name, in the order they were first set.
        var variables: [String: TrackedAssignment] = [:]
        var variableOrder: [String] = []
        var autocommit = true
        var pins: PinReasons = []
        var autoIncrementTokens = 0
        /// The hostgroup of the current (or last) statement.
        var hostgroup: Int
        /// Query-rule routing state (application port only).
        var routing: SessionRouting?
        /// ProxySQL's `last_insert_id`: the last AUTO_INCREMENT value a statement of the session generated.
        var lastInsertID: UInt64 = 0
        /// ProxySQL's `last_HG_affected_rows`: the hostgroup of the last statement that changed rows.
        var lastAffectedHostgroup: Int?

        var status: ServerStatus {
            var status: ServerStatus = autocommit ? .autocommit : []
            if pins.contains(.transaction) { status.insert(.inTransaction) }
            return status
        }
    }

    fileprivate struct Outcome {
        var packets: [MySQLPacket]
        var closeFrontend = false
    }

    func run(_ channel: FrontendChannel) async {
        let remote = channel.channel.remoteAddress
        let clientHost = remote?.ipAddress ?? ""
        let id = dataPlane.reserveSessionID()
        var registered = false
        do {
            try await channel.executeThenClose { inbound, outbound in
                var reader = PacketReader(inbound)
                var password = ""
                guard
                    let client = try await FrontendLogin.perform(
                        reader: &reader,
                        writer: outbound,
                        connectionID: id,
                        serverVersion: dataPlane.variables.serverVersion,
                        clientHost: clientHost,
                        okStatus: .autocommit,
                        password: { name in
                            guard let credentials = dataPlane.credentials(for: name), credentials.active else { return nil }
                            password = credentials.password
                            return credentials.password
                        }
                    )
                else { return }
                var routing: SessionRouting?
                let hostgroup: Int
                switch route {
                case .hostgroup(let fixed):
                    hostgroup = fixed
                case .queryRules:
                    let credentials = dataPlane.credentials(for: client.username)
                    let session = SessionRouting(
                        defaultHostgroup: credentials?.defaultHostgroup ?? 0,
                        transactionPersistent: credentials?.transactionPersistent ?? true)
                    routing = session
                    hostgroup = session.defaultHostgroup
                }
                guard
                    dataPlane.registerSession(
                        id: id,
                        user: client.username,
                        schema: client.database,
                        clientHost: clientHost,
                        clientPort: remote?.port ?? 0,
                        hostgroup: hostgroup,
                        frontend: channel.channel
                    )
                else { return }
                registered = true
                var local = Local(
                    id: id,
                    user: client.username,
                    password: password,
                    schema: client.database,
                    scramble: client.scramble,
                    hostgroup: hostgroup,
                    routing: routing
                )
                local.pins = dataPlane.session(id)?.pins ?? []
                var metadata = logger
                metadata[metadataKey: "proxysql.session_id"] = "\(id)"
                metadata[metadataKey: "proxysql.hostgroup"] = "\(hostgroup)"
                metadata.debug("session started")

                while let packet = try await reader.next() {
                    var payload = packet.payload
                    guard let command = payload.readInteger(as: UInt8.self) else { continue }
                    let outcome: Outcome
                    switch command {
                    case CommandByte.quit:
                        return
                    case CommandByte.query:
                        let sql = payload.readString(length: payload.readableBytes) ?? ""
                        dataPlane.beginCommand(id, info: sql)
                        let started = ContinuousClock.now
                        // One digest text per statement: the query rules, the LAST_INSERT_ID check and the stats read it.
                        let digestText = QueryDigest.text(of: sql)
                        outcome = await query(sql, digestText: digestText, local: &local)
                        dataPlane.endCommand(id)
                        dataPlane.recordDigest(
                            hostgroup: local.hostgroup, schema: local.schema, user: local.user, digestText: digestText,
                            duration: .now - started)
                    case CommandByte.ping:
                        outcome = Outcome(packets: [ok(local)])
                    case CommandByte.initDB:
                        let schema = payload.readString(length: payload.readableBytes) ?? ""
                        local.schema = schema
                        dataPlane.setSchema(id, schema: schema)
                        outcome = Outcome(packets: [ok(local)])
                    case CommandByte.resetConnection:
                        reset(&local)
                        outcome = Outcome(packets: [ok(local)])
                    case CommandByte.changeUser:
                        outcome = changeUser(payload, local: &local)
                    case CommandByte.stmtClose, CommandByte.stmtSendLongData:
                        continue  // no answer is expected
                    default:
                        outcome = Outcome(packets: [
                            MySQLPacket(
                                sequenceID: 1,
                                payload: MySQLPackets.error(
                                    code: 1047,
                                    sqlState: "08S01",
                                    message: "ProxySQLEmulator: \(CommandByte.name(command)) is not supported "
                                        + "(the emulator's data plane speaks the text protocol only)"
                                )
                            )
                        ])
                    }
                    if dataPlane.isKilled(id) { return }
                    try await outbound.writeAnswer(outcome.packets)
                    if outcome.closeFrontend { return }
                }
            }
        } catch {
            logger.debug("data connection ended", metadata: ["proxysql.session_id": "\(id)", "proxysql.error": "\(error)"])
        }
        if registered {
            dataPlane.unregisterSession(id, backendReusable: true)
        }
    }

    // MARK: Commands answered locally

    private func ok(_ local: Local) -> MySQLPacket {
        MySQLPacket(sequenceID: 1, payload: MySQLPackets.ok(status: local.status))
    }

    private func error(_ code: UInt16, _ sqlState: String, _ message: String) -> MySQLPacket {
        MySQLPacket(sequenceID: 1, payload: MySQLPackets.error(code: code, sqlState: sqlState, message: message))
    }

    /// COM_RESET_CONNECTION: every pin is released (the backend connection, which may hold a transaction or locks,
    /// is closed) and tracked variables go back to their defaults.
    private func reset(_ local: inout Local) {
        dataPlane.detachBackend(session: local.id, reusable: false)
        local.variables = [:]
        local.variableOrder = []
        local.autocommit = true
        local.pins = dataPlane.variables.multiplexing ? [] : [.noMultiplex]
        local.autoIncrementTokens = 0
        dataPlane.setPins(session: local.id, pins: local.pins, autoIncrementTokens: 0)
        if local.routing != nil {
            let credentials = dataPlane.credentials(for: local.user)
            local.routing = SessionRouting(
                defaultHostgroup: credentials?.defaultHostgroup ?? 0,
                transactionPersistent: credentials?.transactionPersistent ?? true)
        }
    }

    /// COM_CHANGE_USER: checked against the scramble of the greeting, then the session is reset as the new user.
    private func changeUser(_ payload: ByteBuffer, local: inout Local) -> Outcome {
        var buffer = payload
        guard let user = buffer.readNullTerminatedString(), let length = buffer.readInteger(as: UInt8.self),
            let token = buffer.readBytes(length: Int(length))
        else {
            return Outcome(packets: [error(1047, "08S01", "malformed COM_CHANGE_USER")], closeFrontend: true)
        }
        let schema = buffer.readNullTerminatedString()
        guard let credentials = dataPlane.credentials(for: user), credentials.active,
            NativePassword.verify(token: token, password: credentials.password, scramble: local.scramble)
        else {
            let message = "ProxySQL Error: Access denied for user '\(user)' (using password: \(token.isEmpty ? "NO" : "YES"))"
            return Outcome(packets: [error(1045, "28000", message)], closeFrontend: true)
        }
        local.user = user
        reset(&local)
        local.password = credentials.password
        dataPlane.setUser(local.id, user: user)
        if let schema, !schema.isEmpty {
            local.schema = schema
            dataPlane.setSchema(local.id, schema: schema)
        }
        return Outcome(packets: [ok(local)])
    }

    // MARK: COM_QUERY

    private func query(_ sql: String, digestText: String, local: inout Local) async -> Outcome {
        let variables = dataPlane.variables
        let analysis = StatementAnalyzer.analyze(sql, keepMultiplexingVariables: variables.keepMultiplexingVariables)
        switch analysis.kind {
        case .versionComment:
            return Outcome(
                packets: MySQLPackets.resultSet(columns: ["@@version_comment"], rows: [["(ProxySQL)"]], status: local.status)
            )
        case .use(let schema):
            local.schema = schema
            dataPlane.setSchema(local.id, schema: schema)
            return Outcome(packets: [ok(local)])
        case .trackedSet(let assignments):
            for assignment in assignments {
                if local.variables[assignment.name] == nil { local.variableOrder.append(assignment.name) }
                local.variables[assignment.name] = assignment
                if let autocommit = assignment.autocommit { local.autocommit = autocommit }
            }
            local.pins.formUnion(analysis.addsPins)
            local.pins.subtract(analysis.releasesPins)
            dataPlane.setPins(session: local.id, pins: local.pins)
            return Outcome(packets: [ok(local)])
        case .forwarded:
            if let answer = lastInsertIDAnswer(sql, digestText: digestText, local: local) { return answer }
            chooseHostgroup(for: sql, digestText: digestText, local: &local)
            return await forward(sql, analysis: analysis, variables: variables, local: &local)
        }
    }

    /// ProxySQL's LAST_INSERT_ID support (`MySQL_Session`, "#1421", 2.7.1): a statement whose digest names
    /// `LAST_INSERT_ID` or `@@IDENTITY` runs where the session's last write ran while the session still holds a
    /// connection there; otherwise the five simple forms (`SELECT LAST_INSERT_ID()`, `... FROM DUAL`, `... LIMIT 1`,
    /// `SELECT @@IDENTITY`, `... LIMIT 1`, exactly, any case) are answered by the proxy from the session's last
    /// insert id, without a backend. Any other form goes where routing sends it (and may read another connection's
    /// value, as on ProxySQL).
    private func lastInsertIDAnswer(_ sql: String, digestText: String, local: Local) -> Outcome? {
        // ProxySQL looks in the digest text, case-insensitively (`strcasestr`).
        guard digestText.range(of: "LAST_INSERT_ID", options: .caseInsensitive) != nil
            || digestText.range(of: "@@IDENTITY", options: .caseInsensitive) != nil
        else { return nil }
        if let hostgroup = local.lastAffectedHostgroup, dataPlane.backendHostgroup(of: local.id) == hostgroup {
            return nil
        }
        let column: String
        switch sql.uppercased() {
        case "SELECT LAST_INSERT_ID()", "SELECT LAST_INSERT_ID() FROM DUAL", "SELECT LAST_INSERT_ID() LIMIT 1":
            column = String(sql.dropFirst("SELECT ".count).prefix("LAST_INSERT_ID()".count))
        case "SELECT @@IDENTITY", "SELECT @@IDENTITY LIMIT 1":
            column = String(sql.dropFirst("SELECT ".count).prefix("@@IDENTITY".count))
        default:
            return nil
        }
        return Outcome(packets: MySQLPackets.resultSet(columns: [column], rows: [[String(local.lastInsertID)]], status: local.status))
    }

    /// On the application port: the hostgroup of the next statement, by ProxySQL's rules (see ``QueryRuleSet``
    /// and ``SessionRouting``). A session that holds a backend connection (a transaction, a lock, a variable that
    /// disables multiplexing, the auto-increment delay) stays on that connection's hostgroup: the emulator keeps one
    /// backend per session, where ProxySQL would open a second one in the other hostgroup for a session pinned by
    /// anything but a `transaction_persistent` transaction.
    private func chooseHostgroup(for sql: String, digestText: String, local: inout Local) {
        guard var routing = local.routing, case .queryRules(let port) = route else { return }
        let decision = dataPlane.queryRules.decide(
            sql: sql,
            digestText: digestText,
            client: QueryRuleClient(
                username: local.user, schema: local.schema, proxyPort: port, flagIN: routing.nextFlagIN ?? 0)
        )
        var hostgroup = routing.hostgroup(for: decision)
        if let pinned = dataPlane.backendHostgroup(of: local.id) { hostgroup = pinned }
        local.routing = routing
        if hostgroup != local.hostgroup {
            local.hostgroup = hostgroup
            dataPlane.setHostgroup(local.id, hostgroup: hostgroup)
        }
    }

    private func forward(
        _ sql: String,
        analysis: StatementAnalysis,
        variables: RuntimeVariables,
        local: inout Local
    ) async -> Outcome {
        var retriesLeft = variables.queryRetriesOnFailure
        var connectRetriesLeft = variables.connectRetriesOnFailure
        // ProxySQL 2.7.1 (`MySQL_Session::handler`, PROCESSING_QUERY) sets the session's `max_connect_time` to now +
        // `mysql-connect_timeout_server_max` when the statement starts looking for a backend, and clears it once it
        // has one: the clock runs from the statement's start (again from a re-send's), not from a first failure.
        // The 9001's "after N ms" counts from the statement's start (`CurrentQuery.start_time`).
        let statementStarted = ContinuousClock.now
        var waitStarted: ContinuousClock.Instant?
        let maximumWait = Duration.milliseconds(variables.connectTimeoutServerMax)
        let hostgroup = local.hostgroup
        let metadata: Logger.Metadata = ["proxysql.session_id": "\(local.id)", "proxysql.hostgroup": "\(hostgroup)"]

        while true {
            let started = waitStarted ?? .now
            waitStarted = started
            let deadline = started + maximumWait
            // `handler_again___status_CONNECTING_SERVER` checks `max_connect_time` first, at every turn (after a
            // failed connect's `connect_retries_delay`, at each re-check of a hostgroup without a usable server).
            if ContinuousClock.now >= deadline {
                return Outcome(packets: [maxConnectTimeout(since: statementStarted, hostgroup: hostgroup)])
            }
            let connection: BackendConnection
            var wasPinned = false
            switch dataPlane.acquire(session: local.id, hostgroup: hostgroup, user: local.user) {
            case .sessionGone:
                return Outcome(packets: [], closeFrontend: true)
            case .pinnedToOfflineHard(let stale):
                // Lazy OFFLINE_HARD: the idle pinned session learns it now, gets 2013, and is disconnected.
                stale.close(reason: .offlineHard)
                dataPlane.detachBackend(session: local.id, reusable: false)
                logger.debug("pinned session hit an OFFLINE_HARD server", metadata: metadata)
                return Outcome(packets: [lostConnection()], closeFrontend: true)
            case .pinned(let pinned):
                connection = pinned
                wasPinned = true
            case .pooled(let pooled):
                connection = pooled
            case .connect(let server):
                let opened: BackendConnection
                do {
                    opened = try await BackendConnection.connect(
                        id: dataPlane.nextBackendID(),
                        server: server,
                        user: local.user,
                        password: local.password,
                        schema: local.schema,
                        // `MySQL_Connection::handler`: an attempt's `wait_until` is now + connect_timeout_server,
                        // capped at `max_connect_time`.
                        timeout: min(.milliseconds(variables.connectTimeoutServer), deadline - .now),
                        group: group
                    )
                } catch {
                    // ProxySQL counts the failure for SHUNNED, retries `mysql-connect_retries_on_failure` times
                    // `mysql-connect_retries_delay` ms apart, then gives the client the backend's own error
                    // (`handler_again___status_CONNECTING_SERVER`; the frontend stays open).
                    // A timed-out attempt (`ASYNC_CONNECT_TIMEOUT`) has no MySQL error number: it is counted as error 0.
                    let failure = BackendConnectError(error, server: server)
                    dataPlane.connectFailed(server, errorCode: failure.timedOut ? 0 : Int(failure.code))
                    logger.debug(
                        "backend connect failed",
                        metadata: metadata.merging(["proxysql.server": "\(server)", "proxysql.error": "\(failure)"]) { $1 }
                    )
                    // Retries spent: the backend's error, or, when the last attempt timed out (no error number),
                    // 9002 `Max connect failure while reaching hostgroup N`; whatever the time. With retries left
                    // the next turn checks the deadline first (9001).
                    guard connectRetriesLeft > 0 else {
                        if failure.timedOut { return Outcome(packets: [maxConnectFailure(hostgroup: hostgroup)]) }
                        return Outcome(packets: [self.error(failure.code, failure.sqlState, failure.message)])
                    }
                    connectRetriesLeft -= 1
                    if variables.connectRetriesDelay > 0 {
                        try? await Task.sleep(for: .milliseconds(variables.connectRetriesDelay))
                    }
                    continue
                }
                guard dataPlane.attachNew(opened, to: local.id) else { continue }
                if dataPlane.coldConnectionDelay > .zero {
                    // A fresh backend connection is cold (see `Configuration.coldConnectionDelay`).
                    try? await Task.sleep(for: dataPlane.coldConnectionDelay)
                }
                connection = opened
            case .wait(let generation):
                // No usable server: the statement waits (no error) for a LOAD, up to connect_timeout_server_max.
                let changed = await dataPlane.waitForRuntimeChange(after: generation, until: deadline)
                if Task.isCancelled { return Outcome(packets: [], closeFrontend: true) }
                if changed, let recheck = Self.nextRecheck(
                    started: started, now: .now, every: .milliseconds(variables.connectRetriesDelay)), recheck < deadline
                {
                    // ProxySQL re-checks a hostgroup without a usable server only every `mysql-connect_retries_delay`
                    // ms (`handler_again___status_CONNECTING_SERVER` sets `pause_until`): a LOAD wakes no one, the
                    // session sees it at its next re-check.
                    try? await Task.sleep(until: recheck, clock: .continuous)
                    if Task.isCancelled { return Outcome(packets: [], closeFrontend: true) }
                }
                continue
            }

            // A backend: `max_connect_time` is cleared; a re-send after a lost connection starts a new clock.
            waitStarted = nil
            var bytesSent = 0
            let response: BackendResponse
            do {
                if let failure = try await prepare(connection, local: local, bytesSent: &bytesSent) {
                    finish(connection, response: failure, analysis: nil, bytesSent: bytesSent, local: &local)
                    return Outcome(packets: MySQLPackets.numbered(failure.packets))
                }
                bytesSent += sql.utf8.count + 5
                response = try await connection.query(sql)
                if let hook = dataPlane.afterBackendAnswer { await hook(sql, connection) }
                if let code = response.error?.code, ShunRules.countsOnOpenConnection(errorCode: Int(code)) {
                    switch serverGoingAway(connection, code: code, response: response, wasPinned: wasPinned,
                        retriesLeft: &retriesLeft, local: &local)
                    {
                    case .retry: continue
                    case .answer(let outcome): return outcome
                    }
                }
            } catch {
                if dataPlane.isKilled(local.id) { return Outcome(packets: [], closeFrontend: true) }
                let reason = connection.closeReason
                dataPlane.detachBackend(session: local.id, reusable: false)
                let inTransaction = local.pins.contains(.transaction)
                if !wasPinned && !inTransaction && retriesLeft > 0 && !dataPlane.isKilled(local.id) {
                    // ProxySQL re-sends an interrupted autocommit statement of an unpinned session (the original
                    // may still complete on the old server: the double-write case).
                    retriesLeft -= 1
                    logger.debug(
                        "statement re-sent after lost backend connection",
                        metadata: metadata.merging(["proxysql.reason": "\(String(describing: reason))"]) { $1 }
                    )
                    continue
                }
                // The connection and whatever it held (transaction, locks, variables) are gone.
                local.pins = variables.multiplexing ? [] : [.noMultiplex]
                local.autoIncrementTokens = 0
                dataPlane.setPins(session: local.id, pins: local.pins, autoIncrementTokens: 0)
                local.routing?.answered(in: hostgroup, inTransaction: false)
                // Cut by OFFLINE_HARD (inside a transaction, or not re-sent): ProxySQL answers 2013 and closes the
                // client connection, as observed on 2.7.1.
                return Outcome(packets: [lostConnection()], closeFrontend: reason == .offlineHard)
            }
            finish(connection, response: response, analysis: analysis, bytesSent: bytesSent, local: &local)
            return Outcome(packets: MySQLPackets.numbered(response.packets))
        }
    }

    /// Applies the session's schema and tracked variables to `connection` when they differ. Returns the backend's
    /// error answer when it refused them.
    private func prepare(_ connection: BackendConnection, local: Local, bytesSent: inout Int) async throws
        -> BackendResponse?
    {
        if let schema = local.schema, connection.schema != schema {
            var payload = MySQLPackets.allocator.buffer(capacity: schema.utf8.count + 1)
            payload.writeInteger(CommandByte.initDB)
            payload.writeString(schema)
            bytesSent += payload.readableBytes + 4
            let response = try await connection.send(payload)
            if response.error != nil { return response }
            connection.schema = schema
        }
        var clauses: [String] = []
        for name in local.variableOrder {
            guard let assignment = local.variables[name] else { continue }
            if connection.variables[name] != assignment.clause { clauses.append(assignment.clause) }
        }
        for name in connection.variables.keys.sorted() where local.variables[name] == nil {
            switch name {
            case "names": clauses.append("NAMES DEFAULT")
            case "transaction": clauses.append("SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ WRITE")
            default: clauses.append("\(name) = DEFAULT")
            }
        }
        guard !clauses.isEmpty else { return nil }
        let statement = "SET " + clauses.joined(separator: ", ")
        bytesSent += statement.utf8.count + 5
        let response = try await connection.query(statement)
        if response.error != nil { return response }
        connection.variables = local.variables.mapValues(\.clause)
        return nil
    }

    /// Updates pins from the statement and the backend's status, then lets the data plane release the connection
    /// when nothing pins the session any more (before the client gets the answer).
    private func finish(
        _ connection: BackendConnection,
        response: BackendResponse,
        analysis: StatementAnalysis?,
        bytesSent: Int,
        local: inout Local
    ) {
        if let analysis, response.error == nil {
            local.pins.formUnion(analysis.addsPins)
            local.pins.subtract(analysis.releasesPins)
        }
        if analysis != nil, response.error == nil {
            if response.lastInsertID > 0 { local.lastInsertID = response.lastInsertID }
            if response.affectedRows > 0 { local.lastAffectedHostgroup = local.hostgroup }
        }
        if response.status.contains(.inTransaction) {
            local.pins.insert(.transaction)
        } else {
            local.pins.remove(.transaction)
        }
        if analysis != nil {
            let delay = dataPlane.variables.autoIncrementDelayMultiplex
            if response.lastInsertID > 0 && delay > 0 {
                local.autoIncrementTokens = delay
            } else if local.autoIncrementTokens > 0 {
                local.autoIncrementTokens -= 1
            }
        }
        connection.lastStatus = response.status
        local.routing?.answered(in: local.hostgroup, inTransaction: local.pins.contains(.transaction))
        dataPlane.finishStatement(
            session: local.id,
            connection: connection,
            pins: local.pins,
            autoIncrementTokens: local.autoIncrementTokens,
            queries: 1,
            bytesSent: bytesSent,
            bytesReceived: response.bytesReceived,
            connectionBroken: !connection.isActive
        )
    }

    fileprivate func lostConnection() -> MySQLPacket {
        error(2013, "HY000", "Lost connection to MySQL server during query")
    }

    /// 9002, what ProxySQL 2.7.1 answers when a statement's last connect attempt timed out (no MySQL error number
    /// to forward; `handler_again___status_CONNECTING_SERVER`).
    private func maxConnectFailure(hostgroup: Int) -> MySQLPacket {
        error(9002, "HY000", "Max connect failure while reaching hostgroup \(hostgroup)")
    }

    private func maxConnectTimeout(since started: ContinuousClock.Instant, hostgroup: Int) -> MySQLPacket {
        let elapsed = (ContinuousClock.now - started).wholeMilliseconds
        return error(
            9001,
            "HY000",
            "Max connect timeout reached while reaching hostgroup \(hostgroup) after \(elapsed)ms"
        )
    }
}

extension DataSession {
    /// What a statement does after its backend answered 1047 or 1053 on an open connection.
    fileprivate enum GoingAway {
        /// Re-sent on another connection (a new pick of the hostgroup).
        case retry
        /// The client's answer.
        case answer(Outcome)
    }

    /// A backend answered 1047 (WSREP not ready) or 1053 (`Server shutdown in progress`) on an open connection, as
    /// ProxySQL 2.7.1 handles it (`MySQL_Session::handler_minus1_HandleErrorCodes`): the error counts for SHUNNED
    /// like a failed connect (`MySrvC::connect_error`, `ConnERR` too); the connection is destroyed; the statement is
    /// re-sent when `mysql-query_retries_on_failure` allows (one retry used either way) and the session is neither
    /// pinned nor in a transaction; otherwise the client gets 2013 `Lost connection to MySQL server during query`
    /// (the destroyed connection has no error left to forward: `MySQL_Result_to_MySQL_wire` with no connection) and
    /// its connection stays open. A backend restarting under load is so shunned by its own clients' statements.
    fileprivate func serverGoingAway(
        _ connection: BackendConnection,
        code: UInt16,
        response: BackendResponse,
        wasPinned: Bool,
        retriesLeft: inout Int,
        local: inout Local
    ) -> GoingAway {
        dataPlane.connectFailed(connection.server, errorCode: Int(code), openingConnection: false)
        let inTransaction = local.pins.contains(.transaction) || response.status.contains(.inTransaction)
        dataPlane.detachBackend(session: local.id, reusable: false)
        logger.debug(
            "backend going away during a query",
            metadata: ["proxysql.session_id": "\(local.id)", "proxysql.server": "\(connection.server)", "proxysql.error": "\(code)"]
        )
        if retriesLeft > 0 {
            retriesLeft -= 1
            if !wasPinned && !inTransaction { return .retry }
        }
        // The connection and whatever it held (transaction, locks, variables) are gone.
        local.pins = dataPlane.variables.multiplexing ? [] : [.noMultiplex]
        local.autoIncrementTokens = 0
        dataPlane.setPins(session: local.id, pins: local.pins, autoIncrementTokens: 0)
        local.routing?.answered(in: local.hostgroup, inTransaction: false)
        return .answer(Outcome(packets: [lostConnection()]))
    }
}
