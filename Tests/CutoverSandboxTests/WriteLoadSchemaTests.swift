import CutoverTestSupport
import Logging
import MariaDB
import Testing

@testable import CutoverSandbox

@Suite("WriteLoadSchema and the application statements")
struct WriteLoadSchemaTests {
    let schema = WriteLoadSchema(database: "load_db")

    @Test("the keyed insert names every column and carries no @ (which would pin a ProxySQL session)")
    func keyedInsert() {
        let statement = schema.insertStatement(
            workload: .clientKeys,
            runID: 42,
            rows: [
                .init(writeID: 42_000_001_000_000_001, client: 1, sequence: 7, sentAtMicroseconds: 1500),
                .init(writeID: 42_000_001_000_000_002, client: 1, sequence: 7, sentAtMicroseconds: 1500),
            ]
        )
        let sql = statement.rendered(for: .mysql)
        #expect(
            sql == "INSERT INTO `load_db`.`keyed_writes` (`id`, `run_id`, `client`, `sequence`, `sent_at_us`) "
                + "VALUES (42000001000000001, 42, 1, 7, 1500), (42000001000000002, 42, 1, 7, 1500)"
        )
        #expect(!sql.contains("@"))
    }

    @Test("the auto-increment insert writes write_id, leaving pk to AUTO_INCREMENT")
    func autoIncrementInsert() {
        let sql = schema.insertStatement(
            workload: .autoIncrement, runID: 3, rows: [.init(writeID: 5, client: 0, sequence: 1, sentAtMicroseconds: 0)]
        ).rendered(for: .mysql)
        #expect(
            sql == "INSERT INTO `load_db`.`auto_increment_writes` (`write_id`, `run_id`, `client`, `sequence`, "
                + "`sent_at_us`) VALUES (5, 3, 0, 1, 0)"
        )
        #expect(!sql.contains("@"))
        #expect(!sql.contains("`pk`"))
    }

    @Test("install is idempotent DDL: tables, a non-unique write_id index and a trigger per table")
    func installStatements() {
        let sql = schema.installStatements.map { $0.rendered(for: .mysql) }
        #expect(sql.count == 5)
        #expect(sql.allSatisfy { $0.contains("IF NOT EXISTS") })
        #expect(sql[0] == "CREATE DATABASE IF NOT EXISTS `load_db`")
        #expect(sql[1].contains("`id` BIGINT NOT NULL PRIMARY KEY"))
        #expect(sql[2].contains("`pk` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"))
        #expect(sql[2].contains("KEY `write_id` (`write_id`)"))
        #expect(!sql[2].contains("UNIQUE"))
        for (index, table) in [(3, "keyed_writes"), (4, "auto_increment_writes")] {
            #expect(sql[index].contains("BEFORE INSERT ON `load_db`.`\(table)`"))
            #expect(sql[index].hasSuffix("FOR EACH ROW SET NEW.`origin_server_id` = @@server_id"))
        }
    }

    @Test("the application account gets DML on the schema only, and its password never shows")
    func applicationAccount() {
        let statements = schema.applicationAccountStatements(user: "app", password: "s3cr'et", host: "%")
        let redacted = statements.map(\.redacted)
        #expect(redacted.allSatisfy { !$0.contains("s3cr") })
        #expect(statements.allSatisfy { $0.description == $0.redacted })
        let sql = statements.map { $0.rendered(for: .mysql) }
        #expect(sql[0] == "CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 's3cr''et'")
        #expect(sql[2] == "GRANT SELECT, INSERT, UPDATE, DELETE ON `load_db`.* TO 'app'@'%'")
        #expect(!sql.joined().contains("SUPER"))
    }

    @Test("install sends every statement to every session, in order")
    func installOnSessions() async throws {
        let first = ScriptedSQLSession(endpointDescription: "a")
        let second = ScriptedSQLSession(endpointDescription: "b")
        for session in [first, second] {
            for statement in schema.installStatements {
                session.expect(.exact(statement.rendered(for: .mysql)))
            }
        }
        try await schema.install(on: [first, second])
        try first.verifyAllConsumed()
        try second.verifyAllConsumed()
    }

    @Test("a failing statement is reported as schemaSetupFailed naming the server")
    func installFailure() async throws {
        let session = ScriptedSQLSession(endpointDescription: "127.0.0.1:3307")
        session.expect(.prefix("CREATE DATABASE"), failingWith: 1044, message: "Access denied")
        let error = await #expect(throws: WriteLoadError.self) { try await schema.install(on: [session]) }
        #expect(error?.code == .schemaSetupFailed)
        #expect(error?.description.contains("127.0.0.1:3307") == true)
    }
}

@Suite("WriteIDScheme")
struct WriteIDSchemeTests {
    @Test("ids are unique per run and client and tell their client back")
    func roundTrip() {
        let scheme = WriteIDScheme(runID: 17)
        let ids = (0..<3).flatMap { client in (1...3).map { scheme.writeID(client: client, rowSequence: Int64($0)) } }
        #expect(Set(ids).count == 9)
        #expect(scheme.writeID(client: 2, rowSequence: 5) == 17_002_000_000_005)
        #expect(scheme.client(of: 17_002_000_000_005) == 2)
        #expect(WriteIDScheme(runID: 18).client(of: 17_002_000_000_005) == nil)
        #expect(scheme.client(of: 17_002_000_000_000) == nil)
    }

    @Test("the largest id fits BIGINT")
    func bounds() {
        let scheme = WriteIDScheme(runID: WriteIDScheme.maximumRunID)
        let largest = scheme.writeID(
            client: WriteIDScheme.maximumClients - 1, rowSequence: WriteIDScheme.maximumRowsPerClient)
        #expect(largest > 0)
        #expect(largest < Int64.max)
    }
}

@Suite("WriteLoad configuration and error classification")
struct WriteLoadConfigurationTests {
    let endpoint = MariaDBConnection.Configuration(host: "127.0.0.1", port: 3306, user: "app", password: "x")

    @Test("defaults are valid")
    func defaults() throws {
        try WriteLoad.Configuration(endpoint: endpoint).validate()
    }

    @Test(
        "invalid values are refused",
        arguments: [
            { (c: inout WriteLoad.Configuration) in c.clients = 0 },
            { (c: inout WriteLoad.Configuration) in c.rowsPerWrite = 0 },
            { (c: inout WriteLoad.Configuration) in c.transactionHold = .milliseconds(5) },
            { (c: inout WriteLoad.Configuration) in c.statementTimeout = .zero },
            { (c: inout WriteLoad.Configuration) in c.runID = 0 },
            { (c: inout WriteLoad.Configuration) in c.pauseAfterFailure = .milliseconds(-1) },
            { (c: inout WriteLoad.Configuration) in c.endpoint.user = "" },
        ] as [@Sendable (inout WriteLoad.Configuration) -> Void]
    )
    func invalid(change: @Sendable (inout WriteLoad.Configuration) -> Void) {
        var configuration = WriteLoad.Configuration(endpoint: endpoint)
        change(&configuration)
        #expect(throws: WriteLoadError(code: .invalidConfiguration, message: "")) { try configuration.validate() }
    }

    @Test("a hold is fine in explicit transactions")
    func holdInExplicit() throws {
        var configuration = WriteLoad.Configuration(endpoint: endpoint, transactionMode: .explicit)
        configuration.transactionHold = .milliseconds(50)
        try configuration.validate()
    }

    @Test("server refusals are definite; lost connections, interruptions and client failures are not")
    func classification() {
        func server(_ number: UInt32) -> MariaDBError { MariaDBError(code: .server, serverErrorNumber: number) }
        #expect(WriteLoad.Client.isDefiniteServerError(server(1290)))
        #expect(WriteLoad.Client.isDefiniteServerError(server(9001)))
        #expect(WriteLoad.Client.isDefiniteServerError(server(1205)))
        #expect(!WriteLoad.Client.isDefiniteServerError(server(2013)))
        #expect(!WriteLoad.Client.isDefiniteServerError(server(1927)))
        #expect(!WriteLoad.Client.isDefiniteServerError(server(1317)))
        #expect(!WriteLoad.Client.isDefiniteServerError(MariaDBError(code: .connectionLost, serverErrorNumber: 2013)))
        #expect(!WriteLoad.Client.isDefiniteServerError(MariaDBError(code: .deadlineExceeded)))
        #expect(!WriteLoad.Client.isDefiniteServerError(MariaDBError(code: .cancelled)))
        #expect(!WriteLoad.Client.isDefiniteServerError(CancellationError()))
    }

    @Test("a load that cannot connect fails to start, and waiting on it reports that")
    func connectionFailure() async throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        var configuration = WriteLoad.Configuration(
            endpoint: MariaDBConnection.Configuration(host: "127.0.0.1", port: 1, user: "app", password: "x"),
            clients: 2
        )
        configuration.runID = 5
        let load = try WriteLoad(configuration: configuration, logger: .init(label: "test"))
        #expect(load.runID == 5)
        let error = await #expect(throws: WriteLoadError.self) {
            _ = try await load.run { load in
                try await load.waitForAcknowledgedWrites(1, timeout: .seconds(10))
            }
        }
        #expect(error?.code == .connectionFailed)
        await #expect(throws: WriteLoadError.self) { try await load.run() }
    }
}

@Suite("WriteLoadChecker.verify over a session")
struct WriteLoadVerifyTests {
    @Test("reads this run's rows and the old source's server id, then checks")
    func verify() async throws {
        let start = ContinuousClock.now
        let records = [
            WriteRecord(client: 0, sequence: 1, firstWriteID: 11, sentAt: start, outcome: .acknowledged(at: start)),
            WriteRecord(client: 0, sequence: 2, firstWriteID: 12, sentAt: start, outcome: .acknowledged(at: start)),
        ]
        let report = WriteLoadReport(
            runID: 77, workload: .autoIncrement, schema: WriteLoadSchema(database: "db"), clients: 1,
            startedAt: start, stoppedAt: start, finishedAt: start, records: records
        )
        let final = ScriptedSQLSession()
        final.expect(
            .exact(
                "SELECT `write_id` AS `write_id`, `origin_server_id` FROM `db`.`auto_increment_writes` "
                    + "WHERE `run_id` = 77"
            ),
            columns: ["write_id", "origin_server_id"],
            rows: [["11", "1"], ["12", "2"], ["12", "2"]]
        )
        let old = ScriptedSQLSession()
        old.expect(.exact("SELECT @@server_id AS `server_id`"), columns: ["server_id"], rows: [["1"]])
        old.expect(
            .prefix("SELECT `write_id`"), columns: ["write_id", "origin_server_id"], rows: [["11", "1"], ["13", "1"]])
        let verification = try await WriteLoadChecker.verify(report, finalWriter: final, oldSource: old)
        try final.verifyAllConsumed()
        try old.verifyAllConsumed()
        #expect(verification.duplicated.map(\.writeID) == [12])
        #expect(verification.oldSourceOnlyRows == [WrittenRow(writeID: 13, originServerID: 1)])
        #expect(verification.oldSourceServerID == 1)
        #expect(verification.lost.isEmpty)
    }

    @Test("a NULL origin (no trigger) is kept as nil; a read failure is readBackFailed")
    func nullOriginAndFailure() async throws {
        let session = ScriptedSQLSession()
        session.expect(.prefix("SELECT `id`"), columns: ["write_id", "origin_server_id"], rows: [["5", nil]])
        let rows = try await WriteLoadChecker.readRows(runID: 1, workload: .clientKeys, schema: .init(), from: session)
        #expect(rows == [WrittenRow(writeID: 5, originServerID: nil)])

        session.expect(.prefix("SELECT `id`"), failingWith: 1146, message: "Table doesn't exist")
        let error = await #expect(throws: WriteLoadError.self) {
            _ = try await WriteLoadChecker.readRows(runID: 1, workload: .clientKeys, schema: .init(), from: session)
        }
        #expect(error?.code == .readBackFailed)
    }
}
