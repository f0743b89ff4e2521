public import ProxySQLAdmin

/// Whether re-loading `mysql_servers` can spare clients a shunned new writer's stall, right after its `ONLINE`
/// took effect (#14 item 8). Pure: facts in, a decision out. **Not wired into the writer switch yet** (see
/// `Documentation/proxysql-emulator.md`, "A shunned new writer"): the decision and its rules, tested, for the step
/// that will read the facts.
///
/// What ProxySQL 2.7.1 does, read in its source:
/// - A server is shunned automatically by errors within one wall-clock second (`MySrvC::connect_error`); a sole
///   writer shunned that way is tried again only by a session's "desperate" pick more than one whole second after its
///   last error (`MyHGC::get_random_MySrvC`): clients wait 1–2 s per shun.
/// - `LOAD MYSQL SERVERS TO RUNTIME` with unchanged rows compares each row with the **live** status
///   (`MySQL_HostGroups_Manager::commit`): a server shunned automatically whose row says `ONLINE` is set `ONLINE` at
///   once; its error counters (`time_last_detected_error`, `connect_ERR_at_time_last_detected_error`) are **not**
///   reset (`MySrvC::set_status` only sets the status), so one more error in the same second shuns it again. The LOAD
///   itself pauses every worker about 1 ms (`signal_all_threads(1)`).
///
/// Hence: a re-LOAD helps only when the new writer accepts connections again (the statements waiting for it then
/// proceed at their next re-check, 1 ms, instead of after up to 2 s); while it still refuses, a LOAD makes waiting
/// statements spend their connect retries on it sooner (earlier errors for clients) and it is shunned again at its
/// next error. So: re-LOAD the nodes that show it `SHUNNED` only after a fresh connection to it succeeded, a bounded
/// number of times; otherwise leave ProxySQL's own desperate re-try to it.
public enum ShunnedWriterRecovery {
    /// What was read right after the new writer's `ONLINE` took effect.
    public struct Facts: Sendable, Hashable {
        /// Per ProxySQL node: the new writer's status in `runtime_mysql_servers` (nil: absent or not readable).
        public var runtimeStatus: [String: BackendStatus?]
        /// A fresh direct connection to the new writer, made after the statuses were read: succeeded (true), failed
        /// (false), not tried (nil).
        public var acceptsConnections: Bool?
        /// Re-LOADs this switch already did for this.
        public var reloadsDone: Int

        /// Creates facts.
        public init(runtimeStatus: [String: BackendStatus?], acceptsConnections: Bool?, reloadsDone: Int = 0) {
            self.runtimeStatus = runtimeStatus
            self.acceptsConnections = acceptsConnections
            self.reloadsDone = reloadsDone
        }
    }

    /// What to do.
    public enum Decision: Sendable, Hashable {
        /// No node shows the new writer shunned.
        case nothingToDo
        /// `LOAD MYSQL SERVERS TO RUNTIME` (rows unchanged) on these nodes, in the given order; undone by nothing
        /// (it only puts the live status back to the configured `ONLINE`); journal it.
        case reload(nodes: [String])
        /// Shunned somewhere, but a LOAD would not help: why.
        case leave(nodes: [String], reason: String)
    }

    /// At most this many re-LOADs per switch by default.
    public static let defaultMaximumReloads = 2

    /// The decision for `facts`.
    ///
    /// - Parameter maximumReloads: the bound on re-LOADs per switch (0 turns the recovery off).
    public static func decide(_ facts: Facts, maximumReloads: Int = defaultMaximumReloads) -> Decision {
        let shunned = facts.runtimeStatus.filter { $0.value == .shunned }.map(\.key).sorted()
        guard !shunned.isEmpty else { return .nothingToDo }
        guard facts.reloadsDone < maximumReloads else {
            return .leave(
                nodes: shunned,
                reason: "already re-loaded \(facts.reloadsDone) time(s) (at most \(maximumReloads)): ProxySQL's own "
                    + "re-try (more than 1 s after the last error) is left to bring it back")
        }
        switch facts.acceptsConnections {
        case true?:
            return .reload(nodes: shunned)
        case false?:
            return .leave(
                nodes: shunned,
                reason: "the new writer still refuses connections: a LOAD would make waiting statements spend their "
                    + "connect retries on it sooner, and its next error in the same second shuns it again")
        case nil:
            return .leave(
                nodes: shunned,
                reason: "not known whether the new writer accepts connections again: a LOAD is only useful once it does")
        }
    }
}

extension ShunnedWriterRecovery {
    /// How long the watch goes on once a node showed the new writer `SHUNNED` (from the start of the watch): ProxySQL's
    /// own "desperate" re-try brings a sole shunned writer back 1–2 s after its last error, so watching longer could
    /// not spare clients anything.
    public static let defaultRecoveryBound: Duration = .seconds(3)

    /// How often the watch reads the new writer's runtime status (each read is one `SELECT` per node, about 1 ms on a
    /// real ProxySQL 2.7.1).
    public static let defaultInterval: Duration = .milliseconds(50)

    /// Whether a replication login (``ReversePrerequisites/Login``) shows that the new writer accepts connections:
    /// logged in, or refused for the account (the server answered a login, so it is not refusing connections), yes;
    /// 1040 `Too many connections`, 1203 (`max_user_connections`), 1053 (shutting down), no answer or unreachable, no;
    /// not probed, unknown.
    public static func acceptsConnections(_ login: ReversePrerequisites.Login) -> Bool? {
        switch login {
        case .loggedIn:
            return true
        case .refused(let errorNumber, _):
            return ![1040, 1053, 1203].contains(errorNumber ?? 0)
        case .hostNotAllowed:
            return true
        case .unreachable:
            return false
        case .notProbed:
            return nil
        }
    }

    /// The watch right after the new writer's `ONLINE`, as a pure loop: the executor reads each node's runtime status
    /// of the new writer (and, when ``needsProbe(_:)`` says so, probes a fresh connection to it), hands the facts to
    /// ``observe(_:acceptsConnections:elapsed:)``, and does what it answers; it reports each re-LOAD with
    /// ``reloaded(nodes:at:failures:)``. No clock: `elapsed` is measured from the start of the watch by the executor.
    ///
    /// The watch lasts `watch` when no node shows the writer `SHUNNED`; once one does, up to `recovery` (re-LOADing,
    /// per ``decide(_:maximumReloads:)``, once a fresh connection succeeds), and it ends as soon as no node shows it
    /// `SHUNNED` any more after that. Once the re-LOADs are spent (or with none allowed) it goes on reading without
    /// logging in, so its report says whether ProxySQL's own re-try brought the writer back within the watch.
    public struct Watch: Sendable, Hashable {
        /// What the executor does next.
        public enum Next: Sendable, Hashable {
            /// Read again after the interval.
            case readAgain
            /// `LOAD MYSQL SERVERS TO RUNTIME` on these nodes (rows unchanged), then report it and read again.
            case reload(nodes: [String])
            /// The watch is over: report ``report``.
            case end
        }

        /// How long to watch a new writer that no node shows `SHUNNED`.
        public let watch: Duration
        /// How long to go on, from the start of the watch, once a node showed it `SHUNNED`.
        public let recovery: Duration
        /// The bound on re-LOADs.
        public let maximumReloads: Int
        /// What was seen and done so far.
        public private(set) var report = ShunnedWriterWatch()

        /// Starts a watch.
        public init(
            watch: Duration, recovery: Duration = ShunnedWriterRecovery.defaultRecoveryBound,
            maximumReloads: Int = ShunnedWriterRecovery.defaultMaximumReloads
        ) {
            self.watch = watch
            self.recovery = max(recovery, watch)
            self.maximumReloads = maximumReloads
        }

        /// Whether the facts just read call for a fresh connection to the new writer before deciding: some node
        /// shows it `SHUNNED` and a re-LOAD is still allowed.
        public func needsProbe(_ runtimeStatus: [String: BackendStatus?]) -> Bool {
            report.reloads.count < maximumReloads && runtimeStatus.values.contains(.shunned)
        }

        /// Takes one reading: each node's runtime status of the new writer (nil: absent, or not readable — say which
        /// with `unreadable`), whether a fresh connection succeeded (nil: not tried), and the time since the start of
        /// the watch.
        public mutating func observe(
            _ runtimeStatus: [String: BackendStatus?], unreadable: [String: String] = [:], acceptsConnections: Bool?,
            elapsed: Duration
        ) -> Next {
            report.reads += 1
            for (node, error) in unreadable where report.unreadable[node] == nil { report.unreadable[node] = error }
            let shunned = runtimeStatus.filter { $0.value == .shunned }.map(\.key).sorted()
            report.shunnedOn = Array(Set(report.shunnedOn).union(shunned)).sorted()
            report.stillShunned = shunned
            if let acceptsConnections { report.probes.append(acceptsConnections) }
            report.watched = elapsed
            let bound = report.shunnedOn.isEmpty ? watch : recovery
            let decision = ShunnedWriterRecovery.decide(
                Facts(
                    runtimeStatus: runtimeStatus, acceptsConnections: acceptsConnections,
                    reloadsDone: report.reloads.count),
                maximumReloads: maximumReloads)
            switch decision {
            case .nothingToDo:
                // Shunned earlier and now back everywhere: nothing more to spare clients.
                if !report.shunnedOn.isEmpty || elapsed >= bound { return .end }
                return .readAgain
            case .reload(let nodes):
                return elapsed >= bound ? .end : .reload(nodes: nodes)
            case .leave(_, let reason):
                // Left to ProxySQL's own re-try (the writer refuses, or the re-LOADs are spent): keep reading until no
                // node shows it SHUNNED or the bound, so the report says whether it came back within the watch.
                report.left = reason
                return elapsed >= bound ? .end : .readAgain
            }
        }

        /// Records a re-LOAD on `nodes` at `at` (from the start of the run); `failures`: node → error, for the nodes
        /// where it failed.
        public mutating func reloaded(nodes: [String], at: Duration, failures: [String: String] = [:]) {
            report.reloads.append(ShunnedWriterWatch.Reload(nodes: nodes, at: at, failures: failures))
        }
    }
}

/// What the watch right after the new writer's `ONLINE` saw and did (#14 item 8; ``ShunnedWriterRecovery/Watch``).
/// Journaled with the step's event; shown in the timeline.
public struct ShunnedWriterWatch: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One `LOAD MYSQL SERVERS TO RUNTIME` (rows unchanged) to unshun the new writer.
    public struct Reload: Sendable, Hashable, Codable {
        /// The nodes re-loaded.
        public var nodes: [String]
        /// When (from the start of the run).
        public var at: Duration
        /// Node → error, where the LOAD failed.
        public var failures: [String: String]

        /// Describes a re-LOAD.
        public init(nodes: [String], at: Duration, failures: [String: String] = [:]) {
            self.nodes = nodes
            self.at = at
            self.failures = failures
        }
    }

    /// How many times the runtime status was read.
    public var reads = 0
    /// How long the watch went on (from its start to its last reading).
    public var watched: Duration = .zero
    /// The nodes that showed the new writer `SHUNNED` at least once.
    public var shunnedOn: [String] = []
    /// The nodes that showed it `SHUNNED` at the last reading.
    public var stillShunned: [String] = []
    /// Each fresh connection tried: accepted (true) or refused (false), in order.
    public var probes: [Bool] = []
    /// The re-LOADs done.
    public var reloads: [Reload] = []
    /// The last reason a shunned writer was left to ProxySQL's own re-try.
    public var left: String?
    /// Node → the first error reading its runtime.
    public var unreadable: [String: String] = [:]

    /// An empty report.
    public init() {}

    /// One line, without times (a dry run's plan must not depend on the clock): `new writer never SHUNNED`, or what
    /// happened. ``details`` adds the reads and how long the watch went on.
    public var description: String {
        var parts: [String] = []
        if shunnedOn.isEmpty {
            parts.append("new writer never SHUNNED")
        } else {
            parts.append("new writer SHUNNED on \(shunnedOn.joined(separator: ", "))")
            if !probes.isEmpty {
                parts.append("\(probes.filter { $0 }.count) of \(probes.count) fresh connection(s) accepted")
            }
            parts.append(
                reloads.isEmpty
                    ? "not re-loaded"
                    : "re-loaded \(reloads.count) time(s) ("
                        + reloads.map { $0.nodes.joined(separator: "+") }.joined(separator: ", ") + ")")
            parts.append(
                stillShunned.isEmpty
                    ? "ONLINE again at the end" : "still SHUNNED on \(stillShunned.joined(separator: ", "))")
        }
        if !unreadable.isEmpty { parts.append("unreadable on \(unreadable.keys.sorted().joined(separator: ", "))") }
        return parts.joined(separator: "; ")
    }

    /// ``description`` with the reads and how long the watch went on.
    public var details: String {
        "\(description) (\(reads) read(s) in \(ReplicationSettleObservation.readable(watched)))"
    }
}

extension ShunnedWriterRecovery {
    /// What the operator should still look at after a watch that ended with the new writer `SHUNNED` on some node (nil
    /// otherwise): ProxySQL brings it back by itself once it accepts connections, but clients wait or fail until then.
    public static func followUp(_ watch: ShunnedWriterWatch) -> String? {
        guard !watch.stillShunned.isEmpty else { return nil }
        return "the new writer was still SHUNNED on \(watch.stillShunned.joined(separator: ", ")) when the watch after "
            + "its ONLINE ended: ProxySQL tries it again by itself, but until it accepts connections clients wait or "
            + "fail; "
            + "check it accepts connections (max_connections, its error log) and its status with `migrate-cli status`"
    }
}
