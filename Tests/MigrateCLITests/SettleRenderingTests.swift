import Cutover
import Foundation
import Testing

@testable import MigrateCLI

/// Issue #19: the replication settle is shown in the progress and in the timeline, outside the window.
@Suite("Renderers: replication settle")
struct SettleRenderingTests {
    static func settledTimeline() -> CutoverTimeline {
        var timeline = sampleTimeline()
        timeline.marks[.settleStarted] = .milliseconds(2)
        timeline.marks[.replicationSettled] = .milliseconds(9)
        var observation = ReplicationSettleObservation(startedAt: .milliseconds(2))
        observation.recordWait(.milliseconds(5), for: ReplicationCoordinate(file: "mysql-bin.000003", offset: 900))
        observation.recordWait(.milliseconds(1), for: ReplicationCoordinate(file: "mysql-bin.000003", offset: 1000))
        timeline.replicationSettle = observation
        return timeline
    }

    @Test("human: each wait is a progress line; the table has a settle row apart from the window")
    func human() {
        var renderer = HumanProgressRenderer(style: .plain)
        let line = renderer.render(
            .settleProgress(
                role: .target, round: 2, lastWait: .milliseconds(1), threshold: .milliseconds(10), at: .milliseconds(8)))
        #expect(line.contains("target settling (outside the window): wait 2 took 1 ms"), "\(line)")
        let table = HumanProgressRenderer.timelineTable(Self.settledTimeline(), operation: .writerCutover)
        #expect(table.contains("settle"))
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("  settle") && $0.contains("7 ms") }, "\(table)")
        #expect(table.contains("write window      16 ms") || table.contains("16 ms"))
        #expect(table.contains("replication settle before the window (not part of it): 2 wait(s)"))
        // Without a settle, no row.
        let plain = HumanProgressRenderer.timelineTable(sampleTimeline(), operation: .writerCutover)
        #expect(!plain.split(separator: "\n").contains { $0.hasPrefix("  settle") })
    }

    @Test("--json: settle-progress lines, and settle_ms in the timeline")
    func json() throws {
        var renderer = JSONProgressRenderer()
        let text = renderer.render(
            .settleProgress(
                role: .target, round: 1, lastWait: .milliseconds(230), threshold: .milliseconds(10), at: .milliseconds(240)))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "settle-progress")
        #expect(object["round"] as? Int == 1)
        #expect(object["last_wait_ms"] as? Double == 230)
        #expect(object["threshold_ms"] as? Double == 10)
        let finished = renderer.render(.runFinished(outcome: .completed, timeline: Self.settledTimeline()))
        let end = try #require(try JSONSerialization.jsonObject(with: Data(finished.utf8)) as? [String: Any])
        let timeline = try #require(end["timeline"] as? [String: Any])
        #expect(timeline["settle_ms"] as? Double == 7)
        #expect(timeline["window_ms"] as? Double == 16)
    }
}
