import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation

/// `rehearse`: the library's ``RehearsalScript``, its result as a report with the timeline table.
enum RehearsalWiring {
    static func rehearse(_ request: RehearsalRequest, progress: @escaping @Sendable (RehearsalScript.Event) -> Void) async throws
        -> CommandReport
    {
        var options = RehearsalScript.Options(
            application: request.workload,
            clients: request.clients,
            auroraDelays: request.auroraDelays,
            loadBetweenSwitches: request.loadBetweenSwitches,
            serverKind: request.serverKind
        )
        options.proxyNodes = request.proxyNodes
        options.canaryPerNode = request.canaryPerNode
        let result = try await RehearsalScript.run(
            options: options,
            logger: request.logger,
            progress: progress
        )
        return report(result)
    }

    static func milliseconds(_ duration: Duration?) -> String {
        guard let duration else { return "-" }
        let (seconds, attoseconds) = duration.components
        let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return ms < 10 ? String(format: "%.1f ms", ms) : String(format: "%.0f ms", ms)
    }

    static func report(_ result: RehearsalScript.Result) -> CommandReport {
        let switchRows = result.switches.map { change -> [String] in
            let timeline = change.report.timeline
            let writer = change.operation.movesWriter
            return [
                change.operation.rawValue,
                PlanRenderer.outcomeName(change.report.outcome),
                writer ? milliseconds(timeline.window) : "none (reads only)",
                milliseconds(timeline.drain),
                writer ? milliseconds(timeline.catchUp) : "-",
                writer ? milliseconds(change.clientGap) : "-",
                CanaryRendering.gapCell(change.canary),
                writer ? "\(timeline.sessionsCut + timeline.idlePinsCut.count)" : "-",
            ]
        }
        let verification = result.verification
        let load = result.load
        let failed = load.failed.count
        let ambiguous = load.ambiguous.count
        let writeRows: [[String]] = [[
            "\(load.records.count)",
            "\(verification.acknowledgedCount)",
            "\(failed) (committed \(verification.failedCommitted.count))",
            "\(ambiguous) (committed \(verification.ambiguousCommitted.count))",
            "\(verification.lost.count)",
            "\(verification.duplicated.count)",
            "\(verification.fenceViolations.count)",
        ]]
        var blocking: [BlockingReason] = []
        if let stopped = result.stoppedEarly {
            blocking.append(BlockingReason(check: "rehearsal.switches", message: stopped, remedy: "see the progress above; run again with --log-level debug"))
        }
        for change in result.switches where change.report.outcome != .completed {
            blocking.append(BlockingReason(check: "rehearsal.\(change.operation)", message: "\(change.operation): \(PlanRenderer.outcomeName(change.report.outcome))", remedy: "see the progress above"))
        }
        if !verification.lost.isEmpty {
            blocking.append(BlockingReason(check: "rehearsal.lost", message: "\(verification.lost.count) acknowledged write(s) are missing on the final writer", remedy: "a bug: keep the output and report it"))
        }
        if !verification.duplicated.isEmpty {
            blocking.append(BlockingReason(check: "rehearsal.duplicated", message: "\(verification.duplicated.count) write(s) were applied twice", remedy: "a bug: keep the output and report it"))
        }
        if !verification.isClean, verification.lost.isEmpty, verification.duplicated.isEmpty {
            blocking.append(BlockingReason(check: "rehearsal.verification", message: verification.description, remedy: "a bug: keep the output and report it"))
        }
        if let verdict = result.readVerdict, !verdict.unexpected.isEmpty {
            blocking.append(BlockingReason(check: "rehearsal.reads", message: "\(verdict.unexpected.count) read(s) through the application port failed outside a writer switch; first: \(verdict.unexpected[0])", remedy: "a reader switch (or the emulator) broke reads: keep the output and report it"))
        }
        if let check = result.sysbenchCheck, !check.isClean {
            blocking.append(BlockingReason(check: "rehearsal.sysbench", message: "sysbench's writes do not add up on the final writer: \(check)", remedy: "a bug: keep the output and report it"))
        }
        var notes = [
            "write window: OFFLINE_SOFT of the old writer until the new one is ONLINE; client gap: the longest time no write was acknowledged during the switch",
            CanaryRendering.note,
            "failed or ambiguous writes got an error at the switch; the checker read back which of them committed (they are on the final writer, not lost)",
        ]
        if load.lastInsertID.checked + load.lastInsertID.readErrors > 0 {
            notes.append("LAST_INSERT_ID() readers: \(load.lastInsertID.checked) reads checked, \(load.lastInsertID.mismatched) read another id\(load.lastInsertID.mismatched > 0 ? " (WARNING: a read answered by another backend connection than its INSERT's: \(load.lastInsertID.mismatchSamples.joined(separator: "; ")); see issue #18)" : ""), \(load.lastInsertID.readErrors) failed (session cut between an acknowledged INSERT and its read)")
        }
        if let reads = result.reads {
            let servers = reads.servedBy.sorted { $0.key < $1.key }.map { "server_id \($0.key): \($0.value)" }.joined(separator: ", ")
            let verdict = result.readVerdict
            notes.append("reads through the application port (query rules: SELECT to the readers): \(reads.succeeded) served (\(servers)), \(verdict?.unexpected.count ?? 0) failed outside a writer switch, \(verdict?.duringWriterSwitch ?? 0) cut by a writer switch's fence (in flight on the old writer's server, which also serves reads here; see the runbook), slowest \(milliseconds(reads.maximumLatency))")
        }
        if let sysbench = result.sysbench {
            notes.append("sysbench: \(sysbench)")
        }
        if let check = result.sysbenchCheck {
            notes.append("sysbench on the final writer: \(check)")
        }
        for change in result.switches where !change.report.timeline.idlePinsCut.isEmpty {
            let counts = DrainClassifier.counts(change.report.timeline.idlePinsCut).map { "\($0.1) \($0.0)" }.joined(separator: ", ")
            notes.append("\(change.operation): idle pinned sessions cut (during the drain or at OFFLINE_HARD): \(counts) (their clients lost the connection on their next statement, which was not executed, and reconnected to the new writer)")
        }
        for change in result.switches {
            if let decision = change.report.timeline.autoIncrementPin {
                notes.append("\(change.operation): auto-increment pin \(decision.relax ? "relaxed" : "kept"): \(decision.reason)")
            }
        }
        notes.append(result.succeeded ? "rehearsal passed: every switch completed, 0 writes lost" : "rehearsal FAILED")
        let stageRows = result.stages.map { [$0.name, HumanDuration.readable($0.duration), $0.detail] }
        var report = CommandReport(
            command: "rehearse",
            sections: [
                .init(title: "Stages of the whole migration", headers: ["stage", "took", "detail"], rows: stageRows),
                .init(title: "Switches", headers: ["switch", "outcome", "write window", "drain", "catch-up", "client gap", "canary gap", "sessions cut"], rows: switchRows),
                .init(title: "Writes (\(load.workload == .clientKeys ? "client-keys" : "auto-increment"), \(load.clients) clients: \(load.shapes.map(\.rawValue).joined(separator: ", ")))", headers: ["sent", "acknowledged", "failed", "ambiguous", "lost", "duplicated", "fence violations"], rows: writeRows),
            ],
            blockingReasons: blocking,
            notes: notes
        )
        if !verification.lost.isEmpty || !verification.duplicated.isEmpty || !verification.isClean
            || !(result.sysbenchCheck?.isClean ?? true) || !(result.readVerdict?.unexpected.isEmpty ?? true)
        {
            report.status = .failure
        } else if let change = result.switches.first(where: { $0.report.outcome != .completed }) {
            report.status = ExitStatus.of(change.report.outcome, interrupted: false)
        } else if result.stoppedEarly != nil {
            report.status = .refused
        }
        return report
    }
}
