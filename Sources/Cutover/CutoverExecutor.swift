public import Logging

/// A statement sent while performing an action, as journaled: the endpoint and the statement with literals
/// redacted.
public struct ExecutedStatement: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The endpoint (`proxysql-1 (127.0.0.1:6032)`, `source (10.0.0.5:3306)`).
    public var endpoint: String
    /// The statement, secrets and string literals masked.
    public var statement: String
    /// What came of it, where the journal says so: the replication login probe's result (`logged in; grants: …`,
    /// `refused (1045): …`). Nil for every other statement (their results are in the step's event).
    public var outcome: String?

    /// Creates a record.
    public init(endpoint: String, statement: String, outcome: String? = nil) {
        self.endpoint = endpoint
        self.statement = statement
        self.outcome = outcome
    }

    public var description: String { "[\(endpoint)] \(statement)" + (outcome.map { " -> \($0)" } ?? "") }
}

/// The outcome of one action: the event to feed back and the statements that were sent.
public struct CutoverStepResult: Sendable {
    /// The event to feed back to the state machine.
    public var event: CutoverEvent
    /// The statements sent (or, in a dry run, that would be sent) while performing the action.
    public var statements: [ExecutedStatement]

    /// Creates a result.
    public init(event: CutoverEvent, statements: [ExecutedStatement] = []) {
        self.event = event
        self.statements = statements
    }
}

/// What an executor gets besides the action: the run's policy and clock, a progress sink and a logger.
public struct CutoverExecutionContext: Sendable {
    /// Time since the start of the run, on the runner's clock. Events carry these offsets.
    public let elapsed: @Sendable () -> Duration
    /// Reports progress of long waits (drain, catch-up) to the run's event stream.
    public let report: @Sendable (CutoverProgress) -> Void
    /// The run's logger (with `cutover.run_id` and `cutover.operation` metadata).
    public let logger: Logger
    /// Whether the operator asked the run to stop (``CutoverRunner/requestGracefulShutdown()``). A wait that may
    /// end early without harm (the drain) checks it and ends with a "stopped" event, so that the run stops at once
    /// instead of waiting out the step's deadline.
    public let isStopRequested: @Sendable () -> Bool
    /// The policy of the run: the configuration's for a new run, the journaled one for a resume (the policy the state
    /// machine runs under). The one home of the policy for the executor: ``LiveCutoverExecutor`` reads its guards'
    /// limits and its bounds from here.
    public let policy: CutoverPolicy
    /// Sleeps on the run's clock (the clock ``elapsed`` is read from), so that a wait measured with ``elapsed`` and
    /// paced with this stays on one clock.
    public let sleep: @Sendable (Duration) async throws -> Void
    /// What the run's journal held when it was opened (the earlier writer switch whose fence a failback proves); nil
    /// for a run without a journal (dry runs, tests).
    public let journalHistory: JournalHistory?

    /// Creates a context.
    ///
    /// - Parameters:
    ///   - elapsed: time since the start of the run.
    ///   - report: where progress of long waits goes.
    ///   - logger: the run's logger.
    ///   - isStopRequested: whether a stop was requested; never, by default.
    ///   - policy: the run's policy.
    ///   - sleep: sleeps on the run's clock; the continuous clock by default.
    ///   - journalHistory: what the run's journal held when it was opened; nil by default (no journal).
    public init(
        elapsed: @escaping @Sendable () -> Duration,
        report: @escaping @Sendable (CutoverProgress) -> Void,
        logger: Logger,
        isStopRequested: @escaping @Sendable () -> Bool = { false },
        policy: CutoverPolicy,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        journalHistory: JournalHistory? = nil
    ) {
        self.elapsed = elapsed
        self.report = report
        self.logger = logger
        self.isStopRequested = isStopRequested
        self.policy = policy
        self.sleep = sleep
        self.journalHistory = journalHistory
    }
}

/// Performs the actions of a `CutoverStateMachine` against real (or fake, or dry-run) endpoints.
///
/// An executor never throws: a failure is an event (``CutoverEvent/stepFailed(_:at:)``) with a
/// message naming the endpoint and the step. Every wait it performs is bounded by the action's timeout.
public protocol CutoverExecutor: Sendable {
    /// Performs `action` and describes its outcome.
    func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult
}
