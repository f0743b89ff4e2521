/// The administrative status of a backend in `mysql_servers.status`.
///
/// - ``online``: serves traffic.
/// - ``shunned``: temporarily excluded (set by ProxySQL itself after errors or replication lag, or by hand).
/// - ``offlineSoft``: no new backend connections; a session that holds one (open transaction, or multiplexing
///   disabled for it) keeps it until it returns it.
/// - ``offlineHard``: idle connections are dropped and busy ones fail on next use. After
///   `LOAD MYSQL SERVERS TO RUNTIME` such a server is **absent** from `runtime_mysql_servers` and from
///   `stats_mysql_connection_pool`.
public enum BackendStatus: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Serves new connections.
    case online = "ONLINE"
    /// Taken out by ProxySQL itself after errors; comes back on its own.
    case shunned = "SHUNNED"
    /// No new connections; sessions holding one keep it until they return it.
    case offlineSoft = "OFFLINE_SOFT"
    /// Nothing: idle connections dropped, busy ones fail on next use; absent from the runtime tables.
    case offlineHard = "OFFLINE_HARD"

    /// Parses a status as ProxySQL stores it, ignoring case and surrounding spaces (its CHECK is
    /// `UPPER(status) IN (...)`, so `online` is a valid stored value).
    ///
    /// `SHUNNED_REPLICATION_LAG`, which `stats_mysql_connection_pool` shows for a server shunned because of
    /// replication lag, parses as ``shunned``. Returns nil for anything else.
    public init?(parsing text: some StringProtocol) {
        let upper = text.trimmingSpaces().uppercased()
        if let status = BackendStatus(rawValue: upper) {
            self = status
        } else if upper == "SHUNNED_REPLICATION_LAG" {
            self = .shunned
        } else {
            return nil
        }
    }

    /// Whether ProxySQL keeps a server with this status in its runtime tables after a LOAD (every status but
    /// ``offlineHard``).
    public var isPresentInRuntime: Bool { self != .offlineHard }

    /// Whether new traffic can be routed to a server with this status (only ``online``).
    public var acceptsNewConnections: Bool { self == .online }

    /// The stored spelling (`ONLINE`, `OFFLINE_SOFT`, ...).
    public var description: String { rawValue }
}

extension StringProtocol {
    func trimmingSpaces() -> Substring {
        let text = Substring(self)
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = text.firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = text.lastIndex(where: { !isSpace($0) })!
        return text[start...end]
    }
}
