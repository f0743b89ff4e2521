import Cutover
@_spi(Testing) import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import MariaDB
import Testing

/// Ctrl-C (SIGINT) during a switch without ProxySQL, on the built binary (#15): before the switch command the run
/// rolls back after the step in flight (exit 130, the source writable, forward replication restarted); during the
/// command it goes on to the end (exit 0, the applications pointed at the new writer).
@Suite("Hook switch: SIGINT on the sandbox", .integration, .serialized)
struct HookSwitchSignalTests {
    static let logger = Logger(label: "hook-signal-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Waits (at most 60 s) until the journal's last entry is the action of `step`.
    static func waitForAction(_ step: String, journal: String) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            if let entries = try? CutoverJournal.read(path: journal), let last = entries.last, last.kind == .action,
                last.step?.rawValue == step
            {
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw FaultBedError("the run never reached \(step)")
    }

    static func readOnly(_ server: SandboxServer) async throws -> Bool {
        let root = try await server.connectAsRoot()
        let rows = try await root.query("SELECT @@GLOBAL.read_only AS r")
        await root.close()
        return rows.first?["r"]?.int == 1
    }

    @Test func sigintBeforeTheCommandRollsBackAndDuringItGoesOn() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        // "Aurora"'s procedures sleep 1–3 s, so the stop of forward replication is long enough to be interrupted.
        try await withRehearsal(options: Rehearsal.Options(simulateAuroraDelays: true, adminLatency: .fast), logger: Self.logger) { rehearsal in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hook-signal-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let pointer = directory + "/writer-port"
            try "\(rehearsal.source.port)".write(toFile: pointer, atomically: true, encoding: .utf8)
            let hook = #"sleep 2 && printf '%s' "$MIGRATE_SWITCH_NEW_PORT" > "$POINTER""#.replacingOccurrences(of: "$POINTER", with: pointer)
            let configuration = try HookSwitchResumeIntegrationTests.writeConfiguration(rehearsal: rehearsal, directory: directory, hook: hook)
            let target = try await rehearsal.target.connectAsRoot()
            try await target.run("SET GLOBAL read_only = 0")
            await target.close()
            let journal = directory + "/journal.jsonl"
            let arguments = ["cutover", "writers", "--yes", "--config", configuration]

            // 1. SIGINT while forward replication is being stopped: rolled back after that step.
            let first = try MigrateBinary.Child(arguments, in: directory)
            try await Self.waitForAction("switch.stop-forward-replication", journal: journal)
            first.send(SIGINT)
            let interrupted = await first.wait(deadline: .seconds(120))
            #expect(interrupted.code == 130, "\(interrupted)")
            #expect(interrupted.standardError.contains("stop requested"), "\(interrupted)")
            #expect(interrupted.standardOutput.contains("stop requested by the operator"), "\(interrupted)")
            #expect(!(try await Self.readOnly(rehearsal.source)), "the fence is lifted")
            #expect(try String(contentsOfFile: pointer, encoding: .utf8) == "\(rehearsal.source.port)")
            let entries = try CutoverJournal.read(path: journal)
            #expect(entries.contains { $0.hookSwitch?.event == .stopRequested })
            #expect(HookSwitchReplay.unfinishedRun(in: entries) == nil, "the run finished (rolled back)")

            // 2. SIGINT while the switch command runs (past the point of no return): the run goes on.
            let second = try MigrateBinary.Child(arguments, in: directory)
            try await Self.waitForAction("switch.switch-command", journal: journal)
            second.send(SIGINT)
            let completed = await second.wait(deadline: .seconds(120))
            #expect(completed.code == 0, "\(completed)")
            #expect(try String(contentsOfFile: pointer, encoding: .utf8) == "\(rehearsal.target.port)", "the command ran to its end")
            #expect(try await Self.readOnly(rehearsal.source), "the old writer stays read-only")
        }
    }
}
