import Logging
import ProxySQLAdmin

extension Preflight {
    /// The check that says, before a writer switch, what it will do about the auto-increment pin and why
    /// (issue #18). The per-session plan is in `proxysql.pinned-sessions` (``drainPlan(for:)``).
    static let drainPlanChecks: [Definition] = [
        Definition(
            id: "proxysql.auto-increment-pin",
            title: "Auto-increment pin for the writer switch (evidence: stats_mysql_query_digest)",
            remedyOnError: { _ in proxyAdminRemedy + "; the admin account must read stats_mysql_query_digest" },
            check: Preflight.checkAutoIncrementPin
        )
    ]

    func checkAutoIncrementPin(_ logger: Logger) async throws -> Outcome {
        var evidence: LastInsertIDEvidence?
        if policy.autoIncrementPin == .auto {
            evidence = await LastInsertIDEvidence.read(from: proxies, logger: logger)
        }
        let decision = AutoIncrementPinDecision.decide(policy: policy.autoIncrementPin, evidence: evidence)
        let text = "the writer switch \(decision.relax ? "relaxes" : "keeps") the auto-increment pin: \(decision.reason)"
            + " (the guards read the digests again right before the switch)"
        if !decision.relax, policy.autoIncrementPin == .auto, policy.pinnedSessions == .wait {
            return .warn(
                text,
                remedy: "with policy.pinned-sessions: wait, sessions that keep inserting into AUTO_INCREMENT tables hold "
                    + "the drain to its deadline; use pinned-sessions: cut (the default)")
        }
        return .pass(text)
    }

    /// What the writer switch will do with a session found holding the old writer now, and why (one clause for the
    /// `proxysql.pinned-sessions` check).
    func drainPlan(for entry: ProcesslistEntry) -> String {
        let holderClass = DrainClassifier.holderClass(of: entry)
        switch holderClass {
        case .autoIncrementPin, .sessionPin:
            guard policy.pinnedSessions == .cut else {
                return "the switch waits for it until policy.drain-deadline (pinned-sessions wait)"
            }
            return "an idle \(holderClass): the switch cuts it at OFFLINE_HARD without waiting; its client sees "
                + holderClass.whatTheClientSees
        case .openTransaction, .runningStatement, .unknown:
            return "\(holderClass): the switch waits for it up to policy.drain-deadline, then "
                + (policy.drainDeadlinePolicy == .force
                    ? "cuts it (drain-deadline-policy force): its client sees \(holderClass.whatTheClientSees)"
                    : "rolls back (drain-deadline-policy roll-back)")
        }
    }
}
