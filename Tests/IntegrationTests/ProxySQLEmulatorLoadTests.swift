import CutoverSandbox
import Foundation
import MariaDB
import Testing

/// 50 clients doing short transactions through the emulator while both backends stay ONLINE: nothing lost, nothing
/// doubled, no error. About 5 s by default, 30 s with `LONG_TESTS=1`. The added latency is printed (a measurement,
/// not an assertion).
@Suite("ProxySQL emulator: load", .integration, .mariaDBSandbox(servers: 2))
struct ProxySQLEmulatorLoadTests {
    static let clients = 50
    static var duration: Duration {
        ProcessInfo.processInfo.environment["LONG_TESTS"] == "1" ? .seconds(30) : .seconds(5)
    }

    struct ClientOutcome: Sendable {
        var acknowledged: [Int] = []
        var errors: [String] = []
        var latencies: [Duration] = []
    }

    @Test("50 concurrent clients doing short transactions lose nothing and see no error")
    func shortTransactions() async throws {
        try await DataPlaneFixture.with(statuses: ["ONLINE", "ONLINE"]) { fixture in
            let through = try await Self.run(clients: Self.clients, duration: Self.duration, clientID: 0) {
                try await fixture.client()
            }
            let errors = through.flatMap(\.errors)
            #expect(errors.isEmpty, "\(errors.prefix(5))")

            var stored: [Int: [Int]] = [:]
            for index in 0..<2 {
                let root = try await fixture.root(index)
                for row in try await root.query("SELECT client, seq FROM writes") {
                    stored[Int(row[0].string ?? "") ?? -1, default: []].append(Int(row[1].string ?? "") ?? -1)
                }
                await root.close()
            }
            var total = 0
            for (client, outcome) in through.enumerated() {
                total += outcome.acknowledged.count
                #expect(stored[client, default: []].sorted() == outcome.acknowledged, "client \(client)")
            }
            #expect(total > 0)
            #expect(stored.values.reduce(0) { $0 + $1.count } == total)
            #expect(try await fixture.connUsed(0) == 0)
            #expect(try await fixture.connUsed(1) == 0)

            // The same workload straight to one backend, for the added latency.
            let direct = try await Self.run(clients: Self.clients, duration: .seconds(2), clientID: 1000) {
                try await fixture.root(0)
            }
            // One client alone (no contention on this 2-core machine): the emulator's own cost per transaction.
            let single = try await Self.run(clients: 1, duration: .seconds(1), clientID: 2000) { try await fixture.client() }
            let singleDirect = try await Self.run(clients: 1, duration: .seconds(1), clientID: 3000) { try await fixture.root(0) }
            let proxied = through.flatMap(\.latencies).sorted()
            let baseline = direct.flatMap(\.latencies).sorted()
            func percentile(_ values: [Duration], _ p: Double) -> Double {
                guard !values.isEmpty else { return 0 }
                let value = values[min(values.count - 1, Int(Double(values.count) * p))]
                return Double(value.components.seconds) * 1000 + Double(value.components.attoseconds) / 1e15
            }
            print(
                """
                emulator load: \(total) transactions by \(Self.clients) clients in \(Self.duration), \
                \(errors.count) errors; per transaction (BEGIN, INSERT, COMMIT) median \
                \(String(format: "%.2f", percentile(proxied, 0.5))) ms, p99 \(String(format: "%.2f", percentile(proxied, 0.99))) ms \
                through the emulator vs median \(String(format: "%.2f", percentile(baseline, 0.5))) ms, \
                p99 \(String(format: "%.2f", percentile(baseline, 0.99))) ms direct; one client alone: median \
                \(String(format: "%.3f", percentile(single.flatMap(\.latencies).sorted(), 0.5))) ms through vs \
                \(String(format: "%.3f", percentile(singleDirect.flatMap(\.latencies).sorted(), 0.5))) ms direct
                """
            )
        }
    }

    private static func run(
        clients: Int,
        duration: Duration,
        clientID base: Int,
        connect: @escaping @Sendable () async throws -> MariaDBConnection
    ) async throws -> [ClientOutcome] {
        let deadline = ContinuousClock.now + duration
        return try await withThrowingTaskGroup(of: (Int, ClientOutcome).self) { group in
            for client in 0..<clients {
                group.addTask {
                    var outcome = ClientOutcome()
                    let connection = try await connect()
                    var sequence = 0
                    while ContinuousClock.now < deadline {
                        sequence += 1
                        let started = ContinuousClock.now
                        do {
                            try await connection.run("BEGIN")
                            try await connection.run("INSERT INTO writes (client, seq) VALUES (\(base + client), \(sequence))")
                            try await connection.run("COMMIT")
                            outcome.acknowledged.append(sequence)
                            outcome.latencies.append(ContinuousClock.now - started)
                        } catch {
                            outcome.errors.append("\(error)")
                            if !(await connection.isUsable) { break }
                        }
                    }
                    await connection.close()
                    return (client, outcome)
                }
            }
            var outcomes = Array(repeating: ClientOutcome(), count: clients)
            for try await (client, outcome) in group { outcomes[client] = outcome }
            return outcomes
        }
    }
}
