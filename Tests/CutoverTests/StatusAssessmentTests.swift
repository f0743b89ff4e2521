import Foundation
import ProxySQLAdmin
import Testing

@testable import Cutover

private let topology = ExecutorFixture.topology()
private let source = ExecutorFixture.sourceEndpoint
private let target = ExecutorFixture.targetEndpoint

/// A journal's run of `operation`: run-started, then the given (action, event?) pairs.
private func run(_ steps: [(String, CutoverAction, CutoverEvent?)], finished: CutoverOutcome? = nil, operation: CutoverOperation = .writerCutover)
    -> [CutoverJournalEntry]
{
    var entries: [CutoverJournalEntry] = []
    func entry(_ kind: CutoverJournalEntry.Kind) -> CutoverJournalEntry {
        CutoverJournalEntry(sequence: entries.count + 1, runID: "r1", kind: kind, time: "2026-12-06T08:00:00.000Z", elapsedMicroseconds: 0)
    }
    var start = entry(.runStarted)
    start.operation = operation
    entries.append(start)
    for (step, action, event) in steps {
        var actionEntry = entry(.action)
        actionEntry.step = StepID(rawValue: step)
        actionEntry.action = action
        actionEntry.pastPointOfNoReturn = false
        entries.append(actionEntry)
        if let event {
            var eventEntry = entry(.event)
            eventEntry.step = StepID(rawValue: step)
            eventEntry.event = event
            entries.append(eventEntry)
        }
    }
    if let finished {
        var end = entry(.runFinished)
        end.outcome = finished
        entries.append(end)
    }
    return entries
}

private let upToOnline: [(String, CutoverAction, CutoverEvent?)] = [
    ("guards", .runGuards(.writerCutover), .guardsFinished(blockingReasons: [])),
    ("offlineSoftOld", .setStatus(.writer(.source), .offlineSoft), .statusSet(.writer(.source), .offlineSoft, at: .zero)),
    ("onlineNew", .setStatus(.writer(.target), .online), nil),
]

/// #13 item 13: `status` derives the phase from runtime as well as the journal, and raises alarms.
@Suite("StatusAssessment")
struct StatusAssessmentTests {
    @Test("a crash during the ONLINE step: past the point of no return, from the journal and from runtime")
    func crashDuringOnline() {
        let entries = run(upToOnline)
        let assessment = StatusAssessment.assess(
            run: entries, writers: [.init(node: "p1", online: [target])], topology: topology)
        guard case .past(let evidence) = assessment.phase else {
            Issue.record("expected past, got \(assessment.phase)")
            return
        }
        #expect(evidence.contains("the run stopped during the ONLINE of the target writer"))
        #expect(evidence.contains("runtime: the target writer is ONLINE on p1"))
        #expect(assessment.alarms.isEmpty)
    }

    @Test("runtime alone shows the new writer ONLINE (the ONLINE's journal entry lost): past; the journal alone: before")
    func runtimeOnly() {
        let entries = run(Array(upToOnline.prefix(2)))
        let spelled = ServerEndpoint(host: "Aurora.Example.", port: 3306)
        guard case .past(let evidence) = StatusAssessment.assess(
            run: entries, writers: [.init(node: "p1", online: [spelled])], topology: topology
        ).phase else {
            Issue.record("expected past")
            return
        }
        #expect(evidence == "runtime: the target writer is ONLINE on p1")
        #expect(StatusAssessment.assess(run: entries, writers: [.init(node: "p1", online: [])], topology: topology).phase == .before)
        #expect(StatusAssessment.assess(run: [], writers: [], topology: topology).phase == .noRun)
    }

    @Test("a run that rolled back is before the point of no return whatever runtime says")
    func rolledBack() {
        let entries = run(Array(upToOnline.prefix(2)), finished: .rolledBack(reason: "x", failures: []))
        #expect(StatusAssessment.assess(run: entries, writers: [.init(node: "p1", online: [source])], topology: topology).phase == .before)
    }

    @Test("alarms: no writer, two writers, nodes routing to different writers")
    func alarms() {
        let none = StatusAssessment.assess(run: [], writers: [.init(node: "p1", online: [])], topology: topology)
        #expect(none.alarms.map(\.check) == ["routing.no-writer"])
        let two = StatusAssessment.assess(run: [], writers: [.init(node: "p1", online: [source, target])], topology: topology)
        #expect(two.alarms.map(\.check) == ["routing.two-writers"])
        #expect(two.alarms.first?.message.contains("10.0.0.5:3306, aurora.example:3306") == true)
        let split = StatusAssessment.assess(
            run: [], writers: [.init(node: "p1", online: [source]), .init(node: "p2", online: [target])], topology: topology)
        #expect(split.alarms.map(\.check) == ["routing.nodes-disagree"])
        let same = StatusAssessment.assess(
            run: [], writers: [.init(node: "p1", online: [source]), .init(node: "p2", online: [ServerEndpoint(host: "10.0.0.5", port: 3306)])],
            topology: topology)
        #expect(same.alarms.isEmpty)
    }
}
