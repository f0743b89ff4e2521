import Cutover
import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Logging
import Testing

/// Issue #16 item 3: the reader and writer switches rehearsed through the emulator's application port, whose query
/// rules send `SELECT`s to the readers and everything else to the writers.
@Suite("Query-rule rehearsal", .integration, .serialized)
struct QueryRuleRehearsalTests {
    let logger = Logger(label: "query-rules", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("reads and writes through the application port: reader and writer cut-over and failback, nothing lost, no read failed outside a writer switch")
    func mixedLoadThroughApplicationPort() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        var options = RehearsalScript.Options(
            application: .plain, clients: 4, loadBetweenSwitches: .seconds(1),
            operations: [.readerCutover, .writerCutover, .readerFailback, .writerFailback])
        options.writesThroughApplicationPort = true
        options.finishes = false
        let result = try await RehearsalScript.run(options: options, logger: logger) { _ in }
        #expect(result.succeeded, "stopped early: \(result.stoppedEarly ?? "-"); \(result.verification)")
        #expect(result.switches.map(\.report.outcome) == Array(repeating: .completed, count: 4))
        #expect(result.verification.lost.isEmpty && result.verification.duplicated.isEmpty)
        #expect(result.verification.acknowledgedCount > 100)
        let reads = try #require(result.reads)
        let verdict = try #require(result.readVerdict)
        #expect(verdict.unexpected.isEmpty, "\(verdict.unexpected.prefix(3))")
        #expect(reads.servedBy.count == 2, "reads served by \(reads.servedBy): the reader switches move them")
        #expect(reads.succeeded > 50)
    }

    @Test("a workload that pins sessions at connect is refused on the application port before anything starts")
    func pinningWorkloadRefused() async throws {
        var options = RehearsalScript.Options(application: .mix)
        options.writesThroughApplicationPort = true
        await #expect(throws: RehearsalOptionsError.self) {
            _ = try await RehearsalScript.run(options: options, logger: logger) { _ in }
        }
    }
}
