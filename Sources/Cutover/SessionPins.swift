public import Logging
public import ProxySQLAdmin

/// What ProxySQL's `stats_mysql_processlist` tells about the sessions that hold a backend connection to one server:
/// which of them are **pinned** (idle, yet keeping the connection, so an `OFFLINE_SOFT` drain waits for them), and
/// our best reading of why (DESIGN.md §3, "Pinning").
///
/// Shared by the drain (who holds on at the deadline), the writer switch's guards (who pins sessions right now) and
/// the preflight check `proxysql.pinned-sessions`.
public struct SessionPins: Sendable {
    /// Why ProxySQL keeps a session on its backend, as far as the processlist can tell.
    public enum Cause: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        /// A statement is running (not a pin: it ends with the statement).
        case runningStatement = "running-statement"
        /// An open transaction (`BEGIN` without `COMMIT` yet).
        case transaction
        /// A pin that lasts as long as the client's session: a session variable (`@`), `LOCK TABLES`, `GET_LOCK`, a
        /// temporary table, a prepared statement, `sql_log_bin = 0`, or multiplexing turned off.
        case sessionLong = "session-long"
        /// Idle with no pin flag: an auto-increment insert pin (`mysql-auto_increment_delay_multiplex`), or a release
        /// that has not happened yet.
        case autoIncrementOrDelayed = "auto-increment-or-delayed"
        /// ProxySQL shows no flags (an older version): any of the above.
        case unknown

        public var description: String { rawValue }
    }

    /// The server the sessions hold.
    public var server: BackendServer.Key
    /// Every session holding a backend connection to ``server``, on every node that answered, as
    /// (ProxySQL node, processlist row), ordered by node then session.
    public var sessions: [(node: String, entry: ProcesslistEntry)]
    /// The nodes whose processlist could not be read, with the error.
    public var failures: [(node: String, error: ProxySQLAdminError)]

    /// Creates a reading (tests build them from scripted rows).
    public init(
        server: BackendServer.Key,
        sessions: [(node: String, entry: ProcesslistEntry)],
        failures: [(node: String, error: ProxySQLAdminError)] = []
    ) {
        self.server = server
        self.sessions = sessions
        self.failures = failures
    }

    /// Reads `stats_mysql_processlist` on every node of `proxies` (each bounded by the cluster's per-node deadline)
    /// for the sessions holding a backend connection to `server`.
    public static func read(on server: BackendServer.Key, proxies: ProxySQLCluster, logger: Logger) async -> SessionPins
    {
        let attached = await proxies.processlist(attachedTo: server, logger: logger)
        var sessions: [(node: String, entry: ProcesslistEntry)] = []
        for (node, entries) in attached.successes {
            sessions += entries.map { (node, $0) }
        }
        return SessionPins(server: server, sessions: sessions, failures: attached.failures)
    }

    /// The sessions idle while keeping their backend connection: they hold an `OFFLINE_SOFT` drain.
    public var pinned: [(node: String, entry: ProcesslistEntry)] {
        sessions.filter { $0.entry.isIdleHoldingBackend }
    }

    /// Every session holding the server, as the drain reports them (pinned or running a statement).
    public var holders: [SessionHolder] {
        sessions.map { Self.holder($0.entry, node: $0.node) }
    }

    /// The pinned sessions, as holders.
    public var pinnedHolders: [SessionHolder] {
        pinned.map { Self.holder($0.entry, node: $0.node) }
    }

    /// The causes of the pinned sessions, without repeats, in ``Cause`` order.
    public var causes: [Cause] {
        let present = Set(pinned.map { Self.cause(of: $0.entry) })
        return Cause.allCases.filter { present.contains($0) }
    }

    /// The pinned sessions that will not let go by themselves within a drain: a session-long pin, or idle for at
    /// least `idleLimit` while holding the connection.
    public func stubborn(idleLimit: Duration) -> [(node: String, entry: ProcesslistEntry)] {
        let limit = UInt64(max(0, idleLimit / .milliseconds(1)))
        return pinned.filter { Self.cause(of: $0.entry) == .sessionLong || $0.entry.timeMilliseconds >= limit }
    }

    /// `3 session(s) pinned to hostgroup 10 db1:3306: session 17 (app@10.1.0.7:51234 via proxysql-1, Sleep 830 ms):
    /// open transaction; ...`, or nil when none is.
    public var summary: String? {
        let pinned = pinnedHolders
        guard !pinned.isEmpty else { return nil }
        return "\(pinned.count) session(s) pinned to \(server): " + pinned.map(\.description).joined(separator: "; ")
    }

    // MARK: One session

    /// `STATUS_MYSQL_CONNECTION_*` bits of ProxySQL's `status_flags` that keep a backend connection, with their
    /// meaning. The transaction bit is apart (it ends with `COMMIT`).
    static let sessionLongFlags: [(bit: UInt64, name: String)] = [
        (0x0004, "a session variable (@)"),
        (0x0008, "a prepared statement"),
        (0x0010, "LOCK TABLES"),
        (0x0020, "a temporary table"),
        (0x0040, "a GET_LOCK"),
        (0x0080, "multiplexing turned off (query rule or mysql-multiplexing)"),
        (0x0100, "sql_log_bin = 0"),
        (0x0200, "found_rows"),
        (0x0400, "multiplexing turned off for the hostgroup"),
        (0x0800, "a savepoint"),
    ]
    static let transactionFlag: UInt64 = 0x0001

    /// What keeps `entry` on its backend connection.
    public static func cause(of entry: ProcesslistEntry) -> Cause {
        if entry.command.lowercased() == "query" { return .runningStatement }
        if let flags = entry.statusFlags {
            if sessionLongFlags.contains(where: { flags & $0.bit != 0 }) { return .sessionLong }
            if flags & transactionFlag != 0 { return .transaction }
            return .autoIncrementOrDelayed
        }
        let info = (entry.info ?? "").uppercased()
        if info.contains("LOCK TABLES") || info.contains("GET_LOCK") || info.contains("@") { return .sessionLong }
        return .unknown
    }

    /// Our best reading of why ProxySQL keeps `entry` on its backend (DESIGN.md §3 "Pinning"): the pin flags where
    /// ProxySQL shows them (`status_flags`), else the statement text, else the possibilities (ProxySQL shows no
    /// statement for an idle session).
    public static func reason(_ entry: ProcesslistEntry) -> String {
        if entry.command.lowercased() == "query" { return "running a statement for \(entry.timeMilliseconds) ms" }
        if let flags = entry.statusFlags {
            var named = sessionLongFlags.filter { flags & $0.bit != 0 }.map(\.name)
            if flags & transactionFlag != 0 { named.insert("an open transaction", at: 0) }
            if named.isEmpty {
                return "idle for \(entry.timeMilliseconds) ms with no pin flag: an auto-increment insert pin "
                    + "(mysql-auto_increment_delay_multiplex) or a release not yet done"
            }
            let lasting = sessionLongFlags.contains { flags & $0.bit != 0 }
            return "idle for \(entry.timeMilliseconds) ms holding " + named.joined(separator: ", ")
                + (lasting ? ": pinned for the whole session" : "")
        }
        let info = (entry.info ?? "").uppercased()
        if info.contains("LOCK TABLES") { return "holds LOCK TABLES" }
        if info.contains("GET_LOCK") { return "holds a GET_LOCK" }
        if info.contains("@") { return "used a session variable (@): pinned for the session" }
        if info.hasPrefix("INSERT") { return "open transaction or auto-increment insert pin" }
        return "idle for \(entry.timeMilliseconds) ms while keeping its backend connection (an open transaction, "
            + "a session variable (@), a lock, or an auto-increment insert pin)"
    }

    /// `entry` as a ``SessionHolder`` seen through ProxySQL node `node`.
    public static func holder(_ entry: ProcesslistEntry, node: String) -> SessionHolder {
        SessionHolder(
            sessionID: entry.sessionID.rawValue,
            user: entry.user ?? "?",
            clientAddress: "\(entry.clientHost ?? "?"):\(entry.clientPort.map(String.init) ?? "?") via \(node)",
            command: entry.command,
            timeMilliseconds: entry.timeMilliseconds,
            reason: reason(entry)
        )
    }

    // MARK: What to do

    /// What an operator can do about the pinned sessions, by cause, naming the policy knobs that help.
    public func remedy(policy: CutoverPolicy) -> String {
        var lines: [String] = []
        let causes = causes
        let sessions = pinned.map { "session \($0.entry.sessionID) on \($0.node)" }.joined(separator: ", ")
        if causes.contains(.sessionLong) || causes.contains(.unknown) {
            lines.append(
                "a session-long pin never drains while the client stays connected: find the client (user and "
                    + "address above) and have it reconnect or close the session, or KILL CONNECTION <SessionID> on "
                    + "the ProxySQL admin (\(sessions)); a session variable can be listed in "
                    + "mysql-keep_multiplexing_variables; or set policy.drain-deadline-policy: force (such sessions "
                    + "are cut at OFFLINE_HARD and their clients get error 2013)"
            )
        }
        if causes.contains(.autoIncrementOrDelayed) || causes.contains(.unknown) {
            lines.append(
                policy.autoIncrementPin == .relax
                    ? "the auto-increment pin is already relaxed for the window (policy.auto-increment-pin: relax); "
                        + "sessions still idle-pinned then hold something else: find the client"
                    : "inserts into AUTO_INCREMENT tables pin sessions for 5 statements or 10 s: set "
                        + "policy.auto-increment-pin: relax so they drain per transaction (trade-off: LAST_INSERT_ID() "
                        + "read in a separate statement)"
            )
        }
        if causes.contains(.transaction) || causes.contains(.unknown) {
            lines.append(
                "open transactions drain when they commit: keep policy.drain-deadline (now \(policy.drainDeadline)) "
                    + "above the longest write transaction, or find the client of a transaction left open"
            )
        }
        return lines.joined(separator: "\n")
    }
}
