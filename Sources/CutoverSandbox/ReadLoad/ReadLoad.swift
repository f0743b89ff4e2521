public import MariaDB
import Synchronization

/// A read load: clients that read, in a loop, which server answers, through ProxySQL endpoints (reader ports, or
/// the application port whose query rules send `SELECT`s to the readers), and record every read's outcome and
/// latency. The reader-switch fault cases and the rehearsal use it.
///
/// The statement names the server without `@` (a system-variable table), so ProxySQL does not pin the session:
/// every read can go to any ONLINE reader, as an application's would.
public final class ReadLoad: Sendable {
    /// A read that failed.
    public struct Failure: Sendable, CustomStringConvertible {
        public var at: ContinuousClock.Instant
        public var endpoint: String
        public var error: String
        public var description: String { "\(endpoint): \(error)" }

        public init(at: ContinuousClock.Instant, endpoint: String, error: String) {
            self.at = at
            self.endpoint = endpoint
            self.error = error
        }
    }

    /// What the clients saw.
    public struct Report: Sendable {
        public var succeeded: Int
        public var failures: [Failure]
        /// Reads answered per server id.
        public var servedBy: [String: Int]
        public var maximumLatency: Duration
    }

    private struct State: Sendable {
        var succeeded = 0
        var failures: [Failure] = []
        var servedBy: [String: Int] = [:]
        var maximumLatency = Duration.zero
        var stopped = false
    }

    /// The server id without `@`: MariaDB's `information_schema.GLOBAL_VARIABLES`, MySQL's
    /// `performance_schema.global_variables` (readable without privileges on both).
    public static func statement(for kind: SandboxServerKind) -> SQLStatement {
        switch kind {
        case .mariadb: "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'SERVER_ID'"
        case .mysql: "SELECT VARIABLE_VALUE FROM performance_schema.global_variables WHERE VARIABLE_NAME = 'server_id'"
        }
    }

    public let endpoints: [MariaDBConnection.Configuration]
    public let clientsPerEndpoint: Int
    private let statement: SQLStatement
    private let state = Mutex(State())

    /// Clients on every endpoint, reading the server id of `kind`'s servers.
    public init(endpoints: [MariaDBConnection.Configuration], clientsPerEndpoint: Int = 2, serverKind: SandboxServerKind = .mariadb) {
        self.endpoints = endpoints
        self.clientsPerEndpoint = clientsPerEndpoint
        self.statement = Self.statement(for: serverKind)
    }

    public var report: Report {
        state.withLock {
            Report(
                succeeded: $0.succeeded, failures: $0.failures, servedBy: $0.servedBy, maximumLatency: $0.maximumLatency)
        }
    }

    /// Waits (bounded) until `count` more reads than now have succeeded.
    public func waitForMoreReads(_ count: Int, timeout: Duration) async throws -> Bool {
        let target = report.succeeded + count
        let deadline = ContinuousClock.now + timeout
        while report.succeeded < target {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Runs the clients while `body` runs; stops them (bounded by their statement timeout) when it returns.
    public func run<R: Sendable>(_ body: (ReadLoad) async throws -> R) async throws -> R {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for endpoint in endpoints {
                for _ in 0..<clientsPerEndpoint {
                    group.addTask { await self.client(endpoint) }
                }
            }
            do {
                let result = try await body(self)
                state.withLock { $0.stopped = true }
                try await group.waitForAll()
                return result
            } catch {
                state.withLock { $0.stopped = true }
                group.cancelAll()
                throw error
            }
        }
    }

    private func client(_ configuration: MariaDBConnection.Configuration) async {
        var configuration = configuration
        configuration.connectTimeout = .seconds(2)
        let name = "\(configuration.endpoint)"
        var connection: MariaDBConnection?
        while !state.withLock({ $0.stopped }) && !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                if connection == nil {
                    connection = try await MariaDBConnection.connect(configuration: configuration)
                }
                let server = try await connection!.queryFirst(statement, timeout: .seconds(15))?[0].string ?? "?"
                let latency = started.duration(to: .now)
                state.withLock { state in
                    state.succeeded += 1
                    state.servedBy[server, default: 0] += 1
                    state.maximumLatency = max(state.maximumLatency, latency)
                }
                try? await Task.sleep(for: .milliseconds(2))
            } catch {
                state.withLock { $0.failures.append(Failure(at: .now, endpoint: name, error: "\(error)")) }
                await connection?.close()
                connection = nil
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        await connection?.close()
    }
}
