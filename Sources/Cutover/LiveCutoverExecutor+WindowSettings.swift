import Logging
import ProxySQLAdmin

extension LiveCutoverStep {
    /// The guards' part of the ProxySQL settings that stretch a writer window (``ProxyWindowSettings``): a `fail`
    /// blocks, a `warn` is reported as a note with the number it adds, and a node whose variables cannot be read
    /// is reported too (the other guards read every node and block on one that does not answer).
    func proxyWindowSettingsReasons(context: CutoverExecutionContext) async -> [BlockingReason] {
        let proxies = environment.proxies.boundingEachStatement(by: policy.adminStatementTimeout)
        let read = await ProxyWindowSettings.read(from: proxies, logger: context.logger)
        var reasons: [BlockingReason] = []
        for (_, settings) in read.successes {
            for finding in settings.findings(policy: policy) {
                switch finding.status {
                case .pass:
                    break
                case .warn:
                    context.report(.note("guards: \(finding.message)" + (finding.remedy.map { " — \($0)" } ?? "")))
                case .fail:
                    reasons.append(
                        BlockingReason(
                            check: "proxysql.window-settings", message: finding.message,
                            remedy: finding.remedy ?? "see Documentation/configuration.md"))
                }
            }
        }
        for failure in read.failures {
            context.report(.note("guards: \(failure.node): cannot read the window settings: \(failure.error)"))
        }
        return reasons
    }
}
