/// What a replica must have executed for a catch-up to be complete: a binlog position of the source, or the
/// source's GTIDs in its dialect.
public enum CatchUpTarget: Sendable, Hashable, CustomStringConvertible {
    /// A coordinate in the source's binary log (waited for with `MASTER_POS_WAIT` / `SOURCE_POS_WAIT`).
    case position(BinlogPosition)
    /// A MySQL GTID set (waited for with `WAIT_FOR_EXECUTED_GTID_SET`).
    case mysqlGTIDSet(MySQLGTIDSet)
    /// A MariaDB GTID position (waited for with `MASTER_GTID_WAIT`).
    case mariaDBGTIDPosition(MariaDBGTIDPosition)

    /// The source's position as a target.
    public static func position(of status: SourceStatus) -> CatchUpTarget { .position(status.position) }

    /// The source's GTIDs as a target, or nil when the status carries none.
    public static func gtid(of status: SourceStatus) -> CatchUpTarget? {
        switch status.gtid {
        case .mysql(let set): .mysqlGTIDSet(set)
        case .mariaDB(let position): .mariaDBGTIDPosition(position)
        case nil: nil
        }
    }

    public var description: String {
        switch self {
        case .position(let position): "position \(position)"
        case .mysqlGTIDSet(let set): "GTID set \(set)"
        case .mariaDBGTIDPosition(let position): "GTID position \(position)"
        }
    }
}
