import ProxySQLAdmin
import Testing

@testable import Cutover

/// The two rules of a status change that used to be decided inside the executor, now pure
/// (``CutoverStateMachine/StatusChange``): the executor reads the facts, these decide. Each verdict, then what the
/// machine does with the ONLINE verdict (roll back or go forward).
@Suite struct StatusChangeTests {
    typealias Rules = CutoverStateMachine.StatusChange

    @Test func servingDatabaseIsTheReaderEnteringOrTheOneLeftServing() {
        #expect(Rules.servingRole(of: .reader(.target), .online) == .target)
        #expect(Rules.servingRole(of: .reader(.source), .offlineSoft) == .target)
        #expect(Rules.servingRole(of: .reader(.source), .offlineHard) == .target)
        #expect(Rules.servingRole(of: .reader(.target), .offlineHard) == .source)
    }

    @Test(arguments: [RoutingStatus.online, .offlineSoft, .offlineHard])
    func readerVerdicts(_ status: RoutingStatus) {
        let name = "target (127.0.0.1:3307)"
        #expect(Rules.readerVerdict(status, database: name, reading: .serving)
            == .proceed(requiringOtherReaderOnline: status != .online))
        #expect(Rules.readerVerdict(status, database: name, reading: .notReplicatingCleanly("IO stopped"))
            == .refused("\(name) does not replicate cleanly (IO stopped): reads there would go stale", database: name))
        #expect(Rules.readerVerdict(status, database: name, reading: .unreachable("connection refused"))
            == .refused("\(name) does not answer (connection refused): reads there would fail", database: name))
    }

    @Test func onlyAnUnconfirmedWriterOnlineIsReadAgain() {
        #expect(Rules.needsRuntimeReading(.writer(.target), .online, nodesSucceeded: 0))
        #expect(!Rules.needsRuntimeReading(.writer(.target), .online, nodesSucceeded: 1))
        #expect(!Rules.needsRuntimeReading(.writer(.source), .offlineSoft, nodesSucceeded: 0))
        #expect(!Rules.needsRuntimeReading(.writer(.source), .offlineHard, nodesSucceeded: 0))
        #expect(!Rules.needsRuntimeReading(.reader(.target), .online, nodesSucceeded: 0))
    }

    @Test func mayHaveTakenEffectVerdicts() {
        // A writer's ONLINE that no node confirmed: only "absent from every runtime" says it did not take effect.
        #expect(!Rules.mayHaveTakenEffect(.writer(.target), .online, nodesSucceeded: 0, absentFromEveryRuntime: true))
        #expect(Rules.mayHaveTakenEffect(.writer(.target), .online, nodesSucceeded: 0, absentFromEveryRuntime: false))
        #expect(Rules.mayHaveTakenEffect(.writer(.target), .online, nodesSucceeded: 0, absentFromEveryRuntime: nil))
        // Confirmed on some node, or another change: it may have, whatever was read.
        #expect(Rules.mayHaveTakenEffect(.writer(.target), .online, nodesSucceeded: 1, absentFromEveryRuntime: true))
        #expect(Rules.mayHaveTakenEffect(.writer(.source), .offlineSoft, nodesSucceeded: 0, absentFromEveryRuntime: true))
        #expect(Rules.mayHaveTakenEffect(.reader(.target), .online, nodesSucceeded: 0, absentFromEveryRuntime: true))
    }

    /// A writer cut-over driven to the new writer's ONLINE, which fails on every node; the executor's runtime
    /// reading decides, through the verdict, whether the machine rolls back or goes forward.
    @Test(arguments: [(true, false), (false, true), (nil, true)] as [(Bool?, Bool)])
    func failedOnlineTranscript(absentEverywhere: Bool?, goesForward: Bool) {
        var machine = CutoverStateMachine()
        var action = machine.started(operation: .writerCutover, policy: CutoverPolicy())
        var at = Duration.zero
        while machine.currentStep != "onlineNew" {
            at += .milliseconds(1)
            action = machine.receive(RollbackTableTests.success(action, at: at))
        }
        #expect(action == .setStatus(.writer(.target), .online))
        let may = Rules.mayHaveTakenEffect(
            .writer(.target), .online, nodesSucceeded: 0, absentFromEveryRuntime: absentEverywhere)
        #expect(may == goesForward)
        let next = machine.receive(
            .stepFailed(StepFailure(step: "set target writer ONLINE + LOAD", message: "LOAD timed out", mayHaveTakenEffect: may), at: at))
        if goesForward {
            // Forward: the watch of the new writer (it may be ONLINE somewhere, #14 item 8), then the rest.
            guard case .watchNewWriter(.target, _, _, _, _) = next else {
                Issue.record("expected the watch of the new writer, got \(next)")
                return
            }
            #expect(machine.isPastPointOfNoReturn)
        } else {
            // Not ONLINE anywhere: roll back, the new writer's row first (it was attempted).
            #expect(next == .setStatus(.writer(.target), .offlineHard))
            #expect(machine.currentStep == "rollback.offlineHardNew")
            #expect(!machine.isPastPointOfNoReturn)
        }
    }
}
