@testable import CutoverSandbox
import Testing

/// The query processor as ProxySQL 2.7.1 runs it (`Query_Processor::process_mysql_query`,
/// `MySQL_Session::handler___status_WAITING_CLIENT_DATA___STATE_SLEEP`), read as stories.
@Suite("ProxySQL emulator: query rules, pure")
struct QueryRuleSetTests {
    private let app = QueryRuleClient(username: "app", schema: "shop", proxyPort: 6033)

    /// The published read/write split: `SELECT ... FOR UPDATE` to the writers, other `SELECT`s to the readers.
    private let split = QueryRuleSet(
        rules: [
            QueryRule(ruleID: 1, matchDigest: "^SELECT.*FOR UPDATE", destinationHostgroup: 10, apply: true),
            QueryRule(ruleID: 2, matchDigest: "^SELECT", destinationHostgroup: 20, apply: true),
        ],
        fastRouting: []
    )

    private func decide(_ rules: QueryRuleSet, _ sql: String, client: QueryRuleClient? = nil) -> QueryRuleDecision {
        rules.decide(sql: sql, digestText: QueryDigest.text(of: sql), client: client ?? app)
    }

    @Test("read/write split: plain reads go to the readers, locking reads and writes are left to the default")
    func readWriteSplit() {
        #expect(decide(split, "SELECT c FROM sbtest1 WHERE id = 7").destinationHostgroup == 20)
        #expect(decide(split, "select c from sbtest1 where id = 7").destinationHostgroup == 20, "CASELESS")
        #expect(decide(split, "SELECT c FROM sbtest1 WHERE id = 7 FOR UPDATE").destinationHostgroup == 10)
        #expect(decide(split, "SELECT c FROM sbtest1 WHERE id = 7 FOR UPDATE").matched == [1], "apply stops")
        let write = decide(split, "INSERT INTO sbtest1 (k) VALUES (1)")
        #expect(write.destinationHostgroup == nil)
        #expect(write.matched.isEmpty)
    }

    @Test("match_digest sees literals as ?, match_pattern sees the statement as sent")
    func digestAgainstPattern() {
        let rules = QueryRuleSet(
            rules: [
                QueryRule(ruleID: 1, matchDigest: "id = \\?", destinationHostgroup: 30, apply: true),
                QueryRule(ruleID: 2, matchPattern: "id = 42", destinationHostgroup: 40, apply: true),
            ],
            fastRouting: []
        )
        #expect(decide(rules, "SELECT * FROM t WHERE id = 42").destinationHostgroup == 30)
        let patternOnly = QueryRuleSet(rules: [QueryRule(ruleID: 2, matchPattern: "id = 42", destinationHostgroup: 40)], fastRouting: [])
        #expect(decide(patternOnly, "SELECT * FROM t WHERE id = 42").destinationHostgroup == 40)
        #expect(decide(patternOnly, "SELECT * FROM t WHERE id = 43").destinationHostgroup == nil)
    }

    @Test("negate_match_pattern, case-sensitive re_modifiers, username, schemaname and proxy_port filters")
    func filters() {
        let rules = QueryRuleSet(
            rules: [
                QueryRule(ruleID: 1, username: "reporting", matchPattern: "^SELECT", destinationHostgroup: 50, apply: true),
                QueryRule(ruleID: 2, schemaname: "audit", destinationHostgroup: 60, apply: true),
                QueryRule(ruleID: 3, proxyPort: 6034, destinationHostgroup: 70, apply: true),
                QueryRule(ruleID: 4, matchPattern: "^SELECT", negateMatchPattern: true, destinationHostgroup: 10, apply: true),
                QueryRule(ruleID: 5, matchPattern: "^SELECT", caseless: false, destinationHostgroup: 20, apply: true),
            ],
            fastRouting: []
        )
        #expect(decide(rules, "SELECT 1", client: QueryRuleClient(username: "reporting", schema: nil, proxyPort: 6033)).destinationHostgroup == 50)
        #expect(decide(rules, "SELECT 1", client: QueryRuleClient(username: "app", schema: "audit", proxyPort: 6033)).destinationHostgroup == 60)
        #expect(decide(rules, "SELECT 1", client: QueryRuleClient(username: "app", schema: nil, proxyPort: 6034)).destinationHostgroup == 70)
        #expect(decide(rules, "UPDATE t SET a = 1").destinationHostgroup == 10, "negated: not a SELECT")
        #expect(decide(rules, "SELECT 1").destinationHostgroup == 20)
        #expect(decide(rules, "select 1").destinationHostgroup == nil, "rule 5 is case-sensitive, rule 4 is negated")
    }

    @Test("flagOUT moves the scan to the rules with that flagIN, without restarting from the top")
    func flagChains() {
        let rules = QueryRuleSet(
            rules: [
                QueryRule(ruleID: 1, matchPattern: "sbtest", flagOUT: 5),
                QueryRule(ruleID: 2, flagIN: 5, matchPattern: "^SELECT", destinationHostgroup: 20, apply: true),
                QueryRule(ruleID: 3, flagIN: 5, destinationHostgroup: 10, apply: true),
                // flagIN 5 again, but above rule 1 in rule_id order would need a restart: never reached.
            ],
            fastRouting: []
        )
        #expect(decide(rules, "SELECT * FROM sbtest1").destinationHostgroup == 20)
        #expect(decide(rules, "SELECT * FROM sbtest1").matched == [1, 2])
        #expect(decide(rules, "DELETE FROM sbtest1").destinationHostgroup == 10)
        #expect(decide(rules, "SELECT * FROM other").matched.isEmpty, "flag stays 0: rules 2 and 3 are skipped")
        let earlier = QueryRuleSet(
            rules: [
                QueryRule(ruleID: 1, flagIN: 5, destinationHostgroup: 99, apply: true),
                QueryRule(ruleID: 2, flagOUT: 5),
            ],
            fastRouting: []
        )
        #expect(decide(earlier, "SELECT 1").destinationHostgroup == nil, "query_processor_iterations = 0")
    }

    @Test("a later matching rule without apply overrides the destination; next_query_flagIN is reported")
    func lastMatchWins() {
        let rules = QueryRuleSet(
            rules: [
                QueryRule(ruleID: 1, matchPattern: "^SELECT", destinationHostgroup: 20),
                QueryRule(ruleID: 2, matchPattern: "FROM accounts", destinationHostgroup: 10, nextQueryFlagIN: 3),
            ],
            fastRouting: []
        )
        let decision = decide(rules, "SELECT * FROM accounts")
        #expect(decision.destinationHostgroup == 10)
        #expect(decision.nextQueryFlagIN == 3)
        #expect(decide(rules, "SELECT * FROM items").destinationHostgroup == 20)
    }

    @Test("fast routing answers when no apply rule ended the scan, by user, schema and the current flag")
    func fastRouting() {
        let fast = [FastRoutingRule(username: "app", schemaname: "shop", flagIN: 0, destinationHostgroup: 80)]
        let none = QueryRuleSet(rules: [], fastRouting: fast)
        #expect(decide(none, "SELECT 1").destinationHostgroup == 80)
        #expect(decide(none, "SELECT 1", client: QueryRuleClient(username: "app", schema: "other", proxyPort: 6033)).destinationHostgroup == nil)
        let applied = QueryRuleSet(rules: [QueryRule(ruleID: 1, matchPattern: "^SELECT", destinationHostgroup: 20, apply: true)], fastRouting: fast)
        #expect(decide(applied, "SELECT 1").destinationHostgroup == 20)
        // ProxySQL checks `apply` on the last rule it looked at, matched or not: a trailing apply rule that did not
        // match still skips the fast-routing table.
        #expect(decide(applied, "UPDATE t SET a = 1").destinationHostgroup == nil)
        let trailingNoApply = QueryRuleSet(rules: [QueryRule(ruleID: 1, matchPattern: "^SELECT", destinationHostgroup: 20)], fastRouting: fast)
        #expect(decide(trailingNoApply, "UPDATE t SET a = 1").destinationHostgroup == 80)
    }

    @Test("a pattern that does not compile never matches (ProxySQL logs it and skips the rule)")
    func invalidPattern() {
        let rules = QueryRuleSet(
            rules: [
                QueryRule(ruleID: 1, matchPattern: "([unclosed", destinationHostgroup: 20, apply: true),
                QueryRule(ruleID: 2, matchPattern: "^SELECT", destinationHostgroup: 30, apply: true),
            ],
            fastRouting: []
        )
        #expect(decide(rules, "SELECT ([unclosed").destinationHostgroup == 30)
    }

    @Test("rows of runtime_mysql_query_rules: NULLs are 'not set', re_modifiers decides CASELESS")
    func rows() throws {
        let row: [String?] = ["7", nil, "", "0", nil, "^SELECT", nil, "0", "CASELESS,GLOBAL", nil, "20", nil, "1"]
        let rule = try #require(QueryRule(row: row))
        #expect(rule.ruleID == 7)
        #expect(rule.username == nil && rule.schemaname == nil && rule.proxyPort == nil)
        #expect(rule.matchDigest == "^SELECT" && rule.caseless && rule.apply && rule.destinationHostgroup == 20)
        var sensitive = row
        sensitive[8] = ""
        #expect(QueryRule(row: sensitive)?.caseless == false)
        #expect(QueryRule(row: Array(row.dropLast())) == nil)
    }
}

@Suite("ProxySQL emulator: session routing, pure")
struct SessionRoutingTests {
    private let toReaders = QueryRuleDecision(destinationHostgroup: 20)
    private let unrouted = QueryRuleDecision()

    @Test("each statement starts from default_hostgroup; a rule's destination moves only that statement")
    func perStatement() {
        var routing = SessionRouting(defaultHostgroup: 10, transactionPersistent: true)
        #expect(routing.hostgroup(for: toReaders) == 20)
        routing.answered(in: 20, inTransaction: false)
        #expect(routing.hostgroup(for: unrouted) == 10)
    }

    @Test("transaction_persistent: BEGIN on the writers keeps the transaction's reads there until COMMIT")
    func persistent() {
        var routing = SessionRouting(defaultHostgroup: 10, transactionPersistent: true)
        #expect(routing.hostgroup(for: unrouted) == 10)  // BEGIN / INSERT
        routing.answered(in: 10, inTransaction: true)
        #expect(routing.hostgroup(for: toReaders) == 10, "SELECT inside the transaction stays on the writer")
        routing.answered(in: 10, inTransaction: true)
        #expect(routing.hostgroup(for: unrouted) == 10)  // COMMIT
        routing.answered(in: 10, inTransaction: false)
        #expect(routing.hostgroup(for: toReaders) == 20, "after COMMIT reads go to the readers again")
    }

    @Test("transaction_persistent = 0: the rules route every statement, even inside a transaction")
    func notPersistent() {
        var routing = SessionRouting(defaultHostgroup: 10, transactionPersistent: false)
        #expect(routing.hostgroup(for: unrouted) == 10)
        routing.answered(in: 10, inTransaction: true)
        #expect(routing.hostgroup(for: toReaders) == 20)
    }

    @Test("a transaction opened by a routed read holds the session in the readers")
    func readTransaction() {
        var routing = SessionRouting(defaultHostgroup: 10, transactionPersistent: true)
        #expect(routing.hostgroup(for: toReaders) == 20)
        routing.answered(in: 20, inTransaction: true)
        #expect(routing.hostgroup(for: unrouted) == 20)
    }

    @Test("next_query_flagIN is kept for the following statements until a rule changes it")
    func nextFlag() {
        var routing = SessionRouting(defaultHostgroup: 10, transactionPersistent: true)
        _ = routing.hostgroup(for: QueryRuleDecision(nextQueryFlagIN: 4))
        #expect(routing.nextFlagIN == 4)
        _ = routing.hostgroup(for: unrouted)
        #expect(routing.nextFlagIN == 4)
    }
}
