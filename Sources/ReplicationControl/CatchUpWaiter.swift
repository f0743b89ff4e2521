public import Logging
public import MariaDB

/// How a catch-up wait ended.
public struct CatchUpResult: Sendable, Hashable, CustomStringConvertible {
    /// How the replica was watched.
    public enum Method: Sendable, Hashable, CustomStringConvertible {
        /// Through a server wait function (`MASTER_POS_WAIT`, ...).
        case waitFunction(String)
        /// By polling the replica status.
        case polling

        public var description: String {
            switch self {
            case .waitFunction(let name): name
            case .polling: "polling"
            }
        }
    }

    /// What was waited for.
    public let target: CatchUpTarget
    /// How long the wait took, measured on the waiter's clock (the continuous clock unless one was injected).
    public let waited: Duration
    /// How.
    public let method: Method
    /// Wait-function calls or status polls made.
    public let rounds: Int

    /// Creates a result.
    public init(target: CatchUpTarget, waited: Duration, method: Method, rounds: Int) {
        self.target = target
        self.waited = waited
        self.method = method
        self.rounds = rounds
    }

    public var description: String { "caught up with \(target) in \(waited) (\(method), \(rounds) rounds)" }
}

/// How far a replica is behind.
public struct ReplicationLag: Sendable, Hashable {
    /// The replica status the lag was read from.
    public let status: ReplicaStatus
    /// Seconds behind (a guard, never proof of catch-up; nil when a thread is down).
    public var secondsBehindSource: Int? { status.secondsBehindSource }
    /// The source's position the distances are measured against, when given.
    public let sourcePosition: BinlogPosition?
    /// How far the executed coordinate is behind the source's position (nil when either is unknown, when the
    /// replica's coordinate is ahead of it, or when it lies in another binlog).
    public let executedDistance: PositionDistance?
    /// Whether the executed coordinate lies in another binlog than the source's position (different base names:
    /// the replica reads another server's log, or the source's log was renamed); nil when either is unknown.
    public let executedInOtherLog: Bool?
    /// Whether the executed coordinate is at or past the source's position in the same binlog; nil when either is
    /// unknown or they lie in different logs.
    public let executedAtOrPastSource: Bool?
    /// How far the received coordinate is behind the source's position.
    public let receivedDistance: PositionDistance?

    /// Creates a lag report.
    public init(status: ReplicaStatus, source: SourceStatus?) {
        self.status = status
        self.sourcePosition = source?.position
        if let sourcePosition = source?.position {
            executedDistance = status.executedPosition.flatMap { sourcePosition.distance(from: $0) }
            receivedDistance = status.receivedPosition.flatMap { sourcePosition.distance(from: $0) }
            executedInOtherLog = status.executedPosition.map { !$0.sharesLog(with: sourcePosition) }
            executedAtOrPastSource = status.executedPosition.flatMap { try? $0.isAtOrPast(sourcePosition) }
        } else {
            executedDistance = nil
            receivedDistance = nil
            executedInOtherLog = nil
            executedAtOrPastSource = nil
        }
    }

    /// Whether the replica has executed everything up to the source's position (by coordinates). A snapshot: on
    /// MariaDB the executed coordinate trails `@@gtid_slave_pos` for a moment, so right after a GTID wait it may
    /// still show a small distance; prove catch-up with ``CatchUpWaiting/waitUntilExecuted(_:deadline:logger:)``.
    /// A replica that executed past the source's position (events written after the position was read) is caught
    /// up; one whose coordinate lies in another binlog never is.
    public var isCaughtUp: Bool { executedAtOrPastSource ?? false }
}

/// Waits on a replica for a target with the server's wait function, in slices, checking between slices that
/// the SQL thread still runs; falls back to polling the replica status where no wait function fits. Shared by
/// ``RDSReplicaController`` and ``NativeReplicaController``.
///
/// MariaDB's `MASTER_POS_WAIT` returns `NULL` at once when the SQL thread is not running (and when it stops
/// while waiting), which is reported as ``ReplicationError/Code/replicationNotRunning`` or, with the thread's error,
/// ``ReplicationError/Code/replicationFailed``; `-1` is the function's own timeout. `MASTER_GTID_WAIT` and
/// `WAIT_FOR_EXECUTED_GTID_SET` keep waiting across a stopped SQL thread, so the slices keep such a failure from
/// going unnoticed until the deadline.
public struct CatchUpWaiter: CatchUpWaiting {
    /// How to wait.
    public struct Options: Sendable, Hashable {
        /// How to watch the replica.
        public enum Strategy: Sendable, Hashable {
            /// The wait function when one fits the target and exists, polling otherwise.
            case automatic
            /// Only the wait function; fail with ``ReplicationError/Code/unsupported`` when none fits.
            case waitFunction
            /// Only polling of the replica status.
            case polling
        }

        /// How to watch the replica.
        public var strategy: Strategy
        /// The longest single wait-function call; between calls the replica status is checked. Functions that
        /// take whole seconds round it up to 1 s.
        public var slice: Duration
        /// Time between status polls when polling.
        public var pollInterval: Duration
        /// Deadline of a status read.
        public var statusTimeout: Duration

        /// Creates options.
        public init(
            strategy: Strategy = .automatic,
            slice: Duration = .milliseconds(500),
            pollInterval: Duration = .milliseconds(20),
            statusTimeout: Duration = .seconds(10)
        ) {
            self.strategy = strategy
            self.slice = slice
            self.pollInterval = pollInterval
            self.statusTimeout = statusTimeout
        }
    }

    /// The replica's session.
    public let session: any SQLSession
    /// The replica's dialect.
    public let dialect: ReplicationDialect
    /// How to wait.
    public let options: Options
    /// The clock the waits are measured and slept on.
    public let clock: ReplicationClock

    /// Creates a waiter.
    ///
    /// - Parameter clock: the clock waits are measured and slept on (tests pass a manual clock).
    public init(
        session: any SQLSession, dialect: ReplicationDialect, options: Options = Options(),
        clock: ReplicationClock = .continuous
    ) {
        self.session = session
        self.dialect = dialect
        self.options = options
        self.clock = clock
    }

    /// Waits until the replica has executed `target`, with the server's wait function when it has one and by polling
    /// the replica status otherwise.
    ///
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/catchUpTimedOut`` at `deadline`, or a code saying the
    ///   applier stopped or failed while waiting.
    public func waitUntilExecuted(_ target: CatchUpTarget, deadline: ContinuousClock.Instant, logger: Logger)
        async throws
        -> CatchUpResult
    {
        let clock = self.clock
        let start = clock.now
        let deadline = clock.instant(for: deadline)
        var logger = logger
        logger[metadataKey: "replication.catch_up_target"] = "\(target)"
        let function = options.strategy == .polling ? nil : dialect.waitFunction(for: target)
        if function == nil, options.strategy == .waitFunction {
            throw ReplicationError(
                code: .unsupported,
                message: "\(dialect.server) has no wait function for a \(target)",
                endpoint: session.endpointDescription
            )
        }
        if let function {
            do {
                return try await waitWithFunction(
                    function, target: target, start: start, deadline: deadline, clock: clock, logger: logger)
            } catch let error as FunctionUnavailable {
                guard options.strategy == .automatic else {
                    throw ReplicationError.wrapping(
                        error.underlying, message: "\(function.name) failed", endpoint: session.endpointDescription)
                }
                logger.debug(
                    "wait function unavailable, polling instead",
                    metadata: ["replication.wait_function": "\(function.name)"])
            }
        }
        return try await poll(target: target, start: start, deadline: deadline, clock: clock, logger: logger)
    }

    /// The replica's lag behind `source` (or behind what it has received, when `source` is nil), from one status read.
    ///
    /// - Throws: ``ReplicationError`` when the status cannot be read.
    public func lag(behind source: SourceStatus?, logger: Logger) async throws -> ReplicationLag {
        ReplicationLag(status: try await readStatus(), source: source)
    }

    // MARK: Wait function

    /// The wait function does not exist here (or does not accept the target): switch to polling.
    private struct FunctionUnavailable: Error {
        let underlying: MariaDBError
    }

    private func waitWithFunction(
        _ function: ReplicationDialect.WaitFunction,
        target: CatchUpTarget,
        start: ReplicationClock.Instant,
        deadline: ReplicationClock.Instant,
        clock: ReplicationClock,
        logger: Logger
    ) async throws -> CatchUpResult {
        var rounds = 0
        while true {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw try await timeoutError(target: target, start: start, clock: clock, rounds: rounds)
            }
            let statement = function.statement(for: target, timeout: min(remaining, options.slice))
            let value: SQLValue
            do {
                let result = try await session.execute(statement, timeout: remaining)
                guard let row = result.resultSets.first?.first, !row.isEmpty else {
                    throw ReplicationError(
                        code: .unexpectedResult, message: "\(function.name) returned no row",
                        endpoint: session.endpointDescription)
                }
                value = row[0]
            } catch let error as MariaDBError where error.code == .deadlineExceeded {
                throw try await timeoutError(target: target, start: start, clock: clock, rounds: rounds + 1)
            } catch let error as MariaDBError where rounds == 0 && Self.meansFunctionUnavailable(error) {
                throw FunctionUnavailable(underlying: error)
            } catch let error as ReplicationError {
                throw error
            } catch {
                throw ReplicationError.wrapping(
                    error, message: "\(function.name) failed", endpoint: session.endpointDescription)
            }
            rounds += 1
            switch function.outcome(of: value) {
            case .reached:
                let waited = start.duration(to: clock.now)
                logger.debug(
                    "replica caught up",
                    metadata: [
                        "replication.waited": "\(waited)", "replication.wait_function": "\(function.name)",
                        "replication.rounds": "\(rounds)",
                    ]
                )
                return CatchUpResult(
                    target: target, waited: waited, method: .waitFunction(function.name), rounds: rounds)
            case .replicationNotRunning:
                let status = try await readStatus()
                if let failure = failure(in: status, target: target, function: function.name) { throw failure }
                // The function said "not running" but the status shows it running (it was restarted in between):
                // wait again, after a pause so a function that keeps answering NULL cannot spin.
                logger.debug("wait function reported replication not running; status shows it running, waiting again")
                let pause = min(options.pollInterval, clock.now.duration(to: deadline))
                if pause > .zero { try await clock.sleep(for: pause) }
            case .timedOut:
                let status = try await readStatus()
                if let failure = failure(in: status, target: target, function: function.name) { throw failure }
            case nil:
                throw ReplicationError(
                    code: .unexpectedResult,
                    message: "\(function.name) returned '\(value.description.prefix(20))'",
                    endpoint: session.endpointDescription
                )
            }
        }
    }

    /// Errors that mean the function does not exist or the server rejects the call shape.
    static func meansFunctionUnavailable(_ error: MariaDBError) -> Bool {
        guard let number = error.serverErrorNumber else { return false }
        // 1305 FUNCTION does not exist, 1582/1583 incorrect parameter count/parameters, 1064 parse error (very old
        // servers), 1193 unknown system variable (GTID mode off on old MySQL), 1782/3004 GTID mode OFF.
        return [1305, 1582, 1583, 1064, 1193, 1782].contains(number)
    }

    // MARK: Polling

    private func poll(
        target: CatchUpTarget,
        start: ReplicationClock.Instant,
        deadline: ReplicationClock.Instant,
        clock: ReplicationClock,
        logger: Logger
    ) async throws -> CatchUpResult {
        var rounds = 0
        while true {
            let status = try await readStatus()
            rounds += 1
            if try await hasReached(target, status: status) {
                let waited = start.duration(to: clock.now)
                logger.debug(
                    "replica caught up", metadata: ["replication.waited": "\(waited)", "replication.method": "polling"])
                return CatchUpResult(target: target, waited: waited, method: .polling, rounds: rounds)
            }
            if let failure = failure(in: status, target: target, function: nil) { throw failure }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw timeoutError(target: target, start: start, clock: clock, rounds: rounds, status: status)
            }
            try await clock.sleep(for: min(options.pollInterval, remaining))
        }
    }

    private func hasReached(_ target: CatchUpTarget, status: ReplicaStatus) async throws -> Bool {
        switch target {
        case .position(let position):
            guard let executed = status.executedPosition else { return false }
            // Positions in another binlog (the replica reads another server's log) throw: never "caught up".
            do {
                return try executed.isAtOrPast(position)
            } catch var error as ReplicationError {
                error.message = "the replica executed \(executed), which is not in the binlog of \(target): "
                    + "it does not replicate from the server whose position was read"
                error.endpoint = session.endpointDescription
                throw error
            }
        case .mysqlGTIDSet(let set):
            guard let executed = status.gtid.executedSet else {
                throw ReplicationError(
                    code: .unsupported,
                    message: "the replica status shows no Executed_Gtid_Set to compare a GTID set with",
                    endpoint: session.endpointDescription
                )
            }
            return executed.contains(set)
        case .mariaDBGTIDPosition(let position):
            guard let statement = dialect.replicaGTIDStatement else {
                throw ReplicationError(
                    code: .unsupported, message: "a MariaDB GTID target needs a MariaDB replica",
                    endpoint: session.endpointDescription)
            }
            let text: String
            do {
                text = try await session.queryFirst(statement, timeout: options.statusTimeout)?[0].string ?? ""
            } catch {
                throw ReplicationError.wrapping(
                    error, message: "could not read @@gtid_slave_pos", endpoint: session.endpointDescription)
            }
            return try MariaDBGTIDPosition(parsing: text).hasReached(position)
        }
    }

    // MARK: Status checks

    func readStatus() async throws -> ReplicaStatus {
        try await ReplicaStatusReader.read(session: session, dialect: dialect, timeout: options.statusTimeout)
    }

    /// The error to report when `status` shows that the target can never be reached, or nil while it still can.
    func failure(in status: ReplicaStatus, target: CatchUpTarget, function: String?) -> ReplicationError? {
        let endpoint = session.endpointDescription
        let waitedWith = function.map { " (\($0))" } ?? ""
        guard status.isConfigured else {
            return ReplicationError(
                code: .notConfigured,
                message: "replication is not configured, so \(target) cannot be reached\(waitedWith)",
                endpoint: endpoint)
        }
        if status.sqlThread != .running {
            if let sqlError = status.lastSQLError {
                return ReplicationError(
                    code: .replicationFailed,
                    message:
                        "the SQL thread stopped with error \(sqlError.number) while waiting for \(target)\(waitedWith)",
                    endpoint: endpoint,
                    sqlThreadError: sqlError,
                    ioThreadError: status.lastIOError
                )
            }
            return ReplicationError(
                code: .replicationNotRunning,
                message: "the SQL thread is not running, so \(target) cannot be reached\(waitedWith)",
                endpoint: endpoint,
                ioThreadError: status.lastIOError
            )
        }
        if status.ioThread == .stopped {
            // The applier can still finish what was already received.
            if case .position(let position) = target, let received = status.receivedPosition,
                (try? received.isAtOrPast(position)) == true
            {
                return nil
            }
            if let ioError = status.lastIOError {
                return ReplicationError(
                    code: .replicationFailed,
                    message:
                        "the IO thread stopped with error \(ioError.number) before receiving \(target)\(waitedWith)",
                    endpoint: endpoint,
                    ioThreadError: ioError
                )
            }
            return ReplicationError(
                code: .replicationNotRunning,
                message: "the IO thread is stopped, so \(target) cannot be received\(waitedWith)",
                endpoint: endpoint
            )
        }
        return nil
    }

    private func timeoutError(
        target: CatchUpTarget, start: ReplicationClock.Instant, clock: ReplicationClock, rounds: Int
    ) async throws
        -> ReplicationError
    {
        // One last look, so a broken replica is reported as broken rather than slow.
        let status = try? await readStatus()
        if let status, let failure = failure(in: status, target: target, function: nil) { return failure }
        return timeoutError(target: target, start: start, clock: clock, rounds: rounds, status: status)
    }

    private func timeoutError(
        target: CatchUpTarget,
        start: ReplicationClock.Instant,
        clock: ReplicationClock,
        rounds: Int,
        status: ReplicaStatus?
    ) -> ReplicationError {
        var message = "the replica did not execute \(target) within \(start.duration(to: clock.now)) (\(rounds) rounds)"
        if let executed = status?.executedPosition { message += "; executed \(executed)" }
        if let seconds = status?.secondsBehindSource { message += ", \(seconds) s behind" }
        return ReplicationError(
            code: .catchUpTimedOut,
            message: message,
            endpoint: session.endpointDescription,
            sqlThreadError: status?.lastSQLError,
            ioThreadError: status?.lastIOError
        )
    }
}

/// Reads the replica status of one channel.
enum ReplicaStatusReader {
    static func read(session: any SQLSession, dialect: ReplicationDialect, channel: String = "", timeout: Duration)
        async throws -> ReplicaStatus
    {
        let result: SQLResult
        do {
            result = try await session.execute(dialect.replicaStatusStatement, timeout: timeout)
        } catch {
            throw ReplicationError.wrapping(
                error, message: "could not read the replica status", endpoint: session.endpointDescription)
        }
        let statuses = try ReplicaStatus.parse(result)
        return statuses.first { $0.channelName == channel } ?? .notConfigured(channelName: channel)
    }
}
