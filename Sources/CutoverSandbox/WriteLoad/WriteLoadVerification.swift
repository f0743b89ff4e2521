/// A row of the write-load table as read back from a server: which write it belongs to and where it was accepted.
public struct WrittenRow: Sendable, Hashable {
    /// The write id.
    public var writeID: Int64
    /// `@@server_id` of the server that accepted the write (filled by the trigger); nil when the trigger was missing.
    public var originServerID: UInt32?

    /// Creates a row.
    public init(writeID: Int64, originServerID: UInt32?) {
        self.writeID = writeID
        self.originServerID = originServerID
    }
}

/// A period in which a server must accept no write: from its fence (for example `OFFLINE_HARD` on the old writer)
/// until it became the writer again (a failback), or for good.
public struct WriteFence: Sendable, Hashable {
    /// `@@server_id` of the fenced server.
    public var serverID: UInt32
    /// When the fence was in place.
    public var from: ContinuousClock.Instant
    /// When the server was allowed to accept writes again; nil for never.
    public var until: ContinuousClock.Instant?

    /// Creates a fence.
    public init(serverID: UInt32, from: ContinuousClock.Instant, until: ContinuousClock.Instant? = nil) {
        self.serverID = serverID
        self.from = from
        self.until = until
    }

    /// Whether `row`, written by `record`, was accepted by the fenced server while it was fenced.
    ///
    /// Only what the client's instants prove counts: the write was **sent** at or after `from` and its origin is
    /// the fenced server; with an `until`, it must also have been acknowledged before `until` (a write sent during
    /// the fence may legitimately wait in ProxySQL's queue and land on the server once it is the writer again, so
    /// an unacknowledged one proves nothing).
    public func isViolated(by row: WrittenRow, of record: WriteRecord) -> Bool {
        guard row.originServerID == serverID, record.sentAt >= from else { return false }
        guard let until else { return true }
        if case .acknowledged(let at) = record.outcome { return at < until }
        return false
    }
}

/// What the checker found: the proof (or disproof) that nothing acknowledged was lost or doubled.
public struct WriteLoadVerification: Sendable, CustomStringConvertible {
    /// An acknowledged write with rows missing from the final writer.
    public struct LostWrite: Sendable, Hashable {
        /// The write.
        public var record: WriteRecord
        /// The ids of its rows that are missing.
        public var missingWriteIDs: [Int64]
    }

    /// A write id present more than once on the final writer (a double-applied write).
    public struct DuplicatedWrite: Sendable, Hashable {
        /// The write id.
        public var writeID: Int64
        /// How many rows carry it.
        public var rowCount: Int
        /// Where each copy was accepted.
        public var originServerIDs: [UInt32?]
        /// The write, when it was sent by this run's clients.
        public var record: WriteRecord?
    }

    /// A write accepted by a server while that server was fenced.
    public struct FenceViolation: Sendable, Hashable {
        /// The row (from the final writer, or from the old source when it is only there).
        public var row: WrittenRow
        /// The write.
        public var record: WriteRecord
        /// The fence it broke.
        public var fence: WriteFence
    }

    /// A write id with different origins on the old source and on the final writer: both sides accepted it.
    public struct SplitWrite: Sendable, Hashable {
        /// The write id.
        public var writeID: Int64
        /// Origins of its rows on the final writer.
        public var finalWriterOrigins: [UInt32?]
        /// Origins of its rows on the old source.
        public var oldSourceOrigins: [UInt32?]
    }

    /// Write transactions checked.
    public var writeCount: Int
    /// Write transactions acknowledged.
    public var acknowledgedCount: Int
    /// Rows of this run found on the final writer.
    public var rowsOnFinalWriter: Int
    /// Acknowledged writes missing (wholly or partly) from the final writer.
    public var lost: [LostWrite]
    /// Write ids found more than once on the final writer.
    public var duplicated: [DuplicatedWrite]
    /// Writes that were not acknowledged and are partly present (some rows, not all): a broken transaction.
    public var partiallyPresent: [WriteRecord]
    /// Writes the server refused that are nevertheless present (committed despite the error).
    public var failedCommitted: [WriteRecord]
    /// Writes the server refused that are absent.
    public var failedNotCommitted: [WriteRecord]
    /// Writes whose outcome the client could not know that are present (ghost writes).
    public var ambiguousCommitted: [WriteRecord]
    /// Writes whose outcome the client could not know that are absent.
    public var ambiguousNotCommitted: [WriteRecord]
    /// Rows of this run whose write id no client sent.
    public var unknownRows: [WrittenRow]
    /// Writes accepted by a fenced server.
    public var fenceViolations: [FenceViolation]
    /// Rows accepted by the old source (origin = its server id) that are not on the final writer; empty when the
    /// old source was not checked.
    public var oldSourceOnlyRows: [WrittenRow]
    /// Write ids accepted by both sides.
    public var splitWrites: [SplitWrite]
    /// Rows on the final writer per origin server id (nil: no origin recorded).
    public var rowsByOrigin: [UInt32?: Int]
    /// The old source's server id, when it was checked.
    public var oldSourceServerID: UInt32?

    /// Nothing acknowledged lost, nothing doubled, no unknown row, no broken transaction, no fenced write, nothing
    /// stranded on or accepted by both sides. Failed writes that committed and ghost writes are facts to report,
    /// not faults of the cut-over: they are listed, not counted here.
    public var isClean: Bool {
        lost.isEmpty && duplicated.isEmpty && partiallyPresent.isEmpty && unknownRows.isEmpty
            && fenceViolations.isEmpty && oldSourceOnlyRows.isEmpty && splitWrites.isEmpty
    }

    /// One line per finding, counts only (no row data beyond write ids).
    public var description: String {
        var lines = [
            "writes \(writeCount), acknowledged \(acknowledgedCount), rows on final writer \(rowsOnFinalWriter)",
            "lost \(lost.count), duplicated \(duplicated.count), partially present \(partiallyPresent.count), "
                + "unknown rows \(unknownRows.count)",
            "failed: committed \(failedCommitted.count), not committed \(failedNotCommitted.count); "
                + "ambiguous: committed \(ambiguousCommitted.count), not committed \(ambiguousNotCommitted.count)",
            "fence violations \(fenceViolations.count), old-source-only rows \(oldSourceOnlyRows.count), "
                + "split writes \(splitWrites.count)",
            "rows by origin: "
                + rowsByOrigin.sorted { ($0.key ?? 0) < ($1.key ?? 0) }
                .map { "\($0.key.map(String.init) ?? "none")=\($0.value)" }.joined(separator: ", "),
        ]
        if !lost.isEmpty {
            lines.append(
                "lost write ids: " + lost.prefix(20).flatMap(\.missingWriteIDs).map(String.init).joined(separator: ", ")
            )
        }
        if !duplicated.isEmpty {
            lines.append(
                "duplicated write ids: "
                    + duplicated.prefix(20).map { "\($0.writeID)×\($0.rowCount)" }.joined(separator: ", "))
        }
        lines.append(isClean ? "verdict: clean" : "verdict: NOT clean")
        return lines.joined(separator: "\n")
    }
}
