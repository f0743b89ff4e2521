public import ReplicationControl

/// How a catch-up is proved (issue #13, item 2): by GTIDs when both sides carry them in the same dialect, by binlog
/// file and offset only when they do not. Pure: facts in, the wait target out.
///
/// A position names a coordinate in one server's binlog; a replica that reads another binlog, or whose executed
/// coordinate trails after a relay-log reset, cannot be compared with it by numbers alone. A GTID set names the
/// transactions themselves: the replica has caught up exactly when it has executed every transaction the source had
/// when it was fenced (`WAIT_FOR_EXECUTED_GTID_SET` on MySQL and Aurora, `MASTER_GTID_WAIT` on MariaDB).
public enum CatchUpProof {
    /// What the new writer's replica status says about its GTIDs.
    public struct ReplicaGTIDs: Sendable, Hashable {
        /// Whether the replica is MariaDB (its GTIDs are `domain-server-sequence`).
        public var isMariaDB: Bool
        /// Whether the replica positions itself by GTID (MySQL `Auto_Position = 1`, MariaDB `Using_Gtid` other than
        /// `No`), and on MySQL shows what it executed (`Executed_Gtid_Set`). Only then does it hold the
        /// source's whole GTID history: a replica started at a file and position (from a dump without
        /// `gtid_purged`) may lack the source's older GTIDs, and a wait for them would never end.
        public var tracksGTIDs: Bool

        /// Creates the facts.
        public init(isMariaDB: Bool, tracksGTIDs: Bool) {
            self.isMariaDB = isMariaDB
            self.tracksGTIDs = tracksGTIDs
        }

        /// The facts of a replica status.
        public init(status: ReplicaStatus, isMariaDB: Bool) {
            self.isMariaDB = isMariaDB
            if isMariaDB {
                // `Gtid_Slave_Pos` is shown only by `SHOW ALL SLAVES STATUS`; the applier keeps `@@gtid_slave_pos`
                // whatever the status shows.
                tracksGTIDs = status.gtid.usesGTID
            } else {
                tracksGTIDs = status.gtid.mode == .autoPosition && !(status.gtid.executedSet?.isEmpty ?? true)
            }
        }
    }

    /// The target to wait for: the final coordinate's GTIDs when the source had GTIDs and the replica tracks them in
    /// the same dialect; its binlog file and offset otherwise.
    ///
    /// - Throws: ``ReplicationError`` when the coordinate's file or offset is malformed and GTIDs cannot be used.
    public static func target(for coordinate: ReplicationCoordinate, replica: ReplicaGTIDs) throws -> CatchUpTarget {
        if replica.tracksGTIDs, let text = coordinate.gtidSet, !text.isEmpty {
            if replica.isMariaDB {
                if let position = try? MariaDBGTIDPosition(parsing: text), !position.isEmpty {
                    return .mariaDBGTIDPosition(position)
                }
            } else if let set = try? MySQLGTIDSet(parsing: text), !set.isEmpty {
                return .mysqlGTIDSet(set)
            }
        }
        return .position(try BinlogPosition(file: coordinate.file, offset: coordinate.offset))
    }
}
