import NIOCore

typealias FrontendChannel = NIOAsyncChannel<MySQLPacket, MySQLPacket>

/// Reads client packets one at a time.
struct PacketReader {
    var iterator: NIOAsyncChannelInboundStream<MySQLPacket>.AsyncIterator

    init(_ inbound: NIOAsyncChannelInboundStream<MySQLPacket>) {
        iterator = inbound.makeAsyncIterator()
    }

    /// The next packet, or nil when the client closed the connection.
    mutating func next() async throws -> MySQLPacket? {
        try await iterator.next(isolation: #isolation)
    }
}

/// A client that logged in.
struct LoggedInClient: Sendable {
    var username: String
    var database: String?
    var capabilities: CapabilityFlags
    var scramble: [UInt8]
}

/// The server side of the connection phase: greeting, native-password check (with an auth switch for clients
/// that start with another plugin), then OK or ProxySQL's access-denied error.
enum FrontendLogin {
    static func perform(
        reader: inout PacketReader,
        writer: NIOAsyncChannelOutboundWriter<MySQLPacket>,
        connectionID: UInt32,
        serverVersion: String,
        clientHost: String,
        okStatus: ServerStatus,
        password: (String) -> String?
    ) async throws -> LoggedInClient? {
        let scramble = NativePassword.makeScramble()
        let greeting = ServerGreeting(
            serverVersion: serverVersion,
            connectionID: connectionID,
            scramble: scramble,
            capabilities: .emulator,
            characterSet: 33,
            status: .autocommit,
            authPluginName: NativePassword.pluginName
        )
        try await writer.write(MySQLPacket(sequenceID: 0, payload: greeting.encoded()))
        guard let responsePacket = try await reader.next() else { return nil }
        let response: HandshakeResponse
        do {
            response = try HandshakeResponse(parsing: responsePacket.payload)
        } catch {
            let message = (error as? MySQLWireError)?.description ?? "malformed handshake response"
            try await writer.write(
                MySQLPacket(
                    sequenceID: responsePacket.sequenceID &+ 1,
                    payload: MySQLPackets.error(code: 1043, sqlState: "08S01", message: "Bad handshake: \(message)")
                )
            )
            return nil
        }
        var token = response.authResponse
        var sequence = responsePacket.sequenceID &+ 1
        if let plugin = response.authPluginName, plugin != NativePassword.pluginName,
            response.capabilities.contains(.pluginAuth)
        {
            try await writer.write(
                MySQLPacket(sequenceID: sequence, payload: AuthSwitch.request(plugin: NativePassword.pluginName, scramble: scramble))
            )
            guard let switched = try await reader.next() else { return nil }
            token = switched.payload.getBytes(at: switched.payload.readerIndex, length: switched.payload.readableBytes) ?? []
            sequence = switched.sequenceID &+ 1
        }
        if let expected = password(response.username),
            NativePassword.verify(token: token, password: expected, scramble: scramble)
        {
            try await writer.write(MySQLPacket(sequenceID: sequence, payload: MySQLPackets.ok(status: okStatus)))
            return LoggedInClient(
                username: response.username,
                database: response.database,
                capabilities: response.capabilities,
                scramble: scramble
            )
        }
        let message =
            "ProxySQL Error: Access denied for user '\(response.username)'@'\(clientHost)' (using password: \(token.isEmpty ? "NO" : "YES"))"
        try await writer.write(
            MySQLPacket(sequenceID: sequence, payload: MySQLPackets.error(code: 1045, sqlState: "28000", message: message))
        )
        return nil
    }
}

extension NIOAsyncChannelOutboundWriter where OutboundOut == MySQLPacket {
    /// Writes an answer, numbering its packets from `first`.
    func writeAnswer(_ packets: [MySQLPacket], from first: UInt8 = 1) async throws {
        try await write(contentsOf: MySQLPackets.numbered(packets, from: first))
    }

    func writeAnswer(_ payload: ByteBuffer, sequenceID: UInt8 = 1) async throws {
        try await write(MySQLPacket(sequenceID: sequenceID, payload: payload))
    }
}
