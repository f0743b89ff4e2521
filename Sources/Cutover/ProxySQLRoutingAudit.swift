public import ProxySQLAdmin

/// Decides whether a ProxySQL node's configuration lets the cut-over switch writes by moving its two rows, from a
/// snapshot of what the node holds (#13 item 6). Pure: the guards and preflight read the snapshot, this turns it
/// into findings, each with a remedy; the dangerous ones block the run.
///
/// Why each matters: every `LOAD MYSQL SERVERS TO RUNTIME` the cut-over sends publishes the **whole** in-memory
/// `mysql_servers` table (and the monitor-managed hostgroup tables), so a row staged but not loaded goes live in
/// the middle of the window; another ONLINE row in the writer hostgroup keeps taking writes; a query rule, a
/// mirror or a user's default hostgroup can send writes to a hostgroup the cut-over does not touch; a per-rule
/// `retries` overrides the global retry the window turns off (a write interrupted at `OFFLINE_HARD` applied twice);
/// Galera / Group Replication / Aurora hostgroups and a replication-hostgroup pair holding the source let the
/// monitor move rows by itself (the fenced source, `read_only=1`, is moved to the reader hostgroup; the unfenced
/// one back to the writer hostgroup).
public struct ProxySQLRoutingAudit: Sendable {
    /// What one node holds.
    public struct Snapshot: Sendable {
        /// The node's name.
        public var node: String
        /// `mysql_servers`, every hostgroup.
        public var configured: [BackendServer]
        /// `runtime_mysql_servers`, every hostgroup.
        public var runtime: [BackendServer]
        /// Query rules, users and monitor-managed hostgroups; nil when they could not be read (`routingError` says
        /// why).
        public var routing: ProxySQLRoutingConfiguration?
        /// Why ``routing`` is nil.
        public var routingError: String?
        /// The `mysql_replication_hostgroups` pairs that hold the old writer (either layer).
        public var oldWriterPairs: [String]

        /// Creates a snapshot.
        public init(
            node: String, configured: [BackendServer], runtime: [BackendServer],
            routing: ProxySQLRoutingConfiguration?, routingError: String? = nil, oldWriterPairs: [String] = []
        ) {
            self.node = node
            self.configured = configured
            self.runtime = runtime
            self.routing = routing
            self.routingError = routingError
            self.oldWriterPairs = oldWriterPairs
        }
    }

    /// One thing found.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        /// The preflight check it belongs to (`proxysql.staged-rows`), also the guard's blocking reason.
        public var check: String
        /// Whether it blocks the run (a guard) or only warns (preflight).
        public var blocks: Bool
        public var message: String
        public var remedy: String

        public var reason: BlockingReason { BlockingReason(check: check, message: message, remedy: remedy) }
        public var description: String { (blocks ? "block " : "warn ") + reason.description }
    }

    /// The checks, in report order, with their titles.
    public static let checks: [(id: String, title: String)] = [
        ("proxysql.staged-rows", "In-memory mysql_servers equal runtime for the writer and reader hostgroups"),
        ("proxysql.other-writers", "No other ONLINE row in the writer hostgroup"),
        ("proxysql.query-rules", "No query rule routes, mirrors or retries writes around the switch"),
        ("proxysql.users", "Users' default hostgroups, transaction persistence, fast-forward"),
        ("proxysql.monitor-hostgroups", "No Galera / Group Replication / Aurora hostgroups over the switched hostgroups"),
        ("proxysql.source-replication-hostgroups", "The old writer is in no replication hostgroup pair"),
    ]

    /// The findings for one node of a switch of `kind` rows from `old` to `new`.
    public static func findings(
        _ snapshot: Snapshot, topology: CutoverTopology, operation: CutoverOperation, policy: CutoverPolicy
    ) -> [Finding] {
        var findings: [Finding] = []
        let node = snapshot.node
        let old = topology.routing(operation.from)
        let new = topology.routing(operation.to)
        let writerHostgroup = old.writer.hostgroup
        let switched = Set([old.writer.hostgroup, new.writer.hostgroup] + [old.reader, new.reader].compactMap { $0?.hostgroup })
        let ours = Set([old.writer, new.writer] + [old.reader, new.reader].compactMap { $0 })
        let databases = Set([old.writer.endpoint, new.writer.endpoint].map(normalized))

        // Staged differences: a LOAD by the cut-over would publish them.
        let staged = stagedDifferences(configured: snapshot.configured, runtime: snapshot.runtime, hostgroups: switched)
        if !staged.isEmpty {
            findings.append(Finding(
                check: "proxysql.staged-rows", blocks: true,
                message: "\(node): mysql_servers differs from runtime (staged, not loaded): \(staged.joined(separator: "; ")); the cut-over's first LOAD would publish it in the middle of the window",
                remedy: "on \(node): either LOAD MYSQL SERVERS TO RUNTIME (if the staged rows are wanted) or LOAD MYSQL SERVERS FROM RUNTIME (to drop them), then run again"
            ))
        }

        // Other writers: rows the cut-over does not move keep taking writes.
        var others: [String] = []
        for (layer, rows) in [("configured", snapshot.configured), ("runtime", snapshot.runtime)] {
            for row in rows where row.hostgroup == writerHostgroup && !ours.contains(row.key)
                && (row.status == .online || row.status == .shunned)
            {
                let same = databases.contains(normalized(row.endpoint)) ? " (the same server as a managed row, spelled differently)" : ""
                others.append("\(row.key) \(row.status) (\(layer))\(same)")
            }
        }
        if !others.isEmpty, operation.movesWriter {
            findings.append(Finding(
                check: "proxysql.other-writers", blocks: true,
                message: "\(node): writer hostgroup \(writerHostgroup) has other ONLINE rows: \(Array(Set(others)).sorted().joined(separator: "; ")); they would keep taking writes during and after the switch",
                remedy: "on \(node): set them OFFLINE_HARD (or delete them) and LOAD MYSQL SERVERS TO RUNTIME, or name the right rows in the configuration"
            ))
        }

        // Hostgroups that hold one of the two databases, outside the switched rows.
        var holding: [HostgroupID: [ServerEndpoint]] = [:]
        for row in snapshot.configured + snapshot.runtime where !ours.contains(row.key) && row.status != .offlineHard
            && databases.contains(normalized(row.endpoint))
        {
            holding[row.hostgroup, default: []].append(row.endpoint)
        }

        if let routing = snapshot.routing {
            findings += queryRuleFindings(
                routing.queryRules, node: node, holding: holding, checksRetries: operation.movesWriter && policy.disableQueryRetries)
            findings += userFindings(routing.users, node: node, topology: topology, writerHostgroup: writerHostgroup, switched: switched, holding: holding)
            let managed = routing.managedHostgroups.filter { $0.active && !Set($0.hostgroups).isDisjoint(with: switched) }
            if !managed.isEmpty {
                findings.append(Finding(
                    check: "proxysql.monitor-hostgroups", blocks: true,
                    message: "\(node): ProxySQL's monitor manages the switched hostgroups through \(managed.map(\.description).joined(separator: "; ")): it moves rows by itself and would undo or double the switch",
                    remedy: "remove those rows (or set active = 0) and LOAD MYSQL SERVERS TO RUNTIME for the migration, or use other hostgroups"
                ))
            }
        } else {
            findings.append(Finding(
                check: "proxysql.query-rules", blocks: false,
                message: "\(node): query rules, users and monitor-managed hostgroups not read: \(snapshot.routingError ?? "unknown reason")",
                remedy: "grant the admin account SELECT on runtime_mysql_query_rules, runtime_mysql_users and the *_hostgroups tables, then check them by hand"
            ))
        }

        if !snapshot.oldWriterPairs.isEmpty {
            findings.append(Finding(
                check: "proxysql.source-replication-hostgroups", blocks: true,
                message: "\(node): the old writer \(old.writer.endpoint) is in a mysql_replication_hostgroups pair (\(snapshot.oldWriterPairs.joined(separator: "; "))): the monitor moves it by read_only, so the fence would move it to the reader hostgroup and a rollback back ONLINE as a writer",
                remedy: "remove the pair (or the server from its hostgroups) and LOAD MYSQL SERVERS TO RUNTIME for the migration"
            ))
        }
        return findings
    }

    static func queryRuleFindings(
        _ rules: [ProxySQLRoutingConfiguration.QueryRule], node: String, holding: [HostgroupID: [ServerEndpoint]],
        checksRetries: Bool
    ) -> [Finding] {
        var findings: [Finding] = []
        for rule in rules where rule.active {
            if let destination = rule.destinationHostgroup, let servers = holding[destination] {
                findings.append(Finding(
                    check: "proxysql.query-rules", blocks: true,
                    message: "\(node): \(rule) sends queries to hostgroup \(destination), where \(servers.map(\.description).joined(separator: ", ")) also serves outside the switched rows: those writes would not move",
                    remedy: "point the rule at the writer hostgroup (or remove the server from hostgroup \(destination)) and LOAD MYSQL QUERY RULES TO RUNTIME"
                ))
            }
            if let mirror = rule.mirrorHostgroup {
                let servers = holding[mirror]
                findings.append(Finding(
                    check: "proxysql.query-rules", blocks: servers != nil,
                    message: "\(node): \(rule) mirrors queries to hostgroup \(mirror)"
                        + (servers.map { ", where \($0.map(\.description).joined(separator: ", ")) serves: mirrored writes would keep landing there" } ?? ""),
                    remedy: "clear mirror_hostgroup on the rule for the migration and LOAD MYSQL QUERY RULES TO RUNTIME"
                ))
            }
            if let retries = rule.retries, retries > 0, checksRetries {
                findings.append(Finding(
                    check: "proxysql.query-rules", blocks: true,
                    message: "\(node): \(rule) retries failed queries \(retries) time(s), overriding mysql-query_retries_on_failure = 0 that the window sets: a write interrupted at OFFLINE_HARD could be applied twice",
                    remedy: "set retries = 0 (or NULL) on the rule and LOAD MYSQL QUERY RULES TO RUNTIME for the migration"
                ))
            }
        }
        return findings
    }

    static func userFindings(
        _ users: [ProxySQLRoutingConfiguration.User], node: String, topology: CutoverTopology,
        writerHostgroup: HostgroupID, switched: Set<HostgroupID>, holding: [HostgroupID: [ServerEndpoint]]
    ) -> [Finding] {
        var findings: [Finding] = []
        let application = Set(topology.applicationUsers)
        for user in users where user.active && (application.isEmpty || application.contains(user.username)) {
            if let servers = holding[user.defaultHostgroup] {
                findings.append(Finding(
                    check: "proxysql.users", blocks: true,
                    message: "\(node): user \(user.username) defaults to hostgroup \(user.defaultHostgroup), where \(servers.map(\.description).joined(separator: ", ")) serves outside the switched rows: its writes would not move",
                    remedy: "set its default_hostgroup to the writer hostgroup \(writerHostgroup) and LOAD MYSQL USERS TO RUNTIME"
                ))
            } else if !switched.contains(user.defaultHostgroup) {
                findings.append(Finding(
                    check: "proxysql.users", blocks: false,
                    message: "\(node): user \(user.username) defaults to hostgroup \(user.defaultHostgroup), not one the cut-over switches",
                    remedy: "check where that user's queries go; set default_hostgroup = \(writerHostgroup) if it writes to this database"
                ))
            }
            if user.fastForward {
                findings.append(Finding(
                    check: "proxysql.users", blocks: false,
                    message: "\(node): user \(user.username) is fast_forward: its sessions keep their backend connection for life and never drain; they are cut at OFFLINE_HARD",
                    remedy: "expect those sessions to be cut (policy.drain-deadline-policy: force) or reconnect them before the switch"
                ))
            }
            if !user.transactionPersistent {
                findings.append(Finding(
                    check: "proxysql.users", blocks: false,
                    message: "\(node): user \(user.username) has transaction_persistent = 0: query rules may send statements of one transaction to different hostgroups",
                    remedy: "set transaction_persistent = 1 and LOAD MYSQL USERS TO RUNTIME"
                ))
            }
        }
        return findings
    }

    /// The rows of `hostgroups` whose in-memory configuration differs from runtime: a row staged but absent from
    /// runtime (an `OFFLINE_HARD` row is absent from runtime by design), a runtime row deleted from memory, or a
    /// status or setting changed without a LOAD. Runtime `SHUNNED` equals a configured `ONLINE`.
    public static func stagedDifferences(
        configured: [BackendServer], runtime: [BackendServer], hostgroups: Set<HostgroupID>
    ) -> [String] {
        var differences: [String] = []
        let memory = configured.filter { hostgroups.contains($0.hostgroup) }
        let live = runtime.filter { hostgroups.contains($0.hostgroup) && $0.status != .offlineHard }
        for row in memory {
            let match = live.first { $0.key == row.key }
            switch (row.status, match) {
            case (.offlineHard, nil):
                continue
            case (_, nil):
                differences.append("\(row.key) \(row.status) in memory, absent from runtime")
            case (.offlineHard, let match?):
                differences.append("\(row.key) OFFLINE_HARD in memory, \(match.status) at runtime")
            case (let status, let match?):
                let liveStatus = match.status == .shunned ? BackendStatus.online : match.status
                if status != liveStatus {
                    differences.append("\(row.key) \(status) in memory, \(match.status) at runtime")
                } else if !sameSettings(row, match) {
                    differences.append("\(row.key) settings (weight, max_connections, ...) differ from runtime")
                }
            }
        }
        for row in live where !memory.contains(where: { $0.key == row.key }) {
            differences.append("\(row.key) \(row.status) at runtime, deleted from memory")
        }
        return differences
    }

    static func sameSettings(_ a: BackendServer, _ b: BackendServer) -> Bool {
        a.weight == b.weight && a.maxConnections == b.maxConnections && a.maxReplicationLag == b.maxReplicationLag
            && a.useSSL == b.useSSL && a.compression == b.compression && a.maxLatencyMs == b.maxLatencyMs
    }

    /// `endpoint` with its host lowercased and without a trailing dot (`DB1.Example.com.` names `db1.example.com`).
    public static func normalized(_ endpoint: ServerEndpoint) -> ServerEndpoint {
        var host = endpoint.host.lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        return ServerEndpoint(host: host, port: endpoint.port)
    }
}
