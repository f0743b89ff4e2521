import NIOCore
import NIOPosix
import Synchronization

/// The key of a backend server in the runtime: ProxySQL keeps one connection pool per (hostgroup, host, port).
struct ServerKey: Hashable, Sendable, CustomStringConvertible {
    var hostgroup: Int
    var host: String
    var port: Int

    var description: String { "\(hostgroup):\(host):\(port)" }
}

/// Why the emulator closed a backend connection behind its session's back.
enum BackendCloseReason: Sendable {
    /// Its server went OFFLINE_HARD (or left the runtime) while a statement was running.
    case offlineHard
    /// The session was killed (admin `KILL CONNECTION`, idle timers) or the emulator stopped.
    case sessionKilled
}

/// The backend connection broke while a command was outstanding (or was already closed).
struct BackendLostError: Error, CustomStringConvertible {
    var description: String
}

/// A backend's complete answer to one command, buffered (the emulator forwards it once it knows how it ended).
struct BackendResponse: Sendable {
    var packets: [MySQLPacket] = []
    /// Status flags of the final OK or EOF packet.
    var status = ServerStatus.autocommit
    /// The largest last-insert-id of the OK packets (non-zero when an AUTO_INCREMENT value was generated).
    var lastInsertID: UInt64 = 0
    /// The affected rows of the OK packets, summed.
    var affectedRows: UInt64 = 0
    var warnings: UInt16 = 0
    var error: ERRPacket?
    var bytesReceived = 0
}

/// One connection from the emulator to a backend MySQL/MariaDB server, speaking the text protocol.
///
/// Ownership: a connection sits in its server's free pool, or belongs to exactly one session, which alone sends
/// commands on it; hand-overs happen under the data plane's lock. ``closeReason`` may be set by the data plane
/// from another task, so it is behind its own mutex.
final class BackendConnection: @unchecked Sendable {
    let id: UInt64
    let server: ServerKey
    let user: String
    let channel: any Channel
    /// The backend's own connection id.
    let backendThreadID: UInt32
    /// How the login went (which plugin, which caching_sha2_password path).
    let loginPath: BackendLoginPath
    private let handler: NIOLoopBound<BackendChannelHandler>

    private let closeState = Mutex<BackendCloseReason?>(nil)

    // Touched only by the owning session (or by nobody while pooled).
    /// The schema selected on the backend.
    var schema: String?
    /// Session variables set on this connection (tracked names, lowercased), with the value text sent.
    var variables: [String: String] = [:]
    /// The last status flags the server sent.
    var lastStatus = ServerStatus.autocommit

    private init(
        id: UInt64,
        server: ServerKey,
        user: String,
        channel: any Channel,
        handler: NIOLoopBound<BackendChannelHandler>,
        backendThreadID: UInt32,
        loginPath: BackendLoginPath,
        schema: String?
    ) {
        self.id = id
        self.server = server
        self.user = user
        self.channel = channel
        self.handler = handler
        self.backendThreadID = backendThreadID
        self.loginPath = loginPath
        self.schema = schema
    }

    /// The reason the data plane closed this connection, if it did.
    var closeReason: BackendCloseReason? { closeState.withLock { $0 } }

    /// Closes the connection, remembering why (the first reason wins).
    func close(reason: BackendCloseReason? = nil) {
        closeState.withLock { current in
            if current == nil { current = reason }
        }
        channel.close(promise: nil)
    }

    var isActive: Bool { channel.isActive }

    /// The local address of the socket (`l_srv_host`/`l_srv_port` in the processlist).
    var localAddress: (host: String, port: Int)? {
        guard let address = channel.localAddress, let port = address.port else { return nil }
        return (address.ipAddress ?? "", port)
    }

    /// Connects and logs in: `mysql_native_password` (MariaDB), or `caching_sha2_password` (MySQL 8.0+), its fast
    /// path and its full path with the password RSA-encrypted for the server's public key (no TLS).
    static func connect(
        id: UInt64,
        server: ServerKey,
        user: String,
        password: String,
        schema: String?,
        timeout: Duration,
        group: any EventLoopGroup
    ) async throws -> BackendConnection {
        let ready = group.next().makePromise(of: BackendLogin.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(Int64(max(1, timeout.wholeMilliseconds))))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = BackendChannelHandler(user: user, password: password, schema: schema, ready: ready)
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MySQLPacketDecoder()))
                        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MySQLPacketEncoder()))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: server.host, port: server.port)
                .get()
        } catch {
            // A refused or timed-out connect never reaches the handler: complete its promise here (a promise left
            // pending is a leak, and a crash in debug builds).
            ready.fail(error)
            throw error
        }
        do {
            let timeoutTask = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(max(1, timeout.wholeMilliseconds)))) {
                ready.fail(BackendLostError(description: "login to \(server.host):\(server.port) timed out"))
            }
            defer { timeoutTask.cancel() }
            // The login's outcome first: a refused login closes the channel and empties its pipeline, so looking the
            // handler up before it would report a missing handler instead of the server's error.
            let login = try await ready.futureResult.get()
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: BackendChannelHandler.self), eventLoop: channel.eventLoop)
            }.get()
            return BackendConnection(
                id: id,
                server: server,
                user: user,
                channel: channel,
                handler: handler,
                backendThreadID: login.threadID,
                loginPath: login.path,
                schema: schema
            )
        } catch {
            ready.fail(error)
            channel.close(promise: nil)
            throw error
        }
    }

    /// Sends one command (sequence id 0) and returns the complete answer.
    ///
    /// - Throws: ``BackendLostError`` when the connection breaks before the answer is complete.
    func send(_ payload: ByteBuffer) async throws -> BackendResponse {
        let promise = channel.eventLoop.makePromise(of: BackendResponse.self)
        let handler = self.handler
        channel.eventLoop.execute {
            handler.value.send(payload, promise: promise)
        }
        return try await promise.futureResult.get()
    }

    /// Sends a COM_QUERY.
    func query(_ sql: String) async throws -> BackendResponse {
        var payload = MySQLPackets.allocator.buffer(capacity: sql.utf8.count + 1)
        payload.writeInteger(CommandByte.query)
        payload.writeString(sql)
        return try await send(payload)
    }
}

/// Drives one backend connection on its event loop: login, then one outstanding command at a time.
final class BackendChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = MySQLPacket
    typealias OutboundOut = MySQLPacket

    private enum State {
        case awaitingGreeting
        case authenticating(scramble: [UInt8], threadID: UInt32)
        /// caching_sha2_password's full path over plain TCP: the server's RSA public key was requested.
        case awaitingPublicKey(scramble: [UInt8], threadID: UInt32)
        case idle
        case awaitingResponse(ResponseCollector, EventLoopPromise<BackendResponse>)
        case closed
    }

    private let user: String
    private let password: String
    private let schema: String?
    private let ready: EventLoopPromise<BackendLogin>
    private var state = State.awaitingGreeting
    private var loginPath = BackendLoginPath.nativePassword
    private var context: ChannelHandlerContext?

    init(user: String, password: String, schema: String?, ready: EventLoopPromise<BackendLogin>) {
        self.user = user
        self.password = password
        self.schema = schema
        self.ready = ready
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func send(_ payload: ByteBuffer, promise: EventLoopPromise<BackendResponse>) {
        guard case .idle = state, let context, context.channel.isActive else {
            promise.fail(BackendLostError(description: "backend connection is not usable"))
            return
        }
        state = .awaitingResponse(ResponseCollector(), promise)
        context.writeAndFlush(wrapOutboundOut(MySQLPacket(sequenceID: 0, payload: payload)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        switch state {
        case .awaitingGreeting:
            if let refusal = ERRPacket(packet.payload) {
                // The server refused the connection before its greeting (1040 `Too many connections`, 1129 host
                // blocked, ...): a connect error, which ProxySQL counts for SHUNNED.
                failLogin(context: context, BackendConnectError(refusal))
                return
            }
            do {
                let greeting = try ServerGreeting(parsing: packet.payload)
                var capabilities = CapabilityFlags.emulator.intersection(greeting.capabilities)
                capabilities.insert([.protocol41, .secureConnection])
                capabilities.remove(.connectAttributes)
                if schema != nil { capabilities.insert(.connectWithDB) } else { capabilities.remove(.connectWithDB) }
                // MySQL 8.0+ offers caching_sha2_password (9.x nothing else); MariaDB mysql_native_password.
                let sha2 = greeting.authPluginName == CachingSHA2Password.pluginName
                loginPath = sha2 ? .cachingSHA2WithoutExchange : .nativePassword
                let response = HandshakeResponse(
                    capabilities: capabilities,
                    characterSet: 45,  // utf8mb4_general_ci
                    username: user,
                    authResponse: sha2
                        ? CachingSHA2Password.token(password: password, scramble: greeting.scramble)
                        : NativePassword.token(password: password, scramble: greeting.scramble),
                    database: schema,
                    authPluginName: sha2 ? CachingSHA2Password.pluginName : NativePassword.pluginName
                )
                state = .authenticating(scramble: greeting.scramble, threadID: greeting.connectionID)
                context.writeAndFlush(
                    wrapOutboundOut(MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: response.encoded())),
                    promise: nil
                )
            } catch {
                failLogin(context: context, error)
            }
        case .awaitingPublicKey(let scramble, let threadID):
            var payload = packet.payload
            guard payload.readInteger(as: UInt8.self) == 0x01, let pem = payload.readBytes(length: payload.readableBytes) else {
                failLogin(context: context, BackendLostError(description: "backend sent no public key"))
                return
            }
            do {
                let encrypted = try CachingSHA2Password.encryptedPassword(password, scramble: scramble, publicKeyPEM: pem)
                state = .authenticating(scramble: scramble, threadID: threadID)
                var reply = context.channel.allocator.buffer(capacity: encrypted.count)
                reply.writeBytes(encrypted)
                context.writeAndFlush(wrapOutboundOut(MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: reply)), promise: nil)
            } catch {
                failLogin(context: context, BackendLostError(description: "backend login: \(error)"))
            }
        case .authenticating(let scramble, let threadID):
            switch packet.firstByte {
            case 0x01:
                // caching_sha2_password: 0x03 fast path (an OK follows), 0x04 full path (send the password).
                let status = packet.payload.getInteger(at: packet.payload.readerIndex + 1, as: UInt8.self)
                if status == CachingSHA2Password.fastAuthSucceeded {
                    loginPath = .cachingSHA2FastPath
                    return
                }
                guard status == CachingSHA2Password.fullAuthRequired else {
                    failLogin(context: context, BackendLostError(description: "unexpected caching_sha2_password status"))
                    return
                }
                // Over plain TCP the password goes RSA-encrypted: ask for the server's key first.
                loginPath = .cachingSHA2FullPath
                state = .awaitingPublicKey(scramble: scramble, threadID: threadID)
                var request = context.channel.allocator.buffer(capacity: 1)
                request.writeInteger(CachingSHA2Password.requestPublicKey)
                context.writeAndFlush(wrapOutboundOut(MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: request)), promise: nil)
            case 0x00:
                state = .idle
                ready.succeed(BackendLogin(threadID: threadID, path: loginPath))
            case 0xFF:
                let error = ERRPacket(packet.payload)
                failLogin(
                    context: context,
                    error.map(BackendConnectError.init) as (any Error)?
                        ?? BackendLostError(description: "backend refused login without an error packet")
                )
            case 0xFE:
                guard let request = AuthSwitch.parse(packet.payload),
                    request.plugin == NativePassword.pluginName || request.plugin == CachingSHA2Password.pluginName
                else {
                    failLogin(context: context, BackendLostError(description: "backend asked for an unsupported auth plugin"))
                    return
                }
                let scramble = Array(request.data.prefix(20))
                loginPath = request.plugin == CachingSHA2Password.pluginName ? .cachingSHA2WithoutExchange : .nativePassword
                state = .authenticating(scramble: scramble, threadID: threadID)
                var payload = context.channel.allocator.buffer(capacity: 32)
                payload.writeBytes(
                    request.plugin == CachingSHA2Password.pluginName
                        ? CachingSHA2Password.token(password: password, scramble: scramble)
                        : NativePassword.token(password: password, scramble: scramble))
                context.writeAndFlush(wrapOutboundOut(MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: payload)), promise: nil)
            default:
                failLogin(context: context, BackendLostError(description: "unexpected packet during backend login"))
            }
        case .awaitingResponse(var collector, let promise):
            switch collector.consume(packet) {
            case .needMore:
                state = .awaitingResponse(collector, promise)
            case .sendEmptyPacket(let sequence):
                state = .awaitingResponse(collector, promise)
                context.writeAndFlush(
                    wrapOutboundOut(MySQLPacket(sequenceID: sequence, payload: context.channel.allocator.buffer(capacity: 0))),
                    promise: nil
                )
            case .complete:
                state = .idle
                promise.succeed(collector.response)
            }
        case .idle, .closed:
            // Unsolicited packet (for example the server's error before it closes a killed connection).
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let lost = BackendLostError(description: "Lost connection to backend \(context.remoteAddress?.description ?? "")")
        switch state {
        case .awaitingGreeting, .authenticating, .awaitingPublicKey:
            ready.fail(lost)
        case .awaitingResponse(_, let promise):
            promise.fail(lost)
        case .idle, .closed:
            break
        }
        state = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func failLogin(context: ChannelHandlerContext, _ error: any Error) {
        state = .closed
        ready.fail(error)
        context.close(promise: nil)
    }
}

/// Follows one command's answer packet by packet (text protocol with EOF packets) until it is complete.
struct ResponseCollector {
    enum Step {
        case needMore
        /// The server asked for a LOCAL INFILE: answer with an empty packet (no file), then keep reading.
        case sendEmptyPacket(sequence: UInt8)
        case complete
    }

    private enum Phase {
        case first
        case columns(remaining: UInt64)
        case columnsEOF
        case rows
    }

    private var phase = Phase.first
    var response = BackendResponse()

    mutating func consume(_ packet: MySQLPacket) -> Step {
        response.packets.append(packet)
        response.bytesReceived += packet.payload.readableBytes + 4
        switch phase {
        case .first:
            switch packet.firstByte {
            case 0x00:
                if let ok = OKPacket(packet.payload) {
                    response.status = ok.status
                    response.lastInsertID = max(response.lastInsertID, ok.lastInsertID)
                    response.affectedRows &+= ok.affectedRows
                    response.warnings = ok.warnings
                    if ok.status.contains(.moreResultsExist) { return .needMore }
                }
                return .complete
            case 0xFF:
                response.error = ERRPacket(packet.payload)
                return .complete
            case 0xFB:
                return .sendEmptyPacket(sequence: packet.sequenceID &+ 1)
            default:
                var payload = packet.payload
                let count = payload.readLengthEncodedInteger() ?? 0
                phase = .columns(remaining: count)
                return .needMore
            }
        case .columns(let remaining):
            phase = remaining <= 1 ? .columnsEOF : .columns(remaining: remaining - 1)
            return .needMore
        case .columnsEOF:
            phase = .rows
            return .needMore
        case .rows:
            if packet.firstByte == 0xFF {
                response.error = ERRPacket(packet.payload)
                return .complete
            }
            if let eof = EOFPacket(packet.payload) {
                response.status = eof.status
                response.warnings = eof.warnings
                if eof.status.contains(.moreResultsExist) {
                    phase = .first
                    return .needMore
                }
                return .complete
            }
            return .needMore
        }
    }
}

extension Duration {
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
