import Foundation
import Testing

@testable import Cutover

private let position = ReplicationCoordinate(file: "mysql-bin.000003", offset: 1_234, gtidSet: "1-1-40")
private let targetPosition = ReplicationCoordinate(file: "mysql-bin-changelog.000007", offset: 99)
private let failure = StepFailure(step: "x", message: "boom", endpoint: "127.0.0.1:3306")

private func ms(_ value: Int) -> Duration { .milliseconds(value) }

/// The replication settle's answer: one wait of 1 ms on `role`, within the default threshold.
private func settled(_ role: DatabaseRole, at offset: Duration = ms(5)) -> CutoverEvent {
    var observation = ReplicationSettleObservation(startedAt: offset - ms(1))
    observation.recordWait(ms(1), for: position)
    return .replicationSettleEnded(role, observation, at: offset)
}

/// What a MariaDB source answers to the durable fence: no SET PERSIST, so option-file lines.
private let durableFence = ReadOnlyDurability(
    database: "source (127.0.0.1:3306)", readOnly: true, persisted: false,
    optionFileLines: ["read_only = ON", "replicate_wild_ignore_table = mysql.rds\\_%"])

/// Drives a writer cut-over up to (and including) the event that answers `lastStep`.
private func writerCutover(
    policy: CutoverPolicy = CutoverPolicy(),
    through lastStep: String
) -> (CutoverStateMachine, CutoverAction) {
    var machine = CutoverStateMachine()
    var action = machine.started(operation: .writerCutover, policy: policy)
    let script: [(String, CutoverEvent)] = [
        ("guards", .guardsFinished(blockingReasons: [])),
        ("prepareProxy", .proxyPrepared(ProxySettingsSnapshot(previousValues: ["p1": ["mysql-query_retries_on_failure": "1"]]))),
        ("settleReplication", settled(.target)),
        ("offlineSoftOld", .statusSet(.writer(.source), .offlineSoft, at: ms(10))),
        ("drainOld", .drained(.writer(.source), at: ms(14))),
        ("offlineHardOld", .statusSet(.writer(.source), .offlineHard, at: ms(16))),
        ("closeSessionsOld", .sessionsClosed(.source, count: 2, at: ms(18))),
        ("fenceOld", .fenced(.source, at: ms(20))),
        ("readFinalPosition", .positionRead(.source, position, at: ms(21))),
        ("catchUp", .caughtUp(.target, at: ms(30))),
        ("readNewWriterPosition", .positionRead(.target, targetPosition, at: ms(31))),
        ("onlineNew", .statusSet(.writer(.target), .online, at: ms(33))),
        ("watchNewWriter", .newWriterWatched(.target, ShunnedWriterWatch(), at: ms(34))),
        ("stopForwardReplication", .replicationStopped(.target)),
        ("proveFenceOld", .positionRead(.source, position, at: ms(40))),
        ("startReverseReplication", .replicationStarted(.source)),
        ("verifyReverseReplication", .replicationVerified(.source)),
        ("confirmFenceOld", .readOnlyPersisted(.source, durableFence)),
        ("restoreProxy", .proxySettingsRestored),
        ("saveConfiguration", .proxyConfigurationSaved),
    ]
    for (step, event) in script {
        if machine.currentStep != StepID(rawValue: step) { continue }
        action = machine.receive(event)
        if step == lastStep { break }
    }
    return (machine, action)
}

@Suite("Writer cut-over transcripts")
struct WriterCutoverTranscriptTests {
    @Test("happy path: every action in order, window measured, point of no return crossed at ONLINE")
    func happyPath() {
        var machine = CutoverStateMachine()
        let policy = CutoverPolicy()
        #expect(machine.started(operation: .writerCutover, policy: policy) == .runGuards(.writerCutover))
        #expect(machine.receive(.guardsFinished(blockingReasons: [])) == .prepareProxy(disableQueryRetries: true, relaxAutoIncrementPin: false))
        let snapshot = ProxySettingsSnapshot(previousValues: ["p1": ["mysql-query_retries_on_failure": "1"]])
        #expect(machine.receive(.proxyPrepared(snapshot))
            == .settleReplication(
                .target, source: .source, threshold: policy.replicationSettleThreshold,
                timeout: policy.replicationSettleDeadline))
        #expect(machine.receive(settled(.target)) == .setStatus(.writer(.source), .offlineSoft))
        #expect(machine.receive(.statusSet(.writer(.source), .offlineSoft, at: ms(10)))
            == .pollDrain(.writer(.source), timeout: policy.drainDeadline, interval: policy.drainPollInterval))
        #expect(machine.receive(.drained(.writer(.source), at: ms(14))) == .setStatus(.writer(.source), .offlineHard))
        #expect(machine.receive(.statusSet(.writer(.source), .offlineHard, at: ms(16))) == .closeSessions(.source))
        #expect(machine.receive(.sessionsClosed(.source, count: 2, at: ms(18))) == .fence(.source, timeout: policy.fenceTimeout))
        #expect(machine.receive(.fenced(.source, at: ms(20))) == .readPosition(.source))
        #expect(machine.receive(.positionRead(.source, position, at: ms(21)))
            == .waitForCatchUp(.target, coordinate: position, timeout: policy.catchUpDeadline))
        #expect(machine.receive(.caughtUp(.target, at: ms(30))) == .readPosition(.target))
        #expect(machine.receive(.positionRead(.target, targetPosition, at: ms(31))) == .setStatus(.writer(.target), .online))
        #expect(!machine.isPastPointOfNoReturn)
        // Past the point of no return, outside the window: watch the new writer for SHUNNED (#14 item 8).
        #expect(machine.receive(.statusSet(.writer(.target), .online, at: ms(33)))
            == .watchNewWriter(
                .target, watch: policy.shunnedWriterWatch, recovery: ShunnedWriterRecovery.defaultRecoveryBound,
                interval: ShunnedWriterRecovery.defaultInterval, maximumReloads: policy.shunnedWriterReloads))
        #expect(machine.isPastPointOfNoReturn)
        #expect(machine.receive(.newWriterWatched(.target, ShunnedWriterWatch(), at: ms(34))) == .stopReplication(.target))
        // The fence held: the old writer's position still equals the final one (before reverse replication).
        #expect(machine.receive(.replicationStopped(.target)) == .proveFenceHeld(.source, atFence: position))
        #expect(machine.receive(.positionRead(.source, position, at: ms(40))) == .startReplication(.source, source: .target, coordinate: targetPosition))
        #expect(machine.receive(.replicationStarted(.source)) == .verifyReplication(.source))
        // The old writer's fence again, made durable: a restart of it would have dropped `read_only`.
        #expect(machine.receive(.replicationVerified(.source)) == .persistReadOnly(.source, readOnly: true))
        #expect(machine.receive(.readOnlyPersisted(.source, durableFence)) == .restoreProxySettings(snapshot))
        #expect(machine.receive(.proxySettingsRestored) == .saveProxyConfiguration)
        #expect(machine.receive(.proxyConfigurationSaved) == .finish(.completed))

        let timeline = machine.timeline
        // What the operator must add to the old writer's option file is part of the result.
        #expect(timeline.followUps == [durableFence.followUp!])
        #expect(timeline.followUps[0].contains("read_only = ON") && timeline.followUps[0].contains("[mysqld]"))
        #expect(timeline.window == ms(23))
        #expect(timeline.drain == ms(4))
        #expect(timeline.fence == ms(7))
        #expect(timeline.catchUp == ms(9))
        #expect(timeline.switchOver == ms(3))
        #expect(timeline.sessionsCut == 2)
        #expect(timeline.finalPosition == position)
        #expect(timeline.newWriterPosition == targetPosition)
    }

    @Test("guards that block end the run before anything changes")
    func guardsRefuse() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerCutover, policy: CutoverPolicy())
        let reason = BlockingReason(check: "replication.lag", message: "lag 12 s over budget 5 s", remedy: "wait")
        #expect(machine.receive(.guardsFinished(blockingReasons: [reason])) == .finish(.refused([reason])))
        #expect(!machine.isPastPointOfNoReturn)
    }

    @Test("a guard step that fails is a refusal, not a rollback")
    func guardsFail() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerCutover, policy: CutoverPolicy())
        guard case .finish(.refused(let reasons)) = machine.receive(.stepFailed(failure, at: ms(1))) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(reasons.count == 1)
    }

    @Test("drain deadline with the roll-back policy puts the old writer back and restores the proxy")
    func drainDeadlineRollsBack() {
        let (machine0, action) = writerCutover(through: "offlineSoftOld")
        var machine = machine0
        #expect(action == .pollDrain(.writer(.source), timeout: .milliseconds(500), interval: .milliseconds(2)))
        let holder = SessionHolder(sessionID: 7, user: "app", clientAddress: "127.0.0.1:5000", command: "Sleep", timeMilliseconds: 900, reason: "open transaction")
        #expect(machine.receive(.drainDeadlinePassed(.writer(.source), holders: [holder], at: ms(510))) == .setStatus(.writer(.source), .online))
        #expect(machine.currentStep == "rollback.onlineOld")
        #expect(machine.receive(.statusSet(.writer(.source), .online, at: ms(512)))
            == .restoreProxySettings(ProxySettingsSnapshot(previousValues: ["p1": ["mysql-query_retries_on_failure": "1"]])))
        guard case .finish(.rolledBack(let reason, let failures)) = machine.receive(.proxySettingsRestored) else {
            Issue.record("expected rolledBack")
            return
        }
        #expect(reason.contains("1 session(s) held on"))
        #expect(failures.isEmpty)
        #expect(machine.timeline.window == ms(502))
        #expect(machine.timeline.holdersAtDeadline == [holder])
    }

    @Test("drain deadline with the force policy goes on to OFFLINE_HARD")
    func drainDeadlineForces() {
        var policy = CutoverPolicy()
        policy.drainDeadlinePolicy = .force
        var (machine, _) = writerCutover(policy: policy, through: "offlineSoftOld")
        #expect(machine.receive(.drainDeadlinePassed(.writer(.source), holders: [], at: ms(510))) == .setStatus(.writer(.source), .offlineHard))
        #expect(machine.timeline.forcedDrain)
    }

    @Test("a catch-up failure lifts the fence, puts the old writer back, restores the proxy")
    func catchUpFailureRollsBack() {
        var (machine, action) = writerCutover(through: "readFinalPosition")
        guard case .waitForCatchUp = action else {
            Issue.record("expected the catch-up wait, got \(action)")
            return
        }
        #expect(machine.receive(.stepFailed(failure, at: ms(2_021))) == .liftFence(.source))
        #expect(machine.receive(.fenceLifted(.source)) == .setStatus(.writer(.source), .online))
        guard case .restoreProxySettings = machine.receive(.statusSet(.writer(.source), .online, at: ms(2_030))) else {
            Issue.record("expected proxy restore")
            return
        }
        guard case .finish(.rolledBack(let reason, _)) = machine.receive(.proxySettingsRestored) else {
            Issue.record("expected rolledBack")
            return
        }
        #expect(reason.contains("boom"))
        #expect(!machine.isPastPointOfNoReturn)
    }

    @Test("a failed ONLINE of the new writer that took effect nowhere first makes sure it is OFFLINE_HARD, then rolls back")
    func onlineFailureEnsuresNewWriterOffline() {
        var (machine, action) = writerCutover(through: "readNewWriterPosition")
        #expect(action == .setStatus(.writer(.target), .online))
        // Confirmed absent from every runtime (one that may have taken effect passes the point of no return instead).
        let refused = StepFailure(step: "onlineNew", message: "no server matched", endpoint: "proxysql-1", mayHaveTakenEffect: false)
        #expect(machine.receive(.stepFailed(refused, at: ms(40))) == .setStatus(.writer(.target), .offlineHard))
        #expect(machine.receive(.statusSet(.writer(.target), .offlineHard, at: ms(41))) == .liftFence(.source))
        #expect(machine.receive(.fenceLifted(.source)) == .setStatus(.writer(.source), .online))
    }

    @Test("if the new writer cannot be confirmed offline, the old writer is left offline (never two writers)")
    func rollbackNeverMakesTwoWriters() {
        var (machine, _) = writerCutover(through: "readNewWriterPosition")
        _ = machine.receive(.stepFailed(failure, at: ms(40)))
        let action = machine.receive(.stepFailed(StepFailure(step: "rollback.offlineHardNew", message: "node unreachable"), at: ms(42)))
        guard case .restoreProxySettings = action else {
            Issue.record("expected only the proxy restore to remain, got \(action)")
            return
        }
        guard case .finish(.rolledBack(_, let failures)) = machine.receive(.proxySettingsRestored) else {
            Issue.record("expected rolledBack")
            return
        }
        #expect(failures.count == 2)
        #expect(failures.last?.message.contains("left offline") == true)
    }

    @Test("a shutdown request before the point of no return rolls back once the step in flight answers")
    func shutdownBeforePointOfNoReturn() {
        var (machine, _) = writerCutover(through: "offlineSoftOld")
        #expect(machine.receive(.gracefulShutdownRequested) == .wait)
        #expect(machine.receive(.drained(.writer(.source), at: ms(12))) == .setStatus(.writer(.source), .online))
        _ = machine.receive(.statusSet(.writer(.source), .online, at: ms(13)))
        guard case .finish(.rolledBack(let reason, _)) = machine.receive(.proxySettingsRestored) else {
            Issue.record("expected rolledBack")
            return
        }
        #expect(reason == "shutdown requested")
    }

    @Test("a drain stopped on request rolls back at once, for the stop, whatever the drain-deadline policy")
    func drainStoppedOnRequest() {
        for deadlinePolicy in [DrainDeadlinePolicy.rollBack, .force] {
            var policy = CutoverPolicy()
            policy.drainDeadlinePolicy = deadlinePolicy
            var (machine, _) = writerCutover(policy: policy, through: "offlineSoftOld")
            #expect(machine.receive(.gracefulShutdownRequested) == .wait)
            #expect(machine.receive(.drainStopped(.writer(.source), holders: [], at: ms(12))) == .setStatus(.writer(.source), .online))
            #expect(machine.rollbackReason == "shutdown requested")
            _ = machine.receive(.statusSet(.writer(.source), .online, at: ms(13)))
            guard case .finish(.rolledBack(let reason, let failures)) = machine.receive(.proxySettingsRestored) else {
                Issue.record("expected rolledBack")
                return
            }
            #expect(reason == "shutdown requested")
            #expect(failures.isEmpty)
            #expect(machine.timeline.forcedDrain == false)
        }
    }

    @Test("a catch-up stopped on request rolls back at once: fence lifted, old writer back, settings restored")
    func catchUpStoppedOnRequest() {
        var (machine, _) = writerCutover(through: "readFinalPosition")
        #expect(machine.receive(.gracefulShutdownRequested) == .wait)
        #expect(machine.receive(.catchUpStopped(.target, at: ms(25))) == .liftFence(.source))
        #expect(!machine.isPastPointOfNoReturn)
        #expect(machine.receive(.fenceLifted(.source)) == .setStatus(.writer(.source), .online))
        _ = machine.receive(.statusSet(.writer(.source), .online, at: ms(27)))
        guard case .finish(.rolledBack(let reason, _)) = machine.receive(.proxySettingsRestored) else {
            Issue.record("expected rolledBack")
            return
        }
        #expect(reason == "shutdown requested")
    }

    @Test("killed after ProxySQL's variables changed but before that was journaled: the rollback restores what the guards read")
    func resumeRestoresGuardsSnapshot() throws {
        let snapshot = ProxySettingsSnapshot(previousValues: ["p1": ["mysql-query_retries_on_failure": "1"]])
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerCutover, policy: CutoverPolicy())
        #expect(machine.receive(.guardsFinished(blockingReasons: [], proxySettings: snapshot))
            == .prepareProxy(disableQueryRetries: true, relaxAutoIncrementPin: false))
        // The process dies while the variables change: no outcome is journaled. A resume rolls back.
        #expect(machine.resumeAfterInterruption() == .restoreProxySettings(snapshot))
        // Without the guards' reading (an older journal), there would be nothing to restore them from.
        var old = CutoverStateMachine()
        _ = old.started(operation: .writerCutover, policy: CutoverPolicy())
        _ = old.receive(.guardsFinished(blockingReasons: []))
        #expect(old.resumeAfterInterruption() == .restoreProxySettings(ProxySettingsSnapshot()))
        // A journal written before the field existed still decodes.
        let event = try JournalPayloadTests.decodeEvent(Data(#"{"guardsFinished":{"blockingReasons":[]}}"#.utf8))
        #expect(event == .guardsFinished(blockingReasons: []))
        #expect(try JournalPayloadTests.roundTrip(.guardsFinished(blockingReasons: [], proxySettings: snapshot)) == .guardsFinished(blockingReasons: [], proxySettings: snapshot))
    }

    @Test("a shutdown request after the point of no return still runs the durable fence, the variables' restore and SAVE, then stops with the replication steps remaining")
    func shutdownAfterPointOfNoReturn() {
        var (machine, _) = writerCutover(through: "watchNewWriter")
        #expect(machine.receive(.gracefulShutdownRequested) == .wait)
        // The step in flight (stopping forward replication) answers; reverse replication is left for `resume`, the
        // cheap safety steps run (#13 item 9).
        #expect(machine.receive(.replicationStopped(.target)) == .persistReadOnly(.source, readOnly: true))
        #expect(machine.receive(.readOnlyPersisted(.source, durableFence)) == .restoreProxySettings(ProxySettingsSnapshot(previousValues: ["p1": ["mysql-query_retries_on_failure": "1"]])))
        #expect(machine.receive(.proxySettingsRestored) == .saveProxyConfiguration)
        let action = machine.receive(.proxyConfigurationSaved)
        guard case .finish(.stoppedAfterPointOfNoReturn(let reason, let failures, let remaining)) = action else {
            Issue.record("expected stoppedAfterPointOfNoReturn, got \(action)")
            return
        }
        #expect(reason == "shutdown requested")
        #expect(failures.isEmpty)
        #expect(remaining == ["proveFenceOld", "startReverseReplication", "verifyReverseReplication"])
        #expect(machine.isPastPointOfNoReturn)
        // `resume` proves the fence, starts reverse replication and runs the (idempotent) rest again.
        #expect(machine.resumeAfterInterruption() == .proveFenceHeld(.source, atFence: position))
    }

    @Test("a shutdown request during the last safety steps lets them finish: the run completes")
    func shutdownDuringSafetySteps() {
        var (machine, _) = writerCutover(through: "watchNewWriter")
        _ = machine.receive(.replicationStopped(.target))
        _ = machine.receive(.positionRead(.source, position, at: ms(40)))
        _ = machine.receive(.replicationStarted(.source))
        #expect(machine.receive(.replicationVerified(.source)) == .persistReadOnly(.source, readOnly: true))
        #expect(machine.receive(.gracefulShutdownRequested) == .wait)
        _ = machine.receive(.readOnlyPersisted(.source, durableFence))
        #expect(machine.receive(.proxySettingsRestored) == .saveProxyConfiguration)
        #expect(machine.receive(.proxyConfigurationSaved) == .finish(.completed))
    }

    @Test("after the point of no return a failed forward-replication stop skips reverse replication but still restores and saves")
    func failureAfterPointOfNoReturn() {
        var (machine, _) = writerCutover(through: "watchNewWriter")
        // The fence proof still runs (a check, not a change), then reverse replication is skipped.
        #expect(machine.receive(.stepFailed(failure, at: ms(50))) == .proveFenceHeld(.source, atFence: position))
        guard case .persistReadOnly(.source, true) = machine.receive(.positionRead(.source, position, at: ms(51))) else {
            Issue.record("expected to skip to the fence confirmation")
            return
        }
        #expect(machine.receive(.readOnlyPersisted(.source, durableFence)) == .restoreProxySettings(ProxySettingsSnapshot(previousValues: ["p1": ["mysql-query_retries_on_failure": "1"]])))
        #expect(machine.receive(.proxySettingsRestored) == .saveProxyConfiguration)
        guard case .finish(.stoppedAfterPointOfNoReturn(_, let failures, let remaining)) = machine.receive(.proxyConfigurationSaved) else {
            Issue.record("expected stoppedAfterPointOfNoReturn")
            return
        }
        #expect(failures == [failure])
        // In step order.
        #expect(remaining == ["stopForwardReplication", "startReverseReplication", "verifyReverseReplication"])
        // (The fence proof still ran: a failed stop of forward replication does not skip it.)

        // `resume` runs again from the first remaining step, through the end (every forward step is idempotent).
        #expect(machine.resumeAfterInterruption() == .stopReplication(.target))
        // The proof held in the first run: not repeated.
        #expect(machine.receive(.replicationStopped(.target)) == .startReplication(.source, source: .target, coordinate: targetPosition))
        #expect(machine.receive(.replicationStarted(.source)) == .verifyReplication(.source))
        #expect(machine.receive(.replicationVerified(.source)) == .persistReadOnly(.source, readOnly: true))
        _ = machine.receive(.readOnlyPersisted(.source, durableFence))
        _ = machine.receive(.proxySettingsRestored)
        #expect(machine.receive(.proxyConfigurationSaved) == .finish(.completed))
    }

    @Test("an ONLINE of the new writer that may have taken effect on a node passes the point of no return")
    func onlineFailureThatMayHaveTakenEffect() {
        var (machine, action) = writerCutover(through: "readNewWriterPosition")
        #expect(action == .setStatus(.writer(.target), .online))
        let partial = StepFailure(step: "online", message: "node 2 unreachable", endpoint: "proxysql-2", mayHaveTakenEffect: true)
        // Writes may have landed on the new writer: a rollback would strand them. Go forward.
        // The watch of the new writer runs (it may be ONLINE on some node, #14 item 8), then the rest.
        guard case .watchNewWriter(.target, _, _, _, _) = machine.receive(.stepFailed(partial, at: ms(40))) else {
            Issue.record("expected the watch of the new writer after a partial ONLINE")
            return
        }
        #expect(machine.isPastPointOfNoReturn)
        #expect(machine.timeline.marks[.windowClosed] == ms(40))
        #expect(machine.receive(.newWriterWatched(.target, ShunnedWriterWatch(), at: ms(41))) == .stopReplication(.target))
        _ = machine.receive(.replicationStopped(.target))
        _ = machine.receive(.positionRead(.source, position, at: ms(45)))
        _ = machine.receive(.replicationStarted(.source))
        _ = machine.receive(.replicationVerified(.source))
        // A journal written before the fence was made durable answers the confirmation with `fenced`.
        _ = machine.receive(.fenced(.source, at: ms(50)))
        _ = machine.receive(.proxySettingsRestored)
        guard case .finish(.stoppedAfterPointOfNoReturn(_, let failures, let remaining)) = machine.receive(.proxyConfigurationSaved) else {
            Issue.record("expected stoppedAfterPointOfNoReturn")
            return
        }
        #expect(failures == [partial])
        #expect(remaining == ["onlineNew"])
        #expect(machine.resumeAfterInterruption() == .setStatus(.writer(.target), .online))
    }

    @Test("an ONLINE of the new writer confirmed not to have taken effect anywhere rolls back")
    func onlineFailureWithoutEffect() {
        var (machine, _) = writerCutover(through: "readNewWriterPosition")
        let refused = StepFailure(step: "online", message: "no server matched", endpoint: "proxysql-1", mayHaveTakenEffect: false)
        #expect(machine.receive(.stepFailed(refused, at: ms(40))) == .setStatus(.writer(.target), .offlineHard))
        #expect(!machine.isPastPointOfNoReturn)
    }

    @Test("without retries to disable nor pins to relax, the proxy is neither prepared nor restored")
    func noProxyPreparation() {
        var policy = CutoverPolicy(autoIncrementPin: .keep)
        policy.disableQueryRetries = false
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerCutover, policy: policy)
        #expect(machine.receive(.guardsFinished(blockingReasons: []))
            == .settleReplication(.target, source: .source, threshold: ms(10), timeout: .seconds(10)))
        #expect(machine.receive(settled(.target)) == .setStatus(.writer(.source), .offlineSoft))
        #expect(!CutoverStateMachine.steps(for: .writerCutover, policy: policy).contains(.restoreProxy))
    }
}

@Suite("Writer failback and readers")
struct FailbackAndReaderTranscriptTests {
    @Test("writer failback moves target → source, never fences Aurora, re-points replication")
    func writerFailback() {
        let steps = CutoverStateMachine.steps(for: .writerFailback, policy: CutoverPolicy())
        #expect(!steps.contains(.fenceOld))
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerFailback, policy: CutoverPolicy())
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        #expect(machine.receive(.proxyPrepared(ProxySettingsSnapshot()))
            == .settleReplication(.source, source: .target, threshold: ms(10), timeout: .seconds(10)))
        #expect(machine.receive(settled(.source)) == .setStatus(.writer(.target), .offlineSoft))
        _ = machine.receive(.statusSet(.writer(.target), .offlineSoft, at: ms(1)))
        _ = machine.receive(.drained(.writer(.target), at: ms(2)))
        #expect(machine.receive(.statusSet(.writer(.target), .offlineHard, at: ms(3))) == .closeSessions(.target))
        #expect(machine.receive(.sessionsClosed(.target, count: 0, at: ms(4))) == .readPosition(.target))
        #expect(machine.receive(.positionRead(.target, targetPosition, at: ms(5)))
            == .waitForCatchUp(.source, coordinate: targetPosition, timeout: .seconds(2)))
        #expect(machine.receive(.caughtUp(.source, at: ms(9))) == .readPosition(.source))
        // The source still carries the read-only fence of the cut-over: lifted inside the window, before ONLINE.
        #expect(machine.receive(.positionRead(.source, position, at: ms(10))) == .liftFence(.source))
        #expect(machine.receive(.fenceLifted(.source)) == .setStatus(.writer(.source), .online))
        guard case .watchNewWriter(.source, _, _, _, _) = machine.receive(.statusSet(.writer(.source), .online, at: ms(11)))
        else {
            Issue.record("the failback's ONLINE is not followed by the watch of the new writer")
            return
        }
        #expect(machine.receive(.newWriterWatched(.source, ShunnedWriterWatch(), at: ms(11))) == .stopReplication(.source))
        // The old writer (Aurora) proved unchanged since the final position, before reverse replication starts.
        #expect(machine.receive(.replicationStopped(.source)) == .proveFenceHeld(.target, atFence: targetPosition))
        #expect(machine.receive(.positionRead(.target, targetPosition, at: ms(12))) == .startReplication(.target, source: .source, coordinate: position))
        #expect(machine.receive(.replicationStarted(.target)) == .verifyReplication(.target))
        // The source is the writer for good: its fence lifted again and no longer persisted (a restart must not
        // make it read-only), and the option-file lines to take out are part of the result.
        #expect(machine.receive(.replicationVerified(.target)) == .persistReadOnly(.source, readOnly: false))
        var writable = durableFence
        writable.readOnly = false
        #expect(machine.receive(.readOnlyPersisted(.source, writable)) == .restoreProxySettings(ProxySettingsSnapshot()))
        #expect(machine.timeline.followUps == [writable.followUp!])
        #expect(writable.followUp!.contains("take out"))
    }

    @Test("a durable fence that needs nothing from the operator (SET PERSIST) adds no follow-up")
    func persistedFenceNeedsNoFollowUp() {
        var (machine, action) = writerCutover(through: "verifyReverseReplication")
        #expect(action == .persistReadOnly(.source, readOnly: true))
        let persisted = ReadOnlyDurability(database: "source", readOnly: true, persisted: true, optionFileLines: [])
        _ = machine.receive(.readOnlyPersisted(.source, persisted))
        #expect(persisted.followUp == nil)
        #expect(machine.timeline.followUps.isEmpty)
    }

    @Test("a failback that fails after lifting the source's fence puts the fence back before anything else")
    func failbackRollbackRefences() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerFailback, policy: CutoverPolicy())
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        _ = machine.receive(.proxyPrepared(ProxySettingsSnapshot()))
        _ = machine.receive(settled(.source))
        _ = machine.receive(.statusSet(.writer(.target), .offlineSoft, at: ms(1)))
        _ = machine.receive(.drained(.writer(.target), at: ms(2)))
        _ = machine.receive(.statusSet(.writer(.target), .offlineHard, at: ms(3)))
        _ = machine.receive(.sessionsClosed(.target, count: 0, at: ms(4)))
        _ = machine.receive(.positionRead(.target, targetPosition, at: ms(5)))
        _ = machine.receive(.caughtUp(.source, at: ms(9)))
        #expect(machine.receive(.positionRead(.source, position, at: ms(10))) == .liftFence(.source))
        #expect(machine.receive(.fenceLifted(.source)) == .setStatus(.writer(.source), .online))
        #expect(machine.receive(.stepFailed(failure, at: ms(12))) == .setStatus(.writer(.source), .offlineHard))
        #expect(machine.receive(.statusSet(.writer(.source), .offlineHard, at: ms(13))) == .fence(.source, timeout: .milliseconds(500)))
        #expect(machine.receive(.fenced(.source, at: ms(14))) == .setStatus(.writer(.target), .online))
    }

    @Test("reader cut-over: new reader ONLINE first, then old reader drained and hard-offlined, then saved")
    func readerCutover() {
        var machine = CutoverStateMachine()
        let policy = CutoverPolicy()
        #expect(machine.started(operation: .readerCutover, policy: policy) == .runGuards(.readerCutover))
        #expect(machine.receive(.guardsFinished(blockingReasons: [])) == .setStatus(.reader(.target), .online))
        #expect(machine.receive(.statusSet(.reader(.target), .online, at: ms(1))) == .setStatus(.reader(.source), .offlineSoft))
        #expect(machine.receive(.statusSet(.reader(.source), .offlineSoft, at: ms(2)))
            == .pollDrain(.reader(.source), timeout: policy.drainDeadline, interval: policy.drainPollInterval))
        #expect(machine.receive(.drained(.reader(.source), at: ms(5))) == .setStatus(.reader(.source), .offlineHard))
        #expect(machine.receive(.statusSet(.reader(.source), .offlineHard, at: ms(6))) == .saveProxyConfiguration)
        #expect(machine.receive(.proxyConfigurationSaved) == .finish(.completed))
    }

    @Test("reader switch: once the old reader is OFFLINE_HARD it is past its point of no return; a failed save goes forward")
    func readerSaveFailureGoesForward() {
        var machine = CutoverStateMachine()
        let policy = CutoverPolicy()
        _ = machine.started(operation: .readerCutover, policy: policy)
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        _ = machine.receive(.statusSet(.reader(.target), .online, at: ms(1)))
        _ = machine.receive(.statusSet(.reader(.source), .offlineSoft, at: ms(2)))
        _ = machine.receive(.drained(.reader(.source), at: ms(3)))
        #expect(!machine.isPastPointOfNoReturn)
        #expect(machine.receive(.statusSet(.reader(.source), .offlineHard, at: ms(4))) == .saveProxyConfiguration)
        #expect(machine.isPastPointOfNoReturn)
        // A save that failed on one node (and may have succeeded on another) is not a reason to undo the switch: a
        // rollback would leave that node's disk and runtime apart.
        let saveFailure = StepFailure(step: "save", message: "disk full", endpoint: "proxysql-2")
        guard case .finish(.stoppedAfterPointOfNoReturn(_, let failures, let remaining)) =
            machine.receive(.stepFailed(saveFailure, at: ms(5)))
        else {
            Issue.record("expected stoppedAfterPointOfNoReturn")
            return
        }
        #expect(failures == [saveFailure])
        #expect(remaining == ["saveConfiguration"])
        #expect(machine.resumeAfterInterruption() == .saveProxyConfiguration)
        #expect(machine.receive(.proxyConfigurationSaved) == .finish(.completed))
    }

    @Test("reader switch: a shutdown during the old reader's OFFLINE_HARD still saves, then completes; before it, rolls back")
    func readerShutdown() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .readerCutover, policy: CutoverPolicy())
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        _ = machine.receive(.statusSet(.reader(.target), .online, at: ms(1)))
        _ = machine.receive(.statusSet(.reader(.source), .offlineSoft, at: ms(2)))
        _ = machine.receive(.drained(.reader(.source), at: ms(3)))
        #expect(machine.receive(.gracefulShutdownRequested) == .wait)
        // SAVE is one of the cheap safety steps a stop still runs (#13 item 9).
        #expect(machine.receive(.statusSet(.reader(.source), .offlineHard, at: ms(4))) == .saveProxyConfiguration)
        #expect(machine.receive(.proxyConfigurationSaved) == .finish(.completed))

        var early = CutoverStateMachine()
        _ = early.started(operation: .readerCutover, policy: CutoverPolicy())
        _ = early.receive(.guardsFinished(blockingReasons: []))
        #expect(early.receive(.gracefulShutdownRequested) == .wait)
        // The new reader's ONLINE finishes, then the rollback takes it out again.
        #expect(early.receive(.statusSet(.reader(.target), .online, at: ms(1))) == .setStatus(.reader(.target), .offlineHard))
    }

    @Test("reader switch interrupted: before the old reader's OFFLINE_HARD resume rolls back; during the save it saves")
    func readerResume() {
        var before = CutoverStateMachine()
        _ = before.started(operation: .readerCutover, policy: CutoverPolicy())
        _ = before.receive(.guardsFinished(blockingReasons: []))
        _ = before.receive(.statusSet(.reader(.target), .online, at: ms(1)))
        _ = before.receive(.statusSet(.reader(.source), .offlineSoft, at: ms(2)))
        _ = before.receive(.drained(.reader(.source), at: ms(3)))
        // Interrupted while the old reader was being hard-offlined: put it back, take the new one out.
        #expect(before.resumeAfterInterruption() == .setStatus(.reader(.source), .online))

        var during = CutoverStateMachine()
        _ = during.started(operation: .readerCutover, policy: CutoverPolicy())
        _ = during.receive(.guardsFinished(blockingReasons: []))
        _ = during.receive(.statusSet(.reader(.target), .online, at: ms(1)))
        _ = during.receive(.statusSet(.reader(.source), .offlineSoft, at: ms(2)))
        _ = during.receive(.drained(.reader(.source), at: ms(3)))
        _ = during.receive(.statusSet(.reader(.source), .offlineHard, at: ms(4)))
        #expect(during.resumeAfterInterruption() == .saveProxyConfiguration)
    }

    @Test("a reader rollback whose new reader cannot be taken out says so, and says nothing about writers")
    func readerRollbackFailure() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .readerCutover, policy: CutoverPolicy())
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        #expect(machine.receive(.stepFailed(failure, at: ms(1))) == .setStatus(.reader(.target), .offlineHard))
        let unreachable = StepFailure(step: "set target reader OFFLINE_HARD + LOAD", message: "refused", endpoint: "p2")
        guard case .finish(.rolledBack(_, let failures)) = machine.receive(.stepFailed(unreachable, at: ms(2))) else {
            Issue.record("expected rolledBack")
            return
        }
        #expect(failures == [unreachable])
        #expect(!failures.contains { $0.message.contains("writer") })
    }

    @Test("reader rollback puts the old reader back before taking the new one out")
    func readerRollback() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .readerFailback, policy: CutoverPolicy())
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        _ = machine.receive(.statusSet(.reader(.source), .online, at: ms(1)))
        #expect(machine.receive(.stepFailed(failure, at: ms(2))) == .setStatus(.reader(.target), .online))
        #expect(machine.receive(.statusSet(.reader(.target), .online, at: ms(3))) == .setStatus(.reader(.source), .offlineHard))
        guard case .finish(.rolledBack) = machine.receive(.statusSet(.reader(.source), .offlineHard, at: ms(4))) else {
            Issue.record("expected rolledBack")
            return
        }
    }
}

@Suite("Resuming from a journal")
struct ResumeTranscriptTests {
    @Test("interrupted during catch-up (before the point of no return): resume rolls back")
    func resumeBeforePointOfNoReturn() {
        var (machine, _) = writerCutover(through: "readFinalPosition")
        #expect(machine.resumeAfterInterruption() == .liftFence(.source))
    }

    @Test("interrupted while the new writer was being set ONLINE: resume sets it ONLINE again (it may have taken writes)")
    func resumeDuringOnline() {
        var (machine, _) = writerCutover(through: "readNewWriterPosition")
        // The ONLINE may have taken effect and writes landed on the new writer: rolling back would strand them, while
        // going forward is safe (the old writer is hard-offline and fenced, the new one caught up).
        #expect(machine.resumeAfterInterruption() == .setStatus(.writer(.target), .online))
    }

    @Test("interrupted after the point of no return: resume issues the interrupted step again")
    func resumeAfterPointOfNoReturn() {
        var (machine, _) = writerCutover(through: "proveFenceOld")
        #expect(machine.resumeAfterInterruption() == .startReplication(.source, source: .target, coordinate: targetPosition))
        // Interrupted during the fence proof: the proof is read again.
        var (proving, _) = writerCutover(through: "stopForwardReplication")
        #expect(proving.resumeAfterInterruption() == .proveFenceHeld(.source, atFence: position))
    }

    @Test("a finished run resumes to its outcome")
    func resumeFinished() {
        var (machine, action) = writerCutover(through: "saveConfiguration")
        #expect(action == .finish(.completed))
        #expect(machine.resumeAfterInterruption() == .finish(.completed))
    }

    @Test("replaying the same events rebuilds the same state")
    func replayIsDeterministic() {
        let events: [CutoverEvent] = [
            .guardsFinished(blockingReasons: []),
            .proxyPrepared(ProxySettingsSnapshot()),
            settled(.target),
            .statusSet(.writer(.source), .offlineSoft, at: ms(1)),
            .drained(.writer(.source), at: ms(2)),
        ]
        var first = CutoverStateMachine()
        var second = CutoverStateMachine()
        var lastFirst = first.started(operation: .writerCutover, policy: CutoverPolicy())
        var lastSecond = second.started(operation: .writerCutover, policy: CutoverPolicy())
        for event in events {
            lastFirst = first.receive(event)
            lastSecond = second.receive(event)
        }
        #expect(lastFirst == lastSecond)
        #expect(first.timeline == second.timeline)
        #expect(first.currentStep == "offlineHardOld")
    }
}

@Suite("Auto-increment pin settle (state machine)")
struct AutoIncrementPinSettleTranscriptTests {
    static var relaxed: CutoverPolicy {
        var policy = CutoverPolicy()
        policy.autoIncrementPin = .relax
        return policy
    }

    @Test("with the pin relaxed, the settle runs after preparing the proxy and before the window opens")
    func settleBeforeWindow() {
        let policy = Self.relaxed
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerCutover, policy: policy)
        #expect(machine.receive(.guardsFinished(blockingReasons: [])) == .prepareProxy(disableQueryRetries: true, relaxAutoIncrementPin: true))
        #expect(machine.receive(.proxyPrepared(ProxySettingsSnapshot()))
            == .settleAutoIncrementPins(.writer(.source), timeout: .milliseconds(200), interval: policy.drainPollInterval))
        #expect(machine.currentStep == "settlePins")
        #expect(machine.receive(.autoIncrementPinsSettled(.writer(.source), stillHeld: 0, at: ms(40)))
            == .settleReplication(.target, source: .source, threshold: ms(10), timeout: .seconds(10)))
        #expect(machine.receive(settled(.target, at: ms(41))) == .setStatus(.writer(.source), .offlineSoft))
        _ = machine.receive(.statusSet(.writer(.source), .offlineSoft, at: ms(42)))
        #expect(machine.timeline.marks[.pinsSettled] == ms(40))
        #expect(machine.timeline.marks[.windowOpened] == ms(42))
    }

    @Test("a settle that reached its bound with sessions still holding goes on: the drain deals with them")
    func boundReachedGoesOn() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerFailback, policy: Self.relaxed)
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        #expect(machine.receive(.proxyPrepared(ProxySettingsSnapshot()))
            == .settleAutoIncrementPins(.writer(.target), timeout: .milliseconds(200), interval: .milliseconds(2)))
        #expect(machine.receive(.autoIncrementPinsSettled(.writer(.target), stillHeld: 3, at: ms(200)))
            == .settleReplication(.source, source: .target, threshold: ms(10), timeout: .seconds(10)))
        #expect(machine.receive(settled(.source, at: ms(201))) == .setStatus(.writer(.target), .offlineSoft))
    }

    @Test("no settle when the pin is kept or the settle is zero")
    func noSettle() {
        #expect(!CutoverStateMachine.steps(for: .writerCutover, policy: CutoverPolicy(autoIncrementPin: .keep)).contains(.settlePins))
        var zero = Self.relaxed
        zero.autoIncrementPinSettle = .zero
        #expect(!CutoverStateMachine.steps(for: .writerCutover, policy: zero).contains(.settlePins))
        #expect(CutoverStateMachine.steps(for: .writerCutover, policy: Self.relaxed).contains(.settlePins))
        #expect(!CutoverStateMachine.steps(for: .readerCutover, policy: Self.relaxed).contains(.settlePins))
    }

    @Test("a shutdown requested during the settle rolls back: the proxy variables are restored, routing untouched")
    func shutdownDuringSettle() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerCutover, policy: Self.relaxed)
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        let snapshot = ProxySettingsSnapshot(previousValues: ["p1": ["mysql-auto_increment_delay_multiplex": "5"]])
        _ = machine.receive(.proxyPrepared(snapshot))
        #expect(machine.receive(.gracefulShutdownRequested) == .wait)
        #expect(machine.receive(.autoIncrementPinsSettled(.writer(.source), stillHeld: 0, at: ms(30))) == .restoreProxySettings(snapshot))
        #expect(machine.receive(.proxySettingsRestored) == .finish(.rolledBack(reason: "shutdown requested", failures: [])))
    }

    @Test("a run interrupted during the settle resumes as a rollback that restores the proxy variables")
    func interruptedDuringSettle() {
        var machine = CutoverStateMachine()
        _ = machine.started(operation: .writerCutover, policy: Self.relaxed)
        _ = machine.receive(.guardsFinished(blockingReasons: []))
        let snapshot = ProxySettingsSnapshot(previousValues: ["p1": ["mysql-auto_increment_delay_multiplex": "5"]])
        _ = machine.receive(.proxyPrepared(snapshot))
        #expect(machine.resumeAfterInterruption() == .restoreProxySettings(snapshot))
    }
}
