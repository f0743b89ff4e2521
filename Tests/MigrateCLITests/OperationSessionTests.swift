import ArgumentParser
import Cutover
import Foundation
import Logging
import Synchronization
import Testing

@testable import MigrateCLI

/// Answers every action with its success event (and one statement naming it); can fail the first action whose
/// description contains `failing`.
final class AnsweringExecutor: CutoverExecutor, Sendable {
    let failing: String?

    init(failing: String? = nil) { self.failing = failing }

    func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult {
        let at = context.elapsed()
        let name = CutoverRunner.describe(action)
        if let failing, name.contains(failing) {
            return CutoverStepResult(event: .stepFailed(StepFailure(step: failing, message: "injected", endpoint: "proxysql-1"), at: at))
        }
        let statements = [ExecutedStatement(endpoint: "proxysql-1 (10.0.0.10:6032)", statement: "/* \(name) */")]
        switch action {
        case .runGuards: return CutoverStepResult(event: .guardsFinished(blockingReasons: []), statements: statements)
        case .prepareProxy: return CutoverStepResult(event: .proxyPrepared(ProxySettingsSnapshot()), statements: statements)
        case .settleAutoIncrementPins(let server, _, _):
            return CutoverStepResult(event: .autoIncrementPinsSettled(server, stillHeld: 0, at: at), statements: statements)
        case .settleReplication(let role, _, _, _):
            var observation = ReplicationSettleObservation(startedAt: at)
            observation.recordWait(.zero, for: ReplicationCoordinate(file: "bin.000001", offset: 42))
            context.report(.settleProgress(role: role, round: 1, lastWait: .zero, threshold: .milliseconds(10), at: at))
            return CutoverStepResult(event: .replicationSettleEnded(role, observation, at: at), statements: statements)
        case .setStatus(let server, let status): return CutoverStepResult(event: .statusSet(server, status, at: at), statements: statements)
        case .watchNewWriter(let role, _, _, _, _):
            return CutoverStepResult(event: .newWriterWatched(role, ShunnedWriterWatch(), at: at), statements: statements)
        case .pollDrain(let server, _, _):
            context.report(.drainProgress(server: server, connectionsUsed: 1, holders: [], at: at))
            return CutoverStepResult(event: .drained(server, at: context.elapsed()), statements: statements)
        case .closeSessions(let role): return CutoverStepResult(event: .sessionsClosed(role, count: 0, at: at), statements: statements)
        case .fence(let role, _): return CutoverStepResult(event: .fenced(role, at: at), statements: statements)
        case .liftFence(let role): return CutoverStepResult(event: .fenceLifted(role), statements: statements)
        case .readPosition(let role):
            return CutoverStepResult(event: .positionRead(role, ReplicationCoordinate(file: "\(role)-bin.000001", offset: 42), at: at), statements: statements)
        case .proveFenceHeld(let role, let atFence): return CutoverStepResult(event: .positionRead(role, atFence, at: at), statements: statements)
        case .waitForCatchUp(let role, _, _): return CutoverStepResult(event: .caughtUp(role, at: at), statements: statements)
        case .stopReplication(let role): return CutoverStepResult(event: .replicationStopped(role), statements: statements)
        case .startReplication(let role, _, _): return CutoverStepResult(event: .replicationStarted(role), statements: statements)
        case .verifyReplication(let role): return CutoverStepResult(event: .replicationVerified(role), statements: statements)
        case .persistReadOnly(let role, let readOnly):
            // As on MariaDB: no SET PERSIST, so the option file needs the lines.
            let durability = ReadOnlyDurability(
                database: "\(role) (10.0.0.5:3306)", readOnly: readOnly, persisted: false,
                optionFileLines: ["read_only = ON", "replicate_wild_ignore_table = mysql.rds\\_%"])
            return CutoverStepResult(event: .readOnlyPersisted(role, durability), statements: statements)
        case .restoreProxySettings: return CutoverStepResult(event: .proxySettingsRestored, statements: statements)
        case .saveProxyConfiguration: return CutoverStepResult(event: .proxyConfigurationSaved, statements: statements)
        case .wait, .finish: fatalError("not an executable action")
        }
    }
}

/// Collects what a session writes.
final class OutputCollector: Sendable {
    private let text = Mutex("")
    func append(_ chunk: String) { text.withLock { $0 += chunk } }
    var value: String { text.withLock { $0 } }
}

@Suite("Running operations through the CLI wiring")
struct OperationSessionTests {
    func environment(journal: String) throws -> CommandEnvironment {
        let configuration = try Fixture.load(yaml: Fixture.minimalYAML, assignments: ["journal.path=\(journal)"])
        return CommandEnvironment(
            configuration: configuration,
            connections: ConnectionFactory(configuration: configuration, environment: Fixture.passwords, loginPathResolver: nil),
            logger: Logger(label: "test")
        )
    }

    func session(_ environment: CommandEnvironment, _ executor: any CutoverExecutor, json: Bool, output: OutputCollector) -> OperationSession {
        OperationSession(
            environment: environment,
            executor: executor,
            context: RunContext(resumeCommand: "migrate-cli resume --config m.yaml", journalPath: environment.configuration.journalPath),
            journaled: true,
            relaysSignals: false,
            output: { output.append($0) },
            makeRenderer: OperationCommand.rendererFactory(json: json, style: .plain)
        )
    }

    @Test("a writer cut-over runs, is journaled, renders progress and the timeline, and exits 0")
    func completed() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = try environment(journal: directory + "/journal.jsonl")
        let output = OutputCollector()
        let (report, status) = try await session(environment, AnsweringExecutor(), json: false, output: output).run(.writerCutover)
        #expect(report.outcome == .completed)
        #expect(status == .success)
        let text = output.value
        #expect(text.contains("set source writer OFFLINE_SOFT + LOAD ..."))
        #expect(text.contains("draining source writer: 1 connection in use"))
        #expect(text.contains("point of no return passed"))
        #expect(text.contains("write window"))
        let entries = try CutoverJournal.read(path: directory + "/journal.jsonl")
        #expect(entries.first?.topologyFingerprint == environment.configuration.topology.fingerprint)
        #expect(entries.last?.kind == .runFinished)
        // The journal was closed: its lock is released.
        #expect(!FileManager.default.fileExists(atPath: directory + "/journal.jsonl.lock"))

        let shown = JournalRenderer.human(entries, statements: true, style: .plain)
        #expect(shown.contains("-- past the point of no return --"))
        #expect(shown.contains("[proxysql-1 (10.0.0.10:6032)] /* set target writer ONLINE + LOAD */"))
        #expect(shown.contains("writer-cutover \(report.runID): completed."))

        let phase = JournalRenderer.phase(entries, path: "j").rows
        #expect(phase.contains(["last run", report.runID]))
        #expect(phase.contains(["past the point of no return", "yes"]))
        #expect(phase.contains(["state", "completed"]))
        #expect(JournalRenderer.phase([], path: "j").rows.contains(["last run", "none"]))
    }

    @Test("a failure before the point of no return rolls back and exits 3; --json lines carry the exit code")
    func rolledBack() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = OutputCollector()
        let (report, status) = try await session(
            try environment(journal: directory + "/journal.jsonl"),
            AnsweringExecutor(failing: "wait for target"),
            json: true,
            output: output
        ).run(.writerCutover)
        guard case .rolledBack = report.outcome else {
            Issue.record("expected a rollback, got \(report.outcome)")
            return
        }
        #expect(status == .rolledBack)
        let lines = output.value.split(separator: "\n")
        #expect(lines.allSatisfy { $0.hasPrefix("{\"event\":") })
        #expect(lines.contains { $0.contains("\"event\":\"rollback-started\"") })
        #expect(lines.last?.contains("\"exit_code\":3") == true)
    }

    @Test("a journal held by another run is refused with exit 75, and nothing runs")
    func locked() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/journal.jsonl"
        let holder = try CutoverJournal(path: path)
        let error = await #expect(throws: CutoverError.self) {
            _ = try await session(try environment(journal: path), AnsweringExecutor(), json: false, output: OutputCollector()).run(.writerCutover)
        }
        await holder.close()
        #expect(ExitStatus.of(try #require(error)).status == .busy)
        #expect(try CutoverJournal.read(path: path).isEmpty)
    }

    @Test("resume: nothing to resume is exit 2; an unfinished run is finished")
    func resume() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/journal.jsonl"
        let environment = try environment(journal: path)
        let nothing = await #expect(throws: CutoverError.self) {
            _ = try await session(environment, AnsweringExecutor(), json: false, output: OutputCollector()).resume()
        }
        #expect(ExitStatus.of(try #require(nothing)).status == .refused)

        // A run whose last entries were lost after the point of no return: drop everything after ONLINE.
        _ = try await session(environment, AnsweringExecutor(), json: false, output: OutputCollector()).run(.writerCutover)
        let entries = try CutoverJournal.read(path: path)
        let online = try #require(entries.lastIndex { entry in
            if case .statusSet(let server, .online, _)? = entry.event { return server == .writer(.target) }
            return false
        })
        let encoder = JSONEncoder()
        let truncated = try entries[...online].map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
        try truncated.write(toFile: path, atomically: true, encoding: .utf8)

        let output = OutputCollector()
        let (report, status) = try await session(environment, AnsweringExecutor(), json: false, output: output).resume()
        #expect(report.outcome == .completed)
        #expect(status == .success)
        #expect(output.value.contains("resuming run"))
    }

    @Test("plan: the dry run's statements, step by step, changes marked, nothing journaled nor connected (offline)")
    func plan() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = try environment(journal: directory + "/journal.jsonl")
        let plan = try await OperationWiring.plan(environment, .writerCutover, PlanOptions(detect: false))
        let text = PlanRenderer.human(plan, style: .plain)
        #expect(text.hasPrefix("Plan for writer-cutover (dry run: nothing was sent)\nassumed: offline"))
        // The guards' reads: each writer's safety facts, then what the replication started after the switch needs
        // (issue #13 item 5), then the old writer's long transactions.
        #expect(text.contains("  1. check guards for writer-cutover  → guards passed\n       [source] SHOW GLOBAL VARIABLES WHERE Variable_name IN ('gtid_binlog_state'"))
        #expect(text.contains("       [source] CALL mysql.rds_show_configuration\n       [source] SELECT trx.trx_id"))
        #expect(text.contains("       [target] CALL mysql.rds_show_configuration\n"))
        #expect(text.contains("       [target] SHOW REPLICA STATUS\n"))
        // The guards' login with the reverse account (ADR 0017), planned, not tried: who, where, from this host (#12).
        #expect(text.range(of: #"\n       \[replication login 'repl_reverse'@[^\]]+ from this host \(TLS [a-z]+\)\] SHOW GRANTS\n"#, options: .regularExpression) != nil)
        #expect(text.contains("     * [proxysql-1] UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostgroup_id = 10 AND hostname = '10.0.0.5' AND port = 3306"))
        #expect(text.contains("     * [target] CALL mysql.rds_stop_replication"))
        #expect(text.contains("--- point of no return"))
        #expect(text.contains("Simulated outcome: completed"))
        // Secrets are never in a plan: the replication password is masked where it is sent.
        #expect(text.contains("SOURCE_PASSWORD = '<redacted>'"))
        for password in Fixture.passwords.values { #expect(!text.contains(password)) }
        #expect(!FileManager.default.fileExists(atPath: directory + "/journal.jsonl"))
        let json = PlanRenderer.json(plan)
        #expect(json.split(separator: "\n").count == plan.steps.count + plan.assumptions.count + 1)
        #expect(json.contains("\"event\":\"plan-finished\""))
    }

    @Test("the confirmation names the rows, the nodes and the bounds")
    func confirmation() throws {
        let configuration = try Fixture.load(yaml: Fixture.minimalYAML)
        let text = OperationCommand.confirmation(for: .writerCutover, configuration: configuration)
        #expect(text.contains("source writer 10/10.0.0.5:3306 → OFFLINE_SOFT, drain, OFFLINE_HARD"))
        #expect(text.contains("target writer 10/aurora.cluster-x.eu-west-1.rds.amazonaws.com:3306 → ONLINE"))
        #expect(text.contains("drain 500ms + catch-up 2s"))
        #expect(text.contains("proxysql-1"))
        #expect(text.contains("auto-increment pin relaxed for the run if stats_mysql_query_digest shows no LAST_INSERT_ID()"))
        #expect(text.contains("are cut at OFFLINE_HARD: their next statement gets error 2013"))
        let kept = try Fixture.load(yaml: Fixture.minimalYAML + "policy:\n  auto-increment-pin: keep\n  pinned-sessions: wait\n")
        let keptText = OperationCommand.confirmation(for: .writerCutover, configuration: kept)
        #expect(!keptText.contains("auto-increment"))
        #expect(!keptText.contains("cut at OFFLINE_HARD"))
        let relaxed = try Fixture.load(yaml: Fixture.minimalYAML + "policy:\n  auto-increment-pin: relax\n  auto-increment-pin-settle: 300ms\n")
        let relaxedText = OperationCommand.confirmation(for: .writerCutover, configuration: relaxed)
        #expect(relaxedText.contains("before OFFLINE_SOFT, up to 300ms for pins taken earlier to run out"))
    }

    @Test("confirmation: --yes and --dry-run skip it; without a terminal it refuses (exit 2)")
    func confirm() throws {
        let runtime = CommandRuntime(options: try GlobalOptions.parse([]), environment: [:], bootstrapsLogging: false)
        try runtime.confirm("change?", change: try ChangeOptions.parse(["--yes"]))
        try runtime.confirm("change?", change: try ChangeOptions.parse(["--dry-run"]))
        if isatty(STDIN_FILENO) == 0 {
            let error = #expect(throws: OperatorDeclined.self) { try runtime.confirm("change?", change: try ChangeOptions.parse([])) }
            #expect(error?.description.contains("pass --yes") == true)
            #expect(ExitStatus.of(try #require(error)).status == .refused)
        }
    }

    @Test("the resume command repeats --config and --set, quoted for the shell")
    func resumeCommand() throws {
        let options = try GlobalOptions.parse(["--config", "/etc/my migrate.yaml", "--set", "policy.drain-deadline=300ms"])
        let runtime = CommandRuntime(options: options, environment: [:], bootstrapsLogging: false)
        #expect(runtime.resumeCommand == "migrate-cli resume --config '/etc/my migrate.yaml' --set policy.drain-deadline=300ms")
    }
}
