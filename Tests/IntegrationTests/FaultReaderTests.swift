import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

extension FaultTests {
    /// Faults in reader switches (reader cut-over and failback), under a read load through both ProxySQL nodes'
    /// data planes: admin connections dropped, a node unreachable, the new reader's server killed, bad input, a
    /// drain held by a long read, a graceful shutdown at each step, and the process killed after each journal entry.
    /// Checked after every case: reads kept working (no failed read unless a server was killed under it, no read
    /// waiting past the drain deadline), no node without an ONLINE reader unless the outcome names it, never two
    /// writers and the writer rows untouched, the starting reader routing after a failure (the new one after the
    /// point of no return), bounded waits, messages with step, endpoint and remedy, no password anywhere.
    @Suite("Reader switch faults", .faultBed(secondNode: true))
    struct ReaderSwitch {
        let logger = Logger(label: "fault.reader", factory: { _ in SwiftLogNoOpLogHandler() })

        var secondNodeName: String { FaultBed.secondNodeName }

        /// Puts the readers back on the source after a case that moved them.
        func resetReaders(_ bed: FaultBed, after result: ReaderFaultResult) async throws {
            if result.report.outcome.isPastPointOfNoReturn {
                try await bed.runReaderOperation(.readerFailback, logger: logger)
            }
            try await bed.expectReaderRouting(.source, "\(result.name): after the reset")
        }

        // MARK: ProxySQL

        static let dropPoints: [FaultPoint] =
            LongTests.enabled ? FaultPoint.readerSwitchSteps : [.offlineSoftOld, .drain]

        @Test("admin connections of both nodes dropped right before a step: each session reconnects, the switch completes",
            arguments: dropPoints)
        func adminConnectionsDropped(point: FaultPoint) async throws {
            guard let bed = try FaultBed.available() else { return }
            let result = try await ReaderFaultScenario.run(
                ReaderFaultCase(
                    name: "reader cut-over: admin connections of both nodes dropped before \(point)",
                    injections: [
                        .dropEveryAdminConnection(before: point, on: bed)
                    ],
                    expected: .completed
                ),
                on: bed
            )
            try await resetReaders(bed, after: result)
        }

        struct NodePoint: Sendable, CustomTestStringConvertible {
            var point: FaultPoint?
            var expected: ExpectedOutcome
            var testDescription: String { point.map { "before \($0)" } ?? "from the start" }
        }

        static let nodePoints: [NodePoint] = {
            let all = [
                NodePoint(point: nil, expected: .refused("proxysql.runtime")),
                NodePoint(point: .onlineNew, expected: .rolledBack),
                NodePoint(point: .offlineSoftOld, expected: .rolledBack),
                NodePoint(point: .drain, expected: .rolledBack),
                NodePoint(point: .offlineHardOld, expected: .rolledBack),
                NodePoint(point: .saveConfiguration, expected: .stoppedAfterPointOfNoReturn),
            ]
            return LongTests.enabled ? all : [all[0], all[1], all[3], all[5]]
        }()

        @Test("the second node unreachable from the tool (its data plane still serving reads)", arguments: nodePoints)
        func secondNodeUnreachable(at nodePoint: NodePoint) async throws {
            guard let bed = try FaultBed.available() else { return }
            let journal = TemporaryJournal("reader-node")
            defer { journal.cleanup() }
            let cut: @Sendable () async throws -> Void = { bed.secondNodeReachable.withLock { $0 = false } }
            if nodePoint.point == nil { try await cut() }
            // After a failed OFFLINE_SOFT, the second node may be left routing reads to both readers, or to the new one
            // only: the outcome names it, and its routing is checked here rather than as the starting one.
            let leftChanged = nodePoint.point == .offlineSoftOld || nodePoint.point == .drain
                || nodePoint.point == .offlineHardOld
            let result = try await ReaderFaultScenario.run(
                ReaderFaultCase(
                    name: "reader cut-over: second ProxySQL node unreachable \(nodePoint.testDescription)",
                    injections: nodePoint.point.map { [.before($0, "cut the tool off the second node", cut)] } ?? [],
                    expected: nodePoint.expected,
                    unreachableNodes: leftChanged ? [secondNodeName] : [],
                    journalPath: journal.path,
                    repair: { bed in bed.secondNodeReachable.withLock { $0 = true } }
                ),
                on: bed
            )
            switch result.report.outcome {
            case .refused(let reasons):
                #expect(reasons.contains { $0.message.contains(secondNodeName) }, "\(reasons)")
            case .rolledBack(_, let failures):
                #expect(!failures.isEmpty && failures.allSatisfy { $0.endpoint == secondNodeName }, "\(failures)")
                if leftChanged {
                    // Never without a reader there: it still routes reads to the new reader (and maybe the old one).
                    let readers = try await bed.runtimeReaders(node: bed.secondNode!.adminConfiguration)
                    #expect(readers.contains(bed.targetEndpoint), "\(readers)")
                    try await bed.setReaders(source: .online, target: .offlineHard, on: bed.secondNode!.adminConfiguration)
                }
            case .stoppedAfterPointOfNoReturn(_, let failures, let remaining):
                #expect(remaining == ["saveConfiguration"], "\(remaining)")
                #expect(failures.allSatisfy { $0.endpoint == secondNodeName }, "\(failures)")
                let resumed = try await bed.resume(
                    journalPath: journal.path, operation: .readerCutover, logger: logger)
                #expect(resumed.outcome == .completed, "\(resumed.outcome)")
                FaultMatrix.record(
                    "READER | second node reachable again, `resume` | \(FaultMatrix.outcome(resumed.outcome)) | - | - | - | - | - |")
            case .completed:
                Issue.record("completed although the second node was unreachable")
            }
            try await resetReaders(bed, after: result)
        }

        // MARK: The new reader's server dies

        static let deathPoints: [FaultPoint] =
            LongTests.enabled ? [.onlineNew, .offlineSoftOld, .drain, .offlineHardOld] : [.onlineNew, .offlineSoftOld]

        @Test("the new reader's server killed before a step: its reader row never takes reads alone; rolled back",
            arguments: deathPoints)
        func newReaderKilled(before point: FaultPoint) async throws {
            guard let bed = try FaultBed.available() else { return }
            // An idle replica: nothing to re-apply after the restart.
            try await bed.waitForReplica(bed.target, of: bed.source)
            let result = try await ReaderFaultScenario.run(
                ReaderFaultCase(
                    name: "reader cut-over: Aurora's mariadbd killed before \(point)",
                    injections: [.before(point, "kill Aurora's server") { try await bed.target.kill() }],
                    expected: .rolledBack,
                    // Reads on connections to the killed server fail once; new reads wait for a live reader.
                    readFailuresAllowed: point != .onlineNew,
                    repair: { bed in
                        try await bed.target.restart()
                        try await bed.waitUntilReplicating(bed.target)
                    }
                ),
                on: bed
            )
            guard case .rolledBack(let reason, let failures) = result.report.outcome else { return }
            #expect(reason.contains("\(bed.target.port)"), "\(reason)")
            #expect(reason.contains("does not answer"), "\(reason)")
            #expect(failures.isEmpty, "\(failures)")
            try await bed.waitForReplica(bed.target, of: bed.source)
        }

        // MARK: Drain

        static let drainPolicies: [DrainDeadlinePolicy] = LongTests.enabled ? [.rollBack, .force] : [.rollBack]

        @Test(
            "a long read holds the old reader: the drain deadline passes; rolled back (the read finishes) or forced",
            arguments: drainPolicies)
        func drainHeldByLongRead(policy drainPolicy: DrainDeadlinePolicy) async throws {
            guard let bed = try FaultBed.available() else { return }
            var policy = FaultPolicies.standard
            policy.drainDeadlinePolicy = drainPolicy
            let started = ContinuousClock.now
            async let longRead: (any Error)? = {
                let connection: MariaDBConnection
                do {
                    connection = try await MariaDBConnection.connect(configuration: bed.rehearsal.readerEndpoint)
                } catch {
                    return error
                }
                do {
                    _ = try await connection.query("SELECT SLEEP(3)", timeout: .seconds(20))
                    await connection.close()
                    return nil
                } catch {
                    await connection.close()
                    return error
                }
            }()
            try await bed.waitUntilReaderUsed(bed.rehearsal.topology.source.reader!)
            let result = try await ReaderFaultScenario.run(
                ReaderFaultCase(
                    name: "reader cut-over: drain held by a 3 s read (policy: \(drainPolicy.rawValue))", policy: policy,
                    expected: drainPolicy == .rollBack ? .rolledBack : .completed),
                on: bed
            )
            let holders = result.report.timeline.holdersAtDeadline
            #expect(holders.count == 1, "\(holders)")
            #expect(holders.first?.reason.contains("running a statement") == true, "\(holders)")
            let readError = await longRead
            switch result.report.outcome {
            case .rolledBack(let reason, _):
                #expect(reason.contains("drain did not finish"), "\(reason)")
                // The read was never cut: it ends on the old reader, which is back ONLINE.
                #expect(readError == nil, "\(String(describing: readError))")
            case .completed:
                // Forced: the old reader went OFFLINE_HARD under the read (cut with 2013, or re-sent by ProxySQL to
                // the new reader); either way it ended.
                #expect(result.report.timeline.forcedDrain)
                try await resetReaders(bed, after: result)
            default:
                break
            }
            #expect(started.duration(to: .now) < .seconds(20))
        }

        // MARK: Shutdown

        struct ShutdownPoint: Sendable, CustomTestStringConvertible {
            var point: FaultPoint
            var moment: Injection.Moment
            var testDescription: String { "\(moment) \(point)" }
        }

        static let shutdownPoints: [ShutdownPoint] = {
            let all = FaultPoint.readerSwitchSteps.flatMap {
                [ShutdownPoint(point: $0, moment: .before), ShutdownPoint(point: $0, moment: .after)]
            }
            if LongTests.enabled { return all }
            return [
                ShutdownPoint(point: .onlineNew, moment: .before), ShutdownPoint(point: .drain, moment: .before),
                ShutdownPoint(point: .offlineHardOld, moment: .after),
            ]
        }()

        @Test("a graceful shutdown requested at a step", arguments: shutdownPoints)
        func shutdownRequested(at point: ShutdownPoint) async throws {
            guard let bed = try FaultBed.available() else { return }
            let journal = TemporaryJournal("reader-shutdown")
            defer { journal.cleanup() }
            // The step in flight finishes: before the old reader's OFFLINE_HARD the switch rolls back; from it on,
            // the save still runs (a cheap safety step, #13 item 9) and the switch completes.
            let steps = FaultPoint.readerSwitchSteps
            let index = steps.firstIndex(of: point.point)!
            let pointOfNoReturn = steps.firstIndex(of: .offlineHardOld)!
            let expected: ExpectedOutcome = index < pointOfNoReturn ? .rolledBack : .completed
            let result = try await ReaderFaultScenario.run(
                ReaderFaultCase(
                    name: "reader cut-over: graceful shutdown \(point.testDescription)",
                    shutdown: (point.point, point.moment),
                    expected: expected,
                    journalPath: journal.path
                ),
                on: bed
            )
            switch result.report.outcome {
            case .rolledBack(let reason, let failures):
                #expect(reason.contains("shutdown requested"), "\(reason)")
                #expect(failures.isEmpty, "\(failures)")
            case .stoppedAfterPointOfNoReturn(let reason, _, let remaining):
                #expect(reason.contains("shutdown requested"), "\(reason)")
                #expect(remaining == ["saveConfiguration"])
                let resumed = try await bed.resume(journalPath: journal.path, operation: .readerCutover, logger: logger)
                #expect(resumed.outcome == .completed, "\(resumed.outcome)")
            default:
                break
            }
            try await resetReaders(bed, after: result)
        }

        // MARK: Bad input

        @Test("bad input: the guards refuse, naming the node or the database, and nothing changes")
        func badInput() async throws {
            guard let bed = try FaultBed.available() else { return }
            let admin = try await ProxySQLAdminClient.connect(
                configuration: bed.rehearsal.emulator.adminConfiguration, logger: logger)
            let row = bed.rehearsal.topology.target.reader!

            // Aurora's reader row missing from one node.
            try await admin.removeServer(row, logger: logger)
            try await admin.loadServersToRuntime(logger: logger)
            let missing = try await ReaderFaultScenario.run(
                ReaderFaultCase(name: "reader cut-over: Aurora's reader row missing", expected: .refused("proxysql.rows")),
                on: bed)
            try await admin.addServer(
                BackendServer(hostgroup: row.hostgroup, endpoint: row.endpoint, status: .offlineHard, comment: "aurora-reader"),
                logger: logger)
            try await admin.loadServersToRuntime(logger: logger)
            if case .refused(let reasons) = missing.report.outcome {
                #expect(reasons.contains { $0.check == "proxysql.rows" && $0.message.contains(Rehearsal.proxyNodeName) && $0.message.contains("reader") }, "\(reasons)")
            }

            // No reader rows in the topology at all.
            let noRows = try await ReaderFaultScenario.run(
                ReaderFaultCase(
                    name: "reader cut-over: no reader rows in the topology", expected: .refused("topology"),
                    adjustEnvironment: { environment in
                        environment.topology.source.reader = nil
                        environment.topology.target.reader = nil
                    }),
                on: bed)
            if case .refused(let reasons) = noRows.report.outcome {
                #expect(reasons.contains { $0.check == "topology" && !$0.remedy.isEmpty }, "\(reasons)")
            }

            // Conflicting replication hostgroups: the monitor could move Aurora by read_only.
            let raw = try await MariaDBConnection.connect(configuration: bed.rehearsal.emulator.adminConfiguration)
            try await raw.run(
                "INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup, comment) VALUES (10, 11, 'fault')")
            try await raw.run("LOAD MYSQL SERVERS TO RUNTIME")
            let paired = try await ReaderFaultScenario.run(
                ReaderFaultCase(
                    name: "reader cut-over: Aurora in a replication-hostgroup pair",
                    expected: .refused("proxysql.replication-hostgroups")),
                on: bed)
            try await raw.run("DELETE FROM mysql_replication_hostgroups")
            try await raw.run("LOAD MYSQL SERVERS TO RUNTIME")
            await raw.close()
            await admin.close()
            if case .refused(let reasons) = paired.report.outcome {
                #expect(reasons.contains { $0.message.contains("\(bed.target.port)") }, "\(reasons)")
            }

            // Aurora not replicating: its reads would go stale.
            let target = try await bed.target.connectAsRoot()
            try await target.run("STOP SLAVE")
            let stale = try await ReaderFaultScenario.run(
                ReaderFaultCase(
                    name: "reader cut-over: Aurora not replicating", expected: .refused("replication.running")),
                on: bed)
            try await target.run("START SLAVE")
            await target.close()
            try await bed.waitUntilReplicating(bed.target)
            if case .refused(let reasons) = stale.report.outcome {
                #expect(reasons.contains { $0.message.contains("\(bed.target.port)") }, "\(reasons)")
            }
        }

        // MARK: Kill and resume

        static var deaths: [DyingExecutor.Death] {
            let actions = FaultPoint.readerSwitchSteps.count
            if LongTests.enabled {
                return (1...actions).flatMap { n -> [DyingExecutor.Death] in
                    n < actions ? [.beforeAction(n), .afterAction(n), .afterEvent(n)] : [.beforeAction(n), .afterAction(n)]
                }
            }
            return (2...actions).flatMap { [DyingExecutor.Death.beforeAction($0), .afterAction($0)] } + [
                .afterEvent(1), .afterEvent(5),
            ]
        }

        @Test("killed after each journal entry in turn, then resumed: the result equals an uninterrupted run")
        func killedAfterEachEntry() async throws {
            guard let bed = try FaultBed.available() else { return }
            let load = ReadLoad(endpoints: bed.readerEndpoints)
            let sampler = RoutingSampler(nodes: bed.proxyNodes)
            var outcomes: [String: Int] = [:]
            let final = try await load.run { load -> CutoverOperation in
                guard try await load.waitForMoreReads(50, timeout: .seconds(20)) else {
                    throw FaultBedError("the read load did not start")
                }
                return try await sampler.sampling {
                    var operation = CutoverOperation.readerCutover
                    for death in Self.deaths {
                        let outcome = try await killAndResume(operation, death, bed: bed)
                        outcomes[outcome, default: 0] += 1
                        _ = try await load.waitForMoreReads(10, timeout: .seconds(20))
                        operation = operation == .readerCutover ? .readerFailback : .readerCutover
                    }
                    return operation == .readerCutover ? .readerFailback : .readerCutover
                }
            }
            let summary = sampler.summary
            let reads = load.report
            #expect(summary.violations.isEmpty, "\(summary.violations)")
            #expect(summary.readerGaps.isEmpty, "nodes without an ONLINE reader: \(summary.readerGaps.prefix(3))")
            #expect(reads.failures.isEmpty, "reads failed: \(reads.failures.prefix(3))")
            #expect(reads.servedBy.count == 2, "reads served by \(reads.servedBy)")
            FaultMatrix.record(
                "READER | kill after each of \(Self.deaths.count) journal points, resume (\(outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))) | - | - | \(reads.succeeded) | \(reads.failures.count) | \(FaultMatrix.milliseconds(reads.maximumLatency)) | \(summary.totalSamples) / \(summary.readerGaps.count) / \(summary.violations.count) |"
            )
            if final == .readerCutover { try await bed.runReaderOperation(.readerFailback, logger: logger) }
            try await bed.expectReaderRouting(.source, "at the end")
        }

        /// One kill point: run until the death, resume with a fresh runner; if the resume rolled back, run the
        /// operation again. Then every node must route reads as a completed `operation` does.
        func killAndResume(_ operation: CutoverOperation, _ death: DyingExecutor.Death, bed: FaultBed) async throws
            -> String
        {
            let journal = TemporaryJournal("reader-run")
            let leftBehind = TemporaryJournal("reader-left-behind")
            defer {
                journal.cleanup()
                leftBehind.cleanup()
            }
            let (_, dying) = try await bed.runOperation(operation, journalPath: journal.path, logger: logger) {
                DyingExecutor(base: $0, death: death, journalPath: journal.path, leftBehindPath: leftBehind.path)
            }
            let label = "\(operation) killed (\(death))"
            try #require(dying.died, "\(label): the run ended first")
            let resumed = try await bed.resume(journalPath: leftBehind.path, operation: operation, logger: logger)
            var summary = FaultMatrix.outcome(resumed.outcome)
            switch resumed.outcome {
            case .completed:
                break
            case .rolledBack(_, let failures):
                #expect(failures.isEmpty, "\(label): rollback incomplete: \(failures)")
                try await bed.expectReaderRouting(operation.from, "\(label), rolled back")
                try await bed.runReaderOperation(operation, logger: logger)
                summary = "rolled back, run again"
            default:
                Issue.record("\(label): resume ended \(resumed.outcome)")
            }
            try await bed.expectReaderRouting(operation.to, label)
            FaultMatrix.record("READER | \(label) | resume: \(summary) | - | - | - | - | - |")
            return summary.hasPrefix("rolled back") ? "rolled back then run again" : summary
        }
    }
}

extension FaultBed {
    /// Waits (bounded) until a session uses `key` on the first node (`ConnUsed` > 0).
    func waitUntilReaderUsed(_ key: BackendServer.Key, timeout: Duration = .seconds(5)) async throws {
        let admin = try await ProxySQLAdminClient.connect(configuration: rehearsal.emulator.adminConfiguration, logger: logger)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let stats = try await admin.connectionPoolStats(hostgroup: key.hostgroup, logger: logger)
            if stats.contains(where: { $0.key == key && $0.connectionsUsed > 0 }) {
                await admin.close()
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        await admin.close()
        throw FaultBedError("no session used \(key) within \(timeout)")
    }
}
