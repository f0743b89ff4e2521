/// A token of a MySQL statement, enough to recognise what ProxySQL reacts to.
enum SQLToken: Equatable, Sendable {
    /// An unquoted word (keyword or identifier), as written.
    case word(String)
    /// A back-quoted identifier, without its quotes.
    case quotedIdentifier(String)
    /// A string literal, exactly as written (quotes included).
    case string(String)
    case number(String)
    /// `@name` (a user variable).
    case userVariable(String)
    /// `@@name`, `@@session.name`, ...: the name after `@@`, as written.
    case systemVariable(String)
    /// Any other character (`(`, `,`, `=`, `;`...); `:=` becomes `=`.
    case symbol(Character)

    var upperWord: String? {
        if case .word(let text) = self { text.uppercased() } else { nil }
    }
}

/// Splits statements into tokens, dropping comments (`-- `, `#`, `/* */`) like ProxySQL's digest does.
enum SQLLexer {
    static func tokens(_ sql: String) -> [SQLToken] {
        let scalars = Array(sql.unicodeScalars)
        var tokens: [SQLToken] = []
        var index = 0
        func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || scalar == "$" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || scalar.value > 0x7F
        }
        func readQuoted(_ quote: Unicode.Scalar) -> String {
            // Returns the literal as written, including the quotes; handles `''` doubling and backslash escapes.
            var text = String(quote)
            index += 1
            while index < scalars.count {
                let scalar = scalars[index]
                text.unicodeScalars.append(scalar)
                if scalar == "\\" && quote != "`" && index + 1 < scalars.count {
                    text.unicodeScalars.append(scalars[index + 1])
                    index += 2
                    continue
                }
                index += 1
                if scalar == quote {
                    if index < scalars.count && scalars[index] == quote {
                        text.unicodeScalars.append(quote)
                        index += 1
                        continue
                    }
                    break
                }
            }
            return text
        }
        func readWord() -> String {
            var text = ""
            while index < scalars.count, isWordScalar(scalars[index]) {
                text.unicodeScalars.append(scalars[index])
                index += 1
            }
            return text
        }
        while index < scalars.count {
            let scalar = scalars[index]
            let next: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
            switch scalar {
            case " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}":
                index += 1
            case "#":
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
            case "-" where next == "-" && (index + 2 >= scalars.count || [" ", "\t", "\n", "\r"].contains(scalars[index + 2])):
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
            case "/" where next == "*":
                index += 2
                while index + 1 < scalars.count, !(scalars[index] == "*" && scalars[index + 1] == "/") { index += 1 }
                index = min(scalars.count, index + 2)
            case "'", "\"":
                tokens.append(.string(readQuoted(scalar)))
            case "`":
                let quoted = readQuoted("`")
                tokens.append(.quotedIdentifier(String(quoted.dropFirst().dropLast())))
            case "@":
                if next == "@" {
                    index += 2
                    var name = ""
                    while index < scalars.count, isWordScalar(scalars[index]) || scalars[index] == "." {
                        name.unicodeScalars.append(scalars[index])
                        index += 1
                    }
                    tokens.append(.systemVariable(name))
                } else {
                    index += 1
                    if index < scalars.count, ["'", "\"", "`"].contains(scalars[index]) {
                        let quoted = readQuoted(scalars[index])
                        tokens.append(.userVariable(String(quoted.dropFirst().dropLast())))
                    } else {
                        tokens.append(.userVariable(readWord()))
                    }
                }
            case ":" where next == "=":
                tokens.append(.symbol("="))
                index += 2
            default:
                if ("0"..."9").contains(scalar) {
                    var text = ""
                    while index < scalars.count, isWordScalar(scalars[index]) || scalars[index] == "." {
                        text.unicodeScalars.append(scalars[index])
                        index += 1
                    }
                    tokens.append(.number(text))
                } else if isWordScalar(scalar) {
                    tokens.append(.word(readWord()))
                } else {
                    tokens.append(.symbol(Character(scalar)))
                    index += 1
                }
            }
        }
        return tokens
    }

    /// Renders tokens back to text (one space between tokens), for values of SET assignments.
    static func render(_ tokens: some Collection<SQLToken>) -> String {
        var text = ""
        for token in tokens {
            let piece: String =
                switch token {
                case .word(let word): word
                case .quotedIdentifier(let name): "`" + name.emulatorReplacing("`", with: "``") + "`"
                case .string(let literal): literal
                case .number(let number): number
                case .userVariable(let name): "@`" + name.emulatorReplacing("`", with: "``") + "`"
                case .systemVariable(let name): "@@" + name
                case .symbol(let character): String(character)
                }
            if !text.isEmpty, !(piece == "," || piece == ")" || text.hasSuffix("(")) { text += " " }
            text += piece
        }
        return text
    }
}

/// ProxySQL's connection status flags (`STATUS_MYSQL_CONNECTION_*`): the reasons a session keeps its backend
/// connection. Shown as `status_flags` in `stats_mysql_processlist`.
struct PinReasons: OptionSet, Sendable, Hashable, CustomStringConvertible {
    let rawValue: UInt32

    static let transaction = PinReasons(rawValue: 0x0001)
    static let userVariable = PinReasons(rawValue: 0x0004)
    static let preparedStatement = PinReasons(rawValue: 0x0008)
    static let lockTables = PinReasons(rawValue: 0x0010)
    static let temporaryTable = PinReasons(rawValue: 0x0020)
    static let getLock = PinReasons(rawValue: 0x0040)
    static let noMultiplex = PinReasons(rawValue: 0x0080)
    static let sqlLogBin0 = PinReasons(rawValue: 0x0100)
    static let foundRows = PinReasons(rawValue: 0x0200)
    static let hasSavepoint = PinReasons(rawValue: 0x0800)

    var description: String {
        let names: [(PinReasons, String)] = [
            (.transaction, "transaction"), (.userVariable, "user_variable"), (.preparedStatement, "prepared_statement"),
            (.lockTables, "lock_tables"), (.temporaryTable, "temporary_table"), (.getLock, "get_lock"),
            (.noMultiplex, "no_multiplex"), (.sqlLogBin0, "sql_log_bin0"), (.foundRows, "found_rows"),
            (.hasSavepoint, "has_savepoint"),
        ]
        let present = names.filter { contains($0.0) }.map(\.1)
        return present.isEmpty ? "none" : present.joined(separator: ",")
    }
}

/// One assignment of a `SET` statement the emulator tracks itself (re-applied on whichever backend runs the
/// session's next statement, as ProxySQL does).
struct TrackedAssignment: Equatable, Sendable {
    /// The lowercased variable name (`sql_mode`), or `names` / `transaction` for the special forms.
    var name: String
    /// The text to send after `SET ` to apply it (`sql_mode = 'ANSI'`, `NAMES utf8mb4`).
    var clause: String
    /// For `autocommit`: the new value.
    var autocommit: Bool?
}

/// What the data plane must know about a statement before and after running it.
struct StatementAnalysis: Sendable {
    enum Kind: Equatable, Sendable {
        /// `SELECT @@version_comment LIMIT 1`, answered by ProxySQL itself.
        case versionComment
        /// A `SET` made only of variables ProxySQL tracks: answered locally, applied lazily.
        case trackedSet([TrackedAssignment])
        /// `USE schema`: answered locally, applied lazily (like COM_INIT_DB).
        case use(String)
        /// Anything sent to a backend.
        case forwarded
    }

    var kind: Kind = .forwarded
    /// `BEGIN` / `START TRANSACTION`.
    var beginsTransaction = false
    /// `COMMIT` / `ROLLBACK` (not `ROLLBACK TO SAVEPOINT`).
    var endsTransaction = false
    /// Pins this statement adds for the rest of the session (or until their release statement).
    var addsPins: PinReasons = []
    /// Pins this statement releases (`UNLOCK TABLES`, `COMMIT` for savepoints).
    var releasesPins: PinReasons = []
}

/// Recognises the statements ProxySQL reacts to (multiplexing, tracked variables), from tokens, not raw text, so
/// that an `@` or a keyword inside a string literal changes nothing (ProxySQL works on the query digest, where
/// literals are replaced).
enum StatementAnalyzer {
    /// Session variables ProxySQL tracks and re-applies when a session moves to another backend connection.
    static let trackedVariables: Set<String> = [
        "autocommit", "sql_mode", "time_zone", "character_set_client", "character_set_results",
        "character_set_connection", "character_set_database", "collation_connection", "sql_auto_is_null",
        "sql_select_limit", "sql_safe_updates", "max_join_size", "net_write_timeout", "net_read_timeout",
        "group_concat_max_len", "foreign_key_checks", "unique_checks", "innodb_lock_wait_timeout",
        "innodb_strict_mode", "tx_isolation", "transaction_isolation", "tx_read_only", "transaction_read_only",
        "lc_time_names", "long_query_time", "sql_big_selects", "optimizer_switch", "sql_log_bin",
        "sql_quote_show_create", "max_execution_time", "max_statement_time", "wsrep_sync_wait",
        "session_track_gtids", "sql_warnings", "sql_notes", "div_precision_increment", "max_sort_length",
        "default_storage_engine", "default_tmp_storage_engine", "big_tables", "query_cache_type",
        "optimizer_search_depth", "optimizer_prune_level", "sort_buffer_size", "join_buffer_size",
        "explicit_defaults_for_timestamp", "timestamp", "collation_database",
    ]

    static func analyze(_ sql: String, keepMultiplexingVariables: Set<String>) -> StatementAnalysis {
        let tokens = SQLLexer.tokens(sql)
        var analysis = StatementAnalysis()
        let words = tokens.compactMap(\.upperWord)
        let first = tokens.first?.upperWord ?? ""
        let second = tokens.count > 1 ? tokens[1].upperWord ?? "" : ""

        if isVersionComment(tokens) {
            analysis.kind = .versionComment
            return analysis
        }

        switch first {
        case "BEGIN":
            analysis.beginsTransaction = true
        case "START" where second == "TRANSACTION":
            analysis.beginsTransaction = true
        case "COMMIT":
            analysis.endsTransaction = true
            analysis.releasesPins.insert(.hasSavepoint)
        case "ROLLBACK":
            if !words.dropFirst().contains("TO") {
                analysis.endsTransaction = true
                analysis.releasesPins.insert(.hasSavepoint)
            }
        case "SAVEPOINT":
            analysis.addsPins.insert(.hasSavepoint)
        case "LOCK" where second == "TABLE" || second == "TABLES":
            analysis.addsPins.insert(.lockTables)
        case "UNLOCK" where second == "TABLES" || second == "TABLE":
            analysis.releasesPins.insert(.lockTables)
        case "FLUSH" where words.contains("WITH") && words.contains("READ") && words.contains("LOCK"):
            analysis.addsPins.insert(.lockTables)
        case "CREATE" where second == "TEMPORARY":
            analysis.addsPins.insert(.temporaryTable)
        case "PREPARE":
            analysis.addsPins.insert(.preparedStatement)
        case "USE":
            if tokens.count == 2 {
                switch tokens[1] {
                case .word(let name), .quotedIdentifier(let name): analysis.kind = .use(name)
                default: break
                }
            }
            return analysis
        case "SET":
            return analyzeSet(Array(tokens.dropFirst()), analysis: analysis, keep: keepMultiplexingVariables)
        default:
            break
        }

        // GET_LOCK( anywhere (RELEASE_LOCK releases nothing, as observed).
        for (index, token) in tokens.enumerated() where token.upperWord == "GET_LOCK" {
            if index + 1 < tokens.count, tokens[index + 1] == .symbol("(") { analysis.addsPins.insert(.getLock) }
        }
        if words.contains("SQL_CALC_FOUND_ROWS") { analysis.addsPins.insert(.foundRows) }

        // Any variable: a session-long pin, unless it is a SELECT of @@variables that are all on
        // mysql-keep_multiplexing_variables.
        let hasUserVariable = tokens.contains { if case .userVariable = $0 { true } else { false } }
        let systemVariables = tokens.compactMap { token -> String? in
            if case .systemVariable(let name) = token { Self.bareName(name) } else { nil }
        }
        if hasUserVariable {
            analysis.addsPins.insert(.userVariable)
        } else if !systemVariables.isEmpty {
            let allKept = first == "SELECT" && systemVariables.allSatisfy { keepMultiplexingVariables.contains($0) }
            if !allKept { analysis.addsPins.insert(.userVariable) }
        }
        return analysis
    }

    /// `@@session.x` / `@@global.x` / `@@local.x` -> `x`, lowercased.
    static func bareName(_ name: String) -> String {
        let lowered = name.lowercased()
        for prefix in ["session.", "global.", "local."] where lowered.hasPrefix(prefix) {
            return String(lowered.dropFirst(prefix.count))
        }
        return lowered
    }

    private static func isVersionComment(_ tokens: [SQLToken]) -> Bool {
        guard tokens.count >= 2, tokens[0].upperWord == "SELECT",
            case .systemVariable(let name) = tokens[1], name.lowercased() == "version_comment"
        else { return false }
        let rest = Array(tokens.dropFirst(2))
        return rest.isEmpty || (rest.count == 2 && rest[0].upperWord == "LIMIT" && rest[1] == .number("1"))
    }

    private static func analyzeSet(_ tokens: [SQLToken], analysis: StatementAnalysis, keep: Set<String>)
        -> StatementAnalysis
    {
        var analysis = analysis
        // Split assignments on top-level commas.
        var assignments: [[SQLToken]] = [[]]
        var depth = 0
        for token in tokens {
            switch token {
            case .symbol("("): depth += 1
            case .symbol(")"): depth -= 1
            case .symbol(",") where depth == 0, .symbol(";") where depth == 0:
                assignments.append([])
                continue
            default: break
            }
            assignments[assignments.count - 1].append(token)
        }
        assignments.removeAll { $0.isEmpty }
        var tracked: [TrackedAssignment] = []
        var untracked = false
        var userVariable = false
        var sqlLogBin0: Bool?

        for var assignment in assignments {
            let head = assignment.first?.upperWord
            if head == "NAMES" || head == "CHARSET" || (head == "CHARACTER" && assignment.count > 1 && assignment[1].upperWord == "SET") {
                tracked.append(TrackedAssignment(name: "names", clause: SQLLexer.render(assignment), autocommit: nil))
                continue
            }
            var scope = "SESSION"
            if let word = head, ["SESSION", "LOCAL", "GLOBAL", "PERSIST", "PERSIST_ONLY"].contains(word) {
                scope = word
                assignment.removeFirst()
            }
            if assignment.first?.upperWord == "TRANSACTION" {
                if scope == "GLOBAL" { untracked = true } else {
                    tracked.append(
                        TrackedAssignment(name: "transaction", clause: "SESSION " + SQLLexer.render(assignment), autocommit: nil)
                    )
                }
                continue
            }
            guard let equals = assignment.firstIndex(of: .symbol("=")), equals > 0 else {
                untracked = true
                continue
            }
            let target = assignment[..<equals]
            let value = assignment[(equals + 1)...]
            var name: String?
            if target.count == 1 {
                switch target.first! {
                case .userVariable:
                    userVariable = true
                    continue
                case .systemVariable(let raw):
                    let lowered = raw.lowercased()
                    if lowered.hasPrefix("global.") { scope = "GLOBAL" }
                    name = bareName(raw)
                case .word(let word):
                    name = word.lowercased()
                case .quotedIdentifier(let word):
                    name = word.lowercased()
                default:
                    break
                }
            } else if target.count == 3, case .word(let prefix) = target.first!, target.dropFirst().first == .symbol("."),
                case .word(let word) = target.last!
            {
                // session.sql_mode
                if prefix.uppercased() == "GLOBAL" { scope = "GLOBAL" }
                name = word.lowercased()
            }
            guard let name, scope == "SESSION" || scope == "LOCAL", trackedVariables.contains(name) else {
                untracked = true
                continue
            }
            let valueText = SQLLexer.render(value)
            var autocommit: Bool?
            if name == "autocommit" {
                autocommit = Self.booleanValue(valueText)
                if autocommit == nil {
                    untracked = true
                    continue
                }
            }
            if name == "sql_log_bin" { sqlLogBin0 = Self.booleanValue(valueText) == false }
            tracked.append(TrackedAssignment(name: name, clause: "\(name) = \(valueText)", autocommit: autocommit))
        }

        if userVariable {
            analysis.addsPins.insert(.userVariable)
        } else if untracked || tracked.isEmpty {
            // ProxySQL cannot follow this SET across backend connections: it keeps the session on its connection.
            analysis.addsPins.insert(.noMultiplex)
        } else {
            analysis.kind = .trackedSet(tracked)
            if let sqlLogBin0 {
                if sqlLogBin0 { analysis.addsPins.insert(.sqlLogBin0) } else { analysis.releasesPins.insert(.sqlLogBin0) }
            }
        }
        if analysis.kind == .forwarded {
            // A forwarded SET that also mentions @@variables is pinned like any statement with `@`.
            let hasSystemVariable = tokens.contains { if case .systemVariable = $0 { true } else { false } }
            if hasSystemVariable { analysis.addsPins.insert(.userVariable) }
        }
        return analysis
    }

    static func booleanValue(_ text: String) -> Bool? {
        var value = text.lowercased()
        if value.hasPrefix("'") || value.hasPrefix("\"") { value = String(value.dropFirst().dropLast()) }
        switch value {
        case "1", "on", "true": return true
        case "0", "off", "false": return false
        default: return nil
        }
    }
}
