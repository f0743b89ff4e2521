/// A ProxySQL server row the cut-over moves, named by what it is rather than by address; the plan's topology
/// maps it to `(hostgroup, host, port)` rows on every ProxySQL node.
public struct RoutedServer: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Whether the row routes writes or reads.
    public enum Kind: String, Sendable, Hashable, Codable { case writer, reader }

    /// Whose row it is.
    public var role: DatabaseRole
    /// Writer or reader row.
    public var kind: Kind

    /// Creates a routed server.
    public init(_ role: DatabaseRole, _ kind: Kind) {
        self.role = role
        self.kind = kind
    }

    /// The writer row of `role`.
    public static func writer(_ role: DatabaseRole) -> RoutedServer { RoutedServer(role, .writer) }
    /// The reader row of `role`.
    public static func reader(_ role: DatabaseRole) -> RoutedServer { RoutedServer(role, .reader) }

    public var description: String { "\(role) \(kind)" }
}

/// The routing states the cut-over sets (a subset of ProxySQL's `status`).
public enum RoutingStatus: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Takes new connections.
    case online = "ONLINE"
    /// Takes no new connections; sessions holding one keep it until they return it.
    case offlineSoft = "OFFLINE_SOFT"
    /// Takes nothing: idle connections dropped, busy ones fail on next use (absent from the runtime).
    case offlineHard = "OFFLINE_HARD"

    public var description: String { rawValue }
}

/// A replication coordinate as captured and journaled: a binlog file and offset, and the GTID state when the
/// server has one (MySQL `gtid_executed` or MariaDB `gtid_binlog_pos`).
public struct ReplicationCoordinate: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The binlog file (`mysql-bin.000123`).
    public var file: String
    /// The offset in that file.
    public var offset: UInt64
    /// The GTID state at that point, when the server has one.
    public var gtidSet: String?

    /// Creates a coordinate.
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
    /// ProxySQL's `SessionID` of the session.
    public var sessionID: UInt64
    /// The session's account.
    public var user: String
    /// The client's `host:port`, and the ProxySQL node.
    public var clientAddress: String
    /// What the session is doing (`Query`, `Sleep`), and for how long.
    public var command: String
    /// How long it has been in that command, in milliseconds.
    public var timeMilliseconds: UInt64
    /// Our best reading of why it is pinned (open transaction, `@` variable, lock, auto-increment insert).
    public var reason: String

    /// Creates a holder.
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

    /// Creates a snapshot.
    public init(previousValues: [String: [String: String]] = [:]) {
        self.previousValues = previousValues
    }

    /// Whether nothing was changed (nothing to restore).
    public var isEmpty: Bool { previousValues.values.allSatisfy(\.isEmpty) }
}

/// A reason the guards or preflight refused to start.
public struct BlockingReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A stable identifier of the check (`replication.lag`, `proxysql.replication-hostgroups`).
    public var check: String
    /// What was found.
    public var message: String
    /// What to do about it.
    public var remedy: String

    /// Creates a reason.
    public init(check: String, message: String, remedy: String) {
        self.check = check
        self.message = message
        self.remedy = remedy
    }

    public var description: String { "\(check): \(message) — \(remedy)" }
}

/// A step failure as the machine sees it (the executor turns thrown errors into this).
public struct StepFailure: Sendable, Hashable, Codable, CustomStringConvertible, Error {
    /// The step that failed (its description, `set source writer OFFLINE_SOFT + LOAD`).
    public var step: String
    /// What went wrong; never a password.
    public var message: String
    /// The endpoint or ProxySQL node concerned, when one is.
    public var endpoint: String?
    /// Whether the step may have taken effect despite the failure (for example a LOAD that timed out).
    public var mayHaveTakenEffect: Bool
    /// What the operator can do about it (absent in journals written before it existed).
    public var remedy: String?

    /// Creates a failure.
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

/// What a run did to keep a database's `read_only` setting across a restart, and what is left for the operator.
///
/// `SET GLOBAL read_only` is lost when the server restarts. MySQL 8.0+ keeps it with `SET PERSIST`; MariaDB and
/// MySQL 5.7 cannot, so the setting must go into the server's option file, and so must the reverse-replication
/// filter on a native replica (neither `CHANGE REPLICATION FILTER` nor `SET GLOBAL replicate_*` survives a restart).
public struct ReadOnlyDurability: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The database (`source (10.0.0.5:3306)`).
    public var database: String
    /// Whether the database was made read-only (the old writer's fence) or writable (a failback's new writer).
    public var readOnly: Bool
    /// Whether the server itself now keeps the setting across a restart (`SET PERSIST` / `RESET PERSIST`).
    public var persisted: Bool
    /// Lines of the option file's `[mysqld]` section the operator must add (``readOnly``) or take out (not
    /// ``readOnly``) so a restart keeps the state the run left; empty when nothing is needed.
    public var optionFileLines: [String]

    /// Creates a record.
    public init(database: String, readOnly: Bool, persisted: Bool, optionFileLines: [String]) {
        self.database = database
        self.readOnly = readOnly
        self.persisted = persisted
        self.optionFileLines = optionFileLines
    }

    /// What the operator must do, nil when nothing.
    public var followUp: String? {
        guard !optionFileLines.isEmpty else { return nil }
        let lines = optionFileLines.map { "`\($0)`" }.joined(separator: ", ")
        if readOnly {
            return "so that \(database) comes back read-only (and keeps replicating from the new writer) after a "
                + "restart, add to the [mysqld] section of its option file: \(lines)"
                + (persisted ? " (read_only itself is persisted with SET PERSIST)" : " (this server has no SET PERSIST)")
        }
        return "\(database) is the writer again: take out of its option file the lines added after the cut-over "
            + "(\(lines)), or a restart makes it read-only"
    }

    public var description: String {
        "\(database): read_only \(readOnly ? "ON" : "OFF")"
            + (persisted ? ", persisted" : ", until a restart")
            + (optionFileLines.isEmpty ? "" : "; option file: \(optionFileLines.joined(separator: "; "))")
    }
}
