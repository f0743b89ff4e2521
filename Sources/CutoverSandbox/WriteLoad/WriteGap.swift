/// An interval in which no client got an acknowledgement: the write window as the clients saw it.
public struct WriteGap: Sendable, Hashable, CustomStringConvertible {
    /// The last acknowledgement before the gap (or the start of the run).
    public var start: ContinuousClock.Instant
    /// The first acknowledgement after the gap (or the end of the run).
    public var end: ContinuousClock.Instant
    /// Whether `start` is the start of the run rather than an acknowledgement.
    public var startsAtRunStart: Bool
    /// Whether `end` is the end of the run rather than an acknowledgement (the load stopped inside the gap).
    public var endsAtRunEnd: Bool

    /// Creates a gap.
    public init(
        start: ContinuousClock.Instant,
        end: ContinuousClock.Instant,
        startsAtRunStart: Bool = false,
        endsAtRunEnd: Bool = false
    ) {
        self.start = start
        self.end = end
        self.startsAtRunStart = startsAtRunStart
        self.endsAtRunEnd = endsAtRunEnd
    }

    /// The gap's length.
    public var duration: Duration { end - start }

    /// `… ms` with the open ends marked.
    public var description: String {
        var text = "\(duration.inMilliseconds) ms"
        if startsAtRunStart { text += " (from run start)" }
        if endsAtRunEnd { text += " (to run end)" }
        return text
    }

    /// The longest interval without an acknowledgement that overlaps `range`.
    ///
    /// Gaps are measured between consecutive acknowledgements of all clients; the first gap starts at `runStart`
    /// and the last one ends at `runEnd`. A gap that straddles an end of `range` is measured whole, so a range
    /// around a switch catches the full stall even when the switch began before the range.
    ///
    /// - Parameters:
    ///   - acknowledgements: acknowledgement instants, in any order.
    ///   - runStart: when the load started.
    ///   - runEnd: when the load stopped (no later than the last acknowledgement is fine too).
    ///   - range: only gaps overlapping this range count; nil for the whole run.
    /// - Returns: nil when no gap overlaps `range` (for example an empty range outside the run).
    public static func longest(
        acknowledgements: [ContinuousClock.Instant],
        runStart: ContinuousClock.Instant,
        runEnd: ContinuousClock.Instant,
        overlapping range: ClosedRange<ContinuousClock.Instant>? = nil
    ) -> WriteGap? {
        let sorted = acknowledgements.sorted()
        var best: WriteGap?
        var previous = runStart
        var previousIsRunStart = true
        func consider(_ gap: WriteGap) {
            if let range, !(gap.start <= range.upperBound && gap.end >= range.lowerBound) { return }
            if best == nil || gap.duration > best!.duration { best = gap }
        }
        for instant in sorted {
            let start = min(previous, instant)
            consider(WriteGap(start: start, end: instant, startsAtRunStart: previousIsRunStart))
            previous = instant
            previousIsRunStart = false
        }
        let end = max(runEnd, previous)
        consider(WriteGap(start: previous, end: end, startsAtRunStart: previousIsRunStart, endsAtRunEnd: true))
        return best
    }
}
