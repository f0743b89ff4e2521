import Cutover
import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Testing

/// `finish` on the sandbox: refused before the migration, then, after reader and writer cut-over, reverse replication
/// stopped and reset, the source's rows gone from the emulator's runtime and disk layers, journaled.
@Suite("Finish on the sandbox", .integration, .serialized)
struct FinishIntegrationTests {
    static var logger: Logger {
        var logger = Logger(label: "finish-tests")
        logger.logLevel = .info
        return logger
    }

    @Test func refusedBeforeTheCutoverThenDecommissionsAfterIt() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        let logger = Self.logger
        var policy = CutoverPolicy()
        policy.drainDeadline = .seconds(2)
        policy.catchUpDeadline = .seconds(5)
        try await withRehearsal(options: Rehearsal.Options(adminLatency: .fast), logger: logger) { rehearsal in
            let (environment, close) = try await rehearsal.makeEnvironment(logger: logger)
            do {
                let run = FinishRun(environment: environment, reverseCatchUpTimeout: .seconds(5))
                let before = Finish.blockingReasons(await run.readFacts(logger: logger))
                #expect(Set(before.map(\.check)).isSuperset(of: ["finish.writer", "finish.reader", "finish.reverse"]), "\(before)")

                for operation in [CutoverOperation.readerCutover, .writerCutover] {
                    let runner = CutoverRunner(
                        configuration: .init(operation: operation, policy: policy, topologyFingerprint: environment.topology.fingerprint),
                        executor: LiveCutoverExecutor(environment: environment),
                        journal: nil, logger: logger)
                    let report = try await runner.run()
                    #expect(report.outcome == .completed, "\(operation): \(report.outcome)")
                }
                // A write on the new writer must reach the old source before finish lets it go.
                let aurora = try await rehearsal.target.connectAsRoot(logger: logger)
                try await aurora.run("CREATE TABLE \(identifier: rehearsal.options.schema.database).finish_marker (id INT PRIMARY KEY)")
                await aurora.close()

                let facts = await run.readFacts(logger: logger)
                guard case .caughtUp = facts.reverse else {
                    Issue.record("reverse replication should have caught up: \(facts.reverse)")
                    await close()
                    return
                }
                #expect(Finish.blockingReasons(facts).isEmpty, "\(Finish.blockingReasons(facts))")

                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("finish-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: directory) }
                let journal = try CutoverJournal(path: directory + "/journal.jsonl")
                let steps = try await run.perform(journal: journal, logger: logger)
                await journal.close()
                #expect(steps.map(\.name) == ["stop-reverse-replication", "remove-source-rows"])

                // The source replicates from nobody, has the marker, and ProxySQL no longer knows it.
                let source = try await rehearsal.source.connectAsRoot(logger: logger)
                let replica = try await NativeReplicaController.detecting(on: source, logger: logger)
                #expect(try await replica.replicaStatus(logger: logger).isConfigured == false)
                #expect(try await source.queryFirst("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_NAME = 'finish_marker'")?["n"]?.int == 1)
                await source.close()
                let admin = try await ProxySQLAdminClient.connect(configuration: rehearsal.emulator.adminConfiguration, name: Rehearsal.proxyNodeName, logger: logger)
                let sourceEndpoint = rehearsal.topology.source.writer.endpoint
                for layer in [ConfigurationLayer.configured, .runtime] {
                    let rows = try await admin.servers(in: layer, hostgroups: [Rehearsal.writerHostgroup, Rehearsal.readerHostgroup], logger: logger)
                    #expect(!rows.contains { $0.endpoint == sourceEndpoint }, "\(layer): \(rows)")
                    #expect(rows.contains { $0.key == rehearsal.topology.target.writer && $0.status == .online })
                }
                await admin.close()

                let entries = try CutoverJournal.read(path: directory + "/journal.jsonl")
                #expect(entries.map { $0.step?.rawValue ?? "" } == [
                    "finish.stop-reverse-replication", "finish.stop-reverse-replication",
                    "finish.remove-source-rows", "finish.remove-source-rows", "",
                ])
                #expect(entries.last?.kind == .runFinished && entries.last?.outcome == .completed)
                #expect(CutoverJournal.unfinishedRun(in: entries) == nil)
            } catch {
                await close()
                throw error
            }
            await close()
        }
    }

    /// Item 4 of #15: the default rehearsal starts with an empty "Aurora", seeds it from a mariadb-dump, starts
    /// forward replication from the dump's header, runs the switches and `finish`, and loses no write.
    @Test func theRehearsalRunsTheWholeMigrationFromACopy() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        let result = try await RehearsalScript.run(
            options: RehearsalScript.Options(workload: .clientKeys, clients: 2, loadBetweenSwitches: .milliseconds(500)),
            logger: Self.logger, progress: { _ in })
        #expect(result.succeeded, "\(result.stoppedEarly ?? "") \(result.verification)")
        #expect(result.stages.map(\.name) == [
            "copy (dump)", "restore", "start-forward --from-dump",
            "reader-cutover", "writer-cutover", "writer-failback", "writer-cutover", "finish",
        ])
        #expect(result.verification.lost.isEmpty)
    }
}
