/// A statement a real run would send, as a dry run recorded it.
///
/// Built with the same statement builders the live path uses (`ProxySQLAdminStatements`, `ReplicationDialect`,
/// `RDSProcedures`, `SourceController`, `SessionCloser`), so the plan cannot drift from what is sent. Values a dry
/// run cannot know (binlog coordinates read during the run, session ids found on the old writer) appear as
/// placeholders in angle brackets: `<source binlog offset>`, `<SessionID>`.
public struct PlannedStatement: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The endpoint, named as the live run journals it (`source`, `target`, a ProxySQL node's name).
    public var endpoint: String
    /// The statement as the endpoint would receive it (quoted for its dialect), with secrets as `'<redacted>'`.
    public var text: String
    /// The statement as the journal of a live run records it (string literals `'…'`, secrets `'<redacted>'`).
    public var redacted: String
    /// Sent once per row of the `SELECT` before it (one `KILL` per session found), possibly never.
    public var repeatsPerRow: Bool

    /// Creates a planned statement.
    public init(endpoint: String, text: String, redacted: String, repeatsPerRow: Bool = false) {
        self.endpoint = endpoint
        self.text = text
        self.redacted = redacted
        self.repeatsPerRow = repeatsPerRow
    }

    /// Whether the statement changes something (configuration, routing, replication, sessions) rather than only
    /// reading.
    public var isChange: Bool { Self.isChange(text) }

    /// Whether `statement` changes something: `UPDATE`, `INSERT`, `DELETE`, `LOAD`, `SAVE`, `SET`, `CHANGE`,
    /// `START`, `STOP`, `RESET`, `KILL`, `CREATE`, `GRANT`, `DROP`, `REVOKE`, and `CALL mysql.rds_*` except
    /// `rds_show_configuration`.
    public static func isChange(_ statement: String) -> Bool {
        let upper = statement.drop { $0 == " " }.uppercased()
        if upper.hasPrefix("CALL ") { return !upper.contains("RDS_SHOW_CONFIGURATION") }
        let verbs = [
            "UPDATE ", "INSERT ", "DELETE ", "LOAD ", "SAVE ", "SET ", "CHANGE ", "START ", "STOP ", "RESET ", "KILL ",
            "CREATE ", "GRANT ", "DROP ", "REVOKE ", "TRUNCATE ",
        ]
        return verbs.contains { upper.hasPrefix($0) }
    }

    /// Whether a statement journaled by a live run (its redacted form) is this planned statement, each
    /// placeholder standing for one or more characters.
    public func matches(journaled statement: String) -> Bool {
        Self.match(pattern: Self.segments(of: redacted)[...], statement[...])
    }

    /// `pattern` split at its placeholders: the literal pieces, with `nil` where a placeholder stands. A secret's
    /// `<redacted>` is literal text (both forms show it the same way).
    static func segments(of pattern: String) -> [Substring?] {
        var result: [Substring?] = []
        var literal = pattern[pattern.startIndex..<pattern.startIndex]
        var rest = pattern[...]
        while let open = rest.firstIndex(of: "<") {
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(of: ">") else { break }
            let name = rest[afterOpen..<close]
            if name.isEmpty || name == "redacted" || name.contains("<") {
                literal = pattern[literal.startIndex..<rest.index(after: close)]
                rest = rest[rest.index(after: close)...]
                continue
            }
            literal = pattern[literal.startIndex..<open]
            if !literal.isEmpty { result.append(literal) }
            result.append(nil)
            rest = rest[rest.index(after: close)...]
            literal = pattern[rest.startIndex..<rest.startIndex]
        }
        literal = pattern[literal.startIndex..<pattern.endIndex]
        if !literal.isEmpty { result.append(literal) }
        return result
    }

    private static func match(pattern: ArraySlice<Substring?>, _ text: Substring) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        let rest = pattern.dropFirst()
        if let literal = first {
            guard text.hasPrefix(literal) else { return false }
            return match(pattern: rest, text.dropFirst(literal.count))
        }
        // A placeholder: one or more characters.
        guard !text.isEmpty else { return false }
        var index = text.index(after: text.startIndex)
        while true {
            if match(pattern: rest, text[index...]) { return true }
            guard index < text.endIndex else { return false }
            index = text.index(after: index)
        }
    }

    /// `[endpoint] text`, with `(per row)` for repeated statements.
    public var description: String {
        "[\(endpoint)] \(text)" + (repeatsPerRow ? "  (once per row found)" : "")
    }
}

/// What a dry run of an operation found: each step the runner would take and the statements it would send, per
/// endpoint, in order. Deterministic: the same topology, policy and assumptions give the same plan.
public struct DryRunPlan: Sendable, Hashable, Codable {
    /// One action of the state machine.
    public struct Step: Sendable, Hashable, Codable {
        /// 1-based position in the plan.
        public var index: Int
        /// What the step does (`set source writer OFFLINE_SOFT + LOAD`).
        public var action: String
        /// How the simulated step ended (`source writer is OFFLINE_SOFT`).
        public var outcome: String
        /// Whether the step comes after the point of no return.
        public var pastPointOfNoReturn: Bool
        /// The statements, grouped by endpoint (databases first, then ProxySQL nodes in order), each endpoint's in
        /// the order they are sent.
        public var statements: [PlannedStatement]

        /// Creates a step.
        public init(index: Int, action: String, outcome: String, pastPointOfNoReturn: Bool, statements: [PlannedStatement]) {
            self.index = index
            self.action = action
            self.outcome = outcome
            self.pastPointOfNoReturn = pastPointOfNoReturn
            self.statements = statements
        }
    }

    /// The operation planned.
    public var operation: CutoverOperation
    /// The steps, in order.
    public var steps: [Step]
    /// How the simulated run ended (`completed` unless the simulated guards refuse).
    public var outcome: CutoverOutcome
    /// What the plan assumed rather than read from the servers (dialects, the starting routing).
    public var assumptions: [String]

    /// Creates a plan.
    public init(operation: CutoverOperation, steps: [Step], outcome: CutoverOutcome, assumptions: [String]) {
        self.operation = operation
        self.steps = steps
        self.outcome = outcome
        self.assumptions = assumptions
    }

    /// Every statement for `endpoint`, in order.
    public func statements(for endpoint: String) -> [PlannedStatement] {
        steps.flatMap(\.statements).filter { $0.endpoint == endpoint }
    }

    /// The endpoints, in the order they first appear.
    public var endpoints: [String] {
        var seen: [String] = []
        for statement in steps.flatMap(\.statements) where !seen.contains(statement.endpoint) {
            seen.append(statement.endpoint)
        }
        return seen
    }
}
