/// The drain's schedule, as a pure state machine (issue #18): what it observed goes in (a `ConnUsed` poll, a
/// classified `stats_mysql_processlist` read, the idle pins a kill closed, a sleep), the next read or the end comes
/// out. ``LiveCutoverExecutor`` performs the reads and the kills; every decision is here, with no I/O and no clock
/// read (times are the offsets the executor passes in).
///
/// The schedule, under ``PinnedSessionPolicy/cut``:
///
/// 1. Poll `ConnUsed` every `interval`. 0 ends the drain (``Ending/drained(at:)``, or
///    ``Ending/drainedAfterCuttingIdlePins(_:at:)`` when idle pins were closed on the way).
/// 2. After two consecutive busy polls (one late `ConnUsed` is tolerated:
///    ``DrainClassifier/shouldClassify(consecutiveBusyPolls:)``), read who holds the server and classify them
///    (``DrainClassifier/verdict(holders:policy:)``): only idle pins end the drain at once (`OFFLINE_HARD` cuts them
///    at their next statement); idle pins beside work in flight are killed now.
/// 3. **The chase**: while the holders include idle pins or statements running on the old server (sessions pinned
///    for life that keep writing are only ever seen idle between two statements), the processlist read *is* the
///    poll: the next one follows at once (no `ConnUsed` poll, no 10 ms spacing), each killing the pins it finds
///    idle, until a read shows no holder (then one `ConnUsed` poll confirms the drain) or only transactions (then
///    the ordinary cadence: `ConnUsed` every `interval`, the processlist at most every ``classifyEvery``). Before
///    this chase the drain re-read the processlist only every 10 ms behind a `ConnUsed` poll and a sleep, so busy
///    pinned clients, each caught idle with a small probability per read, held a writer switch for 140–260 ms.
/// 4. At the deadline, read the holders once more: only idle pins are cut (``DrainClassifier/deadlineVerdict(holders:policy:)``),
///    anything else is the deadline policy's (``Ending/deadlinePassed(at:)``).
///
/// Under ``PinnedSessionPolicy/wait`` only steps 1 and 4 happen (the behaviour before issue #18).
public struct DrainSchedule: Sendable, Hashable {
    /// What the executor does next.
    public enum Next: Sendable, Hashable {
        /// Read `ConnUsed` of the old server on every node; answer with ``Observation/pool(used:at:)``.
        case pollPool
        /// Read who holds the old server and classify them; answer with ``Observation/holders(_:at:)``.
        case readHolders
        /// Kill these idle pins (admin `KILL CONNECTION`); answer with ``Observation/killed(_:at:)``.
        case kill([ClassifiedHolder])
        /// Sleep this long; answer with ``Observation/slept(at:)``.
        case sleep(Duration)
        /// The drain is over.
        case finish(Ending)
    }

    /// How the drain ended.
    public enum Ending: Sendable, Hashable {
        /// `ConnUsed` reached 0 with nothing cut.
        case drained(at: Duration)
        /// `ConnUsed` reached 0 after idle pins were killed on the way (reported by class).
        case drainedAfterCuttingIdlePins([ClassifiedHolder], at: Duration)
        /// Only idle pins hold the server: the drain ends and `OFFLINE_HARD` cuts them (with those killed before).
        case idlePinsOnly([ClassifiedHolder], at: Duration)
        /// The deadline passed with something other than idle pins holding on (or the holders could not be read):
        /// the deadline policy decides.
        case deadlinePassed(at: Duration)
    }

    /// What the executor observed.
    public enum Observation: Sendable, Hashable {
        /// The summed `ConnUsed` of the old server.
        case pool(used: Int, at: Duration)
        /// The classified holders; nil when a node's processlist could not be read.
        case holders([ClassifiedHolder]?, at: Duration)
        /// The idle pins the kill closed (those whose kill failed are left out).
        case killed([ClassifiedHolder], at: Duration)
        /// A sleep ended.
        case slept(at: Duration)
    }

    /// A processlist read outside the chase costs about as much as a pool poll on ProxySQL: at most one every
    /// `max(interval, classifyEvery)`.
    public static let classifyEvery: Duration = .milliseconds(10)

    /// Whether idle pins are classified and cut (``PinnedSessionPolicy/cut``).
    public let classifies: Bool
    /// The drain's start, deadline and poll interval (offsets of the executor's clock).
    public let start: Duration
    public let timeout: Duration
    public let interval: Duration

    /// Consecutive busy `ConnUsed` polls.
    public private(set) var busyPolls = 0
    /// The idle pins killed so far.
    public private(set) var cut: [ClassifiedHolder] = []
    /// Whether the processlist read is the poll (step 3).
    public private(set) var chasing = false
    /// Whether the pending holders read is the deadline's.
    public private(set) var readingForDeadline = false
    /// Processlist reads so far.
    public private(set) var holderReads = 0
    private var lastHoldersRead: Duration?

    /// A drain starting at `start`.
    public init(policy: CutoverPolicy, start: Duration, timeout: Duration, interval: Duration) {
        self.classifies = policy.pinnedSessions == .cut
        self.start = start
        self.timeout = timeout
        self.interval = interval
    }

    private var policy: CutoverPolicy { CutoverPolicy(pinnedSessions: classifies ? .cut : .wait) }

    /// The first step: a `ConnUsed` poll.
    public var first: Next { .pollPool }

    /// The next step after `observation`.
    public mutating func next(after observation: Observation) -> Next {
        switch observation {
        case .pool(let used, let at):
            if used == 0 {
                busyPolls = 0
                return .finish(cut.isEmpty ? .drained(at: at) : .drainedAfterCuttingIdlePins(cut, at: at))
            }
            busyPolls += 1
            if at - start >= timeout {
                readingForDeadline = true
                holderReads += 1
                return .readHolders
            }
            if classifies, DrainClassifier.shouldClassify(consecutiveBusyPolls: busyPolls),
                lastHoldersRead.map({ at - $0 >= max(interval, Self.classifyEvery) }) ?? true
            {
                holderReads += 1
                return .readHolders
            }
            return .sleep(interval)

        case .holders(let holders, let at):
            lastHoldersRead = at
            if readingForDeadline {
                if let holders, case .cutIdlePins(let idle)? = DrainClassifier.deadlineVerdict(holders: holders, policy: policy) {
                    return .finish(.idlePinsOnly(cut + idle, at: at))
                }
                return .finish(.deadlinePassed(at: at))
            }
            guard let holders else {
                // Unreadable: back to the ordinary cadence; the deadline read decides if it stays so.
                chasing = false
                return .sleep(interval)
            }
            switch DrainClassifier.verdict(holders: holders, policy: policy) {
            case .cutIdlePins(let idle):
                return .finish(.idlePinsOnly(cut + idle, at: at))
            case .cutIdlePinsAndKeepWaiting(let idle):
                chasing = true
                return .kill(idle)
            case .keepWaiting:
                if holders.isEmpty {
                    // Nobody holds the server by the processlist: one `ConnUsed` poll confirms (or was late).
                    chasing = false
                    return .pollPool
                }
                // Statements running on the old server may be sessions pinned for life between two statements:
                // keep reading. Only transactions (or sessions without pin flags): the ordinary cadence.
                chasing = holders.contains { $0.holderClass == .runningStatement }
                return chasing ? nextChaseRead(at: at) : .sleep(interval)
            }

        case .killed(let killed, let at):
            cut += killed
            return nextChaseRead(at: at)

        case .slept(let at):
            return chasing ? nextChaseRead(at: at) : .pollPool
        }
    }

    /// In the chase: the next processlist read, or the deadline's `ConnUsed` poll first once it passed.
    private mutating func nextChaseRead(at: Duration) -> Next {
        if at - start >= timeout {
            chasing = false
            return .pollPool
        }
        holderReads += 1
        return .readHolders
    }
}
