import Cutover
import Foundation
import Logging

/// `cutover writers` / `failback writers` (and `plan`, `--dry-run`) with a `switch` configuration: the writer switch
/// without ProxySQL (#15 item 2, ADR 0015).
enum HookSwitchWiring {
    /// The refusal of an operation the switch mode has no answer for (the reader switches route through ProxySQL).
    static func unsupported(_ operation: CutoverOperation) -> CommandReport {
        CommandReport(
            command: "\(operation)",
            blockingReasons: [BlockingReason(
                check: "switch.mode", message: "\(operation) routes reads through ProxySQL, and this configuration has a `switch` section instead",
                remedy: "without a proxy, point the applications' reads at Aurora's reader endpoint yourself (the switch command can do both); only the writer switch is run by the tool")])
    }

    static func run(
        _ environment: CommandEnvironment,
        direction: HookSwitch.Direction,
        settings: HookSwitch.Settings,
        dryRun: Bool,
        confirm: @Sendable () throws -> Void,
        progress: @escaping @Sendable (HookSwitchRun.Step) -> Void
    ) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let configuration = scope.configuration
            let logger = scope.logger
            let run = HookSwitchRun(
                environment: try await scope.cutoverEnvironment(), settings: settings, policy: configuration.policy)
            let facts = await run.readFacts(direction: direction, logger: logger)
            let names = (direction.oldWriter.rawValue, direction.newWriter.rawValue)
            let blocking = HookSwitch.blockingReasons(facts, direction: direction, policy: configuration.policy, names: names)
            let command = "cutover-writers"
            var report = CommandReport(command: direction == .cutover ? command : "failback-writers", blockingReasons: blocking, dryRun: dryRun)
            let fenceBySetting = facts.oldWriterCanFence || !facts.oldWriterAlreadyReadOnly
            report.changes = HookSwitch.plannedSteps(
                direction: direction, fenceBySetting: fenceBySetting, liftNewReadOnly: facts.newWriterReadOnly
            ).map { "[\($0.endpoint.map { "\($0)" } ?? "tool")] \($0.step): \($0.detail)" }
            report.notes.append("switch command (\(direction)): \(settings.command(for: direction)) — bounded by \(HumanDuration.format(settings.commandTimeout)); clients get 1290 on writes from the fence until they reconnect to the new writer")
            guard blocking.isEmpty else {
                report.changes = []
                return report
            }
            if dryRun { return report }
            try confirm()
            let journal = try CutoverJournal(path: configuration.journalPath)
            if let unfinished = unfinishedSwitch(journalPath: configuration.journalPath) {
                await journal.close()
                report.changes = []
                report.blockingReasons.append(unfinished)
                return report
            }
            let result: HookSwitchRun.Result
            do {
                result = try await run.run(direction: direction, journal: journal, logger: logger, progress: progress)
            } catch {
                await journal.close()
                throw error
            }
            await journal.close()
            report.changes = []
            report.sections.append(.init(
                title: "Steps", headers: ["step", "action", "outcome", "at"],
                rows: result.steps.map { [$0.step.description, $0.action, $0.outcome, HumanDuration.readable($0.at)] }))
            let r = result.report
            report.sections.append(.init(title: "Window", headers: ["what", "value"], rows: [
                ["fence → first write on the new writer", r.window.map { HumanDuration.readable($0) } ?? "no write observed within \(HumanDuration.format(settings.observeTimeout))"],
                ["fenced by", r.fencedByOperator ? "the operator (read_only was on before the run)" : "the tool"],
                ["sessions closed on the old writer", "\(r.sessionsClosed)"],
                ["final position of the old writer", r.finalPosition.map { "\($0)" } ?? "-"],
                ["reverse replication starts at", r.reverseStartPosition.map { "\($0)" } ?? "-"],
            ]))
            if let output = result.command?.output, !output.isEmpty { report.notes.append("switch command output: \(output)") }
            if !r.undone.isEmpty { report.notes.append("undone: " + r.undone.joined(separator: "; ")) }
            switch result.outcome {
            case .completed:
                if r.window == nil { report.notes.append("no write arrived on the new writer: check that the applications moved") }
            case .refused(let reasons):
                report.blockingReasons += reasons
            case .rolledBack(let reason, let failures):
                report.status = failures.contains { $0.step.hasPrefix("restart") || $0.step.hasPrefix("lift") || $0.step.hasPrefix("set-read-only") || $0.step.hasPrefix("stop-replication") } && !r.undone.isEmpty ? .rollbackIncomplete : .rolledBack
                report.notes.append("rolled back: \(reason)")
            case .stoppedAfterPointOfNoReturn(let reason, _, _):
                report.status = .unfinished
                report.notes.append("stopped past the point of no return: \(reason)")
            }
            if let remedy = HookSwitchMachine.remedy(for: result.outcome, direction: direction) { report.notes.append(remedy) }
            return report
        }
    }

    /// A switch run in the journal that never wrote its end (the process died): refused with what to do. A full
    /// resume is not implemented for this mode.
    static func unfinishedSwitch(journalPath: String) -> BlockingReason? {
        guard let entries = try? CutoverJournal.read(path: journalPath),
            let last = entries.last(where: { $0.runID.hasPrefix("switch-") }), last.kind != .runFinished
        else { return nil }
        let past = entries.contains { $0.runID == last.runID && $0.step?.rawValue == "switch.switch-command" }
        let step = last.step?.description ?? "?"
        return BlockingReason(
            check: "switch.journal",
            message: "the journal holds the switch run \(last.runID), which stopped at \(step) without finishing (the process died?)"
                + (past ? "; the switch command had been started: past the point of no return" : "; before the switch command"),
            remedy: past
                ? "the applications may point at either writer; the old one is read-only. Run the switch command by hand (same environment, see `migrate-cli journal show`), check `migrate-cli status`, then move the journal aside"
                : "nothing was switched: undo by hand what the journal shows done (lift read_only on the old writer; restart forward replication at the journaled final position if it was stopped; stop reverse replication if started), check `migrate-cli status`, then move the journal aside and run again")
    }
}
