public import Logging
public import MariaDB

/// Makes a real server refuse every **new** connection with error 1040 `Too many connections`, for every account
/// (the hog's own administrative account included), until ``release()``: the real-world cause of a backend that
/// refuses connections for a while (Aurora at `max_connections`), for tests of what ProxySQL and the cut-over do with
/// a new writer that refuses connections right after its `ONLINE` (#14 item 8). Connections that were open before
/// the hog keep working: `max_connections` is checked only when a connection is opened.
///
/// What it changes on the server, and how each change is undone:
/// 1. `SET GLOBAL max_connections` to a low value (``Configuration/maxConnections``), after reading the old value
///    (``previousMaxConnections``). Undone by ``release()`` (`SET GLOBAL max_connections` back to the old value,
///    through a connection opened before the limit was lowered). It is a `SET GLOBAL`, never persisted: a restart
///    of the server undoes it too.
/// 2. Opens connections as the configured account (the *hog connections*) until the next one is refused with 1040,
///    twice, ``Configuration/settle`` apart (a refused connection still counts on the server for a moment after its
///    1040, so one refusal may be another connection's transient). Undone by ``release()``, which closes them (a
///    server also ends them when the hog's process exits).
///
/// The rule, measured on MariaDB 10.11 and MySQL 9.7 (the same on both; accounts holding only `CONNECTION ADMIN`,
/// only `SUPER`, all privileges, none): a server admits `max_connections + 1` client connections (over TCP and the
/// socket alike). While `max_connections` are open, an account **without** `CONNECTION ADMIN` (MySQL
/// `CONNECTION_ADMIN`) or `SUPER` gets 1040 at login (SQLSTATE `08004`, after the handshake), but one holding either
/// gets the one extra connection. Once `max_connections + 1` are open, **every** new connection, of any account,
/// gets 1040 (MySQL: SQLSTATE `HY000`) before the handshake. So the hog's account must hold `CONNECTION ADMIN` /
/// `CONNECTION_ADMIN` or `SUPER` (the sandbox's `root` does, and may set global variables): it fills the server to
/// `max_connections + 1`, and its own last refused attempt proves that an administrator is refused too. MariaDB
/// does not accept a `max_connections` below 10 (it sets 10, with warning 1292); MySQL accepts 1. The hog reads back
/// the value in force (``maxConnections``). Where more connections than that are already open, the hog holds none
/// or few: the server is full already.
///
/// Connections that others close while the hog is engaged free slots again: ``isInForce(timeout:)`` probes (a fresh
/// connection as the hog's account is refused with 1040), and ``refill(deadline:)`` takes the freed slots.
///
/// Every wait has a deadline; the hog never logs or prints a password (it logs counts and `max_connections` at
/// `debug`).
///
/// ```swift
/// try await withConnectionHog(ConnectionHog.Configuration(server: server.rootConfiguration)) { hog in
///     // a fresh connection to `server`, of any account, gets 1040 here
///     #expect(try await hog.isInForce())
/// }
/// // released: max_connections is back to its old value and the hog's connections are closed
/// ```
public actor ConnectionHog {
    /// What to hog and how.
    public struct Configuration: Sendable {
        /// The server and the account to use: it needs `SUPER` or `CONNECTION ADMIN` (MySQL: `CONNECTION_ADMIN`),
        /// and the right to set global variables (`SUPER`; MySQL `SYSTEM_VARIABLES_ADMIN`), like the sandbox's
        /// `root`. Its connect timeout is bounded by the hog's own deadlines.
        public var server: MariaDBConnection.Configuration
        /// The `max_connections` to set while engaged (at least 1; MariaDB raises anything below 10 to 10).
        public var maxConnections: Int
        /// How long engaging (lowering the limit and filling the server) may take in all.
        public var deadline: Duration
        /// The most hog connections to open: a guard against a server that never refuses (a limit that did not
        /// take effect); reaching it is an error.
        public var maximumConnections: Int
        /// The deadline of each statement and each connection attempt (also bounded by ``deadline``).
        public var stepTimeout: Duration
        /// The pause between a first refusal and the attempt that confirms it: a connection refused with 1040 (a
        /// probe's, another client's) still counts on the server for a moment, so a single 1040 may be transient.
        public var settle: Duration

        /// Creates a configuration.
        public init(
            server: MariaDBConnection.Configuration,
            maxConnections: Int = 10,
            deadline: Duration = .seconds(60),
            maximumConnections: Int = 400,
            stepTimeout: Duration = .seconds(15),
            settle: Duration = .milliseconds(200)
        ) {
            self.server = server
            self.maxConnections = maxConnections
            self.deadline = deadline
            self.maximumConnections = maximumConnections
            self.stepTimeout = stepTimeout
            self.settle = settle
        }
    }

    /// Why the hog could not engage, check or release.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What went wrong (no credentials).
        public var message: String

        /// Creates a failure.
        public init(_ message: String) { self.message = message }

        public var description: String { message }
    }

    /// The configuration the hog was engaged with.
    public nonisolated let configuration: Configuration
    /// `@@GLOBAL.max_connections` before the hog; ``release()`` sets it back.
    public nonisolated let previousMaxConnections: Int
    /// `@@GLOBAL.max_connections` while the hog is engaged (as the server took it).
    public nonisolated let maxConnections: Int

    private let logger: Logger
    /// Opened before the limit was lowered: unaffected by it, so ``release()`` can always restore the limit.
    private var control: MariaDBConnection?
    private var hogs: [MariaDBConnection] = []
    private var limitRestored = false

    private init(
        configuration: Configuration, control: MariaDBConnection, previous: Int, current: Int, logger: Logger
    ) {
        self.configuration = configuration
        self.control = control
        self.previousMaxConnections = previous
        self.maxConnections = current
        self.logger = logger
    }

    /// Lowers `max_connections` and opens connections until the next one is refused with 1040 (see the type's
    /// summary for what that changes and how ``release()`` undoes it). On failure, what was changed is undone
    /// before the error is thrown.
    ///
    /// - Parameters:
    ///   - configuration: the server, the account and the limits.
    ///   - logger: receives `debug` records (counts and `max_connections`, never a password).
    /// - Returns: the engaged hog; call ``release()`` (or use ``withConnectionHog(_:logger:_:)``).
    /// - Throws: ``Failure`` when the server does not refuse within ``Configuration/deadline`` or
    ///   ``Configuration/maximumConnections``; `MariaDBError` when a statement or a connection fails otherwise.
    public static func engage(_ configuration: Configuration, logger: Logger) async throws -> ConnectionHog {
        guard configuration.maxConnections >= 1 else {
            throw Failure("max_connections must be at least 1, not \(configuration.maxConnections)")
        }
        let deadline = ContinuousClock.now + configuration.deadline
        let control = try await MariaDBConnection.connect(
            configuration: Self.bounded(configuration.server, timeout: configuration.stepTimeout, deadline: deadline),
            logger: logger)
        let previous: Int
        let current: Int
        do {
            previous = try await Self.readMaxConnections(control, timeout: configuration.stepTimeout)
            // Undone by `release()`: SET GLOBAL max_connections = previous.
            try await control.run(
                "SET GLOBAL max_connections = \(configuration.maxConnections)", timeout: configuration.stepTimeout)
            current = try await Self.readMaxConnections(control, timeout: configuration.stepTimeout)
        } catch {
            await control.close()
            throw error
        }
        let hog = ConnectionHog(
            configuration: configuration, control: control, previous: previous, current: current, logger: logger)
        do {
            _ = try await hog.fill(deadline: deadline)
        } catch {
            try? await hog.release()
            throw error
        }
        let held = await hog.heldConnectionCount
        logger.debug(
            "connection hog engaged",
            metadata: [
                "hog.max_connections": "\(current)", "hog.previous_max_connections": "\(previous)",
                "hog.connections": "\(held)",
            ])
        return hog
    }

    /// How many hog connections are open.
    public var heldConnectionCount: Int { hogs.count }

    /// Whether ``release()`` has completed.
    public var isReleased: Bool { limitRestored && hogs.isEmpty }

    /// Probes the server: opens a fresh connection as the hog's account and reports whether it was refused with
    /// 1040. A probe that gets in is closed at once (and leaves the server as it was). A refused connection still
    /// counts on the server for a moment after its 1040 (measured on both kinds), so a probe right after another
    /// refusal may be refused although a slot is about to be free: ask again a moment later to be sure.
    ///
    /// - Parameter timeout: the probe's connect deadline.
    /// - Returns: true when the server refused the probe with 1040 `Too many connections`; false when it let it in
    ///   (a slot is free: someone closed a connection; see ``refill(deadline:)``) or the hog is released.
    /// - Throws: `MariaDBError` when the probe failed otherwise (server unreachable, …).
    public func isInForce(timeout: Duration = .seconds(15)) async throws -> Bool {
        guard !limitRestored else { return false }
        var probe = configuration.server
        probe.connectTimeout = timeout
        do {
            let connection = try await MariaDBConnection.connect(configuration: probe, logger: logger)
            await connection.close()
            return false
        } catch let error as MariaDBError where Self.isTooManyConnections(error) {
            return true
        }
    }

    /// Opens hog connections until the next one is refused with 1040 again (after others closed connections).
    ///
    /// - Parameter deadline: how long filling may take.
    /// - Returns: how many connections it added.
    /// - Throws: ``Failure`` when the hog is released or the server does not refuse in time; `MariaDBError`.
    @discardableResult
    public func refill(deadline: Duration = .seconds(60)) async throws -> Int {
        guard !limitRestored else { throw Failure("the connection hog is released") }
        return try await fill(deadline: .now + deadline)
    }

    /// Restores `max_connections` to ``previousMaxConnections`` and then closes the hog connections. Idempotent:
    /// a second call does nothing; a call after a failed one tries again. Safe on every path out of a test (see
    /// ``withConnectionHog(_:logger:_:)``).
    ///
    /// The limit is restored first, through the connection opened before it was lowered (so no new connection is
    /// needed); if that connection no longer works, the hog connections are closed first (freeing their slots) and
    /// a fresh connection restores it.
    ///
    /// - Throws: `MariaDBError` when the limit could not be restored (the hog connections are closed anyway).
    public func release() async throws {
        if !limitRestored {
            let restore: SQLStatement = "SET GLOBAL max_connections = \(previousMaxConnections)"
            do {
                guard let control else { throw Failure("no control connection") }
                try await control.run(restore, timeout: configuration.stepTimeout)
            } catch {
                // The control connection is gone (killed, timed out): free our slots, then restore through a fresh one.
                await closeHogs()
                if let control { await control.close() }
                control = nil
                var fresh = configuration.server
                fresh.connectTimeout = configuration.stepTimeout
                let connection = try await MariaDBConnection.connect(configuration: fresh, logger: logger)
                do {
                    try await connection.run(restore, timeout: configuration.stepTimeout)
                } catch {
                    await connection.close()
                    throw error
                }
                await connection.close()
            }
            limitRestored = true
        }
        await closeHogs()
        if let control { await control.close() }
        control = nil
        logger.debug("connection hog released", metadata: ["hog.max_connections": "\(previousMaxConnections)"])
    }

    /// Whether `error` is the server's 1040 `Too many connections` at connect: its error number, or libmariadb
    /// 3.4's wrapping of it when the refusal came before a TLS handshake ("Received error packet before completion
    /// of TLS handshake. … 1040 - Too many connections", error 2002/2026).
    public static func isTooManyConnections(_ error: MariaDBError) -> Bool {
        error.serverErrorNumber == 1040 || error.message?.contains("1040 - Too many connections") == true
    }

    // MARK: Private

    private func fill(deadline: ContinuousClock.Instant) async throws -> Int {
        var added = 0
        var refusedOnce = false
        while true {
            guard ContinuousClock.now < deadline else {
                throw Failure(
                    "the server did not refuse a new connection within the deadline (\(hogs.count) hog connections, "
                        + "max_connections \(maxConnections))")
            }
            guard hogs.count < configuration.maximumConnections else {
                throw Failure(
                    "the server still accepts connections after \(hogs.count) hog connections "
                        + "(max_connections \(maxConnections)): the limit is not in force")
            }
            let attempt = Self.bounded(configuration.server, timeout: configuration.stepTimeout, deadline: deadline)
            do {
                hogs.append(try await MariaDBConnection.connect(configuration: attempt, logger: logger))
                added += 1
                refusedOnce = false
            } catch let error as MariaDBError where Self.isTooManyConnections(error) {
                // A refused connection (ours or anyone's) still counts on the server for a moment after its 1040:
                // the first refusal may be that. Only a second one, a settle pause later, means the server is full.
                if refusedOnce { return added }
                refusedOnce = true
                try await Task.sleep(for: configuration.settle)
            }
        }
    }

    private func closeHogs() async {
        let closing = hogs
        hogs = []
        for connection in closing { await connection.close() }
    }

    private static func readMaxConnections(_ connection: MariaDBConnection, timeout: Duration) async throws -> Int {
        guard let value = try await connection.queryFirst("SELECT @@GLOBAL.max_connections", timeout: timeout)?[0].int
        else { throw Failure("the server did not report @@GLOBAL.max_connections") }
        return value
    }

    /// `configuration` with its connect timeout at most `timeout` and at most the time left until `deadline`.
    private static func bounded(
        _ configuration: MariaDBConnection.Configuration, timeout: Duration, deadline: ContinuousClock.Instant
    ) -> MariaDBConnection.Configuration {
        var bounded = configuration
        let left = ContinuousClock.now.duration(to: deadline)
        bounded.connectTimeout = max(.seconds(1), min(timeout, left))
        return bounded
    }
}

/// Engages a ``ConnectionHog`` on `configuration`'s server, runs `body`, and releases the hog on every way out
/// (`body` returning or throwing); a failed release is thrown when `body` succeeded.
///
/// - Parameters:
///   - configuration: the server, account and limits (see ``ConnectionHog/Configuration``).
///   - logger: for the hog's `debug` records.
///   - body: runs while the server refuses every new connection with 1040.
/// - Returns: what `body` returns.
/// - Throws: what ``ConnectionHog/engage(_:logger:)``, `body` or ``ConnectionHog/release()`` throw.
public func withConnectionHog<Result>(
    _ configuration: ConnectionHog.Configuration,
    logger: Logger = Logger(label: "connection-hog", factory: { _ in SwiftLogNoOpLogHandler() }),
    _ body: (ConnectionHog) async throws -> Result
) async throws -> Result {
    let hog = try await ConnectionHog.engage(configuration, logger: logger)
    let result: Result
    do {
        result = try await body(hog)
    } catch {
        try? await hog.release()
        throw error
    }
    try await hog.release()
    return result
}
