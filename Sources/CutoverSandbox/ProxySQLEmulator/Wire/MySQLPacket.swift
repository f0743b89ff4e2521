import NIOCore

/// One logical MySQL protocol packet: its sequence id and its payload (payloads of 16 MiB and more, sent as
/// several wire packets, are joined by ``MySQLPacketDecoder`` and split again by ``MySQLPacketEncoder``).
struct MySQLPacket: Sendable {
    var sequenceID: UInt8
    var payload: ByteBuffer

    init(sequenceID: UInt8, payload: ByteBuffer) {
        self.sequenceID = sequenceID
        self.payload = payload
    }

    /// The first payload byte (the packet kind of a response, the command of a request), or nil when empty.
    var firstByte: UInt8? { payload.getInteger(at: payload.readerIndex, as: UInt8.self) }
}

/// Splits the byte stream into packets: 3-byte little-endian length, 1-byte sequence id, payload.
struct MySQLPacketDecoder: ByteToMessageDecoder {
    typealias InboundOut = MySQLPacket

    static let maximumChunk = 0xFF_FFFF
    /// A bound on one logical packet, so a hostile peer cannot make us buffer without end.
    static let maximumPayload = 64 * 1024 * 1024

    private var pending: ByteBuffer?
    private var pendingSequence: UInt8 = 0

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= 4,
            let low = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt16.self),
            let high = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt8.self),
            let sequence = buffer.getInteger(at: buffer.readerIndex + 3, as: UInt8.self)
        else { return .needMoreData }
        let length = Int(low) | Int(high) << 16
        guard buffer.readableBytes >= 4 + length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let chunk = buffer.readSlice(length: length)!
        if length == Self.maximumChunk {
            if pending == nil {
                pending = context.channel.allocator.buffer(capacity: length * 2)
                pendingSequence = sequence
            }
            var chunkCopy = chunk
            pending!.writeBuffer(&chunkCopy)
            if pending!.readableBytes > Self.maximumPayload { throw MySQLWireError.packetTooLarge }
            return .continue
        }
        if var joined = pending {
            var chunkCopy = chunk
            joined.writeBuffer(&chunkCopy)
            pending = nil
            context.fireChannelRead(wrapInboundOut(MySQLPacket(sequenceID: pendingSequence, payload: joined)))
        } else {
            context.fireChannelRead(wrapInboundOut(MySQLPacket(sequenceID: sequence, payload: chunk)))
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Writes packets, splitting payloads of 16 MiB and more into several wire packets.
struct MySQLPacketEncoder: MessageToByteEncoder {
    typealias OutboundIn = MySQLPacket

    func encode(data: MySQLPacket, out: inout ByteBuffer) throws {
        var payload = data.payload
        var sequence = data.sequenceID
        while true {
            let length = min(payload.readableBytes, MySQLPacketDecoder.maximumChunk)
            out.writeInteger(UInt16(truncatingIfNeeded: length), endianness: .little)
            out.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
            out.writeInteger(sequence)
            var chunk = payload.readSlice(length: length)!
            out.writeBuffer(&chunk)
            sequence &+= 1
            if length < MySQLPacketDecoder.maximumChunk { break }
        }
    }
}

/// A malformed packet or an unexpected answer on the wire.
struct MySQLWireError: Error, CustomStringConvertible {
    let description: String

    static let packetTooLarge = MySQLWireError(description: "packet larger than 64 MiB")
    static let truncated = MySQLWireError(description: "truncated packet")

    init(description: String) { self.description = description }
}
