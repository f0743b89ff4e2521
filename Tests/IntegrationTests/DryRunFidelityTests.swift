import Cutover
import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import Testing

/// The dry run's promise: it prints exactly what a live run sends. A live writer cut-over on the sandbox journals
/// its statements; every change among them must be in the plan of the same topology, in the same order per
/// endpoint, and the plan must list no change the live run did not send (statements the plan marks "once per row
/// found", the KILLs, may occur any number of times). On both server kinds (#12), the plan for the dialects read
/// from the servers.
@Suite("Dry run fidelity", .integration, .serialized)
struct DryRunFidelityTests {
    /// What counts as a change, defined here independently of the library: ProxySQL UPDATE / LOAD / SAVE,
    /// SET GLOBAL, CALL mysql.rds_*, CHANGE MASTER / REPLICATION, START / STOP / RESET SLAVE, KILL.
    static func isChange(_ statement: String) -> Bool {
        let prefixes = [
            "UPDATE ", "LOAD ", "SAVE ", "SET GLOBAL ", "CALL mysql.rds_", "CHANGE MASTER", "CHANGE REPLICATION",
            "START SLAVE", "STOP SLAVE", "RESET SLAVE", "START REPLICA", "STOP REPLICA", "RESET REPLICA", "KILL ",
        ]
        return prefixes.contains { statement.hasPrefix($0) } && !statement.hasPrefix("CALL mysql.rds_show_configuration")
    }

    /// Whether `live` (journaled changes of one endpoint) is `planned` with each repeatable statement taken any
    /// number of times and every other statement exactly once, in order.
    static func aligns(_ planned: ArraySlice<PlannedStatement>, _ live: ArraySlice<String>) -> Bool {
        guard let first = planned.first else { return live.isEmpty }
        if first.repeatsPerRow {
            if aligns(planned.dropFirst(), live) { return true }
            guard let statement = live.first, first.matches(journaled: statement) else { return false }
            return aligns(planned, live.dropFirst())
        }
        guard let statement = live.first, first.matches(journaled: statement) else { return false }
        return aligns(planned.dropFirst(), live.dropFirst())
    }

    @Test(
        "every change a live writer cut-over journals is in the plan, in order, per endpoint",
        arguments: SandboxServerKind.allCases)
    func liveRunMatchesPlan(server: SandboxServerKind) async throws {
        guard try IntegrationGate.skipIfUnavailable(server) else { return }
        let logger = Logger(label: "dry-run-fidelity")
        // The pin kept: under `auto` the live run decides from ProxySQL's query digests whether to relax it, which the
        // dry run cannot know (it plans the kept pin). A known gap of the plan, said in Documentation/cli.md.
        // The replication settle (before the window, so outside the window-settings guard's worst case) is generous:
        // this test compares statements, not timings, and on a loaded 2-core machine MySQL's applier behind the
        // 4-client load did not come within 10 ms in 10 s, which rolled the run back. The settle's waits are reads:
        // they change nothing the plan lists.
        let policy = CutoverPolicy(
            drainDeadline: .seconds(2), catchUpDeadline: .seconds(5), autoIncrementPin: .keep,
            replicationSettleThreshold: .milliseconds(500), replicationSettleDeadline: .seconds(60))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fidelity-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        try await withRehearsal(options: Rehearsal.Options(adminLatency: .fast, serverKind: server), logger: logger) { rehearsal in
            let (environment, close) = try await rehearsal.makeEnvironment(logger: logger)
            let source = try #require(environment.source as? ReplicationControlDatabase)
            let target = try #require(environment.target as? ReplicationControlDatabase)

            // The plan, for the sandbox's dialects and endpoint names.
            let dryEnvironment = DryRunEnvironment.startingState(
                for: .writerCutover, topology: rehearsal.topology, policy: policy,
                source: source.dialect, target: target.dialect, endpoints: ("source", "aurora"))
            let plan = await DryRunExecutor.plan(.writerCutover, environment: dryEnvironment, logger: logger)
            #expect(plan.outcome == .completed)

            // The live run, under a light write load so that sessions are attached when they are closed.
            let journalPath = directory + "/journal.jsonl"
            let journal = try CutoverJournal(path: journalPath)
            let load = try WriteLoad(
                configuration: WriteLoad.Configuration(endpoint: rehearsal.writerEndpoint, clients: 4, workload: .clientKeys),
                logger: logger
            )
            let (_, report) = try await load.run { load -> CutoverReport in
                #expect(try await load.waitForAcknowledgedWrites(50, timeout: .seconds(30)))
                let runner = CutoverRunner(
                    configuration: .init(operation: .writerCutover, policy: policy, topologyFingerprint: rehearsal.topology.fingerprint),
                    executor: LiveCutoverExecutor(environment: environment),
                    journal: journal,
                    logger: logger
                )
                return try await runner.run()
            }
            await journal.close()
            await close()
            #expect(report.outcome == .completed)

            let journaled = try CutoverJournal.read(path: journalPath).flatMap { $0.statements ?? [] }
            #expect(!journaled.isEmpty)
            for endpoint in ["source", "aurora", Rehearsal.proxyNodeName] {
                let live = journaled.filter { $0.endpoint == endpoint }.map(\.statement).filter(Self.isChange)
                let planned = plan.statements(for: endpoint).filter { Self.isChange($0.redacted) }
                #expect(!live.isEmpty, "\(server) \(endpoint): the live run changed nothing")
                #expect(
                    Self.aligns(planned[...], live[...]),
                    "\(server) \(endpoint):\nlive:\n\(live.joined(separator: "\n"))\nplanned:\n\(planned.map(\.redacted).joined(separator: "\n"))"
                )
                // The comparison has teeth: without any one of its fixed statements the plan no longer aligns.
                for index in planned.indices where !planned[index].repeatsPerRow {
                    var shorter = planned
                    shorter.remove(at: index)
                    #expect(!Self.aligns(shorter[...], live[...]), "\(endpoint): aligns without \(planned[index].redacted)")
                }
            }
            // Every endpoint the live run talked to is in the plan.
            #expect(Set(journaled.map(\.endpoint)).isSubset(of: Set(plan.endpoints)))
            // The guards' login with the reverse account (ADR 0017): planned, and journaled with its outcome (#12).
            let logins = journaled.filter { $0.endpoint.hasPrefix("replication login") }
            #expect(logins.map(\.endpoint) == [ReplicationLoginProbe.journalEndpoint(
                user: rehearsal.topology.reverseReplicationUser, endpoint: rehearsal.topology.targetReplicationEndpoint,
                tls: rehearsal.topology.reverseReplicationTLS)])
            #expect(logins.first?.outcome?.hasPrefix("logged in; grants: ") == true, "\(logins)")
            #expect(plan.statements(for: logins.first?.endpoint ?? "-").map(\.text) == ["SHOW GRANTS"])
        }
    }
}
