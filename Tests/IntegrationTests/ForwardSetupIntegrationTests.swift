import Cutover
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ReplicationControl
import Testing

/// `replication start-forward`'s library part on real servers: the pre-checks read from the sandbox, the
/// procedures of the Aurora stand-in called by its restricted admin, the proof, and rows replicated afterwards —
/// from each kind of coordinates (file/position, GTID, a dump header written by mariadb-dump).
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

    @Test func fromAFileAndPosition() async throws {
        try await withReplicationTestbed { testbed in
            try await ReplicationTestbed.insert(1...20, on: testbed.sourceRoot)
            // The "copy": rows 1–20 restored on Aurora outside its binlog, and the position they were copied at.
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 0")
            try await ReplicationTestbed.insert(1...20, on: testbed.auroraRoot)
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 1")
            let position = try await testbed.sourceController().sourceStatus(logger: testbed.logger).position
            try await Self.startAndProve(testbed, .position(position), expectedStart: .position(position))
        }
    }

    @Test func byGTIDAutoPosition() async throws {
        try await withReplicationTestbed { testbed in
            try await ReplicationTestbed.insert(1...20, on: testbed.sourceRoot)
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 0")
            try await ReplicationTestbed.insert(1...20, on: testbed.auroraRoot)
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 1")
            // An empty gtid_slave_pos is refused (it would replay the whole history).
            let (empty, _) = try await ForwardSetup.readFacts(source: testbed.sourceRoot, target: testbed.auroraAdmin, login: .succeeded, logger: testbed.logger)
            #expect(ForwardSetup.verdict(for: .gtid, facts: empty).blockingReasons.map(\.check) == ["forward.gtid-state"])
            // What restoring a `mariadb-dump --gtid --master-data=1` dump does: gtid_slave_pos = the source's.
            let gtid = try #require(try await testbed.sourceRoot.queryFirst("SELECT @@GLOBAL.gtid_binlog_pos AS pos")?["pos"]?.string)
            try await testbed.auroraRoot.run("SET GLOBAL gtid_slave_pos = \(gtid)")
            try await Self.startAndProve(testbed, .gtid, expectedStart: .autoPosition)
        }
    }

    @Test func fromADumpHeaderWrittenByMariaDBDump() async throws {
        try await withReplicationTestbed { testbed in
            try await ReplicationTestbed.insert(1...50, on: testbed.sourceRoot)
            let path = testbed.source.directory + "/copy.sql"
            try await testbed.source.dump(databases: ["app"], to: path)
            // Writes after the dump: they must arrive through replication, not the copy.
            try await ReplicationTestbed.insert(51...60, on: testbed.sourceRoot)
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 0")
            try await testbed.auroraRoot.run("DROP DATABASE app")
            try await testbed.auroraRoot.run("SET SESSION sql_log_bin = 1")
            try await testbed.aurora.restore(from: path)
            #expect(try await ReplicationTestbed.count(on: testbed.auroraRoot) == 50)
            let dump = try String(contentsOfFile: path, encoding: .utf8)
            let coordinates = try DumpCoordinates.parse(dump, trailer: String(dump.suffix(4096)))
            let position = try #require(coordinates.position)
            #expect(coordinates.positionCommented)
            #expect(coordinates.mariaDBGTIDSlavePosition != nil)
            try await Self.startAndProve(testbed, .dump(coordinates), expectedStart: .position(position))
        }
    }

    @Test func refusalsNameTheCheckAndChangeNothing() async throws {
        try await withReplicationTestbed { testbed in
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
