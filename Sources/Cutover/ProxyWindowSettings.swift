public import ProxySQLAdmin
import Logging

extension ProxySQLVariable.Name {
    /// `mysql-connect_retries_delay` (default 1 ms): a session waiting for a hostgroup with no usable server looks
    /// again only this often (ProxySQL 2.7.1 `MySQL_Session::handler_again___status_CONNECTING_SERVER` sets
    /// `pause_until`; a `LOAD` that puts a server `ONLINE` wakes no one).
    public static let connectRetriesDelay: Self = "mysql-connect_retries_delay"
}

/// The ProxySQL settings that stretch what clients see of a writer switch, as read on one node, and the verdict on
/// them (pure: the preflight check and the guards read the values and ask ``findings(policy:)``).
///
/// - `mysql-connect_retries_delay`: a client whose statement waits for the writer hostgroup during the window sees
///   the new writer only at its next re-check, up to this many milliseconds after the window closed (measured on a
///   real ProxySQL 2.7.1: at 1000 ms, clients waited ~1 s past a 20 ms window).
/// - `mysql-connect_timeout_server_max`: how long such a statement waits at most; if the window can last longer,
///   clients get error 9001 (`Max connect timeout reached`) instead of a late answer.
public struct ProxyWindowSettings: Sendable, Hashable {
    /// `mysql-connect_retries_delay` above this only warns: it adds up to that many milliseconds per waiting client.
    public static let retriesDelayWarning = 10
    /// `mysql-connect_retries_delay` at or above this refuses the switch: every blocked client would wait that much
    /// longer than the window (set it back to 1, ProxySQL's default, for the migration).
    public static let retriesDelayRefusal = 100
    /// The allowance for the admin round trips inside the window (3 LOADs and a few reads, 2–3 ms each measured on a
    /// real ProxySQL 2.7.1), added to the deadlines for the worst-case window.
    public static let adminRoundTripAllowance = Duration.milliseconds(100)

    /// The node the values come from.
    public var node: String
    /// `mysql-connect_retries_delay` in milliseconds, nil when the node did not report it.
    public var connectRetriesDelay: Int?
    /// `mysql-connect_timeout_server_max` in milliseconds, nil when the node did not report it.
    public var connectTimeoutServerMax: Int?

    /// Creates a reading.
    public init(node: String, connectRetriesDelay: Int?, connectTimeoutServerMax: Int?) {
        self.node = node
        self.connectRetriesDelay = connectRetriesDelay
        self.connectTimeoutServerMax = connectTimeoutServerMax
    }

    /// Reads the values from a node's `global_variables` answer (names with their `mysql-` prefix).
    public init(node: String, variables: [ProxySQLVariable]) {
        func integer(_ name: ProxySQLVariable.Name) -> Int? {
            variables.first { $0.name == name }?.intValue
        }
        self.init(
            node: node, connectRetriesDelay: integer(.connectRetriesDelay),
            connectTimeoutServerMax: integer(.connectTimeoutServerMax))
    }

    /// The variables to read.
    public static let names: [ProxySQLVariable.Name] = [.connectRetriesDelay, .connectTimeoutServerMax]

    /// The longest a writer window of `policy` can hold a client: the drain and catch-up deadlines, the fence's
    /// bound when the old writer is fenced, and the admin round trips.
    public static func worstCaseWindow(_ policy: CutoverPolicy) -> Duration {
        policy.drainDeadline + policy.catchUpDeadline + (policy.fenceOldWriter ? policy.fenceTimeout : .zero)
            + adminRoundTripAllowance
    }

    /// One verdict.
    public struct Finding: Sendable, Hashable {
        /// How it came out (pass, warn, fail).
        public var status: PreflightCheck.Status
        /// What was found, with the number it adds.
        public var message: String
        /// What to do (nil for a pass).
        public var remedy: String?
    }

    /// The verdicts on these values for a writer switch under `policy`.
    public func findings(policy: CutoverPolicy) -> [Finding] {
        var findings: [Finding] = []
        let setDelay =
            "on \(node): UPDATE global_variables SET variable_value = '1' WHERE variable_name = "
            + "'mysql-connect_retries_delay'; LOAD MYSQL VARIABLES TO RUNTIME (ProxySQL's default; put it back after "
            + "the migration if you need it)"
        switch connectRetriesDelay {
        case nil:
            findings.append(
                Finding(
                    status: .warn,
                    message: "\(node): mysql-connect_retries_delay not reported: cannot tell how late waiting clients "
                        + "see the new writer",
                    remedy: "check that the admin account reads global_variables on \(node)"))
        case let delay? where delay >= Self.retriesDelayRefusal:
            findings.append(
                Finding(
                    status: .fail,
                    message: "\(node): mysql-connect_retries_delay is \(delay) ms: a client waiting for the writer "
                        + "during the window sees the new writer only at its next re-check, up to \(delay) ms after "
                        + "the window closes",
                    remedy: setDelay))
        case let delay? where delay > Self.retriesDelayWarning:
            findings.append(
                Finding(
                    status: .warn,
                    message: "\(node): mysql-connect_retries_delay is \(delay) ms: adds up to \(delay) ms per client "
                        + "waiting for the writer during the window",
                    remedy: setDelay))
        case let delay?:
            findings.append(
                Finding(
                    status: .pass,
                    message: "\(node): mysql-connect_retries_delay \(delay) ms (adds at most \(delay) ms per waiting "
                        + "client)"))
        }
        let worst = Self.worstCaseWindow(policy)
        let worstMilliseconds = Int(worst.components.seconds * 1_000 + worst.components.attoseconds / 1_000_000_000_000_000)
        switch connectTimeoutServerMax {
        case nil:
            findings.append(
                Finding(
                    status: .warn,
                    message: "\(node): mysql-connect_timeout_server_max not reported: cannot tell whether clients "
                        + "blocked by the window get error 9001",
                    remedy: "check that the admin account reads global_variables on \(node)"))
        case let maximum? where maximum <= worstMilliseconds:
            findings.append(
                Finding(
                    status: .fail,
                    message: "\(node): mysql-connect_timeout_server_max is \(maximum) ms, not above the worst-case "
                        + "window of \(worstMilliseconds) ms (drain-deadline + catch-up-deadline"
                        + (policy.fenceOldWriter ? " + fence-timeout" : "") + " + admin round trips): a client "
                        + "blocked that long gets error 9001 instead of its answer",
                    remedy: "on \(node): raise mysql-connect_timeout_server_max above \(worstMilliseconds) ms (10000 is "
                        + "ProxySQL's default) and LOAD MYSQL VARIABLES TO RUNTIME, or shorten policy.drain-deadline / "
                        + "policy.catch-up-deadline"))
        case let maximum?:
            findings.append(
                Finding(
                    status: .pass,
                    message: "\(node): mysql-connect_timeout_server_max \(maximum) ms, above the worst-case window of "
                        + "\(worstMilliseconds) ms"))
        }
        return findings
    }
}

extension ProxyWindowSettings {
    /// Reads the settings from every node's runtime (`runtime_global_variables`): a variable the node does not
    /// know is nil (the verdict warns); a node that cannot be read is a failure of the result.
    static func read(from proxies: ProxySQLCluster, logger: Logger) async -> ClusterResult<ProxyWindowSettings> {
        await proxies.forEachNode("read window settings", logger: logger) { node, logger in
            var variables: [ProxySQLVariable] = []
            for name in names {
                do {
                    variables.append(try await node.variable(name, layer: .runtime, logger: logger))
                } catch let error as ProxySQLAdminError where error.code == .notFound {
                    continue
                }
            }
            return ProxyWindowSettings(node: node.nodeName, variables: variables)
        }
    }
}
