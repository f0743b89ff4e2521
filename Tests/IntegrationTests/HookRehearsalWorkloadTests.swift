@_spi(Testing) import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Logging
import Testing

/// `rehearse --switch hook --workload mix` on both server kinds (#15): plain keys, AUTO_INCREMENT inserts,
/// `LAST_INSERT_ID()` readers and an idle pool, through cut-over, failback and cut-over; nothing acknowledged lost or
/// doubled, no `LAST_INSERT_ID()` naming another row.
@Suite("Hook rehearsal: workloads and server kinds", .integration, .serialized)
struct HookRehearsalWorkloadTests {
    static let logger = Logger(label: "hook-rehearsal-workloads", factory: { _ in SwiftLogNoOpLogHandler() })

    static func check(_ result: HookSwitchRehearsal.Result) {
        #expect(result.succeeded, "\(result.stoppedEarly ?? "") lost \(result.lost.prefix(5)) doubled \(result.doubled.prefix(5)) \(result.violations.prefix(3))")
        #expect(result.stages.map(\.name) == ["writer-cutover", "writer-failback", "writer-cutover"])
        #expect(result.stages.allSatisfy { $0.window != nil }, "a write observed on the new writer at each switch")
        #expect(result.shapes == [.plain, .autoIncrement, .lastInsertID, .idle])
        #expect(result.acknowledged > 0 && result.lost.isEmpty && result.doubled.isEmpty && result.violations.isEmpty)
        print("hook rehearsal (\(result.serverKind), mix): \(result.acknowledged) acknowledged, windows \(result.stages.map { $0.window.map { "\($0)" } ?? "-" })")
    }

    @Test func mixOnMariaDB() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        let result = try await HookSwitchRehearsal.run(
            clients: 4, loadBetween: .milliseconds(1_200), workload: .mix, serverKind: .mariadb, logger: Self.logger, progress: { _ in })
        #expect(result.serverKind == .mariadb)
        Self.check(result)
    }

    @Test func mixOnMySQL() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mysql) else { return }
        let result = try await HookSwitchRehearsal.run(
            clients: 4, loadBetween: .milliseconds(1_200), workload: .mix, serverKind: .mysql, logger: Self.logger, progress: { _ in })
        #expect(result.serverKind == .mysql)
        Self.check(result)
    }
}
