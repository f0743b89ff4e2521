public import Logging
public import ProxySQLAdmin

extension LastInsertIDEvidence {
    /// Reads `stats_mysql_query_digest` on every node of `proxies` (each bounded by the cluster's per-node deadline)
    /// and collects what ``AutoIncrementPinDecision/decide(policy:evidence:)`` needs: the digests counted over the
    /// nodes that answered, the texts that call `LAST_INSERT_ID()` (without repeats), and the nodes that could not
    /// tell. The one reader of the digest evidence, for the writer switch's guards and for preflight alike.
    public static func read(from proxies: ProxySQLCluster, logger: Logger) async -> LastInsertIDEvidence {
        let read = await proxies.lastInsertIDUse(logger: logger)
        var evidence = LastInsertIDEvidence(digestsRead: 0, lastInsertIDDigests: [])
        for failure in read.failures { evidence.unreadable.append("\(failure.node) (\(failure.error))") }
        for (node, use) in read.successes {
            guard let use else {
                evidence.unreadable.append("\(node) (no digest reader)")
                continue
            }
            evidence.digestsRead += use.digests
            for text in use.lastInsertIDDigests where !evidence.lastInsertIDDigests.contains(text) {
                evidence.lastInsertIDDigests.append(text)
            }
        }
        return evidence
    }
}
