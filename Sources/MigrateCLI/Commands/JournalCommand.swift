import ArgumentParser
import Cutover
import Foundation

struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Read the run journal (the audit trail of every run).",
        subcommands: [JournalShowCommand.self]
    )
}

struct JournalShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the runs in the journal: each action, its outcome, the point of no return and the timeline.",
        discussion: """
            Reads journal.path from the configuration (or --file). Shows the last run unless --run or --all; \
            --statements adds the statements each step sent (literals redacted). Changes nothing; takes no lock, \
            so it can watch a run in progress.

            --json prints each entry as its journal line (one JSON object per line). An entry whose action, event \
            or outcome this version cannot read (written by another version, or edited) is printed too, without \
            that payload and with "unreadable": the reason; its "sequence" is its line in the journal.

            Examples:
              migrate-cli journal show
              migrate-cli journal show --all --statements
              migrate-cli journal show --file /var/lib/migrate/migrate-journal.jsonl --json
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The journal to read instead of the configuration's journal.path.", valueName: "file"))
    var file: String?

    @Option(name: .customLong("run"), help: ArgumentHelp("Show this run (its id, or a unique prefix).", valueName: "id"))
    var runID: String?

    @Flag(name: .long, help: "Show every run.")
    var all = false

    @Flag(name: .long, help: "Show the statements each step sent.")
    var statements = false

    func validate() throws {
        if all && runID != nil { throw ValidationError("--all and --run exclude each other") }
    }

    func run() async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let path = try file.map { absolute($0, relativeTo: FileManager.default.currentDirectoryPath) } ?? runtime.loadConfiguration().journalPath
            let entries = try CutoverJournal.read(path: path)
            let runs = try JournalRenderer.select(entries, run: runID, all: all)
            if runs.isEmpty {
                runtime.write(options.json ? "" : "The journal \(path) has no run yet.\n")
                return .success
            }
            for entries in runs {
                runtime.write(
                    options.json
                        ? JournalRenderer.json(entries)
                        : JournalRenderer.human(entries, statements: statements, style: runtime.style)
                )
            }
            return .success
        }
    }
}

/// Renders journal entries for people and machines.
enum JournalRenderer {
    /// The runs to show, each as its entries in order.
    ///
    /// - Throws: ``CutoverError`` when `run` names no run or more than one.
    static func select(_ entries: [JournalRecord], run: String?, all: Bool) throws -> [[JournalRecord]] {
        var order: [String] = []
        var byRun: [String: [JournalRecord]] = [:]
        for entry in entries {
            if byRun[entry.runID] == nil { order.append(entry.runID) }
            byRun[entry.runID, default: []].append(entry)
        }
        if let run {
            let matches = order.filter { $0.hasPrefix(run) }
            guard matches.count == 1 else {
                throw CutoverError(
                    code: .journalMismatch,
                    message: matches.isEmpty ? "no run \(run) in the journal" : "\(run) matches \(matches.count) runs",
                    remedy: "runs in the journal: \(order.joined(separator: ", "))"
                )
            }
            return [byRun[matches[0]]!]
        }
        if all { return order.map { byRun[$0]! } }
        return order.last.map { [byRun[$0]!] } ?? []
    }

    static func human(_ entries: [JournalRecord], statements: Bool, style: TerminalStyle) -> String {
        guard let first = entries.first else { return "" }
        var text = style.bold("run \(first.runID)") + " \(first.operation?.rawValue ?? first.hookSwitch.map { "writer-\($0.direction) (switch command)" } ?? "")"
        text += " started \(first.time)"
        if let fingerprint = first.topologyFingerprint { text += " (topology \(fingerprint))" }
        text += "\n"
        var pastPointOfNoReturn = false
        var finished = false
        for entry in entries {
            let stamp = "[" + HumanDuration.readable(.microseconds(entry.elapsedMicroseconds)).leftPadded(to: 9) + "]"
            if let problem = entry.unreadablePayload {
                // Written by another version, or edited: shown, never guessed at (a resume refuses it).
                text += "  \(style.dim(stamp)) \(entry.step ?? "-"): " + style.red("entry \(entry.sequence): \(problem)") + "\n"
            }
            switch entry.kind {
            case .runStarted:
                continue
            case .action:
                if entry.pastPointOfNoReturn == true, !pastPointOfNoReturn {
                    pastPointOfNoReturn = true
                    text += "  " + style.bold("-- past the point of no return --") + "\n"
                }
                if let action = entry.action {
                    text += "  \(style.dim(stamp)) \(entry.step ?? "-"): \(CutoverRunner.describe(action))\n"
                } else if let action = entry.hookSwitch?.action {
                    text += "  \(style.dim(stamp)) \(entry.step ?? "-"): \(action)\n"
                } else if let sent = entry.statements?.first {
                    // A command journaled step by step (`finish`, `replication start-forward`): its text.
                    text += "  \(style.dim(stamp)) \(entry.step ?? "-"): [\(sent.endpoint)] \(sent.statement)\n"
                }
            case .event:
                if entry.event == nil, let outcome = entry.statements?.first?.statement {
                    // A switch without ProxySQL: its outcome in words is the entry's statement text.
                    text += "  \(style.dim(stamp))   → \(outcome.hasPrefix("failed") ? style.red(outcome) : outcome)\n"
                }
                if let event = entry.event {
                    let description = CutoverRunner.describe(event)
                    let painted = description.hasPrefix("failed") ? style.red(description) : description
                    text += "  \(style.dim(stamp))   → \(painted)\n"
                }
                if statements, let sent = entry.statements {
                    for statement in sent { text += "                 [\(statement.endpoint)] \(statement.statement)\n" }
                }
            case .runFinished:
                finished = true
                if entry.outcome == nil, let sent = entry.statements?.first {
                    text += "  \(sent.statement)\n"
                }
                if let outcome = entry.outcome {
                    text += HumanProgressRenderer.summary(outcome: outcome, operation: first.operation, runID: first.runID, context: RunContext(), style: style) + "\n"
                }
                if let timeline = entry.timeline {
                    if let followUps = HumanProgressRenderer.followUps(timeline.followUps, style: style) {
                        text += followUps.joined(separator: "\n") + "\n"
                    }
                    text += "\n" + HumanProgressRenderer.timelineTable(timeline, operation: first.operation) + "\n"
                }
            }
        }
        if !finished {
            text += style.yellow("  unfinished: in progress, or interrupted (finish it with `migrate-cli resume`)") + "\n"
        }
        return text + "\n"
    }

    /// The phase of the journal's last run, for `status`: run, operation, last step, point of no return, outcome.
    /// The entries of the journal's last run (empty: none).
    static func lastRun(_ entries: [JournalRecord]) -> [JournalRecord] {
        (try? select(entries, run: nil, all: false))?.first ?? []
    }

    /// The journal's last run and its phase; `derived` is the phase `status` derived from the journal and ProxySQL's
    /// runtime together (``StatusAssessment``), nil to use the journal alone.
    static func phase(
        _ entries: [JournalRecord], path: String, derived: StatusAssessment.Phase? = nil
    ) -> CommandReport.Section {
        guard let runs = try? select(entries, run: nil, all: false), let run = runs.first, let first = run.first else {
            return CommandReport.Section(title: "Journal", headers: ["field", "value"], rows: [["journal", path], ["last run", "none"]])
        }
        let lastAction = run.last { $0.kind == .action }
        let pastText: String
        switch derived {
        case .past(let evidence)?: pastText = "yes (\(evidence))"
        case .before?, .noRun?: pastText = "no"
        case nil: pastText = run.contains { $0.pastPointOfNoReturn == true } ? "yes" : "no"
        }
        let finished = run.last { $0.kind == .runFinished }
        let state: String
        if let finished, let problem = finished.unreadablePayload {
            // Another version wrote the end, or it was edited: not shown as finished, nor as resumable (#17).
            state = "outcome unreadable: entry \(finished.sequence) \(problem); not known to have finished "
                + "(`migrate-cli resume` refuses it: inspect it with `migrate-cli journal show`)"
        } else if let outcome = finished?.outcome {
            state = PlanRenderer.outcomeName(outcome)
        } else if let text = finished?.statements?.first?.statement {
            // A command journaled step by step that ended without an outcome (a start-forward not proved).
            state = "ended: \(text)"
        } else {
            state = "unfinished (in progress, or interrupted: `migrate-cli resume`)"
        }
        return CommandReport.Section(title: "Journal", headers: ["field", "value"], rows: [
            ["journal", path],
            ["last run", first.runID],
            ["operation", first.operation?.rawValue ?? first.hookSwitch.map { "writer-\($0.direction) without ProxySQL (switch command)" } ?? "-"],
            ["started", first.time],
            ["last step", lastAction.map { "\($0.step ?? "-"): \($0.action.map(CutoverRunner.describe) ?? $0.hookSwitch?.action.map { "\($0)" } ?? $0.statements?.first?.statement ?? "-")" } ?? "-"],
            ["past the point of no return", pastText],
            ["state", state],
        ])
    }

    /// One JSON line per entry, as stored. An entry whose action, event or outcome this version cannot read (written
    /// by another version, or edited) is not left out: it is shown with what could be read and `"unreadable"`, the
    /// reason (``UnreadableJournalLine``).
    static func json(_ entries: [JournalRecord]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return entries.map { entry in
            let data: Data
            do {
                data = try entry.unreadablePayload.map { try encoder.encode(UnreadableJournalLine(entry, reason: $0)) }
                    ?? encoder.encode(entry)
            } catch {
                // Never expected (every payload read is written back); still never silently left out.
                let fallback = UnreadableJournalLine.Minimal(
                    sequence: entry.sequence, runID: entry.runID, kind: entry.kind.rawValue, unreadable: "\(error)")
                data = (try? encoder.encode(fallback)) ?? Data()
            }
            return String(decoding: data, as: UTF8.self) + "\n"
        }.joined()
    }
}

/// A journal entry this version cannot fully read, for `journal show --json`: the entry's fields as stored (its
/// `sequence`, `runID`, `kind`, `time`, `step`, …), without the action, event or outcome that cannot be read (readable
/// ones are kept), and `"unreadable"`: why (`its event teleported cannot be read by this version (…)`). Readable
/// entries have no `unreadable` field.
struct UnreadableJournalLine: Encodable {
    var record: JournalRecord
    var reason: String

    init(_ entry: JournalRecord, reason: String) {
        var record = entry
        // Through the machine's values: a readable payload is written back as it was, an unreadable one is dropped.
        record.action = entry.action
        record.event = entry.event
        record.outcome = entry.outcome
        self.record = record
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case unreadable
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(reason, forKey: .unreadable)
    }

    /// The least an entry is shown with when even that cannot be encoded.
    struct Minimal: Encodable {
        var sequence: Int
        var runID: String
        var kind: String
        var unreadable: String
    }
}
