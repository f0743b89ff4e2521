import Cutover
import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB
import Testing

extension FaultTests {
    /// A graceful shutdown (what SIGINT/SIGTERM become in the CLI) requested at each step: before the point of no
    /// return the run rolls back; at or after it, the run stops after the step in flight and `resume` finishes it.
    @Suite("Graceful shutdown during the window", .faultBed())
    struct GracefulShutdown {
        let logger = Logger(label: "fault.shutdown", factory: { _ in SwiftLogNoOpLogHandler() })

        struct Point: Sendable, CustomTestStringConvertible {
            var point: FaultPoint
            var moment: Injection.Moment
            var testDescription: String { "\(moment) \(point)" }
        }

        static let points: [Point] = {
            let all = FaultPoint.writerCutoverSteps.flatMap {
                [Point(point: $0, moment: .before), Point(point: $0, moment: .after)]
            }
            if LongTests.enabled { return all }
            return [
                Point(point: .guards, moment: .before), Point(point: .drain, moment: .before),
                Point(point: .catchUp, moment: .before), Point(point: .onlineNew, moment: .before),
                Point(point: .onlineNew, moment: .after), Point(point: .startReverseReplication, moment: .before),
            ]
        }()

        @Test("shutdown requested", arguments: points)
        func shutdownRequested(at point: Point) async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let journal = TemporaryJournal("shutdown")
            defer { journal.cleanup() }
            // The step in flight finishes first: a request before the ONLINE of the new writer rolls back; one during
            // or after it still runs the cheap safety steps (durable fence, variables, SAVE) and stops with the
            // replication steps remaining; once those are done nothing is left to stop (#13 item 9).
            let index = FaultPoint.writerCutoverSteps.firstIndex(of: point.point)!
            let online = FaultPoint.writerCutoverSteps.firstIndex(of: .onlineNew)!
            let lastReplicationStep = FaultPoint.writerCutoverSteps.firstIndex(of: .verifyReverseReplication)!
            let expected: ExpectedOutcome =
                index < online ? .rolledBack : (index >= lastReplicationStep ? .completed : .stoppedAfterPointOfNoReturn)
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "graceful shutdown \(point.moment) \(point.point)",
                    shutdown: (point.point, point.moment),
                    expected: expected,
                    checkReplicationAfter: expected != .stoppedAfterPointOfNoReturn,
                    journalPath: journal.path
                ),
                on: bed
            )
            switch result.report.outcome {
            case .rolledBack(let reason, let failures):
                #expect(reason.contains("shutdown requested"), "\(reason)")
                #expect(failures.isEmpty)
            case .stoppedAfterPointOfNoReturn(let reason, _, let remaining):
                #expect(reason.contains("shutdown requested"), "\(reason)")
                #expect(!remaining.isEmpty)
                try await bed.resumeAndFailBack(
                    journalPath: journal.path, matrixRow: "\(result.name), then `resume`", logger: logger)
            case .completed:
                try await bed.failBack(logger: logger)
            case .refused:
                break
            }
            try await bed.expectStartingState("at the end")
        }
    }
}
