import Cutover

/// How the canary's report appears in tables, timelines and JSON events.
enum CanaryRendering {
    /// The note under a table with a canary column.
    static let note =
        "canary gap: the longest time without an acknowledged heartbeat row written every 5 ms through the proxy's "
        + "writer port as an application account during the switch (the number to watch; errors in brackets)"

    /// `84 ms`, `84 ms (2 errors)`, or `-` without a canary.
    static func gapCell(_ report: CanaryReport?) -> String {
        guard let report else { return "-" }
        let gap = RehearsalWiring.milliseconds(report.longestGap)
        return report.errors == 0 ? gap : "\(gap) (\(report.errors) error\(report.errors == 1 ? "" : "s"))"
    }

    /// A `canary` JSON event (`--json`): the gap and its context, durations in milliseconds.
    static func jsonEvent(_ report: CanaryReport, operation: String) -> JSONValue {
        .object([
            ("event", "canary"),
            ("operation", .string(operation)),
            ("longest_gap_ms", .milliseconds(report.longestGap)),
            ("gap_started_at_ms", .milliseconds(report.longestGapStartedAt)),
            ("acknowledged", .int(Int64(report.acknowledged))),
            ("errors", .int(Int64(report.errors))),
            ("slowest_write_ms", .milliseconds(report.slowestWrite)),
            ("first_error", .optional(report.firstError)),
            ("span_ms", .milliseconds(report.span)),
        ])
    }
}
