@_spi(Testing) import CutoverSandbox
import Logging
import MariaDB
import ReplicationControl
import Testing

/// Two sandbox servers prepared for replication tests: `servers[0]` plays the on-premises source, `servers[1]`
/// plays Aurora (the procedure shim installed, a restricted admin). Both hold the application schema `app` (on the
/// "Aurora" side as if restored from a backup, outside its binary log).
struct ReplicationTestbed {
    let source: SandboxServer
    let aurora: SandboxServer
    let sourceRoot: MariaDBConnection
    let auroraRoot: MariaDBConnection
    /// The restricted admin of the stand-in: everything "Aurora"-side in the tests goes through it.
    let auroraAdmin: MariaDBConnection
    let shim: AuroraProcedureShim.Installation
    let logger: Logger
    static let replicationUser = "repl"
    let replicationPassword = "repl-\(UInt32.random(in: 0...UInt32.max))"

    static func prepare(
        _ sandbox: MariaDBSandbox,
        shim options: AuroraProcedureShim.Options = .init(simulatedDelays: false),
        logger: Logger = .replicationTests
    ) async throws -> ReplicationTestbed {
        let source = sandbox.servers[0]
        let aurora = sandbox.servers[1]
        let shim = try await AuroraProcedureShim.install(on: aurora, options: options, logger: logger)
        let sourceRoot = try await source.connectAsRoot()
        let auroraRoot = try await aurora.connectAsRoot()
        let auroraAdmin = try await MariaDBConnection.connect(configuration: shim.adminConfiguration)
        let testbed = ReplicationTestbed(
            source: source, aurora: aurora, sourceRoot: sourceRoot, auroraRoot: auroraRoot, auroraAdmin: auroraAdmin,
            shim: shim, logger: logger
        )
        try await sourceRoot.run(
            "CREATE USER \(replicationUser)@'%' IDENTIFIED BY \(secret: testbed.replicationPassword)")
        // MariaDB's SHOW BINLOG STATUS needs BINLOG MONITOR; MySQL's SHOW BINARY LOG STATUS REPLICATION CLIENT.
        try await sourceRoot.run(
            source.kind == .mysql
                ? "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO \(replicationUser)@'%'"
                : "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO \(replicationUser)@'%'")
        for statement in Self.schema {
            try await sourceRoot.run(statement)
        }
        // The "restored backup" on Aurora: same schema, not in Aurora's binary log.
        try await auroraRoot.run("SET SESSION sql_log_bin = 0")
        for statement in Self.schema {
            try await auroraRoot.run(statement)
        }
        try await auroraRoot.run("SET SESSION sql_log_bin = 1")
        if source.kind == .mysql {
            // A restore from a dump made with `--set-gtid-purged` carries the source's executed GTID set: without it
            // a replica started at a position never "executes" the source's earlier transactions, and a catch-up
            // target by GTID set (the source's whole `gtid_executed`) is never reached.
            let executed = try await sourceRoot.queryFirst("SELECT @@GLOBAL.gtid_executed")?[0].string ?? ""
            try await auroraRoot.run("SET GLOBAL gtid_purged = \(executed)")
        }
        return testbed
    }

    static let schema: [SQLStatement] = [
        "CREATE DATABASE app",
        "CREATE TABLE app.items (id INT NOT NULL PRIMARY KEY, note VARCHAR(100) NOT NULL) ENGINE=InnoDB",
    ]

    /// Forward replication source → Aurora, as the procedures need it.
    func forwardSource(_ startPoint: ReplicationSource.StartPoint) -> ReplicationSource {
        ReplicationSource(
            host: "127.0.0.1", port: source.port, user: Self.replicationUser, password: replicationPassword,
            startPoint: startPoint
        )
    }

    func rdsController(_ options: RDSReplicaController.Options = .fastTests) async throws -> RDSReplicaController {
        try await RDSReplicaController.detecting(on: auroraAdmin, options: options, logger: logger)
    }

    func sourceController() async throws -> SourceController {
        try await SourceController.detecting(on: sourceRoot, logger: logger)
    }

    /// Inserts rows `range` into `app.items` on `connection`.
    static func insert(_ range: ClosedRange<Int>, note: String = "row", on connection: MariaDBConnection) async throws {
        for id in range {
            try await connection.run("INSERT INTO app.items (id, note) VALUES (\(id), \(note))")
        }
    }

    static func count(on connection: MariaDBConnection) async throws -> Int {
        try #require(try await connection.queryFirst("SELECT COUNT(*) AS n FROM app.items")).decode(Int.self, "n")
    }

    /// Starts forward replication from the source's current position through the procedures.
    func startForwardReplication() async throws -> RDSReplicaController {
        let rds = try await rdsController()
        let position = try await sourceController().sourceStatus(logger: logger).position
        try await rds.configureSource(forwardSource(.position(position)), logger: logger)
        _ = try await rds.startReplication(logger: logger)
        return rds
    }

    func close() async {
        await sourceRoot.close()
        await auroraRoot.close()
        await auroraAdmin.close()
    }
}

extension RDSReplicaController.Options {
    /// Short verification for the shim without delays.
    static let fastTests = RDSReplicaController.Options(
        verificationTimeout: .seconds(10), verificationInterval: .milliseconds(20))
}

extension Logger {
    /// Replication integration tests log at `info` to standard error.
    static let replicationTests: Logger = {
        var logger = Logger(label: "replication-tests", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .info
        return logger
    }()
}

/// Runs `body` with a fresh two-server sandbox of `kind` prepared as a ``ReplicationTestbed``; skips (or, with
/// `REQUIRE_INTEGRATION=1` / `REQUIRE_MYSQL=1`, fails) without the server.
func withReplicationTestbed(
    kind: SandboxServerKind = .mariadb,
    shim options: AuroraProcedureShim.Options = .init(simulatedDelays: false),
    _ body: (ReplicationTestbed) async throws -> Void
) async throws {
    guard try IntegrationGate.skipIfUnavailable(kind) else { return }
    try await withMariaDBSandbox(servers: 2, options: .init(serverKind: kind), logger: .replicationTests) { sandbox in
        let testbed = try await ReplicationTestbed.prepare(sandbox, shim: options)
        do {
            try await body(testbed)
        } catch {
            await testbed.close()
            throw error
        }
        await testbed.close()
    }
}
