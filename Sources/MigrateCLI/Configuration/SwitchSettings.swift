import Cutover
import Foundation

/// The `switch` section (#15 item 2): a writer switch without ProxySQL. The applications find the writer through
/// something the operator's command changes (DNS, a secret, a config file); the tool fences the old writer, proves
/// catch-up, starts reverse replication, runs the command and measures the window.
enum SwitchSettings {
    /// The default bound on the switch command.
    static let defaultCommandTimeout: Duration = .seconds(60)
    /// The default bound on waiting for the first write on the new writer.
    static let defaultObserveTimeout: Duration = .seconds(60)

    /// The configuration fields of the section, for ``ConfigurationSchema``.
    static var schemaFields: [ConfigurationField] {
        [
            ConfigurationField(pattern: ["switch", "cutover-command"], kind: .text, summary: "without ProxySQL: command (run by /bin/sh -c) that points the applications at Aurora; runs after the fence, catch-up and reverse replication, and is the point of no return"),
            ConfigurationField(pattern: ["switch", "failback-command"], kind: .text, summary: "without ProxySQL: command that points the applications back at the source (failback writers)"),
            ConfigurationField(pattern: ["switch", "timeout"], kind: .duration, defaultValue: HumanDuration.format(defaultCommandTimeout), summary: "bound on the switch command (killed after it; the run then stops past the point of no return)"),
            ConfigurationField(pattern: ["switch", "observe-timeout"], kind: .duration, defaultValue: HumanDuration.format(defaultObserveTimeout), summary: "how long to wait for the first write on the new writer after the command (the window's end)"),
        ]
    }
}

extension FieldReader {
    /// Whether any `switch.*` field is set.
    var hasSwitchSection: Bool { raw.values.keys.contains { $0.segments.first == "switch" } }

    /// Whether any `proxysql.*` field or node is set.
    var hasProxySQLSection: Bool {
        !raw.nodeNames.isEmpty || raw.values.keys.contains { $0.segments.first == "proxysql" }
    }

    /// The `switch` section, nil when absent. Records an issue when both `proxysql` and `switch` are set, and when a
    /// command is missing.
    mutating func switchSettings() -> HookSwitch.Settings? {
        guard hasSwitchSection else { return nil }
        if hasProxySQLSection {
            let proxyKey = raw.values.keys.filter { $0.segments.first == "proxysql" }.sorted().first?.description ?? "proxysql.nodes"
            problem(
                "switch",
                "both a `proxysql` section (\(proxyKey)) and a `switch` section are set: choose one way to move the writer — "
                    + "ProxySQL routing (remove `switch`), or a switch command for applications that find the database without a proxy (remove `proxysql`)")
        }
        let cutover = text("switch.cutover-command")
        let failback = text("switch.failback-command")
        for (key, what) in [
            ("switch.cutover-command", "the command that points the applications at Aurora (for example a DNS update, or a script that rewrites their config)"),
            ("switch.failback-command", "the command that points them back at the source; `failback writers` is the way back, so it is required"),
        ] where !has(key) {
            problem(key, "missing: \(what)")
        }
        let timeout = duration("switch.timeout") ?? SwitchSettings.defaultCommandTimeout
        let observe = duration("switch.observe-timeout") ?? SwitchSettings.defaultObserveTimeout
        guard let cutover, let failback else { return nil }
        return HookSwitch.Settings(cutoverCommand: cutover, failbackCommand: failback, commandTimeout: timeout, observeTimeout: observe)
    }
}
