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

extension LiveCutoverStep {
    /// The guards' check of what the replication started after the switch needs (``ReversePrerequisites``): the
    /// facts of both servers and a login with the replication account, then the `fail` verdicts as blocking reasons.
    /// A database that does not report its facts (test doubles) is not checked; facts that cannot be read block.
    func reversePrerequisiteReasons(for operation: CutoverOperation, logger: Logger) async -> [BlockingReason] {
        guard operation.movesWriter else { return [] }
        let old = environment.database(operation.from)
        let new = environment.database(operation.to)
        let newFacts: ReversePrerequisites.ServerFacts?
        let oldFacts: ReversePrerequisites.ServerFacts?
        do {
            newFacts = try await new.reversePrerequisiteFacts(logger: logger)
            oldFacts = try await old.reversePrerequisiteFacts(logger: logger)
        } catch {
            return [
                BlockingReason(
                    check: "reverse.facts",
                    message: "cannot read the binary-log settings of \(new.name) or \(old.name), which the replication "
                        + "started after the switch needs: \(error)",
                    remedy: "check the account and connectivity (`migrate-cli preflight`), then run again")
            ]
        }
        guard let newFacts, let oldFacts else { return [] }
        let replication = topology.replicationAfterSwitch(to: operation.to)
        var login: ReversePrerequisites.Login?
        if let probe = environment.replicationLoginProbe {
            let password =
                operation.to == .target ? environment.reverseReplicationPassword : environment.forwardReplicationPassword
            login = await probe.probe(
                replication.endpoint, user: replication.user, password: password, tls: replication.tls, logger: logger)
        }
        let facts = ReversePrerequisites.Facts(
            newWriter: newFacts, oldWriter: oldFacts, account: replication.user, endpoint: replication.endpoint,
            configurationSection: replication.section, login: login)
        let verdicts = ReversePrerequisites.verdicts(facts)
        for verdict in verdicts where verdict.status == .warn {
            logger.info("reverse replication prerequisite warns", metadata: ["cutover.verdict": "\(verdict)"])
        }
        return verdicts.compactMap(\.blockingReason)
    }
}
