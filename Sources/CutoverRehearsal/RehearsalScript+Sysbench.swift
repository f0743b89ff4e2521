import Cutover
import CutoverSandbox
import Logging
import MariaDB
import Synchronization

/// sysbench running beside the rehearsal's own load: started when the load is, awaited after the switches.
final class SysbenchRun: Sendable {
    private let task = Mutex<Task<SysbenchReport, any Error>?>(nil)

    func start(_ load: SysbenchLoad, for duration: Duration) {
        task.withLock { $0 = Task { try await load.run(for: duration) } }
    }

    /// Waits for sysbench's own end (its `--time`); nil when it never started.
    func finish(progress: @Sendable (RehearsalScript.Event) -> Void) async throws -> SysbenchReport? {
        guard let task = task.withLock({ $0 }) else { return nil }
        progress(.note("waiting for sysbench to finish its run"))
        let report = try await task.value
        progress(.note("sysbench: \(report)"))
        return report
    }
}

extension RehearsalScript {
    /// Creates `sbtest1` on the source (as root: the application account only reads and writes rows) and returns
    /// the driver that runs through the writer port, or nil when the workload has no sysbench.
    static func prepareSysbench(
        _ rehearsal: Rehearsal, options: Options, progress: @Sendable (Event) -> Void
    ) async throws -> SysbenchLoad? {
        guard let workload = options.application.sysbench else { return nil }
        guard SysbenchLoad.isAvailable() else {
            throw SysbenchError(message: "sysbench is not installed (apt-get install sysbench)")
        }
        var endpoint = rehearsal.writerEndpoint
        endpoint.database = rehearsal.options.schema.database
        let load = SysbenchLoad(configuration: SysbenchLoad.Configuration(endpoint: endpoint, workload: workload))
        progress(.note("sysbench prepare: \(load.configuration.tableSize) rows in \(endpoint.database ?? "").sbtest1 on the source"))
        try await load.prepare(through: rehearsal.source.rootConfiguration)
        return load
    }

    /// Counts `sbtest1` on the final writer and compares with sysbench's counters (``SysbenchCheck``).
    static func checkSysbench(_ rehearsal: Rehearsal, report: SysbenchReport, switches: [Switch], logger: Logger)
        async throws -> SysbenchCheck
    {
        let writerSwitches = switches.filter { $0.operation.movesWriter && $0.report.outcome == .completed }
        let finalIsTarget = writerSwitches.last.map { $0.operation.to == .target } ?? false
        let server = finalIsTarget ? rehearsal.target : rehearsal.source
        let connection = try await server.connectAsRoot(logger: logger)
        let database = rehearsal.options.schema.database
        do {
            let row = try await connection.queryFirst("SELECT COUNT(*) FROM \(identifier: database).sbtest1")
            await connection.close()
            let rows = row.flatMap { Int($0[0].string ?? "") } ?? -1
            return SysbenchCheck(rows: rows, prepared: 1000, report: report)
        } catch {
            await connection.close()
            throw error
        }
    }
}
