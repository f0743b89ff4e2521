import Cutover
import Foundation
import Logging
import Synchronization

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
        killHook: TestKillHook? = nil,
        progress: @escaping @Sendable (HookSwitchRun.Step) -> Void
    ) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let configuration = scope.configuration
            let logger = scope.logger
            // An unfinished run comes first: its state explains whatever the guards would find (a fenced writer,
            // replication stopped).
            if let unfinished = unfinishedRun(journalPath: configuration.journalPath) {
                return CommandReport(command: direction == .cutover ? "cutover-writers" : "failback-writers", blockingReasons: [unfinished], dryRun: dryRun)
            }
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
            let journal = try CutoverJournal(path: configuration.journalPath, didAppend: killHook?.journalObserver())
            if let unfinished = unfinishedSwitch(journalPath: configuration.journalPath) {
                await journal.close()
                report.changes = []
                report.blockingReasons.append(unfinished)
                return report
            }
            let result: HookSwitchRun.Result
            let stop = StopRequest()
            do {
                result = try await stop.relaying {
                    try await run.run(direction: direction, journal: journal, logger: logger, isStopRequested: { stop.isRequested }, progress: progress)
                }
            } catch {
                await journal.close()
                throw error
            }
            await journal.close()
            report.changes = []
            add(result, settings: settings, direction: direction, interrupted: stop.isRequested, to: &report)
            return report
        }
    }

    /// `migrate-cli resume` with a `switch` configuration: replays the journal's unfinished switch run and finishes
    /// it as ``HookSwitchMachine/resumeAfterInterruption()`` decides (roll back before the switch command, go on
    /// from it). `--dry-run` reads only the journal and lists what the resume would do.
    static func resume(
        _ environment: CommandEnvironment,
        settings: HookSwitch.Settings,
        dryRun: Bool,
        confirm: @Sendable (String) throws -> Void,
        killHook: TestKillHook? = nil,
        progress: @escaping @Sendable (HookSwitchRun.Step) -> Void
    ) async throws -> CommandReport {
        let configuration = environment.configuration
        let entries = try CutoverJournal.read(path: configuration.journalPath)
        let replay = try HookSwitchRun.replay(entries: entries, topologyFingerprint: configuration.topology.fingerprint)
        var report = CommandReport(command: "resume", dryRun: dryRun)
        let direction = replay.direction
        let planned = replay.machine.plannedActions(from: replay.next)
        let decision: String
        switch replay.next {
        case .finish: decision = "nothing left to do but record the run's end"
        case _ where replay.wasPastPointOfNoReturn:
            decision = "past the point of no return: go on (the step in flight is performed again: the switch command must be idempotent)"
        default: decision = "before the switch command: roll back what was done"
        }
        report.notes.append("the switch run \(replay.runID) (\(direction), \(direction.oldWriter) → \(direction.newWriter)) stopped at \(replay.stoppedAt); \(decision)")
        report.changes = planned.map { "\($0)" }
        if dryRun { return report }
        try confirm("About to resume the switch run \(replay.runID) (\(direction)): \(decision).")
        return try await ConnectionScope.with(environment) { scope in
            // Re-read under the journal's lock: another process may have resumed it in between.
            let journal = try CutoverJournal(path: configuration.journalPath, didAppend: killHook?.journalObserver())
            let result: HookSwitchRun.Result
            let stop = StopRequest()
            do {
                let run = HookSwitchRun(environment: try await scope.cutoverEnvironment(), settings: settings, policy: configuration.policy)
                let entries = try CutoverJournal.read(path: configuration.journalPath)
                result = try await stop.relaying {
                    try await run.resume(
                        entries: entries, journal: journal, logger: scope.logger, isStopRequested: { stop.isRequested }, progress: progress)
                }
            } catch {
                await journal.close()
                throw error
            }
            await journal.close()
            report.changes = []
            add(result, settings: settings, direction: direction, interrupted: stop.isRequested, to: &report)
            return report
        }
    }

    /// The steps, the window and the outcome of a finished (or resumed) switch run, added to `report`.
    static func add(
        _ result: HookSwitchRun.Result, settings: HookSwitch.Settings, direction: HookSwitch.Direction,
        interrupted: Bool = false, to report: inout CommandReport
    ) {
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
            if interrupted, failures.isEmpty { report.status = .interrupted }
            report.notes.append("rolled back: \(reason)")
        case .stoppedAfterPointOfNoReturn(let reason, _, _):
            report.status = .unfinished
            report.notes.append("stopped past the point of no return: \(reason)")
        }
        if let remedy = HookSwitchMachine.remedy(for: result.outcome, direction: direction) { report.notes.append(remedy) }
    }

    /// The journal's unfinished switch run (interrupted, or stopped past the point of no return), refused with
    /// `migrate-cli resume` as the remedy; or, for a journal of an earlier version, ``unfinishedSwitch(journalPath:)``.
    static func unfinishedRun(journalPath: String) -> BlockingReason? {
        guard let entries = try? CutoverJournal.read(path: journalPath) else { return nil }
        guard let run = HookSwitchReplay.unfinishedRun(in: entries), let header = run.first else {
            return unfinishedSwitch(journalPath: journalPath)
        }
        let past = run.contains { $0.pastPointOfNoReturn == true }
        let step = run.last { $0.kind == .action }?.step?.description ?? "the start"
        if let end = run.last(where: { $0.kind == .runFinished }), let problem = end.unreadablePayload {
            // Another version wrote its end, or it was edited: `resume` refuses it (journal mismatch), so it is not
            // named as the remedy (#17).
            return BlockingReason(
                check: "switch.journal",
                message: "the journal's switch run \(header.runID) (\(header.hookSwitch?.direction.rawValue ?? "?")) "
                    + "ended with an outcome this version cannot read (entry \(end.sequence) \(problem)): it is not known "
                    + "to have finished" + (past ? "; it had passed the point of no return" : ""),
                remedy: "inspect it with `migrate-cli journal show` and `migrate-cli status` (`migrate-cli resume` "
                    + "refuses it), finish by hand what is left, then move the journal aside")
        }
        return BlockingReason(
            check: "switch.journal",
            message: "the journal holds the unfinished switch run \(header.runID) (\(header.hookSwitch?.direction.rawValue ?? "?")), stopped at \(step)"
                + (past ? ", past the point of no return" : ", before the switch command"),
            remedy: "finish it first with `migrate-cli resume` (`migrate-cli resume --dry-run` shows what it will do: "
                + (past ? "go on from the switch command" : "roll back") + ")")
    }

    /// A switch run of an earlier version's journal (no `run-started` entry, so it cannot be replayed) that never
    /// wrote its end: refused with what to do by hand.
    static func unfinishedSwitch(journalPath: String) -> BlockingReason? {
        guard let entries = try? CutoverJournal.read(path: journalPath),
            let last = entries.last(where: { $0.runID.hasPrefix("switch-") }), last.kind != .runFinished,
            // A run with its `run-started` entry is resumed (`migrate-cli resume`); this is for journals written
            // before the switch runs were journaled for resume.
            !entries.contains(where: { $0.runID == last.runID && $0.kind == .runStarted })
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

/// SIGINT / SIGTERM during a switch without ProxySQL (#15): relayed as a stop request. Before the switch command the
/// run rolls back (exit 130); from it on the run goes on (the request is noted and ignored). SIGHUP is ignored while
/// the run is in progress, as for a ProxySQL run.
final class StopRequest: Sendable {
    private let count = Atomic<Int>(0)

    /// Whether SIGINT or SIGTERM arrived.
    var isRequested: Bool { count.load(ordering: .relaxed) > 0 }

    /// Runs `body` with the signals relayed to this request.
    func relaying<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let relay = await SignalRelay.install(signals: [SIGINT, SIGTERM]) { [self] _ in
            let seen = self.count.add(1, ordering: .relaxed).newValue
            CommandRuntime.writeAll(
                STDERR_FILENO,
                seen == 1
                    ? "migrate-cli: stop requested: before the switch command the run rolls back after the step in flight; from the command on it goes on to the end\n"
                    : "migrate-cli: already stopping safely (the step in flight finishes first); SIGKILL would leave work half done\n")
        }
        let hangup = HangupShield()
        defer {
            relay.cancel()
            hangup.restore()
        }
        return try await body()
    }
}
