import Cutover
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ReplicationControl
import Testing

/// `replication start-forward`'s library part on real servers: the pre-checks read from the sandbox, the
/// procedures of the Aurora stand-in called by its restricted admin, the proof, and rows replicated afterwards —
/// from each kind of coordinates (file/position, GTID, a dump header written by mariadb-dump or MySQL 9.7's
/// mysqldump), on both server kinds (#12: the MySQL cases are skipped with a message where MySQL is not installed,
/// and fail under `REQUIRE_MYSQL=1`).
@Suite(.integration, .serialized)
struct ForwardSetupIntegrationTests {
    static func login(_ testbed: ReplicationTestbed, password: String? = nil) async -> ForwardSetup.LoginCheck {
        await ForwardSetup.checkLogin(
            testbed.source.configuration(user: ReplicationTestbed.replicationUser, password: password ?? testbed.replicationPassword),
            logger: testbed.logger)
    }

    /// Checks, starts, proves, then shows new source rows arriving on "Aurora".
    static func startAndProve(_ testbed: ReplicationTestbed, _ request: ForwardSetup.Request, expectedStart: ReplicationSource.StartPoint) async throws {
        let logger = testbed.logger
        let (facts, dialect) = try await ForwardSetup.readFacts(
            source: testbed.sourceRoot, target: testbed.auroraAdmin, login: await login(testbed), logger: logger)
        guard case .rds(let procedures) = facts.targetKind else {
            Issue.record("the stand-in must be driven by its procedures, got \(facts.targetKind)")
            return
        }
        #expect(procedures.generation == .source)
        #expect(facts.sourceBinaryLogs?.isEmpty == false)
        #expect(facts.sourceBinlogFormat == "ROW")
        let verdict = ForwardSetup.verdict(for: request, facts: facts)
        #expect(verdict.blockingReasons.isEmpty, "\(verdict.blockingReasons)")
        #expect(verdict.startPoint == expectedStart)
        let startPoint = try #require(verdict.startPoint)
        let source = testbed.forwardSource(startPoint)
        let statements = try ForwardSetup.statements(source, kind: facts.targetKind, dialect: dialect)
        let rendered = statements.map { $0.renderedHidingSecrets(for: .mysql(noBackslashEscapes: false)) }
        #expect(rendered.allSatisfy { !$0.contains(testbed.replicationPassword) })
        #expect(rendered.first?.hasPrefix(startPoint == .autoPosition ? "CALL mysql.rds_set_external_source_with_auto_position(" : "CALL mysql.rds_set_external_source(") == true)

        let replica = try ForwardSetup.replicaController(on: testbed.auroraAdmin, dialect: dialect, kind: facts.targetKind)
        try await replica.configureSource(source, logger: logger)
        _ = try await replica.startReplication(logger: logger)
        // Writes while the proof samples: the received position must move.
        let writer = Task {
            for id in 1000...1040 {
                try await testbed.sourceRoot.run("INSERT INTO app.items (id, note) VALUES (\(id), 'after start')")
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let sourceController = try await testbed.sourceController()
        let (proof, samples) = try await ForwardSetup.prove(replica: replica, source: sourceController, timeout: .seconds(30), interval: .milliseconds(100), logger: logger)
        try await writer.value
        guard case .running = proof else {
            Issue.record("not proved: \(proof) after \(samples.count) samples")
            return
        }
        let (last, within) = try await ForwardSetup.waitWithinBudget(
            replica: replica, source: sourceController, budget: .zero, timeout: .seconds(30), interval: .milliseconds(100), logger: logger)
        #expect(within, "\(last)")
        #expect(try await ReplicationTestbed.count(on: testbed.auroraRoot) == ReplicationTestbed.count(on: testbed.sourceRoot))
    }

    @Test(arguments: SandboxServerKind.allCases)
    func fromAFileAndPosition(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            try await ReplicationTestbed.insert(1...20, on: testbed.sourceRoot)
            // The "copy": rows 1–20 restored on Aurora outside its binlog, and the position they were copied at.
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 0")
            try await ReplicationTestbed.insert(1...20, on: testbed.auroraRoot)
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 1")
            let position = try await testbed.sourceController().sourceStatus(logger: testbed.logger).position
            try await Self.startAndProve(testbed, .position(position), expectedStart: .position(position))
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func byGTIDAutoPosition(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            try await ReplicationTestbed.insert(1...20, on: testbed.sourceRoot)
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 0")
            try await ReplicationTestbed.insert(1...20, on: testbed.auroraRoot)
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 1")
            if server == .mysql {
                // The testbed seeded gtid_purged as a restore would; forget it to see the refusal of an empty state.
                try await testbed.auroraRoot.run("RESET BINARY LOGS AND GTIDS")
            }
            // An empty GTID state (MariaDB's gtid_slave_pos, MySQL's gtid_executed) is refused: it would replay the
            // whole history.
            let (empty, _) = try await ForwardSetup.readFacts(source: testbed.sourceRoot, target: testbed.auroraAdmin, login: .succeeded, logger: testbed.logger)
            #expect(empty.targetIsMariaDB == (server == .mariadb))
            #expect(ForwardSetup.verdict(for: .gtid, facts: empty).blockingReasons.map(\.check) == ["forward.gtid-state"])
            switch server {
            case .mariadb:
                // What restoring a `mariadb-dump --gtid --master-data=1` dump does: gtid_slave_pos = the source's.
                let gtid = try #require(try await testbed.sourceRoot.queryFirst("SELECT @@GLOBAL.gtid_binlog_pos AS pos")?["pos"]?.string)
                try await testbed.auroraRoot.run("SET GLOBAL gtid_slave_pos = \(gtid)")
            case .mysql:
                // What restoring a `mysqldump --set-gtid-purged=ON` dump does: gtid_purged = the source's executed set.
                #expect(empty.sourceGTIDMode?.uppercased() == "ON" && empty.targetGTIDMode?.uppercased() == "ON", "\(empty)")
                let gtid = try #require(try await testbed.sourceRoot.queryFirst("SELECT @@GLOBAL.gtid_executed AS executed")?["executed"]?.string)
                try await testbed.auroraRoot.run("SET GLOBAL gtid_purged = \(gtid)")
            }
            try await Self.startAndProve(testbed, .gtid, expectedStart: .autoPosition)
        }
    }

    /// `mariadb-dump --master-data=2 --gtid` on MariaDB; `mysqldump --source-data=2 --set-gtid-purged=ON` on MySQL
    /// 9.7, whose header has a commented `CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE=…, SOURCE_LOG_POS=…` and a live
    /// `SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '…'` that the restore runs.
    @Test(arguments: SandboxServerKind.allCases)
    func fromADumpHeader(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            try await ReplicationTestbed.insert(1...50, on: testbed.sourceRoot)
            let path = testbed.source.directory + "/copy.sql"
            try await testbed.source.dump(databases: ["app"], to: path)
            // Writes after the dump: they must arrive through replication, not the copy.
            try await ReplicationTestbed.insert(51...60, on: testbed.sourceRoot)
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 0")
            try await testbed.auroraRoot.run("DROP DATABASE app")
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 1")
            if server == .mysql {
                // A fresh restore target: the dump's `SET @@GLOBAL.GTID_PURGED='+…'` refuses GTIDs the target already
                // has (3546), and the testbed seeded the source's earlier set as if from an earlier restore.
                try await testbed.auroraRoot.run("RESET BINARY LOGS AND GTIDS")
            }
            try await testbed.aurora.restore(from: path)
            #expect(try await ReplicationTestbed.count(on: testbed.auroraRoot) == 50)
            let dump = try String(contentsOfFile: path, encoding: .utf8)
            let coordinates = try DumpCoordinates.parse(dump, trailer: String(dump.suffix(4096)))
            let position = try #require(coordinates.position)
            #expect(coordinates.positionCommented)
            switch server {
            case .mariadb:
                #expect(coordinates.mariaDBGTIDSlavePosition != nil)
            case .mysql:
                #expect(coordinates.syntax == .changeReplicationSource, "\(coordinates)")
                let purged = try #require(coordinates.mySQLGTIDPurged, "\(coordinates)")
                #expect(coordinates.gtidPurgedAppends)
                // The restore ran the dump's GTID_PURGED: the target's gtid_executed is the dump's set.
                let executed = try #require(try await testbed.auroraRoot.queryFirst("SELECT @@GLOBAL.gtid_executed AS executed")?["executed"]?.string)
                #expect(try MySQLGTIDSet(parsing: executed).contains(MySQLGTIDSet(parsing: purged)), "\(executed) vs \(purged)")
                // The same header without its position: auto-positioning, accepted because the target holds the set.
                var gtidOnly = coordinates
                gtidOnly.position = nil
                let (facts, _) = try await ForwardSetup.readFacts(source: testbed.sourceRoot, target: testbed.auroraAdmin, login: .succeeded, logger: testbed.logger)
                let byGTID = ForwardSetup.verdict(for: .dump(gtidOnly), facts: facts)
                #expect(byGTID.blockingReasons.isEmpty, "\(byGTID.blockingReasons)")
                #expect(byGTID.startPoint == .autoPosition)
                // The verdict with the position says the GTID set is there too, and starts from the position.
                let byPosition = ForwardSetup.verdict(for: .dump(coordinates), facts: facts)
                #expect(byPosition.notes.contains { $0.contains("GTID_PURGED") }, "\(byPosition.notes)")
            }
            try await Self.startAndProve(testbed, .dump(coordinates), expectedStart: .position(position))
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func refusalsNameTheCheckAndChangeNothing(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let position = try await testbed.sourceController().sourceStatus(logger: testbed.logger).position
            let purged = try BinlogPosition(file: String(position.baseName) + ".000000", offset: 4)
            let refused = await Self.login(testbed, password: "not-the-password")
            guard case .refused = refused else {
                Issue.record("a wrong password must be refused, got \(refused)")
                return
            }
            let (facts, _) = try await ForwardSetup.readFacts(source: testbed.sourceRoot, target: testbed.auroraAdmin, login: refused, logger: testbed.logger)
            let verdict = ForwardSetup.verdict(for: .position(purged), facts: facts)
            #expect(Set(verdict.blockingReasons.map(\.check)) == ["forward.binlog-file", "forward.login"])
            #expect(!verdict.canProceed)
            let rds = try await testbed.rdsController()
            #expect(try await rds.replicaStatus(logger: testbed.logger).isConfigured == false)
        }
    }
}
