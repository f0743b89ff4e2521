import Cutover
import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Foundation
import InMemoryLogging
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

/// The fault suites' practice topology: a ``Rehearsal`` (source, "Aurora", ProxySQL emulator) and, optionally, a
/// second ProxySQL emulator node with the same rows, shared by the tests of one suite. Each test leaves it in the
/// starting state (source writer ONLINE, forward replication running) or repairs it.
final class FaultBed: Sendable {
    static let secondNodeName = "proxysql-emulator-2"

    let rehearsal: Rehearsal
    let secondNode: ProxySQLEmulator?
    let logger: Logger
    /// Whether the cut-over's admin sessions can reach the second node (its data plane keeps serving either way:
    /// a partition between the tool and one ProxySQL node).
    let secondNodeReachable = Mutex(true)

    var source: SandboxServer { rehearsal.source }
    /// Which servers the bed runs: MariaDB, or MySQL 9.7 (`.faultBed(kinds: FaultBed.kinds)`).
    var kind: SandboxServerKind { rehearsal.options.serverKind }
    var target: SandboxServer { rehearsal.target }
    var topology: CutoverTopology {
        var topology = rehearsal.topology
        if secondNode != nil { topology.proxyNodes.append(switchableNodeName) }
        return topology
    }

    /// The name of the node the tool can be cut off from: ``secondNodeName`` on a bed of two nodes, the last name
    /// of the fleet on a larger bed (issue #16).
    var switchableNodeName: String { Rehearsal.proxyNodeName(rehearsal.emulators.count) }

    /// Every ProxySQL node, by name, with its admin configuration.
    var proxyNodes: [(name: String, configuration: MariaDBConnection.Configuration)] {
        var nodes = zip(rehearsal.proxyNodeNames, rehearsal.emulators).map { ($0, $1.adminConfiguration) }
        if let secondNode { nodes.append((switchableNodeName, secondNode.adminConfiguration)) }
        return nodes
    }

    private init(rehearsal: Rehearsal, secondNode: ProxySQLEmulator?, logger: Logger) {
        self.rehearsal = rehearsal
        self.secondNode = secondNode
        self.logger = logger
    }

    /// - Parameter fleetNodes: nodes of the rehearsal (every one reachable); the switchable node comes on top.
    /// - Parameter kind: the servers (MariaDB, or MySQL 9.7).
    static func start(
        secondNode: Bool, fleetNodes: Int = 1, kind: SandboxServerKind = .mariadb, logger: Logger
    ) async throws -> FaultBed {
        var options = Rehearsal.Options(adminLatency: .fast, serverKind: kind)
        options.proxyNodes = fleetNodes
        let rehearsal = try await Rehearsal.start(options: options, logger: logger)
        guard secondNode else { return FaultBed(rehearsal: rehearsal, secondNode: nil, logger: logger) }
        do {
            let emulator = try await ProxySQLEmulator.start(
                configuration: {
                    var configuration = ProxySQLEmulator.Configuration(
                        adminPassword: Rehearsal.randomSecretForTests(),
                        frontendUsers: [rehearsal.applicationAccount]
                    )
                    configuration.adminLatency = .fast
                    return configuration
                }(),
                logger: logger
            )
            let admin = try await ProxySQLAdminClient.connect(
                configuration: emulator.adminConfiguration, logger: logger)
            let topology = rehearsal.topology
            for (key, status) in [
                (topology.source.writer, BackendStatus.online), (topology.source.reader!, .online),
                (topology.target.writer, .offlineHard), (topology.target.reader!, .offlineHard),
            ] {
                try await admin.addServer(
                    BackendServer(hostgroup: key.hostgroup, endpoint: key.endpoint, status: status), logger: logger)
            }
            try await admin.loadServersToRuntime(logger: logger)
            try await admin.saveServersToDisk(logger: logger)
            await admin.close()
            return FaultBed(rehearsal: rehearsal, secondNode: emulator, logger: logger)
        } catch {
            await rehearsal.stop()
            throw error
        }
    }

    func stop() async {
        await secondNode?.stop()
        await rehearsal.stop()
    }

    /// Every secret of the topology: none may appear in output, journal or logs.
    func secrets(of environment: CutoverEnvironment) -> [String] {
        var secrets = [
            environment.forwardReplicationPassword, environment.reverseReplicationPassword,
            rehearsal.applicationAccount.password, rehearsal.emulator.configuration.adminPassword,
            rehearsal.auroraShim.adminPassword, source.rootConfiguration.password ?? "",
            target.rootConfiguration.password ?? "",
        ]
        if let secondNode { secrets.append(secondNode.configuration.adminPassword) }
        return secrets.filter { $0.count >= 6 }
    }

    /// A live environment over fresh connections (every ProxySQL node of the bed).
    func makeEnvironment(logger: Logger) async throws -> (CutoverEnvironment, @Sendable () async -> Void) {
        let (made, close) = try await rehearsal.makeEnvironment(logger: logger)
        var environment = made
        guard let secondNode else { return (environment, close) }
        let secondSession = try await ReconnectingSQLSession.connect(
            configuration: secondNode.adminConfiguration, logger: logger)
        let second = ProxySQLAdminClient(
            session: SwitchableSQLSession(
                base: RecordingSQLSession(secondSession, name: switchableNodeName),
                reachable: { [self] in self.secondNodeReachable.withLock { $0 } }
            ),
            name: switchableNodeName
        )
        environment.topology = topology
        environment.proxies = ProxySQLCluster(
            nodes: environment.proxies.nodes + [second],
            nodeDeadline: environment.proxies.nodeDeadline
        )
        return (
            environment,
            {
                await close()
                await secondSession.close()
            }
        )
    }

    // MARK: State

    /// The ONLINE servers of the writer hostgroup in the runtime of one node (`host:port`).
    func runtimeWriters(node configuration: MariaDBConnection.Configuration) async throws -> [String] {
        let admin = try await MariaDBConnection.connect(configuration: configuration)
        let rows: [Row]
        do {
            rows = try await admin.query(
                "SELECT hostname, port, status FROM runtime_mysql_servers WHERE hostgroup_id = 10",
                timeout: .seconds(5)
            )
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        // SHUNNED is ProxySQL's own doing (a dead server refusing connections: #14 item 7) on a row configured
        // ONLINE: that writer is still the one routed to once it recovers.
        return rows.filter { $0[2].string == "ONLINE" || $0[2].string == "SHUNNED" }
            .map { "\($0[0].string ?? "?"):\($0[1].string ?? "?")" }
    }

    var sourceEndpoint: String { "127.0.0.1:\(source.port)" }
    var targetEndpoint: String { "127.0.0.1:\(target.port)" }

    /// `@@read_only` of a server (as root).
    func readOnly(_ server: SandboxServer) async throws -> Bool {
        let connection = try await server.connectAsRoot()
        let value = try await connection.queryFirst("SELECT @@global.read_only")?[0].string
        await connection.close()
        return value == "1"
    }

    /// Replication threads of a server (as root): nil when it replicates from nobody.
    func replication(_ server: SandboxServer) async throws -> (
        io: String, sql: String, host: String, port: String, error: String
    )? {
        let connection = try await server.connectAsRoot()
        let row = try await connection.queryFirst(sql.showReplicaStatus)
        await connection.close()
        guard let row else { return nil }
        let error = [row["Last_SQL_Error"]?.string, row["Last_IO_Error"]?.string].compactMap { $0 }.filter {
            !$0.isEmpty
        }
        func column(_ name: String) -> String { row[sql.replicaColumn(name)]?.string ?? "?" }
        return (
            column("Replica_IO_Running"), column("Replica_SQL_Running"), column("Source_Host"), column("Source_Port"),
            error.joined(separator: "; ")
        )
    }

    /// Checks the starting state: on every node only the source writer is ONLINE, the source accepts writes, and
    /// "Aurora" replicates from the source without error.
    func expectStartingState(
        _ label: String, checkReplication: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        for node in proxyNodes {
            let writers = try await runtimeWriters(node: node.configuration)
            #expect(
                writers == [sourceEndpoint], "\(label): \(node.name) routes writes to \(writers)",
                sourceLocation: sourceLocation)
        }
        #expect(
            try await readOnly(source) == false, "\(label): the source is read-only", sourceLocation: sourceLocation)
        if checkReplication {
            let replication = try await replication(target)
            #expect(
                replication?.sql == "Yes" && replication?.io == "Yes" && replication?.port == "\(source.port)",
                "\(label): Aurora's replication \(String(describing: replication))", sourceLocation: sourceLocation)
        }
    }

    /// Checks the cut-over state: on every node only the target writer is ONLINE; the source replicates from the
    /// target and is read-only; the target replicates from nobody.
    func expectCutOverState(
        _ label: String, checkReplication: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        for node in proxyNodes {
            let writers = try await runtimeWriters(node: node.configuration)
            #expect(
                writers == [targetEndpoint], "\(label): \(node.name) routes writes to \(writers)",
                sourceLocation: sourceLocation)
        }
        #expect(
            try await readOnly(source) == true, "\(label): the old source is writable", sourceLocation: sourceLocation)
        if checkReplication {
            #expect(
                try await replication(target) == nil, "\(label): Aurora still replicates",
                sourceLocation: sourceLocation)
            let reverse = try await replication(source)
            #expect(
                reverse?.sql == "Yes" && reverse?.io == "Yes" && reverse?.port == "\(target.port)",
                "\(label): reverse replication \(String(describing: reverse))", sourceLocation: sourceLocation)
        }
    }

    /// Waits (bounded) until `server` has executed what `origin` wrote so far.
    func waitForReplica(_ server: SandboxServer, of origin: SandboxServer, timeout: Duration = .seconds(20))
        async throws
    {
        let originConnection = try await origin.connectAsRoot()
        let status = try await originConnection.queryFirst(sql.showSourceStatus)
        await originConnection.close()
        let file = status?["File"]?.string ?? ""
        let position = status?["Position"]?.string ?? "0"
        let replica = try await server.connectAsRoot()
        let seconds = Int(timeout.components.seconds)
        let result = try await replica.queryFirst(
            sql.sourcePositionWait(file: file, position: Int64(position) ?? 0, seconds: seconds),
            timeout: timeout + .seconds(2)
        )
        await replica.close()
        let value = result?[0].string
        guard let value, value != "-1" else {
            throw FaultBedError(
                "\(server.name) did not catch up with \(origin.name) within \(timeout) (MASTER_POS_WAIT \(value ?? "NULL"))"
            )
        }
    }

    /// Brings the bed back to the starting state after a case that completed a cut-over: a writer failback with
    /// the default policy (and a check that it completed).
    func failBack(logger: Logger, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let report = try await runOperation(.writerFailback, logger: logger)
        try #require(
            report.outcome == .completed, "reset by failback: \(report.outcome)", sourceLocation: sourceLocation)
    }
}

/// A session that fails every statement, as an unreachable server would, while `reachable()` says no.
struct SwitchableSQLSession: SQLSession {
    let base: any SQLSession
    let reachable: @Sendable () -> Bool

    func execute(_ statement: SQLStatement, timeout: Duration?) async throws -> SQLResult {
        guard reachable() else {
            throw MariaDBError(
                code: .connectionFailed,
                serverErrorNumber: 2003,
                sqlState: "HY000",
                message: "Can't connect to server (111 \"Connection refused\")",
                statement: statement.redacted,
                endpoint: base.endpointDescription
            )
        }
        return try await base.execute(statement, timeout: timeout)
    }

    var dialect: SQLDialect { get async { await base.dialect } }
    var endpointDescription: String { base.endpointDescription }
}

struct FaultBedError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Rehearsal {
    /// A random secret for the second node's admin account.
    static func randomSecretForTests() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<20).map { _ in alphabet.randomElement()! })
    }
}

/// Policies of the fault cases: deadlines short enough to keep the suite fast, long enough for a loaded debug build.
enum FaultPolicies {
    static var standard: CutoverPolicy {
        var policy = CutoverPolicy()
        policy.drainDeadline = .seconds(1)
        policy.catchUpDeadline = .seconds(2)
        policy.fenceTimeout = .seconds(1)
        policy.replicationStepTimeout = .seconds(15)
        return policy
    }
}

/// Gives a suite one ``FaultBed`` per server kind it lists: the first kind's started before its first test and
/// the others at their first test case (``FaultBedPool``); all stopped after its last test.
struct FaultBedTrait: SuiteTrait, TestScoping {
    var secondNode: Bool
    var fleetNodes = 1
    var kinds: [SandboxServerKind] = [.mariadb]
    var isRecursive: Bool { false }

    @concurrent
    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @concurrent @Sendable () async throws -> Void
    ) async throws {
        let pool = FaultBedPool(secondNode: secondNode, fleetNodes: fleetNodes, kinds: kinds)
        do {
            try await FaultBedPool.$current.withValue(pool) {
                let first = kinds.first ?? .mariadb
                guard try IntegrationGate.skipIfUnavailable(first) else {
                    // Without the servers (and without REQUIRE_INTEGRATION / REQUIRE_MYSQL) the tests skip themselves.
                    try await FaultBed.$skipped.withValue(true) { try await function() }
                    return
                }
                let bed = try await pool.bed(first)
                try await FaultBed.$current.withValue(bed) { try await function() }
            }
            await pool.stop()
        } catch {
            await pool.stop()
            throw error
        }
    }
}

extension FaultBed {
    @TaskLocal static var current: FaultBed?
    /// Set by the trait when the suite's servers are not installed and not required.
    @TaskLocal static var skipped = false

    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> FaultBed {
        try #require(current, "the suite needs the .faultBed trait", sourceLocation: sourceLocation)
    }
}

extension Trait where Self == FaultBedTrait {
    /// One fault bed for the whole suite.
    static func faultBed(secondNode: Bool = false) -> Self { FaultBedTrait(secondNode: secondNode) }

    /// One fault bed per server kind for the whole suite: its rows take the kind as argument (#12).
    static func faultBed(secondNode: Bool = false, kinds: [SandboxServerKind]) -> Self {
        FaultBedTrait(secondNode: secondNode, kinds: kinds)
    }

    /// One fault bed of `nodes` ProxySQL nodes for the whole suite: `nodes - 1` always reachable, and the last one
    /// the tool can be cut off from (issue #16).
    static func faultBed(fleetOf nodes: Int) -> Self { FaultBedTrait(secondNode: true, fleetNodes: nodes - 1) }
}
