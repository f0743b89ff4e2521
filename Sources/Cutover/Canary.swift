public import Logging

/// What applications see during a switch, measured: an application-like account writes a heartbeat row every few
/// milliseconds through one ProxySQL data port while the switch runs, and the longest time without an acknowledged
/// write is reported (#14 item 9).
///
/// The tool's own window (OFFLINE_SOFT taking effect → ONLINE taking effect) is not what clients feel: on a real
/// ProxySQL 2.7.1 a switch whose window was 25–50 ms left an independent client's worst statement at up to 1.4 s.
/// The canary is the number to watch on a real fleet, where nobody runs our write-load checker.
///
/// ```swift
/// let (report, canary) = try await Canary.measure(writer: writer, options: .init()) {
///     try await runner.run()
/// }
/// print(canary.longestGap)
/// ```
public enum Canary {
    /// How the canary writes.
    public struct Options: Sendable, Hashable {
        /// The pause between the start of one heartbeat and the next (a heartbeat that takes longer is followed at
        /// once by the next).
        public var interval: Duration
        /// How long one heartbeat may take before it counts as an error (a ProxySQL queueing a statement for a
        /// hostgroup without a usable server answers 9001 after `mysql-connect_timeout_server_max`, 10 s).
        public var writeTimeout: Duration

        /// Creates options: a heartbeat every 5 ms by default.
        public init(interval: Duration = .milliseconds(5), writeTimeout: Duration = .seconds(15)) {
            self.interval = interval
            self.writeTimeout = writeTimeout
        }
    }

    /// One heartbeat as the canary saw it; offsets from the start of the measurement.
    public struct Observation: Sendable, Hashable {
        /// The heartbeat's sequence number (from 1).
        public var sequence: Int
        /// When it was sent.
        public var sent: Duration
        /// When its answer (or error) arrived.
        public var answered: Duration
        /// The error, nil when the write was acknowledged.
        public var error: String?

        /// Creates an observation.
        public init(sequence: Int, sent: Duration, answered: Duration, error: String? = nil) {
            self.sequence = sequence
            self.sent = sent
            self.answered = answered
            self.error = error
        }
    }

    /// Runs `body` while `writer` writes heartbeats, then summarises what the canary saw.
    ///
    /// The heartbeats start after ``CanaryWriting/prepare()`` and before `body`, and stop once `body` has returned
    /// or thrown; ``CanaryWriting/cleanUp()`` runs afterwards either way. A canary that cannot prepare throws
    /// before `body` runs; a failing heartbeat is an observation, never an error of `body`.
    ///
    /// - Returns: `body`'s result and the canary's report.
    public static func measure<Result: Sendable>(
        writer: any CanaryWriting,
        options: Options = Options(),
        logger: Logger = Logger(label: "cutover.canary", factory: { _ in SwiftLogNoOpLogHandler() }),
        during body: () async throws -> Result
    ) async throws -> (Result, CanaryReport) {
        try await writer.prepare()
        let clock = ContinuousClock()
        let origin = clock.now
        let stop = CanaryStopFlag()
        let outcome: Swift.Result<Result, any Error>
        let observations: [Observation]
        (outcome, observations) = await withTaskGroup(of: [Observation].self) { group in
            group.addTask {
                await heartbeats(writer: writer, options: options, origin: origin, clock: clock, stop: stop)
            }
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
            await stop.raise()
            var observations: [Observation] = []
            for await part in group { observations += part }
            return (outcome, observations)
        }
        let end = clock.now - origin
        do {
            try await writer.cleanUp()
        } catch {
            logger.info("canary clean-up failed", metadata: ["cutover.error": "\(error)"])
        }
        let report = CanaryReport(observations: observations, span: .zero...end)
        return (try outcome.get(), report)
    }

    static func heartbeats(
        writer: any CanaryWriting,
        options: Options,
        origin: ContinuousClock.Instant,
        clock: ContinuousClock,
        stop: CanaryStopFlag
    ) async -> [Observation] {
        var observations: [Observation] = []
        var sequence = 0
        while await !stop.isRaised, !Task.isCancelled {
            sequence += 1
            let sent = clock.now
            var failure: String?
            do {
                try await writer.write(sequence: sequence, timeout: options.writeTimeout)
            } catch {
                failure = String(describing: error)
            }
            let answered = clock.now
            observations.append(
                Observation(sequence: sequence, sent: sent - origin, answered: answered - origin, error: failure)
            )
            let next = sent + options.interval
            if next > clock.now { try? await Task.sleep(until: next, clock: clock) }
        }
        return observations
    }
}

/// Set once the measured body has finished: the heartbeat loop stops at its next turn.
actor CanaryStopFlag {
    private(set) var isRaised = false
    func raise() { isRaised = true }
}

/// Writes the canary's heartbeats: through the proxy, as an application would.
public protocol CanaryWriting: Sendable {
    /// Creates the canary's table (through the proxy, so on the current writer, and replicated). Idempotent.
    func prepare() async throws
    /// Writes heartbeat `sequence`; returns once the write was acknowledged, throws its error otherwise. A lost
    /// connection is re-opened at the next call (the time it takes counts, as for an application).
    func write(sequence: Int, timeout: Duration) async throws
    /// Removes the canary's table (through the proxy, on whichever server is the writer now).
    func cleanUp() async throws
}

/// What the canary saw during one switch.
public struct CanaryReport: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Heartbeats acknowledged.
    public var acknowledged: Int
    /// Heartbeats that failed.
    public var errors: Int
    /// The longest time without an acknowledged heartbeat, from the start of the measurement to its end (the
    /// edges count: a canary acknowledged nothing at all reports the whole span).
    public var longestGap: Duration
    /// Where that gap started, as an offset from the start of the measurement.
    public var longestGapStartedAt: Duration
    /// The slowest single acknowledged heartbeat.
    public var slowestWrite: Duration?
    /// The first error's text, nil when none.
    public var firstError: String?
    /// How long the canary wrote.
    public var span: Duration
    /// With a canary per ProxySQL node: the node whose gap is the headline's (the worst), nil with one writer.
    public var worstNode: String? = nil
    /// With a canary per ProxySQL node: each node's own report, in the order the nodes were given (empty with one
    /// writer). The fields above are then the worst across them (``init(combining:)``).
    public var nodes: [CanaryNodeReport] = []

    /// Summarises `observations` made over `span` (offsets from the start of the measurement).
    public init(observations: [Canary.Observation], span: ClosedRange<Duration>) {
        let acknowledgedAt = observations.filter { $0.error == nil }.map(\.answered).sorted()
        let edges = [span.lowerBound] + acknowledgedAt.filter { span.contains($0) } + [span.upperBound]
        var gap = Duration.zero
        var start = span.lowerBound
        for (earlier, later) in zip(edges, edges.dropFirst()) where later - earlier > gap {
            gap = later - earlier
            start = earlier
        }
        acknowledged = acknowledgedAt.count
        errors = observations.count { $0.error != nil }
        longestGap = gap
        longestGapStartedAt = start
        slowestWrite = observations.filter { $0.error == nil }.map { $0.answered - $0.sent }.max()
        firstError = observations.first { $0.error != nil }?.error
        self.span = span.upperBound - span.lowerBound
    }

    public var description: String {
        let worst = worstNode.map { " on \($0) (the worst of \(nodes.count) nodes)" } ?? ""
        return "canary: longest gap \(Self.milliseconds(longestGap)) ms\(worst), \(acknowledged) write(s) acknowledged, "
            + "\(errors) error(s)" + (firstError.map { " (first: \($0))" } ?? "")
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) * 1_000 + Double(attoseconds) / 1e15
        return String(Int(value.rounded()))
    }
}
