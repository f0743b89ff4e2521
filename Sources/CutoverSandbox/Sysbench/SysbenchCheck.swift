/// What can honestly be checked of a sysbench run against the rows on the final writer (sysbench keeps no record
/// of its writes, so the write-load checker cannot run on them):
///
/// - `oltp_insert` (generated or explicit ids): the rows added to `sbtest1` must be at least the INSERTs sysbench
///   counted as done (fewer: acknowledged writes lost) and at most those plus its ignored errors (a write cut by
///   `OFFLINE_HARD` may still have committed; more than that: writes doubled). Which rows are missing or doubled
///   cannot be told.
/// - `oltp_write_only`: every transaction deletes and re-inserts one row, so `sbtest1` must still hold exactly the
///   prepared rows (a half-applied transaction would change the count); acknowledged transactions cannot be
///   checked one by one.
public struct SysbenchCheck: Sendable, Hashable, CustomStringConvertible {
    /// Rows in `sbtest1` on the final writer.
    public var rows: Int
    /// Rows prepared before the run.
    public var prepared: Int
    /// The run's counters.
    public var report: SysbenchReport

    /// Creates a check.
    public init(rows: Int, prepared: Int, report: SysbenchReport) {
        self.rows = rows
        self.prepared = prepared
        self.report = report
    }

    /// Acknowledged INSERTs not found (0 when clean).
    public var lost: Int {
        switch report.workload {
        case .insertGenerated, .insertExplicit: max(0, report.writes - (rows - prepared))
        case .writeOnly: max(0, prepared - rows)
        }
    }

    /// Rows beyond what acknowledged writes and possibly-committed errors explain (0 when clean).
    public var unexplained: Int {
        switch report.workload {
        case .insertGenerated, .insertExplicit: max(0, (rows - prepared) - report.writes - report.ignoredErrors)
        case .writeOnly: max(0, rows - prepared)
        }
    }

    /// Nothing lost, nothing unexplained.
    public var isClean: Bool { lost == 0 && unexplained == 0 }

    public var description: String {
        switch report.workload {
        case .insertGenerated, .insertExplicit:
            "\(rows - prepared) rows added for \(report.writes) acknowledged INSERTs and \(report.ignoredErrors) "
                + "ignored errors: \(lost) lost, \(unexplained) unexplained (row counts only)"
        case .writeOnly:
            "\(rows) rows for \(prepared) prepared: \(isClean ? "unchanged" : "changed") (row count only)"
        }
    }
}
