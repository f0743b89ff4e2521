import Foundation

/// One `runtime_mysql_query_rules` row, as far as routing reads it. Rules that rewrite, cache, mirror or answer
/// (`replace_pattern`, `cache_ttl`, `mirror_*`, `error_msg`, `OK_msg`) are loaded but those actions are not
/// performed (see `Documentation/proxysql-emulator.md`).
struct QueryRule: Sendable {
    var ruleID: Int
    var username: String?
    var schemaname: String?
    var flagIN = 0
    var proxyPort: Int?
    var matchDigest: String?
    var matchPattern: String?
    var negateMatchPattern = false
    /// `re_modifiers` holds `CASELESS` (ProxySQL's default).
    var caseless = true
    var flagOUT: Int?
    var destinationHostgroup: Int?
    var nextQueryFlagIN: Int?
    var apply = false

    /// The runtime columns ``init(row:)`` reads, in order.
    static let columns = [
        "rule_id", "username", "schemaname", "flagIN", "proxy_port", "match_digest", "match_pattern",
        "negate_match_pattern", "re_modifiers", "flagOUT", "destination_hostgroup", "next_query_flagIN", "apply",
    ]

    init(
        ruleID: Int, username: String? = nil, schemaname: String? = nil, flagIN: Int = 0, proxyPort: Int? = nil,
        matchDigest: String? = nil, matchPattern: String? = nil, negateMatchPattern: Bool = false,
        caseless: Bool = true, flagOUT: Int? = nil, destinationHostgroup: Int? = nil, nextQueryFlagIN: Int? = nil,
        apply: Bool = false
    ) {
        self.ruleID = ruleID
        self.username = username
        self.schemaname = schemaname
        self.flagIN = flagIN
        self.proxyPort = proxyPort
        self.matchDigest = matchDigest
        self.matchPattern = matchPattern
        self.negateMatchPattern = negateMatchPattern
        self.caseless = caseless
        self.flagOUT = flagOUT
        self.destinationHostgroup = destinationHostgroup
        self.nextQueryFlagIN = nextQueryFlagIN
        self.apply = apply
    }

    /// Reads a row selected with ``columns`` (values as text, as SQLite returns them).
    init?(row: [String?]) {
        guard row.count == Self.columns.count, let id = row[0].flatMap({ Int($0) }) else { return nil }
        func int(_ index: Int) -> Int? { row[index].flatMap { Int($0) } }
        func text(_ index: Int) -> String? { row[index].flatMap { $0.isEmpty ? nil : $0 } }
        self.init(
            ruleID: id,
            username: text(1),
            schemaname: text(2),
            flagIN: int(3) ?? 0,
            proxyPort: int(4),
            matchDigest: text(5),
            matchPattern: text(6),
            negateMatchPattern: int(7) == 1,
            caseless: (row[8] ?? "").uppercased().contains("CASELESS"),
            flagOUT: int(9),
            destinationHostgroup: int(10),
            nextQueryFlagIN: int(11),
            apply: int(12) == 1
        )
    }
}

/// One `runtime_mysql_query_rules_fast_routing` row.
struct FastRoutingRule: Sendable, Equatable {
    var username: String
    var schemaname: String
    var flagIN: Int
    var destinationHostgroup: Int
}

/// What a statement's client looks like to the query processor.
struct QueryRuleClient: Sendable, Equatable {
    var username: String
    var schema: String?
    /// The emulator port the client connected to (`proxy_port`).
    var proxyPort: Int
    /// `next_query_flagIN` left by the session's previous statement, if any.
    var flagIN = 0
}

/// What the query processor decided for one statement.
struct QueryRuleDecision: Sendable, Equatable {
    /// `destination_hostgroup` of the rules (or the fast-routing table); nil leaves the session's hostgroup.
    var destinationHostgroup: Int?
    /// The `flagIN` the session's next statement starts with, when a rule set `next_query_flagIN`.
    var nextQueryFlagIN: Int?
    /// The rules that matched, in order (`stats_mysql_query_rules.hits`).
    var matched: [Int] = []
}

/// The compiled runtime rules and ProxySQL's matching algorithm (`Query_Processor::process_mysql_query`, 2.7.1):
/// rules in `rule_id` order; a rule is skipped unless its `flagIN` equals the current flag and its `username`,
/// `schemaname`, `proxy_port`, `match_digest` (on the digest text) and `match_pattern` (on the statement) all match,
/// `negate_match_pattern` inverting both patterns. A match sets the destination and the next flag; `flagOUT` changes
/// the current flag and the scan goes on with the following rules (`mysql-query_processor_iterations` is 0 by
/// default: no restart from the top); `apply` ends the scan. When the scan did not end on an `apply` rule, the
/// fast-routing table is looked up by user, schema and the current flag.
struct QueryRuleSet: Sendable {
    private struct Compiled: @unchecked Sendable {
        // NSRegularExpression is immutable and thread-safe once built.
        var rule: QueryRule
        var digest: NSRegularExpression?
        var pattern: NSRegularExpression?
        /// A pattern that did not compile: ProxySQL logs it and the rule never matches.
        var invalid: Bool
    }

    private var compiled: [Compiled]
    private var fastRouting: [FastRoutingRule]

    static let empty = QueryRuleSet(rules: [], fastRouting: [])

    init(rules: [QueryRule], fastRouting: [FastRoutingRule]) {
        compiled = rules.sorted { $0.ruleID < $1.ruleID }.map { rule in
            let options: NSRegularExpression.Options = rule.caseless ? [.caseInsensitive] : []
            let digest = rule.matchDigest.map { try? NSRegularExpression(pattern: $0, options: options) }
            let pattern = rule.matchPattern.map { try? NSRegularExpression(pattern: $0, options: options) }
            let invalid = (digest.map { $0 == nil } ?? false) || (pattern.map { $0 == nil } ?? false)
            return Compiled(rule: rule, digest: digest ?? nil, pattern: pattern ?? nil, invalid: invalid)
        }
        self.fastRouting = fastRouting
    }

    /// Routes `sql` (whose digest text is `digestText`) for `client`.
    func decide(sql: String, digestText: String, client: QueryRuleClient) -> QueryRuleDecision {
        var decision = QueryRuleDecision()
        var flag = client.flagIN
        var endedOnApply = false
        // ProxySQL tests the loop variable after the scan: the LAST rule looked at, matched or not (a trailing
        // `apply = 1` rule that did not match still skips the fast-routing table).
        var lastLookedAt: QueryRule?
        for entry in compiled {
            let rule = entry.rule
            lastLookedAt = rule
            guard rule.flagIN == flag, !entry.invalid else { continue }
            if let username = rule.username, username != client.username { continue }
            if let schema = rule.schemaname, schema != (client.schema ?? "") { continue }
            if let port = rule.proxyPort, port != client.proxyPort { continue }
            if let regex = entry.digest, Self.matches(regex, digestText) == rule.negateMatchPattern { continue }
            if let regex = entry.pattern, Self.matches(regex, sql) == rule.negateMatchPattern { continue }
            decision.matched.append(rule.ruleID)
            if let out = rule.flagOUT { flag = out }
            if let next = rule.nextQueryFlagIN { decision.nextQueryFlagIN = next }
            if let hostgroup = rule.destinationHostgroup, hostgroup >= 0 { decision.destinationHostgroup = hostgroup }
            if rule.apply {
                endedOnApply = true
                break
            }
        }
        if !endedOnApply && !(lastLookedAt?.apply ?? false) {
            if let fast = fastRouting.first(where: {
                $0.username == client.username && $0.schemaname == (client.schema ?? "") && $0.flagIN == flag
            }) {
                decision.destinationHostgroup = fast.destinationHostgroup
            }
        }
        return decision
    }

    private static func matches(_ regex: NSRegularExpression, _ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// The hostgroup a session's statement runs in (`MySQL_Session`, 2.7.1): each statement starts from the user's
/// `default_hostgroup` unless a transaction holds the session (`transaction_persistent`), and a rule's destination
/// moves it. Once a statement leaves a transaction open on a `transaction_persistent` user's session, every
/// statement goes to that hostgroup until the transaction ends.
struct SessionRouting: Sendable, Equatable {
    var defaultHostgroup: Int
    var transactionPersistent: Bool
    /// `transaction_persistent_hostgroup`: set while a transaction holds the session.
    var persistentHostgroup: Int?
    /// `next_query_flagIN` for the next statement.
    var nextFlagIN: Int?

    /// The hostgroup of the next statement, given the rules' decision for it.
    mutating func hostgroup(for decision: QueryRuleDecision) -> Int {
        nextFlagIN = decision.nextQueryFlagIN ?? nextFlagIN
        if let persistentHostgroup { return persistentHostgroup }
        return decision.destinationHostgroup ?? defaultHostgroup
    }

    /// After the backend answered in `hostgroup`: a transaction left open holds the session there, a finished one
    /// releases it.
    mutating func answered(in hostgroup: Int, inTransaction: Bool) {
        guard transactionPersistent else { return }
        if inTransaction {
            if persistentHostgroup == nil { persistentHostgroup = hostgroup }
        } else {
            persistentHostgroup = nil
        }
    }
}
