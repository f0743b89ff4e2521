import Cutover
import CutoverSandbox

/// What one writer switch did, as measured while it ran.
struct RunRecord: Sendable {
    var index: Int
    var operation: CutoverOperation
    /// `completed`, or why not.
    var outcome: String
    var completed: Bool
    /// Just before the runner (or the baseline) was created, and just after it returned.
    var started: ContinuousClock.Instant
    var ended: ContinuousClock.Instant
    var windowOpened: ContinuousClock.Instant?
    var drained: ContinuousClock.Instant?
    var finalPositionRead: ContinuousClock.Instant?
    var caughtUp: ContinuousClock.Instant?
    var windowClosed: ContinuousClock.Instant?
    /// When the new writer's ONLINE was about to be sent (its UPDATE and LOAD), for the write fences: the earliest
    /// instant it can be (offsets from the instant before the runner's clock started), so a fence that ends here
    /// never ends later than the truth.
    var onlineSent: ContinuousClock.Instant?
    /// Where the old writer's fence starts: the window's close from the latest instant the runner's clock can have
    /// started (just after its init), so the fence never starts earlier than the truth. Nil: `windowClosed`.
    var fenceFrom: ContinuousClock.Instant?
    var sessionsCut: Int
    /// Idle pinned sessions the drain cut (issue #18), by class.
    var idlePinsCut: [ClassifiedHolder] = []
    /// Every statement the procedure sent during the run.
    var statements: [TimedStatement]
    /// How long the burst that made the lag took to commit on the old writer (0 without a burst).
    var burst: Duration
    /// The settle of auto-increment pins before the window (relaxed pin only): how long it took, and whether it
    /// ended at its bound with sessions still holding the old writer.
    var settle: Duration?
    var settleBoundReached = false
    /// What the canary saw during the run (runs of ours only).
    var canary: CanaryReport?
    /// The tool's replication settle before the window (issue #19): how long, and how many waits.
    var replicationSettle: Duration?
    var replicationSettleRounds: Int?
    /// The old writer's final position read at the fence (for `--evidence-directory`).
    var finalPosition: ReplicationCoordinate?
    /// The tool refused before changing anything (its guards), or before the window opened and rolled back everything
    /// it had done (the replication settle under this machine's load, for example): the topology is as before, and the
    /// switch can be tried again.
    var refusedBeforeWindow = false
    /// The watch of the new writer after its ONLINE (#14 item 8), from the timeline.
    var newWriterWatch: ShunnedWriterWatch?
    /// The hog on the new writer (shunned-writer scenarios only).
    var hog: ShunnedWriterHog.Record?

    /// Builds the record of a run of ours from its timeline (offsets from `started`, which was taken before the
    /// runner existed, so `started + offset` is never later than the real moment).
    init(
        index: Int,
        operation: CutoverOperation,
        report: CutoverReport,
        started: ContinuousClock.Instant,
        originLatest: ContinuousClock.Instant? = nil,
        ended: ContinuousClock.Instant,
        statements: [TimedStatement],
        burst: Duration,
        settle: (start: Duration, boundReached: Bool)? = nil,
        onlineSent: Duration? = nil
    ) {
        self.index = index
        self.operation = operation
        self.completed = report.outcome == .completed
        self.outcome = completed ? "completed" : "\(report.outcome)"
        self.started = started
        self.ended = ended
        let timeline = report.timeline
        func at(_ mark: CutoverTimeline.Mark) -> ContinuousClock.Instant? { timeline.marks[mark].map { started + $0 } }
        windowOpened = at(.windowOpened)
        drained = at(.drained)
        finalPositionRead = at(.finalPositionRead)
        caughtUp = at(.caughtUp)
        windowClosed = at(.windowClosed)
        fenceFrom = timeline.marks[.windowClosed].map { (originLatest ?? started) + $0 }
        self.onlineSent = onlineSent.map { started + $0 }
        sessionsCut = timeline.sessionsCut
        idlePinsCut = timeline.idlePinsCut
        self.statements = statements
        self.burst = burst
        replicationSettle = timeline.settle
        replicationSettleRounds = timeline.replicationSettle?.rounds
        finalPosition = timeline.finalPosition
        newWriterWatch = timeline.newWriterWatch
        switch report.outcome {
        case .rolledBack(_, let failures) where failures.isEmpty && timeline.marks[.windowOpened] == nil:
            refusedBeforeWindow = true
        case .refused:
            // The guards refused before anything was changed (replication lag over its budget on a loaded machine).
            refusedBeforeWindow = true
        default:
            break
        }
        if let settle, let end = timeline.marks[.pinsSettled] {
            self.settle = end - settle.start
            settleBoundReached = settle.boundReached
        }
    }

    /// Builds the record of a baseline run.
    init(
        index: Int,
        operation: CutoverOperation,
        marks: BaselineProcedure.Marks?,
        failure: (any Error)?,
        started: ContinuousClock.Instant,
        ended: ContinuousClock.Instant,
        statements: [TimedStatement],
        burst: Duration
    ) {
        self.index = index
        self.operation = operation
        self.completed = failure == nil
        self.outcome = failure.map { "failed: \($0)" } ?? "completed"
        self.started = started
        self.ended = ended
        windowOpened = marks?.windowOpened
        drained = marks?.drained
        finalPositionRead = marks?.finalPositionRead
        caughtUp = marks?.caughtUp
        windowClosed = marks?.windowClosed
        onlineSent = marks?.replicationSwitched
        sessionsCut = 0
        self.statements = statements
        self.burst = burst
    }

    private func span(_ from: ContinuousClock.Instant?, _ to: ContinuousClock.Instant?) -> Duration? {
        guard let from, let to else { return nil }
        return to - from
    }

    var window: Duration? { span(windowOpened, windowClosed) }
    var drain: Duration? { span(windowOpened, drained) }
    var fence: Duration? { span(drained, finalPositionRead) }
    var catchUp: Duration? { span(finalPositionRead, caughtUp) }
    var switchOver: Duration? { span(caughtUp, windowClosed) }
}

/// The numbers derived from a run and the write load's report.
struct RunAnalysis: Sendable {
    var record: RunRecord
    /// The longest interval without any acknowledged write that overlaps the window (the clients' view).
    var clientGap: Duration?
    /// Time from the window's opening until the last transaction in flight on the old writer ended (the drain
    /// part of the floor): 0 when nothing was in flight.
    var longestInFlight: Duration
    /// From the end of the last in-flight transaction (or the window's opening) until the drain was noticed.
    var drainNotice: Duration?
    /// Replication lag at the fence: how long the new writer needed to execute the final position (lower bound;
    /// for polling, the end of the last poll that still saw it behind).
    var lagAtFence: Duration
    /// The admin round trips the switch cannot do without, as measured in this run: the last pool-stats poll
    /// before the drain was seen, and each LOAD inside the window with the UPDATE just before it.
    var adminRoundTrips: Duration
    /// Client writes of this run (from its start to the next run's start) that failed or were ambiguous.
    var failed: Int
    var ambiguous: Int
    /// Error numbers seen by the clients in this run.
    var errorNumbers: [UInt32?: Int]
    /// Time spent in statements inside the window, per category, and the rest (sleeps, scheduling).
    var profile: [StatementKind: Duration]
    var outsideStatements: Duration?
    /// Shunned-writer runs (#14 item 8): the write load's longest interval without any acknowledged write that
    /// overlaps the whole run (runner start to return), whole: a shun outlasts the window.
    var runGap: Duration?

    var floor: Duration { longestInFlight + lagAtFence + adminRoundTrips }
    var aboveFloor: Duration? { record.window.map { $0 - floor } }

    init(record: RunRecord, report: WriteLoadReport, attributionEnd: ContinuousClock.Instant) {
        self.record = record
        let opened = record.windowOpened
        let closed = record.windowClosed

        if let opened, let closed {
            clientGap = report.longestGap(overlapping: opened...closed)?.duration
        } else {
            clientGap = nil
        }
        runGap = record.hog == nil ? nil : report.longestGap(overlapping: record.started...record.ended)?.duration

        // The poll that saw the drain: the transactions had ended on the server before it read, so a client's
        // acknowledgement arriving later (scheduling on a busy machine) must not stretch the in-flight time past it.
        let adminStatements = record.statements.filter { $0.endpoint.hasPrefix("proxysql") }
        let noticingPoll = record.drained.flatMap { drained in
            adminStatements.last { $0.kind == .adminPoolStats && $0.end <= drained + .microseconds(100) }
        }
        // In flight at the opening: sent before it, ended after it but by the time the drain was seen. A write
        // that ended later was not running on the old writer: it waited in ProxySQL's queue for the new one (sent
        // between the LOAD taking effect and its answer), or was cut at OFFLINE_HARD.
        var lastInFlightEnd: ContinuousClock.Instant?
        if let opened, let drained = record.drained {
            let bound = noticingPoll?.end ?? drained
            for write in report.records
            where write.sentAt < opened && write.outcome.instant > opened && write.outcome.instant <= bound {
                lastInFlightEnd = max(lastInFlightEnd ?? write.outcome.instant, write.outcome.instant)
            }
        }
        if let opened, let lastInFlightEnd, let drained = record.drained {
            longestInFlight = max(.zero, min(lastInFlightEnd, noticingPoll?.start ?? drained) - opened)
        } else {
            longestInFlight = .zero
        }
        if let opened, let drained = record.drained {
            drainNotice = drained - max(opened, min(lastInFlightEnd ?? opened, drained))
        } else {
            drainNotice = nil
        }

        // Lag at the fence, from the new writer's catch-up statements.
        let newEndpoint = record.operation.to == .target ? "aurora" : "source"
        var lag = Duration.zero
        if let read = record.finalPositionRead, let caught = record.caughtUp {
            let waits = record.statements.filter {
                // Started before the catch-up was reported: the status reads of the steps after it are not polls.
                $0.endpoint == newEndpoint && $0.start >= read && $0.start < caught
                    && ($0.kind == .waitFunction || $0.kind == .replicaStatus)
            }
            if let last = waits.last {
                if last.kind == .waitFunction {
                    lag = caught - read
                } else if waits.count >= 2 {
                    lag = waits[waits.count - 2].end - read
                }
            } else {
                lag = caught - read
            }
        }
        lagAtFence = max(lag, .zero)

        // Admin round trips inside the window.
        var admin = Duration.zero
        if let opened, let closed {
            if let poll = noticingPoll {
                admin += poll.duration
            }
            for (position, statement) in adminStatements.enumerated()
            where statement.kind == .adminLoad && statement.start > opened && statement.end <= closed {
                admin += statement.duration
                if let update = adminStatements[..<position].last(where: { $0.kind == .adminUpdate }),
                    update.start > opened
                {
                    admin += update.duration
                }
            }
        }
        adminRoundTrips = admin

        // Client errors of this run.
        var failed = 0
        var ambiguous = 0
        var numbers: [UInt32?: Int] = [:]
        for write in report.records where write.outcome.instant >= record.started && write.outcome.instant < attributionEnd {
            switch write.outcome {
            case .acknowledged: continue
            case .failed(_, let error):
                failed += 1
                numbers[error.number, default: 0] += 1
            case .ambiguous(_, let error):
                ambiguous += 1
                numbers[error.number, default: 0] += 1
            }
        }
        self.failed = failed
        self.ambiguous = ambiguous
        self.errorNumbers = numbers

        // Profile of the window.
        var profile: [StatementKind: Duration] = [:]
        var inside = Duration.zero
        if let opened, let closed {
            for statement in record.statements {
                let start = max(statement.start, opened)
                let end = min(statement.end, closed)
                guard end > start else { continue }
                profile[statement.kind, default: .zero] += end - start
                inside += end - start
            }
            outsideStatements = (closed - opened) - inside
        } else {
            outsideStatements = nil
        }
        self.profile = profile
    }
}
