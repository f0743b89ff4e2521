import Cutover
import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB
import Testing

extension FaultTests {
    /// Aurora's forward replication broken during the switch, on MariaDB and on MySQL 9.7 (GTIDs on, a
    /// multi-threaded applier).
    @Suite("Target replication broken during catch-up", .faultBed(kinds: FaultBed.kinds))
    struct ReplicationBroken {
        let logger = Logger(label: "fault.replication", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test(
            "a planted duplicate-key row stops Aurora's applier on the switch's last write: rolled back, the error named",
            arguments: FaultBed.kinds
        )
        func duplicateKey(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let key = Int64.random(in: 1...1_000_000_000)
            // A side table both servers have (created on the source, replicated).
            let setup = try await bed.source.connectAsRoot()
            try await setup.run("CREATE TABLE IF NOT EXISTS cutover_load.fault_conflict (id BIGINT PRIMARY KEY)")
            await setup.close()
            try await bed.waitForReplica(bed.target, of: bed.source)
            let result = try await FaultScenario.run(
                FaultCase(
                    name: server.faultRow("duplicate key on Aurora in the switch's last write"),
                    injections: [
                        .before(
                            .readFinalPosition, "plant a row on Aurora, then write the same key on the fenced source"
                        ) {
                            let target = try await bed.target.connectAsRoot()
                            try await target.run("SET SESSION sql_log_bin = 0")
                            try await target.run("INSERT INTO cutover_load.fault_conflict (id) VALUES (\(key))")
                            await target.close()
                            // Root writes past the fence: a last write that will not replicate.
                            let source = try await bed.source.connectAsRoot()
                            for statement in bed.sql.letRootWritePastTheFence { try await source.run(statement) }
                            try await source.run("INSERT INTO cutover_load.fault_conflict (id) VALUES (\(key))")
                            await source.close()
                        }
                    ],
                    expected: .rolledBack,
                    checkReplicationAfter: false,
                    repair: { bed in
                        // The operator's fix: remove the planted row and restart the applier.
                        let target = try await bed.target.connectAsRoot()
                        try await target.run("SET SESSION sql_log_bin = 0")
                        try await target.run("DELETE FROM cutover_load.fault_conflict WHERE id = \(key)")
                        try await target.run(bed.sql.startReplica("SQL_THREAD"))
                        await target.close()
                        try await bed.waitForReplica(bed.target, of: bed.source)
                    }
                ),
                on: bed
            )
            if case .rolledBack(let reason, _) = result.report.outcome {
                // On MySQL the worker's error (from performance_schema), not only the coordinator's summary.
                #expect(reason.contains("1062"), "\(reason)")
                #expect(reason.contains("127.0.0.1:\(bed.target.port)"), "\(reason)")
            }
            let catchUp = result.performed.first { if case .waitForCatchUp = $0.action { true } else { false } }
            #expect(
                catchUp.map { $0.duration < FaultPolicies.standard.catchUpDeadline } == true,
                "not detected before the deadline")
            try await bed.expectStartingState("after")
        }

        @Test(
            "Aurora's IO thread loses the source (replication account locked, dump thread killed): catch-up deadline, rolled back",
            arguments: FaultBed.kinds
        )
        func ioThreadLosesTheSource(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let user = Rehearsal.forwardReplicationUser
            let result = try await FaultScenario.run(
                FaultCase(
                    name: server.faultRow("Aurora's IO thread cut off the source before the window"),
                    injections: [
                        .before(.offlineSoftOld, "lock the replication account and kill its dump thread") {
                            let source = try await bed.source.connectAsRoot()
                            try await source.run("SET SESSION sql_log_bin = 0")
                            try await source.run("ALTER USER \(user)@'%' ACCOUNT LOCK")
                            let threads = try await source.query(
                                "SELECT id FROM information_schema.processlist WHERE user = \(user)"
                            )
                            for thread in threads {
                                try await source.run("KILL CONNECTION \(try thread.decode(Int64.self, "id"))")
                            }
                            await source.close()
                        }
                    ],
                    expected: .rolledBack,
                    checkReplicationAfter: false,
                    repair: { bed in
                        let source = try await bed.source.connectAsRoot()
                        try await source.run("SET SESSION sql_log_bin = 0")
                        try await source.run("ALTER USER \(user)@'%' ACCOUNT UNLOCK")
                        await source.close()
                        try await bed.reconnectReplica(bed.target)
                        try await bed.waitForReplica(bed.target, of: bed.source)
                    }
                ),
                on: bed
            )
            if case .rolledBack(let reason, _) = result.report.outcome {
                #expect(reason.contains("did not execute") || reason.contains("IO thread"), "\(reason)")
            }
            try await bed.expectStartingState("after")
        }
    }
}
