/// How long the emulator's admin interface takes to answer, per kind of statement.
///
/// The emulator's own admin work (SQLite in memory, a handful of rows) is faster than a real ProxySQL's for the
/// statements a cut-over sends in its window, which made windows measured on the emulator shorter than on the real
/// thing (#14). ``realistic`` pads each answer up to what a real ProxySQL 2.7.1 took on a 2-core machine over
/// loopback (medians): `LOAD MYSQL SERVERS TO RUNTIME` 1.9–2.1 ms, `SELECT … FROM stats_mysql_connection_pool`
/// 2.3–3.2 ms, `SELECT * FROM runtime_mysql_servers` 1.1–1.3 ms. ``fast`` adds nothing (unit-speed tests).
///
/// The padding is a floor: an answer the emulator itself takes longer to produce is not shortened. `SELECT 1` took
/// 0.06 ms on ProxySQL and about 0.4 ms on the emulator; no profile makes the emulator faster than it is.
public struct AdminLatencyProfile: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of admin statement the profile tells apart.
    public enum StatementKind: String, Sendable, Hashable, CaseIterable {
        /// `LOAD ... TO RUNTIME` (and its synonyms); for `MYSQL SERVERS` the rows are the `mysql_servers` rows.
        case loadToRuntime
        /// A statement that reads `stats_mysql_connection_pool`; rows: the rows returned.
        case connectionPoolStats
        /// A statement that reads `stats_mysql_processlist`; rows: the rows returned.
        case processlistStats
        /// A statement that reads a `runtime_` table (ProxySQL rebuilds it from its runtime first); rows: returned.
        case runtimeTable
        /// Anything else (`SELECT 1`, `UPDATE mysql_servers`, `SAVE ... TO DISK`, `SET`, ...): never padded.
        case other
    }

    /// The time an answer takes at least: `base` plus `perRow` for each row involved.
    public struct Cost: Sendable, Hashable {
        /// The fixed part.
        public var base: Duration
        /// Added per row involved.
        public var perRow: Duration

        /// Creates a cost.
        public init(base: Duration, perRow: Duration = .zero) {
            self.base = base
            self.perRow = perRow
        }
    }

    /// The profile's name (`fast`, `realistic`, or a custom one), printed by the benchmarks.
    public var name: String
    /// The floor per statement kind; a kind without an entry is not padded.
    public var costs: [StatementKind: Cost]

    /// Creates a profile.
    public init(name: String, costs: [StatementKind: Cost]) {
        self.name = name
        self.costs = costs
    }

    /// No padding: the emulator answers as fast as it can (unit-speed tests).
    public static let fast = AdminLatencyProfile(name: "fast", costs: [:])

    /// A real ProxySQL 2.7.1's admin latencies (2-core machine, loopback, monitor off; medians of #14): LOAD
    /// 1.9 ms + 25 µs per `mysql_servers` row (2.0 ms with 4 rows), connection-pool stats 2.5 ms + 0.1 ms per
    /// row (2.9 ms with 4), `runtime_` tables 1.1 ms + 20 µs per row (1.18 ms with 4). `stats_mysql_processlist`
    /// was not measured: it is given the connection pool's cost (ProxySQL builds both by visiting every worker
    /// thread). Other `LOAD`s (users, variables, query rules) get the fixed part only (not measured either).
    public static let realistic = AdminLatencyProfile(
        name: "realistic",
        costs: [
            .loadToRuntime: Cost(base: .microseconds(1_900), perRow: .microseconds(25)),
            .connectionPoolStats: Cost(base: .microseconds(2_500), perRow: .microseconds(100)),
            .processlistStats: Cost(base: .microseconds(2_500), perRow: .microseconds(100)),
            .runtimeTable: Cost(base: .microseconds(1_100), perRow: .microseconds(20)),
        ]
    )

    public var description: String { name }

    /// The profile named `name` (`fast` or `realistic`), or nil.
    public init?(named name: String) {
        switch name.lowercased() {
        case "fast": self = .fast
        case "realistic": self = .realistic
        default: return nil
        }
    }

    /// The kind of `query` (whitespace already collapsed or not; case-insensitive).
    public static func kind(of query: String) -> StatementKind {
        let upper = AdminEngine.normalize(query).uppercased()
        if upper.hasPrefix("LOAD "), upper.hasSuffix(" TO RUNTIME") || upper.hasSuffix(" TO RUN")
            || upper.hasSuffix(" FROM MEMORY") || upper.hasSuffix(" FROM MEM")
        {
            return .loadToRuntime
        }
        guard upper.hasPrefix("SELECT ") else { return .other }
        if upper.contains("STATS_MYSQL_CONNECTION_POOL") { return .connectionPoolStats }
        if upper.contains("STATS_MYSQL_PROCESSLIST") { return .processlistStats }
        if upper.contains("RUNTIME_") { return .runtimeTable }
        return .other
    }

    /// The floor for a statement of `kind` involving `rows` rows, or nil when it is not padded.
    public func floor(for kind: StatementKind, rows: Int) -> Duration? {
        guard let cost = costs[kind] else { return nil }
        return cost.base + cost.perRow * max(0, rows)
    }

    /// Waits until `started + floor` (when there is a floor): a sleep, then a short spin for the last 200 µs, since
    /// a timer alone overshoots by more than the floors' precision on a loaded machine.
    func pad(kind: StatementKind, rows: Int, since started: ContinuousClock.Instant) async {
        guard let floor = floor(for: kind, rows: rows) else { return }
        let deadline = started + floor
        let spin = Duration.microseconds(200)
        if deadline - ContinuousClock.now > spin * 2 {
            try? await Task.sleep(until: deadline - spin, tolerance: .microseconds(50), clock: .continuous)
        }
        while ContinuousClock.now < deadline {}
    }
}
