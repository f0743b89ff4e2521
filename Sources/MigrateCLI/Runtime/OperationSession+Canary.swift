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
        let writer = CanaryProxyWriter(
            configuration: connection,
            table: settings.table,
            runID: "migrate-cli-" + String(UUID().uuidString.prefix(8)).lowercased()
        )
        let check: PreflightCheck
        do {
            let grants = try await writer.grants().compactMap(ServerInspection.Grant.init(parsing:))
            check = Canary.grantCheck(grants: grants, database: settings.database, table: settings.table)
        } catch {
            try? await writer.cleanUp()
            throw EndpointUnavailable(endpoint: .canary, address: settings.address.description, underlying: error)
        }
        guard check.status != .fail else {
            try? await writer.cleanUp()
            throw CanaryCheckFailed(check: check)
        }
        let (result, report) = try await Canary.measure(
            writer: writer,
            options: Canary.Options(interval: settings.interval, writeTimeout: settings.writeTimeout),
            logger: environment.logger,
            during: body
        )
        output(
            json
                ? CanaryRendering.jsonEvent(report, operation: operation.rawValue).serialized + "\n"
                : "\(report) (through \(settings.address) as the canary account; the number to watch)\n"
        )
        return result
    }
}
