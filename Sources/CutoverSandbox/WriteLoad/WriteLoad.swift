public import Logging
public import MariaDB
import Synchronization

/// A write load for cut-over tests: `clients` concurrent connections to one endpoint (a ProxySQL emulator's data
/// port, or a MariaDB server), each writing short transactions with unique write ids in a loop and recording how
/// each one ended, until ``stop()``.
///
/// ```swift
/// let load = try WriteLoad(configuration: .init(endpoint: appConfiguration, clients: 8), logger: logger)
/// let (report, _) = try await load.run { load in
///     try await load.waitForAcknowledgedWrites(100, timeout: .seconds(10))
///     try await switchTheWriter()
/// }
/// let verification = try await WriteLoadChecker.verify(report, finalWriter: newWriterSession)
/// ```
///
/// Each client owns one `MariaDBConnection`. When it breaks (2013 at `OFFLINE_HARD`, a killed session), the client
/// records the write as ambiguous, reconnects with a bounded backoff (each attempt bounded by the connect timeout)
/// and goes on. Only structured concurrency is used: the clients are child tasks of ``run()``.
public final class WriteLoad: Sendable {
    /// How a write transaction is shaped.
    public enum TransactionMode: Sendable, Hashable {
        /// One autocommit `INSERT` of ``Configuration/rowsPerWrite`` rows (never pins a ProxySQL session by
        /// itself, unless it generates an auto-increment value).
        case autocommit
        /// `BEGIN`, one `INSERT` per row, an optional hold (``Configuration/transactionHold``), `COMMIT`.
        case explicit
    }

    /// What the load does.
    public struct Configuration: Sendable {
        /// Where the clients connect, as which account (use the grant-limited application account, see
        /// ``WriteLoadSchema/createApplicationAccount(on:user:password:host:)``).
        public var endpoint: MariaDBConnection.Configuration
        /// Number of concurrent clients (`1...1000`).
        public var clients: Int
        /// Which table to write.
        public var workload: WriteLoadWorkload
        /// The schema (must have been installed on every server).
        public var schema: WriteLoadSchema
        /// Autocommit or explicit transactions.
        public var transactionMode: TransactionMode
        /// Rows per transaction (`1...1000`).
        public var rowsPerWrite: Int
        /// Explicit transactions only: time between the last `INSERT` and `COMMIT` (an in-flight transaction
        /// of known length, for drain experiments).
        public var transactionHold: Duration
        /// Pause after each transaction.
        public var thinkTime: Duration
        /// Extra pause after a failed or ambiguous transaction, so that a client refused at once (`read_only`,
        /// 9001) does not spin and starve the machine that runs the cut-over.
        public var pauseAfterFailure: Duration
        /// Deadline of each statement; when it passes the statement is interrupted and the write is ambiguous.
        public var statementTimeout: Duration?
        /// Bound of each connection attempt (libmariadb counts whole seconds).
        public var connectTimeout: Duration
        /// First and largest pause between reconnection attempts (doubling in between).
        public var reconnectBackoff: ClosedRange<Duration>
        /// After ``WriteLoad/stop()``, how long clients may finish their current transaction before they are
        /// cancelled (a cancelled transaction is recorded as ambiguous).
        public var stopGracePeriod: Duration
        /// The run id (`1...WriteIDScheme.maximumRunID`); nil picks a random one.
        public var runID: Int64?
        /// The clients' shapes, taken in turn (see ``ClientShape``); `[.plain]` by default.
        public var shapes: [ClientShape] = [.plain]
        /// ``ClientShape/idlePinned`` clients: the pause between their writes.
        public var idleTime: Duration = .seconds(2)
        /// More endpoints with the same account (other ProxySQL nodes of a fleet, issue #16): client `i` connects
        /// to `([endpoint] + additionalEndpoints)[i % count]`. Empty by default.
        public var additionalEndpoints: [MariaDBConnection.Configuration] = []

        /// The endpoint client `index` connects to.
        public func endpoint(forClient index: Int) -> MariaDBConnection.Configuration {
            let slot = index % (additionalEndpoints.count + 1)
            return slot == 0 ? endpoint : additionalEndpoints[slot - 1]
        }

        /// Creates a configuration; see the properties for the defaults' meaning.
        public init(
            endpoint: MariaDBConnection.Configuration,
            clients: Int = 4,
            workload: WriteLoadWorkload = .clientKeys,
            schema: WriteLoadSchema = WriteLoadSchema(),
            transactionMode: TransactionMode = .autocommit,
            rowsPerWrite: Int = 1,
            transactionHold: Duration = .zero,
            thinkTime: Duration = .zero,
            pauseAfterFailure: Duration = .milliseconds(1),
            statementTimeout: Duration? = .seconds(30),
            connectTimeout: Duration = .seconds(2),
            reconnectBackoff: ClosedRange<Duration> = .milliseconds(2)...(.milliseconds(100)),
            stopGracePeriod: Duration = .seconds(2),
            runID: Int64? = nil
        ) {
            self.endpoint = endpoint
            self.clients = clients
            self.workload = workload
            self.schema = schema
            self.transactionMode = transactionMode
            self.rowsPerWrite = rowsPerWrite
            self.transactionHold = transactionHold
            self.thinkTime = thinkTime
            self.pauseAfterFailure = pauseAfterFailure
            self.statementTimeout = statementTimeout
            self.connectTimeout = connectTimeout
            self.reconnectBackoff = reconnectBackoff
            self.stopGracePeriod = stopGracePeriod
            self.runID = runID
        }

        /// Checks the values that can be checked without a server.
        ///
        /// - Throws: ``WriteLoadError`` (``WriteLoadError/Code/invalidConfiguration``) naming the value.
        public func validate() throws {
            func invalid(_ message: String) -> WriteLoadError {
                WriteLoadError(code: .invalidConfiguration, message: message)
            }
            if !(1...WriteIDScheme.maximumClients).contains(clients) {
                throw invalid("clients must be in 1...\(WriteIDScheme.maximumClients)")
            }
            if !(1...1000).contains(rowsPerWrite) { throw invalid("rowsPerWrite must be in 1...1000") }
            if transactionHold < .zero || thinkTime < .zero || pauseAfterFailure < .zero {
                throw invalid("durations must not be negative")
            }
            if transactionHold > .zero && transactionMode == .autocommit {
                throw invalid("transactionHold needs the explicit transaction mode")
            }
            if let statementTimeout, statementTimeout <= .zero { throw invalid("statementTimeout must be positive") }
            if connectTimeout <= .zero { throw invalid("connectTimeout must be positive") }
            if reconnectBackoff.lowerBound <= .zero { throw invalid("reconnectBackoff must be positive") }
            if stopGracePeriod < .zero { throw invalid("stopGracePeriod must not be negative") }
            if shapes.isEmpty { throw invalid("shapes must not be empty") }
            if shapes.contains(.lastInsertID) && workload != .autoIncrement {
                throw invalid("the last-insert-id shape needs the autoIncrement workload")
            }
            if idleTime <= .zero { throw invalid("idleTime must be positive") }
            if let runID, !(1...WriteIDScheme.maximumRunID).contains(runID) {
                throw invalid("runID must be in 1...\(WriteIDScheme.maximumRunID)")
            }
            do {
                try endpoint.validate()
            } catch {
                throw WriteLoadError(code: .invalidConfiguration, message: "endpoint is invalid", underlying: error)
            }
        }
    }

    private enum Phase: Sendable {
        case idle, connecting, running, finished
        case failed(WriteLoadError)
    }

    private struct State: Sendable {
        var phase: Phase = .idle
        var stopRequested = false
        var stopRequestedAt: ContinuousClock.Instant?
        var acknowledged = 0
        var lastAcknowledgedAt: ContinuousClock.Instant?
    }

    /// The configuration.
    public let configuration: Configuration
    /// The run id: every write id of this load carries it, and the checker reads only its rows.
    public let runID: Int64
    /// Builds this run's write ids.
    public let writeIDs: WriteIDScheme

    private let logger: Logger
    private let state = Mutex(State())
    private let stopSignal: AsyncStream<Void>
    private let stopContinuation: AsyncStream<Void>.Continuation

    /// Creates a load; nothing happens until ``run()``.
    ///
    /// - Throws: ``WriteLoadError`` (``WriteLoadError/Code/invalidConfiguration``).
    public init(configuration: Configuration, logger: Logger) throws {
        try configuration.validate()
        var configuration = configuration
        configuration.endpoint.connectTimeout = configuration.connectTimeout
        for index in configuration.additionalEndpoints.indices {
            configuration.additionalEndpoints[index].connectTimeout = configuration.connectTimeout
        }
        self.configuration = configuration
        self.runID = configuration.runID ?? Int64.random(in: 1...WriteIDScheme.maximumRunID)
        self.writeIDs = WriteIDScheme(runID: runID)
        var logger = logger
        logger[metadataKey: "writeload.run_id"] = "\(runID)"
        self.logger = logger
        (stopSignal, stopContinuation) = AsyncStream<Void>.makeStream()
    }

    // MARK: Control

    /// Asks every client to finish its current transaction and stop. Returns at once; ``run()`` returns when
    /// they have (at most ``Configuration/stopGracePeriod`` plus one interrupted statement later).
    public func stop() {
        let now = ContinuousClock.now
        state.withLock { state in
            state.stopRequested = true
            if state.stopRequestedAt == nil { state.stopRequestedAt = now }
        }
        stopContinuation.finish()
    }

    /// Whether ``stop()`` was called.
    public var isStopRequested: Bool { state.withLock { $0.stopRequested } }

    /// The number of writes acknowledged so far.
    public var acknowledgedWrites: Int { state.withLock { $0.acknowledged } }

    /// When the latest acknowledgement arrived.
    public var lastAcknowledgedAt: ContinuousClock.Instant? { state.withLock { $0.lastAcknowledgedAt } }

    /// Waits until at least `count` writes have been acknowledged (polling every 5 ms).
    ///
    /// - Returns: false when `timeout` passed, or the load stopped, first.
    /// - Throws: the load's ``WriteLoadError`` when it failed to start; `CancellationError` when cancelled.
    @discardableResult
    public func waitForAcknowledgedWrites(_ count: Int, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (acknowledged, phase, stopped) = state.withLock { ($0.acknowledged, $0.phase, $0.stopRequested) }
            if acknowledged >= count { return true }
            if case .failed(let error) = phase { throw error }
            if case .finished = phase { return false }
            if stopped || ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until `additional` more writes than now have been acknowledged (see
    /// ``waitForAcknowledgedWrites(_:timeout:)``).
    @discardableResult
    public func waitForMoreAcknowledgedWrites(_ additional: Int, timeout: Duration) async throws -> Bool {
        try await waitForAcknowledgedWrites(acknowledgedWrites + additional, timeout: timeout)
    }

    // MARK: Running

    /// Runs the load, `body` beside it, then stops the load and returns its report with `body`'s result.
    ///
    /// The load is stopped also when `body` throws; the error is rethrown after the clients have finished.
    ///
    /// - Throws: ``WriteLoadError`` when the load could not start; whatever `body` throws.
    public func run<Result: Sendable>(
        _ body: (WriteLoad) async throws -> Result
    ) async throws -> (report: WriteLoadReport, result: Result) {
        try await withThrowingTaskGroup(of: WriteLoadReport.self) { group in
            group.addTask { try await self.run() }
            let result: Result
            do {
                result = try await body(self)
            } catch {
                stop()
                // The run's own failure, if any, explains the body's failure best.
                _ = try await group.next()
                throw error
            }
            stop()
            guard let report = try await group.next() else {
                preconditionFailure("the load task always returns a report or throws")
            }
            return (report, result)
        }
    }

    /// Runs the load until ``stop()`` is called or the calling task is cancelled, and returns what every write did.
    ///
    /// First every client connects (all must succeed); then the clients loop. Cancelling the task interrupts
    /// in-flight statements (recorded as ambiguous) and still returns the report. Call it once.
    ///
    /// - Throws: ``WriteLoadError``: ``WriteLoadError/Code/connectionFailed`` when a client cannot open its first
    ///   connection; ``WriteLoadError/Code/invalidConfiguration`` when called twice.
    public func run() async throws -> WriteLoadReport {
        let mayStart = state.withLock { state -> Bool in
            guard case .idle = state.phase else { return false }
            state.phase = .connecting
            return true
        }
        guard mayStart else {
            throw WriteLoadError(code: .invalidConfiguration, message: "a WriteLoad runs once; create another")
        }
        let connections: [MariaDBConnection]
        do {
            connections = try await connectAll()
        } catch let error as WriteLoadError {
            state.withLock { $0.phase = .failed(error) }
            throw error
        }
        let startedAt = ContinuousClock.now
        state.withLock { $0.phase = .running }
        logger.debug("write load started", metadata: ["writeload.clients": "\(configuration.clients)"])

        let results = await withTaskGroup(of: TaskResult.self) { group -> [ClientResult] in
            for (index, connection) in connections.enumerated() {
                let client = Client(load: self, index: index, origin: startedAt)
                group.addTask { .client(await client.run(connection: connection)) }
            }
            let grace = configuration.stopGracePeriod
            let signal = stopSignal
            group.addTask {
                for await _ in signal {}
                if Task.isCancelled { return .watchdogEnded }
                do {
                    try await Task.sleep(for: grace)
                } catch {
                    return .watchdogEnded
                }
                return .graceExpired
            }
            var results: [ClientResult] = []
            while let next = await group.next() {
                switch next {
                case .client(let result):
                    results.append(result)
                    if results.count == connections.count { group.cancelAll() }
                case .graceExpired:
                    logger.debug("write load clients did not stop within the grace period; cancelling them")
                    group.cancelAll()
                case .watchdogEnded:
                    break
                }
            }
            return results
        }
        let finishedAt = ContinuousClock.now
        let stoppedAt = state.withLock { state -> ContinuousClock.Instant in
            state.phase = .finished
            return state.stopRequestedAt ?? finishedAt
        }
        var records = results.flatMap(\.records)
        records.sort { ($0.sentAt, $0.client) < ($1.sentAt, $1.client) }
        let events = results.flatMap(\.events).sorted { $0.at < $1.at }
        var tally = LastInsertIDTally()
        for result in results { tally.add(result.lastInsertID) }
        logger.debug("write load finished", metadata: ["writeload.writes": "\(records.count)"])
        return WriteLoadReport(
            runID: runID,
            workload: configuration.workload,
            schema: configuration.schema,
            clients: configuration.clients,
            startedAt: startedAt,
            stoppedAt: min(max(stoppedAt, startedAt), finishedAt),
            finishedAt: finishedAt,
            records: records,
            connectionEvents: events,
            shapes: configuration.shapes,
            lastInsertID: tally
        )
    }

    private enum TaskResult: Sendable {
        case client(ClientResult)
        case graceExpired
        case watchdogEnded
    }

    /// How one client's first connection attempt ended.
    ///
    /// An enum rather than `(Int, Result<MariaDBConnection, any Error>)`: Swift 6.3.1 in release builds (-O)
    /// corrupted that tuple when a child task returned it (the index read back as garbage), which crashed every
    /// optimized build using the load.
    private enum ConnectAttempt: Sendable {
        case connected(index: Int, connection: MariaDBConnection)
        case failed(index: Int, error: any Error)
    }

    private func connectAll() async throws -> [MariaDBConnection] {
        let endpoint = configuration.endpoint
        let logger = logger
        return try await withThrowingTaskGroup(of: ConnectAttempt.self) { group in
            for index in 0..<configuration.clients {
                let endpoint = configuration.endpoint(forClient: index)
                group.addTask {
                    do {
                        let connection = try await MariaDBConnection.connect(configuration: endpoint, logger: logger)
                        let shape = self.configuration.shapes[index % self.configuration.shapes.count]
                        do {
                            for statement in shape.connectStatements {
                                _ = try await connection.execute(statement, timeout: .seconds(10))
                            }
                        } catch {
                            await connection.close()
                            throw error
                        }
                        return .connected(index: index, connection: connection)
                    } catch {
                        return .failed(index: index, error: error)
                    }
                }
            }
            var connections: [MariaDBConnection?] = Array(repeating: nil, count: configuration.clients)
            var firstError: (any Error)?
            for try await attempt in group {
                switch attempt {
                case .connected(let index, let connection): connections[index] = connection
                case .failed(_, let error): firstError = firstError ?? error
                }
            }
            if let firstError {
                for connection in connections.compactMap({ $0 }) { await connection.close() }
                throw WriteLoadError(
                    code: .connectionFailed,
                    message: "a write-load client could not connect to \(endpoint.endpoint)",
                    underlying: firstError
                )
            }
            return connections.map { $0! }
        }
    }

    // MARK: Client bookkeeping

    func noteAcknowledged(at instant: ContinuousClock.Instant) {
        state.withLock { state in
            state.acknowledged += 1
            if state.lastAcknowledgedAt.map({ $0 < instant }) ?? true { state.lastAcknowledgedAt = instant }
        }
    }

    var loggerForClients: Logger { logger }
}
