import Cutover
import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

extension FaultTests {
    /// ProxySQL admin sessions dropped between two steps, and one of two ProxySQL nodes unreachable from the tool
    /// (its data plane still serving the application).
    @Suite("ProxySQL admin faults", .faultBed(secondNode: true))
    struct ProxySQLAdmin {
        let logger = Logger(label: "fault.proxysql", factory: { _ in SwiftLogNoOpLogHandler() })

        static let dropPoints: [FaultPoint] =
            LongTests.enabled
            ? [
                .guards, .prepareProxy, .offlineSoftOld, .drain, .offlineHardOld, .closeSessions, .catchUp, .onlineNew,
                .restoreProxy, .saveConfiguration,
            ]
            : [.offlineSoftOld, .drain, .onlineNew, .saveConfiguration]

        @Test(
            "an admin connection dropped right before a step: the session reconnects once and the run completes",
            arguments: dropPoints)
        func adminConnectionDropped(point: FaultPoint) async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            try await FaultScenario.run(
                FaultCase(
                    name: "admin connections of both nodes dropped before \(point)",
                    injections: [
                        .dropEveryAdminConnection(before: point, on: bed)
                    ],
                    expected: .completed
                ),
                on: bed
            )
            try await bed.failBack(logger: logger)
            try await bed.expectStartingState("after failback")
        }

        @Test(
            "ReconnectingSQLSession replaces a dropped admin connection and sends the statement once more; a plain connection stays lost"
        )
        func reconnectingSession() async throws {
            guard let bed = try FaultBed.available() else { return }
            let configuration = bed.rehearsal.emulator.adminConfiguration
            let session = try await ReconnectingSQLSession.connect(configuration: configuration)
            let plain = try await MariaDBConnection.connect(configuration: configuration)
            _ = try await session.query("SELECT COUNT(*) FROM mysql_servers")
            _ = try await plain.query("SELECT COUNT(*) FROM mysql_servers")
            #expect(bed.rehearsal.emulator.dropAdminConnections() >= 2)
            let rows = try await session.query("SELECT COUNT(*) FROM mysql_servers")
            #expect(rows.first?[0].string == "4")
            #expect(await session.reconnections == 1)
            let lost = await #expect(throws: MariaDBError.self) {
                try await plain.query("SELECT COUNT(*) FROM mysql_servers")
            }
            #expect(lost?.isConnectionLost == true || lost?.code == .connectionClosed)
            await plain.close()
            await session.close()
            let closed = await #expect(throws: MariaDBError.self) { try await session.query("SELECT 1") }
            #expect(closed?.code == .connectionClosed)
        }

        @Test("the second node unreachable from the start: the guards refuse and nothing changes")
        func secondNodeUnreachableFromTheStart() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            bed.secondNodeReachable.withLock { $0 = false }
            defer { bed.secondNodeReachable.withLock { $0 = true } }
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "second ProxySQL node unreachable from the start", expected: .refused("proxysql.runtime")),
                on: bed
            )
            if case .refused(let reasons) = result.report.outcome {
                #expect(reasons.contains { $0.message.contains(FaultBed.secondNodeName) }, "\(reasons)")
            }
        }

        @Test("the second node unreachable before the point of no return: rolled back where reachable, the node named")
        func secondNodeUnreachableBeforeThePointOfNoReturn() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            // Unreachable before the first change: the rollback cannot reach it either, and it never changed.
            let result = try await FaultScenario.run(
                .secondNodeUnreachable(
                    "second ProxySQL node unreachable before OFFLINE_SOFT", before: .offlineSoftOld,
                    expected: .rolledBack, checkReplicationAfter: false, on: bed),
                on: bed
            )
            guard case .rolledBack(_, let failures) = result.report.outcome else { return }
            #expect(failures.contains { $0.endpoint == FaultBed.secondNodeName }, "\(failures)")
            try await bed.expectStartingState("after")
        }

        @Test(
            "the second node unreachable during drain: the first node rolled back, the second left OFFLINE_SOFT and named"
        )
        func secondNodeUnreachableDuringDrain() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let result = try await FaultScenario.run(
                .secondNodeUnreachable(
                    "second ProxySQL node unreachable during drain", before: .drain,
                    expected: .rolledBack, checkReplicationAfter: false, on: bed),
                on: bed
            )
            guard case .rolledBack(_, let failures) = result.report.outcome else { return }
            #expect(failures.contains { $0.endpoint == FaultBed.secondNodeName }, "\(failures)")
            // What the outcome says remains: the second node still has the source OFFLINE_SOFT. Never two writers.
            let writers = try await bed.runtimeWriters(node: bed.secondNode!.adminConfiguration)
            #expect(writers.isEmpty, "\(writers)")
            try await bed.setRouting(source: .online, target: .offlineHard, on: bed.secondNode!.adminConfiguration)
            try await bed.expectStartingState("after the operator fixed the second node")
        }

        @Test("the second node unreachable at the new writer's ONLINE: past the point of no return; resume finishes it")
        func secondNodeUnreachableAtOnline() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let journal = TemporaryJournal("node-online")
            defer { journal.cleanup() }
            let result = try await FaultScenario.run(
                .secondNodeUnreachable(
                    "second ProxySQL node unreachable at ONLINE of the new writer", before: .onlineNew,
                    expected: .stoppedAfterPointOfNoReturn, checkReplicationAfter: false, journalPath: journal.path, on: bed),
                on: bed
            )
            guard case .stoppedAfterPointOfNoReturn(_, let failures, let remaining) = result.report.outcome else {
                return
            }
            #expect(remaining.first == "onlineNew", "\(remaining)")
            #expect(failures.allSatisfy { $0.endpoint == FaultBed.secondNodeName }, "\(failures)")
            // The first node routes to the new writer; the second one to nobody (never to both).
            #expect(
                try await bed.runtimeWriters(node: bed.rehearsal.emulator.adminConfiguration) == [bed.targetEndpoint])
            #expect(try await bed.runtimeWriters(node: bed.secondNode!.adminConfiguration) == [])
            try await bed.resumeAndFailBack(
                journalPath: journal.path, matrixRow: "second node reachable again, `resume`", logger: logger)
            try await bed.expectStartingState("after failback")
        }

        @Test(
            "the second node unreachable after the point of no return: the outcome lists its steps; resume finishes them"
        )
        func secondNodeUnreachableAfterThePointOfNoReturn() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let journal = TemporaryJournal("node-after")
            defer { journal.cleanup() }
            let result = try await FaultScenario.run(
                .secondNodeUnreachable(
                    "second ProxySQL node unreachable after the point of no return", before: .restoreProxy,
                    expected: .stoppedAfterPointOfNoReturn, journalPath: journal.path, on: bed),
                on: bed
            )
            guard case .stoppedAfterPointOfNoReturn(_, _, let remaining) = result.report.outcome else { return }
            #expect(remaining == ["restoreProxy", "saveConfiguration"], "\(remaining)")
            try await bed.resumeAndFailBack(
                journalPath: journal.path, matrixRow: "second node reachable again, `resume`", logger: logger)
            try await bed.expectStartingState("after failback")
        }
    }
}

extension FaultCase {
    /// `name`: the tool cut off the second ProxySQL node right before `point` (its data plane keeps serving); the
    /// repair makes it reachable again.
    static func secondNodeUnreachable(
        _ name: String, before point: FaultPoint, expected: ExpectedOutcome, checkReplicationAfter: Bool = true,
        journalPath: String? = nil, on bed: FaultBed
    ) -> FaultCase {
        FaultCase(
            name: name,
            injections: [.cutOffSecondNode(before: point, on: bed)],
            expected: expected,
            checkReplicationAfter: checkReplicationAfter,
            journalPath: journalPath,
            repair: { bed in bed.secondNodeReachable.withLock { $0 = true } }
        )
    }
}

extension FaultBed {
    /// Sets the writer rows of one node directly (what an operator does by hand).
    func setRouting(source: BackendStatus, target: BackendStatus, on configuration: MariaDBConnection.Configuration)
        async throws
    {
        let admin = try await ProxySQLAdminClient.connect(configuration: configuration, logger: logger)
        try await admin.setStatus(source, of: rehearsal.topology.source.writer, logger: logger)
        try await admin.setStatus(target, of: rehearsal.topology.target.writer, logger: logger)
        try await admin.loadServersToRuntime(logger: logger)
        await admin.close()
    }
}
