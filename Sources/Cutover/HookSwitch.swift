import Foundation

/// The writer switch without ProxySQL (issue #15, item 2): the read-only window, automated.
///
/// Teams without a proxy find the database by DNS name, a secret or a config file. The switch is then: the old writer
/// fenced read-only (writes fail with 1290, reads go on), the new writer catches up with the old one's final position,
/// forward replication stops, the new writer is made writable, reverse replication starts (so a failback loses
/// nothing), and an operator-supplied **switch command** points the applications at the new writer. That command is
/// the point of no return. The tool then observes writes arriving on the new writer (its own binlog position moving)
/// and reports the window: fence → first write observed there.
///
/// This file holds the values and the pure guard verdict; ``HookSwitchMachine`` decides the steps and
/// ``HookSwitchRun`` performs them.
public enum HookSwitch {
    /// Which way the writer moves.
    public enum Direction: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        /// Source → target (Aurora): `cutover writers`.
        case cutover
        /// Target → source: `failback writers`.
        case failback

        /// The writer before the switch.
        public var oldWriter: DatabaseRole { self == .cutover ? .source : .target }
        /// The writer after the switch.
        public var newWriter: DatabaseRole { oldWriter.other }
        /// The operation it corresponds to in the ProxySQL path (for messages and the journal).
        public var operation: CutoverOperation { self == .cutover ? .writerCutover : .writerFailback }
        public var description: String { rawValue }
    }

    /// The operator's switch command and its bounds (`switch` section of the configuration).
    public struct Settings: Sendable, Hashable, Codable {
        /// The command (run by `/bin/sh -c`) that points the applications at the new writer, for `cutover`.
        public var cutoverCommand: String
        /// The command that points them back at the source, for `failback`.
        public var failbackCommand: String
        /// Bound on the command: killed (SIGTERM, then SIGKILL) when it runs longer.
        public var commandTimeout: Duration
        /// How long to wait for the first write on the new writer after the command.
        public var observeTimeout: Duration

        /// Creates settings.
        public init(cutoverCommand: String, failbackCommand: String, commandTimeout: Duration, observeTimeout: Duration) {
            self.cutoverCommand = cutoverCommand
            self.failbackCommand = failbackCommand
            self.commandTimeout = commandTimeout
            self.observeTimeout = observeTimeout
        }

        /// The command of `direction`.
        public func command(for direction: Direction) -> String {
            direction == .cutover ? cutoverCommand : failbackCommand
        }
    }

    /// The environment the switch command runs with (documented in Documentation/configuration.md): the old and new
    /// endpoints, the operation and the run id. Never a password. The process's own environment is passed on too
    /// (PATH, the operator's cloud credentials), minus variables that libmariadb would read (`MYSQL_PWD`).
    public static func commandEnvironment(
        direction: Direction, oldWriter: ServerEndpointText, newWriter: ServerEndpointText, runID: String
    ) -> [String: String] {
        [
            "MIGRATE_SWITCH_OPERATION": direction.operation.rawValue,
            "MIGRATE_SWITCH_DIRECTION": direction.rawValue,
            "MIGRATE_SWITCH_OLD_HOST": oldWriter.host,
            "MIGRATE_SWITCH_OLD_PORT": String(oldWriter.port),
            "MIGRATE_SWITCH_NEW_HOST": newWriter.host,
            "MIGRATE_SWITCH_NEW_PORT": String(newWriter.port),
            "MIGRATE_SWITCH_OLD_ENDPOINT": "\(oldWriter.host):\(oldWriter.port)",
            "MIGRATE_SWITCH_NEW_ENDPOINT": "\(newWriter.host):\(newWriter.port)",
            "MIGRATE_SWITCH_RUN_ID": runID,
        ]
    }

    /// A host and port as the applications reach a writer.
    public struct ServerEndpointText: Sendable, Hashable, Codable {
        public var host: String
        public var port: Int

        /// Creates an endpoint.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// What the guards look at, read before anything changes.
    public struct Facts: Sendable, Hashable {
        /// The new writer's replication (it must replicate from the old writer), nil when it replicates from nobody.
        public var newWriterReplication: ReplicaHealth?
        /// The old writer's read-only switches and identity, nil when they could not be read.
        public var oldWriter: DatabaseSafetyFacts?
        /// The new writer's, likewise.
        public var newWriter: DatabaseSafetyFacts?
        /// Whether the tool can set `read_only` on the old writer (false on Aurora: no `SET GLOBAL`).
        public var oldWriterCanFence: Bool
        /// Whether the tool can turn `read_only` off on the new writer (false on Aurora).
        public var newWriterCanLiftReadOnly: Bool
        /// Write transactions open longer than the policy's limit on the old writer.
        public var longTransactions: [LongTransaction]
        /// The configured switch command for this direction (empty: none).
        public var command: String
        /// A fact that could not be read (`source: connection refused`).
        public var readErrors: [String]
        /// What the replication started after the switch needs (binary logs, formats, GTID modes, retention, the
        /// account's login; issue #13 item 5), nil when the databases do not report it (test doubles).
        public var reversePrerequisites: ReversePrerequisites.Facts? = nil

        /// Creates facts.
        public init(
            newWriterReplication: ReplicaHealth?, oldWriter: DatabaseSafetyFacts?, newWriter: DatabaseSafetyFacts?,
            oldWriterCanFence: Bool, newWriterCanLiftReadOnly: Bool, longTransactions: [LongTransaction] = [],
            command: String, readErrors: [String] = []
        ) {
            self.newWriterReplication = newWriterReplication
            self.oldWriter = oldWriter
            self.newWriter = newWriter
            self.oldWriterCanFence = oldWriterCanFence
            self.newWriterCanLiftReadOnly = newWriterCanLiftReadOnly
            self.longTransactions = longTransactions
            self.command = command
            self.readErrors = readErrors
        }

        /// Whether the old writer is read-only already (set by the operator, for example in Aurora's parameter group).
        public var oldWriterAlreadyReadOnly: Bool {
            oldWriter?.readOnly == true || oldWriter?.superReadOnly == true
        }

        /// Whether the new writer has `read_only` on (the switch must turn it off).
        public var newWriterReadOnly: Bool { newWriter?.readOnly == true || newWriter?.superReadOnly == true }
    }

    /// The guards: each failed one is a refusal with its remedy; empty means the switch may start. Nothing has been
    /// changed when they refuse.
    public static func blockingReasons(
        _ facts: Facts, direction: Direction, policy: CutoverPolicy, names: (old: String, new: String)
    ) -> [BlockingReason] {
        var reasons: [BlockingReason] = []
        for error in facts.readErrors {
            reasons.append(BlockingReason(
                check: "switch.read", message: "could not read \(error)",
                remedy: "make both writers reachable with the configured accounts (`migrate-cli check`), then run again"))
        }
        if facts.command.trimmingCharacters(in: .whitespaces).isEmpty {
            let key = direction == .cutover ? "switch.cutover-command" : "switch.failback-command"
            reasons.append(BlockingReason(
                check: "switch.command", message: "no switch command for \(direction) (\(key) is empty)",
                remedy: "set \(key) to the command that points the applications at \(names.new)"))
        }
        if let health = facts.newWriterReplication {
            if !health.isRunning {
                reasons.append(BlockingReason(
                    check: "replication.running", message: "\(names.new) does not replicate cleanly from \(names.old): \(health)",
                    remedy: "fix replication (`migrate-cli status`); the switch proves catch-up through it"))
            } else if let lag = health.secondsBehind, Duration.seconds(lag) > policy.lagBudget {
                reasons.append(BlockingReason(
                    check: "replication.lag", message: "\(names.new) is \(lag) s behind \(names.old), over the lag budget",
                    remedy: "wait until the lag is under policy.lag-budget: the read-only window lasts at least the catch-up"))
            }
        } else if facts.readErrors.isEmpty {
            reasons.append(BlockingReason(
                check: "replication.running", message: "\(names.new) replicates from nobody: nothing proves it has \(names.old)'s writes",
                remedy: direction == .cutover
                    ? "start forward replication first (`migrate-cli replication start-forward`)"
                    : "reverse replication is started by `cutover writers`; without it a failback would lose Aurora's writes"))
        }
        if !facts.oldWriterCanFence && !facts.oldWriterAlreadyReadOnly {
            reasons.append(BlockingReason(
                check: "switch.fence", message: "\(names.old) cannot be made read-only by the tool (no SET GLOBAL: Aurora or RDS), and without a proxy the fence is the only thing that stops writes there",
                remedy: "set read_only = 1 in \(names.old)'s DB (cluster) parameter group and wait until `SELECT @@read_only` shows 1 (the window starts then), then run again: the tool checks the fence instead of setting it"))
        }
        if facts.newWriterReadOnly && !facts.newWriterCanLiftReadOnly {
            reasons.append(BlockingReason(
                check: "switch.writable", message: "\(names.new) has read_only on and the tool cannot turn it off (no SET GLOBAL)",
                remedy: "set read_only = 0 in \(names.new)'s DB (cluster) parameter group, then run again"))
        }
        if facts.newWriter?.innodbReadOnly == true {
            reasons.append(BlockingReason(
                check: "switch.writable", message: "\(names.new) has innodb_read_only on (an Aurora reader instance?)",
                remedy: "point target.writer at the cluster (writer) endpoint"))
        }
        if let old = facts.oldWriter?.serverID, let new = facts.newWriter?.serverID, old == new {
            reasons.append(BlockingReason(
                check: "switch.identity", message: "\(names.old) and \(names.new) have the same server_id \(old): they may be one server",
                remedy: "check source.host and target.writer.host"))
        }
        if !facts.longTransactions.isEmpty {
            reasons.append(BlockingReason(
                check: "transactions.long", message: "write transactions open on \(names.old): \(facts.longTransactions.map(\.description).joined(separator: "; "))",
                remedy: "let them finish (the fence kills them: their writes would be lost to the client), then run again"))
        }
        // The replication the switch starts after its point of no return (the way back): a refusal now, not a
        // one-way trip (issue #13 item 5, ADR 0017).
        if let prerequisites = facts.reversePrerequisites {
            reasons += ReversePrerequisites.blockingReasons(prerequisites)
        }
        return reasons
    }

    /// The steps of a switch, in order, for `plan` and `--dry-run`: what each does and where.
    public static func plannedSteps(direction: Direction, fenceBySetting: Bool, liftNewReadOnly: Bool)
        -> [(step: String, endpoint: DatabaseRole?, detail: String)]
    {
        let old = direction.oldWriter, new = direction.newWriter
        var steps: [(String, DatabaseRole?, String)] = [
            ("guards", nil, "replication from \(old) running and under the lag budget, the fence possible, the switch command set"),
        ]
        if fenceBySetting {
            steps.append(("fence", old, "SET GLOBAL super_read_only = ON (MySQL) / read_only = ON: WINDOW STARTS (writes get 1290)"))
        } else {
            steps.append(("fence", old, "check @@read_only = 1 (set by the operator): WINDOW STARTS"))
        }
        steps += [
            ("close-sessions", old, "KILL every client session (open write transactions end; their clients see 2013)"),
            ("read-final-position", old, "SHOW MASTER STATUS / GTID state, after the fence"),
            ("catch-up", new, "MASTER_POS_WAIT / MASTER_GTID_WAIT / WAIT_FOR_EXECUTED_GTID_SET on the final position"),
            ("stop-forward-replication", new, "stop and reset replication from \(old)"),
        ]
        if liftNewReadOnly { steps.append(("make-writable", new, "SET GLOBAL read_only = OFF")) }
        steps += [
            ("read-new-position", new, "its binlog position: reverse replication starts there"),
            ("start-reverse-replication", old, "replicate from \(new) at that position, and verify it runs"),
            ("switch-command", nil, "run the \(direction) switch command: POINT OF NO RETURN"),
            ("observe-writes", new, "poll its binlog position until it moves: WINDOW ENDS at the first write seen"),
        ]
        return steps
    }
}
