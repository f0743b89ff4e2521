public import Logging
import MariaDB
import ProxySQLAdmin
public import ReplicationControl

extension CutoverDatabase {
    /// Nil: this database does not report the facts reverse replication needs (test doubles).
    public func reversePrerequisiteFacts(logger: Logger) async throws -> ReversePrerequisites.ServerFacts? { nil }
}

extension ReplicationControlDatabase {
    /// `log_bin`, `binlog_format`, `gtid_mode`, the binary logs' expiry and, on RDS and Aurora, `CALL
    /// mysql.rds_show_configuration`, read over the database's session (the statements preflight sends).
    ///
    /// - Throws: `MariaDBError` or `ReplicationError` when they cannot be read.
    public func reversePrerequisiteFacts(logger: Logger) async throws -> ReversePrerequisites.ServerFacts? {
        guard let session = factsSession else { return nil }
        return try await ReversePrerequisites.ServerFacts.read(
            from: ServerInspector(session: session, name: name), logger: logger)
    }
}

extension ReversePrerequisites.ServerFacts {
    /// Reads one server's facts through `inspector` (two statements: `SHOW GLOBAL VARIABLES WHERE …` and `CALL
    /// mysql.rds_show_configuration`, the latter nil where the procedure does not exist).
    ///
    /// - Throws: `MariaDBError` or `ReplicationError`.
    public static func read(from inspector: any ServerInspecting, logger: Logger) async throws -> Self {
        let binlog = try await inspector.binlogSettings(logger: logger)
        let configuration = try await inspector.rdsConfiguration(logger: logger)
        return Self(name: inspector.name, binlog: binlog, rdsConfiguration: configuration)
    }
}

extension CutoverTopology {
    /// The replication a writer switch to `newWriter` starts after its point of no return: the old writer replicates
    /// from `newWriter` with this account, at this endpoint, with this TLS setting (`replication.reverse` when the new
    /// writer is the target, `replication.forward` when it is the source).
    func replicationAfterSwitch(to newWriter: DatabaseRole)
        -> (user: String, endpoint: ServerEndpoint, tls: ReplicationTLS, section: String)
    {
        newWriter == .target
            ? (reverseReplicationUser, targetReplicationEndpoint, reverseReplicationTLS, "replication.reverse")
            : (forwardReplicationUser, sourceReplicationEndpoint, forwardReplicationTLS, "replication.forward")
    }
}

extension CutoverEnvironment {
    /// What the replication a writer switch starts after its point of no return needs: both servers' facts and a
    /// login with the account the old writer will use (the ProxySQL switch's guards and the hook switch's read it).
    func readReversePrerequisites(for operation: CutoverOperation, logger: Logger) async
        -> GuardReading<ReversePrerequisites.Facts?>
    {
        let old = database(operation.from)
        let new = database(operation.to)
        let newFacts: ReversePrerequisites.ServerFacts?, oldFacts: ReversePrerequisites.ServerFacts?
        do {
            newFacts = try await new.reversePrerequisiteFacts(logger: logger)
            oldFacts = try await old.reversePrerequisiteFacts(logger: logger)
        } catch {
            return .unreadable("cannot read the binary-log settings of \(new.name) or \(old.name): \(error)")
        }
        let replication = topology.replicationAfterSwitch(to: operation.to)
        // Probed whenever a probe is set, even where the databases report no facts (the dry run's simulated ones), so
        // the plan lists the login and the journal records that it ran and what came of it (never the password).
        let login = await probeReplicationLogin(to: operation.to, logger: logger)
        guard let newFacts, let oldFacts else { return .read(nil) }
        var facts = ReversePrerequisites.Facts(
            newWriter: newFacts, oldWriter: oldFacts, account: replication.user,
            endpoint: replication.endpoint, configurationSection: replication.section, login: login)
        facts.tls = replication.tls
        return .read(facts)
    }
}

extension CutoverEnvironment {
    /// Logs in to `newWriter` with the account of the replication a writer switch to it starts after its point of no
    /// return (``CutoverTopology/replicationAfterSwitch(to:)``), and records the login in the journal's statements
    /// (never the password). Nil when no ``replicationLoginProbe`` is set. The guards' login and the watch after the
    /// ONLINE both go through here.
    func probeReplicationLogin(to newWriter: DatabaseRole, logger: Logger) async -> ReversePrerequisites.Login? {
        guard let probe = replicationLoginProbe else { return nil }
        let replication = topology.replicationAfterSwitch(to: newWriter)
        let password = newWriter == .target ? reverseReplicationPassword : forwardReplicationPassword
        let outcome = await probe.probe(
            replication.endpoint, user: replication.user, password: password, tls: replication.tls, logger: logger)
        StatementRecorder.current?.record(
            ReplicationLoginProbe.journalLine(
                user: replication.user, endpoint: replication.endpoint, tls: replication.tls, outcome: outcome))
        return outcome
    }
}

extension CutoverGuards {
    /// What the replication started after the switch needs (issue #13 item 5): the `fail` verdicts of
    /// ``ReversePrerequisites`` refuse the switch, its warnings become notes; facts that could not be read refuse it
    /// (`reverse.facts`).
    static func reversePrerequisiteVerdicts(_ facts: Facts) -> (reasons: [BlockingReason], notes: [String]) {
        guard facts.operation.movesWriter, let reading = facts.reversePrerequisites else { return ([], []) }
        switch reading {
        case .unreadable(let why):
            return (
                [
                    BlockingReason(
                        check: "reverse.facts",
                        message: why + " (the replication started after the switch needs them)",
                        remedy: "check the account and connectivity (`migrate-cli preflight`), then run again")
                ], []
            )
        case .read(nil):
            return ([], [])
        case .read(let prerequisites?):
            let verdicts = ReversePrerequisites.verdicts(prerequisites)
            return (
                verdicts.compactMap(\.blockingReason),
                verdicts.filter { $0.status == .warn }.map { "guards: \($0.aspect.check): \($0.detail)" }
            )
        }
    }
}
