import NIOCore

/// The server's first packet (`HandshakeV10`).
struct ServerGreeting: Sendable {
    var serverVersion: String
    var connectionID: UInt32
    var scramble: [UInt8]
    var capabilities: CapabilityFlags
    var characterSet: UInt8
    var status: ServerStatus
    var authPluginName: String

    func encoded() -> ByteBuffer {
        var buffer = MySQLPackets.allocator.buffer(capacity: 80 + serverVersion.utf8.count)
        buffer.writeInteger(UInt8(10))
        buffer.writeNullTerminatedString(serverVersion)
        buffer.writeInteger(connectionID, endianness: .little)
        buffer.writeBytes(scramble.prefix(8))
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt16(truncatingIfNeeded: capabilities.rawValue), endianness: .little)
        buffer.writeInteger(characterSet)
        buffer.writeInteger(status.rawValue, endianness: .little)
        buffer.writeInteger(UInt16(truncatingIfNeeded: capabilities.rawValue >> 16), endianness: .little)
        buffer.writeInteger(UInt8(scramble.count + 1))
        buffer.writeBytes([UInt8](repeating: 0, count: 10))
        buffer.writeBytes(scramble.dropFirst(8))
        buffer.writeInteger(UInt8(0))
        buffer.writeNullTerminatedString(authPluginName)
        return buffer
    }

    init(
        serverVersion: String,
        connectionID: UInt32,
        scramble: [UInt8],
        capabilities: CapabilityFlags,
        characterSet: UInt8,
        status: ServerStatus,
        authPluginName: String
    ) {
        self.serverVersion = serverVersion
        self.connectionID = connectionID
        self.scramble = scramble
        self.capabilities = capabilities
        self.characterSet = characterSet
        self.status = status
        self.authPluginName = authPluginName
    }

    /// Parses a server's greeting (used by the emulator's backend client).
    init(parsing payload: ByteBuffer) throws {
        var buffer = payload
        guard buffer.readInteger(as: UInt8.self) == 10 else {
            throw MySQLWireError(description: "unsupported handshake protocol version")
        }
        guard let version = buffer.readNullTerminatedString(),
            let connectionID = buffer.readInteger(endianness: .little, as: UInt32.self),
            let part1 = buffer.readBytes(length: 8),
            buffer.readInteger(as: UInt8.self) != nil,
            let capabilitiesLow = buffer.readInteger(endianness: .little, as: UInt16.self)
        else { throw MySQLWireError.truncated }
        var capabilities = UInt32(capabilitiesLow)
        var characterSet: UInt8 = 33
        var status = ServerStatus.autocommit
        var scramble = part1
        var plugin = NativePassword.pluginName
        if let charset = buffer.readInteger(as: UInt8.self),
            let statusBits = buffer.readInteger(endianness: .little, as: UInt16.self),
            let capabilitiesHigh = buffer.readInteger(endianness: .little, as: UInt16.self),
            let authLength = buffer.readInteger(as: UInt8.self),
            buffer.readBytes(length: 10) != nil
        {
            characterSet = charset
            status = ServerStatus(rawValue: statusBits)
            capabilities |= UInt32(capabilitiesHigh) << 16
            if capabilities & CapabilityFlags.secureConnection.rawValue != 0 {
                let part2Length = max(13, Int(authLength) - 8)
                if let part2 = buffer.readBytes(length: min(part2Length, buffer.readableBytes)) {
                    scramble += part2.prefix { $0 != 0 }
                }
            }
            if capabilities & CapabilityFlags.pluginAuth.rawValue != 0, let name = buffer.readNullTerminatedString() {
                plugin = name
            }
        }
        self.init(
            serverVersion: version,
            connectionID: connectionID,
            scramble: Array(scramble.prefix(20)),
            capabilities: CapabilityFlags(rawValue: capabilities),
            characterSet: characterSet,
            status: status,
            authPluginName: plugin
        )
    }
}

/// The client's answer to the greeting (`HandshakeResponse41`).
struct HandshakeResponse: Sendable {
    var capabilities: CapabilityFlags
    var characterSet: UInt8
    var username: String
    var authResponse: [UInt8]
    var database: String?
    var authPluginName: String?

    init(
        capabilities: CapabilityFlags,
        characterSet: UInt8,
        username: String,
        authResponse: [UInt8],
        database: String?,
        authPluginName: String?
    ) {
        self.capabilities = capabilities
        self.characterSet = characterSet
        self.username = username
        self.authResponse = authResponse
        self.database = database
        self.authPluginName = authPluginName
    }

    init(parsing payload: ByteBuffer) throws {
        var buffer = payload
        guard let rawCapabilities = buffer.readInteger(endianness: .little, as: UInt32.self) else {
            throw MySQLWireError.truncated
        }
        let capabilities = CapabilityFlags(rawValue: rawCapabilities)
        guard capabilities.contains(.protocol41) else {
            throw MySQLWireError(description: "clients without CLIENT_PROTOCOL_41 are not supported")
        }
        if capabilities.contains(.ssl) && buffer.readableBytes <= 32 {
            throw MySQLWireError(description: "TLS is not supported by the emulator")
        }
        guard buffer.readInteger(endianness: .little, as: UInt32.self) != nil,
            let characterSet = buffer.readInteger(as: UInt8.self),
            buffer.readBytes(length: 23) != nil,
            let username = buffer.readNullTerminatedString()
        else { throw MySQLWireError.truncated }
        let authResponse: [UInt8]
        if capabilities.contains(.pluginAuthLengthEncodedData) {
            guard let bytes = buffer.readLengthEncodedBytes() else { throw MySQLWireError.truncated }
            authResponse = bytes
        } else if capabilities.contains(.secureConnection) {
            guard let length = buffer.readInteger(as: UInt8.self), let bytes = buffer.readBytes(length: Int(length))
            else { throw MySQLWireError.truncated }
            authResponse = bytes
        } else {
            authResponse = buffer.readNullTerminatedBytes() ?? []
        }
        var database: String?
        if capabilities.contains(.connectWithDB) {
            database = buffer.readNullTerminatedString()
            if database?.isEmpty == true { database = nil }
        }
        var plugin: String?
        if capabilities.contains(.pluginAuth) {
            plugin = buffer.readNullTerminatedString()
        }
        self.init(
            capabilities: capabilities,
            characterSet: characterSet,
            username: username,
            authResponse: authResponse,
            database: database,
            authPluginName: plugin
        )
    }

    func encoded() -> ByteBuffer {
        var buffer = MySQLPackets.allocator.buffer(capacity: 64 + username.utf8.count)
        buffer.writeInteger(capabilities.rawValue, endianness: .little)
        buffer.writeInteger(UInt32(MySQLPacketDecoder.maximumPayload), endianness: .little)
        buffer.writeInteger(characterSet)
        buffer.writeBytes([UInt8](repeating: 0, count: 23))
        buffer.writeNullTerminatedString(username)
        if capabilities.contains(.pluginAuthLengthEncodedData) {
            buffer.writeLengthEncodedString(authResponse)
        } else {
            buffer.writeInteger(UInt8(authResponse.count))
            buffer.writeBytes(authResponse)
        }
        if capabilities.contains(.connectWithDB) {
            buffer.writeNullTerminatedString(database ?? "")
        }
        if capabilities.contains(.pluginAuth) {
            buffer.writeNullTerminatedString(authPluginName ?? NativePassword.pluginName)
        }
        return buffer
    }
}

/// `AuthSwitchRequest`: 0xFE, plugin name, plugin data.
enum AuthSwitch {
    static func request(plugin: String, scramble: [UInt8]) -> ByteBuffer {
        var buffer = MySQLPackets.allocator.buffer(capacity: 48)
        buffer.writeInteger(UInt8(0xFE))
        buffer.writeNullTerminatedString(plugin)
        buffer.writeBytes(scramble)
        buffer.writeInteger(UInt8(0))
        return buffer
    }

    /// Parses a request; nil when `payload` is not one.
    static func parse(_ payload: ByteBuffer) -> (plugin: String, data: [UInt8])? {
        var buffer = payload
        guard buffer.readInteger(as: UInt8.self) == 0xFE, let plugin = buffer.readNullTerminatedString() else {
            return nil
        }
        let data = buffer.readBytes(length: buffer.readableBytes) ?? []
        return (plugin, data.last == 0 ? Array(data.dropLast()) : data)
    }
}
