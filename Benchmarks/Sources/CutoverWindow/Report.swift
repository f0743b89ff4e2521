import Cutover
import CutoverSandbox
import Foundation
import Histogram

/// p50 / p99 / max of a set of durations, through an HDR histogram (microsecond resolution, 3 significant digits).
struct Percentiles: Sendable {
    var count: Int
    var p50: Duration
    var p99: Duration
    var max: Duration

    init?(_ values: [Duration]) {
        guard !values.isEmpty else { return nil }
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for value in values { _ = histogram.record(value.clampedMicroseconds) }
        count = values.count
        p50 = .microseconds(Int64(histogram.valueAtPercentile(50)))
        p99 = .microseconds(Int64(histogram.valueAtPercentile(99)))
        max = .microseconds(Int64(histogram.max))
    }
}

/// Renders the suite's results as Markdown tables.
struct Report {
    var results: [ScenarioResult]
    /// Adds one row per run.
    var details = false

    private func result(_ id: String) -> ScenarioResult? { results.first { $0.scenario.id == id } }

    static func ms(_ value: Duration?) -> String {
        guard let value else { return "-" }
        let milliseconds = value.inMilliseconds
        return milliseconds >= 100 ? String(format: "%.0f", milliseconds) : String(format: "%.1f", milliseconds)
    }

    static func triple(_ values: [Duration]) -> (String, String, String) {
        guard let p = Percentiles(values) else { return ("-", "-", "-") }
        return (ms(p.p50), ms(p.p99), ms(p.max))
    }

    static func median(_ values: [Duration]) -> Duration? { Percentiles(values)?.p50 }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var lines = ["| " + header.joined(separator: " | ") + " |"]
        lines.append("|" + header.map { _ in "---" }.joined(separator: "|") + "|")
        for row in rows { lines.append("| " + row.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }

    /// Issue #18: one row per workload scenario (the `workloads` group).
    func renderWorkloads() -> String? {
        let rows = results.filter { $0.scenario.group == "workloads" }
        guard !rows.isEmpty else { return nil }
        return "### Workloads of ordinary applications (issue #18; ms, p50 / p99 / max over the runs)\n\n"
            + Self.table(
                [
                    "scenario", "runs", "window p50", "p99", "max", "drain p50", "max", "client gap p50", "max",
                    "idle pins cut (by class, all runs)", "client errors by number", "ambiguous", "lost", "dup",
                    "LAST_INSERT_ID() checked / other id", "sysbench p99 / max (ms)", "sysbench errors", "sysbench rows",
                    "writes/s",
                ],
                rows.map { result in
                    let a = result.analyses
                    let window = Self.triple(a.compactMap(\.record.window))
                    let drain = Percentiles(a.compactMap(\.record.drain))
                    let gap = Percentiles(a.compactMap(\.clientGap))
                    let cut = DrainClassifier.counts(a.flatMap(\.record.idlePinsCut))
                        .map { "\($0.0)×\($0.1)" }.joined(separator: ", ")
                    let numbers = result.errorNumbers.sorted { ($0.key ?? 0) < ($1.key ?? 0) }
                        .map { "\($0.key.map(String.init) ?? "?")×\($0.value)" }.joined(separator: ", ")
                    let sysbench = result.sysbench
                    let sysbenchErrors = sysbench.map { report in
                        report.errorsByCode.isEmpty
                            ? "\(report.ignoredErrors)"
                            : report.errorsByCode.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
                    }
                    return [
                        "`\(result.scenario.id)` \(result.scenario.label)",
                        "\(result.completedRuns)/\(a.count)",
                        window.0, window.1, window.2,
                        Self.ms(drain?.p50), Self.ms(drain?.max), Self.ms(gap?.p50), Self.ms(gap?.max),
                        cut.isEmpty ? "none" : cut,
                        numbers.isEmpty ? "none" : numbers,
                        "\(result.ambiguous)",
                        result.lost.map(String.init) ?? "?",
                        result.verification.map { "\($0.duplicated.count)" } ?? "?",
                        result.lastInsertID.checked > 0
                            ? "\(result.lastInsertID.checked) / \(result.lastInsertID.mismatched)" : "-",
                        sysbench.map { String(format: "%.1f / %.1f", $0.latencyP99, $0.latencyMax) } ?? "-",
                        sysbenchErrors ?? (result.sysbenchError.map { "failed: \($0.prefix(80))" } ?? "-"),
                        result.sysbenchCheck.map { "\($0.lost) lost, \($0.unexplained) unexplained" } ?? "-",
                        String(format: "%.0f", result.writesPerSecond),
                    ]
                }
            )
    }

    func render() -> String {
        var out: [String] = []
        if let workloads = renderWorkloads() { out.append(workloads + "\n") }
        if let shunned = renderShunnedWriter() { out.append(shunned + "\n") }

        out.append("### Write window per scenario (ms; HDR histogram p50 / p99 / max over the runs)\n")
        out.append(
            Self.table(
                [
                    "scenario", "runs", "window p50", "p99", "max", "client gap p50", "p99", "max", "floor p50",
                    "above floor p50", "max", "errors", "ambiguous", "lost", "dup", "writes/s",
                ],
                results.map { result in
                    let a = result.analyses
                    let window = Self.triple(a.compactMap(\.record.window))
                    let gap = Self.triple(a.compactMap(\.clientGap))
                    let above = Percentiles(a.compactMap(\.aboveFloor))
                    return [
                        "`\(result.scenario.id)` \(result.scenario.label)",
                        "\(result.completedRuns)/\(a.count)",
                        window.0, window.1, window.2, gap.0, gap.1, gap.2,
                        Self.ms(Self.median(a.map(\.floor))),
                        Self.ms(above?.p50), Self.ms(above?.max),
                        "\(result.failed)", "\(result.ambiguous)",
                        result.lost.map(String.init) ?? "?",
                        result.verification.map { "\($0.duplicated.count)" } ?? "?",
                        String(format: "%.0f", result.writesPerSecond),
                    ]
                }
            )
        )

        out.append("\n### Canary: longest time without an acknowledged heartbeat during the switch (ms)\n")
        out.append(
            "A heartbeat row every 5 ms through the emulator's writer port as the application account, from just "
                + "before the runner starts until it returns (`Canary`, #14). Runs of ours only.\n"
        )
        out.append(
            Self.table(
                ["scenario", "runs", "canary gap p50", "p99", "max", "window p50", "canary errors", "first error", "worst nodes"],
                results.compactMap { result -> [String]? in
                    let reports = result.analyses.compactMap(\.record.canary)
                    guard !reports.isEmpty else { return nil }
                    let gap = Self.triple(reports.map(\.longestGap))
                    return [
                        "`\(result.scenario.id)`", "\(reports.count)", gap.0, gap.1, gap.2,
                        Self.ms(Self.median(result.analyses.compactMap(\.record.window))),
                        "\(reports.map(\.errors).reduce(0, +))",
                        reports.compactMap(\.firstError).first.map { String($0.prefix(60)) } ?? "-",
                        // With --canary-per-node: how often each node was the worst (the headline's).
                        {
                            let worst = Dictionary(grouping: reports.compactMap(\.worstNode), by: { $0 })
                                .sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value.count)" }
                            return worst.isEmpty ? "-" : worst.joined(separator: " ")
                        }(),
                    ]
                }
            )
        )
        out.append("\n### Window components (ms, p50; drain notice p50 / max)\n")
        out.append(
            Self.table(
                [
                    "scenario", "drain", "fence", "catch-up", "switch", "drain notice p50", "max",
                    "longest in-flight", "lag at fence", "admin round trips", "sessions cut", "burst",
                ],
                results.map { result in
                    let a = result.analyses
                    let notice = Percentiles(a.compactMap(\.drainNotice))
                    return [
                        "`\(result.scenario.id)`",
                        Self.ms(Self.median(a.compactMap(\.record.drain))),
                        Self.ms(Self.median(a.compactMap(\.record.fence))),
                        Self.ms(Self.median(a.compactMap(\.record.catchUp))),
                        Self.ms(Self.median(a.compactMap(\.record.switchOver))),
                        Self.ms(notice?.p50), Self.ms(notice?.max),
                        Self.ms(Self.median(a.map(\.longestInFlight))),
                        Self.ms(Self.median(a.map(\.lagAtFence))),
                        Self.ms(Self.median(a.map(\.adminRoundTrips))),
                        "\(a.map(\.record.sessionsCut).reduce(0, +))",
                        Self.ms(Self.median(a.map(\.record.burst))),
                    ]
                }
            )
        )

        let catchUp = results.filter { $0.scenario.group == "catch-up" || $0.scenario.id == "headline" }
        if !catchUp.isEmpty {
            out.append("\n### Catch-up latency: final position read → new writer executed it (ms)\n")
            out.append(
                Self.table(
                    ["scenario", "method", "lag", "catch-up p50", "p99", "max", "lag at fence p50"],
                    catchUp.map { result in
                        let t = Self.triple(result.analyses.compactMap(\.record.catchUp))
                        return [
                            "`\(result.scenario.id)`",
                            result.scenario.strategy == .polling ? "polling (20 ms)" : "wait function",
                            result.scenario.lag == .zero ? "0" : "\(result.scenario.lag.rawValue) (\(result.scenario.lag.burstRows / 1000)k rows)",
                            t.0, t.1, t.2,
                            Self.ms(Self.median(result.analyses.map(\.lagAtFence))),
                        ]
                    }
                )
            )
        }

        let drain = results.filter { $0.scenario.group == "drain" || $0.scenario.id == "headline" }
        if !drain.isEmpty {
            out.append(
                "\n### Drain latency: last in-flight transaction ended → cut-over moved on (ms), and the drain itself\n"
            )
            out.append(
                Self.table(
                    ["scenario", "in-flight tx", "notice p50", "p99", "max", "drain p50", "p99", "max"],
                    drain.map { result in
                        let notice = Self.triple(result.analyses.compactMap(\.drainNotice))
                        let whole = Self.triple(result.analyses.compactMap(\.record.drain))
                        return [
                            "`\(result.scenario.id)`",
                            result.scenario.transactionMode == .explicit
                                ? "BEGIN; INSERT; hold \(Int(result.scenario.hold.inMilliseconds)) ms; COMMIT" : "autocommit INSERT",
                            notice.0, notice.1, notice.2, whole.0, whole.1, whole.2,
                        ]
                    }
                )
            )
        }

        out.append(contentsOf: fleetTable())

        let pairs = [
            ("headline", "baseline"), ("auto-increment", "baseline-auto-increment"),
            ("auto-increment-prerelaxed", "baseline-auto-increment"), ("delays", "baseline-delays"),
        ]
        let comparisons = pairs.compactMap { pair -> [String]? in
            guard let ours = result(pair.0), let baseline = result(pair.1) else { return nil }
            let oursWindow = Self.median(ours.analyses.compactMap(\.record.window))
            let baseWindow = Self.median(baseline.analyses.compactMap(\.record.window))
            let oursGap = Self.median(ours.analyses.compactMap(\.clientGap))
            let baseGap = Self.median(baseline.analyses.compactMap(\.clientGap))
            func ratio(_ a: Duration?, _ b: Duration?) -> String {
                guard let a, let b, a > .zero else { return "-" }
                return String(format: "%.1f×", b.inMilliseconds / a.inMilliseconds)
            }
            return [
                "`\(pair.0)` vs `\(pair.1)`",
                Self.ms(oursWindow), Self.ms(baseWindow), ratio(oursWindow, baseWindow),
                Self.ms(oursGap), Self.ms(baseGap), ratio(oursGap, baseGap),
                "\(ours.failed + ours.ambiguous) / \(baseline.failed + baseline.ambiguous)",
            ]
        }
        if !comparisons.isEmpty {
            out.append("\n### Ours against the fixed-sleep baseline, same run (medians, ms)\n")
            out.append(
                Self.table(
                    [
                        "pair", "ours window", "baseline window", "ratio", "ours client gap", "baseline client gap",
                        "ratio", "client errors+ambiguous ours / baseline",
                    ],
                    comparisons
                )
            )
        }

        // Where the window goes.
        let kinds = StatementKind.allCases.filter { kind in
            results.contains { result in result.analyses.contains { ($0.profile[kind] ?? .zero) > .microseconds(50) } }
        }
        out.append("\n### Where the window goes: time inside statements per category (ms, p50 over the runs)\n")
        out.append(
            Self.table(
                ["scenario"] + kinds.map(\.rawValue) + ["outside statements (sleeps, scheduling)"],
                results.map { result in
                    ["`\(result.scenario.id)`"]
                        + kinds.map { kind in Self.ms(Self.median(result.analyses.map { $0.profile[kind] ?? .zero })) }
                        + [Self.ms(Self.median(result.analyses.compactMap(\.outsideStatements)))]
                }
            )
        )

        let settled = results.filter { result in result.analyses.contains { $0.record.settle != nil } }
        if !settled.isEmpty {
            out.append(
                "\n### Auto-increment pin settle before the window opens (ms; `policy.auto-increment-pin-settle`, writes go on)\n"
            )
            out.append(
                Self.table(
                    ["scenario", "settle p50", "p99", "max", "runs ended at the bound"],
                    settled.map { result in
                        let t = Self.triple(result.analyses.compactMap(\.record.settle))
                        let bound = result.analyses.filter(\.record.settleBoundReached).count
                        return ["`\(result.scenario.id)`", t.0, t.1, t.2, "\(bound)/\(result.analyses.count)"]
                    }
                )
            )
        }

        let replicationSettled = results.filter { result in
            result.analyses.contains { $0.record.replicationSettle != nil }
        }
        if !replicationSettled.isEmpty {
            out.append(
                "\n### Replication settle before the window (ms; outside it, writes go on; issue #19) and the window after it\n"
            )
            out.append(
                Self.table(
                    ["scenario", "settle p50", "p99", "max", "waits max", "window p50", "p99", "max", "catch-up p50", "max"],
                    replicationSettled.map { result in
                        let settle = Self.triple(result.analyses.compactMap(\.record.replicationSettle))
                        let window = Self.triple(result.analyses.compactMap(\.record.window))
                        let catchUp = Self.triple(result.analyses.compactMap(\.record.catchUp))
                        let rounds = result.analyses.compactMap(\.record.replicationSettleRounds).max().map(String.init) ?? "-"
                        return [
                            "`\(result.scenario.id)`", settle.0, settle.1, settle.2, rounds, window.0, window.1, window.2,
                            catchUp.0, catchUp.2,
                        ]
                    }
                )
            )
        }

        out.append("\n### Client errors by number (whole scenario) and the checker's verdict\n")
        out.append(
            Self.table(
                ["scenario", "errors by number", "failed committed", "ambiguous committed / not", "fence violations", "verdict"],
                results.map { result in
                    let numbers = result.errorNumbers.sorted { ($0.key ?? 0) < ($1.key ?? 0) }
                        .map { "\($0.key.map(String.init) ?? "other")×\($0.value)" }.joined(separator: ", ")
                    let v = result.verification
                    return [
                        "`\(result.scenario.id)`",
                        numbers.isEmpty ? "none" : numbers,
                        v.map { "\($0.failedCommitted.count)" } ?? "?",
                        v.map { "\($0.ambiguousCommitted.count) / \($0.ambiguousNotCommitted.count)" } ?? "?",
                        v.map { "\($0.fenceViolations.count)" } ?? "?",
                        v.map { $0.isClean ? "clean" : "NOT CLEAN" } ?? "check failed: \(result.verificationError ?? "?")",
                    ]
                }
            )
        )

        if details {
            out.append("\n### Every run (ms)\n")
            out.append(
                Self.table(
                    [
                        "scenario", "#", "operation", "window", "drain", "fence", "catch-up", "switch", "client gap",
                        "in-flight", "lag", "admin", "floor", "outside statements", "failed", "ambiguous", "slowest statement",
                    ],
                    results.flatMap { result in
                        result.analyses.map { a in
                            let r = a.record
                            func overlap(_ statement: TimedStatement) -> Duration {
                                guard let opened = r.windowOpened, let closed = r.windowClosed else { return .zero }
                                return max(.zero, min(statement.end, closed) - max(statement.start, opened))
                            }
                            let slowest = r.statements.filter { overlap($0) > .zero }.max { overlap($0) < overlap($1) }
                            return [
                                "`\(result.scenario.id)`", "\(r.index + 1)", "\(r.operation)",
                                Self.ms(r.window), Self.ms(r.drain), Self.ms(r.fence), Self.ms(r.catchUp),
                                Self.ms(r.switchOver), Self.ms(a.clientGap), Self.ms(a.longestInFlight),
                                Self.ms(a.lagAtFence), Self.ms(a.adminRoundTrips), Self.ms(a.floor),
                                Self.ms(a.outsideStatements), "\(a.failed)", "\(a.ambiguous)",
                                slowest.map { "\(Self.ms($0.duration)) [\($0.endpoint)] \($0.text.prefix(60))" } ?? "-",
                            ]
                        }
                    }
                )
            )
        }

        let stopped = results.filter { $0.failure != nil }
        if !stopped.isEmpty {
            out.append("\n### Scenarios that stopped early\n")
            for result in stopped {
                out.append("- `\(result.scenario.id)` after \(result.analyses.count) run(s): \(result.failure ?? "")")
            }
        }

        // sysbench's own failure, whole (the workload table has room for its first words only).
        let sysbenchFailures = results.filter { $0.sysbenchError != nil }
        if !sysbenchFailures.isEmpty {
            out.append("\n### sysbench failures\n")
            for result in sysbenchFailures {
                out.append("- `\(result.scenario.id)`:\n\n```\n\(result.sysbenchError ?? "")\n```")
            }
        }

        out.append("\n### Targets (issue #7)\n")
        out.append(contentsOf: targets())
        return out.joined(separator: "\n")
    }

    /// Issue #16: the window against the number of ProxySQL nodes.
    private func fleetTable() -> [String] {
        let fleet = results.filter { $0.scenario.group == "fleet" }
        guard !fleet.isEmpty else { return [] }
        let single = result("fleet-1").flatMap { Self.median($0.analyses.compactMap(\.record.window)) }
        let rows = fleet.map { result -> [String] in
            let a = result.analyses
            let window = Self.triple(a.compactMap(\.record.window))
            let drain = Self.triple(a.compactMap(\.record.drain))
            let fence = Self.triple(a.compactMap(\.record.fence))
            let nodes = result.scenario.proxyNodes
            // Admin statements sent inside the window, per node (median over the runs), and their summed time.
            let inWindow = a.map { analysis -> [TimedStatement] in
                guard let opened = analysis.record.windowOpened, let closed = analysis.record.windowClosed else { return [] }
                return analysis.record.statements.filter {
                    $0.endpoint.hasPrefix("proxysql") && $0.start >= opened && $0.start <= closed
                }
            }
            let perNode = inWindow.map { Double($0.count) / Double(nodes) }.sorted()
            let medianPerNode = perNode.isEmpty ? "-" : String(format: "%.1f", perNode[perNode.count / 2])
            let median = Self.median(a.compactMap(\.record.window))
            let ratio = single.flatMap { single in median.map { String(format: "%.2f×", $0.inMilliseconds / single.inMilliseconds) } } ?? "-"
            return [
                "`\(result.scenario.id)`", "\(nodes)", "\(result.completedRuns)/\(a.count)",
                window.0, window.1, window.2, ratio, drain.0, drain.2, fence.0, fence.2,
                Self.ms(Self.median(a.compactMap(\.record.switchOver))),
                medianPerNode, Self.ms(Self.median(a.map(\.adminRoundTrips))),
                Self.ms(Self.median(a.compactMap(\.clientGap))),
                result.lost.map(String.init) ?? "?",
                result.verification.map { $0.isClean ? "clean" : "NOT CLEAN" } ?? "?",
            ]
        }
        return [
            "\n### ProxySQL fleet: the window against the number of nodes (ms; issue #16)\n",
            Self.table(
                [
                    "scenario", "nodes", "runs", "window p50", "p99", "max", "p50 / 1 node", "drain p50", "max",
                    "fence p50", "max", "switch p50", "admin statements in window per node", "admin round trips p50",
                    "client gap p50", "lost", "verdict",
                ],
                rows
            ),
        ]
    }

    private func targets() -> [String] {
        var lines: [String] = []
        func mark(_ ok: Bool) -> String { ok ? "met" : "NOT met" }
        if let headline = result("headline") {
            let window = Percentiles(headline.analyses.compactMap(\.record.window))
            let above = Percentiles(headline.analyses.compactMap(\.aboveFloor))
            if let window {
                lines.append(
                    "- Window at zero lag, short transactions: median \(Self.ms(window.p50)) ms (≤ 100), max \(Self.ms(window.max)) ms (≤ 300): "
                        + mark(window.p50 <= .milliseconds(100) && window.max <= .milliseconds(300))
                )
            }
            if let above {
                lines.append(
                    "- Above the floor: median \(Self.ms(above.p50)) ms, max \(Self.ms(above.max)) ms (≤ 50): "
                        + mark(above.max <= .milliseconds(50))
                )
            }
            lines.append(
                "- Clients between transactions see latency, not errors (headline): \(headline.failed) failed, \(headline.ambiguous) ambiguous: "
                    + mark(headline.failed + headline.ambiguous == 0)
            )
            if let baseline = result("baseline"),
                let ours = Self.median(headline.analyses.compactMap(\.record.window)),
                let base = Self.median(baseline.analyses.compactMap(\.record.window))
            {
                let ratio = base.inMilliseconds / ours.inMilliseconds
                lines.append(
                    "- At least 10× shorter than the baseline (delays off): \(String(format: "%.1f", ratio))×: " + mark(ratio >= 10)
                )
            }
        }
        // Issue #19: with the tool's settle and no help from the benchmark, the window stays within 2× its zero-lag value
        // at the same write rate.
        for (busy, reference) in [("busy", "busy-zero-lag"), ("busiest", "busiest-zero-lag")] {
            guard let settled = result(busy), let zero = result(reference),
                let window = Self.median(settled.analyses.compactMap(\.record.window)),
                let zeroWindow = Self.median(zero.analyses.compactMap(\.record.window))
            else { continue }
            let ratio = window.inMilliseconds / zeroWindow.inMilliseconds
            lines.append(
                "- `\(busy)`: window p50 \(Self.ms(window)) ms against \(Self.ms(zeroWindow)) ms pre-settled at zero lag "
                    + "(`\(reference)`), \(String(format: "%.2f", ratio))× (≤ 2×, issue #19): " + mark(ratio <= 2)
            )
        }
        let ours = results.filter { $0.scenario.procedure == .ours }
        let lost = ours.map { $0.lost ?? -1 }
        lines.append(
            "- Zero acknowledged writes lost in every run of ours: lost per scenario \(lost.map { $0 < 0 ? "?" : "\($0)" }.joined(separator: ", ")): "
                + mark(lost.allSatisfy { $0 == 0 })
        )
        let baselineLost = results.filter { $0.scenario.procedure == .baseline }.map { $0.lost.map(String.init) ?? "?" }
        if !baselineLost.isEmpty {
            lines.append("- Baseline, for the record: lost per scenario \(baselineLost.joined(separator: ", "))")
        }
        return lines
    }
}
