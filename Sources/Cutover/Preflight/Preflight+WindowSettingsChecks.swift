import Logging
import ProxySQLAdmin

extension Preflight {
    /// `proxysql.window-settings`: the ProxySQL settings that stretch what clients see of a writer window
    /// (``ProxyWindowSettings``), on every node's runtime.
    static let windowSettingsCheck = Definition(
        id: "proxysql.window-settings",
        title: "ProxySQL settings that stretch the write window (connect_retries_delay, connect_timeout_server_max)",
        remedyOnError: { _ in proxyAdminRemedy + "; the admin account must read runtime_global_variables" },
        check: Preflight.checkWindowSettings
    )

    func checkWindowSettings(_ logger: Logger) async throws -> Outcome {
        let read = await ProxyWindowSettings.read(from: proxies, logger: logger)
        var findings = Findings()
        for (_, settings) in read.successes {
            for finding in settings.findings(policy: policy) {
                switch finding.status {
                case .pass: findings.pass(finding.message)
                case .warn: findings.warn(finding.message, remedy: finding.remedy ?? "")
                case .fail: findings.fail(finding.message, remedy: finding.remedy ?? "")
                }
            }
        }
        for failure in read.failures {
            findings.fail("\(failure.node): \(failure.error)", remedy: Self.proxyAdminRemedy)
        }
        return findings.outcome(ifEmpty: .pass("no ProxySQL node"))
    }
}
