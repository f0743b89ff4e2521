extension AdminSchema {
    /// The digest tables the data plane fills (their definitions are in ``AdminTables``).
    static let queryDigestTables = ["stats.stats_mysql_query_digest", "stats.stats_mysql_query_digest_reset"]
}

extension AdminEngine {
    /// Fills the digest tables from the data plane before a statement that reads them; reading the `_reset` table
    /// empties the counters afterwards, as on ProxySQL. Rows affected and rows sent are not counted (0).
    func refreshQueryDigest(upper: String) throws {
        guard upper.contains("STATS_MYSQL_QUERY_DIGEST") else { return }
        let reset = upper.contains("STATS_MYSQL_QUERY_DIGEST_RESET")
        let rows = dataPlane.digestRows(reset: reset).map { key, stats -> [String?] in
            [
                String(key.hostgroup), key.schema, key.user, "", QueryDigest.hash(key.digestText), key.digestText,
                String(stats.count), String(stats.firstSeen), String(stats.lastSeen), String(stats.sumTimeMicroseconds),
                String(stats.count == 0 ? 0 : stats.minTimeMicroseconds), String(stats.maxTimeMicroseconds), "0", "0",
            ]
        }
        let columns = [
            "hostgroup", "schemaname", "username", "client_address", "digest", "digest_text", "count_star", "first_seen",
            "last_seen", "sum_time", "min_time", "max_time", "sum_rows_affected", "sum_rows_sent",
        ]
        for table in AdminSchema.queryDigestTables {
            try database.replaceRows(of: table, columns: columns, rows: reset == table.hasSuffix("_reset") ? rows : [])
        }
    }
}
