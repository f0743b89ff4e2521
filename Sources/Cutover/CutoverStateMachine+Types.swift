/// A ProxySQL server row the cut-over moves, named by what it is rather than by address; the plan's topology
/// maps it to `(hostgroup, host, port)` rows on every ProxySQL node.
public struct RoutedServer: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable { case writer, reader }

    public var role: DatabaseRole
    public var kind: Kind

    public init(_ role: DatabaseRole, _ kind: Kind) {
        self.role = role
        self.kind = kind
    }

    public static func writer(_ role: DatabaseRole) -> RoutedServer { RoutedServer(role, .writer) }
    public static func reader(_ role: DatabaseRole) -> RoutedServer { RoutedServer(role, .reader) }

    public var description: String { "\(role) \(kind)" }
}

/// The routing states the cut-over sets (a subset of ProxySQL's `status`).
public enum RoutingStatus: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case online = "ONLINE"
    case offlineSoft = "OFFLINE_SOFT"
    case offlineHard = "OFFLINE_HARD"

    public var description: String { rawValue }
}

/// A replication coordinate as captured and journaled: a binlog file and offset, and the GTID state when the
/// server has one (MySQL `gtid_executed` or MariaDB `gtid_binlog_pos`).
public struct ReplicationCoordinate: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var offset: UInt64
    public var gtidSet: String?

    public init(file: String, offset: UInt64, gtidSet: String? = nil) {
        self.file = file
        self.offset = offset
        self.gtidSet = gtidSet
    }

    public var description: String {
        "\(file):\(offset)" + (gtidSet.map { " gtid \($0)" } ?? "")
    }
}

/// A session that still held the old server when drain was read, and why ProxySQL keeps it there.
public struct SessionHolder: Sendable, Hashable, Codable, CustomStringConvertible {
    public var sessionID: UInt64
    public var user: String
    public var clientAddress: String
    /// What the session is doing (`Query`, `Sleep`), and for how long.
    public var command: String
    public var timeMilliseconds: UInt64
    /// Our best reading of why it is pinned (open transaction, `@` variable, lock, auto-increment insert).
    public var reason: String

    public init(sessionID: UInt64, user: String, clientAddress: String, command: String, timeMilliseconds: UInt64, reason: String) {
        self.sessionID = sessionID
        self.user = user
        self.clientAddress = clientAddress
        self.command = command
        self.timeMilliseconds = timeMilliseconds
        self.reason = reason
    }

    public var description: String {
        "session \(sessionID) (\(user)@\(clientAddress), \(command) \(timeMilliseconds) ms): \(reason)"
    }
}

/// ProxySQL variables changed for the window, with the values to restore.
public struct ProxySettingsSnapshot: Sendable, Hashable, Codable {
    /// Variable name → value before the change, per ProxySQL node (node name → (variable → value)).
    public var previousValues: [String: [String: String]]

    public init(previousValues: [String: [String: String]] = [:]) {
        self.previousValues = previousValues
    }

    public var isEmpty: Bool { previousValues.values.allSatisfy(\.isEmpty) }
}

/// A reason the guards or preflight refused to start.
public struct BlockingReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A stable identifier of the check (`replication.lag`, `proxysql.replication-hostgroups`).
    public var check: String
    public var message: String
    public var remedy: String

    public init(check: String, message: String, remedy: String) {
        self.check = check
        self.message = message
        self.remedy = remedy
    }

    public var description: String { "\(check): \(message) — \(remedy)" }
}

/// A step failure as the machine sees it (the executor turns thrown errors into this).
public struct StepFailure: Sendable, Hashable, Codable, CustomStringConvertible, Error {
    public var step: String
    public var message: String
    /// The endpoint or ProxySQL node concerned, when one is.
    public var endpoint: String?
    /// Whether the step may have taken effect despite the failure (for example a LOAD that timed out).
    public var mayHaveTakenEffect: Bool
    /// What the operator can do about it (absent in journals written before it existed).
    public var remedy: String?

    public init(
        step: String,
        message: String,
        endpoint: String? = nil,
        mayHaveTakenEffect: Bool = false,
        remedy: String? = nil
    ) {
        self.step = step
        self.message = message
        self.endpoint = endpoint
        self.mayHaveTakenEffect = mayHaveTakenEffect
        self.remedy = remedy
    }

    public var description: String {
        "\(step) failed" + (endpoint.map { " on \($0)" } ?? "") + ": \(message)" + (remedy.map { " — \($0)" } ?? "")
    }
}
