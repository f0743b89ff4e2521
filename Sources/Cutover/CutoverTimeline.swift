/// The measured moments of a run (offsets from its start) and the write window's components.
public struct CutoverTimeline: Sendable, Hashable, Codable {
    /// A moment of the run.
    public enum Mark: String, Sendable, Hashable, Codable, CaseIterable {
        /// The auto-increment pins taken before the relaxation ran out (or the settle's bound passed), before the
        /// window opens.
        case pinsSettled
        /// The replication settle started (outside the window, writes still flow).
        case settleStarted
        /// A wait on the new writer for the old writer's current position returned within the settle threshold:
        /// the window may open.
        case replicationSettled
        /// The old server was set OFFLINE_SOFT (the write window opens for a writer switch).
        case windowOpened
        /// In-flight work on the old server finished (or the drain deadline passed).
        case drained
        /// The old server was set OFFLINE_HARD.
        case hardOffline
        /// Sessions still attached to the old writer were closed.
        case sessionsClosed
        /// The old writer's database was made read-only.
        case fenced
        /// The old writer's final position was read.
        case finalPositionRead
        /// The new writer executed the final position.
        case caughtUp
        /// The new writer's own position (start of reverse replication) was read.
        case newWriterPositionRead
        /// The new writer was set ONLINE (the window closes; the point of no return).
        case windowClosed
        /// The new reader was set ONLINE.
        case newReaderOnline
        /// A step failed before the point of no return.
        case failed
        /// A rollback put the old server back ONLINE.
        case restored
    }

    /// When each mark happened, as an offset from the start of the run.
    public var marks: [Mark: Duration] = [:]
    /// Sessions that still held the old server when the drain deadline passed.
    public var holdersAtDeadline: [SessionHolder] = []
    /// Whether the drain deadline passed and the policy forced the switch.
    public var forcedDrain = false
    /// Application sessions cut on the old writer (their clients saw an error; some writes may have committed and
    /// are on the target after catch-up).
    public var sessionsCut = 0
    /// The old writer's position read after the fence.
    public var finalPosition: ReplicationCoordinate?
    /// The new writer's own position, where reverse replication starts.
    public var newWriterPosition: ReplicationCoordinate?
    /// Sessions held on the old writer only by an idle pin, cut at `OFFLINE_HARD` under
    /// ``PinnedSessionPolicy/cut`` (classified; each class says what its client saw).
    public var idlePinsCut: [ClassifiedHolder] = []
    /// The guards' decision about the auto-increment pin, with its reason (nil: not taken, e.g. a reader switch).
    public var autoIncrementPin: AutoIncrementPinDecision?
    /// Whether the run reached its end (set when it finishes).
    public var finished = false
    /// What the replication settle before the window saw (nil when the run had none).
    public var replicationSettle: ReplicationSettleObservation?
    /// What the watch right after the new writer's `ONLINE` saw and did (nil: no watch, #14 item 8).
    public var newWriterWatch: ShunnedWriterWatch?
    /// What the operator must still do by hand after the run (for example the option-file lines that keep the old
    /// writer read-only across a restart, see ``ReadOnlyDurability``); empty when nothing.
    public var followUps: [String] = []

    /// Creates an empty timeline.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case marks, holdersAtDeadline, forcedDrain, sessionsCut, finalPosition, newWriterPosition, finished, followUps,
            idlePinsCut, autoIncrementPin, replicationSettle, newWriterWatch
    }

    /// Decodes a timeline; `followUps`, `replicationSettle` and `newWriterWatch` are absent in journals written before they existed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        marks = try container.decode([Mark: Duration].self, forKey: .marks)
        holdersAtDeadline = try container.decode([SessionHolder].self, forKey: .holdersAtDeadline)
        forcedDrain = try container.decode(Bool.self, forKey: .forcedDrain)
        sessionsCut = try container.decode(Int.self, forKey: .sessionsCut)
        finalPosition = try container.decodeIfPresent(ReplicationCoordinate.self, forKey: .finalPosition)
        newWriterPosition = try container.decodeIfPresent(ReplicationCoordinate.self, forKey: .newWriterPosition)
        finished = try container.decode(Bool.self, forKey: .finished)
        followUps = try container.decodeIfPresent([String].self, forKey: .followUps) ?? []
        idlePinsCut = try container.decodeIfPresent([ClassifiedHolder].self, forKey: .idlePinsCut) ?? []
        autoIncrementPin = try container.decodeIfPresent(AutoIncrementPinDecision.self, forKey: .autoIncrementPin)
        replicationSettle = try container.decodeIfPresent(ReplicationSettleObservation.self, forKey: .replicationSettle)
        newWriterWatch = try container.decodeIfPresent(ShunnedWriterWatch.self, forKey: .newWriterWatch)
    }

    mutating func mark(_ mark: Mark, at offset: Duration) {
        if marks[mark] == nil { marks[mark] = offset }
    }

    private func span(_ from: Mark, _ to: Mark) -> Duration? {
        guard let start = marks[from], let end = marks[to] else { return nil }
        return end - start
    }

    /// The replication settle before the window (outside it: writes still flow), settled or not.
    public var settle: Duration? { span(.settleStarted, .replicationSettled) ?? span(.settleStarted, .failed) }

    /// The write window: OFFLINE_SOFT of the old writer to ONLINE of the new one (or back ONLINE of the old one
    /// after a rollback).
    public var window: Duration? { span(.windowOpened, .windowClosed) ?? span(.windowOpened, .restored) }

    /// OFFLINE_SOFT until drained.
    public var drain: Duration? { span(.windowOpened, .drained) }

    /// Drained until the final position was read: OFFLINE_HARD, closing sessions, the database fence.
    public var fence: Duration? { span(.drained, .finalPositionRead) }

    /// Final position read until the new writer executed it.
    public var catchUp: Duration? { span(.finalPositionRead, .caughtUp) }

    /// Caught up until the new writer was ONLINE.
    public var switchOver: Duration? { span(.caughtUp, .windowClosed) }
}
