import Cutover
import Testing

/// Preflight without ProxySQL (#15): the switch commands' checks, and the report without the `proxysql.*` checks.
@Suite("Hook switch: preflight")
struct HookSwitchPreflightTests {
    static let lookup = HookSwitch.ProgramLookup(
        isExecutable: { ["/usr/bin/aws", "/bin/sh", "/opt/switch/point.sh", "/usr/bin/bash"].contains($0) },
        exists: { ["/opt/switch/hook.sh"].contains($0) },
        searchPath: ["/usr/local/bin", "/usr/bin", "/bin"])

    static func check(_ command: String) -> PreflightCheck {
        HookSwitch.commandCheck(direction: .cutover, command: command, lookup: lookup)
    }

    @Test("a program on PATH, an executable path, a builtin, a shell with its script: pass")
    func runnable() {
        #expect(Self.check("aws route53 change-resource-record-sets --cli-input-json file://x.json").status == .pass)
        #expect(Self.check("aws route53 x").detail.contains("/usr/bin/aws"))
        #expect(Self.check("/opt/switch/point.sh --to \"$MIGRATE_SWITCH_NEW_ENDPOINT\"").status == .pass)
        #expect(Self.check("REGION=eu-west-1 aws ssm put-parameter").status == .pass, "leading assignments are skipped")
        #expect(Self.check("printf '%s' \"$MIGRATE_SWITCH_NEW_PORT\" > /etc/app/writer && systemctl reload app").status == .pass)
        #expect(Self.check("sh /opt/switch/hook.sh").status == .pass)
        #expect(Self.check("bash -c 'anything'").status == .pass, "a shell with -c runs a string, not a file")
        #expect(Self.check("sh /opt/switch/hook.sh").id == "switch.cutover-command")
    }

    @Test("empty, a missing or non-executable path, a program on no PATH directory, a shell's missing script: fail, naming it")
    func notRunnable() {
        let empty = Self.check("   ")
        #expect(empty.status == .fail && empty.detail.contains("switch.cutover-command is empty"))
        let path = Self.check("/opt/switch/missing.sh --go")
        #expect(path.status == .fail && path.detail.contains("/opt/switch/missing.sh"))
        let unknown = Self.check("kubectl rollout restart deploy/app")
        #expect(unknown.status == .fail && unknown.detail.contains("kubectl") && unknown.detail.contains("127"))
        let script = Self.check("sh /opt/switch/gone.sh")
        #expect(script.status == .fail && script.detail.contains("/opt/switch/gone.sh"))
        #expect(script.remedy?.contains("point of no return") == true)
    }

    @Test("the report without ProxySQL: the proxysql.* checks dropped, both commands checked, the rest kept")
    func report() {
        let base = PreflightReport(checks: [
            PreflightCheck(id: "replication.target", title: "t", status: .pass, detail: "running"),
            PreflightCheck(id: "proxysql.connectivity", title: "t", status: .fail, detail: "no ProxySQL node is configured"),
            PreflightCheck(id: "reverse-replication.login", title: "t", status: .pass, detail: "ok"),
        ])
        let settings = HookSwitch.Settings(
            cutoverCommand: "sh /opt/switch/hook.sh", failbackCommand: "/opt/switch/missing", commandTimeout: .seconds(5), observeTimeout: .seconds(5))
        let report = HookSwitch.preflightReport(base, settings: settings, lookup: Self.lookup)
        #expect(report.checks.map(\.id) == ["replication.target", "reverse-replication.login", "switch.cutover-command", "switch.failback-command"])
        #expect(report.blockingReasons.map(\.check) == ["switch.failback-command"])
    }
}
