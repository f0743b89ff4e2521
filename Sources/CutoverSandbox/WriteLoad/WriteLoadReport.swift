/// What a ``WriteLoad`` run did: every write transaction with its outcome, and every connection event.
public struct WriteLoadReport: Sendable, CustomStringConvertible {
    /// The run id (rows of this run carry it in `run_id`).
    public var runID: Int64
    /// The workload's table.
    public var workload: WriteLoadWorkload
    /// The schema written into.
    public var schema: WriteLoadSchema
    /// The number of clients.
    public var clients: Int
    /// When every client was connected and the loop began.
    public var startedAt: ContinuousClock.Instant
    /// When the stop was requested (or the run was cancelled).
    public var stoppedAt: ContinuousClock.Instant
    /// When the last client finished.
    public var finishedAt: ContinuousClock.Instant
    /// Every write transaction, ordered by the instant it was sent.
    public var records: [WriteRecord]
    /// Lost connections, failed reconnection attempts and reconnections, in time order.
    public var connectionEvents: [ConnectionEvent]
    /// The clients' shapes, in turn (``WriteLoad/ClientShape``).
    public var shapes: [WriteLoad.ClientShape]
    /// What the ``WriteLoad/ClientShape/lastInsertID`` clients read.
    public var lastInsertID: LastInsertIDTally

    /// Creates a report (the load does; tests build synthetic ones).
    public init(
        runID: Int64,
        workload: WriteLoadWorkload,
        schema: WriteLoadSchema = WriteLoadSchema(),
        clients: Int,
        startedAt: ContinuousClock.Instant,
        stoppedAt: ContinuousClock.Instant,
        finishedAt: ContinuousClock.Instant,
        records: [WriteRecord],
        connectionEvents: [ConnectionEvent] = [],
        shapes: [WriteLoad.ClientShape] = [.plain],
        lastInsertID: LastInsertIDTally = LastInsertIDTally()
    ) {
        self.shapes = shapes
        self.lastInsertID = lastInsertID
        self.runID = runID
        self.workload = workload
        self.schema = schema
        self.clients = clients
        self.startedAt = startedAt
        self.stoppedAt = stoppedAt
        self.finishedAt = finishedAt
        self.records = records
        self.connectionEvents = connectionEvents
    }

    /// Write transactions whose commit was acknowledged.
    public var acknowledged: [WriteRecord] { records.filter(\.outcome.isAcknowledged) }

    /// Write transactions the server refused.
    public var failed: [WriteRecord] {
        records.filter { if case .failed = $0.outcome { true } else { false } }
    }

    /// Write transactions whose connection broke or that were interrupted before an answer.
    public var ambiguous: [WriteRecord] {
        records.filter { if case .ambiguous = $0.outcome { true } else { false } }
    }

    /// The number of acknowledged writes.
    public var acknowledgedCount: Int { records.count { $0.outcome.isAcknowledged } }

    /// Acknowledged writes per second of the run (until the stop).
    public var acknowledgedPerSecond: Double {
        let seconds = (stoppedAt - startedAt).inMilliseconds / 1000
        return seconds > 0 ? Double(acknowledgedCount) / seconds : 0
    }

    /// How many failed or ambiguous writes had each error number (nil: no number, for example a cancellation).
    public var errorCounts: [UInt32?: Int] {
        var counts: [UInt32?: Int] = [:]
        for record in records {
            if let error = record.outcome.error { counts[error.number, default: 0] += 1 }
        }
        return counts
    }

    /// How many times a client's connection was lost.
    public var connectionLossCount: Int {
        connectionEvents.count { if case .lost = $0.kind { true } else { false } }
    }

    /// The longest interval in which no client got an acknowledgement (see
    /// ``WriteGap/longest(acknowledgements:runStart:runEnd:overlapping:)``).
    ///
    /// - Parameter range: only gaps overlapping it count (for example the instants a writer switch began and
    ///   ended); nil for the whole run.
    public func longestGap(overlapping range: ClosedRange<ContinuousClock.Instant>? = nil) -> WriteGap? {
        WriteGap.longest(
            acknowledgements: records.compactMap { record in
                if case .acknowledged(let at) = record.outcome { at } else { nil }
            },
            runStart: startedAt,
            runEnd: stoppedAt,
            overlapping: range
        )
    }

    /// p50 / p99 / max latency of the acknowledged writes, optionally only of those sent within `range`; nil when
    /// there are none.
    public func latencySummary(sentWithin range: ClosedRange<ContinuousClock.Instant>? = nil) -> LatencySummary? {
        LatencySummary(
            records.lazy
                .filter { $0.outcome.isAcknowledged && (range?.contains($0.sentAt) ?? true) }
                .map(\.latency)
        )
    }

    /// Counts, rate, the longest gap and the latencies, on a few lines (no row data).
    public var description: String {
        let errors = errorCounts.sorted { ($0.key ?? 0) < ($1.key ?? 0) }
            .map { "\($0.key.map(String.init) ?? "other")×\($0.value)" }.joined(separator: ", ")
        var lines = [
            "run \(runID), \(workload), \(clients) clients, \((stoppedAt - startedAt).inMilliseconds) ms",
            "writes \(records.count): acknowledged \(acknowledgedCount) (\(Int(acknowledgedPerSecond.rounded()))/s), "
                + "failed \(failed.count), ambiguous \(ambiguous.count); connections lost \(connectionLossCount)",
        ]
        if !errors.isEmpty { lines.append("errors: \(errors)") }
        if let gap = longestGap() { lines.append("longest gap without acknowledgement: \(gap)") }
        if let latency = latencySummary() { lines.append("latency: \(latency)") }
        return lines.joined(separator: "\n")
    }
}
