import Foundation
import ProxySQLAdmin
import Testing

@testable import Cutover

/// Issue #13, item 3: a run that died right before the new writer's ONLINE (its action never journaled) is resumed
/// by establishing the fence again, reading the final position again and waiting for the catch-up again, never by
/// putting the new writer ONLINE at once; a failure there rolls back.
@Suite("Resume before the ONLINE re-checks (#13)")
struct ResumeReverificationTests {
    static let final = ReplicationCoordinate(file: "mysql-bin.000003", offset: 1_234, gtidSet: "0-1-100")
    static let later = ReplicationCoordinate(file: "mysql-bin.000004", offset: 330, gtidSet: "0-1-101")
    static let targetPosition = ReplicationCoordinate(file: "mysql-bin-changelog.000007", offset: 99)

    /// A writer cut-over replayed up to the outcome of the last step before the ONLINE.
    static func cutoverBeforeOnline() -> CutoverStateMachine {
        var machine = CutoverStateMachine()
        var policy = CutoverPolicy()
        policy.replicationSettleDeadline = .zero
        _ = machine.started(operation: .writerCutover, policy: policy)
        let events: [CutoverEvent] = [
            .guardsFinished(blockingReasons: []), .proxyPrepared(ProxySettingsSnapshot()),
            .statusSet(.writer(.source), .offlineSoft, at: .milliseconds(10)),
            .drained(.writer(.source), at: .milliseconds(12)),
            .statusSet(.writer(.source), .offlineHard, at: .milliseconds(14)),
            .sessionsClosed(.source, count: 0, at: .milliseconds(15)), .fenced(.source, at: .milliseconds(16)),
            .positionRead(.source, final, at: .milliseconds(17)), .caughtUp(.target, at: .milliseconds(20)),
        ]
        for event in events { _ = machine.receive(event) }
        #expect(machine.receive(.positionRead(.target, targetPosition, at: .milliseconds(21)))
            == .setStatus(.writer(.target), .online))
        return machine
    }

    @Test("died before the ONLINE was journaled: fence, final position and catch-up again, then the ONLINE")
    func reverifiesBeforeOnline() {
        var machine = Self.cutoverBeforeOnline()
        #expect(machine.resumeAfterInterruption(actionJournaled: false) == .setStatus(.writer(.source), .offlineHard))
        #expect(!machine.isPastPointOfNoReturn)
        #expect(machine.receive(.statusSet(.writer(.source), .offlineHard, at: .seconds(5))) == .closeSessions(.source))
        let policy = CutoverPolicy()
        #expect(machine.receive(.sessionsClosed(.source, count: 2, at: .seconds(5)))
            == .fence(.source, timeout: policy.fenceTimeout))
        #expect(machine.receive(.fenced(.source, at: .seconds(5))) == .readPosition(.source))
        // The source took a transaction while the process was dead: the catch-up waits for the new final position.
        #expect(machine.receive(.positionRead(.source, Self.later, at: .seconds(5)))
            == .waitForCatchUp(.target, coordinate: Self.later, timeout: policy.catchUpDeadline))
        #expect(machine.receive(.caughtUp(.target, at: .seconds(6))) == .readPosition(.target))
        #expect(machine.receive(.positionRead(.target, Self.targetPosition, at: .seconds(6)))
            == .setStatus(.writer(.target), .online))
        guard case .watchNewWriter(.target, _, _, _, _) = machine.receive(.statusSet(.writer(.target), .online, at: .seconds(6)))
        else {
            Issue.record("the ONLINE is not followed by the watch of the new writer")
            return
        }
        #expect(machine.receive(.newWriterWatched(.target, ShunnedWriterWatch(), at: .seconds(6))) == .stopReplication(.target))
        // The fence proof compares with the final position read again.
        #expect(machine.receive(.replicationStopped(.target)) == .proveFenceHeld(.source, atFence: Self.later))
    }

    @Test("a re-check that fails rolls back (still before the point of no return); the new writer was never ONLINE")
    func failedReverificationRollsBack() {
        var machine = Self.cutoverBeforeOnline()
        _ = machine.resumeAfterInterruption(actionJournaled: false)
        _ = machine.receive(.statusSet(.writer(.source), .offlineHard, at: .seconds(5)))
        _ = machine.receive(.sessionsClosed(.source, count: 0, at: .seconds(5)))
        _ = machine.receive(.fenced(.source, at: .seconds(5)))
        _ = machine.receive(.positionRead(.source, Self.later, at: .seconds(5)))
        let failure = StepFailure(step: "catch-up", message: "the replica did not execute it within 2 s", endpoint: "aurora")
        // No OFFLINE_HARD of the new writer first: its ONLINE never ran.
        #expect(machine.receive(.stepFailed(failure, at: .seconds(7))) == .liftFence(.source))
        #expect(machine.rollbackReason?.contains("did not execute") == true)
        #expect(machine.receive(.fenceLifted(.source)) == .setStatus(.writer(.source), .online))
    }

    @Test("died after the ONLINE was journaled (it may have taken effect): the ONLINE is issued again, forward")
    func onlineJournaledGoesForward() {
        var machine = Self.cutoverBeforeOnline()
        #expect(machine.resumeAfterInterruption(actionJournaled: true) == .setStatus(.writer(.target), .online))
        #expect(machine.resumeAfterInterruption() == .setStatus(.writer(.target), .online))
    }

    @Test("a failback re-checks too (no fence on Aurora: OFFLINE_HARD, sessions, final position, catch-up)")
    func failbackReverifies() {
        var machine = CutoverStateMachine()
        var policy = CutoverPolicy()
        policy.replicationSettleDeadline = .zero
        _ = machine.started(operation: .writerFailback, policy: policy)
        let events: [CutoverEvent] = [
            .guardsFinished(blockingReasons: []), .proxyPrepared(ProxySettingsSnapshot()),
            .statusSet(.writer(.target), .offlineSoft, at: .milliseconds(10)),
            .drained(.writer(.target), at: .milliseconds(12)),
            .statusSet(.writer(.target), .offlineHard, at: .milliseconds(14)),
            .sessionsClosed(.target, count: 0, at: .milliseconds(15)),
            .positionRead(.target, Self.targetPosition, at: .milliseconds(17)),
            .caughtUp(.source, at: .milliseconds(20)), .positionRead(.source, Self.final, at: .milliseconds(21)),
        ]
        for event in events { _ = machine.receive(event) }
        #expect(machine.receive(.fenceLifted(.source)) == .setStatus(.writer(.source), .online))
        #expect(machine.resumeAfterInterruption(actionJournaled: false) == .setStatus(.writer(.target), .offlineHard))
        #expect(machine.receive(.statusSet(.writer(.target), .offlineHard, at: .seconds(1))) == .closeSessions(.target))
        #expect(machine.receive(.sessionsClosed(.target, count: 0, at: .seconds(1))) == .readPosition(.target))
    }
}
