import Cutover
import CutoverSandbox
import Logging
import ProxySQLAdmin
import MariaDB
import ReplicationControl
import Testing

/// Issue #13, item 2 (rest): the cut-over proves catch-up by GTIDs where the new writer positions itself by GTID
/// (`WAIT_FOR_EXECUTED_GTID_SET` on MySQL, `MASTER_GTID_WAIT` on MariaDB), by file and position otherwise. Before,
/// every catch-up was proved by `MASTER_POS_WAIT` / `SOURCE_POS_WAIT` whatever the servers offered.
@Suite(.integration, .serialized)
struct CatchUpProofIntegrationTests {
    @Test(arguments: SandboxServerKind.allCases)
    func gtidReplicaIsProvedByGTIDs(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let source = try await ReplicationControlDatabase.connect(
                name: "source", session: testbed.sourceRoot, useRDSProcedures: false, logger: logger)
            let aurora: ReplicationControlDatabase
            switch server {
            case .mysql:
                // Aurora MySQL with auto-position (`mysql.rds_set_external_source_with_auto_position`).
                let rds = try await testbed.rdsController()
                try await rds.configureSource(testbed.forwardSource(.autoPosition), logger: logger)
                _ = try await rds.startReplication(logger: logger)
                aurora = try await ReplicationControlDatabase.connect(
                    name: "aurora", session: testbed.auroraAdmin, useRDSProcedures: true, logger: logger)
            case .mariadb:
                // A MariaDB replica started from a GTID position (`MASTER_USE_GTID = slave_pos`), as the cut-over
                // starts reverse replication into a MariaDB source (the failback then waits on it).
                aurora = try await ReplicationControlDatabase.connect(
                    name: "aurora", session: testbed.auroraRoot, useRDSProcedures: false, logger: logger)
                try await aurora.startReplication(
                    from: ServerEndpoint(host: "127.0.0.1", port: testbed.source.port),
                    user: ReplicationTestbed.replicationUser, password: testbed.replicationPassword,
                    tls: .disabled, at: try await source.currentPosition(logger: logger), timeout: .seconds(10),
                    logger: logger)
            }
            try await ReplicationTestbed.insert(1...20, on: testbed.sourceRoot)
            let final = try await source.currentPosition(logger: logger)
            #expect(final.gtidSet?.isEmpty == false, "\(final)")
            let result = try await aurora.proveCatchUp(to: final, timeout: .seconds(20), logger: logger)
            switch server {
            case .mysql:
                #expect(result.method == .waitFunction("WAIT_FOR_EXECUTED_GTID_SET"), "\(result)")
                guard case .mysqlGTIDSet = result.target else {
                    Issue.record("target \(result.target)")
                    return
                }
            case .mariadb:
                #expect(result.method == .waitFunction("MASTER_GTID_WAIT"), "\(result)")
                guard case .mariaDBGTIDPosition = result.target else {
                    Issue.record("target \(result.target)")
                    return
                }
            }
            #expect(try await ReplicationTestbed.count(on: testbed.auroraRoot) == 20)
        }
    }

    @Test(arguments: SandboxServerKind.allCases)
    func positionReplicaIsProvedByPosition(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            _ = try await testbed.startForwardReplication()
            try await ReplicationTestbed.insert(1...5, on: testbed.sourceRoot)
            let source = try await ReplicationControlDatabase.connect(
                name: "source", session: testbed.sourceRoot, useRDSProcedures: false, logger: logger)
            let aurora = try await ReplicationControlDatabase.connect(
                name: "aurora", session: testbed.auroraAdmin, useRDSProcedures: true, logger: logger)
            let final = try await source.currentPosition(logger: logger)
            let result = try await aurora.proveCatchUp(to: final, timeout: .seconds(20), logger: logger)
            guard case .position = result.target else {
                Issue.record("a replica started at a position was proved by \(result.target)")
                return
            }
            #expect(try await ReplicationTestbed.count(on: testbed.auroraRoot) == 5)
        }
    }
}
