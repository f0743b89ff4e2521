import Cutover

/// How the canary's report appears in tables, timelines and JSON events.
enum CanaryRendering {
    /// The note under a table with a canary column.
    static let note =
        "canary gap: the longest time without an acknowledged heartbeat row written every 5 ms through the proxy's "
        + "writer port as an application account during the switch (the number to watch; errors in brackets)"

    /// `84 ms`, `84 ms (2 errors)`, `84 ms (worst: proxysql-2)` with a canary per node, or `-` without a canary.
    static func gapCell(_ report: CanaryReport?) -> String {
        guard let report else { return "-" }
        let gap = RehearsalWiring.milliseconds(report.longestGap)
        let errors = report.errors == 0 ? "" : "\(report.errors) error\(report.errors == 1 ? "" : "s")"
        let details = [errors, report.worstNode.map { "worst: \($0)" } ?? ""].filter { !$0.isEmpty }
        return details.isEmpty ? gap : "\(gap) (\(details.joined(separator: ", ")))"
    }

    /// A `canary` JSON event (`--json`): the gap and its context, durations in milliseconds. With a canary per
    /// ProxySQL node it is the headline (the worst node: `worst_node`, `nodes`), and each node's own report is a
    /// `canary-node` event (``jsonLines(_:operation:)``).
    static func jsonEvent(_ report: CanaryReport, operation: String) -> JSONValue {
        var fields: [(String, JSONValue)] = [("event", "canary"), ("operation", .string(operation))]
        fields += reportFields(report)
        if let worst = report.worstNode {
            fields += [("worst_node", .string(worst)), ("nodes", .int(Int64(report.nodes.count)))]
        }
        return .object(fields)
    }

    /// The lines `--json` prints for a canary: one `canary-node` event per node (with a canary per node), then the
    /// `canary` headline.
    static func jsonLines(_ report: CanaryReport, operation: String) -> String {
        var lines = report.nodes.map { node in
            JSONValue.object([("event", "canary-node"), ("operation", .string(operation)), ("node", .string(node.node))]
                + reportFields(node.report)).serialized + "\n"
        }
        lines.append(jsonEvent(report, operation: operation).serialized + "\n")
        return lines.joined()
    }

    /// The text lines of a canary: the headline, then one indented line per node (with a canary per node).
    static func textLines(_ report: CanaryReport, prefix: String, suffix: String = "") -> String {
        var text = prefix + "\(report)" + suffix + "\n"
        for node in report.nodes {
            text += prefix + "  \(node.node): \(node.report)\n"
        }
        return text
    }

    private static func reportFields(_ report: CanaryReport) -> [(String, JSONValue)] {
        [
            ("longest_gap_ms", .milliseconds(report.longestGap)),
            ("gap_started_at_ms", .milliseconds(report.longestGapStartedAt)),
            ("acknowledged", .int(Int64(report.acknowledged))),
            ("errors", .int(Int64(report.errors))),
            ("slowest_write_ms", .milliseconds(report.slowestWrite)),
            ("first_error", .optional(report.firstError)),
            ("span_ms", .milliseconds(report.span)),
        ]
    }
}
