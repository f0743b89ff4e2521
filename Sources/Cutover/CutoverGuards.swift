import ProxySQLAdmin

/// A fact the guards read: its value, or why it could not be read (the error's text, as the messages quote it).
enum GuardReading<Value: Sendable>: Sendable {
    /// The fact as read.
    case read(Value)
    /// The fact could not be read; the text says why.
    case unreadable(String)

    /// The value, or nil when the fact could not be read.
    var value: Value? {
        if case .read(let value) = self { value } else { nil }
    }
}

/// The switch guards of ``CutoverAction/runGuards(_:)``, pure: the ``Facts`` the live executor read
/// before anything changes in, the ``Verdicts`` out (issue #17: facts out of the executor, decisions in pure code
/// with transcript tests). No I/O, no clock, no logger: the executor (`LiveCutoverStep.readGuardFacts`) reads, this
/// decides, and the executor reports the notes and journals the verdicts as
/// ``CutoverEvent/guardsFinished(blockingReasons:pinnedSessions:proxySettings:autoIncrementPin:)``.
///
/// The checks, in the order their reasons are listed: replication into the new server (running, no error, lag
/// within ``CutoverPolicy/lagBudget``); the writer safety checks of issue #13 (``WriterSafetyGuards``); the old
/// writer's fence when ``CutoverPolicy/fenceOldWriter`` is on; long write transactions on the old writer; ProxySQL
/// (the starting runtime state, both rows configured, no monitor pair that could move the new server, the routing
/// audit, pinned sessions); the window settings (``ProxyWindowSettings``); the earlier switch's fence
/// (``FenceProof/earlierFence(for:history:)``). Then, for a writer switch, the auto-increment pin decision and the
/// ProxySQL variables whose values to journal before the window.
enum CutoverGuards {
    /// Everything the guards look at, read before anything changes. A fact that is not needed for `operation` is
    /// nil (not read).
    struct Facts: Sendable {
        /// The switch being guarded.
        var operation: CutoverOperation
        /// The old server's database (``CutoverDatabase/name``), for messages.
        var oldName: String
        /// The new server's database, for messages.
        var newName: String
        /// Whether the old database can be made read-only by this account (``CutoverDatabase/canFence``).
        var oldCanFence: Bool
        /// Whether the new database can be made read-only (and so writable again) by this account.
        var newCanFence: Bool
        /// The new database's replica health (nil inside: it replicates from nobody).
        var newReplication: GuardReading<ReplicaHealth?>
        /// Whether the new server's writer row is ONLINE in every node's runtime (the new database is the primary).
        /// Read only for a reader switch whose new database replicates from nobody.
        var newServesWrites: Bool?
        /// The writer switch's safety facts (issue #13); nil for a reader switch.
        var writerSafety: WriterSafety?
        /// What the replication the writer switch starts after its point of no return needs (issue #13 item 5,
        /// ``ReversePrerequisites``); nil for a reader switch, nil inside for databases that cannot report it.
        var reversePrerequisites: GuardReading<ReversePrerequisites.Facts?>?
        /// The old writer's write transactions open longer than ``CutoverPolicy/longTransactionLimit``; nil for a
        /// reader switch.
        var longTransactions: GuardReading<[LongTransaction]>?
        /// What the ProxySQL nodes hold; nil when the topology has no rows of the switch's kind for both databases.
        var proxy: Proxy?
        /// The window settings of every node (``ProxyWindowSettings``); nil for a reader switch.
        var windowSettings: ClusterResult<ProxyWindowSettings>?
        /// The earlier switch's fence, as the journal tells it and as the new writer shows it now.
        var earlierFence: EarlierFence = .notApplicable
        /// The digest evidence for the auto-increment pin; nil unless ``CutoverPolicy/autoIncrementPin`` is
        /// `auto` and the switch moves the writer.
        var autoIncrementEvidence: LastInsertIDEvidence?
    }

    /// The identities and the old writer's upstream link, read for a writer switch.
    struct WriterSafety: Sendable {
        /// `read_only`, `server_id`, ... of both writers; nil inside for a database that cannot report them (test
        /// doubles: not checked).
        var identities: GuardReading<Identities>
        /// The old writer's replica health (nil inside: it replicates from nobody). Read only when both
        /// identities are known.
        var oldUpstream: GuardReading<ReplicaHealth?>?
    }

    /// Both writers' identities.
    struct Identities: Sendable {
        /// The new writer's.
        var new: DatabaseSafetyFacts?
        /// The old writer's.
        var old: DatabaseSafetyFacts?
    }

    /// What the ProxySQL nodes hold about the switch's two rows.
    struct Proxy: Sendable {
        /// The old server's row (ONLINE before the switch).
        var oldKey: BackendServer.Key
        /// The new server's row (OFFLINE_HARD, absent from the runtime, before the switch).
        var newKey: BackendServer.Key
        /// The nodes whose runtime is not the starting state (or could not be read), with the error.
        var runtimeMismatches: [(node: String, error: ProxySQLAdminError)]
        /// Each node's `mysql_servers` rows of the two hostgroups (a node that cannot be read is not listed: the
        /// other ProxySQL checks block on it).
        var configured: ClusterResult<[BackendServer]>
        /// Each node's `mysql_replication_hostgroups` pairs naming the new server.
        var monitorExposure: ClusterResult<[MonitorExposure]>
        /// Each node's routing configuration (``ProxySQLRoutingAudit``).
        var routing: ClusterResult<ProxySQLRoutingAudit.Snapshot>
        /// The sessions holding the old server right now.
        var pins: SessionPins
    }

    /// The earlier switch's fence (issue #13, item 1).
    enum EarlierFence: Sendable {
        /// Nothing to prove.
        case notApplicable
        /// Cannot be proved from the journal; the text says why (a warning, not a refusal).
        case cannotProve(String)
        /// The journal's facts of the earlier switch, the new writer's position and identity now, and the journal.
        case check(FenceProof.JournalFacts, now: GuardReading<NewWriterNow>, journalPath: String?)
    }

    /// The new writer's position and identity, read for the earlier fence's proof.
    struct NewWriterNow: Sendable {
        /// Its current binlog position (and GTID set).
        var position: ReplicationCoordinate
        /// Its identity; nil for a database that cannot report it.
        var identity: DatabaseSafetyFacts?
    }

    /// What the guards decided.
    struct Verdicts: Sendable, Hashable {
        /// Each failed guard, with its remedy; empty means the switch may start.
        var blockingReasons: [BlockingReason] = []
        /// What the guards report without blocking, in order (the progress output's `note` lines, full text).
        var notes: [String] = []
        /// The sessions pinned to the old server (nil when the topology has no such row).
        var pinnedSessions: [SessionHolder]?
        /// The auto-increment pin decision (nil: not taken; a reader switch, or ``AutoIncrementPinPolicy/keep``).
        var autoIncrementPin: AutoIncrementPinDecision?
        /// The ProxySQL variables whose current values to journal before the window changes them (empty when the
        /// guards refuse or nothing changes).
        var variablesToSnapshot: [ProxySQLVariable.Name] = []
        /// The refusal of the earlier fence's divergence, for the executor's error log (nil when it held).
        var earlierFenceDiverged: BlockingReason?
    }

    /// The verdicts on `facts` under `policy`.
    static func evaluate(_ facts: Facts, policy: CutoverPolicy, topology: CutoverTopology) -> Verdicts {
        var verdicts = Verdicts()
        verdicts.blockingReasons = replicationReasons(facts, policy: policy)
        verdicts.blockingReasons += writerSafetyReasons(facts)
        let reverse = reversePrerequisiteVerdicts(facts)
        verdicts.blockingReasons += reverse.reasons
        verdicts.notes += reverse.notes
        verdicts.blockingReasons += oldWriterReasons(facts, policy: policy)
        if let proxy = facts.proxy {
            verdicts.blockingReasons += proxyReasons(proxy, facts: facts, policy: policy, topology: topology)
            verdicts.pinnedSessions = proxy.pins.pinnedHolders
        } else {
            let kind: RoutedServer.Kind = facts.operation.movesWriter ? .writer : .reader
            verdicts.blockingReasons.append(
                BlockingReason(
                    check: "topology", message: "the topology has no \(kind) rows for both databases",
                    remedy: "add them to the configuration"))
        }
        if let settings = facts.windowSettings {
            let (reasons, notes) = windowSettingsVerdicts(settings, policy: policy)
            verdicts.blockingReasons += reasons
            verdicts.notes += notes
        }
        let fence = earlierFenceVerdicts(facts.earlierFence, name: facts.newName)
        verdicts.blockingReasons += fence.reasons
        verdicts.notes += fence.notes
        verdicts.earlierFenceDiverged = fence.diverged
        if let summary = facts.proxy?.pins.summary {
            verdicts.notes.append("guards: \(summary)")
        }
        if facts.operation.movesWriter, policy.autoIncrementPin != .keep {
            let evidence = policy.autoIncrementPin == .auto ? facts.autoIncrementEvidence : nil
            let decision = AutoIncrementPinDecision.decide(policy: policy.autoIncrementPin, evidence: evidence)
            verdicts.notes.append("auto-increment pin: \(decision.relax ? "relaxed" : "kept"): \(decision.reason)")
            verdicts.autoIncrementPin = decision
        }
        if verdicts.blockingReasons.isEmpty, facts.operation.movesWriter {
            verdicts.variablesToSnapshot = ProxySettingsSnapshot.variablesChanged(
                disableRetries: policy.disableQueryRetries, relaxPin: verdicts.autoIncrementPin?.relax ?? false
            ).keys.sorted()
        }
        return verdicts
    }

    // MARK: The databases

    /// Replication into the new server: running, no error, lag within budget. A reader switch onto the database
    /// that takes the writes (a reader failback after the writer's) needs none: it is the primary.
    static func replicationReasons(_ facts: Facts, policy: CutoverPolicy) -> [BlockingReason] {
        switch facts.newReplication {
        case .unreadable(let error):
            return [
                BlockingReason(
                    check: "replication.readable",
                    message: "cannot read replication status of \(facts.newName): \(error)",
                    remedy: "check the account's privileges and connectivity")
            ]
        case .read(let health?):
            if !health.isRunning {
                return [
                    BlockingReason(
                        check: "replication.running",
                        message: "\(facts.newName) does not replicate cleanly: \(health)",
                        remedy: "fix replication into \(facts.newName) (see `migrate-cli status`) before switching")
                ]
            }
            if let lag = health.secondsBehind, Duration.seconds(lag) > policy.lagBudget {
                return [
                    BlockingReason(
                        check: "replication.lag",
                        message: "\(facts.newName) is \(lag) s behind, over the budget of \(policy.lagBudget)",
                        remedy: "wait for replication to catch up or raise policy.lag-budget")
                ]
            }
            return []
        case .read(nil):
            if !facts.operation.movesWriter, facts.newServesWrites == true { return [] }
            return [
                BlockingReason(
                    check: "replication.configured",
                    message: "\(facts.newName) does not replicate from \(facts.oldName)",
                    remedy: "set up replication first (the runbook's step 2)")
            ]
        }
    }

    /// The writer switch's safety checks of issue #13 (decided by ``WriterSafetyGuards``): the new writer can take
    /// writes (or this run lifts its fence), it replicates from the old writer by server identity, the old writer
    /// has no upstream link that reverse replication would reset, and the forward channel has no filter that drops
    /// application transactions. A database that cannot report its identity is not checked; identities that
    /// cannot be read block (and end these checks).
    static func writerSafetyReasons(_ facts: Facts) -> [BlockingReason] {
        guard facts.operation.movesWriter, let safety = facts.writerSafety else { return [] }
        let identities: Identities
        switch safety.identities {
        case .unreadable(let error):
            return [
                BlockingReason(
                    check: "target.writable",
                    message: "cannot read read_only / server_id of \(facts.newName) or \(facts.oldName): \(error)",
                    remedy: "check the account and connectivity (`migrate-cli preflight`), then run again")
            ]
        case .read(let read):
            identities = read
        }
        var reasons: [BlockingReason] = []
        if let new = identities.new {
            // Only a failback onto the source lifts a fence (the `unfenceNew` step), and only where SET GLOBAL works.
            let runLiftsFence = facts.operation.to == .source && facts.newCanFence
            if let reason = WriterSafetyGuards.newWriterWritable(new, name: facts.newName, runLiftsFence: runLiftsFence) {
                reasons.append(reason)
            }
            switch safety.oldUpstream {
            case .read(let upstream):
                if let reason = WriterSafetyGuards.oldWriterUpstreamLink(
                    upstream, new: new, oldName: facts.oldName, newName: facts.newName)
                {
                    reasons.append(reason)
                }
            case .unreadable(let error):
                reasons.append(
                    BlockingReason(
                        check: "reverse.upstream-link",
                        message: "cannot read the replica status of \(facts.oldName): \(error)",
                        remedy: "check the account's privileges (REPLICATION CLIENT) and connectivity, then run again"))
            case nil:
                break
            }
        }
        if case .read(let health?) = facts.newReplication, health.isRunning {
            if let old = identities.old,
                let reason = WriterSafetyGuards.replicatesFromOldWriter(
                    health, old: old, oldName: facts.oldName, newName: facts.newName)
            {
                reasons.append(reason)
            }
            if let filters = health.filters, let reason = WriterSafetyGuards.forwardFilters(filters, newName: facts.newName) {
                reasons.append(reason)
            }
        }
        return reasons
    }

    /// The old writer: it can be fenced when the policy asks for it (a cut-over from the source), and no write
    /// transaction on it is open longer than ``CutoverPolicy/longTransactionLimit`` (it would hold the drain).
    static func oldWriterReasons(_ facts: Facts, policy: CutoverPolicy) -> [BlockingReason] {
        guard facts.operation.movesWriter else { return [] }
        var reasons: [BlockingReason] = []
        if facts.operation.from == .source, policy.fenceOldWriter, !facts.oldCanFence {
            reasons.append(
                BlockingReason(
                    check: "source.fence",
                    message: "\(facts.oldName) cannot be made read-only by this account (RDS or Aurora: no SET "
                        + "GLOBAL), but policy.fence-old-writer is on",
                    remedy: "set policy.fence-old-writer: false (the switch then relies on ProxySQL and on closing "
                        + "sessions), or use an account that may set read_only"))
        }
        switch facts.longTransactions {
        case .read(let long) where !long.isEmpty:
            reasons.append(
                BlockingReason(
                    check: "source.long-transactions",
                    message: "\(long.count) write transaction(s) on \(facts.oldName) open longer than "
                        + "\(policy.longTransactionLimit): \(long.map(\.description).joined(separator: "; "))",
                    remedy: "let them finish (they would hold the drain) or end them, then run again"))
        case .unreadable(let error):
            reasons.append(
                BlockingReason(
                    check: "source.long-transactions",
                    message: "cannot list transactions on \(facts.oldName): \(error)",
                    remedy: "grant PROCESS to the cut-over account"))
        case .read, nil:
            break
        }
        return reasons
    }

    // MARK: ProxySQL

    /// Every node routes to the old server and not to the new one, holds both rows, exposes the new server to no
    /// monitor pair, passes the routing audit, and has no session pinned to the old server that would hold the
    /// drain into a rollback (``pinnedSessionReasons(_:operation:policy:)``).
    static func proxyReasons(_ proxy: Proxy, facts: Facts, policy: CutoverPolicy, topology: CutoverTopology)
        -> [BlockingReason]
    {
        let (oldKey, newKey) = (proxy.oldKey, proxy.newKey)
        let kind: RoutedServer.Kind = facts.operation.movesWriter ? .writer : .reader
        var reasons = proxy.runtimeMismatches.map { failure in
            BlockingReason(
                check: "proxysql.runtime",
                message: "\(failure.node): runtime is not the starting state (\(oldKey) ONLINE, \(newKey) absent): "
                    + "\(failure.error)",
                remedy: "check `migrate-cli status`; a previous run may need `migrate-cli resume`")
        }
        // Both rows must exist in every node's configuration: the switch only changes statuses, and a missing row
        // would surface only when the window is already open (OFFLINE_HARD reads as "absent" at runtime).
        for (node, servers) in proxy.configured.successes {
            for key in [oldKey, newKey] where !servers.contains(where: { $0.key == key }) {
                let role = key == oldKey ? facts.operation.from : facts.operation.to
                reasons.append(
                    BlockingReason(
                        check: "proxysql.rows",
                        message: "\(node): mysql_servers has no row \(key) (\(role) \(kind))",
                        remedy: "add the row on every ProxySQL node (OFFLINE_HARD for the server that is not serving "
                            + "yet), LOAD MYSQL SERVERS TO RUNTIME, then run again"))
            }
        }
        for (node, pairs) in proxy.monitorExposure.successes where !pairs.isEmpty {
            reasons.append(
                BlockingReason(
                    check: "proxysql.replication-hostgroups",
                    message: "\(node): \(newKey.endpoint) is in a mysql_replication_hostgroups pair (\(pairs)); the "
                        + "monitor could move it by read_only",
                    remedy: "remove the pair or the server from it for the migration"))
        }
        for failure in proxy.monitorExposure.failures {
            reasons.append(
                BlockingReason(
                    check: "proxysql.replication-hostgroups",
                    message: "\(failure.node): cannot read mysql_replication_hostgroups: \(failure.error)",
                    remedy: "check that \(failure.node) answers on its admin port with the configured account"))
        }
        // Everything else in ProxySQL that could route writes around the switch, or be published by its LOADs.
        reasons += ProxySQLRoutingAudit.blockingReasons(
            proxy.routing, topology: topology, operation: facts.operation, policy: policy)
        reasons += pinnedSessionReasons(proxy.pins, operation: facts.operation, policy: policy)
        return reasons
    }

    /// What pins sessions to the old server blocks the guards only when waiting for it cannot end well: under
    /// ``DrainDeadlinePolicy/rollBack``, a session pinned for the whole session (a session variable, a lock, ...) or
    /// idle-pinned for at least ``CutoverPolicy/longTransactionLimit`` would hold the drain until its deadline and
    /// roll the run back, a write stall for nothing. Under ``DrainDeadlinePolicy/force`` such sessions are cut at
    /// `OFFLINE_HARD`, so they are only reported. A node whose processlist cannot be read blocks (the switch reads it
    /// to close sessions).
    static func pinnedSessionReasons(_ pins: SessionPins, operation: CutoverOperation, policy: CutoverPolicy)
        -> [BlockingReason]
    {
        var reasons = pins.failures.map { failure in
            BlockingReason(
                check: "proxysql.processlist",
                message: "\(failure.node): cannot read stats_mysql_processlist: \(failure.error)",
                remedy: "check the admin account and the node; the switch reads the processlist to close sessions"
            )
        }
        guard policy.drainDeadlinePolicy == .rollBack else { return reasons }
        var stubborn = pins.stubborn(idleLimit: policy.longTransactionLimit)
        if policy.pinnedSessions == .cut {
            // Idle pins are cut at OFFLINE_HARD (issue #18): only what the drain must wait for can block.
            stubborn.removeAll { DrainClassifier.holderClass(of: $0.entry).isIdlePin }
        }
        guard !stubborn.isEmpty else { return reasons }
        let listed = stubborn.map { SessionPins.holder($0.entry, node: $0.node).description }
        reasons.append(
            BlockingReason(
                check: "proxysql.pinned-sessions",
                message: "\(stubborn.count) session(s) pinned to \(pins.server) would hold the drain past "
                    + "policy.drain-deadline (\(policy.drainDeadline)) and roll the \(operation) back: "
                    + listed.joined(separator: "; "),
                remedy: pins.remedy(policy: policy)
            )
        )
        return reasons
    }

    /// The ProxySQL settings that stretch a writer window (``ProxyWindowSettings``): a `fail` blocks, a `warn` is a
    /// note with the number it adds, and a node whose variables cannot be read is a note too (the other guards read
    /// every node and block on one that does not answer).
    static func windowSettingsVerdicts(_ read: ClusterResult<ProxyWindowSettings>, policy: CutoverPolicy)
        -> (reasons: [BlockingReason], notes: [String])
    {
        var reasons: [BlockingReason] = []
        var notes: [String] = []
        for (_, settings) in read.successes {
            for finding in settings.findings(policy: policy) {
                switch finding.status {
                case .pass:
                    break
                case .warn:
                    notes.append("guards: \(finding.message)" + (finding.remedy.map { " — \($0)" } ?? ""))
                case .fail:
                    reasons.append(
                        BlockingReason(
                            check: "proxysql.window-settings", message: finding.message,
                            remedy: finding.remedy ?? "see Documentation/configuration.md"))
                }
            }
        }
        for failure in read.failures {
            notes.append("guards: \(failure.node): cannot read the window settings: \(failure.error)")
        }
        return (reasons, notes)
    }

    // MARK: The earlier fence

    /// The earlier switch's fence (decided by ``FenceProof/laterVerdict(atFence:now:reverseReplicationStarted:mariaDBBinlogState:serverID:serverUUID:)``
    /// and ``FenceProof/earlierFenceVerdict(_:verdict:name:journalPath:)``): what cannot be proved is a note (never
    /// silence), a divergence blocks, and a new writer whose position cannot be read blocks. `name` is the new
    /// writer's, for messages.
    static func earlierFenceVerdicts(_ fence: EarlierFence, name: String)
        -> (reasons: [BlockingReason], notes: [String], diverged: BlockingReason?)
    {
        switch fence {
        case .notApplicable:
            return ([], [], nil)
        case .cannotProve(let why):
            return ([], ["guards: WARNING: \(why)"], nil)
        case .check(_, .unreadable(let error), _):
            let reason = BlockingReason(
                check: "fence.diverged",
                message: "cannot read \(name)'s position to prove that the fence of the earlier switch "
                    + "held: \(error)",
                remedy: "check the account (REPLICATION CLIENT) and connectivity, then run again")
            return ([reason], [], nil)
        case .check(let facts, .read(let now), let journalPath):
            let verdict = FenceProof.laterVerdict(
                atFence: facts.atFence, now: now.position, reverseReplicationStarted: facts.reverseReplicationStarted,
                mariaDBBinlogState: now.identity?.gtidBinlogState, serverID: now.identity?.serverID,
                serverUUID: now.identity?.serverUUID)
            let (reason, note) = FenceProof.earlierFenceVerdict(
                facts, verdict: verdict, name: name, journalPath: journalPath)
            return (reason.map { [$0] } ?? [], note.map { ["guards: \($0)"] } ?? [], reason)
        }
    }
}

extension ProxySettingsSnapshot {
    /// The ProxySQL variables a writer window changes, and the values they get.
    static func variablesChanged(disableRetries: Bool, relaxPin: Bool) -> [ProxySQLVariable.Name: String] {
        var changes: [ProxySQLVariable.Name: String] = [:]
        if disableRetries { changes[.queryRetriesOnFailure] = "0" }
        if relaxPin { changes[.autoIncrementDelayMultiplex] = "0" }
        return changes
    }
}
