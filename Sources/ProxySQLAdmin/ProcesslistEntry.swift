public import MariaDB

/// A ProxySQL client session id (`SessionID` in `stats_mysql_processlist`), the argument of the admin
/// `KILL CONNECTION`.
public struct ProxySQLSessionID: RawRepresentable, Sendable, Hashable, Comparable, Codable,
    ExpressibleByIntegerLiteral, CustomStringConvertible
{
    /// The session number.
    public let rawValue: UInt64

    /// Creates a session id.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Creates a session id from an integer literal.
    public init(integerLiteral value: UInt64) {
        self.rawValue = value
    }

    public static func < (lhs: ProxySQLSessionID, rhs: ProxySQLSessionID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(UInt64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// One row of `stats_mysql_processlist`: a client session of ProxySQL's data plane.
///
/// The backend columns (``localBackendEndpoint``, ``backendEndpoint``) are set only while the session holds
/// a backend connection (in a transaction, pinned, or running a statement); ``info`` is the statement
/// running on that backend connection, nil when none.
public struct ProcesslistEntry: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `ThreadID`: the ProxySQL worker thread.
    public var threadID: Int
    /// `SessionID`: the id to pass to `KILL CONNECTION`.
    public var sessionID: ProxySQLSessionID
    /// `user`.
    public var user: String?
    /// `db`: the session's default schema.
    public var database: String?
    /// `cli_host`.
    public var clientHost: String?
    /// `cli_port`.
    public var clientPort: Int?
    /// `hostgroup`: the hostgroup the session currently routes to.
    public var hostgroup: HostgroupID
    /// `l_srv_host`/`l_srv_port`: ProxySQL's local end of the backend connection.
    public var localBackendEndpoint: ServerEndpoint?
    /// `srv_host`/`srv_port`: the backend the session holds a connection to, nil when it holds none.
    public var backendEndpoint: ServerEndpoint?
    /// `command`: `Sleep`, `Query`, `Connect`, `Delay`, ...
    public var command: String
    /// `time_ms`: time in the current command.
    public var timeMilliseconds: UInt64
    /// `info`: the statement running on the backend, nil when none.
    public var info: String?
    /// `status_flags`, when the ProxySQL version has the column.
    public var statusFlags: UInt64?
    /// `extended_info` (JSON, when `mysql-show_processlist_extended` is on), when present.
    public var extendedInfo: String?

    /// Creates an entry (for tests and fakes).
    public init(
        threadID: Int = 0,
        sessionID: ProxySQLSessionID,
        user: String? = nil,
        database: String? = nil,
        clientHost: String? = nil,
        clientPort: Int? = nil,
        hostgroup: HostgroupID,
        localBackendEndpoint: ServerEndpoint? = nil,
        backendEndpoint: ServerEndpoint? = nil,
        command: String = "Sleep",
        timeMilliseconds: UInt64 = 0,
        info: String? = nil,
        statusFlags: UInt64? = nil,
        extendedInfo: String? = nil
    ) {
        self.threadID = threadID
        self.sessionID = sessionID
        self.user = user
        self.database = database
        self.clientHost = clientHost
        self.clientPort = clientPort
        self.hostgroup = hostgroup
        self.localBackendEndpoint = localBackendEndpoint
        self.backendEndpoint = backendEndpoint
        self.command = command
        self.timeMilliseconds = timeMilliseconds
        self.info = info
        self.statusFlags = statusFlags
        self.extendedInfo = extendedInfo
    }

    /// Whether the session holds a backend connection right now.
    public var holdsBackendConnection: Bool { backendEndpoint != nil }

    /// Whether the session is idle (`Sleep`) while holding a backend connection: a pinned session (open
    /// transaction, session variable, lock, auto-increment delay) that blocks an `OFFLINE_SOFT` drain.
    public var isIdleHoldingBackend: Bool { holdsBackendConnection && command.lowercased() == "sleep" }

    /// Reads a row of `stats_mysql_processlist` by column name (all values arrive as text; the backend columns
    /// are `NULL` when the session holds no backend connection).
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/unexpectedResult``) when a required column is
    ///   missing or does not parse.
    public init(row: Row) throws {
        let reader = RowReader(row: row, table: "stats_mysql_processlist")
        func endpoint(_ hostColumn: String, _ portColumn: String) throws -> ServerEndpoint? {
            guard let host = try reader.optionalString(hostColumn), !host.isEmpty else { return nil }
            return ServerEndpoint(host: host, port: try reader.optionalInt(portColumn) ?? 0)
        }
        self.init(
            threadID: try reader.int("ThreadID"),
            sessionID: ProxySQLSessionID(rawValue: try reader.uint64("SessionID")),
            user: try reader.optionalString("user"),
            database: try reader.optionalString("db"),
            clientHost: try reader.optionalString("cli_host"),
            clientPort: try reader.optionalInt("cli_port"),
            hostgroup: HostgroupID(try reader.int("hostgroup")),
            localBackendEndpoint: try endpoint("l_srv_host", "l_srv_port"),
            backendEndpoint: try endpoint("srv_host", "srv_port"),
            command: try reader.string("command"),
            timeMilliseconds: try reader.uint64("time_ms"),
            info: try reader.optionalString("info"),
            statusFlags: try reader.uint64IfPresent("status_flags"),
            extendedInfo: reader.stringIfPresent("extended_info")
        )
    }

    /// `session 42 user app hostgroup 10 on db1:3306 Sleep 1200 ms` (no statement text).
    public var description: String {
        var text = "session \(sessionID)"
        if let user { text += " user \(user)" }
        text += " hostgroup \(hostgroup)"
        if let backendEndpoint { text += " on \(backendEndpoint)" }
        text += " \(command) \(timeMilliseconds) ms"
        return text
    }
}
