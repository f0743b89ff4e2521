public import ProxySQLAdmin

/// Decommissioning the old source after a confirmed migration (`migrate-cli finish`): the guards, the steps, and
/// what is left by hand. Pure: facts in, verdict out; ``FinishRun`` reads the facts and performs the steps.
///
/// After it there is no failback: reverse replication is gone and ProxySQL no longer knows the source.
public enum Finish {
    /// What one ProxySQL node showed.
    public struct NodeFacts: Sendable, Hashable {
        public var name: String
        /// `runtime_mysql_servers` of the writer and reader hostgroups.
        public var runtimeRows: [BackendServer]
        /// `ConnUsed` of the source's rows (0 when absent from the pool).
        public var sourceConnectionsUsed: UInt64
        /// The node could not be read.
        public var error: String?

        public init(name: String, runtimeRows: [BackendServer], sourceConnectionsUsed: UInt64, error: String? = nil) {
            self.name = name
            self.runtimeRows = runtimeRows
            self.sourceConnectionsUsed = sourceConnectionsUsed
            self.error = error
        }
    }

    /// Reverse replication (the source replicating from Aurora) as seen before finishing.
    public enum ReverseState: Sendable, Hashable {
        /// It ran and executed Aurora's position read just before.
        case caughtUp(String)
        /// It runs but did not reach Aurora's position within the wait.
        case behind(String)
        /// It is configured but not running, or reports an error.
        case broken(String)
        /// The source has no replication configured.
        case absent
    }

    /// Everything the guards look at.
    public struct Facts: Sendable, Hashable {
        public var topology: CutoverTopology
        public var nodes: [NodeFacts]
        public var reverse: ReverseState
        /// Whether Aurora still has a forward replication configuration (it is reset by finish).
        public var forwardConfigured: Bool

        public init(topology: CutoverTopology, nodes: [NodeFacts], reverse: ReverseState, forwardConfigured: Bool) {
            self.topology = topology
            self.nodes = nodes
            self.reverse = reverse
            self.forwardConfigured = forwardConfigured
        }
    }

    /// The guards: each failed one is a refusal with its remedy; empty = finish may proceed.
    public static func blockingReasons(_ facts: Facts) -> [BlockingReason] {
        var reasons: [BlockingReason] = []
        let topology = facts.topology
        let sourceKeys = [topology.source.writer] + (topology.source.reader.map { [$0] } ?? [])
        for node in facts.nodes {
            if let error = node.error {
                reasons.append(BlockingReason(
                    check: "finish.proxysql", message: "ProxySQL node \(node.name) could not be read: \(error)",
                    remedy: "bring the node back (every node must route to Aurora before the source is removed)"))
                continue
            }
            let targetWriterOnline = node.runtimeRows.contains {
                $0.key == topology.target.writer && $0.status == .online
            }
            if !targetWriterOnline {
                reasons.append(BlockingReason(
                    check: "finish.writer", message: "on \(node.name) Aurora's writer \(topology.target.writer) is not ONLINE at runtime",
                    remedy: "migrate-cli cutover writers (finish only decommissions a source that no longer takes writes)"))
            }
            for key in sourceKeys {
                if let row = node.runtimeRows.first(where: { $0.key == key }), row.status == .online || row.status == .offlineSoft {
                    reasons.append(BlockingReason(
                        check: key == topology.source.writer ? "finish.writer" : "finish.reader",
                        message: "on \(node.name) the source's row \(key) is \(row.status) at runtime: it still receives traffic",
                        remedy: key == topology.source.writer ? "migrate-cli cutover writers" : "migrate-cli cutover readers"))
                }
            }
            if node.sourceConnectionsUsed > 0 {
                reasons.append(BlockingReason(
                    check: "finish.sessions", message: "on \(node.name) \(node.sourceConnectionsUsed) connection(s) to the source are in use (ConnUsed)",
                    remedy: "wait until the applications' sessions there end (migrate-cli status shows ConnUsed), then run finish again"))
            }
        }
        switch facts.reverse {
        case .caughtUp: break
        case .behind(let detail):
            reasons.append(BlockingReason(
                check: "finish.reverse", message: "reverse replication has not caught up with Aurora: \(detail)",
                remedy: "wait for it (migrate-cli status), so the old source is a complete copy when you stop it"))
        case .broken(let detail):
            reasons.append(BlockingReason(
                check: "finish.reverse", message: "reverse replication is not running: \(detail)",
                remedy: "fix it and let it catch up (migrate-cli status); the old source must hold everything before it is decommissioned"))
        case .absent:
            reasons.append(BlockingReason(
                check: "finish.reverse", message: "the source has no reverse replication from Aurora: nothing proves it holds Aurora's writes",
                remedy: "finish expects a completed `cutover writers` (it starts reverse replication); if you removed it on purpose, decommission by hand"))
        }
        return reasons
    }

    /// The statements finish sends, in order, by endpoint (for `plan finish` and `--dry-run`).
    public static func plannedSteps(topology: CutoverTopology, forwardReset: String?) -> [(endpoint: String, action: String)] {
        var steps: [(String, String)] = [("source", "STOP REPLICA; RESET REPLICA ALL (reverse replication from Aurora)")]
        let sourceKeys = [topology.source.writer] + (topology.source.reader.map { [$0] } ?? [])
        for node in topology.proxyNodes {
            for key in sourceKeys {
                steps.append((node, "DELETE FROM mysql_servers WHERE hostgroup_id = \(key.hostgroup.rawValue) AND hostname = '\(key.endpoint.host)' AND port = \(key.endpoint.port)"))
            }
            steps.append((node, "LOAD MYSQL SERVERS TO RUNTIME"))
            steps.append((node, "SAVE MYSQL SERVERS TO DISK"))
        }
        if let forwardReset { steps.append(("target", forwardReset)) }
        return steps
    }

    /// What the tool does not do, printed at the end.
    public static func leftToDoByHand(topology: CutoverTopology) -> [String] {
        [
            "stop the old source server (\(topology.source.writer.endpoint)) once nothing reads from it; keep its last backup",
            "remove the replication accounts: \(topology.forwardReplicationUser) on the old source, \(topology.reverseReplicationUser) on Aurora (DROP USER)",
            "set Aurora's binlog retention back to normal (CALL mysql.rds_set_configuration('binlog retention hours', NULL), or your usual value), and binlog off if nothing else replicates from it",
            "remove the source from monitoring, backups, DNS and the applications' fallback configuration",
            "archive the journal: it is the audit record of the migration",
        ]
    }

    /// Said before asking for confirmation.
    public static let noFailbackWarning =
        "After finish there is no failback: reverse replication is stopped and reset, the source is removed from every "
        + "ProxySQL node, and Aurora forgets its forward replication. Going back would mean a new migration."
}
