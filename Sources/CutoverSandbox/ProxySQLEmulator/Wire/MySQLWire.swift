import NIOCore

/// Capability flags of the handshake (`CLIENT_*`).
struct CapabilityFlags: OptionSet, Sendable {
    let rawValue: UInt32

    static let longPassword = CapabilityFlags(rawValue: 1)
    static let foundRows = CapabilityFlags(rawValue: 1 << 1)
    static let longFlag = CapabilityFlags(rawValue: 1 << 2)
    static let connectWithDB = CapabilityFlags(rawValue: 1 << 3)
    static let noSchema = CapabilityFlags(rawValue: 1 << 4)
    static let compress = CapabilityFlags(rawValue: 1 << 5)
    static let odbc = CapabilityFlags(rawValue: 1 << 6)
    static let localFiles = CapabilityFlags(rawValue: 1 << 7)
    static let ignoreSpace = CapabilityFlags(rawValue: 1 << 8)
    static let protocol41 = CapabilityFlags(rawValue: 1 << 9)
    static let interactive = CapabilityFlags(rawValue: 1 << 10)
    static let ssl = CapabilityFlags(rawValue: 1 << 11)
    static let ignoreSigpipe = CapabilityFlags(rawValue: 1 << 12)
    static let transactions = CapabilityFlags(rawValue: 1 << 13)
    static let reserved = CapabilityFlags(rawValue: 1 << 14)
    static let secureConnection = CapabilityFlags(rawValue: 1 << 15)
    static let multiStatements = CapabilityFlags(rawValue: 1 << 16)
    static let multiResults = CapabilityFlags(rawValue: 1 << 17)
    static let psMultiResults = CapabilityFlags(rawValue: 1 << 18)
    static let pluginAuth = CapabilityFlags(rawValue: 1 << 19)
    static let connectAttributes = CapabilityFlags(rawValue: 1 << 20)
    static let pluginAuthLengthEncodedData = CapabilityFlags(rawValue: 1 << 21)
    static let sessionTrack = CapabilityFlags(rawValue: 1 << 23)
    static let deprecateEOF = CapabilityFlags(rawValue: 1 << 24)

    /// What the emulator offers to clients and asks of backends: protocol 4.1 with `EOF` packets, native
    /// password authentication, several result sets (CALL), but no compression, no TLS, no session tracking and
    /// no several statements per query.
    static let emulator: CapabilityFlags = [
        .longPassword, .foundRows, .longFlag, .connectWithDB, .odbc, .ignoreSpace, .protocol41, .interactive,
        .ignoreSigpipe, .transactions, .reserved, .secureConnection, .multiResults, .pluginAuth,
        .connectAttributes, .pluginAuthLengthEncodedData,
    ]
}

/// Server status flags of OK and EOF packets (`SERVER_STATUS_*`).
struct ServerStatus: OptionSet, Sendable, Hashable {
    let rawValue: UInt16

    static let inTransaction = ServerStatus(rawValue: 0x0001)
    static let autocommit = ServerStatus(rawValue: 0x0002)
    static let moreResultsExist = ServerStatus(rawValue: 0x0008)
    static let noBackslashEscapes = ServerStatus(rawValue: 0x0200)
}

/// Command bytes (`COM_*`).
enum CommandByte {
    static let quit: UInt8 = 0x01
    static let initDB: UInt8 = 0x02
    static let query: UInt8 = 0x03
    static let fieldList: UInt8 = 0x04
    static let statistics: UInt8 = 0x09
    static let processInfo: UInt8 = 0x0A
    static let processKill: UInt8 = 0x0C
    static let ping: UInt8 = 0x0E
    static let changeUser: UInt8 = 0x11
    static let binlogDump: UInt8 = 0x12
    static let stmtPrepare: UInt8 = 0x16
    static let stmtExecute: UInt8 = 0x17
    static let stmtSendLongData: UInt8 = 0x18
    static let stmtClose: UInt8 = 0x19
    static let stmtReset: UInt8 = 0x1A
    static let setOption: UInt8 = 0x1B
    static let stmtFetch: UInt8 = 0x1C
    static let resetConnection: UInt8 = 0x1F

    static func name(_ byte: UInt8) -> String {
        switch byte {
        case quit: "COM_QUIT"
        case initDB: "COM_INIT_DB"
        case query: "COM_QUERY"
        case fieldList: "COM_FIELD_LIST"
        case statistics: "COM_STATISTICS"
        case processInfo: "COM_PROCESS_INFO"
        case processKill: "COM_PROCESS_KILL"
        case ping: "COM_PING"
        case changeUser: "COM_CHANGE_USER"
        case binlogDump: "COM_BINLOG_DUMP"
        case stmtPrepare: "COM_STMT_PREPARE"
        case stmtExecute: "COM_STMT_EXECUTE"
        case stmtSendLongData: "COM_STMT_SEND_LONG_DATA"
        case stmtClose: "COM_STMT_CLOSE"
        case stmtReset: "COM_STMT_RESET"
        case setOption: "COM_SET_OPTION"
        case stmtFetch: "COM_STMT_FETCH"
        case resetConnection: "COM_RESET_CONNECTION"
        default: "command 0x" + String(byte, radix: 16)
        }
    }
}

/// Column types used by the emulator's own result sets.
enum ColumnTypeByte {
    static let longLong: UInt8 = 8
    static let varString: UInt8 = 253
}

extension ByteBuffer {
    mutating func writeLengthEncodedInteger(_ value: UInt64) {
        switch value {
        case 0..<251: writeInteger(UInt8(value))
        case 251..<(1 << 16):
            writeInteger(UInt8(0xFC))
            writeInteger(UInt16(value), endianness: .little)
        case (1 << 16)..<(1 << 24):
            writeInteger(UInt8(0xFD))
            writeInteger(UInt16(truncatingIfNeeded: value), endianness: .little)
            writeInteger(UInt8(truncatingIfNeeded: value >> 16))
        default:
            writeInteger(UInt8(0xFE))
            writeInteger(value, endianness: .little)
        }
    }

    mutating func readLengthEncodedInteger() -> UInt64? {
        guard let first = readInteger(as: UInt8.self) else { return nil }
        switch first {
        case 0..<251: return UInt64(first)
        case 0xFC: return readInteger(endianness: .little, as: UInt16.self).map(UInt64.init)
        case 0xFD:
            guard let low = readInteger(endianness: .little, as: UInt16.self), let high = readInteger(as: UInt8.self)
            else { return nil }
            return UInt64(low) | UInt64(high) << 16
        case 0xFE: return readInteger(endianness: .little, as: UInt64.self)
        default: return nil
        }
    }

    mutating func writeLengthEncodedString(_ bytes: some Collection<UInt8>) {
        writeLengthEncodedInteger(UInt64(bytes.count))
        writeBytes(bytes)
    }

    mutating func writeLengthEncodedString(_ text: String) {
        writeLengthEncodedString(Array(text.utf8))
    }

    mutating func readLengthEncodedBytes() -> [UInt8]? {
        guard let length = readLengthEncodedInteger(), length <= UInt64(readableBytes) else { return nil }
        return readBytes(length: Int(length))
    }

    mutating func readNullTerminatedBytes() -> [UInt8]? {
        guard let end = readableBytesView.firstIndex(of: 0) else { return nil }
        let bytes = readBytes(length: end - readerIndex)
        moveReaderIndex(forwardBy: 1)
        return bytes
    }

    mutating func readNullTerminatedString() -> String? {
        readNullTerminatedBytes().map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Builders of the packets the emulator sends itself.
enum MySQLPackets {
    static let allocator = ByteBufferAllocator()

    static func ok(
        affectedRows: UInt64 = 0,
        lastInsertID: UInt64 = 0,
        status: ServerStatus,
        warnings: UInt16 = 0,
        info: String = ""
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 16 + info.utf8.count)
        buffer.writeInteger(UInt8(0x00))
        buffer.writeLengthEncodedInteger(affectedRows)
        buffer.writeLengthEncodedInteger(lastInsertID)
        buffer.writeInteger(status.rawValue, endianness: .little)
        buffer.writeInteger(warnings, endianness: .little)
        if !info.isEmpty { buffer.writeString(info) }
        return buffer
    }

    static func error(code: UInt16, sqlState: String, message: String) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 9 + message.utf8.count)
        buffer.writeInteger(UInt8(0xFF))
        buffer.writeInteger(code, endianness: .little)
        buffer.writeString("#")
        let state = Array(sqlState.utf8.prefix(5))
        buffer.writeBytes(state + Array(repeating: UInt8(ascii: "0"), count: 5 - state.count))
        buffer.writeString(message)
        return buffer
    }

    static func eof(status: ServerStatus, warnings: UInt16 = 0) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 5)
        buffer.writeInteger(UInt8(0xFE))
        buffer.writeInteger(warnings, endianness: .little)
        buffer.writeInteger(status.rawValue, endianness: .little)
        return buffer
    }

    /// A `ColumnDefinition41` of a text column (character set utf8, `VAR_STRING` unless told otherwise).
    static func columnDefinition(name: String, table: String = "", type: UInt8 = ColumnTypeByte.varString)
        -> ByteBuffer
    {
        var buffer = allocator.buffer(capacity: 32 + name.utf8.count * 2)
        buffer.writeLengthEncodedString("def")
        buffer.writeLengthEncodedString("")  // schema
        buffer.writeLengthEncodedString(table)
        buffer.writeLengthEncodedString(table)
        buffer.writeLengthEncodedString(name)
        buffer.writeLengthEncodedString(name)
        buffer.writeLengthEncodedInteger(0x0C)
        buffer.writeInteger(UInt16(33), endianness: .little)  // utf8_general_ci
        buffer.writeInteger(UInt32(255), endianness: .little)  // column length
        buffer.writeInteger(type)
        buffer.writeInteger(UInt16(0), endianness: .little)  // flags
        buffer.writeInteger(UInt8(0))  // decimals
        buffer.writeInteger(UInt16(0), endianness: .little)
        return buffer
    }

    static func textRow(_ values: [String?]) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: values.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 2 })
        for value in values {
            if let value {
                buffer.writeLengthEncodedString(value)
            } else {
                buffer.writeInteger(UInt8(0xFB))
            }
        }
        return buffer
    }

    /// A complete text result set: column count, definitions, EOF, rows, EOF (sequence ids from 1).
    static func resultSet(columns: [String], rows: [[String?]], status: ServerStatus) -> [MySQLPacket] {
        var packets: [MySQLPacket] = []
        packets.reserveCapacity(columns.count + rows.count + 3)
        var count = allocator.buffer(capacity: 9)
        count.writeLengthEncodedInteger(UInt64(columns.count))
        packets.append(MySQLPacket(sequenceID: 0, payload: count))
        for column in columns {
            packets.append(MySQLPacket(sequenceID: 0, payload: columnDefinition(name: column)))
        }
        packets.append(MySQLPacket(sequenceID: 0, payload: eof(status: status)))
        for row in rows {
            packets.append(MySQLPacket(sequenceID: 0, payload: textRow(row)))
        }
        packets.append(MySQLPacket(sequenceID: 0, payload: eof(status: status)))
        return numbered(packets)
    }

    /// Renumbers `packets` with consecutive sequence ids starting at `first` (answers start at 1).
    static func numbered(_ packets: [MySQLPacket], from first: UInt8 = 1) -> [MySQLPacket] {
        var sequence = first
        return packets.map { packet in
            defer { sequence &+= 1 }
            return MySQLPacket(sequenceID: sequence, payload: packet.payload)
        }
    }
}

/// Fields of an OK packet (protocol 4.1, no session tracking).
struct OKPacket: Sendable {
    var affectedRows: UInt64
    var lastInsertID: UInt64
    var status: ServerStatus
    var warnings: UInt16

    init?(_ payload: ByteBuffer) {
        var buffer = payload
        guard buffer.readInteger(as: UInt8.self) == 0x00,
            let affected = buffer.readLengthEncodedInteger(),
            let insertID = buffer.readLengthEncodedInteger(),
            let status = buffer.readInteger(endianness: .little, as: UInt16.self),
            let warnings = buffer.readInteger(endianness: .little, as: UInt16.self)
        else { return nil }
        self.affectedRows = affected
        self.lastInsertID = insertID
        self.status = ServerStatus(rawValue: status)
        self.warnings = warnings
    }
}

/// Fields of an ERR packet.
struct ERRPacket: Sendable {
    var code: UInt16
    var sqlState: String
    var message: String

    init?(_ payload: ByteBuffer) {
        var buffer = payload
        guard buffer.readInteger(as: UInt8.self) == 0xFF, let code = buffer.readInteger(endianness: .little, as: UInt16.self)
        else { return nil }
        self.code = code
        if buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == UInt8(ascii: "#"), buffer.readableBytes >= 6 {
            buffer.moveReaderIndex(forwardBy: 1)
            sqlState = buffer.readString(length: 5) ?? "HY000"
        } else {
            sqlState = "HY000"
        }
        message = buffer.readString(length: buffer.readableBytes) ?? ""
    }
}

/// Fields of an EOF packet.
struct EOFPacket: Sendable {
    var warnings: UInt16
    var status: ServerStatus

    /// Whether `payload` is an EOF packet (0xFE and shorter than 9 bytes: a row can also start with 0xFE).
    static func matches(_ payload: ByteBuffer) -> Bool {
        payload.readableBytes < 9 && payload.getInteger(at: payload.readerIndex, as: UInt8.self) == 0xFE
    }

    init?(_ payload: ByteBuffer) {
        guard Self.matches(payload) else { return nil }
        var buffer = payload
        buffer.moveReaderIndex(forwardBy: 1)
        warnings = buffer.readInteger(endianness: .little, as: UInt16.self) ?? 0
        status = ServerStatus(rawValue: buffer.readInteger(endianness: .little, as: UInt16.self) ?? 0)
    }
}
