import Cutover

/// Issue #14 item 8: the new writer refuses connections at its ONLINE and ProxySQL (the emulator) shuns it; the
/// tool's watch re-LOADs it once it accepts again, against the watch without re-LOAD (ProxySQL's own re-try).
extension Report {
    func renderShunnedWriter() -> String? {
        let rows = results.filter { $0.scenario.hogNewWriter }
        guard !rows.isEmpty else { return nil }
        var out: [String] = []
        out.append(
            "### A new writer shunned at its ONLINE: re-LOAD against ProxySQL's own re-try (issue #14 item 8; "
                + "ms, p50 / p99 / max over the runs)\n"
        )
        out.append(
            "On every switch (cut-overs and failbacks) the new writer refuses every new connection with 1040 (a "
                + "`ConnectionHog`) from right before the old writer's OFFLINE_SOFT until 600 ms after the "
                + "emulator's `runtime_mysql_servers` first shows it SHUNNED (polled every 5 ms). ProxySQL's default "
                + "`mysql-connect_timeout_server_max` (10000) and shun variables. The canary spans the runner's run "
                + "(the watch included) and 3 s after it, so a shun that outlasts the run is measured whole (`canary "
                + "gaps cut at the end` counts those that still were not); the load's gap is its longest interval "
                + "without any acknowledged write overlapping the run.\n"
        )
        out.append(
            Self.table(
                [
                    "scenario", "runs", "hogged / SHUNNED (poll) / SHUNNED (watch)", "runs re-loaded (re-LOADs)",
                    "window p50", "canary gap p50", "p99", "max", "canary p50 cut-over / failback",
                    "canary gaps cut at the end", "load gap p50", "p99", "max", "ONLINE → SHUNNED seen p50",
                    "client errors by number", "lost", "verdict",
                ],
                rows.map { result in
                    let a = result.analyses.filter { $0.record.hog != nil }
                    let hogged = a.count { $0.record.hog?.engaged != nil }
                    let polled = a.count { $0.record.hog?.shunSeen != nil }
                    let watched = a.count { !($0.record.newWriterWatch?.shunnedOn.isEmpty ?? true) }
                    let reloadedRuns = a.count { !($0.record.newWriterWatch?.reloads.isEmpty ?? true) }
                    let reloads = a.reduce(0) { $0 + ($1.record.newWriterWatch?.reloads.count ?? 0) }
                    let canary = Self.triple(a.compactMap(\.record.canary?.longestGap))
                    func canaryMedian(_ operation: CutoverOperation) -> String {
                        let runs = a.filter { $0.record.operation == operation }
                        return Self.ms(Self.median(runs.compactMap(\.record.canary?.longestGap)))
                    }
                    let load = Self.triple(a.compactMap(\.runGap))
                    let cutAtEnd = a.count { analysis in
                        analysis.record.canary.map { $0.longestGapStartedAt + $0.longestGap >= $0.span } == true
                    }
                    let toShun = a.compactMap { analysis -> Duration? in
                        guard let seen = analysis.record.hog?.shunSeen, let closed = analysis.record.windowClosed else {
                            return nil
                        }
                        return max(.zero, seen - closed)
                    }
                    let numbers = result.errorNumbers.sorted { ($0.key ?? 0) < ($1.key ?? 0) }
                        .map { "\($0.key.map(String.init) ?? "?")×\($0.value)" }.joined(separator: ", ")
                    return [
                        "`\(result.scenario.id)` \(result.scenario.label)",
                        "\(result.completedRuns)/\(result.analyses.count)",
                        "\(hogged) / \(polled) / \(watched)",
                        "\(reloadedRuns) (\(reloads))",
                        Self.ms(Self.median(a.compactMap(\.record.window))),
                        canary.0, canary.1, canary.2,
                        canaryMedian(.writerCutover) + " / " + canaryMedian(.writerFailback),
                        "\(cutAtEnd)",
                        load.0, load.1, load.2,
                        Self.ms(Self.median(toShun)),
                        numbers.isEmpty ? "none" : numbers,
                        result.lost.map(String.init) ?? "?",
                        result.verification.map { $0.isClean ? "clean" : "NOT CLEAN" } ?? "?",
                    ]
                }
            )
        )

        if let reload = rows.first(where: { $0.scenario.id == "shunned-writer" }),
            let plain = rows.first(where: { $0.scenario.id == "shunned-writer-no-reload" })
        {
            func ratio(_ values: (ScenarioResult) -> [Duration], _ pick: (Percentiles) -> Duration) -> String {
                guard let a = Percentiles(values(reload)), let b = Percentiles(values(plain)), pick(a) > .zero else {
                    return "-"
                }
                return String(format: "%.2f×", pick(b).inMilliseconds / pick(a).inMilliseconds)
            }
            let canary: (ScenarioResult) -> [Duration] = { $0.analyses.compactMap(\.record.canary?.longestGap) }
            let load: (ScenarioResult) -> [Duration] = { $0.analyses.compactMap(\.runGap) }
            out.append(
                "\n### Client gaps without re-LOAD against with it, same run "
                    + "(`shunned-writer-no-reload` / `shunned-writer`)\n")
            out.append(
                Self.table(
                    ["gap", "ratio of medians", "ratio of p99s"],
                    [
                        ["canary gap", ratio(canary, \.p50), ratio(canary, \.p99)],
                        ["write load's longest gap", ratio(load, \.p50), ratio(load, \.p99)],
                    ]
                )
            )
        }

        out.append("\n### Every shunned-writer run (ms)\n")
        out.append(
            Self.table(
                [
                    "scenario", "#", "operation", "window", "canary gap", "load gap", "ONLINE → SHUNNED seen",
                    "SHUNNED seen → released", "failed / ambiguous", "hog", "watch",
                ],
                rows.flatMap { result in
                    result.analyses.map { a in
                        let r = a.record
                        let hog = r.hog
                        let toShun = hog?.shunSeen.flatMap { seen in r.windowClosed.map { seen - $0 } }
                        let held = hog?.shunSeen.flatMap { seen in hog?.released.map { $0 - seen } }
                        return [
                            "`\(result.scenario.id)`", "\(r.index + 1)", "\(r.operation)", Self.ms(r.window),
                            Self.ms(r.canary?.longestGap), Self.ms(a.runGap), Self.ms(toShun), Self.ms(held),
                            "\(a.failed) / \(a.ambiguous)",
                            hog.map { $0.error ?? ($0.engaged == nil ? "not engaged" : "engaged") } ?? "-",
                            r.newWriterWatch.map { "\($0)" } ?? "-",
                        ]
                    }
                }
            )
        )
        return out.joined(separator: "\n")
    }
}
