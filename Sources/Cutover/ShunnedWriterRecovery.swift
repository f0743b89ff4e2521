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
