import Cutover
import Foundation
import Logging
import MariaDB
import ReplicationControl

/// The canary's grants do not allow what it must do: the run did not start, nothing was changed.
struct CanaryCheckFailed: Error, Sendable, CustomStringConvertible {
    var check: PreflightCheck
    var description: String { "canary: \(check.detail); \(check.remedy ?? "")nothing was changed" }
}

extension OperationSession {
    /// Runs `body` (the whole run) with the configured canary writing through ProxySQL, when `canary.enabled` is
    /// true; reports the canary's gap after the run's timeline (a `canary` event with `--json`).
    ///
    /// Before anything changes, the canary's grants are read through the proxy (`SHOW GRANTS`, answered by the
    /// current writer) and checked (`canary.grants`: CREATE, INSERT, DROP on its table); missing ones refuse the
    /// run. The table is created through the proxy before the run and dropped after it.
    func withCanary(
        _ operation: CutoverOperation,
        _ body: () async throws -> (CutoverReport, ExitStatus)
    ) async throws -> (CutoverReport, ExitStatus) {
        guard let settings = environment.configuration.canary else { return try await body() }
        var connection = try environment.connections.connectionConfiguration(for: .canary)
        connection.database = settings.database
        let runID = "migrate-cli-" + String(UUID().uuidString.prefix(8)).lowercased()
        // One writer through canary.host, or (canary.per-node) one per ProxySQL node through its data port; the
        // first creates and drops the table, the others only write.
        let targets: [(node: String, address: Address)] =
            settings.nodes.isEmpty ? [("canary", settings.address)] : settings.nodes.map { ($0.node, $0.address) }
        let writers = targets.enumerated().map { index, target in
            var configuration = connection
            configuration.endpoint = .tcp(host: target.address.host, port: target.address.port)
            return CanaryProxyWriter(
                configuration: configuration,
                table: settings.table,
                runID: settings.nodes.isEmpty ? runID : "\(runID)-\(target.node)",
                managesTable: index == 0
            )
        }
        func closeAll() async {
            for writer in writers { await writer.close() }
        }
        // The grants are read through every node (each data port must let the account in).
        for (writer, target) in zip(writers, targets) {
            let check: PreflightCheck
            do {
                let grants = try await writer.grants().compactMap(ServerInspection.Grant.init(parsing:))
                check = Canary.grantCheck(grants: grants, database: settings.database, table: settings.table)
            } catch {
                await closeAll()
                throw EndpointUnavailable(endpoint: .canary, address: target.address.description, underlying: error)
            }
            guard check.status != .fail else {
                await closeAll()
                throw CanaryCheckFailed(check: check)
            }
        }
        let nodes = zip(targets, writers).map { Canary.Node(name: $0.node, writer: $1) }
        let (result, report) = try await Canary.measure(
            nodes: nodes,
            options: Canary.Options(interval: settings.interval, writeTimeout: settings.writeTimeout),
            logger: environment.logger,
            during: body
        )
        let through = settings.nodes.isEmpty
            ? "through \(settings.address)"
            : "through the data port of each of \(settings.nodes.count) ProxySQL nodes"
        output(
            json
                ? CanaryRendering.jsonLines(report, operation: operation.rawValue)
                : CanaryRendering.textLines(report, prefix: "", suffix: " (\(through) as the canary account; the number to watch)")
        )
        return result
    }
}
