import Cutover

/// Turns the events of a run into output text. Pure: it returns text and never writes, so tests read it directly.
protocol ProgressRendering: Sendable {
    /// The text to write for `event` (possibly empty: throttled progress), ending with a newline when not empty.
    mutating func render(_ event: CutoverProgress) -> String
    /// Text to write when the stream ends (closes an in-place progress line).
    mutating func finish() -> String
}

/// What the renderers need to know besides the events.
struct RunContext: Sendable, Hashable {
    /// The command that finishes an unfinished run (`migrate-cli resume --config /etc/migrate.yaml`).
    var resumeCommand: String = "migrate-cli resume"
    /// The command that shows the current state.
    var statusCommand: String = "migrate-cli status"
    /// Where the run is journaled, if anywhere.
    var journalPath: String?
    /// Whether the operator asked the run to stop.
    var interrupted: Bool = false
    /// Whether a completed run names the command that undoes it (not in a rehearsal, which runs the next switch).
    var showsUndo: Bool = true
}

// MARK: - Human

/// Progress for people: a line per step, a progress line for every wait (rewritten in place on a terminal,
/// throttled otherwise), and at the end the outcome, what to do next, and the timeline table.
struct HumanProgressRenderer: ProgressRendering {
    var style: TerminalStyle
    var context: RunContext
    /// On a non-terminal, a wait's progress is printed when its value changes, or after this long without a line.
    var progressInterval: Duration = .milliseconds(250)

    private var runID: String?
    private var operation: CutoverOperation?
    private var inPlaceLineOpen = false
    private var lastProgress: (key: String, value: String, at: Duration)?

    init(style: TerminalStyle, context: RunContext = RunContext()) {
        self.style = style
        self.context = context
    }

    mutating func render(_ event: CutoverProgress) -> String {
        switch event {
        case .runStarted(let runID, let operation):
            self.runID = runID
            self.operation = operation
            var text = style.bold("\(operation) \(runID)") + " started"
            if let journal = context.journalPath { text += " (journal \(journal))" }
            return line(text)
        case .stepStarted(_, let action, let at):
            lastProgress = nil
            return line("\(stamp(at)) \(action) ...")
        case .stepFinished(_, let outcome, let at):
            let failed = outcome.hasPrefix("failed")
            let text = failed ? style.red(outcome) : outcome
            return line("\(stamp(at)) " + (failed ? style.red("FAILED ") : style.green("ok ")) + text)
        case .drainProgress(let server, let used, let holders, let at):
            var text = "  draining \(server): \(used) connection\(used == 1 ? "" : "s") in use"
            if !holders.isEmpty {
                text += ", held by " + holders.prefix(3).map { "session \($0.sessionID) (\($0.user), \($0.reason))" }.joined(separator: "; ")
                if holders.count > 3 { text += " and \(holders.count - 3) more" }
            }
            return progress(key: "drain \(server)", value: "\(used)|\(holders.map(\.sessionID))", text: "\(stamp(at))\(text)", at: at)
        case .catchUpProgress(let role, let executed, let target, let at):
            let text = "  \(role) catching up: executed \(executed.map { "\($0)" } ?? "unknown") of \(target)"
            return progress(key: "catch-up \(role)", value: executed.map { "\($0)" } ?? "-", text: "\(stamp(at))\(text)", at: at)
        case .settleProgress(let role, let round, let lastWait, let threshold, let at):
            let text = "  \(role) settling (outside the window): wait \(round) took \(HumanDuration.readable(lastWait)), "
                + "settled at \(HumanDuration.readable(threshold)) or less"
            return progress(key: "settle \(role)", value: "\(round)", text: "\(stamp(at))\(text)", at: at)
        case .pointOfNoReturnPassed(let at):
            let what = operation?.movesWriter == false ? "the new reader serves alone" : "the new writer takes writes"
            return line("\(stamp(at)) " + style.bold("point of no return passed: \(what); from here the run only moves forward"))
        case .rollbackStarted(let reason, let at):
            return line("\(stamp(at)) " + style.yellow("rolling back: \(reason)"))
        case .shutdownRequested(let at):
            context.interrupted = true
            return line("\(stamp(at)) " + style.yellow("stop requested: the step in flight finishes, then the run rolls back (or, past the point of no return, stops for `resume`)"))
        case .note(let message):
            return line("note: \(message)")
        case .runFinished(let outcome, let timeline):
            var text = line("")
            text += line(Self.summary(outcome: outcome, operation: operation, runID: runID, context: context, style: style))
            for followUp in Self.followUps(timeline.followUps, style: style) ?? [] { text += line(followUp) }
            text += line("")
            return text + line(Self.timelineTable(timeline, operation: operation))
        }
    }

    mutating func finish() -> String {
        closeInPlaceLine()
    }

    // MARK: Lines

    private mutating func line(_ text: String) -> String {
        closeInPlaceLine() + text + "\n"
    }

    private mutating func closeInPlaceLine() -> String {
        guard inPlaceLineOpen else { return "" }
        inPlaceLineOpen = false
        return "\n"
    }

    private mutating func progress(key: String, value: String, text: String, at: Duration) -> String {
        if style.interactive {
            lastProgress = (key, value, at)
            inPlaceLineOpen = true
            return "\r\u{1B}[2K" + text
        }
        if let last = lastProgress, last.key == key, last.value == value, at - last.at < progressInterval {
            return ""
        }
        lastProgress = (key, value, at)
        return text + "\n"
    }

    private func stamp(_ at: Duration) -> String {
        let text = HumanDuration.readable(at)
        return style.dim("[" + String(repeating: " ", count: max(0, 9 - text.count)) + text + "]")
    }

    // MARK: Summary and timeline

    /// One paragraph: how the run ended, and what the operator does next.
    static func summary(outcome: CutoverOutcome, operation: CutoverOperation?, runID: String?, context: RunContext, style: TerminalStyle) -> String {
        let name = [operation?.rawValue, runID].compactMap { $0 }.joined(separator: " ")
        let status = ExitStatus.of(outcome, interrupted: context.interrupted)
        switch outcome {
        case .completed:
            guard let operation, context.showsUndo else { return style.green("\(name): completed.") }
            return style.green("\(name): completed.") + "\n  To undo it later: " + style.bold(undoCommand(operation, context: context))
        case .refused(let reasons):
            return style.red("\(name): refused by the guards; nothing was changed.") + "\n"
                + reasons.map { "  - \($0.check): \($0.message)\n    fix: \($0.remedy)" }.joined(separator: "\n")
        case .rolledBack(let reason, let failures):
            if failures.isEmpty {
                let why = status == .interrupted ? "stopped on request" : "failed"
                return style.yellow("\(name): \(why) before the point of no return and rolled back: \(reason).") + "\n"
                    + "  The starting routing is restored; the application kept its old server."
            }
            return style.red("\(name): failed (\(reason)) and the rollback did not complete.") + "\n"
                + failures.map { "  - \($0)" }.joined(separator: "\n") + "\n"
                + "  Check the routing with `\(context.statusCommand)` and fix the steps above by hand."
        case .stoppedAfterPointOfNoReturn(let reason, let failures, let remaining):
            var text = style.red("\(name): the new server took over, but the run stopped: \(reason).") + "\n"
            text += failures.map { "  - \($0)\n" }.joined()
            if !remaining.isEmpty { text += "  Remaining steps: \(remaining.map(\.rawValue).joined(separator: ", "))\n" }
            text += "  Finish it with: " + style.bold(context.resumeCommand)
            return text
        }
    }

    /// What the operator must still do by hand (one line each), nil when nothing.
    static func followUps(_ followUps: [String], style: TerminalStyle) -> [String]? {
        guard !followUps.isEmpty else { return nil }
        return [style.yellow("  To do by hand:")] + followUps.map { "  - \($0)" }
    }

    /// The command that moves traffic back after `operation`, with the same `--config` as the run.
    static func undoCommand(_ operation: CutoverOperation, context: RunContext) -> String {
        let command: String
        switch operation {
        case .readerCutover: command = "failback readers"
        case .readerFailback: command = "cutover readers"
        case .writerCutover: command = "failback writers"
        case .writerFailback: command = "cutover writers"
        }
        // The resume command carries the run's --config and --set: reuse them.
        let options = context.resumeCommand.hasPrefix("migrate-cli resume") ? String(context.resumeCommand.dropFirst("migrate-cli resume".count)) : ""
        return "migrate-cli \(command)" + options
    }

    /// `finalPositionRead` → `final position read`.
    static func words(_ camelCase: String) -> String {
        var text = ""
        for character in camelCase {
            if character.isUppercase {
                text += " " + character.lowercased()
            } else {
                text.append(character)
            }
        }
        return text
    }

    /// The final table: window, drain, fence, catch-up, switch, then the marks and what was cut.
    static func timelineTable(_ timeline: CutoverTimeline, operation: CutoverOperation?) -> String {
        func cell(_ duration: Duration?) -> String { duration.map(HumanDuration.readable) ?? "-" }
        var rows: [[String]] = [
            ["write window", cell(timeline.window), "old server OFFLINE_SOFT until the new one is ONLINE (or the old one back)"],
            ["drain", cell(timeline.drain), "OFFLINE_SOFT until in-flight work finished"],
            ["fence", cell(timeline.fence), "OFFLINE_HARD, sessions closed, read-only, final position read"],
            ["catch-up", cell(timeline.catchUp), "the new writer executed the final position"],
            ["switch", cell(timeline.switchOver), "caught up until the new writer was ONLINE"],
        ]
        if timeline.replicationSettle != nil {
            rows.append(["settle", cell(timeline.settle), "before the window (writes went on): the new writer came within reach"])
        }
        if operation.map({ !$0.movesWriter }) == true {
            rows = [rows[0], rows[1]]
            rows[0][0] = "read switch"
        }
        var text = "Timeline\n" + TextTable(headers: ["phase", "duration", "what"], rows: rows, rightAligned: [1]).render()
        let marks = CutoverTimeline.Mark.allCases.compactMap { mark in
            timeline.marks[mark].map { (mark, $0) }
        }.sorted { $0.1 < $1.1 }
        if !marks.isEmpty {
            text += "\n\nMarks (from the start of the run)\n"
            text += TextTable(headers: [], rows: marks.map { [Self.words($0.0.rawValue), HumanDuration.readable($0.1)] }, rightAligned: [1]).render()
        }
        var facts: [String] = []
        if let position = timeline.finalPosition { facts.append("final position of the old writer: \(position)") }
        if let position = timeline.newWriterPosition { facts.append("new writer's position (reverse replication starts here): \(position)") }
        if let settle = timeline.replicationSettle {
            facts.append("replication settle before the window (not part of it): \(settle)")
        }
        if let watch = timeline.newWriterWatch {
            facts.append("after the ONLINE (not part of the window): \(watch.details)")
        }
        if timeline.forcedDrain {
            facts.append("the drain deadline passed and the switch was forced")
        }
        if !timeline.holdersAtDeadline.isEmpty {
            facts.append("sessions holding the old server at the deadline: " + timeline.holdersAtDeadline.map(\.description).joined(separator: "; "))
        }
        if let decision = timeline.autoIncrementPin {
            facts.append("auto-increment pin \(decision.relax ? "relaxed" : "kept") for the window: \(decision.reason)")
        }
        for (holderClass, count) in DrainClassifier.counts(timeline.idlePinsCut) {
            facts.append("\(count) session(s) held by an idle \(holderClass) cut (during the drain or at OFFLINE_HARD): the client saw \(holderClass.whatTheClientSees)")
        }
        if timeline.sessionsCut > 0 {
            facts.append("\(timeline.sessionsCut) application session(s) cut on the old writer: their clients saw an error; writes they sent may have committed and are on the new writer after catch-up")
        }
        if !facts.isEmpty { text += "\n\n" + facts.map { "  \($0)" }.joined(separator: "\n") }
        return text
    }
}

// MARK: - JSON

/// `--json`: one JSON object per line, `"event"` first. Wait progress (drain, catch-up) is emitted when its value
/// changes or after `progressInterval` without a line, so a 2 ms poll does not flood the stream.
struct JSONProgressRenderer: ProgressRendering {
    var context: RunContext
    var progressInterval: Duration = .milliseconds(100)
    private var lastProgress: (key: String, value: String, at: Duration)?

    init(context: RunContext = RunContext()) {
        self.context = context
    }

    mutating func render(_ event: CutoverProgress) -> String {
        guard let object = object(for: event) else { return "" }
        return object.serialized + "\n"
    }

    mutating func finish() -> String { "" }

    private mutating func object(for event: CutoverProgress) -> JSONValue? {
        switch event {
        case .runStarted(let runID, let operation):
            return .object([("event", "run-started"), ("run_id", .string(runID)), ("operation", .string(operation.rawValue)), ("journal", .optional(context.journalPath))])
        case .stepStarted(let step, let action, let at):
            lastProgress = nil
            return .object([("event", "step-started"), ("at_ms", .milliseconds(at)), ("step", .string(step)), ("action", .string(action))])
        case .stepFinished(let step, let outcome, let at):
            return .object([("event", "step-finished"), ("at_ms", .milliseconds(at)), ("step", .string(step)), ("outcome", .string(outcome)), ("failed", .bool(outcome.hasPrefix("failed")))])
        case .drainProgress(let server, let used, let holders, let at):
            guard shouldEmit(key: "drain \(server)", value: "\(used)|\(holders.map(\.sessionID))", at: at) else { return nil }
            return .object([
                ("event", "drain-progress"), ("at_ms", .milliseconds(at)), ("server", .string(server.description)),
                ("connections_used", .int(Int64(used))), ("holders", .array(holders.map(Self.holder))),
            ])
        case .catchUpProgress(let role, let executed, let target, let at):
            guard shouldEmit(key: "catch-up \(role)", value: executed.map { "\($0)" } ?? "-", at: at) else { return nil }
            return .object([
                ("event", "catch-up-progress"), ("at_ms", .milliseconds(at)), ("role", .string(role.rawValue)),
                ("executed", executed.map(Self.coordinate) ?? .null), ("target", Self.coordinate(target)),
            ])
        case .settleProgress(let role, let round, let lastWait, let threshold, let at):
            guard shouldEmit(key: "settle \(role)", value: "\(round)", at: at) else { return nil }
            return .object([
                ("event", "settle-progress"), ("at_ms", .milliseconds(at)), ("role", .string(role.rawValue)),
                ("round", .int(Int64(round))), ("last_wait_ms", .milliseconds(lastWait)),
                ("threshold_ms", .milliseconds(threshold)),
            ])
        case .pointOfNoReturnPassed(let at):
            return .object([("event", "point-of-no-return"), ("at_ms", .milliseconds(at))])
        case .rollbackStarted(let reason, let at):
            return .object([("event", "rollback-started"), ("at_ms", .milliseconds(at)), ("reason", .string(reason))])
        case .shutdownRequested(let at):
            context.interrupted = true
            return .object([("event", "shutdown-requested"), ("at_ms", .milliseconds(at))])
        case .note(let message):
            return .object([("event", "note"), ("message", .string(message))])
        case .runFinished(let outcome, let timeline):
            let status = ExitStatus.of(outcome, interrupted: context.interrupted)
            var pairs: [(String, JSONValue)] = [("event", "run-finished")]
            pairs += Self.outcome(outcome)
            pairs.append(("exit_code", .int(Int64(status.code))))
            pairs.append(("exit_status", .string(status.name)))
            if status == .unfinished { pairs.append(("next", .string(context.resumeCommand))) }
            pairs.append(("timeline", Self.timeline(timeline)))
            return .object(pairs)
        }
    }

    private mutating func shouldEmit(key: String, value: String, at: Duration) -> Bool {
        if let last = lastProgress, last.key == key, last.value == value, at - last.at < progressInterval { return false }
        lastProgress = (key, value, at)
        return true
    }

    static func holder(_ holder: SessionHolder) -> JSONValue {
        .object([
            ("session_id", .int(Int64(clamping: holder.sessionID))), ("user", .string(holder.user)),
            ("client", .string(holder.clientAddress)), ("command", .string(holder.command)),
            ("time_ms", .int(Int64(clamping: holder.timeMilliseconds))), ("reason", .string(holder.reason)),
        ])
    }

    static func coordinate(_ coordinate: ReplicationCoordinate) -> JSONValue {
        .object([("file", .string(coordinate.file)), ("offset", .int(Int64(clamping: coordinate.offset))), ("gtid_set", .optional(coordinate.gtidSet))])
    }

    static func failure(_ failure: StepFailure) -> JSONValue {
        .object([
            ("step", .string(failure.step)), ("message", .string(failure.message)), ("endpoint", .optional(failure.endpoint)),
            ("may_have_taken_effect", .bool(failure.mayHaveTakenEffect)),
        ])
    }

    static func outcome(_ outcome: CutoverOutcome) -> [(String, JSONValue)] {
        switch outcome {
        case .completed:
            return [("outcome", "completed")]
        case .refused(let reasons):
            return [
                ("outcome", "refused"),
                ("blocking_reasons", .array(reasons.map { .object([("check", .string($0.check)), ("message", .string($0.message)), ("remedy", .string($0.remedy))]) })),
            ]
        case .rolledBack(let reason, let failures):
            return [("outcome", "rolled-back"), ("reason", .string(reason)), ("failures", .array(failures.map(failure)))]
        case .stoppedAfterPointOfNoReturn(let reason, let failures, let remaining):
            return [
                ("outcome", "stopped-after-point-of-no-return"), ("reason", .string(reason)),
                ("failures", .array(failures.map(failure))), ("remaining_steps", .array(remaining.map { .string($0.rawValue) })),
            ]
        }
    }

    static func timeline(_ timeline: CutoverTimeline) -> JSONValue {
        let marks = CutoverTimeline.Mark.allCases.compactMap { mark in timeline.marks[mark].map { (mark.rawValue, JSONValue.milliseconds($0)) } }
        return .object([
            ("window_ms", .milliseconds(timeline.window)), ("drain_ms", .milliseconds(timeline.drain)),
            ("fence_ms", .milliseconds(timeline.fence)), ("catch_up_ms", .milliseconds(timeline.catchUp)),
            ("switch_ms", .milliseconds(timeline.switchOver)), ("settle_ms", .milliseconds(timeline.settle)),
            ("marks_ms", .object(marks)),
            ("forced_drain", .bool(timeline.forcedDrain)), ("sessions_cut", .int(Int64(timeline.sessionsCut))),
            ("holders_at_deadline", .array(timeline.holdersAtDeadline.map(holder))),
            ("idle_pins_cut", .array(DrainClassifier.counts(timeline.idlePinsCut).map { holderClass, count in
                .object([
                    ("class", .string(holderClass.rawValue)), ("sessions", .int(Int64(count))),
                    ("client_saw", .string(holderClass.whatTheClientSees)),
                ])
            })),
            ("idle_pin_holders", .array(timeline.idlePinsCut.map { classified in
                .object([("class", .string(classified.holderClass.rawValue)), ("holder", holder(classified.holder))])
            })),
            ("auto_increment_pin", timeline.autoIncrementPin.map { decision in
                .object([("relaxed", .bool(decision.relax)), ("reason", .string(decision.reason))])
            } ?? .null),
            ("final_position", timeline.finalPosition.map(coordinate) ?? .null),
            ("new_writer_position", timeline.newWriterPosition.map(coordinate) ?? .null),
            ("new_writer_watch", timeline.newWriterWatch.map(newWriterWatch) ?? .null),
            ("finished", .bool(timeline.finished)),
            ("follow_ups", .array(timeline.followUps.map { .string($0) })),
        ])
    }

    /// The watch after the new writer's ONLINE (#14 item 8).
    static func newWriterWatch(_ watch: ShunnedWriterWatch) -> JSONValue {
        .object([
            ("reads", .int(Int64(watch.reads))), ("watched_ms", .milliseconds(watch.watched)),
            ("shunned_on", .array(watch.shunnedOn.map { .string($0) })),
            ("still_shunned", .array(watch.stillShunned.map { .string($0) })),
            ("logins_accepted", .int(Int64(watch.probes.filter { $0 }.count))),
            ("logins_refused", .int(Int64(watch.probes.filter { !$0 }.count))),
            ("reloads", .array(watch.reloads.map { reload in
                .object([
                    ("nodes", .array(reload.nodes.map { .string($0) })), ("at_ms", .milliseconds(reload.at)),
                    ("failures", .object(reload.failures.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                ])
            })),
            ("left", .optional(watch.left)),
            ("unreadable", .object(watch.unreadable.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
        ])
    }
}
