import Cutover
@_spi(Testing) import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import Testing

/// A configuration with a `switch` section and no `proxysql` (#15): `config check`, `preflight`, `status`, `plan` and
/// `--dry-run` work through the built `migrate-cli` and report what applies (the databases, replication, the reverse
/// prerequisites, the switch commands), not a missing proxy.
@Suite("Switch mode: preflight, status, check without ProxySQL", .integration, .serialized)
struct SwitchModeInspectionTests {
    static var logger: Logger {
        var logger = Logger(label: "switch-inspection-tests")
        logger.logLevel = .info
        return logger
    }

    @Test func inspectionCommandsWorkWithoutProxySQL() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        let logger = Self.logger
        try await withRehearsal(options: Rehearsal.Options(adminLatency: .fast), logger: logger) { rehearsal in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switch-inspect-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let configuration = try HookSwitchResumeIntegrationTests.writeConfiguration(
                rehearsal: rehearsal, directory: directory, hook: "echo switched")
            let cli = ["--config", configuration]

            let check = try await MigrateBinary.run(["config", "check"] + cli, in: directory)
            #expect(check.code == 0, "\(check)")
            #expect(!check.standardOutput.lowercased().contains("proxysql-"), "no ProxySQL endpoint listed: \(check.standardOutput)")

            let preflight = try await MigrateBinary.run(["preflight", "--json"] + cli, in: directory)
            #expect(preflight.code == 0, "\(preflight)")
            let rows = preflight.objects.flatMap { object -> [[String]] in
                ((object["sections"] as? [[String: Any]]) ?? []).flatMap { ($0["rows"] as? [[String: String]]) ?? [] }
                    .map { [$0["status"] ?? "", $0["check"] ?? ""] }
            }
            #expect(!rows.isEmpty, "\(preflight.standardOutput)")
            let ids = Set(rows.map { $0[1] })
            #expect(!ids.contains { $0.hasPrefix("proxysql.") }, "no ProxySQL check without ProxySQL: \(ids.sorted())")
            #expect(ids.contains("switch.cutover-command") && ids.contains("switch.failback-command"), "\(ids.sorted())")
            #expect(ids.contains { $0.hasPrefix("replication.") } && ids.contains { $0.hasPrefix("reverse-replication.") }, "\(ids.sorted())")
            #expect(!rows.contains { $0.first == "FAIL" }, "\(rows.filter { $0.first == "FAIL" })")

            let status = try await MigrateBinary.run(["status"] + cli, in: directory)
            #expect(status.code == 0, "\(status)")
            #expect(status.standardOutput.contains("Replication"), "\(status.standardOutput)")
            #expect(!status.standardOutput.contains("ProxySQL routing"), "\(status.standardOutput)")
            #expect(status.standardOutput.contains("switch"), "the mode is named: \(status.standardOutput)")

            let plan = try await MigrateBinary.run(["plan", "writer-cutover"] + cli, in: directory)
            #expect(plan.code == 0 && plan.standardOutput.contains("POINT OF NO RETURN"), "\(plan)")
            let dry = try await MigrateBinary.run(["cutover", "writers", "--dry-run", "--json"] + cli, in: directory)
            #expect(dry.code == 0 && dry.standardOutput.contains("switch-command"), "\(dry)")
            // The failback's guards: nothing replicates from Aurora yet, said as such (not a missing proxy).
            let failback = try await MigrateBinary.run(["plan", "writer-failback"] + cli, in: directory)
            #expect(failback.code == 2 && failback.standardOutput.contains("replication.running"), "\(failback)")
            let readers = try await MigrateBinary.run(["plan", "reader-cutover"] + cli, in: directory)
            #expect(readers.code == 2, "\(readers)")

            // A switch command that does not exist fails its check, naming it.
            let broken = try HookSwitchResumeIntegrationTests.writeConfiguration(rehearsal: rehearsal, directory: directory, hook: "echo switched")
            let text = try String(contentsOfFile: broken, encoding: .utf8)
                .replacingOccurrences(of: "cutover-command: sh \(directory)/hook.sh", with: "cutover-command: \(directory)/no-such-script --go")
            try text.write(toFile: broken, atomically: true, encoding: .utf8)
            let failing = try await MigrateBinary.run(["preflight"] + cli, in: directory)
            #expect(failing.code == 2, "\(failing)")
            #expect(failing.standardOutput.contains("no-such-script"), "\(failing.standardOutput)")
        }
    }
}
