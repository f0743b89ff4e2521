// Round-trip cost of our MariaDB wrapper against raw libmariadb calls, in the same process, against a local
// sandbox MariaDB server started by the benchmark itself.
//
// Pairs to compare (issue #2 target: wrapper within 10 % of raw C):
//   "SELECT 1 / wrapper"      vs "SELECT 1 / raw C"
//   "10000 rows / wrapper"    vs "10000 rows / raw C"

import Benchmark
import CMariaDBRaw
import CutoverSandbox
import Logging
import MariaDB

/// The server and the two connections shared by every benchmark of this process.
final class Fixture: @unchecked Sendable {
    let sandbox: MariaDBSandbox
    let connection: MariaDBConnection
    let raw: UnsafeMutablePointer<MYSQL>

    static let rowsQuery = "SELECT id, a, b, c FROM bench.rows"

    private init(sandbox: MariaDBSandbox, connection: MariaDBConnection, raw: UnsafeMutablePointer<MYSQL>) {
        self.sandbox = sandbox
        self.connection = connection
        self.raw = raw
    }

    static func make() async throws -> Fixture {
        let sandbox = try await MariaDBSandbox.start(servers: 1, options: .init(), logger: Logger(label: "bench"))
        let configuration = sandbox.servers[0].rootConfiguration
        let connection = try await MariaDBConnection.connect(configuration: configuration)
        _ = try await connection.execute("CREATE DATABASE IF NOT EXISTS bench")
        _ = try await connection.execute(
            "CREATE TABLE IF NOT EXISTS bench.rows (id INT PRIMARY KEY, a BIGINT NOT NULL, b VARCHAR(64) NOT NULL, c DOUBLE NULL)"
        )
        _ = try await connection.execute(
            """
            INSERT INTO bench.rows SELECT seq, seq * 1000003, CONCAT('row-', seq, '-', REPEAT('x', seq % 32)),
                IF(seq % 7 = 0, NULL, seq / 3) FROM bench.seq_1_to_10000
            """
        )

        guard let raw = mysql_init(nil) else { fatalError("mysql_init failed") }
        guard case .tcp(let host, let port) = configuration.endpoint,
            mysql_real_connect(raw, host, configuration.user, configuration.password ?? "", nil, UInt32(port), nil, 0) != nil
        else {
            fatalError("raw connect failed: \(String(cString: mysql_error(raw)))")
        }
        return Fixture(sandbox: sandbox, connection: connection, raw: raw)
    }

    func stop() async {
        mysql_close(raw)
        await connection.close()
        await sandbox.stop()
    }

    /// The raw C side: query, store, walk every cell (touching its bytes), free. Returns bytes seen.
    func rawQuery(_ sql: String) -> Int {
        guard mysql_real_query(raw, sql, UInt(sql.utf8.count)) == 0, let result = mysql_store_result(raw) else {
            fatalError("raw query failed: \(String(cString: mysql_error(raw)))")
        }
        defer { mysql_free_result(result) }
        let fields = Int(mysql_num_fields(result))
        var total = 0
        while let row = mysql_fetch_row(result) {
            guard let lengths = mysql_fetch_lengths(result) else { break }
            for index in 0..<fields {
                if let cell = row[index] {
                    let length = Int(lengths[index])
                    total &+= length
                    if length > 0 { total &+= Int(UInt8(bitPattern: cell[0])) }
                }
            }
        }
        return total
    }
}

nonisolated(unsafe) var fixture: Fixture!

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 20,
        maxDuration: .seconds(5),
        maxIterations: 5_000
    )
    Benchmark.setup = { fixture = try await Fixture.make() }
    Benchmark.teardown = { await fixture.stop() }

    Benchmark("SELECT 1 / wrapper") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.connection.execute("SELECT 1"))
        }
    }

    Benchmark("SELECT 1 / raw C") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.rawQuery("SELECT 1"))
        }
    }

    Benchmark("10000 rows / wrapper", configuration: .init(maxIterations: 300)) { benchmark in
        for _ in benchmark.scaledIterations {
            let result = try await fixture.connection.execute(SQLStatement(unsafeRaw: Fixture.rowsQuery))
            var total = 0
            for row in result.resultSets[0] {
                for index in 0..<4 {
                    let value = row[index]
                    if let count = value.byteCount {
                        total &+= count
                        if count > 0 { total &+= value.withUnsafeBytes { Int($0[0]) } ?? 0 }
                    }
                }
            }
            blackHole(total)
        }
    }

    Benchmark("10000 rows / raw C", configuration: .init(maxIterations: 300)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(fixture.rawQuery(Fixture.rowsQuery))
        }
    }
}
