import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import Testing

/// The fault-injection suite of issue #8: every case runs a cut-over on the sandbox under write load with a fault
/// injected at a given step, then checks the invariants (no acknowledged write lost or applied twice, never two
/// writers ONLINE, the starting routing restored before the point of no return, bounded waits, messages that name
/// the endpoint, the step and the remedy, no password anywhere). The suites share nothing and run one at a time.
@Suite("Fault injection", .integration, .serialized)
struct FaultTests {}

extension FaultBed {
    /// Restarts the source after a kill and makes "Aurora" reconnect at once (its IO thread retries only every 60 s).
    func restartSource() async throws {
        if await source.isRunning == false {
            try await source.restart()
        }
        try await reconnectReplica(target)
        for server in [source, target] {
            try await waitUntilReplicating(server)
        }
    }

    /// Waits (bounded) until `server`'s replication, if it has one, runs both threads.
    func waitUntilReplicating(_ server: SandboxServer, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while let threads = try await replication(server), threads.io != "Yes" || threads.sql != "Yes" {
            guard ContinuousClock.now < deadline else {
                throw FaultBedError("\(server.name) does not replicate after \(timeout): \(threads)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Restarts the IO thread of `server`'s replication, if it replicates.
    func reconnectReplica(_ server: SandboxServer) async throws {
        guard try await replication(server) != nil else { return }
        let connection = try await server.connectAsRoot()
        try await connection.run(sql.stopReplica("IO_THREAD"))
        try await connection.run(sql.startReplica("IO_THREAD"))
        await connection.close()
    }

    /// Waits (bounded) until "Aurora" has received everything the source wrote so far.
    func waitUntilTargetReceivedSource(timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        let sourceConnection = try await source.connectAsRoot()
        let status = try await sourceConnection.queryFirst(sql.showSourceStatus)
        await sourceConnection.close()
        let file = status?["File"]?.string ?? ""
        let position = Int64(status?["Position"]?.string ?? "") ?? 0
        let targetConnection = try await target.connectAsRoot()
        while ContinuousClock.now < deadline {
            let row = try await targetConnection.queryFirst(sql.showReplicaStatus)
            if row?[sql.replicaColumn("Source_Log_File")]?.string == file,
                (Int64(row?[sql.replicaColumn("Read_Source_Log_Pos")]?.string ?? "") ?? 0) >= position
            {
                await targetConnection.close()
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        await targetConnection.close()
        throw FaultBedError("Aurora did not receive the source's binlog up to \(file):\(position) within \(timeout)")
    }

    /// Resumes the run journaled at `path` with a fresh runner and fresh connections.
    func resume(
        journalPath path: String, policy: CutoverPolicy = FaultPolicies.standard,
        operation: CutoverOperation = .writerCutover, logger: Logger
    ) async throws -> CutoverReport {
        try await runOperation(operation, policy: policy, journalPath: path, resume: true, logger: logger)
    }
}

/// A temporary journal path, removed with its lock by `cleanup()`.
struct TemporaryJournal {
    let path: String

    init(_ name: String) {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(name)-\(UUID().uuidString).jsonl")
            .path
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + ".lock")
    }
}

extension FaultTests {
    /// The source's `mariadbd` (or MySQL's `mysqld`) killed with SIGKILL at each step where it can happen.
    @Suite("Source server killed", .faultBed(kinds: FaultBed.kinds))
    struct SourceKilled {
        let logger = Logger(label: "fault.source-killed", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test(
            "killed during drain: the run rolls back to the (dead) source; nothing acknowledged is lost",
            arguments: FaultBed.kinds)
        func killedDuringDrain(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            try await runKilledBeforeCommit(server.faultRow("source killed during drain"), killedBefore: .drain, on: bed)
        }

        @Test("killed right after OFFLINE_HARD, before the sessions are closed: rolled back")
        func killedAfterHardOffline() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            try await runKilledBeforeCommit("source killed before closing sessions", killedBefore: .closeSessions, on: bed)
        }

        @Test(
            "killed during catch-up, after Aurora received everything: the switch completes its window; reverse replication waits for resume",
            arguments: FaultBed.kinds
        )
        func killedDuringCatchUp(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let journal = TemporaryJournal("catch-up-kill")
            defer { journal.cleanup() }
            let result = try await FaultScenario.run(
                FaultCase(
                    name: server.faultRow("source killed during catch-up"),
                    injections: [
                        .before(.catchUp, "kill the source once Aurora received its binlog") {
                            try await bed.waitUntilTargetReceivedSource()
                            try await bed.source.kill()
                        }
                    ],
                    expected: .stoppedAfterPointOfNoReturn,
                    checkReplicationAfter: false,
                    journalPath: journal.path,
                    repair: { bed in try await bed.restartSource() }
                ),
                on: bed
            )
            try await finishWithResume(result, journal: journal, bed: bed)
        }

        @Test(
            "killed after the point of no return, at each later step",
            arguments: [
                FaultPoint.stopForwardReplication, .startReverseReplication, .verifyReverseReplication,
                .confirmFenceOld,
                .restoreProxy,
            ], FaultBed.kinds)
        func killedAfterPointOfNoReturn(point: FaultPoint, server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let journal = TemporaryJournal("ponr-kill")
            defer { journal.cleanup() }
            // Killed before the old source's fence is confirmed: the run stops with what remains. Killed later:
            // the run completes (the old source catches up when it restarts).
            let expected: ExpectedOutcome = point == .restoreProxy ? .completed : .stoppedAfterPointOfNoReturn
            let result = try await FaultScenario.run(
                FaultCase(
                    name: server.faultRow("source killed before \(point)"),
                    injections: [.before(point, "kill the source") { try await bed.source.kill() }],
                    expected: expected,
                    checkReplicationAfter: false,
                    journalPath: journal.path,
                    repair: { bed in
                        try await bed.restartSource()
                        guard expected == .completed else { return }
                        // MySQL: the run made the fence durable (`SET PERSIST`, confirmFenceOld) before the kill, so
                        // the restarted source is read-only again.
                        // MariaDB: a restart drops `read_only` (not persistent on MariaDB / MySQL 5.7), and no run is
                        // left to put it back: the runbook has the operator keep the old source read-only in its
                        // option file. Observed here, then set as the operator would.
                        let persisted = bed.kind == .mysql
                        #expect(try await bed.readOnly(bed.source) == persisted, "read_only after the restart")
                        guard !persisted else { return }
                        let source = try await bed.source.connectAsRoot()
                        try await source.run("SET GLOBAL read_only = 1")
                        await source.close()
                    }
                ),
                on: bed
            )
            if expected == .completed {
                try await bed.expectCutOverState("after restart")
                try await bed.failBack(logger: logger)
                try await bed.expectStartingState("after failback")
            } else {
                try await finishWithResume(
                    result, journal: journal, bed: bed,
                    // Killed before stopping forward replication: the fence proof (reading the dead source) is the
                    // first step left.
                    firstRemaining: point == .stopForwardReplication ? "proveFenceOld" : point.rawValue)
            }
        }

        /// Runs the case `name`: the source killed right before `point`, before the point of no return; the run must
        /// roll back (with the source restarted before the rows are read).
        func runKilledBeforeCommit(
            _ name: String, killedBefore point: FaultPoint, on bed: FaultBed,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            try await FaultScenario.run(
                FaultCase(
                    name: name,
                    injections: [.before(point, "kill the source") { try await bed.source.kill() }],
                    expected: .rolledBack,
                    writerAvailableAfterRun: false,
                    repair: { bed in try await bed.restartSource() }
                ),
                on: bed,
                sourceLocation: sourceLocation
            )
        }

        /// After a run that stopped past the point of no return and a restarted source: `resume` finishes the run,
        /// then a failback resets the bed.
        func finishWithResume(
            _ result: FaultCaseResult, journal: TemporaryJournal, bed: FaultBed,
            firstRemaining: String = "proveFenceOld"
        ) async throws {
            guard case .stoppedAfterPointOfNoReturn(_, _, let remaining) = result.report.outcome else { return }
            #expect(remaining.first?.rawValue == firstRemaining, "\(remaining)")
            try await bed.resumeAndFailBack(
                journalPath: journal.path, matrixRow: "\(result.name), then source restarted and `resume`", logger: logger)
            try await bed.expectStartingState("after failback")
        }
    }
}
