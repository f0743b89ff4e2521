import ReplicationControl

/// Proof that the old writer's fence held (issue #13, DESIGN §7): after the switch, the old writer's executed GTID
/// state / binlog position must still equal the final position read at the fence. Privileged sessions (MariaDB
/// accounts with `READ ONLY ADMIN` or `SUPER`/`ALL`, MySQL without `super_read_only`, anyone on a server the tool may
/// not fence) get past `read_only`; only this comparison finds what they wrote. Pure.
public enum FenceProof {
    /// The comparison's result.
    public enum Verdict: Sendable, Hashable {
        /// Nothing was written on the old writer after the fence.
        case held
        /// Transactions were written after the fence; the text names them (GTIDs, or the binlog range).
        case diverged(String)
    }

    /// Compares the position read at the fence with the old writer's position now.
    ///
    /// GTIDs decide when both coordinates carry them in the same dialect (a rotated binlog with no new GTID still
    /// counts as held); otherwise the binlog file and offset must be equal.
    public static func compare(atFence fence: ReplicationCoordinate, now: ReplicationCoordinate) -> Verdict {
        if let fenceText = fence.gtidSet, let nowText = now.gtidSet, !fenceText.isEmpty || !nowText.isEmpty {
            if let before = try? MariaDBGTIDPosition(parsing: fenceText),
                let after = try? MariaDBGTIDPosition(parsing: nowText)
            {
                let extra = extraMariaDBTransactions(from: before, to: after)
                return extra.isEmpty ? .held : .diverged("extra GTIDs " + extra.joined(separator: ", "))
            }
            if let before = try? MySQLGTIDSet(parsing: fenceText), let after = try? MySQLGTIDSet(parsing: nowText) {
                let extra = after.subtracting(before)
                return extra.isEmpty ? .held : .diverged("extra GTIDs \(extra) (\(extra.count) transaction(s))")
            }
        }
        if fence.file == now.file, fence.offset == now.offset { return .held }
        return .diverged("binlog range \(fence.file):\(fence.offset) to \(now.file):\(now.offset)")
    }

    /// The loud failure of a fence that did not hold: it names the extra transactions, says reverse replication was
    /// not started, and what to do.
    public static func failure(
        old: DatabaseRole, new: DatabaseRole, atFence: ReplicationCoordinate, now: ReplicationCoordinate,
        extra: String, endpoint: String?
    ) -> StepFailure {
        StepFailure(
            step: "prove the fence held on \(old)",
            message: "THE FENCE DID NOT HOLD: \(old) executed transactions after its final position \(atFence) was "
                + "read (now \(now)): \(extra). They are not on \(new), and reverse replication was not started",
            endpoint: endpoint,
            remedy: "find who wrote them (sessions that bypass ProxySQL with SUPER / READ ONLY ADMIN, or a server the "
                + "tool could not fence), apply those transactions to \(new) or decide to discard them, then set up "
                + "reverse replication by hand; `migrate-cli resume` repeats this check"
        )
    }

    /// Per domain, the sequence numbers `after` holds beyond `before` (`0-1-101..0-1-105 (5 transactions)`).
    static func extraMariaDBTransactions(from before: MariaDBGTIDPosition, to after: MariaDBGTIDPosition) -> [String] {
        after.gtids.compactMap { gtid in
            let had = before[domain: gtid.domain]?.sequence ?? 0
            guard gtid.sequence > had else { return nil }
            let first = "\(gtid.domain)-\(gtid.server)-\(had + 1)"
            let count = gtid.sequence - had
            return count == 1 ? "\(first) (1 transaction)" : "\(first)..\(gtid) (\(count) transactions)"
        }
    }
}
