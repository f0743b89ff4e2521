import Foundation
import MariaDB
import Synchronization

/// A read load for the reader-switch fault cases: clients that read, in a loop, which server answers, through
/// ProxySQL reader endpoints (one or more nodes' data planes), and record every read's outcome and latency.
///
/// The statement names the server without `@` (`information_schema.GLOBAL_VARIABLES`), so ProxySQL does not pin the
/// session: every read can go to any ONLINE reader, as an application's would.
final class ReadLoad: Sendable {
    struct Failure: Sendable, CustomStringConvertible {
        var at: ContinuousClock.Instant
        var endpoint: String
        var error: String
        var description: String { "\(endpoint): \(error)" }
    }

    struct Report: Sendable {
        var succeeded: Int
        var failures: [Failure]
        /// Reads answered per server id.
        var servedBy: [String: Int]
        var maximumLatency: Duration
    }

    private struct State: Sendable {
        var succeeded = 0
        var failures: [Failure] = []
        var servedBy: [String: Int] = [:]
        var maximumLatency = Duration.zero
        var stopped = false
    }

    static let statement: SQLStatement =
        "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'SERVER_ID'"

    let endpoints: [MariaDBConnection.Configuration]
    let clientsPerEndpoint: Int
    private let state = Mutex(State())

    init(endpoints: [MariaDBConnection.Configuration], clientsPerEndpoint: Int = 2) {
        self.endpoints = endpoints
        self.clientsPerEndpoint = clientsPerEndpoint
    }

    var report: Report {
        state.withLock {
            Report(
                succeeded: $0.succeeded, failures: $0.failures, servedBy: $0.servedBy, maximumLatency: $0.maximumLatency)
        }
    }

    /// Waits (bounded) until `count` more reads than now have succeeded.
    func waitForMoreReads(_ count: Int, timeout: Duration) async throws -> Bool {
        let target = report.succeeded + count
        let deadline = ContinuousClock.now + timeout
        while report.succeeded < target {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Runs the clients while `body` runs; stops them (bounded by their statement timeout) when it returns.
    func run<R: Sendable>(_ body: (ReadLoad) async throws -> R) async throws -> R {
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
                let server = try await connection!.queryFirst(Self.statement, timeout: .seconds(15))?[0].string ?? "?"
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
