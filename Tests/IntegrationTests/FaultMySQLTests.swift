import Cutover
import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB
import Testing

extension FaultTests {
    /// Rows of the fault matrix on MySQL 9.7 (source and Aurora stand-in, GTIDs on, a multi-threaded applier):
    /// broken replication, a drain held by a client, the source killed before and after the point of no return.
    /// Skipped with a message without MySQL; `REQUIRE_MYSQL=1` makes that a failure (#12).
    @Suite("MySQL 9.7: faults during a writer cut-over", .faultBed(kind: .mysql))
    struct MySQLFaults {
        let logger = Logger(label: "fault.mysql", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test("a planted duplicate-key row stops a worker of Aurora's applier: rolled back at once, 1062 named")
        func duplicateKey() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let key = Int64.random(in: 1...1_000_000_000)
            let setup = try await bed.source.connectAsRoot()
            try await setup.run("CREATE TABLE IF NOT EXISTS cutover_load.fault_conflict (id BIGINT PRIMARY KEY)")
            await setup.close()
            try await bed.waitForReplica(bed.target, of: bed.source)
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "MySQL: duplicate key on Aurora in the switch's last write",
                    injections: [
                        .before(.readFinalPosition, "plant a row on Aurora, then write the same key on the source as root")
                        {
                            let target = try await bed.target.connectAsRoot()
                            try await target.run("SET SESSION sql_log_bin = 0")
                            try await target.run("INSERT INTO cutover_load.fault_conflict (id) VALUES (\(key))")
                            await target.close()
                            // `super_read_only` stops root on MySQL: this write lands only if the fence is not there
                            // yet (the fence comes later in the window), as a last write that will not replicate.
                            let source = try await bed.source.connectAsRoot()
                            try await source.run("SET GLOBAL super_read_only = OFF")
                            try await source.run("INSERT INTO cutover_load.fault_conflict (id) VALUES (\(key))")
                            await source.close()
                        }
                    ],
                    expected: .rolledBack,
                    checkReplicationAfter: false,
                    repair: { bed in
                        let target = try await bed.target.connectAsRoot()
                        try await target.run("SET SESSION sql_log_bin = 0")
                        try await target.run("DELETE FROM cutover_load.fault_conflict WHERE id = \(key)")
                        try await target.run("START REPLICA SQL_THREAD")
                        await target.close()
                        try await bed.waitForReplica(bed.target, of: bed.source)
                    }
                ),
                on: bed
            )
            if case .rolledBack(let reason, _) = result.report.outcome {
                // The worker's error (from performance_schema), not only the coordinator's summary.
                #expect(reason.contains("1062"), "\(reason)")
                #expect(reason.contains("127.0.0.1:\(bed.target.port)"), "\(reason)")
            }
            let catchUp = result.performed.first { if case .waitForCatchUp = $0.action { true } else { false } }
            #expect(
                catchUp.map { $0.duration < FaultPolicies.standard.catchUpDeadline } == true,
                "not detected before the deadline")
            try await bed.expectStartingState("after")
        }

        @Test("catch-up impossible (Aurora's SQL thread stopped): detected at once, rolled back")
        func sqlThreadStopped() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "MySQL: catch-up impossible (Aurora's SQL thread stopped)",
                    injections: [
                        .before(.readFinalPosition, "stop Aurora's SQL thread") {
                            let connection = try await bed.target.connectAsRoot()
                            try await connection.run("STOP REPLICA SQL_THREAD")
                            await connection.close()
                        }
                    ],
                    expected: .rolledBack,
                    checkReplicationAfter: false,
                    repair: { bed in
                        let connection = try await bed.target.connectAsRoot()
                        try await connection.run("START REPLICA SQL_THREAD")
                        await connection.close()
                        try await bed.waitForReplica(bed.target, of: bed.source)
                    }
                ),
                on: bed
            )
            if case .rolledBack(let reason, _) = result.report.outcome {
                #expect(reason.contains("SQL thread"), "\(reason)")
            }
            try await bed.expectStartingState("after")
        }

        @Test("a client holds a transaction open: the drain deadline passes, rolled back, the transaction commits")
        func openTransactionRollsBack() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let holder = Slot<PinnedClient>()
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "MySQL: drain held by an open transaction (policy: roll back)",
                    injections: [
                        .before(.offlineSoftOld, "open a transaction through ProxySQL") {
                            holder.set(try await PinnedClient.openTransaction(bed: bed))
                        }
                    ],
                    expected: .rolledBack
                ),
                on: bed
            )
            let client = try #require(holder.current)
            #expect(result.report.timeline.holdersAtDeadline.count == 1, "\(result.report.timeline.holdersAtDeadline)")
            if case .rolledBack(let reason, _) = result.report.outcome {
                #expect(reason.contains("drain did not finish"), "\(reason)")
            }
            #expect(await client.commit() == nil)
            await client.close()
        }

        @Test("the source killed during the drain: rolled back; nothing acknowledged is lost")
        func sourceKilledDuringDrain() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            try await FaultScenario.run(
                FaultCase(
                    name: "MySQL: source killed during drain",
                    injections: [.before(.drain, "kill the source") { try await bed.source.kill() }],
                    expected: .rolledBack,
                    writerAvailableAfterRun: false,
                    repair: { bed in try await bed.restartSource() }
                ),
                on: bed
            )
        }

        @Test("the source killed before reverse replication starts: stopped after the point of no return; resume completes")
        func sourceKilledBeforeReverseReplication() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let journal = TemporaryJournal("mysql-reverse-kill")
            defer { journal.cleanup() }
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "MySQL: source killed before startReverseReplication",
                    injections: [.before(.startReverseReplication, "kill the source") { try await bed.source.kill() }],
                    expected: .stoppedAfterPointOfNoReturn,
                    checkReplicationAfter: false,
                    journalPath: journal.path,
                    repair: { bed in try await bed.restartSource() }
                ),
                on: bed
            )
            guard case .stoppedAfterPointOfNoReturn(_, _, let remaining) = result.report.outcome else { return }
            #expect(remaining.first == "startReverseReplication", "\(remaining)")
            let resumed = try await bed.resume(journalPath: journal.path, logger: logger)
            #expect(resumed.outcome == .completed, "resume: \(resumed.outcome)")
            FaultMatrix.record(
                "| \(result.name), then source restarted and `resume` | \(FaultMatrix.outcome(resumed.outcome)) | - | - | - | - | - | - |")
            try await bed.expectCutOverState("after resume")
            // MySQL takes 5-7 s to restart here: the old source's reverse replication starts that far behind, and
            // the failback's lag guard (budget 5 s) would rightly refuse until it has applied Aurora's writes.
            try await bed.waitForReplica(bed.source, of: bed.target)
            try await bed.failBack(logger: logger)
            try await bed.expectStartingState("after failback")
        }
    }
}
