import Logging
import NIOCore

/// One client of the admin port.
struct AdminSession {
    let engine: AdminEngine
    let adminUser: String
    let adminPassword: String
    let serverVersion: String
    let connectionID: UInt32
    /// The floor of each answer's latency (``AdminLatencyProfile/fast``: none).
    var latency: AdminLatencyProfile = .fast
    let logger: Logger

    /// After the handshake, the admin answers with NO_BACKSLASH_ESCAPES set (the handshake itself lacks it), as
    /// observed on ProxySQL 2.7.
    static let status: ServerStatus = [.autocommit, .noBackslashEscapes]

    func run(_ channel: FrontendChannel) async {
        let clientHost = channel.channel.remoteAddress?.ipAddress ?? ""
        do {
            try await channel.executeThenClose { inbound, outbound in
                var reader = PacketReader(inbound)
                guard
                    try await FrontendLogin.perform(
                        reader: &reader,
                        writer: outbound,
                        connectionID: connectionID,
                        serverVersion: serverVersion,
                        clientHost: clientHost,
                        okStatus: Self.status,
                        password: { $0 == adminUser ? adminPassword : nil }
                    ) != nil
                else { return }
                while let packet = try await reader.next() {
                    var payload = packet.payload
                    guard let command = payload.readInteger(as: UInt8.self) else { continue }
                    switch command {
                    case CommandByte.quit:
                        return
                    case CommandByte.query:
                        let query = payload.readString(length: payload.readableBytes) ?? ""
                        let started = ContinuousClock.now
                        let reply = engine.execute(query)
                        await pad(query: query, reply: reply, since: started)
                        try await outbound.writeAnswer(answer(reply))
                    case CommandByte.ping, CommandByte.initDB, CommandByte.resetConnection:
                        try await outbound.writeAnswer(MySQLPackets.ok(status: Self.status))
                    case CommandByte.stmtPrepare:
                        // ProxySQL: "only MySQL module supports prepared statement".
                        try await outbound.writeAnswer(
                            MySQLPackets.error(code: 1045, sqlState: "28000", message: "Command not supported")
                        )
                    case CommandByte.stmtClose:
                        continue  // no answer is expected
                    default:
                        try await outbound.writeAnswer(
                            MySQLPackets.error(
                                code: 1047,
                                sqlState: "08S01",
                                message: "ProxySQLEmulator admin: \(CommandByte.name(command)) is not supported"
                            )
                        )
                    }
                }
            }
        } catch {
            logger.debug("admin connection ended", metadata: ["proxysql.error": "\(error)"])
        }
    }

    /// Holds the answer back until the profile's floor for its kind of statement has passed.
    private func pad(query: String, reply: AdminReply, since started: ContinuousClock.Instant) async {
        guard !latency.costs.isEmpty else { return }
        let kind = AdminLatencyProfile.kind(of: query)
        let rows: Int
        switch (kind, reply) {
        case (.loadToRuntime, _):
            rows = AdminEngine.normalize(query).uppercased().contains(" MYSQL SERVERS ") ? engine.serverRowCount() : 0
        case (_, .resultSet(_, let resultRows)): rows = resultRows.count
        default: rows = 0
        }
        await latency.pad(kind: kind, rows: rows, since: started)
    }

    private func answer(_ reply: AdminReply) -> [MySQLPacket] {
        switch reply {
        case .resultSet(let columns, let rows):
            return MySQLPackets.resultSet(columns: columns, rows: rows, status: Self.status)
        case .ok(let affectedRows):
            return [MySQLPacket(sequenceID: 1, payload: MySQLPackets.ok(affectedRows: affectedRows, status: Self.status))]
        case .error(let message):
            return [MySQLPacket(sequenceID: 1, payload: MySQLPackets.error(code: 1045, sqlState: "28000", message: message))]
        }
    }
}
