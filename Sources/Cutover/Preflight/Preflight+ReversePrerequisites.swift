public import Logging
import ProxySQLAdmin
import ReplicationControl

extension Preflight {
    /// How preflight logs in with the reverse-replication account (``ReversePrerequisites/Login``): the probe and the
    /// configured password. Never printed.
    public struct ReplicationLogin: Sendable {
        /// What logs in.
        public var probe: any ReplicationLoginProbing
        /// The password of ``CutoverTopology/reverseReplicationUser``; nil when none is configured (not probed).
        public var password: String?

        /// Creates the login; the live probe by default.
        public init(probe: any ReplicationLoginProbing = ReplicationLoginProbe(), password: String?) {
            self.probe = probe
            self.password = password
        }
    }

    /// The checks of what reverse replication needs (issue #13 item 5), decided by ``ReversePrerequisites``: each
    /// `fail` there fails here (and refuses the writer switch in its guards). `target.binlog` checks `log_bin`, and
    /// `target.binlog-retention` the retention, with the same verdicts.
    static let reversePrerequisiteChecks: [Definition] = [
        Definition(
            id: "reverse-replication.binlog-format",
            title: "binlog_format ROW on both servers (for reverse replication)",
            remedyOnError: { _ in "check that the preflight account can run SHOW GLOBAL VARIABLES on both servers" },
            check: Preflight.checkReverseBinlogFormat
        ),
        Definition(
            id: "reverse-replication.gtid-mode",
            title: "gtid_mode values that replicate both ways",
            remedyOnError: { _ in "check that the preflight account can run SHOW GLOBAL VARIABLES on both servers" },
            check: Preflight.checkReverseGTIDMode
        ),
        Definition(
            id: "reverse-replication.login",
            title: "Reverse-replication account logs in to the target with REPLICATION SLAVE",
            remedyOnError: { preflight in
                "check that \(preflight.topology.targetReplicationEndpoint) is reachable from here"
            },
            check: Preflight.checkReverseLogin
        ),
    ]

    /// The cut-over direction's server facts: the target is the new writer, the source the old one.
    func reverseServerFacts(_ role: DatabaseRole, _ facts: Facts, _ logger: Logger) async throws
        -> ReversePrerequisites.ServerFacts
    {
        let server = inspector(role)
        let binlog = try await binlogSettings(role, facts, logger)
        // Cached as the whole (non-optional) facts: the cache cannot hold an optional value.
        return try await facts.value("\(role).reverse-facts") {
            ReversePrerequisites.ServerFacts(
                name: server.name, binlog: binlog, rdsConfiguration: try await server.rdsConfiguration(logger: logger))
        }
    }

    /// The facts of the replication the writer cut-over starts (the source replicating from the target), without
    /// the login.
    func reverseFacts(_ facts: Facts, _ logger: Logger) async throws -> ReversePrerequisites.Facts {
        let replication = topology.replicationAfterSwitch(to: .target)
        return ReversePrerequisites.Facts(
            newWriter: try await reverseServerFacts(.target, facts, logger),
            oldWriter: try await reverseServerFacts(.source, facts, logger),
            account: replication.user, endpoint: replication.endpoint, configurationSection: replication.section,
            login: nil)
    }

    /// Verdicts as one outcome: the worst status, every detail, the remedies of what is not a pass.
    static func outcome(_ verdicts: [ReversePrerequisites.Verdict]) -> Outcome {
        var findings = Findings()
        for verdict in verdicts {
            switch verdict.status {
            case .pass: findings.pass(verdict.detail)
            case .warn: findings.warn(verdict.detail, remedy: verdict.remedy ?? "")
            case .fail: findings.fail(verdict.detail, remedy: verdict.remedy ?? "")
            }
        }
        return findings.outcome(ifEmpty: .pass(""))
    }

    func checkReverseBinlogFormat(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        Self.outcome(ReversePrerequisites.binlogFormat(try await reverseFacts(facts, logger)))
    }

    func checkReverseGTIDMode(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        let reverse = try await reverseFacts(facts, logger)
        return Self.outcome([ReversePrerequisites.gtidMode(new: reverse.newWriter, old: reverse.oldWriter)])
    }

    func checkReverseLogin(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        let reverse = try await reverseFacts(facts, logger)
        let login: ReversePrerequisites.Login
        if let replicationLogin, let password = replicationLogin.password {
            login = await replicationLogin.probe.probe(
                reverse.endpoint, user: reverse.account, password: password, tls: topology.reverseReplicationTLS,
                logger: logger)
        } else if replicationLogin == nil {
            login = .notProbed(reason: "this preflight was not given the account's password")
        } else {
            login = .notProbed(reason: "no password is configured for replication.reverse")
        }
        return Self.outcome([ReversePrerequisites.login(login, facts: reverse)])
    }

    /// `binlog retention hours` (RDS, Aurora) or the binary logs' expiry (self-managed) of the target, the new
    /// writer of a cut-over: under ``Options/minimumBinlogRetentionHours`` fails.
    func checkReverseBinlogRetention(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        let target = try await reverseServerFacts(.target, facts, logger)
        return Self.outcome([
            ReversePrerequisites.binlogRetention(target, minimumHours: options.minimumBinlogRetentionHours)
        ])
    }
}
