import Cutover
import Logging
import ProxySQLAdmin

/// `finish` over the configured endpoints: guards, confirmation, the journaled steps, what is left by hand.
enum FinishWiring {
    static func finish(
        _ environment: CommandEnvironment,
        dryRun: Bool,
        reverseWait: Duration,
        confirm: @Sendable () throws -> Void,
        progress: @escaping @Sendable (FinishRun.Step) -> Void
    ) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let configuration = scope.configuration
            let logger = scope.logger
            let run = FinishRun(
                environment: try await scope.cutoverEnvironment(), reverseCatchUpTimeout: reverseWait,
                stepTimeout: configuration.policy.replicationStepTimeout)
            let facts = await run.readFacts(logger: logger)
            let blocking = Finish.blockingReasons(facts)
            let reverseText: String = switch facts.reverse {
            case .caughtUp(let detail): "caught up (\(detail))"
            case .behind(let detail): "behind: \(detail)"
            case .broken(let detail): "not running: \(detail)"
            case .absent: "not configured"
            }
            var rows: [[String]] = facts.nodes.map { node in
                [node.name, node.error ?? node.runtimeRows.map { "\($0.key) \($0.status)" }.joined(separator: ", "), "\(node.sourceConnectionsUsed)"]
            }
            rows.append(["reverse replication", reverseText, "-"])
            rows.append(["forward replication on Aurora", facts.forwardConfigured ? "configured (is reset)" : "not configured", "-"])
            var report = CommandReport(
                command: "finish",
                sections: [.init(title: "Before finish", headers: ["where", "runtime / state", "source ConnUsed"], rows: rows)],
                blockingReasons: blocking,
                dryRun: dryRun)
            report.changes = Finish.plannedSteps(
                topology: configuration.topology,
                forwardReset: facts.forwardConfigured ? "CALL mysql.rds_reset_external_source (or _master; RESET REPLICA ALL on a non-RDS target)" : nil
            ).map { "[\($0.endpoint)] \($0.action)" }
            report.notes.append(Finish.noFailbackWarning)
            guard blocking.isEmpty else {
                report.changes = []
                return report
            }
            if dryRun {
                report.notes += Finish.leftToDoByHand(topology: configuration.topology).map { "then by hand: \($0)" }
                return report
            }
            try confirm()
            let journal = try CutoverJournal(path: configuration.journalPath)
            if let unfinished = journal.unfinishedRunAtOpen {
                await journal.close()
                report.blockingReasons.append(BlockingReason(
                    check: "finish.journal", message: "the journal has an unfinished run (\(unfinished.operation.map { "\($0)" } ?? "run") \(unfinished.runID))",
                    remedy: "migrate-cli resume first"))
                report.changes = []
                return report
            }
            let steps: [FinishRun.Step]
            do {
                steps = try await run.perform(journal: journal, logger: logger, progress: progress)
            } catch {
                await journal.close()
                throw error
            }
            await journal.close()
            report.sections.append(.init(
                title: "Done", headers: ["step", "where", "what", "took"],
                rows: steps.map { [$0.name, $0.endpoint, $0.detail, HumanDuration.readable($0.duration)] }))
            report.notes += Finish.leftToDoByHand(topology: configuration.topology).map { "left to do by hand: \($0)" }
            return report
        }
    }
}
