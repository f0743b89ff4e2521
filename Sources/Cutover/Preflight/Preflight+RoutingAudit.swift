import Logging
import ProxySQLAdmin

extension Preflight {
    /// One check per ``ProxySQLRoutingAudit/checks`` entry: what in ProxySQL, beyond the two rows the cut-over
    /// moves, could route writes around the switch or be published by its LOADs (#13 item 6). A finding that the
    /// writer switch's guards refuse is a `fail` here; the others warn.
    static let routingAuditChecks: [Definition] = ProxySQLRoutingAudit.checks.map { check in
        Definition(id: check.id, title: check.title, remedyOnError: { _ in proxyAdminRemedy }) { preflight, facts, logger in
            try await preflight.routingAudit(check.id, facts, logger)
        }
    }

    func routingAudit(_ id: String, _ facts: Facts, _ logger: Logger) async throws -> Outcome {
        let topology = topology
        let proxies = proxies
        let snapshots = try await facts.value("proxysql.routing-audit") {
            await ProxySQLRoutingAudit.read(proxies: proxies, topology: topology, operation: .writerCutover, logger: logger)
        }
        var findings = Findings()
        for (node, snapshot) in snapshots.successes {
            let found = ProxySQLRoutingAudit.findings(snapshot, topology: topology, operation: .writerCutover, policy: policy)
                .filter { $0.check == id }
            if found.isEmpty { findings.pass("\(node): nothing found") }
            for finding in found {
                if finding.blocks {
                    findings.fail(finding.message, remedy: finding.remedy)
                } else {
                    findings.warn(finding.message, remedy: finding.remedy)
                }
            }
        }
        for failure in snapshots.failures {
            findings.fail("\(failure.node): \(failure.error)", remedy: Self.proxyAdminRemedy)
        }
        return findings.outcome(ifEmpty: .pass("no ProxySQL node"))
    }
}
