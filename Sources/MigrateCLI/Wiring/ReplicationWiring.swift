import Cutover
import Foundation
import Logging
import MariaDB
import ReplicationControl

/// `replication start-forward` options.
struct ForwardStartRequest: Sendable {
    var file: String?
    var position: UInt64?
    var gtid: Bool
    var dumpPath: String?
    var wait: Bool
    var proofTimeout: Duration
    var waitTimeout: Duration
    var minimumRetention: Duration
    var dryRun: Bool
    var json: Bool
}

/// Forward replication set-up and tear-down over the configured endpoints (`replication ...`).
enum ReplicationWiring {
    /// The most of a dump read for its header.
    static let dumpHeaderBytes = 4 << 20

    /// Reads the coordinates from the beginning of the dump at `path`.
    ///
    /// - Throws: ``ConfigurationError`` when the file cannot be read; `ReplicationError` when its header has no
    ///   usable coordinates.
    static func dumpCoordinates(path: String) throws -> DumpCoordinates {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigurationError(code: .invalid, field: "--from-dump", "cannot open \(path)")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: dumpHeaderBytes)) ?? Data()
        var text = String(decoding: data, as: UTF8.self)
        // A cut line at the end of the prefix is not a statement.
        if data.count == dumpHeaderBytes, let lastNewline = text.lastIndex(of: "\n") { text = String(text[..<lastNewline]) }
        // mariadb-dump --gtid defers its gtid_slave_pos to the end of the dump.
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 65_536 ? size - 65_536 : 0)
        let trailer = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        return try DumpCoordinates.parse(text, trailer: trailer)
    }

    static func setupRequest(_ request: ForwardStartRequest) throws -> ForwardSetup.Request {
        if let file = request.file, let position = request.position {
            return .position(try BinlogPosition(file: file, offset: position))
        }
        if request.gtid { return .gtid }
        if let path = request.dumpPath { return .dump(try dumpCoordinates(path: path)) }
        throw ConfigurationError(code: .invalid, field: "start point", "give --file/--position, --gtid or --from-dump")
    }

    /// The replication account's login to the source, tried from here.
    static func loginCheck(_ configuration: MigrateConfiguration, password: String?, logger: Logger) async -> ForwardSetup.LoginCheck {
        let account = configuration.forwardReplication
        var settings = MariaDBConnection.Configuration(
            host: account.address.host, port: account.address.port, user: account.user, password: password)
        settings.connectTimeout = .seconds(5)
        if account.tls == .required { settings.tls = .init(verifyServerCertificate: false) }
        return await ForwardSetup.checkLogin(settings, logger: logger)
    }

    static func describe(_ sample: ForwardSetup.Sample) -> String {
        "IO \(sample.ioThread), SQL \(sample.sqlThread), received \(sample.received?.description ?? "-"), "
            + "executed \(sample.executed?.description ?? "-"), source at \(sample.sourcePosition?.description ?? "?"), "
            + "\(sample.secondsBehind.map { "\($0) s behind" } ?? "lag unknown")"
    }

    static func progress(_ json: Bool, _ phase: String, _ text: String) {
        if json {
            CommandRuntime.writeAll(
                STDOUT_FILENO,
                JSONValue.object([("event", "progress"), ("phase", .string(phase)), ("message", .string(text))]).serialized + "\n")
        } else {
            CommandRuntime.writeAll(STDERR_FILENO, "  \(phase): \(text)\n")
        }
    }

    static func startForward(_ environment: CommandEnvironment, _ request: ForwardStartRequest) async throws -> CommandReport {
        let setup = try setupRequest(request)
        return try await ConnectionScope.with(environment) { scope in
            let configuration = scope.configuration
            let logger = scope.logger
            let account = configuration.forwardReplication
            let password = try environment.connections.replicationPassword(account, direction: "forward")?.reveal()
            let source = try await scope.connect(.source)
            let target = try await scope.connect(.targetWriter)
            let login: ForwardSetup.LoginCheck =
                password == nil && account.credentials != .none
                ? .notTried("no password for replication.forward")
                : await loginCheck(configuration, password: password, logger: logger)
            let (facts, dialect) = try await ForwardSetup.readFacts(source: source, target: target, login: login, logger: logger)
            let verdict = ForwardSetup.verdict(for: setup, facts: facts, minimumRetention: request.minimumRetention)
            var rows: [[String]] = [
                ["start point", "\(setup)"],
                ["target", "\(facts.targetKind)"],
                ["source binlog", "\(facts.sourceBinlogFormat ?? "?"), retention \(facts.sourceRetention)"],
                ["server_id", "source \(facts.sourceServerID.map(String.init) ?? "?"), target \(facts.targetServerID.map(String.init) ?? "?")"],
                ["replication account", "\(account.user)@\(account.address) (TLS \(account.tls))"],
            ]
            if let startPoint = verdict.startPoint { rows.append(["replicates from", "\(startPoint)"]) }
            var report = CommandReport(
                command: "replication start-forward",
                sections: [.init(title: "Forward replication", headers: ["field", "value"], rows: rows)],
                blockingReasons: verdict.blockingReasons,
                notes: verdict.notes,
                dryRun: request.dryRun
            )
            guard verdict.canProceed, let startPoint = verdict.startPoint else { return report }
            let replicationSource = ReplicationSource(
                host: account.address.host, port: account.address.port, user: account.user,
                password: password ?? "", startPoint: startPoint, useTLS: account.tls == .required)
            let statements = try ForwardSetup.statements(replicationSource, kind: facts.targetKind, dialect: dialect)
            report.changes = statements.map { "[target] " + $0.renderedHidingSecrets(for: .mysql(noBackslashEscapes: false)) }
            report.notes.append("Undo: migrate-cli replication stop-forward, then migrate-cli replication reset-forward")
            if request.dryRun { return report }

            // Journaled (#15): what was called (the password hidden), the coordinates, the proof, and the undo, under
            // a run `forward-…` that `journal show` and `status` list and `resume` never takes for a cut-over.
            let journal = try CutoverJournal(path: configuration.journalPath)
            if let unfinished = journal.unfinishedRunAtOpen {
                await journal.close()
                report.changes = []
                report.blockingReasons.append(BlockingReason(
                    check: "forward.journal",
                    message: "the journal has an unfinished run (\(unfinished.operation.map { "\($0)" } ?? "run") \(unfinished.runID))",
                    remedy: "migrate-cli resume first"))
                return report
            }
            let trail = StepJournal(journal: journal, prefix: "forward")
            var journalFailure: String?
            func record(_ kind: JournalRecord.Kind, _ step: String, _ text: String, outcome: CutoverOutcome? = nil) async {
                guard journalFailure == nil else { return }
                do { try await trail.record(kind, step: "forward.\(step)", endpoint: ConnectionScope.targetName, text, outcome: outcome) } catch {
                    journalFailure = "\(error)"
                }
            }
            let undo = "migrate-cli replication stop-forward, then migrate-cli replication reset-forward"
            do {
                try await trail.record(
                    .action, step: "forward.configure", endpoint: ConnectionScope.targetName,
                    statements.map { $0.renderedHidingSecrets(for: .mysql(noBackslashEscapes: false)) }.joined(separator: "; ")
                        + " (start point \(startPoint); undo: \(undo))")
            } catch {
                await journal.close()
                throw error
            }
            report.notes.append("journaled as run \(trail.runID) in \(configuration.journalPath) (`migrate-cli journal show --run \(trail.runID)`)")
            let outcome: CommandReport
            do {
                outcome = try await Self.startForwardLive(
                    report, request: request, replicationSource: replicationSource, source: source, target: target,
                    dialect: dialect, kind: facts.targetKind, policy: configuration.policy, logger: logger, record: record)
            } catch {
                await record(.runFinished, "done", "failed: \(error). Undo: \(undo)")
                await journal.close()
                throw error
            }
            let proved = outcome.blockingReasons.isEmpty
            await record(
                .runFinished, "done",
                "forward replication from \(startPoint): " + (proved ? "proved running" : "NOT proved: \(outcome.blockingReasons.map(\.message).joined(separator: "; "))")
                    + ". Undo: \(undo)",
                outcome: proved ? .completed : nil)
            await journal.close()
            var final = outcome
            if let journalFailure { final.notes.append("the journal could not be written after the first entry: \(journalFailure)") }
            return final
        }
    }

    /// The changing part of `start-forward`: configure, start, prove, wait; each step recorded through `record`.
    static func startForwardLive(
        _ report: CommandReport, request: ForwardStartRequest, replicationSource: ReplicationSource,
        source: MariaDBConnection, target: MariaDBConnection, dialect: ReplicationDialect, kind: ForwardSetup.TargetKind,
        policy: CutoverPolicy, logger: Logger,
        record: (JournalRecord.Kind, String, String, CutoverOutcome?) async -> Void
    ) async throws -> CommandReport {
        var report = report
        do {
            let replica = try ForwardSetup.replicaController(on: target, dialect: dialect, kind: kind)
            let sourceController = try await SourceController.detecting(on: source, logger: logger)
            try await replica.configureSource(replicationSource, logger: logger)
            progress(request.json, "configured", "\(replicationSource)")
            await record(.event, "configure", "configured: \(replicationSource)", nil)
            await record(.action, "start", "start replication (CALL mysql.rds_start_replication on RDS, START REPLICA elsewhere)", nil)
            do {
                _ = try await replica.startReplication(logger: logger)
                await record(.event, "start", "started", nil)
            } catch let error as ReplicationError where error.code == .replicationFailed || error.code == .stateNotReached {
                // The proof below says what is wrong (IO error, threads down) with the status it read.
                progress(request.json, "start", "\(error)")
                await record(.event, "start", "start reported: \(error)", nil)
            }
            await record(.action, "proof", "sample the replica status until the IO and SQL threads run, the received position moves and the lag does not grow (within \(HumanDuration.format(request.proofTimeout)))", nil)
            let (proof, samples) = try await ForwardSetup.prove(
                replica: replica, source: sourceController, timeout: request.proofTimeout, logger: logger
            ) { sample, verdict in
                progress(request.json, "proof", describe(sample) + " → \(verdict)")
            }
            await record(.event, "proof", "\(proof); last status: \(samples.last.map(describe) ?? "none read")", nil)
            report.sections.append(.init(
                title: "Proof (\(samples.count) status reads)", headers: ["after", "status"],
                rows: samples.suffix(5).map { [HumanDuration.readable($0.elapsed), describe($0)] }))
            switch proof {
            case .running(let why):
                report.notes.append("replication proved: \(why)")
            case .failed(let why), .pending(let why):
                report.blockingReasons.append(BlockingReason(
                    check: "forward.proof",
                    message: "replication was started but is not proved to run within \(HumanDuration.format(request.proofTimeout)): \(why)",
                    remedy: "read the error in `migrate-cli status`; fix it (account, network, TLS, coordinates), then migrate-cli replication stop-forward and start-forward again"))
                report.status = .failure
                return report
            }
            if request.wait {
                await record(.action, "wait", "wait until the lag is within \(HumanDuration.format(policy.lagBudget)) (at most \(HumanDuration.format(request.waitTimeout)))", nil)
                let (last, within) = try await ForwardSetup.waitWithinBudget(
                    replica: replica, source: sourceController, budget: policy.lagBudget,
                    timeout: request.waitTimeout, logger: logger
                ) { sample in progress(request.json, "wait", describe(sample)) }
                await record(.event, "wait", (within ? "within the lag budget: " : "not within the lag budget: ") + describe(last), nil)
                if within {
                    report.notes.append("within the lag budget (\(HumanDuration.format(policy.lagBudget))) after \(HumanDuration.readable(last.elapsed)): \(describe(last))")
                } else {
                    report.blockingReasons.append(BlockingReason(
                        check: "forward.wait",
                        message: "not within the lag budget \(HumanDuration.format(policy.lagBudget)) after \(HumanDuration.format(request.waitTimeout)): \(describe(last))",
                        remedy: "replication keeps running: wait longer (`migrate-cli status`), or give Aurora more applier threads (replica_parallel_workers)"))
                    report.status = .failure
                }
            }
            return report
        }
    }

    /// The target's replica controller, as `start-forward` chose it.
    static func targetReplica(_ scope: ConnectionScope) async throws -> (any ReplicationControlling, ReplicationDialect, ForwardSetup.TargetKind) {
        let target = try await scope.connect(.targetWriter)
        let dialect = try await ReplicationDialect.detect(on: target, logger: scope.logger)
        let kind = ForwardSetup.targetKind(of: dialect)
        return (try ForwardSetup.replicaController(on: target, dialect: dialect, kind: kind), dialect, kind)
    }

    static func statusRows(_ status: ReplicaStatus) -> [[String]] {
        [
            ["source", status.sourceHost.map { "\($0):\(status.sourcePort ?? 3306)" } ?? "-"],
            ["IO / SQL thread", "\(status.ioThread) / \(status.sqlThread)"],
            ["received", status.receivedPosition?.description ?? "-"],
            ["executed", status.executedPosition?.description ?? "-"],
        ]
    }

    static func stopForward(_ environment: CommandEnvironment, dryRun: Bool) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let (replica, dialect, kind) = try await targetReplica(scope)
            let before = try await replica.replicaStatus(logger: scope.logger)
            let statement: SQLStatement = if case .rds(let procedures) = kind { procedures.stopReplicationStatement } else { dialect.stopReplicaStatement }
            var report = CommandReport(
                command: "replication stop-forward",
                sections: [.init(title: "Forward replication before", headers: ["field", "value"], rows: statusRows(before))],
                changes: ["[target] " + statement.rendered(for: .mysql(noBackslashEscapes: false))], dryRun: dryRun)
            guard before.isConfigured, before.ioThread != .stopped || before.sqlThread != .stopped else {
                report.changes = []
                report.notes.append("forward replication is not running: nothing to stop")
                return report
            }
            let resume: String = if case .rds(let procedures) = kind { "CALL mysql.\(procedures.startReplication)" } else { "START REPLICA" }
            report.notes.append("Undo: \(resume) on the target (it resumes where it stopped)")
            if dryRun { return report }
            let after = try await replica.stopReplication(logger: scope.logger)
            report.sections.append(.init(title: "Forward replication after", headers: ["field", "value"], rows: statusRows(after)))
            return report
        }
    }

    static func resetForward(_ environment: CommandEnvironment, dryRun: Bool) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let (replica, dialect, kind) = try await targetReplica(scope)
            let before = try await replica.replicaStatus(logger: scope.logger)
            let statement: SQLStatement = if case .rds(let procedures) = kind { procedures.resetExternalSourceStatement } else { dialect.resetReplicaStatement }
            var report = CommandReport(
                command: "replication reset-forward",
                sections: [.init(title: "Forward replication before", headers: ["field", "value"], rows: statusRows(before))],
                changes: ["[target] " + statement.rendered(for: .mysql(noBackslashEscapes: false))], dryRun: dryRun)
            guard before.isConfigured else {
                report.changes = []
                report.notes.append("forward replication is not configured: nothing to reset")
                return report
            }
            report.notes.append("Undo: migrate-cli replication start-forward --file \(before.executedPosition?.file ?? "<file>") --position \(before.executedPosition.map { String($0.offset) } ?? "<position>") (where it had got to)")
            if dryRun { return report }
            try await replica.resetReplication(logger: scope.logger)
            let after = try await replica.replicaStatus(logger: scope.logger)
            report.notes.append(after.isConfigured ? "the target still lists a replication source after the reset" : "the target has no replication source now")
            return report
        }
    }
}
