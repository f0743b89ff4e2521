import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import Testing

extension FaultTests.ProcessLevel {
    // MARK: #13 item 9: SIGHUP and SIGPIPE

    @Test("SIGHUP (an SSH session dropping) during the drain does not stop the run: it completes, exit 0, nothing lost")
    func hangupDuringDrain() async throws {
        guard let bed = try await FaultBed.inStartingState() else { return }
        let workspace = try CLIWorkspace(bed: bed)
        defer { workspace.remove() }
        // A client holds a transaction: the drain waits for it; it commits 600 ms after the window opened.
        let pinned = try await PinnedClient.openTransaction(bed: bed)
        let journal = workspace.journalPath("hangup")
        async let released: (any Error)?? = {
            guard (try? await Self.waitForAction(step: "drainOld", journal: journal, timeout: .seconds(30))) == true else {
                return nil
            }
            try? await Task.sleep(for: .milliseconds(600))
            return await pinned.commit()
        }()
        let result = try await interrupt(
            bed: bed, workspace: workspace, name: "hangup", signal: SIGHUP, atStep: "drainOld",
            settings: ["policy.drain-deadline=5s"])
        _ = await released
        await pinned.close()
        #expect(result.exit.code == 0, "\(result.exit)")
        #expect(result.exit.runFinished?["outcome"] as? String == "completed")
        try await bed.expectCutOverState("after SIGHUP during the drain")
        FaultMatrix.record(result.row("SIGHUP to `migrate-cli cutover writers` during the drain (a client holds a transaction, then commits)"))
        // Reverse replication must have caught up, or the failback's lag guard refuses (a loaded machine).
        try await bed.waitForReplica(bed.source, of: bed.target)
        try await bed.failBack(logger: logger)
        try await bed.expectStartingState("at the end")
    }

    @Test("the reader of the output goes away (SIGPIPE) during the drain: the run completes, exit 0, the journal says so")
    func closedOutputDuringDrain() async throws {
        guard let bed = try await FaultBed.inStartingState() else { return }
        let workspace = try CLIWorkspace(bed: bed)
        defer { workspace.remove() }
        let pinned = try await PinnedClient.openTransaction(bed: bed)
        let journal = workspace.journalPath("closed-output")
        let process = Process()
        // Through `env --default-signal=PIPE`: the test process ignores SIGPIPE, and an ignored signal stays ignored
        // across exec; an operator's shell leaves it at its default (terminate), which is what this case is about.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal=PIPE", try MigrateBinary.path()]
            + workspace.arguments(journal: journal, ["cutover", "writers", "--yes", "--json", "--set", "policy.drain-deadline=5s"])
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.directory)
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": workspace.directory, "NO_COLOR": "1"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let reached = try await Self.waitForAction(step: "drainOld", journal: journal, timeout: .seconds(30))
        // The reader goes away while the window is open; the next line the run prints gets EPIPE / SIGPIPE.
        try output.fileHandleForReading.close()
        try output.fileHandleForWriting.close()
        if !reached { process.terminate() }
        try #require(reached, "the run never reached the drain")
        try await Task.sleep(for: .milliseconds(300))
        #expect(await pinned.commit() == nil)
        await pinned.close()
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 0)
        let entries = try CutoverJournal.read(path: journal)
        #expect(entries.last?.outcome == .completed, "\(entries.last as Any)")
        try await bed.expectCutOverState("after the output's reader went away")
        FaultMatrix.record("| The reader of `migrate-cli cutover writers`'s output went away (pipe closed: EPIPE/SIGPIPE) | during the drain | completed, exit 0; the journal holds the outcome | - | - | - | - | - | - |")
        // Reverse replication must have caught up, or the failback's lag guard refuses (a loaded machine).
        try await bed.waitForReplica(bed.source, of: bed.target)
        try await bed.failBack(logger: logger)
        try await bed.expectStartingState("at the end")
    }

    // MARK: #13 item 10: previous values from runtime

    @Test("query retries and the auto-increment pin are put back to their RUNTIME values, not to values staged in memory")
    func variablesRestoredFromRuntime() async throws {
        guard let bed = try await FaultBed.inStartingState() else { return }
        let workspace = try CLIWorkspace(bed: bed)
        defer { workspace.remove() }
        let admin = try await MariaDBConnection.connect(configuration: bed.rehearsal.emulator.adminConfiguration)
        func runtime(_ name: String) async throws -> String? {
            try await admin.queryFirst("SELECT variable_value FROM runtime_global_variables WHERE variable_name = '\(unsafeRaw: name)'")?[0].string
        }
        let retries = try await runtime("mysql-query_retries_on_failure")
        let pin = try await runtime("mysql-auto_increment_delay_multiplex")
        // Staged in memory, never loaded: what an operator's half-finished edit looks like.
        try await admin.run("UPDATE global_variables SET variable_value = '7' WHERE variable_name = 'mysql-query_retries_on_failure'")
        try await admin.run("UPDATE global_variables SET variable_value = '9' WHERE variable_name = 'mysql-auto_increment_delay_multiplex'")
        let result = try await MigrateBinary.run(
            workspace.arguments(journal: workspace.journalPath("runtime-values"), [
                "cutover", "writers", "--yes", "--json", "--set", "policy.auto-increment-pin=relax",
            ]), in: workspace.directory)
        let restoredRetries = try await runtime("mysql-query_retries_on_failure")
        let restoredPin = try await runtime("mysql-auto_increment_delay_multiplex")
        // Put the bed back whatever happened.
        try await admin.run("UPDATE global_variables SET variable_value = '\(unsafeRaw: retries ?? "1")' WHERE variable_name = 'mysql-query_retries_on_failure'")
        try await admin.run("UPDATE global_variables SET variable_value = '\(unsafeRaw: pin ?? "5")' WHERE variable_name = 'mysql-auto_increment_delay_multiplex'")
        try await admin.run("LOAD MYSQL VARIABLES TO RUNTIME")
        await admin.close()
        #expect(result.code == 0, "\(result)")
        #expect(restoredRetries == retries, "query retries: runtime \(restoredRetries ?? "-") after the run, \(retries ?? "-") before")
        #expect(restoredPin == pin, "auto-increment pin: runtime \(restoredPin ?? "-") after the run, \(pin ?? "-") before")
        // The values are journaled (the guards' snapshot and the prepare step's), for `resume`.
        let entries = try CutoverJournal.read(path: workspace.journalPath("runtime-values"))
        let prepared = entries.compactMap { entry -> ProxySettingsSnapshot? in
            if case .proxyPrepared(let snapshot)? = entry.event { return snapshot } else { return nil }
        }.first
        #expect(prepared?.previousValues.values.first?["mysql-query_retries_on_failure"] == retries)
        FaultMatrix.record("| `mysql-query_retries_on_failure` 7 and `mysql-auto_increment_delay_multiplex` 9 staged in memory (not loaded), runtime \(retries ?? "?") / \(pin ?? "?") | before the run | completed; both put back to their runtime values \(restoredRetries ?? "?") / \(restoredPin ?? "?") (the snapshot is read from `runtime_global_variables` and journaled) | - | - | - | - | - | - |")
        if result.code == 0 {
            try await bed.waitForReplica(bed.source, of: bed.target)
            try await bed.failBack(logger: logger)
        }
        try await bed.expectStartingState("at the end")
    }

    // MARK: #13 item 6: a staged row

    @Test("Aurora's row staged ONLINE in memory (not loaded): preflight fails and `cutover writers` refuses (exit 2), nothing changes")
    func stagedTargetRowRefused() async throws {
        guard let bed = try await FaultBed.inStartingState() else { return }
        let workspace = try CLIWorkspace(bed: bed)
        defer { workspace.remove() }
        let admin = try await MariaDBConnection.connect(configuration: bed.rehearsal.emulator.adminConfiguration)
        let target = bed.rehearsal.topology.target.writer
        let staged: SQLStatement = "UPDATE mysql_servers SET status = 'ONLINE' WHERE hostgroup_id = \(target.hostgroup.rawValue) AND port = \(target.endpoint.port)"
        try await admin.run(staged)
        let preflight = try await MigrateBinary.run(
            workspace.arguments(journal: workspace.journalPath("staged-preflight"), ["preflight"]), in: workspace.directory)
        let cutover = try await MigrateBinary.run(
            workspace.arguments(journal: workspace.journalPath("staged"), ["cutover", "writers", "--yes", "--json"]),
            in: workspace.directory)
        let writersDuring = try await bed.runtimeWriters(node: bed.rehearsal.emulator.adminConfiguration)
        let unstage: SQLStatement = "UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE hostgroup_id = \(target.hostgroup.rawValue) AND port = \(target.endpoint.port)"
        try await admin.run(unstage)
        await admin.close()
        #expect(preflight.code == 2, "\(preflight)")
        #expect(preflight.standardOutput.contains("proxysql.staged-rows"))
        #expect(cutover.code == 2, "\(cutover)")
        #expect(cutover.standardOutput.contains("proxysql.staged-rows"), "\(cutover.standardOutput)")
        #expect(writersDuring == [bed.sourceEndpoint], "the refused run published the staged row: \(writersDuring)")
        FaultMatrix.record("| Aurora's writer row staged `ONLINE` in `mysql_servers`, not loaded | bad input | refused: `proxysql.staged-rows` naming the node and the row (the cut-over's first LOAD would have published it next to the source); preflight: `proxysql.staged-rows` fails; runtime unchanged | - | - | - | - | - | - |")
        try await bed.expectStartingState("at the end")
    }

    // MARK: #13 items 12 and 13: status

    @Test("killed during the ONLINE step (performed, not journaled): status says past the point of no return (runtime); resume finishes")
    func statusAfterCrashDuringOnline() async throws {
        guard let bed = try await FaultBed.inStartingState() else { return }
        let workspace = try CLIWorkspace(bed: bed)
        defer { workspace.remove() }
        let journal = workspace.journalPath("crash-online")
        // Action 11 is the new writer's ONLINE when the replication settle is off (with it, the settle is one more
        // action before the window): the process dies right after the ONLINE took effect, before its outcome.
        let killed = try await MigrateBinary.run(
            workspace.arguments(journal: journal, [
                "cutover", "writers", "--yes", "--json", "--set", "policy.replication-settle-threshold=0ms",
            ]), in: workspace.directory,
            environment: ["MIGRATE_CLI_TEST_SIGKILL": "after-action:11"])
        #expect(killed.signal == SIGKILL, "\(killed)")
        let status = try await MigrateBinary.run(
            workspace.arguments(journal: journal, ["status", "--json"]), in: workspace.directory)
        #expect(status.code == 0, "\(status)")
        let rows = status.objects.first { $0["command"] as? String == "status" }
            .flatMap { ($0["sections"] as? [[String: Any]])?.first { $0["title"] as? String == "Journal" } }
            .flatMap { $0["rows"] as? [[String: Any]] } ?? []
        let past = rows.first { $0["field"] as? String == "past the point of no return" }?["value"] as? String ?? ""
        #expect(past.hasPrefix("yes"), "\(past)")
        #expect(past.contains("runtime: the target writer is ONLINE"), "\(past)")
        let lastAction = try CutoverJournal.read(path: journal).last { $0.kind == .action }
        #expect(lastAction?.action == .setStatus(.writer(.target), .online), "\(lastAction as Any)")
        let resumed = try await MigrateBinary.run(
            workspace.arguments(journal: journal, ["resume", "--yes", "--json", "--set", "policy.replication-settle-threshold=0ms"]),
            in: workspace.directory)
        #expect(resumed.code == 0, "\(resumed)")
        try await bed.expectCutOverState("after resume")
        FaultMatrix.record("| `migrate-cli` SIGKILLed right after the new writer's `ONLINE` took effect (before its outcome was journaled); then `status` | action 11 | `status`: past the point of no return \"\(past)\"; `resume`: completed | - | - | - | - | - | - |")
        // Reverse replication must have caught up, or the failback's lag guard refuses (a loaded machine).
        try await bed.waitForReplica(bed.source, of: bed.target)
        try await bed.failBack(logger: logger)
        try await bed.expectStartingState("at the end")
    }

    @Test("status raises an alarm (exit 1) when the writer hostgroup has two ONLINE writers, and says `login refused` (exit 69) for a wrong admin password")
    func statusAlarmsAndLoginRefused() async throws {
        guard let bed = try await FaultBed.inStartingState() else { return }
        let workspace = try CLIWorkspace(bed: bed)
        defer { workspace.remove() }
        let journal = workspace.journalPath("status")
        let clean = try await MigrateBinary.run(workspace.arguments(journal: journal, ["status"]), in: workspace.directory)
        #expect(clean.code == 0, "\(clean)")

        let admin = try await MariaDBConnection.connect(configuration: bed.rehearsal.emulator.adminConfiguration)
        let target = bed.rehearsal.topology.target.writer
        try await admin.run("UPDATE mysql_servers SET status = 'ONLINE' WHERE hostgroup_id = \(target.hostgroup.rawValue) AND port = \(target.endpoint.port)")
        try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
        let two = try await MigrateBinary.run(workspace.arguments(journal: journal, ["status", "--json"]), in: workspace.directory)
        try await admin.run("UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE hostgroup_id = \(target.hostgroup.rawValue) AND port = \(target.endpoint.port)")
        try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
        await admin.close()
        #expect(two.code == 1, "\(two)")
        #expect(two.standardOutput.contains("routing.two-writers"), "\(two.standardOutput)")

        let secret = workspace.directory + "/secrets/proxysql.password"
        try "not-the-password\n".write(toFile: secret, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret)
        let refused = try await MigrateBinary.run(workspace.arguments(journal: journal, ["status"]), in: workspace.directory)
        #expect(refused.code == 69, "\(refused)")
        #expect(refused.standardOutput.contains("login refused"), "\(refused.standardOutput)")
        FaultMatrix.record("| Two writers `ONLINE` in hostgroup 10 at runtime; then a wrong ProxySQL admin password | `status` | alarm `routing.two-writers`, exit \(two.code.map(String.init) ?? "-"); `login refused`, exit \(refused.code.map(String.init) ?? "-") (before: exit 0, \"unreachable\") | - | - | - | - | - | - |")
        try await bed.expectStartingState("at the end")
    }

    @Test("a query rule with its own retries (the window turns the global retry off): preflight fails and `cutover writers` refuses")
    func ruleRetriesRefused() async throws {
        guard let bed = try await FaultBed.inStartingState() else { return }
        let workspace = try CLIWorkspace(bed: bed)
        defer { workspace.remove() }
        let admin = try await MariaDBConnection.connect(configuration: bed.rehearsal.emulator.adminConfiguration)
        try await admin.run("INSERT INTO mysql_query_rules (rule_id, active, match_digest, retries, apply) VALUES (9001, 1, '^INSERT', 2, 0)")
        try await admin.run("LOAD MYSQL QUERY RULES TO RUNTIME")
        let preflight = try await MigrateBinary.run(
            workspace.arguments(journal: workspace.journalPath("rule-preflight"), ["preflight"]), in: workspace.directory)
        let cutover = try await MigrateBinary.run(
            workspace.arguments(journal: workspace.journalPath("rule"), ["cutover", "writers", "--yes", "--json"]),
            in: workspace.directory)
        try await admin.run("DELETE FROM mysql_query_rules WHERE rule_id = 9001")
        try await admin.run("LOAD MYSQL QUERY RULES TO RUNTIME")
        await admin.close()
        #expect(preflight.code == 2, "\(preflight)")
        #expect(preflight.standardOutput.contains("rule 9001 retries failed queries 2 time(s)"), "\(preflight.standardOutput)")
        #expect(cutover.code == 2, "\(cutover)")
        #expect(cutover.standardOutput.contains("proxysql.query-rules"), "\(cutover.standardOutput)")
        FaultMatrix.record("| A query rule with `retries = 2` in `runtime_mysql_query_rules` | bad input | refused: `proxysql.query-rules` (\"rule 9001 retries failed queries 2 time(s), overriding mysql-query_retries_on_failure = 0 …\"); preflight fails likewise; nothing changed | - | - | - | - | - | - |")
        try await bed.expectStartingState("at the end")
    }
}
