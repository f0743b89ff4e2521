import CutoverTestSupport
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Testing

@testable import Cutover

private let logger = Logger(label: "existing-channel-tests")

/// `SHOW SLAVE STATUS` rows with the columns that decide what happens to an existing channel.
private enum ChannelStatus {
    static let columns = [
        "Slave_IO_Running", "Slave_SQL_Running", "Master_Host", "Master_Port", "Last_IO_Errno", "Last_IO_Error",
        "Last_SQL_Errno", "Last_SQL_Error",
    ]

    static func row(
        io: String, sql: String, host: String = "aurora.example", ioError: (Int, String)? = nil,
        sqlError: (Int, String)? = nil
    ) -> SQLResult {
        SQLResult(resultSets: [
            ResultSet(
                columnNames: columns,
                rows: [
                    [
                        io, sql, host, "3306", String(ioError?.0 ?? 0), ioError?.1 ?? "", String(sqlError?.0 ?? 0),
                        sqlError?.1 ?? "",
                    ]
                ])
        ])
    }
}

/// Issue #13 item 5: a resumed reverse channel that stopped with an error must not be reset and re-applied from an
/// older coordinate.
@Suite("Resuming a replication channel: one that stopped with an error is refused, never re-pointed")
struct ExistingChannelTests {
    static let endpoint = ServerEndpoint(host: "aurora.example", port: 3306)
    static let coordinate = ReplicationCoordinate(file: "mysql-bin.000007", offset: 1234)

    func database(_ session: ScriptedSQLSession, rds: Bool) throws -> ReplicationControlDatabase {
        try ScriptedReplication.database(session, rds: rds, name: "source (10.0.0.5:3306)")
    }

    func start(_ database: ReplicationControlDatabase) async throws {
        try await database.startReplication(
            from: Self.endpoint, user: "repl_reverse", password: "pw", tls: .disabled, at: Self.coordinate,
            timeout: .seconds(5), logger: logger)
    }

    @Test("a native channel from the same source stopped with an applier error: refused, naming it; nothing sent")
    func nativeApplierError() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact("SHOW SLAVE STATUS"),
            reply: .result(
                ChannelStatus.row(
                    io: "Yes", sql: "No", sqlError: (1062, "Duplicate entry '7' for key 'PRIMARY'"))))
        let error = await #expect(throws: CutoverError.self) { try await start(database(session, rds: false)) }
        #expect(error?.code == .executorFailed)
        #expect(error?.message.contains("SQL thread (applier) error 1062: Duplicate entry '7' for key 'PRIMARY'") == true)
        #expect(error?.message.contains("left as it is") == true)
        #expect(error?.remedy?.contains("START REPLICA") == true)
        #expect(error?.remedy?.contains("migrate-cli resume") == true)
        #expect(error?.remedy?.contains("runbook.md#replication-stopped-with-an-error") == true)
        // Only the status was read: no STOP, no RESET, no CHANGE MASTER.
        try session.verifyAllConsumed()
        #expect(session.receivedStatements == ["SHOW SLAVE STATUS"])
    }

    @Test("Aurora (the RDS procedures) stopped with a receiver error: refused with both errors and rds_start_replication")
    func rdsReceiverError() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact("SHOW SLAVE STATUS"),
            reply: .result(
                ChannelStatus.row(
                    io: "No", sql: "No", ioError: (1236, "Could not find first log file name in binary log index file"),
                    sqlError: (1032, "Can't find record in 't'"))))
        let error = await #expect(throws: CutoverError.self) { try await start(database(session, rds: true)) }
        #expect(error?.message.contains("IO thread (receiver) error 1236: Could not find first log file name") == true)
        #expect(error?.message.contains("SQL thread (applier) error 1032") == true)
        #expect(error?.remedy?.contains("CALL mysql.rds_start_replication") == true)
        try session.verifyAllConsumed()
        #expect(session.receivedStatements == ["SHOW SLAVE STATUS"])
    }

    @Test("a channel from the same source stopped without an error is started where it stopped")
    func stoppedWithoutError() async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(ChannelStatus.row(io: "No", sql: "No")))
        // The controller's own check before its START SLAVE.
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(ChannelStatus.row(io: "No", sql: "No")))
        session.expect("START SLAVE")
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(ChannelStatus.row(io: "Yes", sql: "Yes")))
        try await start(database(session, rds: false))
        try session.verifyAllConsumed()
    }

    @Test(
        "the decision, from the status alone",
        arguments: [
            // A channel from another server is replaced (the upstream-link guard refused it before the switch).
            (ChannelStatus.row(io: "Yes", sql: "Yes", host: "10.9.9.9"), "configure"),
            (ChannelStatus.row(io: "Yes", sql: "Yes"), "keep"),
            (ChannelStatus.row(io: "No", sql: "No"), "start"),
            (ChannelStatus.row(io: "No", sql: "Yes"), "start"),
            // Still connecting, no error yet: left to connect, never reset (it was reset and re-pointed before).
            (ChannelStatus.row(io: "Connecting", sql: "Yes"), "keep"),
            (ChannelStatus.row(io: "Connecting", sql: "Yes", ioError: (2003, "Can't connect")), "refuse"),
            (ChannelStatus.row(io: "Yes", sql: "No", sqlError: (1032, "Can't find record")), "refuse"),
        ] as [(SQLResult, String)])
    func decision(result: SQLResult, expected: String) throws {
        let status = try #require(try ReplicaStatus.parse(result).first)
        let decision = ReplicationControlDatabase.existingChannel(
            status, from: Self.endpoint, name: "source", usesRDSProcedures: false)
        let name: String =
            switch decision {
            case .configure: "configure"
            case .keep: "keep"
            case .start: "start"
            case .refuse: "refuse"
            }
        #expect(name == expected, "\(status)")
    }
}
