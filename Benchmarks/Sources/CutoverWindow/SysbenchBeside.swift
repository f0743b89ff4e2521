import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB

/// sysbench beside a scenario's load (issue #18): `sbtest1` prepared on the source as root, sysbench run through the
/// emulator's writer port as the application account, its rows counted on the final writer afterwards.
enum SysbenchBeside {
    /// The driver for `workload` (after `prepare`), or nil when the scenario runs no sysbench.
    static func prepare(_ workload: SysbenchLoad.Workload?, rehearsal: Rehearsal) async throws -> SysbenchLoad? {
        guard let workload else { return nil }
        guard SysbenchLoad.isAvailable() else {
            throw SysbenchError(message: "sysbench is not installed (apt-get install sysbench)")
        }
        var endpoint = rehearsal.writerEndpoint
        endpoint.database = rehearsal.options.schema.database
        let load = SysbenchLoad(configuration: SysbenchLoad.Configuration(endpoint: endpoint, workload: workload))
        try await load.prepare(through: rehearsal.source.rootConfiguration)
        return load
    }

    /// Counts `sbtest1` on the source (the final writer: runs alternate and end with a failback).
    static func check(_ report: SysbenchReport, load: SysbenchLoad, rehearsal: Rehearsal, logger: Logger) async throws
        -> SysbenchCheck
    {
        let connection = try await rehearsal.source.connectAsRoot(logger: logger)
        do {
            let row = try await connection.queryFirst(
                "SELECT COUNT(*) FROM \(identifier: rehearsal.options.schema.database).sbtest1")
            await connection.close()
            let rows = row.flatMap { Int($0[0].string ?? "") } ?? -1
            return SysbenchCheck(rows: rows, prepared: load.configuration.tableSize, report: report)
        } catch {
            await connection.close()
            throw error
        }
    }
}
