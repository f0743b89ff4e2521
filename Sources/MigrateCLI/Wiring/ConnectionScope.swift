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

    /// `role`'s open session as the library's front door takes it: named `source` or `target` in the journal.
    func databaseSession(_ role: DatabaseRole, over connection: MariaDBConnection) -> CutoverEnvironment.DatabaseSession {
        CutoverEnvironment.DatabaseSession(
            name: role == .source ? Self.sourceName : Self.targetName,
            address: (role == .source ? configuration.source : configuration.targetWriter).description,
            session: connection
        )
    }

    /// `role`'s database as the cut-over drives it over `connection` (native replication statements, or the RDS
    /// procedures when the server has them), its statements recorded for the journal when `recording`.
    func database(_ role: DatabaseRole, over connection: MariaDBConnection, recording: Bool = true) async throws
        -> ReplicationControlDatabase
    {
        try await CutoverEnvironment.database(
            databaseSession(role, over: connection),
            filter: configuration.reverseReplicationFilter.replicationFilter,
            recording: recording,
            logger: logger
        )
    }

    /// Every ProxySQL node's open admin session, in configuration order.
    func proxyNodeSessions() async throws -> [CutoverEnvironment.ProxyNodeSession] {
        var nodes: [CutoverEnvironment.ProxyNodeSession] = []
        for node in configuration.proxyNodes {
            nodes.append(.init(name: node.name, session: try await connect(.proxyNode(node.name))))
        }
        return nodes
    }

    /// Every ProxySQL node's admin client, in configuration order, as the front door builds them.
    func proxyCluster(recording: Bool = true) async throws -> ProxySQLCluster {
        CutoverEnvironment.proxyCluster(try await proxyNodeSessions(), policy: configuration.policy, recording: recording)
    }

    /// Everything a live run talks to, through the library's front door
    /// (``CutoverEnvironment/connect(_:policy:logger:)``).
    func cutoverEnvironment() async throws -> CutoverEnvironment {
        let source = databaseSession(.source, over: try await connect(.source))
        let target = databaseSession(.target, over: try await connect(.targetWriter))
        let nodes = try await proxyNodeSessions()
        let factory = environment.connections
        let sessions = CutoverEnvironment.Sessions(
            topology: configuration.topology,
            source: source,
            target: target,
            proxyNodes: nodes,
            forwardReplicationPassword: try factory.replicationPassword(configuration.forwardReplication, direction: "forward")?.reveal() ?? "",
            reverseReplicationPassword: try factory.replicationPassword(configuration.reverseReplication, direction: "reverse")?.reveal() ?? "",
            filter: configuration.reverseReplicationFilter.replicationFilter
        )
        return try await CutoverEnvironment.connect(sessions, policy: configuration.policy, logger: logger)
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
