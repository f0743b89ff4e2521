import Cutover
import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB
import ReplicationControl
import Synchronization
import Testing

/// A client connection through the emulator that pins its session (an open transaction, a `SET @x`) for a test.
final class PinnedClient: Sendable {
    let connection: MariaDBConnection
    let writeID: Int64

    private init(connection: MariaDBConnection, writeID: Int64) {
        self.connection = connection
        self.writeID = writeID
    }

    /// Opens a transaction that inserts one row (run id 0, so no load run counts it) and leaves it open.
    static func openTransaction(bed: FaultBed) async throws -> PinnedClient {
        let connection = try await MariaDBConnection.connect(configuration: bed.rehearsal.writerEndpoint)
        let writeID = Int64.random(in: 1_000_000_000...9_000_000_000)
        try await connection.run("BEGIN")
        try await connection.run(
            "INSERT INTO cutover_load.keyed_writes (id, run_id, client, sequence, sent_at_us) VALUES (\(writeID), 0, 0, 0, 0)"
        )
        return PinnedClient(connection: connection, writeID: writeID)
    }

    /// Sets a user variable: ProxySQL pins the session to its backend for good.
    static func userVariable(bed: FaultBed) async throws -> PinnedClient {
        let connection = try await MariaDBConnection.connect(configuration: bed.rehearsal.writerEndpoint)
        try await connection.run("SET @fault_pin = 1")
        return PinnedClient(connection: connection, writeID: 0)
    }

    /// Commits; returns the error if the commit failed (the session was cut).
    func commit() async -> (any Error)? {
        do {
            try await connection.run("COMMIT", timeout: .seconds(15))
            return nil
        } catch {
            return error
        }
    }

    func close() async { await connection.close() }
}

/// Holds an object for an injection closure to fill and the test to read.
final class Slot<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    var current: Value? { value.withLock { $0 } }
}

extension FaultTests {
    /// Drain that never completes, and catch-up that never completes; the rows that mean the same on MySQL 9.7 run
    /// on both server kinds.
    @Suite("Drain and catch-up that never complete", .faultBed(kinds: FaultBed.kinds))
    struct NeverCompletes {
        let logger = Logger(label: "fault.never", factory: { _ in SwiftLogNoOpLogHandler() })

        /// Runs the fault case `name` with a session pinned by `pin` (described by `what`) right before OFFLINE_SOFT;
        /// returns what happened and the pinned client (nil if the injection never ran).
        func runPinned(
            _ name: String, _ what: String, policy: CutoverPolicy = FaultPolicies.standard,
            expected: ExpectedOutcome, on bed: FaultBed,
            pin: @escaping @Sendable (FaultBed) async throws -> PinnedClient
        ) async throws -> (FaultCaseResult, PinnedClient?) {
            let holder = Slot<PinnedClient>()
            let result = try await FaultScenario.run(
                FaultCase(
                    name: name,
                    policy: policy,
                    injections: [.before(.offlineSoftOld, what) { holder.set(try await pin(bed)) }],
                    expected: expected
                ),
                on: bed
            )
            return (result, holder.current)
        }

        @Test(
            "a client holds a transaction open: the drain deadline passes and the run rolls back, naming the session",
            arguments: FaultBed.kinds)
        func openTransactionRollsBack(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let (result, pinned) = try await runPinned(
                server.faultRow("drain held by an open transaction (policy: roll back)"),
                "open a transaction through ProxySQL",
                expected: .rolledBack, on: bed
            ) { try await PinnedClient.openTransaction(bed: $0) }
            let client = try #require(pinned)
            let timeline = result.report.timeline
            // The session that holds on is named (user and client address), with what can pin it.
            #expect(timeline.holdersAtDeadline.count == 1, "\(timeline.holdersAtDeadline)")
            #expect(timeline.holdersAtDeadline.first?.user == bed.rehearsal.applicationAccount.username)
            if case .rolledBack(let reason, _) = result.report.outcome {
                #expect(reason.contains("drain did not finish"), "\(reason)")
            }
            // The window is the drain deadline plus the rollback.
            #expect(timeline.window.map { $0 >= FaultPolicies.standard.drainDeadline } == true)
            // The transaction survives the rollback and commits on the source.
            #expect(await client.commit() == nil)
            await client.close()
        }

        @Test("a client holds a transaction open, policy force: the session is cut, the switch completes")
        func openTransactionForced() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            var policy = FaultPolicies.standard
            policy.drainDeadlinePolicy = .force
            let (result, pinned) = try await runPinned(
                "drain held by an open transaction (policy: force)", "open a transaction through ProxySQL",
                policy: policy, expected: .completed, on: bed
            ) { try await PinnedClient.openTransaction(bed: $0) }
            let client = try #require(pinned)
            #expect(result.report.timeline.forcedDrain)
            #expect(result.report.timeline.sessionsCut >= 1)
            // Its session was cut: the commit fails and the row is nowhere.
            #expect(await client.commit() != nil)
            await client.close()
            let target = try await bed.target.connectAsRoot()
            let rows = try await target.query("SELECT id FROM cutover_load.keyed_writes WHERE id = \(client.writeID)")
            await target.close()
            #expect(rows.isEmpty)
            try await bed.failBack(logger: logger)
            try await bed.expectStartingState("after failback")
        }

        /// The policy before issue #18: idle pins are waited for until the drain deadline.
        static var waitPolicy: CutoverPolicy {
            var policy = FaultPolicies.standard
            policy.pinnedSessions = .wait
            return policy
        }

        @Test("a session pinned by SET @x, pinned-sessions wait: the drain deadline passes and the run rolls back, naming the reason")
        func userVariablePin() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let (result, pinned) = try await runPinned(
                "drain held by a session pinned with SET @x", "pin a session with a user variable",
                policy: Self.waitPolicy, expected: .rolledBack, on: bed
            ) { try await PinnedClient.userVariable(bed: $0) }
            let holders = result.report.timeline.holdersAtDeadline
            #expect(
                holders.count == 1 && holders.first?.user == bed.rehearsal.applicationAccount.username, "\(holders)")
            await pinned?.close()
        }

        @Test("sessions pinned before the run: preflight warns and names them, the guards (pinned-sessions wait) refuse a SET @x pin, nothing changes")
        func pinnedBeforeTheRun() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let variable = try await PinnedClient.userVariable(bed: bed)
            let transaction = try await PinnedClient.openTransaction(bed: bed)
            let (environment, close) = try await bed.makeEnvironment(logger: logger)
            let user = bed.rehearsal.applicationAccount.username

            // Preflight: a warning per pinned session, with the reason read from ProxySQL's status flags.
            let report = try await bed.preflight(environment: environment, checkTimeout: .seconds(10), logger: logger)
            let check = try #require(report["proxysql.pinned-sessions"])
            #expect(check.status == .warn, "\(check)")
            #expect(check.detail.contains("a session variable (@)") && check.detail.contains("an open transaction"), "\(check.detail)")
            #expect(check.detail.contains("(\(user)@127.0.0.1:"), "\(check.detail)")
            #expect(check.remedy?.contains("KILL CONNECTION <SessionID>") == true)
            #expect(report.canProceed || !report.blockingReasons.contains { $0.check == "proxysql.pinned-sessions" })

            // The guards: the session-long pin blocks (drain-deadline-policy roll-back), the transaction is reported.
            let result = await LiveCutoverExecutor(environment: environment).perform(
                .runGuards(.writerCutover),
                context: CutoverExecutionContext(elapsed: { .zero }, report: { _ in }, logger: logger, policy: Self.waitPolicy)
            )
            await close()
            guard case .guardsFinished(let reasons, let pinned, _, _) = result.event else {
                Issue.record("expected the guards' answer, got \(result.event)")
                return
            }
            let pinReason = try #require(reasons.first { $0.check == "proxysql.pinned-sessions" }, "\(reasons)")
            #expect(pinReason.message.contains("1 session(s)"), "\(pinReason.message)")
            #expect(pinReason.message.contains("a session variable (@)"))
            #expect(!pinReason.message.contains("an open transaction"), "a young transaction drains by itself")
            #expect(pinned?.count == 2, "\(pinned ?? [])")
            #expect(pinned?.allSatisfy { $0.user == user } == true)

            // Nothing was changed; the transaction still commits where it started.
            #expect(await transaction.commit() == nil)
            await transaction.close()
            await variable.close()
            try await bed.expectStartingState("after")
        }

        /// Aurora's applier blocked by a global read lock, and one transaction on the source after the lock that it
        /// therefore lacks (a root write, bypassing ProxySQL): the catch-up can never complete. Without that write
        /// the row raced (#12): FLUSH TABLES WITH READ LOCK waits for the applier's commits in progress, so on a
        /// fast applier (MySQL 9.7's four workers) it could be granted with everything applied, and when no client
        /// committed on the source between the lock and OFFLINE_SOFT, the final position was already executed: the
        /// catch-up was rightly proved, the run went past the point of no return, and the stop of forward
        /// replication then waited on the lock (the row below).
        @Test(
            "catch-up never completes (Aurora's applier blocked): the catch-up deadline passes and the run rolls back",
            arguments: FaultBed.kinds)
        func catchUpBlocked(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            try await bed.createMarkerTable()
            let lock = Slot<MariaDBConnection>()
            let result = try await FaultScenario.run(
                FaultCase(
                    name: server.faultRow("catch-up beyond its deadline (Aurora's applier blocked by a global read lock)"),
                    injections: [
                        .before(.offlineSoftOld, "block Aurora's applier, then write once on the source") {
                            let connection = try await bed.target.connectAsRoot()
                            try await connection.run("FLUSH TABLES WITH READ LOCK")
                            lock.set(connection)
                            try await bed.writeMarker(on: bed.source)
                        }
                    ],
                    expected: .rolledBack,
                    checkReplicationAfter: false,
                    repair: { bed in
                        try await lock.current?.run("UNLOCK TABLES")
                        await lock.current?.close()
                        try await bed.waitForReplica(bed.target, of: bed.source)
                    }
                ),
                on: bed
            )
            if case .rolledBack(let reason, _) = result.report.outcome {
                #expect(reason.contains("did not execute"), "\(reason)")
            }
            #expect(result.report.timeline.window.map { $0 >= FaultPolicies.standard.catchUpDeadline } == true)
            try await bed.expectStartingState("after")
        }

        /// A global read lock on Aurora taken right after its catch-up was proved: the run goes past the point of no
        /// return (rightly: Aurora executed everything), and stopping forward replication cannot finish (the RDS
        /// procedure's own bookkeeping write waits on the lock). Before #12 the stop waited for the procedure call's
        /// own 60 s timeout, past the policy's step timeout; now the step ends at that timeout with `stepTimedOut`
        /// and a remedy naming the lock. The lock is released right after the failed stop; `resume` finishes.
        @Test(
            "Aurora under a global read lock right after its catch-up: stopping forward replication ends at the step timeout; resume finishes",
            arguments: FaultBed.kinds)
        func globalReadLockAfterCatchUp(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let journal = TemporaryJournal("read-lock-after-catch-up")
            defer { journal.cleanup() }
            let lock = Slot<MariaDBConnection>()
            let result = try await FaultScenario.run(
                FaultCase(
                    name: server.faultRow("global read lock on Aurora after its catch-up (stop of forward replication blocked)"),
                    injections: [
                        .after(.catchUp, "FLUSH TABLES WITH READ LOCK on Aurora") {
                            let connection = try await bed.target.connectAsRoot()
                            try await connection.run("FLUSH TABLES WITH READ LOCK")
                            lock.set(connection)
                        },
                        .after(.stopForwardReplication, "release the lock") {
                            try await lock.current?.run("UNLOCK TABLES")
                            await lock.current?.close()
                        },
                    ],
                    expected: .stoppedAfterPointOfNoReturn,
                    checkReplicationAfter: false,
                    journalPath: journal.path
                ),
                on: bed
            )
            let stop = result.performed.first { if case .stopReplication = $0.action { true } else { false } }
            // It waited on the lock until its deadline (the bound itself is checked for every action by the scenario).
            #expect(
                stop.map { $0.duration >= FaultPolicies.standard.replicationStepTimeout - .seconds(2) } == true,
                "\(String(describing: stop?.duration))")
            guard case .stoppedAfterPointOfNoReturn(_, let failures, let remaining) = result.report.outcome else { return }
            #expect(remaining.first?.rawValue == "stopForwardReplication", "\(remaining)")
            let failure = failures.first { $0.message.contains("stop and reset replication did not finish within") }
            #expect(failure != nil, "\(failures)")
            #expect(failure?.remedy?.contains("FLUSH TABLES WITH READ LOCK") == true, "\(String(describing: failure))")
            try await bed.resumeAndFailBack(
                journalPath: journal.path, matrixRow: "\(result.name), then the lock released and `resume`",
                logger: logger)
            try await bed.expectStartingState("after failback")
        }

        @Test("catch-up impossible (Aurora's SQL thread stopped): detected at once, rolled back", arguments: FaultBed.kinds)
        func sqlThreadStopped(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let result = try await FaultScenario.run(
                FaultCase(
                    name: server.faultRow("catch-up impossible (Aurora's SQL thread stopped)"),
                    injections: [
                        .before(.readFinalPosition, "stop Aurora's SQL thread") {
                            let connection = try await bed.target.connectAsRoot()
                            try await connection.run(bed.sql.stopReplica("SQL_THREAD"))
                            await connection.close()
                        }
                    ],
                    expected: .rolledBack,
                    checkReplicationAfter: false,
                    repair: { bed in
                        let connection = try await bed.target.connectAsRoot()
                        try await connection.run(bed.sql.startReplica("SQL_THREAD"))
                        await connection.close()
                        try await bed.waitForReplica(bed.target, of: bed.source)
                    }
                ),
                on: bed
            )
            if case .rolledBack(let reason, _) = result.report.outcome {
                #expect(reason.contains("SQL thread"), "\(reason)")
            }
            let catchUp = result.performed.first { if case .waitForCatchUp = $0.action { true } else { false } }
            #expect(
                catchUp.map { $0.duration < FaultPolicies.standard.catchUpDeadline } == true,
                "not detected before the deadline")
            try await bed.expectStartingState("after")
        }
    }
}
