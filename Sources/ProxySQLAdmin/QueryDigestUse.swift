public import Logging
import MariaDB

/// What ProxySQL's `stats_mysql_query_digest` tells about an application's use of `LAST_INSERT_ID()`: the evidence
/// the writer switch needs before relaxing the auto-increment pin (issue #18). An application that reads the id in
/// a separate statement (`SELECT LAST_INSERT_ID()`) relies on staying on the connection of its INSERT; one whose
/// driver takes the id from the INSERT's own answer does not.
public struct QueryDigestUse: Sendable, Hashable {
    /// Digests in the table.
    public var digests: Int
    /// Digest texts that call `LAST_INSERT_ID` (at most five).
    public var lastInsertIDDigests: [String]

    /// Creates a reading.
    public init(digests: Int, lastInsertIDDigests: [String]) {
        self.digests = digests
        self.lastInsertIDDigests = lastInsertIDDigests
    }
}

extension ProxySQLAdministering {
    /// Default: this node cannot tell (fakes, dry runs).
    public func lastInsertIDUse(logger: Logger) async throws -> QueryDigestUse? { nil }
}

extension ProxySQLAdminClient {
    /// Reads `stats_mysql_query_digest` (every hostgroup: a `LAST_INSERT_ID()` routed anywhere counts). SQLite's
    /// `LIKE` ignores ASCII case, so `last_insert_id(` matches however the application spells it.
    public func lastInsertIDUse(logger: Logger) async throws -> QueryDigestUse? {
        let count: SQLStatement = "SELECT COUNT(*) AS digests FROM stats_mysql_query_digest"
        let counted = try await rows(count, logger: logger)
        let digests = counted.first.flatMap { Int($0[0].string ?? "") } ?? 0
        let uses: SQLStatement = """
            SELECT DISTINCT digest_text FROM stats_mysql_query_digest WHERE digest_text LIKE '%last_insert_id%' \
            ORDER BY digest_text LIMIT 5
            """
        let texts = try await rows(uses, logger: logger).compactMap { $0[0].string }
        return QueryDigestUse(digests: digests, lastInsertIDDigests: texts)
    }
}

extension StatementBoundedNode {
    func lastInsertIDUse(logger: Logger) async throws -> QueryDigestUse? {
        try await bounded("read query digests") { try await base.lastInsertIDUse(logger: logger) }
    }
}

extension ProxySQLCluster {
    /// ``ProxySQLAdministering/lastInsertIDUse(logger:)`` on every node.
    public func lastInsertIDUse(logger: Logger) async -> ClusterResult<QueryDigestUse?> {
        await forEachNode("read query digests", logger: logger) { node, logger in
            try await node.lastInsertIDUse(logger: logger)
        }
    }
}
