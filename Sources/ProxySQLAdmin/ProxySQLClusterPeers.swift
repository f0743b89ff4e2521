public import Logging
import MariaDB

/// One row of `runtime_proxysql_servers`: a ProxySQL Cluster peer this node monitors and pulls configuration from.
public struct ProxySQLClusterPeer: Sendable, Hashable, CustomStringConvertible {
    /// The peer's admin host, exactly as listed.
    public var host: String
    /// The peer's admin port.
    public var port: Int
    /// `weight` (unused by ProxySQL's sync).
    public var weight: Int
    /// `comment`.
    public var comment: String

    /// Creates a peer row.
    public init(host: String, port: Int, weight: Int = 0, comment: String = "") {
        self.host = host
        self.port = port
        self.weight = weight
        self.comment = comment
    }

    /// `host:port`.
    public var description: String { "\(host):\(port)" }
}

/// A ProxySQL node whose ProxySQL Cluster membership can be read (issue #16). A separate protocol so that fakes of
/// ``ProxySQLAdministering`` need not implement it: a node that does not conform is "not readable".
public protocol ProxySQLClusterReading: Sendable {
    /// `host:port` of the node's admin interface as the tool reaches it.
    var adminEndpointDescription: String { get }
    /// Whether ``clusterPeers(logger:)`` can answer (a wrapper around a test double cannot).
    var canReadClusterPeers: Bool { get }
    /// The node's `runtime_proxysql_servers` (empty: not in a cluster).
    ///
    /// - Throws: ``ProxySQLAdminError``.
    func clusterPeers(logger: Logger) async throws -> [ProxySQLClusterPeer]
}

extension ProxySQLAdminClient: ProxySQLClusterReading {
    public var adminEndpointDescription: String { session.endpointDescription }
    public var canReadClusterPeers: Bool { true }

    public func clusterPeers(logger: Logger) async throws -> [ProxySQLClusterPeer] {
        let statement: SQLStatement = "SELECT hostname, port, weight, comment FROM runtime_proxysql_servers ORDER BY hostname, port"
        return try decodeAll(try await rows(statement, logger: logger), statement: statement) { row in
            let reader = RowReader(row: row, table: "runtime_proxysql_servers")
            return ProxySQLClusterPeer(
                host: try reader.string("hostname"),
                port: try reader.int("port"),
                weight: (try? reader.int("weight")) ?? 0,
                comment: reader.stringIfPresent("comment") ?? ""
            )
        }
    }
}

extension StatementBoundedNode: ProxySQLClusterReading {
    var adminEndpointDescription: String { (base as? any ProxySQLClusterReading)?.adminEndpointDescription ?? nodeName }
    var canReadClusterPeers: Bool { (base as? any ProxySQLClusterReading)?.canReadClusterPeers ?? false }

    func clusterPeers(logger: Logger) async throws -> [ProxySQLClusterPeer] {
        guard let reader = base as? any ProxySQLClusterReading else {
            throw ProxySQLAdminError(code: .unexpectedResult, node: nodeName, message: "this node cannot read proxysql_servers")
        }
        return try await bounded("read proxysql_servers") { try await reader.clusterPeers(logger: logger) }
    }
}
