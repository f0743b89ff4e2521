import Cutover

/// What a non-run command (preflight, status, the helpers, the sandbox) found or did, as data: titled tables,
/// blocking reasons, notes. The library adapters in ``LibraryBridge`` produce it; ``CommandReport/human(style:)``
/// and ``CommandReport/json`` render it.
struct CommandReport: Sendable {
    /// A titled table (`ProxySQL runtime rows`, `Replication`).
    struct Section: Sendable {
        var title: String
        var headers: [String]
        var rows: [[String]]

        init(title: String, headers: [String] = [], rows: [[String]]) {
            self.title = title
            self.headers = headers
            self.rows = rows
        }
    }

    /// The command (`preflight`, `status`, `accounts compare`).
    var command: String
    var sections: [Section]
    /// Reasons that block (preflight) or differences that need action; non-empty → exit code "refused".
    var blockingReasons: [BlockingReason]
    var notes: [String]
    /// What changed (empty for read-only commands and dry runs).
    var changes: [String]
    /// Whether this was a dry run (changes are what would be done).
    var dryRun: Bool
    /// The exit status, when it is not simply "refused" for blocking reasons (a rehearsal that lost writes fails).
    var status: ExitStatus?

    init(
        command: String,
        sections: [Section] = [],
        blockingReasons: [BlockingReason] = [],
        notes: [String] = [],
        changes: [String] = [],
        dryRun: Bool = false
    ) {
        self.command = command
        self.sections = sections
        self.blockingReasons = blockingReasons
        self.notes = notes
        self.changes = changes
        self.dryRun = dryRun
        self.status = nil
    }

    /// `.refused` when something blocks, else `.success`.
    var exitStatus: ExitStatus { status ?? (blockingReasons.isEmpty ? .success : .refused) }

    func human(style: TerminalStyle) -> String {
        var parts: [String] = []
        for section in sections {
            parts.append(style.bold(section.title) + "\n" + (section.rows.isEmpty ? "  (none)" : TextTable(headers: section.headers, rows: section.rows).render()))
        }
        if !changes.isEmpty {
            parts.append(style.bold(dryRun ? "Would change (dry run, nothing was changed)" : "Changed") + "\n" + changes.map { "  \($0)" }.joined(separator: "\n"))
        }
        if !blockingReasons.isEmpty {
            parts.append(style.red("Blocking") + "\n" + blockingReasons.map { "  - \($0.check): \($0.message)\n    fix: \($0.remedy)" }.joined(separator: "\n"))
        }
        if !notes.isEmpty { parts.append(notes.map { "note: \($0)" }.joined(separator: "\n")) }
        return parts.joined(separator: "\n\n") + "\n"
    }

    var json: JSONValue {
        .object([
            ("event", "report"), ("command", .string(command)), ("dry_run", .bool(dryRun)),
            ("sections", .array(sections.map { section in
                .object([
                    ("title", .string(section.title)),
                    ("rows", .array(section.rows.map { row in
                        if section.headers.count == row.count {
                            return .object(zip(section.headers, row).map { ($0, .string($1)) })
                        }
                        return .array(row.map { .string($0) })
                    })),
                ])
            })),
            ("changes", .array(changes.map { .string($0) })),
            ("blocking_reasons", .array(blockingReasons.map { .object([("check", .string($0.check)), ("message", .string($0.message)), ("remedy", .string($0.remedy))]) })),
            ("notes", .array(notes.map { .string($0) })),
            ("exit_code", .int(Int64(exitStatus.code))),
        ])
    }
}
