import Cutover
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Synchronization

/// An endpoint of the configuration that could not be reached, or refused the login. Nothing was changed.
struct EndpointUnavailable: Error, Sendable, CustomStringConvertible {
    /// The configuration section (`proxysql.nodes.proxysql-1`).
    var endpoint: EndpointName
    /// `host:port`.
    var address: String
    var underlying: any Error

    /// Whether the server could not be reached or refused the login (exit 69), rather than failing otherwise.
    var isUnreachable: Bool {
        guard let error = underlying as? MariaDBError else { return false }
        return error.code == .connectionFailed || error.isAccessDenied
    }

    var description: String {
        let what = (underlying as? MariaDBError).map { error in
            error.isAccessDenied ? "refused the login (check its user and password source)" : "\(error)"
        } ?? "\(underlying)"
        return "\(endpoint) (\(address)): \(what); nothing was changed"
    }
}

/// The connections one command opened, closed together when it ends (also on error).
final class ConnectionScope: Sendable {
    let environment: CommandEnvironment
    private let opened = Mutex<[MariaDBConnection]>([])

    init(environment: CommandEnvironment) {
        self.environment = environment
    }

    var configuration: MigrateConfiguration { environment.configuration }
    var logger: Logger { environment.logger }

    /// Opens a connection to `endpoint`, reading its password now.
    ///
    /// - Throws: ``EndpointUnavailable`` naming the endpoint; ``ConfigurationError`` for an unreadable password.
    func connect(_ endpoint: EndpointName) async throws -> MariaDBConnection {
        let settings = try environment.connections.connectionConfiguration(for: endpoint)
        do {
            let connection = try await MariaDBConnection.connect(configuration: settings, logger: logger)
            opened.withLock { $0.append(connection) }
            return connection
        } catch let error as MariaDBError where error.code == .invalidConfiguration || error.code == .loginPath || error.code == .optionFile {
            throw error
        } catch {
            throw EndpointUnavailable(endpoint: endpoint, address: address(of: endpoint), underlying: error)
        }
    }

    /// `host:port` of `endpoint` as configured.
    func address(of endpoint: EndpointName) -> String {
        switch endpoint {
        case .source: configuration.source.description
        case .sourceReader: configuration.sourceReader?.description ?? "-"
        case .targetWriter: configuration.targetWriter.description
        case .targetReader: configuration.targetReader?.description ?? "-"
        case .proxyNode(let name): configuration.proxyNodes.first { $0.name == name }?.address.description ?? "-"
        case .canary: configuration.canary?.address.description ?? "-"
        }
    }

    /// Closes every connection opened so far.
    func closeAll() async {
        let connections = opened.withLock { opened in
            defer { opened = [] }
            return opened
        }
        for connection in connections { await connection.close() }
    }

    /// Runs `body` with a scope whose connections are closed when it ends.
    static func with<T: Sendable>(_ environment: CommandEnvironment, _ body: (ConnectionScope) async throws -> T) async throws -> T {
        let scope = ConnectionScope(environment: environment)
        do {
            let result = try await body(scope)
            await scope.closeAll()
            return result
        } catch {
            await scope.closeAll()
            throw error
        }
    }

    // MARK: Library parts over the connections

    /// The journal's name for each endpoint: `source`, `target`, and the ProxySQL node names.
    static let sourceName = "source"
    static let targetName = "target"

    /// `role`'s database as the cut-over drives it over `connection` (native replication statements, or the RDS
    /// procedures when the server has them), its statements recorded for the journal when `recording`.
    func database(_ role: DatabaseRole, over connection: MariaDBConnection, recording: Bool = true) async throws
        -> ReplicationControlDatabase
    {
        let name = role == .source ? Self.sourceName : Self.targetName
        let address = role == .source ? configuration.source : configuration.targetWriter
        return try await ReplicationControlDatabase.connect(
            name: "\(name) (\(address))",
            session: recording ? RecordingSQLSession(connection, name: name) : connection,
            filter: configuration.reverseReplicationFilter.replicationFilter,
            logger: logger
        )
    }

    /// Connects to `role`'s database (the target's writer endpoint) and wraps it for the cut-over.
    func database(_ role: DatabaseRole, recording: Bool = true) async throws -> ReplicationControlDatabase {
        try await database(role, over: try await connect(role.endpointName), recording: recording)
    }

    /// Every ProxySQL node's admin client, in configuration order.
    func proxyCluster(recording: Bool = true) async throws -> ProxySQLCluster {
        var nodes: [any ProxySQLAdministering] = []
        for node in configuration.proxyNodes {
            let connection = try await connect(.proxyNode(node.name))
            nodes.append(
                ProxySQLAdminClient(
                    session: recording ? RecordingSQLSession(connection, name: node.name) : connection,
                    name: node.name,
                    statementTimeout: configuration.policy.adminStatementTimeout
                )
            )
        }
        return ProxySQLCluster(nodes: nodes, nodeDeadline: max(configuration.policy.adminStatementTimeout * 3, .seconds(2)))
    }

    /// Everything a live run talks to.
    func cutoverEnvironment() async throws -> CutoverEnvironment {
        let source = try await database(.source)
        let target = try await database(.target)
        let proxies = try await proxyCluster()
        let factory = environment.connections
        return CutoverEnvironment(
            topology: configuration.topology,
            source: source,
            target: target,
            proxies: proxies,
            forwardReplicationPassword: try factory.replicationPassword(configuration.forwardReplication, direction: "forward")?.reveal() ?? "",
            reverseReplicationPassword: try factory.replicationPassword(configuration.reverseReplication, direction: "reverse")?.reveal() ?? ""
        )
    }
}

extension ReverseReplicationFilter {
    /// The library's filter.
    var replicationFilter: ReplicationFilter {
        switch self {
        case .rdsTables: .ignoreRDSTables
        case .mysqlSchema: .ignoreMySQLSchema
        }
    }
}

extension DatabaseRole {
    /// The configuration section of the role's (writer) endpoint.
    var endpointName: EndpointName { self == .source ? .source : .targetWriter }
}
