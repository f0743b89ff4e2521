import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Testing

@testable import Cutover

/// The dry run: the live executor's code against simulated parts, recording the exact statements.
@Suite("Dry run")
struct DryRunExecutorTests {
    static let logger = Logger(label: "dry-run-tests")

    static let topology: CutoverTopology = {
        let source = ServerEndpoint(host: "10.0.0.5", port: 3306)
        let target = ServerEndpoint(host: "aurora.cluster-x", port: 3306)
        return CutoverTopology(
            source: .init(writer: .init(hostgroup: 10, endpoint: source), reader: .init(hostgroup: 11, endpoint: source)),
            target: .init(writer: .init(hostgroup: 10, endpoint: target), reader: .init(hostgroup: 11, endpoint: target)),
            proxyNodes: ["proxysql-1", "proxysql-2"],
            sourceReplicationEndpoint: source,
            targetReplicationEndpoint: target,
            forwardReplicationUser: "repl_aurora",
            reverseReplicationUser: "repl_reverse",
            applicationUsers: ["app"]
        )
    }()

    /// The sandbox's dialects: MariaDB on both sides, the "Aurora" with the version-2 procedure names.
    static let mariaDB = ReplicationDialect(server: .mariaDB, version: ServerVersion(10, 11, 6))
    static let mariaDBWithProcedures = ReplicationDialect(
        server: .mariaDB, version: ServerVersion(10, 11, 6), rdsProcedures: .auroraVersion2)

    func plan(
        _ operation: CutoverOperation,
        policy: CutoverPolicy = CutoverPolicy(),
        source: ReplicationDialect = DryRunEnvironment.assumedSourceDialect,
        target: ReplicationDialect = DryRunEnvironment.assumedTargetDialect
    ) async -> DryRunPlan {
        let environment = DryRunEnvironment.startingState(
            for: operation, topology: Self.topology, policy: policy, source: source, target: target)
        return await DryRunExecutor.plan(operation, environment: environment, logger: Self.logger)
    }

    @Test("a writer cut-over plan completes and lists every change, per endpoint, in order")
    func writerCutover() async throws {
        let plan = await plan(.writerCutover)
        #expect(plan.outcome == .completed)
        let proxy = plan.statements(for: "proxysql-1").filter(\.isChange).map(\.text)
        #expect(
            proxy == [
                "UPDATE global_variables SET variable_value = '0' WHERE variable_name = 'mysql-query_retries_on_failure'",
                "LOAD MYSQL VARIABLES TO RUNTIME",
                "UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostgroup_id = 10 AND hostname = '10.0.0.5' AND port = 3306",
                "LOAD MYSQL SERVERS TO RUNTIME",
                "UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE hostgroup_id = 10 AND hostname = '10.0.0.5' AND port = 3306",
                "LOAD MYSQL SERVERS TO RUNTIME",
                "KILL CONNECTION <SessionID>",
                "UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE hostgroup_id = 10 AND hostname = '10.0.0.5' AND port = 3306",
                "UPDATE mysql_servers SET status = 'ONLINE' WHERE hostgroup_id = 10 AND hostname = 'aurora.cluster-x' AND port = 3306",
                "LOAD MYSQL SERVERS TO RUNTIME",
                "UPDATE global_variables SET variable_value = '1' WHERE variable_name = 'mysql-query_retries_on_failure'",
                "LOAD MYSQL VARIABLES TO RUNTIME",
                "SAVE MYSQL SERVERS TO DISK",
            ]
        )
        #expect(plan.statements(for: "proxysql-2").map(\.text) == plan.statements(for: "proxysql-1").map(\.text))
        let source = plan.statements(for: "source").filter(\.isChange).map(\.text)
        #expect(
            source == [
                "KILL CONNECTION <id>",
                "SET GLOBAL super_read_only = ON",
                "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'aurora.cluster-x', SOURCE_PORT = 3306, SOURCE_USER = 'repl_reverse', SOURCE_PASSWORD = '<redacted>', SOURCE_LOG_FILE = <target binlog file>, SOURCE_LOG_POS = <target binlog offset>, SOURCE_AUTO_POSITION = 0, SOURCE_SSL = 1 FOR CHANNEL ''",
                "CHANGE REPLICATION FILTER REPLICATE_WILD_IGNORE_TABLE = ('mysql.rds\\\\_%'), REPLICATE_IGNORE_DB = () FOR CHANNEL ''",
                "START REPLICA FOR CHANNEL ''",
                // After the point of no return the fence is confirmed and persisted (MySQL 8: a restart keeps it).
                "SET PERSIST read_only = ON",
                "SET PERSIST super_read_only = ON",
            ]
        )
        let target = plan.statements(for: "target").filter(\.isChange).map(\.text)
        #expect(target == ["CALL mysql.rds_stop_replication", "CALL mysql.rds_reset_external_source"])
        // The point of no return is the target writer's ONLINE: every later step is marked.
        let online = try #require(plan.steps.firstIndex { $0.action == "set target writer ONLINE + LOAD" })
        #expect(plan.steps[..<(online + 1)].allSatisfy { !$0.pastPointOfNoReturn })
        #expect(plan.steps[(online + 1)...].allSatisfy { $0.pastPointOfNoReturn })
        // The repeated statements are marked.
        #expect(plan.steps.flatMap(\.statements).filter(\.repeatsPerRow).map(\.text).allSatisfy { $0.hasPrefix("KILL") })
    }

    @Test("the plan shows the replication settle after preparing the proxy and before OFFLINE_SOFT: a position read, a wait")
    func replicationSettle() async throws {
        let cutover = await plan(.writerCutover)
        #expect(cutover.outcome == .completed)
        let settle = try #require(cutover.steps.firstIndex { $0.action.hasPrefix("let target come within 10.0 ms of source") })
        #expect(cutover.steps[settle].action.contains("at most 10.0 s"))
        #expect(cutover.steps[settle].outcome == "target settle ended after 1 wait(s)")
        #expect(cutover.steps[settle - 1].action.hasPrefix("prepare ProxySQL"))
        #expect(cutover.steps[settle + 1].action == "set source writer OFFLINE_SOFT + LOAD")
        let statements = cutover.steps[settle].statements
        #expect(statements.allSatisfy { !$0.isChange })
        #expect(statements.contains { $0.endpoint == "source" && ($0.text.contains("MASTER STATUS") || $0.text.contains("BINARY LOG STATUS")) })
        #expect(statements.contains { $0.endpoint == "target" && $0.text.contains("POS_WAIT") })
        // A failback settles the source on the target.
        let failback = await plan(.writerFailback)
        #expect(failback.steps.contains { $0.action.hasPrefix("let source come within 10.0 ms of target") })
        // And with a zero deadline there is no settle.
        let none = await plan(.writerCutover, policy: CutoverPolicy(replicationSettleDeadline: .zero))
        #expect(!none.steps.contains { $0.action.hasPrefix("let target come within") })
    }

    @Test("the same inputs give the same plan")
    func deterministic() async {
        let first = await plan(.writerCutover)
        let second = await plan(.writerCutover)
        #expect(first == second)
    }

    @Test("on the sandbox's dialects: MariaDB statements on the source, the version-2 procedures on the target")
    func sandboxDialects() async {
        let failback = await plan(.writerFailback, source: Self.mariaDB, target: Self.mariaDBWithProcedures)
        #expect(failback.outcome == .completed)
        let target = failback.statements(for: "target").filter(\.isChange).map(\.text)
        #expect(
            target == [
                // The stand-in has the mysql.rds_* procedures: like RDS, sessions are closed with mysql.rds_kill.
                "CALL mysql.rds_kill(<id>)",
                "CALL mysql.rds_set_external_master('10.0.0.5', 3306, 'repl_aurora', '<redacted>', <source binlog file>, <source binlog offset>, 1)",
                "CALL mysql.rds_start_replication",
            ]
        )
        let source = failback.statements(for: "source").filter(\.isChange).map(\.text)
        // MariaDB has no SET PERSIST: the fence is lifted again at runtime after the point of no return (a restart
        // could have brought back an option file's read_only), and the option-file lines to take out are reported.
        #expect(source == ["SET GLOBAL read_only = OFF", "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF"])
    }

    @Test("a failback onto a MySQL 8 source makes it writable for good: the persisted fence is reset")
    func failbackResetsPersistedFence() async {
        let failback = await plan(.writerFailback)
        #expect(failback.outcome == .completed)
        let source = failback.statements(for: "source").filter(\.isChange).map(\.text)
        #expect(
            Array(source.suffix(4)) == [
                "SET GLOBAL super_read_only = OFF", "SET GLOBAL read_only = OFF",
                "RESET PERSIST IF EXISTS super_read_only", "RESET PERSIST IF EXISTS read_only",
            ], "\(source)")
    }

    @Test("on Aurora, sessions are closed with mysql.rds_kill and the old writer is not fenced")
    func auroraFailback() async {
        let failback = await plan(.writerFailback)
        let target = failback.statements(for: "target").filter(\.isChange).map(\.text)
        #expect(target.first == "CALL mysql.rds_kill(<id>)")
        #expect(!target.contains { $0.contains("read_only") })
    }

    @Test("a reader cut-over touches only the reader rows and no database")
    func readerCutover() async {
        let plan = await plan(.readerCutover)
        #expect(plan.outcome == .completed)
        #expect(plan.statements(for: "source").allSatisfy { !$0.isChange })
        #expect(plan.statements(for: "target").allSatisfy { !$0.isChange })
        let changes = plan.statements(for: "proxysql-1").filter(\.isChange).map(\.text)
        #expect(changes.filter { $0.hasPrefix("UPDATE") }.allSatisfy { $0.contains("hostgroup_id = 11") })
        #expect(changes.last == "SAVE MYSQL SERVERS TO DISK")
    }

    @Test("simulated guards refuse when the new writer does not replicate")
    func refusedWhenNotReplicating() async {
        var environment = DryRunEnvironment.startingState(for: .writerCutover, topology: Self.topology, policy: CutoverPolicy())
        environment.targetState = DryRunDatabase.State()
        let plan = await DryRunExecutor.plan(.writerCutover, environment: environment, logger: Self.logger)
        guard case .refused(let reasons) = plan.outcome else {
            Issue.record("expected refused, got \(plan.outcome)")
            return
        }
        #expect(reasons.map(\.check) == ["replication.configured"])
        #expect(plan.steps.count == 1)
    }

    @Test("reads may move to the database that takes the writes without replicating into it; not to another")
    func readerFailbackToThePrimary() async throws {
        var environment = DryRunEnvironment.startingState(for: .readerFailback, topology: Self.topology, policy: CutoverPolicy())
        // After a writer failback: the source is the primary again, the target replicates from it.
        environment.sourceState = DryRunDatabase.State()
        environment.targetState = DryRunDatabase.State(replicatingFrom: Self.topology.sourceReplicationEndpoint, replicationRunning: true)
        let plan = await DryRunExecutor.plan(.readerFailback, environment: environment, logger: Self.logger)
        #expect(plan.outcome == .completed)
        // The same state while the target still takes the writes: the source is stale, refused.
        for node in Self.topology.proxyNodes {
            var rows = try #require(environment.proxyNodes[node]).servers
            for index in rows.indices where rows[index].hostgroup == 10 {
                rows[index].status = rows[index].endpoint == Self.topology.target.writer.endpoint ? .online : .offlineHard
            }
            environment.proxyNodes[node] = DryRunProxySQLNode.State(servers: rows)
        }
        let refused = await DryRunExecutor.plan(.readerFailback, environment: environment, logger: Self.logger)
        guard case .refused(let reasons) = refused.outcome else {
            Issue.record("expected refused, got \(refused.outcome)")
            return
        }
        #expect(reasons.map(\.check) == ["replication.configured"])
    }

    @Test("with the pin relaxed the plan shows the settle: its bound, one processlist read per node, before OFFLINE_SOFT")
    func relaxedPinSettle() async throws {
        var policy = CutoverPolicy()
        policy.autoIncrementPin = .relax
        let plan = await plan(.writerCutover, policy: policy)
        #expect(plan.outcome == .completed)
        let settle = try #require(plan.steps.firstIndex { $0.action.hasPrefix("let auto-increment pins on source writer run out") })
        #expect(plan.steps[settle].action.contains("0.2 seconds"))
        #expect(plan.steps[settle - 1].action.hasPrefix("prepare ProxySQL"))
        #expect(plan.steps[settle - 1].statements.map(\.text).contains(
            "UPDATE global_variables SET variable_value = '0' WHERE variable_name = 'mysql-auto_increment_delay_multiplex'"))
        #expect(plan.steps[settle + 1].action.hasPrefix("let target come within"))
        #expect(plan.steps[settle + 2].action == "set source writer OFFLINE_SOFT + LOAD")
        let reads = plan.steps[settle].statements
        #expect(reads.map(\.endpoint) == ["proxysql-1", "proxysql-2"])
        #expect(reads.allSatisfy { $0.text.hasPrefix("SELECT * FROM stats_mysql_processlist WHERE srv_host = '10.0.0.5'") && !$0.isChange })
        #expect(plan.steps[settle].outcome.hasPrefix("no session holds source writer"))
        // The settle changes nothing, and the kept pin has no settle.
        #expect(!(await self.plan(.writerCutover)).steps.contains { $0.action.contains("auto-increment pins") })
    }

    @Test("resume --dry-run: after the point of no return the remaining steps; before it, the rollback")
    func planResume() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dry-resume-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = DryRunEnvironment.startingState(for: .writerCutover, topology: Self.topology, policy: CutoverPolicy())
        let journal = try CutoverJournal(path: directory + "/journal.jsonl")
        let runner = CutoverRunner(
            configuration: .init(operation: .writerCutover, policy: environment.policy, topologyFingerprint: Self.topology.fingerprint),
            executor: DryRunExecutor(environment: environment), journal: journal, logger: Self.logger)
        #expect(try await runner.run().outcome == .completed)
        await journal.close()
        let entries = try CutoverJournal.read(path: directory + "/journal.jsonl")

        // The process "died" right after the new writer went ONLINE: only forward.
        let online = try #require(entries.lastIndex { $0.kind == .event && $0.step == "onlineNew" })
        let after = try await DryRunExecutor.planResume(entries: Array(entries[...online]), environment: environment, logger: Self.logger)
        #expect(after.outcome == .completed)
        #expect(after.steps.first?.action.hasPrefix("watch target writer for SHUNNED") == true)
        #expect(after.steps.dropFirst().first?.action == "stop and reset replication on target")
        #expect(!after.steps.contains { $0.action.hasPrefix("set ") })

        // It "died" while draining: the rollback puts the old writer back.
        let drain = try #require(entries.firstIndex { $0.kind == .action && $0.step == "drainOld" })
        let before = try await DryRunExecutor.planResume(entries: Array(entries[...drain]), environment: environment, logger: Self.logger)
        guard case .rolledBack = before.outcome else {
            Issue.record("expected a rollback, got \(before.outcome)")
            return
        }
        #expect(before.steps.map(\.action).contains("set source writer ONLINE + LOAD"))

        await #expect(throws: CutoverError.self) {
            try await DryRunExecutor.planResume(entries: entries, environment: environment, logger: Self.logger)
        }
    }

    @Test("a planned statement matches the journaled form of what a live run sent", arguments: [
        ("KILL CONNECTION <SessionID>", "KILL CONNECTION 42", true),
        ("KILL CONNECTION <SessionID>", "KILL CONNECTION ", false),
        ("CHANGE MASTER TO MASTER_LOG_FILE = '…', MASTER_LOG_POS = <target binlog offset>, MASTER_SSL = 0", "CHANGE MASTER TO MASTER_LOG_FILE = '…', MASTER_LOG_POS = 328, MASTER_SSL = 0", true),
        ("CHANGE MASTER TO MASTER_PASSWORD = '<redacted>', MASTER_LOG_POS = <o>", "CHANGE MASTER TO MASTER_PASSWORD = '<redacted>', MASTER_LOG_POS = 1", true),
        ("LOAD MYSQL SERVERS TO RUNTIME", "LOAD MYSQL SERVERS TO RUNTIME", true),
        ("LOAD MYSQL SERVERS TO RUNTIME", "LOAD MYSQL VARIABLES TO RUNTIME", false),
    ])
    func matching(planned: String, journaled: String, matches: Bool) {
        let statement = PlannedStatement(endpoint: "x", text: planned, redacted: planned)
        #expect(statement.matches(journaled: journaled) == matches)
    }
}
