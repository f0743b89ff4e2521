public import ProxySQLAdmin

/// What kind of session still holds the old writer during a drain, from ProxySQL's `stats_mysql_processlist`, and
/// so what cutting it at `OFFLINE_HARD` costs its client (issue #18).
public enum DrainHolderClass: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Idle, with no pin flag: the auto-increment insert pin (`mysql-auto_increment_delay_multiplex`), which lasts
    /// as long as the session keeps inserting.
    case autoIncrementPin = "auto-increment-pin"
    /// Idle, pinned for the whole session: a statement with `@` (drivers send `SELECT @@…` at connect), a lock, a
    /// temporary table, `sql_log_bin = 0`, multiplexing off.
    case sessionPin = "session-pin"
    /// Inside an open transaction (idle or running a statement).
    case openTransaction = "open-transaction"
    /// Running an autocommit statement on its pinned connection.
    case runningStatement = "running-statement"
    /// ProxySQL shows no pin flags (older versions): any of the above.
    case unknown

    public var description: String { rawValue }

    /// What the client of a session of this class sees when the switch cuts it at `OFFLINE_HARD`.
    public var whatTheClientSees: String {
        switch self {
        case .autoIncrementPin, .sessionPin:
            "a lost connection on its next statement (error 2013, or 2006 when it was closed during the drain), "
                + "which was not executed; a reconnect goes to the new writer"
        case .openTransaction:
            "error 2013; its transaction is rolled back on the old writer"
        case .runningStatement:
            "error 2013 for the running statement, which may still have committed on the old writer (then it is on "
                + "the new writer after catch-up)"
        case .unknown:
            "error 2013 (ProxySQL shows no pin flags: an open transaction is rolled back, a running statement may "
                + "have committed)"
        }
    }

    /// Whether the switch may cut a session of this class without waiting for it under
    /// ``PinnedSessionPolicy/cut``: an idle pin that would never let go by itself.
    public var isIdlePin: Bool { self == .autoIncrementPin || self == .sessionPin }
}

/// A session holding the old writer, with its class.
public struct ClassifiedHolder: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The session, as the drain reports it.
    public var holder: SessionHolder
    /// Its class.
    public var holderClass: DrainHolderClass

    /// Creates a classified holder.
    public init(holder: SessionHolder, holderClass: DrainHolderClass) {
        self.holder = holder
        self.holderClass = holderClass
    }

    public var description: String { "\(holderClass): \(holder)" }
}

/// The drain's decisions about the sessions that hold the old writer: pure functions of what the drain observed
/// (`ConnUsed` polls and `stats_mysql_processlist` rows) and the policy. The executor performs the reads and acts on
/// the verdict; these functions never do I/O.
public enum DrainClassifier {
    /// The class of one processlist row.
    public static func holderClass(of entry: ProcesslistEntry) -> DrainHolderClass {
        guard let flags = entry.statusFlags else { return .unknown }
        if flags & SessionPins.transactionFlag != 0 { return .openTransaction }
        if entry.command.lowercased() == "query" { return .runningStatement }
        if SessionPins.sessionLongFlags.contains(where: { flags & $0.bit != 0 }) { return .sessionPin }
        return .autoIncrementPin
    }

    /// The rows of `pins`, classified.
    public static func classify(_ pins: SessionPins) -> [ClassifiedHolder] {
        pins.sessions.map { ClassifiedHolder(holder: SessionPins.holder($0.entry, node: $0.node), holderClass: holderClass(of: $0.entry)) }
    }

    /// Whether the drain should read the processlist now: only after `busyPolls` consecutive polls showed
    /// `ConnUsed` above 0. ProxySQL's `ConnUsed` is almost, not always, immediate (one poll in ten after a COMMIT's
    /// acknowledgement may still count the connection): a single late poll must never make the switch cut sessions.
    public static func shouldClassify(consecutiveBusyPolls busyPolls: Int) -> Bool { busyPolls >= 2 }

    /// What the drain does about the holders it found before its deadline.
    public enum Verdict: Sendable, Hashable {
        /// Keep polling: nothing to cut yet (a transaction or a statement is in flight, the policy waits, or the
        /// processlist showed no holder: a late `ConnUsed`).
        case keepWaiting
        /// Every holder is an idle pin that will not let go by itself: end the drain now; `OFFLINE_HARD` cuts them.
        case cutIdlePins([ClassifiedHolder])
        /// Some holders are idle pins, others are in flight: cut the idle pins now (admin `KILL CONNECTION`: their
        /// clients see a closed connection on their next statement, which was not executed, and reconnect; the
        /// reconnect waits for the new writer) and keep waiting for the rest. Sessions pinned for life that keep
        /// writing are each seen idle between two statements, so the drain converges instead of waiting for all of
        /// them to be idle at the same poll.
        case cutIdlePinsAndKeepWaiting([ClassifiedHolder])
    }

    /// The verdict for `holders` under `policy`.
    public static func verdict(holders: [ClassifiedHolder], policy: CutoverPolicy) -> Verdict {
        guard policy.pinnedSessions == .cut, !holders.isEmpty else { return .keepWaiting }
        if holders.allSatisfy(\.holderClass.isIdlePin) { return .cutIdlePins(holders) }
        let idle = holders.filter(\.holderClass.isIdlePin)
        return idle.isEmpty ? .keepWaiting : .cutIdlePinsAndKeepWaiting(idle)
    }

    /// At the drain deadline: the holders that are idle pins are cut under ``PinnedSessionPolicy/cut`` when nothing
    /// else holds on; otherwise the deadline policy decides (nil).
    public static func deadlineVerdict(holders: [ClassifiedHolder], policy: CutoverPolicy) -> Verdict? {
        guard policy.pinnedSessions == .cut, !holders.isEmpty, holders.allSatisfy(\.holderClass.isIdlePin) else {
            return nil
        }
        return .cutIdlePins(holders)
    }

    /// Counts by class, in ``DrainHolderClass`` order, without empty classes.
    public static func counts(_ holders: [ClassifiedHolder]) -> [(DrainHolderClass, Int)] {
        DrainHolderClass.allCases.compactMap { holderClass in
            let count = holders.filter { $0.holderClass == holderClass }.count
            return count > 0 ? (holderClass, count) : nil
        }
    }
}

/// What the drain does with sessions that hold the old writer only through an idle pin (an auto-increment insert
/// pin, a session variable, a lock): they never let go by themselves while their client keeps them.
public enum PinnedSessionPolicy: String, Sendable, Hashable, Codable {
    /// Wait for them like for transactions, up to the drain deadline (the behaviour before issue #18).
    case wait
    /// Read who holds the old writer once two consecutive `ConnUsed` polls showed it held (one late poll is
    /// tolerated). When only idle pins hold it, end the drain: `OFFLINE_HARD` cuts them (their next statement gets
    /// error 2013 without being executed, their client reconnects and lands on the new writer). When idle pins hold
    /// it beside work in flight, close them now (admin `KILL CONNECTION`; same effect for their clients) and keep
    /// waiting. Open transactions and running statements are still waited for, up to the drain deadline.
    case cut
}

/// What the auto-increment pin decision rests on: ProxySQL's `stats_mysql_query_digest`, per node.
public struct LastInsertIDEvidence: Sendable, Hashable, Codable {
    /// Digests read, summed over the nodes that answered.
    public var digestsRead: Int
    /// Digest texts that call `LAST_INSERT_ID()` (an application reading the id in a separate statement), up to 5.
    public var lastInsertIDDigests: [String]
    /// Nodes whose digest table could not be read, with the reason.
    public var unreadable: [String]

    /// Creates evidence.
    public init(digestsRead: Int, lastInsertIDDigests: [String], unreadable: [String] = []) {
        self.digestsRead = digestsRead
        self.lastInsertIDDigests = lastInsertIDDigests
        self.unreadable = unreadable
    }
}

/// The decision to relax the auto-increment pin for the window, and why (pure).
public struct AutoIncrementPinDecision: Sendable, Hashable, Codable {
    /// Whether `mysql-auto_increment_delay_multiplex` is set to 0 for the window.
    public var relax: Bool
    /// Why, in a sentence for preflight, the progress output and the journal.
    public var reason: String

    /// Creates a decision.
    public init(relax: Bool, reason: String) {
        self.relax = relax
        self.reason = reason
    }

    /// Decides from the policy and, for ``AutoIncrementPinPolicy/auto``, the evidence (nil: not read).
    public static func decide(policy: AutoIncrementPinPolicy, evidence: LastInsertIDEvidence?) -> AutoIncrementPinDecision {
        switch policy {
        case .keep:
            return AutoIncrementPinDecision(relax: false, reason: "policy.auto-increment-pin is keep")
        case .relax:
            return AutoIncrementPinDecision(relax: true, reason: "policy.auto-increment-pin is relax")
        case .auto:
            guard let evidence else {
                return AutoIncrementPinDecision(
                    relax: false, reason: "stats_mysql_query_digest was not read: the pin is kept (no evidence)")
            }
            if !evidence.unreadable.isEmpty {
                return AutoIncrementPinDecision(
                    relax: false,
                    reason: "stats_mysql_query_digest could not be read on \(evidence.unreadable.joined(separator: ", ")): "
                        + "the pin is kept (no evidence)")
            }
            if !evidence.lastInsertIDDigests.isEmpty {
                return AutoIncrementPinDecision(
                    relax: false,
                    reason: "the application reads LAST_INSERT_ID() in a separate statement ("
                        + evidence.lastInsertIDDigests.joined(separator: "; ")
                        + "): the pin is kept, and sessions it holds are cut at OFFLINE_HARD (policy.pinned-sessions)")
            }
            if evidence.digestsRead == 0 {
                return AutoIncrementPinDecision(
                    relax: false,
                    reason: "stats_mysql_query_digest is empty (mysql-query_digests off, or just reset): the pin is "
                        + "kept (no evidence)")
            }
            return AutoIncrementPinDecision(
                relax: true,
                reason: "none of \(evidence.digestsRead) query digests calls LAST_INSERT_ID(): the pin is relaxed for "
                    + "the window so sessions drain per statement (drivers that read the id from the INSERT's answer "
                    + "are not affected)")
        }
    }
}
