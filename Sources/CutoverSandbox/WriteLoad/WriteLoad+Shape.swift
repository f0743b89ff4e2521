public import MariaDB

extension WriteLoad {
    /// How a load client behaves beyond its writes: the shapes of ordinary applications that ProxySQL pins
    /// (issue #18). Clients take the shapes of ``Configuration/shapes`` in turn (client `i` takes shape
    /// `i % shapes.count`).
    public enum ClientShape: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Writes in a loop, nothing else (the load before issue #18).
        case plain
        /// An autocommit INSERT into the AUTO_INCREMENT table, then `SELECT LAST_INSERT_ID()` in a separate
        /// statement, checked against the id the INSERT's own answer carried (a session moved to another backend
        /// between the two would read another value). Needs ``WriteLoadWorkload/autoIncrement``.
        case lastInsertID = "last-insert-id"
        /// At every connect, the statement a Connector/J-style driver sends (`SELECT
        /// @@session.auto_increment_increment …`, which is not on `mysql-keep_multiplexing_variables`): the session is
        /// pinned for life; then writes every ``Configuration/thinkTime``. (The driver's isolation read is left out:
        /// it names `tx_isolation` on MariaDB 10.11 and `transaction_isolation` on MySQL 8+, which removed the
        /// former, and both are on `mysql-keep_multiplexing_variables`, so it does not pin.)
        case pinnedAtConnect = "pinned-at-connect"
        /// A pooled connection that was pinned (`SET @pool_session = …` at connect) and then mostly sits idle: one
        /// write every ``Configuration/idleTime``.
        case idlePinned = "idle-pinned"

        public var description: String { rawValue }

        /// The statements sent right after each connect.
        var connectStatements: [SQLStatement] {
            switch self {
            case .plain, .lastInsertID: []
            case .pinnedAtConnect:
                [
                    "SELECT @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client"
                ]
            case .idlePinned: ["SET @pool_session = 1"]
            }
        }
    }

    /// The mixed load of the rehearsal (issue #18): every shape, on the AUTO_INCREMENT table.
    public static let mixedShapes: [ClientShape] = [.plain, .lastInsertID, .pinnedAtConnect, .idlePinned]
}

/// What ``WriteLoad/ClientShape/lastInsertID`` clients saw.
public struct LastInsertIDTally: Sendable, Hashable {
    /// `SELECT LAST_INSERT_ID()` answers compared with the INSERT's own id.
    public var checked = 0
    /// Answers that differed: the read went to another backend connection than the INSERT.
    public var mismatched = 0
    /// Reads that failed (the session was cut between the INSERT, acknowledged, and the read).
    public var readErrors = 0
    /// The first few mismatches, "INSERT id X, read Y" (a read of 0 came from a connection that never inserted).
    public var mismatchSamples: [String] = []

    /// Creates a tally.
    public init(checked: Int = 0, mismatched: Int = 0, readErrors: Int = 0) {
        self.checked = checked
        self.mismatched = mismatched
        self.readErrors = readErrors
    }

    mutating func add(_ other: LastInsertIDTally) {
        checked += other.checked
        mismatched += other.mismatched
        readErrors += other.readErrors
        mismatchSamples += other.mismatchSamples.prefix(max(0, 5 - mismatchSamples.count))
    }

    /// Counts a read of `value` after an INSERT whose answer carried `inserted`.
    mutating func record(inserted: UInt64, read value: UInt64?) {
        checked += 1
        guard value != inserted else { return }
        mismatched += 1
        if mismatchSamples.count < 5 {
            mismatchSamples.append("INSERT id \(inserted), read \(value.map(String.init) ?? "nothing")")
        }
    }
}
