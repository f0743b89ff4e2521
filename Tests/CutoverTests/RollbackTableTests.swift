import Testing

@testable import Cutover

/// Every rollback-or-forward choice of ``CutoverStateMachine``, as a table: each operation (under a policy with every
/// optional step) is run through the pure machine, failing each of its steps in turn (and, for a step before the
/// point of no return, each step of the rollback it plans as well). A small model of the world (each routed row's
/// status, each database's `read_only`, ProxySQL's variables) applies every action, the failed one both with and
/// without effect, and the transcript is checked against rules stated independently of the machine's code:
///
/// - the guards failing refuse the run, nothing changed;
/// - before the point of no return, a failure rolls back, and the world ends as it started (whatever the failed
///   action did), unless a rollback step failed: then an unconfirmed `OFFLINE_HARD` of the new writer leaves the old
///   writer offline (never two writers) and the outcome says so;
/// - at or after it (the new writer's ONLINE that may have taken effect included), the run goes forward, never rolls
///   back, reports the failed step as remaining, a resume starts there, and reverse replication never starts without
///   forward replication stopped and the fence proved;
/// - never two ONLINE writers, never a moment without an ONLINE reader (a reader switch).
@Suite struct RollbackTableTests {
    typealias Action = CutoverAction
    typealias Event = CutoverEvent

    /// The world as the actions leave it.
    struct World: Equatable {
        var writer: [DatabaseRole: RoutingStatus]
        var reader: [DatabaseRole: RoutingStatus]
        var readOnly: [DatabaseRole: Bool]
        var proxyChanged = false

        init(_ operation: CutoverOperation) {
            let old = operation.from, new = operation.to
            writer = [old: .online, new: .offlineHard]
            reader = [old: .online, new: .offlineHard]
            // A failback's new writer (the source) is still fenced by the cut-over before it.
            readOnly = [.source: operation == .writerFailback, .target: false]
        }

        mutating func apply(_ action: Action) {
            switch action {
            case .setStatus(let server, let status):
                if server.kind == .writer {
                    writer[server.role] = status
                    // The executor's ONLINE of a writer re-asserts the other writer OFFLINE_HARD in the same LOAD.
                    if status == .online { writer[server.role.other] = .offlineHard }
                } else {
                    reader[server.role] = status
                }
            case .fence(let role, _): readOnly[role] = true
            case .liftFence(let role): readOnly[role] = false
            case .persistReadOnly(let role, let readOnly): self.readOnly[role] = readOnly
            case .prepareProxy: proxyChanged = true
            case .restoreProxySettings: proxyChanged = false
            default: break
            }
        }

        var onlineWriters: Int { writer.values.filter { $0 == .online }.count }
        var onlineReaders: Int { reader.values.filter { $0 == .online }.count }
    }

    /// One run through the machine.
    struct Transcript {
        var performed: [(step: StepID, action: Action, failed: Bool)] = []
        var outcome: CutoverOutcome?
        var world: World
        var violations: [String] = []
        var machine = CutoverStateMachine()
    }

    static let coordinate = ReplicationCoordinate(file: "bin.000001", offset: 42)

    /// The success event of `action`.
    static func success(_ action: Action, at: Duration) -> Event {
        switch action {
        case .runGuards: return .guardsFinished(blockingReasons: [], autoIncrementPin: .init(relax: true, reason: "test"))
        case .prepareProxy: return .proxyPrepared(ProxySettingsSnapshot(previousValues: ["p1": ["mysql-query_retries_on_failure": "1"]]))
        case .settleAutoIncrementPins(let server, _, _): return .autoIncrementPinsSettled(server, stillHeld: 0, at: at)
        case .settleReplication(let role, _, _, _):
            var observation = ReplicationSettleObservation(startedAt: at - .milliseconds(1))
            observation.recordWait(.milliseconds(1), for: coordinate)
            return .replicationSettleEnded(role, observation, at: at)
        case .setStatus(let server, let status): return .statusSet(server, status, at: at)
        case .watchNewWriter(let role, _, _, _, _): return .newWriterWatched(role, ShunnedWriterWatch(), at: at)
        case .pollDrain(let server, _, _): return .drained(server, at: at)
        case .closeSessions(let role): return .sessionsClosed(role, count: 0, at: at)
        case .fence(let role, _): return .fenced(role, at: at)
        case .liftFence(let role): return .fenceLifted(role)
        case .readPosition(let role): return .positionRead(role, coordinate, at: at)
        case .proveFenceHeld(let role, let atFence): return .positionRead(role, atFence, at: at)
        case .waitForCatchUp(let role, _, _): return .caughtUp(role, at: at)
        case .stopReplication(let role): return .replicationStopped(role)
        case .startReplication(let role, _, _): return .replicationStarted(role)
        case .verifyReplication(let role): return .replicationVerified(role)
        case .persistReadOnly(let role, let readOnly):
            return .readOnlyPersisted(role, ReadOnlyDurability(database: "\(role)", readOnly: readOnly, persisted: true, optionFileLines: []))
        case .restoreProxySettings: return .proxySettingsRestored
        case .saveProxyConfiguration: return .proxyConfigurationSaved
        case .wait, .finish: preconditionFailure("not performed")
        }
    }

    /// Runs `operation`, failing the forward step `failing` (by name) and, when given, the `failingRollback`-th step
    /// of the rollback (from 0). The failed action takes effect in the world when `tookEffect`.
    static func run(
        _ operation: CutoverOperation, _ policy: CutoverPolicy, failing: StepID?, mayHaveTakenEffect: Bool = false,
        tookEffect: Bool, failingRollback: Int? = nil
    ) -> Transcript {
        var transcript = Transcript(world: World(operation))
        var action = transcript.machine.started(operation: operation, policy: policy)
        var rollbackSteps = 0
        var failedForward = false
        var at = Duration.zero
        for _ in 0..<200 {
            if case .finish(let outcome) = action {
                transcript.outcome = outcome
                return transcript
            }
            let step = transcript.machine.currentStep ?? "-"
            at += .milliseconds(1)
            var injected = false
            if step.isRollback {
                injected = rollbackSteps == failingRollback
                rollbackSteps += 1
            } else if step == failing, !failedForward {
                injected = true
                failedForward = true
            }
            // The executor's rule (``CutoverStateMachine/StatusChange``): a reader row leaves service only where the
            // other reader row is ONLINE; elsewhere the node is left unchanged and the step fails.
            var refused = false
            if case .setStatus(let server, let status) = action, server.kind == .reader, status != .online,
                transcript.world.reader[server.role.other] != .online
            {
                refused = true
            }
            let fail = injected || refused
            if !fail || (injected && !refused && tookEffect) { transcript.world.apply(action) }
            transcript.performed.append((step, action, fail))
            if transcript.world.onlineWriters > 1 { transcript.violations.append("two ONLINE writers after \(step)") }
            if !operation.movesWriter, transcript.world.onlineReaders == 0 {
                transcript.violations.append("no ONLINE reader after \(step)")
            }
            let event: Event =
                fail
                ? .stepFailed(StepFailure(step: "\(step)", message: "injected", mayHaveTakenEffect: mayHaveTakenEffect), at: at)
                : success(action, at: at)
            action = transcript.machine.receive(event)
        }
        transcript.violations.append("did not finish")
        return transcript
    }

    /// A policy with every optional step: ProxySQL's variables (query retries, the pin relaxed), the pin settle, the
    /// replication settle, the old writer's fence.
    static var everyStep: CutoverPolicy {
        var policy = CutoverPolicy()
        policy.disableQueryRetries = true
        policy.autoIncrementPin = .relax
        policy.fenceOldWriter = true
        return policy
    }

    static let operations: [CutoverOperation] = [.writerCutover, .writerFailback, .readerCutover, .readerFailback]

    /// The point of no return, stated apart from the machine: the new writer's ONLINE, or the old reader's OFFLINE_HARD.
    static func pointOfNoReturn(_ operation: CutoverOperation) -> StepID {
        operation.movesWriter ? "onlineNew" : "offlineHardOld"
    }

    static func forwardSteps(_ operation: CutoverOperation) -> [StepID] {
        CutoverStateMachine.steps(for: operation, policy: everyStep).map(StepID.init)
    }

    @Test(arguments: operations)
    func everyForwardStepFailing(_ operation: CutoverOperation) {
        let steps = Self.forwardSteps(operation)
        let point = steps.firstIndex(of: Self.pointOfNoReturn(operation))!
        #expect(steps.count == (operation.movesWriter ? 21 : 6), "\(steps)")
        for (index, failing) in steps.enumerated() {
            for mayHaveTakenEffect in [false, true] {
                for tookEffect in [false, true] where mayHaveTakenEffect || !tookEffect || failing != "onlineNew" {
                    let t = Self.run(
                        operation, Self.everyStep, failing: failing, mayHaveTakenEffect: mayHaveTakenEffect,
                        tookEffect: tookEffect)
                    let label = "\(operation) failing \(failing) (may \(mayHaveTakenEffect), took \(tookEffect))"
                    #expect(t.violations.isEmpty, "\(label): \(t.violations)")
                    let rolledBackSteps = t.performed.filter { $0.step.isRollback }
                    let forwardAfter = index == point && operation.movesWriter && mayHaveTakenEffect
                    switch t.outcome {
                    case .refused?:
                        #expect(failing == "guards", "\(label)")
                        #expect(t.performed.count == 1 && t.world == World(operation), "\(label)")
                    case .rolledBack(_, let failures)?:
                        #expect(failing != "guards" && index <= point && !forwardAfter, "\(label)")
                        #expect(failures.isEmpty, "\(label)")
                        // Whatever the failed action did, the world is back where it started.
                        #expect(t.world == World(operation), "\(label): \(t.world)")
                        // The rollback undoes only what was attempted: each of its actions undoes an earlier one.
                        let attempted = Set(t.performed.filter { !$0.step.isRollback }.map(\.step))
                        for undo in rolledBackSteps {
                            let undone: StepID =
                                switch undo.step.name {
                                case "offlineHardNew": operation.movesWriter ? "onlineNew" : "onlineNewReader"
                                case "refenceNew": "unfenceNew"
                                case "liftFence": "fenceOld"
                                case "onlineOld": "offlineSoftOld"
                                case "restoreProxy": "prepareProxy"
                                default: "unknown"
                                }
                            #expect(attempted.contains(undone), "\(label): \(undo.step) without \(undone)")
                        }
                    case .stoppedAfterPointOfNoReturn(_, let failures, let remaining)?:
                        #expect(index > point || forwardAfter, "\(label)")
                        #expect(rolledBackSteps.isEmpty, "\(label)")
                        #expect(failures.count == 1 && remaining.contains(failing), "\(label): \(remaining)")
                        // A resume starts again at the first step that remains.
                        var machine = t.machine
                        let next = machine.resumeAfterInterruption()
                        #expect(machine.currentStep == steps.first { remaining.contains($0) }, "\(label): \(next)")
                        if tookEffect || failing != "onlineNew" {
                            if operation.movesWriter {
                                #expect(t.world.writer[operation.to] == .online && t.world.writer[operation.from] == .offlineHard, "\(label)")
                            } else {
                                #expect(t.world.reader[operation.to] == .online && t.world.reader[operation.from] == .offlineHard, "\(label)")
                            }
                        }
                    case .completed?, nil:
                        Issue.record("\(label): \(String(describing: t.outcome))")
                    }
                    Self.expectReverseReplicationOrder(t, label)
                }
            }
        }
    }

    /// Reverse replication starts only after forward replication was stopped and the fence proved, in this run.
    static func expectReverseReplicationOrder(_ t: Transcript, _ label: String) {
        guard let start = t.performed.firstIndex(where: { if case .startReplication = $0.action { true } else { false } })
        else { return }
        let before = t.performed[..<start]
        #expect(before.contains { $0.step == "stopForwardReplication" && !$0.failed }, "\(label)")
        #expect(before.contains { $0.step == "proveFenceOld" && !$0.failed }, "\(label)")
    }

    /// Each step of each planned rollback failing too, for every failure before the point of no return.
    @Test(arguments: operations)
    func everyRollbackStepFailing(_ operation: CutoverOperation) {
        let steps = Self.forwardSteps(operation)
        let point = steps.firstIndex(of: Self.pointOfNoReturn(operation))!
        var rollbacksSeen = 0
        for failing in steps[1...point] {
            for tookEffect in [false, true] {
                let planned = Self.run(operation, Self.everyStep, failing: failing, tookEffect: tookEffect)
                let undoCount = planned.performed.filter { $0.step.isRollback }.count
                for failingRollback in 0..<undoCount {
                    rollbacksSeen += 1
                    let t = Self.run(
                        operation, Self.everyStep, failing: failing, tookEffect: tookEffect, failingRollback: failingRollback)
                    let label = "\(operation) failing \(failing) then rollback step \(failingRollback) (took \(tookEffect))"
                    #expect(t.violations.isEmpty, "\(label): \(t.violations)")
                    guard case .rolledBack(_, let failures)? = t.outcome else {
                        Issue.record("\(label): \(String(describing: t.outcome))")
                        continue
                    }
                    let undo = t.performed.filter { $0.step.isRollback }
                    let failedUndo = undo[failingRollback]
                    #expect(failures.first?.step == "\(failedUndo.step)", "\(label): \(failures)")
                    if failedUndo.step == "rollback.offlineHardNew", operation.movesWriter {
                        // The new writer may still be ONLINE: the old one is not put back, nor its fence lifted.
                        let after = undo[(failingRollback + 1)...].map(\.step.name)
                        #expect(!after.contains("onlineOld") && !after.contains("liftFence") && !after.contains("refenceNew"), "\(label): \(after)")
                        #expect(failures.contains { $0.step == "rollback" }, "\(label)")
                    } else {
                        // The other undo steps still run: all planned, in order, the failed one included.
                        #expect(undo.map(\.step) == planned.performed.filter { $0.step.isRollback }.map(\.step), "\(label)")
                    }
                }
            }
        }
        #expect(rollbacksSeen > 0)
    }
}
