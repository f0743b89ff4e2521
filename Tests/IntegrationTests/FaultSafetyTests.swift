import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import Synchronization
import Testing

extension FaultTests {
    /// Issue #13, item 4: a target that cannot take writes is refused by the guards (not only by the preflight).
    @Suite("Safety guards (#13)", .faultBed())
    struct SafetyGuards {
        let logger = Logger(label: "fault.safety", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test("a read-only target: the guards refuse instead of completing onto a server that answers 1290")
        func readOnlyTarget() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let target = try await bed.target.connectAsRoot()
            try await target.run("SET GLOBAL read_only = 1")
            let result: FaultCaseResult
            do {
                result = try await FaultScenario.run(
                    FaultCase(name: "target read_only=1", expected: .refused("target.writable")), on: bed)
            } catch {
                try await target.run("SET GLOBAL read_only = 0")
                await target.close()
                throw error
            }
            try await target.run("SET GLOBAL read_only = 0")
            await target.close()
            if case .refused(let reasons) = result.report.outcome {
                let reason = reasons.first { $0.check == "target.writable" }
                #expect(reason?.message.contains("read_only=ON") == true, "\(reasons)")
                #expect(reason?.message.contains("127.0.0.1:\(bed.target.port)") == true, "\(reasons)")
            }
            try await bed.expectStartingState("after")
        }

        /// Item 1: a root session (direct, not through ProxySQL) holding a write transaction across the switch used to
        /// commit after the fence (root passes `read_only`): its row then existed only on the old writer. Now every
        /// session with an open transaction is closed before the fence, whatever its account.
        @Test("a root transaction held across the switch is cut before the fence: its commit fails, no row only on the source")
        func privilegedTransactionAcrossTheSwitch() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let setup = try await bed.source.connectAsRoot()
            try await setup.run("CREATE TABLE IF NOT EXISTS cutover_load.fault_privileged_held (id BIGINT PRIMARY KEY)")
            await setup.close()
            try await bed.waitForReplica(bed.target, of: bed.source)
            let holder = try await bed.source.connectAsRoot()
            let commit = Mutex<String?>(nil)
            var policy = FaultPolicies.standard
            policy.longTransactionLimit = .seconds(60)
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "root transaction held on the source across the switch",
                    policy: policy,
                    injections: [
                        .after(.guards, "root opens a write transaction on the source, bypassing ProxySQL") {
                            try await holder.run("BEGIN")
                            try await holder.run("INSERT INTO cutover_load.fault_privileged_held (id) VALUES (1)")
                        },
                        .after(.fence, "the root session commits after the fence") {
                            do {
                                try await holder.run("COMMIT")
                                commit.withLock { $0 = "committed" }
                            } catch {
                                commit.withLock { $0 = "\(error)" }
                            }
                        },
                    ],
                    expected: .completed
                ),
                on: bed
            )
            await holder.close()
            let outcome = commit.withLock { $0 }
            #expect(outcome != nil && outcome != "committed", "the held root transaction: \(outcome ?? "nil")")
            for server in [bed.source, bed.target] {
                let connection = try await server.connectAsRoot()
                let count = try await connection.queryFirst(
                    "SELECT COUNT(*) FROM cutover_load.fault_privileged_held")?[0].string
                await connection.close()
                #expect(count == "0", "\(server.name) holds the root session's row")
            }
            #expect(result.report.timeline.sessionsCut >= 1)
            FaultMatrix.record(
                "| root transaction held across the switch (direct, not through ProxySQL) | after guards / commit after the fence | completed; the session was closed before the fence (commit: `\((outcome ?? "").prefix(60))`) | - | - | - | - | - | - |"
            )
            if case .completed = result.report.outcome {
                try await bed.failBack(logger: logger)
                try await bed.expectStartingState("after failback")
            }
        }
    }

    /// Issue #13, item 1: a privileged session writing on the old writer past the fence (root, directly, not through
    /// ProxySQL: `read_only` does not stop it) is found before reverse replication starts, and named. The bed is left
    /// cut over with the source diverged, so the case has a suite (and a sandbox) of its own.
    @Suite("Fence proof (#13)", .faultBed())
    struct FenceProofCase {
        @Test("a root write on the fenced source after the switch: stopped loudly, the extra GTID named, no reverse replication")
        func privilegedWriterPastTheFence() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let setup = try await bed.source.connectAsRoot()
            try await setup.run("CREATE TABLE IF NOT EXISTS cutover_load.fault_privileged (id BIGINT PRIMARY KEY)")
            await setup.close()
            try await bed.waitForReplica(bed.target, of: bed.source)
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "privileged write on the source after the fence",
                    injections: [
                        .before(.stopForwardReplication, "root inserts a row on the fenced source, bypassing ProxySQL") {
                            let source = try await bed.source.connectAsRoot()
                            try await source.run("INSERT INTO cutover_load.fault_privileged (id) VALUES (1)")
                            await source.close()
                        }
                    ],
                    expected: .stoppedAfterPointOfNoReturn,
                    checkReplicationAfter: false
                ),
                on: bed
            )
            guard case .stoppedAfterPointOfNoReturn(_, let failures, let remaining) = result.report.outcome else {
                return
            }
            #expect(remaining.first == "proveFenceOld", "\(remaining)")
            #expect(remaining.contains("startReverseReplication"), "\(remaining)")
            let failure = failures.first { $0.message.contains("THE FENCE DID NOT HOLD") }
            #expect(failure != nil, "\(failures)")
            #expect(failure?.message.contains("extra GTIDs") == true, "\(String(describing: failure))")
            // Reverse replication was not started on top of the diverged source.
            #expect(try await bed.replication(bed.source) == nil)
            #expect(!result.performed.contains { if case .startReplication = $0.action { true } else { false } })
        }
    }
}
