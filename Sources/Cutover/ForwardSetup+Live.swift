public import Logging
public import MariaDB
public import ReplicationControl

/// The reading and the changes of forward-replication set-up, over real sessions. The decisions are
/// ``ForwardSetup/verdict(for:facts:minimumRetention:)`` and ``ForwardSetup/proof(_:)``.
extension ForwardSetup {
    /// How the target is driven: the RDS procedures when it has them, native statements otherwise.
    public static func targetKind(of dialect: ReplicationDialect) -> TargetKind {
        dialect.rdsProcedures.map(TargetKind.rds) ?? .native
    }

    /// The replica controller of the target for `kind`.
    ///
    /// - Throws: `ReplicationError` when the server does not fit the kind.
    public static func replicaController(on target: any SQLSession, dialect: ReplicationDialect, kind: TargetKind) throws
        -> any ReplicationControlling
    {
        switch kind {
        case .rds: try RDSReplicaController(session: target, dialect: dialect)
        // Forward replication carries everything: no filter.
        case .native: try NativeReplicaController(session: target, dialect: dialect, options: .init(filter: .none))
        }
    }

    /// The statements that point the target at `source` and start it, as the target would receive them (the
    /// password is a secret: ``SQLStatement/renderedHidingSecrets(for:)`` masks it).
    ///
    /// - Throws: `ReplicationError` for an invalid source or a start point the target cannot take.
    public static func statements(_ source: ReplicationSource, kind: TargetKind, dialect: ReplicationDialect) throws
        -> [SQLStatement]
    {
        switch kind {
        case .rds(let procedures):
            return [try procedures.setExternalSourceStatement(source), procedures.startReplicationStatement]
        case .native:
            return try dialect.changeSourceStatements(source) + [dialect.startReplicaStatement]
        }
    }

    /// Reads what ``verdict(for:facts:minimumRetention:)`` needs, changing nothing.
    ///
    /// - Parameters:
    ///   - source: a session on the source with `REPLICATION CLIENT` (or `BINLOG MONITOR`) and `PROCESS`.
    ///   - target: a session on the target (its admin account).
    ///   - login: the replication account's login check, done by the caller (it needs the password).
    /// - Throws: `ReplicationError` / `MariaDBError` when a server cannot be identified.
    public static func readFacts(
        source: any SQLSession,
        target: any SQLSession,
        login: LoginCheck,
        logger: Logger
    ) async throws -> (facts: Facts, targetDialect: ReplicationDialect) {
        let sourceDialect = try await ReplicationDialect.detect(on: source, logger: logger)
        let targetDialect = try await ReplicationDialect.detect(on: target, logger: logger)
        let sourceSettings = try await ServerInspector(session: source, name: "source").binlogSettings(logger: logger)
        let targetSettings = try await ServerInspector(session: target, name: "target").binlogSettings(logger: logger)
        let kind = targetKind(of: targetDialect)

        var logs: [BinaryLog]?
        if let rows = try? await source.query("SHOW BINARY LOGS") {
            logs = rows.compactMap { row in
                row["Log_name"]?.string.map { BinaryLog(name: $0, size: row["File_size"]?.uint64) }
            }
        }
        let retention = try await readRetention(source: source, dialect: sourceDialect, logger: logger)
        let gtidState: String? =
            targetDialect.isMariaDB
            ? try await target.queryFirst("SELECT @@GLOBAL.gtid_slave_pos AS state")?["state"]?.string
            : try? await target.queryFirst("SELECT @@GLOBAL.gtid_executed AS state")?["state"]?.string
        let replica = try replicaController(on: target, dialect: targetDialect, kind: kind)
        let status = try await replica.replicaStatus(logger: logger)
        let facts = Facts(
            sourceIsMariaDB: sourceDialect.isMariaDB,
            targetIsMariaDB: targetDialect.isMariaDB,
            targetKind: kind,
            sourceServerID: sourceSettings.serverID,
            targetServerID: targetSettings.serverID,
            sourceBinlogEnabled: sourceSettings.binaryLogEnabled,
            sourceBinlogFormat: sourceSettings.binlogFormat,
            sourceBinaryLogs: logs,
            sourceRetention: retention,
            sourceGTIDMode: sourceSettings.gtidMode,
            targetGTIDMode: targetSettings.gtidMode,
            targetGTIDState: gtidState,
            targetReplica: status.isConfigured ? status : nil,
            login: login
        )
        return (facts, targetDialect)
    }

    /// The source's binlog retention: `binlog retention hours` on RDS, else `binlog_expire_logs_seconds`, else
    /// `expire_logs_days`.
    static func readRetention(source: any SQLSession, dialect: ReplicationDialect, logger: Logger) async throws -> Retention {
        if dialect.rdsProcedures?.showConfiguration != nil {
            let entries = try? await ServerInspector(session: source, name: "source").rdsConfiguration(logger: logger)
            guard let entries else { return Retention(seconds: nil, setting: "binlog retention hours", isRDS: true) }
            let hours = entries.first { $0.name == "binlog retention hours" }?.value.flatMap { Int($0) }
            return Retention(seconds: (hours ?? 0) * 3600, setting: "binlog retention hours", isRDS: true)
        }
        let rows = try await source.query(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('binlog_expire_logs_seconds', 'expire_logs_days')")
        var values: [String: Double] = [:]
        for row in rows {
            if let name = row["Variable_name"]?.string?.lowercased(), let value = row["Value"]?.string.flatMap(Double.init) {
                values[name] = value
            }
        }
        if let seconds = values["binlog_expire_logs_seconds"], seconds > 0 {
            return Retention(seconds: Int(seconds), setting: "binlog_expire_logs_seconds")
        }
        if let days = values["expire_logs_days"], days > 0 {
            return Retention(seconds: Int(days * 86400), setting: "expire_logs_days")
        }
        if values.isEmpty { return Retention(seconds: nil, setting: "binlog_expire_logs_seconds") }
        return Retention(seconds: 0, setting: values["binlog_expire_logs_seconds"] != nil ? "binlog_expire_logs_seconds" : "expire_logs_days")
    }

    /// Tries the replication account's login on the source with `configuration` (its password included).
    public static func checkLogin(_ configuration: MariaDBConnection.Configuration, logger: Logger) async -> LoginCheck {
        do {
            let connection = try await MariaDBConnection.connect(configuration: configuration, logger: logger)
            await connection.close()
            return .succeeded
        } catch let error as MariaDBError where error.isAccessDenied {
            return .refused("access denied for \(configuration.user)@\(configuration.endpoint)")
        } catch {
            return .unreachable("\(configuration.endpoint): \(error)")
        }
    }

    /// One look at the target's replication and the source's position.
    ///
    /// - Throws: `ReplicationError` when a status cannot be read.
    public static func sample(
        replica: any ReplicationControlling,
        source: any SourceControlling,
        since start: ContinuousClock.Instant,
        logger: Logger
    ) async throws -> Sample {
        let sourcePosition = try? await source.sourceStatus(logger: logger).position
        let status = try await replica.replicaStatus(logger: logger)
        let error = status.lastIOError ?? status.lastSQLError
        return Sample(
            elapsed: ContinuousClock.now - start,
            ioThread: status.ioThread,
            sqlThread: status.sqlThread,
            received: status.receivedPosition,
            executed: status.executedPosition,
            secondsBehind: status.secondsBehindSource,
            error: error.map(\.description),
            sourcePosition: sourcePosition
        )
    }

    /// Samples until ``proof(_:)`` says running or failed, or the deadline passes.
    ///
    /// - Returns: the last verdict (``Proof/pending(_:)`` at the deadline) and every sample.
    /// - Throws: `ReplicationError` when a status cannot be read; `CancellationError`.
    public static func prove(
        replica: any ReplicationControlling,
        source: any SourceControlling,
        timeout: Duration,
        interval: Duration = .milliseconds(250),
        logger: Logger,
        progress: (Sample, Proof) -> Void = { _, _ in }
    ) async throws -> (Proof, [Sample]) {
        let start = ContinuousClock.now
        let deadline = start.advanced(by: timeout)
        var samples: [Sample] = []
        while true {
            samples.append(try await sample(replica: replica, source: source, since: start, logger: logger))
            let verdict = proof(samples)
            progress(samples[samples.count - 1], verdict)
            switch verdict {
            case .running, .failed: return (verdict, samples)
            case .pending: break
            }
            guard ContinuousClock.now < deadline else { return (verdict, samples) }
            try await Task.sleep(for: interval)
        }
    }

    /// Samples until the target is within `budget` (``withinBudget(_:budget:)``), replication fails, or the
    /// deadline passes.
    ///
    /// - Returns: the last sample and whether it is within the budget.
    /// - Throws: `ReplicationError` when a status cannot be read; `CancellationError`.
    public static func waitWithinBudget(
        replica: any ReplicationControlling,
        source: any SourceControlling,
        budget: Duration,
        timeout: Duration,
        interval: Duration = .milliseconds(500),
        logger: Logger,
        progress: (Sample) -> Void = { _ in }
    ) async throws -> (sample: Sample, withinBudget: Bool) {
        let start = ContinuousClock.now
        let deadline = start.advanced(by: timeout)
        while true {
            let current = try await sample(replica: replica, source: source, since: start, logger: logger)
            progress(current)
            if withinBudget(current, budget: budget) { return (current, true) }
            if case .failed = proof([current]) { return (current, false) }
            guard ContinuousClock.now < deadline else { return (current, false) }
            try await Task.sleep(for: interval)
        }
    }
}
