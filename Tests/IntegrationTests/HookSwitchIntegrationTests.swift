import Cutover
@_spi(Testing) import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ReplicationControl
import Synchronization
import Testing

/// The writer switch without ProxySQL (#15 item 2) on the sandbox: clients that find the writer through a file the
/// switch command rewrites, reconnecting and re-reading it on any error (1290 under the fence, 2013 when their
/// session is closed); a cut-over and a failback; every acknowledged write is on the new writer, and on the old one
/// through reverse (then forward) replication.
@Suite("Hook switch on the sandbox", .integration, .serialized)
struct HookSwitchIntegrationTests {
    static var logger: Logger {
        var logger = Logger(label: "hook-switch-tests")
        logger.logLevel = .info
        return logger
    }

    typealias Ledger = HookSwitchRehearsal.Ledger

    /// The rehearsal's client (reads the writer's port from the pointer file at each reconnect).
    static func client(_ number: Int, pointer: String, database: String, ledger: Ledger) async {
        await HookSwitchRehearsal.client(number, pointer: pointer, password: "hook-app-pw", database: database, ledger: ledger)
    }

    static func ids(on server: SandboxServer, database: String) async throws -> [Int64] {
        let root = try await server.connectAsRoot()
        defer { Task { await root.close() } }
        let rows = try await root.query("SELECT id FROM \(identifier: database).hook_writes ORDER BY id")
        return rows.compactMap { $0["id"]?.int.map(Int64.init) }
    }

    /// Runs clients for `before`, the switch, then `after`; returns the result and what the clients acknowledged.
    static func switchUnderLoad(
        _ run: HookSwitchRun, _ direction: HookSwitch.Direction, pointer: String, database: String, journal: CutoverJournal
    ) async throws -> (HookSwitchRun.Result, [Int64], [String: Int]) {
        let ledger = Ledger()
        return try await withThrowingTaskGroup(of: HookSwitchRun.Result?.self) { group in
            let first = direction == .cutover ? 1 : 11
            for number in first..<(first + 3) {
                group.addTask {
                    await client(number, pointer: pointer, database: database, ledger: ledger)
                    return nil
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            let result = try await run.run(direction: direction, journal: journal, logger: logger)
            // Writes go on for a while on the new writer, then the clients stop.
            try await Task.sleep(for: .milliseconds(500))
            ledger.stop.store(true, ordering: .relaxed)
            var found: HookSwitchRun.Result?
            for try await value in group { if let value { found = value } }
            _ = found
            return (result, ledger.acknowledged.withLock { $0 }, ledger.errors.withLock { $0 })
        }
    }

    static func runTheCLI(rehearsal: Rehearsal, directory: String, hook: String, pointer: String) async throws {
        let configuration = try HookSwitchResumeIntegrationTests.writeConfiguration(
            rehearsal: rehearsal, directory: directory, hook: hook, observeTimeout: "1s", journal: "cli-journal.jsonl")
        let dry = try await MigrateBinary.run(["cutover", "writers", "--dry-run", "--config", configuration], in: directory)
        #expect(dry.code == 0, "\(dry)")
        #expect(dry.standardOutput.contains("switch-command") && dry.standardOutput.contains("POINT OF NO RETURN"), "\(dry.standardOutput)")
        #expect(try String(contentsOfFile: pointer, encoding: .utf8) == "\(rehearsal.source.port)", "a dry run changes nothing")
        let real = try await MigrateBinary.run(["cutover", "writers", "--yes", "--json", "--config", configuration], in: directory)
        #expect(real.code == 0, "\(real)")
        #expect(real.standardOutput.contains("\"event\":\"report\""), "\(real.standardOutput)")
        #expect(try String(contentsOfFile: pointer, encoding: .utf8) == "\(rehearsal.target.port)", "the hook ran")
        let readers = try await MigrateBinary.run(["cutover", "readers", "--yes", "--config", configuration], in: directory)
        #expect(readers.code == 2, "the reader switch needs ProxySQL: refused, \(readers)")
    }

    /// `rehearse --switch hook`: cut-over, failback, cut-over, every acknowledged write on the final writer.
    @Test func theHookRehearsalVerifiesEveryWrite() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        let result = try await HookSwitchRehearsal.run(clients: 2, loadBetween: .milliseconds(300), logger: Self.logger, progress: { _ in })
        #expect(result.succeeded, "\(result.stoppedEarly ?? "") lost \(result.lost.prefix(10))")
        #expect(result.stages.map(\.name) == ["writer-cutover", "writer-failback", "writer-cutover"])
        #expect(result.acknowledged > 0)
        #expect(result.lost.isEmpty)
    }

    @Test func cutoverAndFailbackWithoutProxyLoseNoWrite() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        let logger = Self.logger
        var policy = CutoverPolicy()
        policy.catchUpDeadline = .seconds(30)
        try await withRehearsal(options: Rehearsal.Options(adminLatency: .fast), logger: logger) { rehearsal in
            let (environment, close) = try await rehearsal.makeEnvironment(logger: logger)
            let database = rehearsal.options.schema.database
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hook-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            do {
                // The application's table and a narrow account (read_only applies to it), created on the source.
                let source = try await rehearsal.source.connectAsRoot(logger: logger)
                try await source.run("CREATE TABLE \(identifier: database).hook_writes (id BIGINT PRIMARY KEY, client INT NOT NULL)")
                try await source.run("CREATE USER 'hookapp'@'%' IDENTIFIED BY 'hook-app-pw'")
                try await source.run("GRANT SELECT, INSERT ON \(identifier: database).* TO 'hookapp'@'%'")
                await source.close()

                // The pointer the clients read; the hook rewrites it with the new writer's port.
                let pointer = directory + "/writer-port"
                try "\(rehearsal.source.port)".write(toFile: pointer, atomically: true, encoding: .utf8)
                let hook = #"printf '%s' "$MIGRATE_SWITCH_NEW_PORT" > "$POINTER.tmp" && mv "$POINTER.tmp" "$POINTER" && echo "pointed at $MIGRATE_SWITCH_NEW_ENDPOINT ($MIGRATE_SWITCH_OPERATION)""#
                    .replacingOccurrences(of: "$POINTER", with: pointer)
                let settings = HookSwitch.Settings(cutoverCommand: hook, failbackCommand: hook, commandTimeout: .seconds(30), observeTimeout: .seconds(30))
                let run = HookSwitchRun(environment: environment, settings: settings, policy: policy)
                let journal = try CutoverJournal(path: directory + "/journal.jsonl")

                // Cut-over.
                let (cutover, acknowledged, errors) = try await Self.switchUnderLoad(run, .cutover, pointer: pointer, database: database, journal: journal)
                #expect(cutover.outcome == .completed, "\(cutover.outcome) \(cutover.steps.map { "\($0.step): \($0.outcome)" })")
                #expect(cutover.command?.output.contains("pointed at 127.0.0.1:\(rehearsal.target.port) (writer-cutover)") == true)
                let window = try #require(cutover.report.window, "a write must be observed on the new writer")
                print("hook cut-over: window \(window), clients acknowledged \(acknowledged.count), errors \(errors)")
                #expect(!acknowledged.isEmpty)
                let onTarget = Set(try await Self.ids(on: rehearsal.target, database: database))
                let lost = Set(acknowledged).subtracting(onTarget)
                #expect(lost.isEmpty, "acknowledged writes missing on the new writer: \(lost.sorted().prefix(10))")
                // Reverse replication carries the new writer's writes to the old one.
                let position = try await environment.target.currentPosition(logger: logger)
                try await environment.source.waitForCatchUp(to: position, timeout: .seconds(30), progress: { _ in }, logger: logger)
                #expect(Set(try await Self.ids(on: rehearsal.source, database: database)) == onTarget)

                // Failback: "Aurora" cannot be fenced by the tool (the RDS shim's account has no SET GLOBAL), so the
                // operator makes it read-only first, as in the parameter group; the tool checks it.
                let aurora = try await rehearsal.target.connectAsRoot(logger: logger)
                try await aurora.run("SET GLOBAL read_only = 1")
                await aurora.close()
                let (failback, acknowledgedBack, errorsBack) = try await Self.switchUnderLoad(run, .failback, pointer: pointer, database: database, journal: journal)
                #expect(failback.outcome == .completed, "\(failback.outcome) \(failback.steps.map { "\($0.step): \($0.outcome)" })")
                #expect(failback.report.fencedByOperator)
                print("hook failback: window \(failback.report.window.map { "\($0)" } ?? "none"), clients acknowledged \(acknowledgedBack.count), errors \(errorsBack)")
                let onSource = Set(try await Self.ids(on: rehearsal.source, database: database))
                let lostBack = Set(acknowledged + acknowledgedBack).subtracting(onSource)
                #expect(lostBack.isEmpty, "acknowledged writes missing on the source after failback: \(lostBack.sorted().prefix(10))")
                await journal.close()
                let entries = try CutoverJournal.read(path: directory + "/journal.jsonl")
                #expect(entries.filter { $0.kind == .runFinished }.count == 2)
                #expect(entries.contains { $0.step?.rawValue == "switch.switch-command" && ($0.statements?.first?.statement.contains("pointed at") ?? false) })

                // The CLI with a `switch` configuration (no proxysql section): dry run, then a real cut-over.
                let again = try await rehearsal.target.connectAsRoot(logger: logger)
                try await again.run("SET GLOBAL read_only = 0")  // the operator's parameter group back to normal
                await again.close()
                try await Self.runTheCLI(rehearsal: rehearsal, directory: directory, hook: hook, pointer: pointer)
            } catch {
                await close()
                throw error
            }
            await close()
        }
    }

}
