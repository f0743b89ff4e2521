import Cutover
import CutoverSandbox
import Logging
import Testing

extension FaultTests {
    /// Issue #18: applications that ProxySQL pins, under the default policy (auto-increment pin on evidence, idle
    /// pins cut): the writer switch and the failback complete, nothing acknowledged is lost or doubled.
    @Suite("Pinned applications under the default policy", .faultBed())
    struct PinnedApplications {
        let logger = Logger(label: "fault.pinned", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test("clients pinned at connect (Connector/J's SELECT @@session.…) writing every few ms: cut, the switch and the failback complete")
        func pinnedAtConnect() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "clients pinned at connect (default policy)",
                    expected: .completed,
                    workload: .autoIncrement,
                    shapes: [.pinnedAtConnect]
                ),
                on: bed
            )
            let cut = result.report.timeline.idlePinsCut
            #expect(cut.contains { $0.holderClass == .sessionPin }, "\(cut)")
            #expect(!result.report.timeline.forcedDrain)
            #expect(result.verification.lost.isEmpty && result.verification.duplicated.isEmpty)
            // Pinned for life: every client reconnected after the switch and wrote to the new writer.
            #expect(result.load.connectionEvents.contains { if case .reconnected = $0.kind { true } else { false } })
            try await bed.failBack(logger: logger)
            try await bed.expectStartingState("after failback")
        }

        @Test("an idle pool of pinned connections beside busy writers: the idle ones are cut, the switch and the failback complete")
        func idlePool() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "idle pinned pool beside busy writers (default policy)",
                    expected: .completed,
                    clients: 6,
                    workload: .autoIncrement,
                    shapes: [.plain, .idlePinned, .idlePinned]
                ),
                on: bed
            )
            let cut = result.report.timeline.idlePinsCut
            #expect(cut.contains { $0.holderClass == .sessionPin }, "\(cut)")
            #expect(result.verification.lost.isEmpty && result.verification.duplicated.isEmpty)
            try await bed.failBack(logger: logger)
            try await bed.expectStartingState("after failback")
        }
    }
}
