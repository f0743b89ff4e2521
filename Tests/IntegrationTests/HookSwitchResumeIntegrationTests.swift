import Cutover
@_spi(Testing) import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ReplicationControl
import Synchronization
import Testing

/// `migrate-cli resume` of a switch without ProxySQL whose process was killed (#15): the real binary kills itself
/// with SIGKILL at an exact journal entry (`MIGRATE_CLI_TEST_SIGKILL`), under a load of clients that find the
/// writer through the file the switch command rewrites; `resume` finishes the run, and every acknowledged write is
/// on the writer the clients end on, and on the other server through replication.
@Suite("Hook switch: resume on the sandbox", .integration, .serialized)
struct HookSwitchResumeIntegrationTests {
    static var logger: Logger {
        var logger = Logger(label: "hook-resume-tests")
        logger.logLevel = .info
        return logger
    }

    /// The configuration `migrate-cli` reads: the rehearsal's servers, a `switch` section running `hook.sh`, the
    /// password files beside it.
    static func writeConfiguration(
        rehearsal: Rehearsal, directory: String, hook: String, observeTimeout: String = "10s",
        journal: String = "journal.jsonl"
    ) throws -> String {
        let secrets = [
            "source": rehearsal.source.rootConfiguration.password ?? "",
            "target": rehearsal.auroraShim.adminPassword,
            "forward": rehearsal.forwardReplicationPassword,
            "reverse": rehearsal.reverseReplicationPassword,
        ]
        for (name, secret) in secrets {
            FileManager.default.createFile(
                atPath: "\(directory)/\(name).password", contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
        }
        try "#!/bin/sh\n\(hook)\n".write(toFile: directory + "/hook.sh", atomically: true, encoding: .utf8)
        let yaml = """
            version: 1
            source:
              host: 127.0.0.1
              port: \(rehearsal.source.port)
              user: root
              password-file: source.password
            target:
              writer:
                host: 127.0.0.1
                port: \(rehearsal.target.port)
              user: \(rehearsal.auroraShim.adminUser)
              password-file: target.password
            switch:
              cutover-command: sh \(directory)/hook.sh
              failback-command: sh \(directory)/hook.sh
              timeout: 30s
              observe-timeout: \(observeTimeout)
            replication:
              # The sandbox's servers have no certificates (have_ssl = DISABLED) and replicate on loopback: with the
              # default `required` the switch's guards refuse (reverse.tls), as preflight's replication.tls fails.
              forward:
                user: \(Rehearsal.forwardReplicationUser)
                password-file: forward.password
                tls: disabled
              reverse:
                user: \(Rehearsal.reverseReplicationUser)
                password-file: reverse.password
                tls: disabled
            policy:
              catch-up-deadline: 30s
            journal:
              path: \(journal)

            """
        let path = directory + "/migrate.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func ids(on server: SandboxServer, database: String) async throws -> Set<Int64> {
        let root = try await server.connectAsRoot()
        let rows = try await root.query("SELECT id FROM \(identifier: database).hook_writes")
        await root.close()
        return Set(rows.compactMap { $0["id"]?.int.map(Int64.init) })
    }

    static func readOnly(_ server: SandboxServer) async throws -> Bool {
        let root = try await server.connectAsRoot()
        let rows = try await root.query("SELECT @@GLOBAL.read_only AS r")
        await root.close()
        return rows.first?["r"]?.int == 1
    }

    /// Runs `body` while `clients` write through the pointer file; returns what they acknowledged.
    static func underLoad(
        pointer: String, database: String, password: String, first: Int, _ body: () async throws -> Void
    ) async throws -> [Int64] {
        let ledger = HookSwitchRehearsal.Ledger()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for number in first..<(first + 3) {
                group.addTask {
                    await HookSwitchRehearsal.client(number, pointer: pointer, password: password, database: database, ledger: ledger)
                }
            }
            do {
                try await Task.sleep(for: .milliseconds(400))
                try await body()
                try await Task.sleep(for: .milliseconds(400))
            } catch {
                ledger.stop.store(true, ordering: .relaxed)
                try? await group.waitForAll()
                throw error
            }
            ledger.stop.store(true, ordering: .relaxed)
            try await group.waitForAll()
            return ledger.acknowledged.withLock { $0 }
        }
    }

    @Test("killed after forward replication stopped: resume rolls back (forward restarted, fence lifted); killed at the switch command: resume runs it and goes on; no acknowledged write lost")
    func killedThenResumed() async throws {
        guard try IntegrationGate.skipIfUnavailable(.mariadb) else { return }
        let logger = Self.logger
        try await withRehearsal(options: Rehearsal.Options(adminLatency: .fast), logger: logger) { rehearsal in
            let database = rehearsal.options.schema.database
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hook-resume-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let password = "hook-resume-pw"
            let source = try await rehearsal.source.connectAsRoot(logger: logger)
            try await source.run("CREATE TABLE \(identifier: database).hook_writes (id BIGINT PRIMARY KEY, client INT NOT NULL)")
            try await source.run("CREATE USER 'hookapp'@'%' IDENTIFIED BY 'hook-resume-pw'")
            try await source.run("GRANT SELECT, INSERT ON \(identifier: database).* TO 'hookapp'@'%'")
            await source.close()
            // The target writable, so the journal's entries are numbered as counted below (no make-writable step).
            let target = try await rehearsal.target.connectAsRoot(logger: logger)
            try await target.run("SET GLOBAL read_only = 0")
            await target.close()
            let pointer = directory + "/writer-port"
            try "\(rehearsal.source.port)".write(toFile: pointer, atomically: true, encoding: .utf8)
            let hook = #"printf '%s' "$MIGRATE_SWITCH_NEW_PORT" > "$POINTER.tmp" && mv "$POINTER.tmp" "$POINTER" && echo "pointed at $MIGRATE_SWITCH_NEW_ENDPOINT""#
                .replacingOccurrences(of: "$POINTER", with: pointer)
            let configuration = try Self.writeConfiguration(rehearsal: rehearsal, directory: directory, hook: hook)
            let journalPath = directory + "/journal.jsonl"
            let cli = ["--config", configuration]

            // 1. Killed right after entry 13 (forward replication stopped, the source fenced): 1 run-started, then an
            //    action and its event for guards, fence, close-sessions, read-final-position, catch-up,
            //    stop-forward-replication.
            var resumeA: MigrateBinary.Exit?
            let acknowledgedA = try await Self.underLoad(pointer: pointer, database: database, password: password, first: 1) {
                let killed = try await MigrateBinary.run(
                    ["cutover", "writers", "--yes"] + cli, in: directory, environment: ["MIGRATE_CLI_TEST_SIGKILL": "after-entry:13"])
                #expect(killed.signal == SIGKILL, "\(killed)")
                let entries = try CutoverJournal.read(path: journalPath)
                #expect(entries.last?.step?.rawValue == "switch.stop-forward-replication" && entries.last?.kind == .event, "\(entries.last.map { "\($0)" } ?? "-")")
                #expect(try await Self.readOnly(rehearsal.source), "the process died with the source fenced")
                // `status` says where the switch run stopped, from its journal (no ProxySQL to derive it from).
                let status = try await MigrateBinary.run(["status"] + cli, in: directory)
                #expect(status.standardOutput.contains("switch.stop-forward-replication") && status.standardOutput.contains("unfinished"), "\(status.standardOutput)")
                #expect(status.standardOutput.contains("Switch (no ProxySQL)"), "\(status.standardOutput)")
                // A new run is refused over the unfinished one.
                let refused = try await MigrateBinary.run(["cutover", "writers", "--yes"] + cli, in: directory)
                #expect(refused.code == 2, "\(refused)")
                #expect(refused.standardError.contains("migrate-cli resume") || refused.standardOutput.contains("migrate-cli resume"), "\(refused)")
                let plan = try await MigrateBinary.run(["resume", "--dry-run"] + cli, in: directory)
                #expect(plan.code == 0 && plan.standardOutput.contains("roll back"), "\(plan)")
                resumeA = try await MigrateBinary.run(["resume", "--yes"] + cli, in: directory)
            }
            let resumedA = try #require(resumeA)
            #expect(resumedA.code == 3, "rolled back: \(resumedA)")
            #expect(resumedA.standardOutput.contains("read_only lifted on source"), "\(resumedA)")
            #expect(!(try await Self.readOnly(rehearsal.source)), "the fence is lifted")
            #expect(try String(contentsOfFile: pointer, encoding: .utf8) == "\(rehearsal.source.port)", "nothing was switched")
            #expect(!acknowledgedA.isEmpty)
            // Forward replication runs again and carries every acknowledged write to the target.
            let environment = try await rehearsal.makeEnvironment(logger: logger)
            do {
                let position = try await environment.0.source.currentPosition(logger: logger)
                try await environment.0.target.waitForCatchUp(to: position, timeout: .seconds(60), progress: { _ in }, logger: logger)
            } catch {
                await environment.1()
                throw error
            }
            await environment.1()
            let lostOnSource = Set(acknowledgedA).subtracting(try await Self.ids(on: rehearsal.source, database: database))
            let lostOnTarget = Set(acknowledgedA).subtracting(try await Self.ids(on: rehearsal.target, database: database))
            #expect(lostOnSource.isEmpty && lostOnTarget.isEmpty, "lost: \(lostOnSource.sorted().prefix(5)) \(lostOnTarget.sorted().prefix(5))")

            // 2. Killed right after entry 20, the switch command's action (journaled, not yet run): past the point of
            //    no return. `resume` runs the command and goes on.
            var resumeB: MigrateBinary.Exit?
            let acknowledgedB = try await Self.underLoad(pointer: pointer, database: database, password: password, first: 11) {
                let killed = try await MigrateBinary.run(
                    ["cutover", "writers", "--yes"] + cli, in: directory, environment: ["MIGRATE_CLI_TEST_SIGKILL": "after-entry:20"])
                #expect(killed.signal == SIGKILL, "\(killed)")
                let entries = try CutoverJournal.read(path: journalPath)
                #expect(entries.last?.step?.rawValue == "switch.switch-command" && entries.last?.kind == .action)
                #expect(try String(contentsOfFile: pointer, encoding: .utf8) == "\(rehearsal.source.port)", "killed before the command ran")
                let status = try await MigrateBinary.run(["status"] + cli, in: directory)
                #expect(status.standardOutput.contains("switch.switch-command"), "\(status.standardOutput)")
                #expect(status.standardOutput.range(of: #"past the point of no return\s+yes"#, options: .regularExpression) != nil, "\(status.standardOutput)")
                resumeB = try await MigrateBinary.run(["resume", "--yes", "--json"] + cli, in: directory)
            }
            let resumedB = try #require(resumeB)
            #expect(resumedB.code == 0, "completed: \(resumedB)")
            #expect(try String(contentsOfFile: pointer, encoding: .utf8) == "\(rehearsal.target.port)", "the resume ran the switch command")
            #expect(try await Self.readOnly(rehearsal.source), "the old writer stays read-only")
            #expect(!acknowledgedB.isEmpty)
            let onTarget = try await Self.ids(on: rehearsal.target, database: database)
            let lostB = Set(acknowledgedA + acknowledgedB).subtracting(onTarget)
            #expect(lostB.isEmpty, "acknowledged writes missing on the new writer: \(lostB.sorted().prefix(10))")
            let entries = try CutoverJournal.read(path: journalPath)
            #expect(entries.last?.kind == .runFinished && entries.last?.outcome == .completed)
            #expect(HookSwitchReplay.unfinishedRun(in: entries) == nil)
            print("hook resume: \(acknowledgedA.count) + \(acknowledgedB.count) acknowledged writes, none lost")
        }
    }
}
