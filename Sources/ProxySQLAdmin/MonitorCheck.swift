public import Logging
public import MariaDB

/// One check of a backend by ProxySQL's monitor, from `monitor.mysql_server_connect_log` or
/// `monitor.mysql_server_ping_log`: did this ProxySQL node itself reach the server, and when.
///
/// The monitor checks only servers that are not `OFFLINE_HARD` (and only while `mysql-monitor_enabled` is on),
/// so a new Aurora endpoint added as `OFFLINE_HARD` usually has no rows yet.
public struct MonitorCheck: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Which log a check comes from.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        /// `monitor.mysql_server_connect_log`: a new connection was opened (`mysql-monitor_connect_interval`).
        case connect
        /// `monitor.mysql_server_ping_log`: an open connection was pinged (`mysql-monitor_ping_interval`).
        case ping

        /// The table in schema `monitor`.
        public var table: String {
            switch self {
            case .connect: "mysql_server_connect_log"
            case .ping: "mysql_server_ping_log"
            }
        }

        /// The column holding the time the check took (`connect_success_time_us` / `ping_success_time_us`).
        var successTimeColumn: String { "\(rawValue)_success_time_us" }
        /// The column holding the error (`connect_error` / `ping_error`), NULL on success.
        var errorColumn: String { "\(rawValue)_error" }

        public var description: String { rawValue }
    }

    /// The log the check comes from.
    public var kind: Kind
    /// The server checked.
    public var endpoint: ServerEndpoint
    /// When the check started, in microseconds since the Unix epoch (`time_start_us`).
    public var startedAtMicroseconds: UInt64
    /// How long it took, in microseconds (`..._success_time_us`; 0 when it failed).
    public var durationMicroseconds: UInt64
    /// The error the monitor got, nil when the check succeeded.
    public var error: String?

    /// Creates a check.
    public init(
        kind: Kind, endpoint: ServerEndpoint, startedAtMicroseconds: UInt64, durationMicroseconds: UInt64,
        error: String?
    ) {
        self.kind = kind
        self.endpoint = endpoint
        self.startedAtMicroseconds = startedAtMicroseconds
        self.durationMicroseconds = durationMicroseconds
        self.error = error
    }

    /// Whether the monitor reached the server.
    public var succeeded: Bool { error == nil }

    /// Reads a row of a monitor log table by column name.
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/unexpectedResult``).
    public init(row: Row, kind: Kind) throws {
        let reader = RowReader(row: row, table: "monitor.\(kind.table)")
        let error = try reader.optionalString(kind.errorColumn)
        self.init(
            kind: kind,
            endpoint: ServerEndpoint(host: try reader.string("hostname"), port: try reader.int("port")),
            startedAtMicroseconds: try reader.uint64("time_start_us"),
            durationMicroseconds: try reader.uint64IfPresent(kind.successTimeColumn) ?? 0,
            error: (error?.isEmpty ?? true) ? nil : error
        )
    }

    /// `ping db1:3306 at 1732000000.123456: ok in 312 µs` or `...: Access denied ...`.
    public var description: String {
        let seconds = startedAtMicroseconds / 1_000_000
        let fraction = String(startedAtMicroseconds % 1_000_000)
        let at = "\(seconds).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
        return "\(kind) \(endpoint) at \(at): " + (error ?? "ok in \(durationMicroseconds) µs")
    }
}

extension ProxySQLAdminStatements {
    /// `SELECT hostname, port, time_start_us, <kind>_success_time_us, <kind>_error FROM monitor.<table>
    /// WHERE hostname = 'h' AND port = P ORDER BY time_start_us DESC LIMIT n`.
    public static func selectMonitorLog(_ kind: MonitorCheck.Kind, of endpoint: ServerEndpoint, limit: Int)
        -> SQLStatement
    {
        "SELECT hostname, port, time_start_us, \(unsafeRaw: kind.successTimeColumn), \(unsafeRaw: kind.errorColumn)"
            + " FROM monitor.\(unsafeRaw: kind.table) WHERE hostname = \(endpoint.host) AND port = \(endpoint.port)"
            + " ORDER BY time_start_us DESC LIMIT \(max(1, limit))"
    }
}

extension ProxySQLAdminClient {
    /// The latest checks of `endpoint` in one of the monitor's logs, newest first.
    ///
    /// - Throws: ``ProxySQLAdminError``; ``ProxySQLAdminError/Code/adminStatementFailed`` when the node has no
    ///   such table (`no such table: monitor.…`).
    public func monitorChecks(of endpoint: ServerEndpoint, kind: MonitorCheck.Kind, limit: Int, logger: Logger)
        async throws -> [MonitorCheck]
    {
        let statement = ProxySQLAdminStatements.selectMonitorLog(kind, of: endpoint, limit: limit)
        return try decodeAll(try await rows(statement, logger: logger), statement: statement) {
            try MonitorCheck(row: $0, kind: kind)
        }
    }
}
