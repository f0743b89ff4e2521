/// What the replication settle before a writer switch saw (step `settleReplication`, outside the write window).
///
/// While writes still flow, the executor reads the old writer's current position and waits on the new writer until
/// it has executed it, again and again: once one wait returns within ``CutoverPolicy/replicationSettleThreshold``,
/// the new writer is as close to the old one as the write load allows, and the catch-up inside the window that
/// follows takes about as long as that wait. These are the facts; ``verdict(threshold:deadline:at:)`` decides (the
/// executor's loop and the state machine both ask it).
public struct ReplicationSettleObservation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// When the settle started (offset from the start of the run).
    public var startedAt: Duration
    /// How many waits ran (a wait cut short by the deadline counts).
    public var rounds: Int
    /// How long the last wait took (nil before the first one ended).
    public var lastWait: Duration?
    /// The shortest wait of the settle (nil before the first one ended).
    public var shortestWait: Duration?
    /// Whether the last wait reached the settle's deadline before the new writer executed the position.
    public var timedOut: Bool
    /// Whether the operator asked the run to stop during the settle (it ended early).
    public var stopped: Bool
    /// The new writer's own lag report (`Seconds_Behind_Master`/`_Source`), read when it did not settle; nil
    /// otherwise or when it could not be read.
    public var secondsBehind: Int?
    /// The old writer's position the last wait was for.
    public var lastPosition: ReplicationCoordinate?

    /// Creates an observation of a settle that started at `startedAt` and has run no wait yet.
    public init(
        startedAt: Duration,
        rounds: Int = 0,
        lastWait: Duration? = nil,
        shortestWait: Duration? = nil,
        timedOut: Bool = false,
        stopped: Bool = false,
        secondsBehind: Int? = nil,
        lastPosition: ReplicationCoordinate? = nil
    ) {
        self.startedAt = startedAt
        self.rounds = rounds
        self.lastWait = lastWait
        self.shortestWait = shortestWait
        self.timedOut = timedOut
        self.stopped = stopped
        self.secondsBehind = secondsBehind
        self.lastPosition = lastPosition
    }

    /// Records one wait for `position` that took `duration` (`timedOut`: it ended at the deadline, unfinished).
    public mutating func recordWait(_ duration: Duration, for position: ReplicationCoordinate, timedOut: Bool = false) {
        rounds += 1
        lastWait = duration
        lastPosition = position
        self.timedOut = timedOut
        if !timedOut { shortestWait = min(shortestWait ?? duration, duration) }
    }

    /// What to do after the waits so far.
    public enum Verdict: Sendable, Hashable {
        /// The last wait returned within the threshold: open the window.
        case settled
        /// Read the old writer's position again and wait, at most `timeout` (what is left of the deadline).
        case waitAgain(timeout: Duration)
        /// The deadline passed (or the last wait reached it) without a wait within the threshold.
        case gaveUp
        /// The operator asked the run to stop.
        case stopped
    }

    /// The verdict at offset `now`, for a settle bounded by `deadline` (from ``startedAt``) that needs one wait
    /// within `threshold`.
    public func verdict(threshold: Duration, deadline: Duration, at now: Duration) -> Verdict {
        if stopped { return .stopped }
        if let lastWait, !timedOut, lastWait <= threshold { return .settled }
        let remaining = deadline - (now - startedAt)
        if timedOut || remaining <= .zero { return .gaveUp }
        return .waitAgain(timeout: remaining)
    }

    /// Why the run does not open the window, and what to do about it (for a settle that gave up).
    func refusal(of database: DatabaseRole, policy: CutoverPolicy) -> String {
        var measured: [String] = []
        if let lastWait {
            measured.append(
                timedOut
                    ? "its last wait for \(lastPosition.map { "\($0)" } ?? "the old writer's position") was still "
                        + "running after \(Self.readable(lastWait))"
                    : "its last wait for the old writer's position took \(Self.readable(lastWait))")
        }
        if let shortestWait, shortestWait != lastWait { measured.append("the shortest \(Self.readable(shortestWait))") }
        if let secondsBehind { measured.append("it reports \(secondsBehind) s behind") }
        let facts = measured.isEmpty ? "" : " (" + measured.joined(separator: ", ") + ")"
        return "replication did not settle: \(database) did not come within \(Self.readable(policy.replicationSettleThreshold)) of "
            + "the old writer in \(Self.readable(policy.replicationSettleDeadline)), \(rounds) wait(s)\(facts); the window was not "
            + "opened. Reduce the write load, or add applier threads on \(database) (replica_parallel_workers / "
            + "slave_parallel_threads), then run again; raising policy.replication-settle-threshold lengthens the "
            + "catch-up inside the window by as much"
    }

    public var description: String {
        var text = "\(rounds) wait(s)"
        if let lastWait { text += ", last \(Self.readable(lastWait))" + (timedOut ? " (deadline)" : "") }
        if let shortestWait { text += ", shortest \(Self.readable(shortestWait))" }
        if stopped { text += ", stopped on request" }
        if let secondsBehind { text += ", \(secondsBehind) s behind" }
        return text
    }

    /// `12.3 ms`, `2.5 s`: durations in messages.
    static func readable(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Double(seconds) * 1_000 + Double(attoseconds) / 1e15
        if milliseconds >= 1_000 { return "\((milliseconds / 100).rounded() / 10) s" }
        return "\((milliseconds * 10).rounded() / 10) ms"
    }
}
