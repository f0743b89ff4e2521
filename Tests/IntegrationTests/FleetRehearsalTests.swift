import Cutover
import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

/// Issue #16 item 1: a fleet of ProxySQL emulator nodes in front of the rehearsal, the load spread over their
/// writer ports, every switch applied to and verified on each node.
@Suite("ProxySQL fleet rehearsal", .integration, .serialized)
struct FleetRehearsalTests {
    let logger = Logger(label: "fleet", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("a fleet of 4: the load spreads over every node, a writer cut-over and failback change and verify every node, nothing lost")
    func fleetOfFourSwitchesEveryNode() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        var options = Rehearsal.Options(adminLatency: .fast)
        options.proxyNodes = 4
        try await withRehearsal(options: options, logger: logger) { rehearsal in
            #expect(rehearsal.emulators.count == 4)
            #expect(rehearsal.topology.proxyNodes == ["proxysql-emulator", "proxysql-emulator-2", "proxysql-emulator-3", "proxysql-emulator-4"])
            #expect(Set(rehearsal.writerEndpoints.map { "\($0.endpoint)" }).count == 4)
            let (environment, close) = try await rehearsal.makeEnvironment(logger: logger)
            #expect(environment.proxies.nodeNames == rehearsal.topology.proxyNodes)
            var policy = CutoverPolicy()
            // The suite is about the fleet, not the drain's bound: a whole-suite run on a loaded 2-core machine once held
            // 3 of the 8 clients' statements past a 2 s drain (a safe rollback). 4 s + 5 s catch-up + the fence stays
            // under ProxySQL's 10 s `connect_timeout_server_max` (the `proxysql.window-settings` guard).
            policy.drainDeadline = .seconds(4)
            policy.catchUpDeadline = .seconds(5)
            let load = try WriteLoad(configuration: rehearsal.fleetLoadConfiguration(clients: 8), logger: logger)
            let reports = Mutex<[(CutoverOperation, CutoverReport, ContinuousClock.Instant)]>([])
            let (report, _) = try await load.run { load in
                #expect(try await load.waitForAcknowledgedWrites(100, timeout: .seconds(30)))
                // Every node's data plane carries two of the eight clients.
                for (index, emulator) in rehearsal.emulators.enumerated() {
                    #expect(emulator.sessionSummaries().count == 2, "node \(index + 1): \(emulator.sessionSummaries())")
                }
                for operation in [CutoverOperation.writerCutover, .writerFailback] {
                    let started = ContinuousClock.now
                    let runner = CutoverRunner(
                        configuration: .init(operation: operation, policy: policy, topologyFingerprint: environment.topology.fingerprint),
                        executor: LiveCutoverExecutor(environment: environment),
                        journal: nil,
                        logger: logger
                    )
                    let result = try await runner.run()
                    reports.withLock { $0.append((operation, result, started)) }
                    #expect(result.outcome == .completed, "\(operation): \(result.outcome)")
                    guard result.outcome == .completed else { return }
                    // Every node routes writes to the new writer only.
                    let expected = operation == .writerCutover ? rehearsal.target.port : rehearsal.source.port
                    for (index, emulator) in rehearsal.emulators.enumerated() {
                        let writers = try await Self.runtimeWriterPorts(emulator)
                        #expect(writers == [expected], "node \(index + 1) after \(operation): \(writers)")
                    }
                    #expect(try await load.waitForMoreAcknowledgedWrites(100, timeout: .seconds(30)))
                }
            }
            await close()
            let switches = reports.withLock { $0 }
            var fences: [CutoverSandbox.WriteFence] = []
            for (index, (operation, result, started)) in switches.enumerated() {
                guard let closed = result.timeline.marks[.windowClosed] else { continue }
                let next = index + 1 < switches.count ? switches[index + 1].2 : nil
                let server = operation.from == .source ? rehearsal.source : rehearsal.target
                fences.append(CutoverSandbox.WriteFence(serverID: UInt32(server.serverID), from: started + closed, until: next))
            }
            let finalWriter = try await rehearsal.source.connectAsRoot(logger: logger)
            let other = try await rehearsal.target.connectAsRoot(logger: logger)
            let verification = try await WriteLoadChecker.verify(report, finalWriter: finalWriter, oldSource: other, fences: fences)
            await finalWriter.close()
            await other.close()
            #expect(verification.lost.isEmpty, "lost \(verification.lost.count)")
            #expect(verification.duplicated.isEmpty, "duplicated \(verification.duplicated.count)")
            #expect(verification.fenceViolations.isEmpty, "fence violations \(verification.fenceViolations.count)")
            #expect(verification.acknowledgedCount > 200)
        }
    }

    @Test("rehearse --proxysql-nodes 4: the whole script passes with zero loss")
    func rehearseWithFourNodes() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        var options = RehearsalScript.Options()
        options.proxyNodes = 4
        let notes = Mutex<[String]>([])
        let result = try await RehearsalScript.run(options: options, logger: logger) { event in
            if case .note(let text) = event { notes.withLock { $0.append(text) } }
        }
        #expect(result.succeeded, "stopped early: \(result.stoppedEarly ?? "-"); \(result.verification)")
        #expect(result.verification.lost.isEmpty)
        #expect(result.switches.count == 4)
        #expect(notes.withLock { $0 }.contains { $0.contains("4 emulator nodes") })
        // Issue #16 item 3: reads through every node's application port, routed by the query rules to the readers,
        // never failed outside a writer switch's fence, and the reader cut-over moved them from the source to
        // "Aurora".
        let reads = try #require(result.reads)
        let verdict = try #require(result.readVerdict)
        #expect(verdict.unexpected.isEmpty, "\(verdict.unexpected.prefix(3))")
        #expect(reads.servedBy.count == 2, "reads served by \(reads.servedBy)")
        #expect(reads.succeeded > 100)
    }

    static func runtimeWriterPorts(_ emulator: ProxySQLEmulator) async throws -> [Int] {
        let admin = try await MariaDBConnection.connect(configuration: emulator.adminConfiguration)
        do {
            let rows = try await admin.query(
                "SELECT port FROM runtime_mysql_servers WHERE hostgroup_id = 10 AND status = 'ONLINE'", timeout: .seconds(5))
            await admin.close()
            return rows.compactMap { $0[0].string.flatMap(Int.init) }.sorted()
        } catch {
            await admin.close()
            throw error
        }
    }
}
