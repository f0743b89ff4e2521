/// The nearest-rank percentile: the smallest recorded value such that at least `quantile` of all values are at or
/// below it. No interpolation, so the answer is always a value that was actually recorded.
///
/// - Parameters:
///   - quantile: in `0...1` (`0.5` for the median, `0.99` for p99); `0` gives the minimum, `1` the maximum.
///   - sortedValues: the values in ascending order.
/// - Returns: nil when there are no values.
public func nearestRankPercentile<Value: Comparable>(_ quantile: Double, of sortedValues: [Value]) -> Value? {
    precondition((0...1).contains(quantile), "quantile \(quantile) is outside 0...1")
    guard !sortedValues.isEmpty else { return nil }
    let rank = Int((quantile * Double(sortedValues.count)).rounded(.up))
    return sortedValues[min(max(rank, 1), sortedValues.count) - 1]
}

/// p50, p99 and maximum of a set of durations (write latencies, windows of several switches).
public struct LatencySummary: Sendable, Hashable, CustomStringConvertible {
    /// How many values were summarised.
    public var count: Int
    /// The smallest value.
    public var minimum: Duration
    /// The median (nearest rank).
    public var p50: Duration
    /// The 99th percentile (nearest rank).
    public var p99: Duration
    /// The largest value.
    public var maximum: Duration

    /// Summarises `values` (any order); nil when there are none.
    public init?(_ values: some Sequence<Duration>) {
        let sorted = values.sorted()
        guard let minimum = sorted.first, let maximum = sorted.last,
            let p50 = nearestRankPercentile(0.5, of: sorted), let p99 = nearestRankPercentile(0.99, of: sorted)
        else { return nil }
        self.count = sorted.count
        self.minimum = minimum
        self.p50 = p50
        self.p99 = p99
        self.maximum = maximum
    }

    /// `n=…, p50=… ms, p99=… ms, max=… ms`.
    public var description: String {
        "n=\(count), p50=\(p50.inMilliseconds) ms, p99=\(p99.inMilliseconds) ms, max=\(maximum.inMilliseconds) ms"
    }
}

extension Duration {
    /// The duration in milliseconds, with fractions (for reports and tables).
    public var inMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
