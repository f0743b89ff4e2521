@_spi(Testing) import CutoverSandbox
import Foundation
import MariaDB
import Testing

@testable import MigrateCLI

/// The built binary against real local servers: the rehearsal end to end, and the sandbox flow the documentation
/// describes (`sandbox up`, then this tool's commands with the configuration it wrote, then `sandbox down`).
@Suite("The built binary on the sandbox", .serialized)
struct PractiseBinaryTests {
    @Test("rehearse: every switch completes, 0 writes lost, one JSON object per line")
    func rehearse() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Binary.run(["rehearse", "--json", "--clients", "2", "--load-between", "1s"], in: directory, deadline: .seconds(120))
        #expect(result.status == 0, "\(result.standardError)\n\(result.standardOutput.suffix(3000))")
        let lines = result.standardOutput.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "every line is a JSON object")
        let finished = objects.filter { $0["event"] as? String == "run-finished" }
        #expect(finished.map { $0["outcome"] as? String } == ["completed", "completed", "completed", "completed"])
        #expect(objects.contains { $0["event"] as? String == "preflight" && $0["can_proceed"] as? Bool == true })
        let report = try #require(objects.last)
        #expect(report["event"] as? String == "report")
        #expect(report["exit_code"] as? Int == 0)
        let sections = try #require(report["sections"] as? [[String: Any]])
        let writes = try #require(sections.first { ($0["title"] as? String)?.hasPrefix("Writes") == true }?["rows"] as? [[String: String]])
        #expect(writes.first?["lost"] == "0")
        #expect(writes.first?["duplicated"] == "0")
        #expect(Int(writes.first?["acknowledged"] ?? "") ?? 0 > 100)
        let switches = try #require(sections.first { $0["title"] as? String == "Switches" }?["rows"] as? [[String: String]])
        #expect(switches.map { $0["switch"] } == ["reader-cutover", "writer-cutover", "writer-failback", "writer-cutover"])
        #expect(switches.dropFirst().allSatisfy { $0["write window"]?.hasSuffix("ms") == true })
        // The canary (#14): one event per switch with its longest gap, and a column in the switch table.
        let canaries = objects.filter { $0["event"] as? String == "canary" }
        #expect(canaries.map { $0["operation"] as? String } == ["reader-cutover", "writer-cutover", "writer-failback", "writer-cutover"])
        #expect(canaries.allSatisfy { ($0["longest_gap_ms"] as? Double ?? $0["longest_gap_ms"].flatMap { $0 as? Int }.map(Double.init) ?? -1) > 0 })
        #expect(canaries.allSatisfy { ($0["acknowledged"] as? Int ?? 0) > 0 })
        #expect(switches.allSatisfy { $0["canary gap"]?.contains("ms") == true })
        // Reads through the application port (query rules: SELECT to the readers, issue #16): none failed, two
        // servers answered (the reader cut-over moved them to "Aurora").
        let notes = report["notes"] as? [String] ?? []
        let reads = try #require(notes.first { $0.hasPrefix("reads through the application port") }, "\(notes)")
        #expect(reads.contains(", 0 failed outside a writer switch"), "\(reads)")
        #expect(reads.components(separatedBy: "server_id ").count == 3, "\(reads)")
    }

    @Test("sandbox up, then preflight, plan and cutover writers with the configuration it wrote, then sandbox down")
    func sandboxFlow() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = directory + "/sandbox"

        let up = Process()
        up.executableURL = URL(fileURLWithPath: try Binary.path())
        up.arguments = ["sandbox", "up", "--state-dir", state]
        up.currentDirectoryURL = URL(fileURLWithPath: directory)
        up.environment = ["PATH": "/usr/bin:/bin", "HOME": directory, "NO_COLOR": "1"]
        let output = directory + "/up.out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        up.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        up.standardError = up.standardOutput
        up.standardInput = FileHandle.nullDevice
        try up.run()
        defer { if up.isRunning { up.terminate() } }

        let start = ContinuousClock.now
        while !FileManager.default.fileExists(atPath: state + "/sandbox.json") {
            guard up.isRunning, ContinuousClock.now - start < .seconds(90) else {
                Issue.record("sandbox up did not become ready: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        // The state file is written before the endpoints are printed: wait (bounded) for them.
        var printed = ""
        let printDeadline = ContinuousClock.now + .seconds(30)
        repeat {
            printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if printed.contains("ProxySQL emulator admin") { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < printDeadline
        #expect(printed.contains("ProxySQL emulator admin"))
        let secrets = try FileManager.default.contentsOfDirectory(atPath: state + "/secrets")
        for name in secrets {
            let password = try String(contentsOfFile: state + "/secrets/" + name, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
            if name.hasSuffix(".password") { #expect(!printed.contains(password), "\(name) printed") }
            let attributes = try FileManager.default.attributesOfItem(atPath: state + "/secrets/" + name)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(name)")
        }

        let config = ["--config", state + "/migrate.yaml"]
        let preflight = try await Binary.run(config + ["preflight"], in: directory)
        #expect(preflight.status == 0, "\(preflight.standardOutput)\(preflight.standardError)")
        let plan = try await Binary.run(config + ["plan", "writer-cutover"], in: directory)
        #expect(plan.status == 0, "\(plan.standardError)")
        #expect(!plan.standardOutput.contains("assumed:"), "every endpoint was read")
        #expect(plan.standardOutput.contains("* [target] CALL mysql.rds_stop_replication"))
        // The canary (#14 item 9), configured like any account: its grants are checked before anything changes.
        let upState = try JSONDecoder().decode(SandboxState.self, from: Data(contentsOf: URL(fileURLWithPath: state + "/sandbox.json")))
        let app = upState.application
        let canary = [
            "--set", "canary.enabled=true", "--set", "canary.host=127.0.0.1", "--set", "canary.port=\(app.port)",
            "--set", "canary.user=\(app.user)", "--set", "canary.password-file=\(state)/\(app.passwordFile)",
            "--set", "canary.database=cutover_load",
        ]
        let refused = try await Binary.run(config + canary + ["cutover", "writers", "--yes"], in: directory)
        #expect(refused.status == 2, "\(refused.standardOutput)\(refused.standardError)")
        #expect(refused.standardError.contains("missing CREATE, DROP on cutover_load.cutover_canary"), "\(refused.standardError)")
        #expect(refused.standardError.contains("nothing was changed"))
        let appPassword = try String(contentsOfFile: state + "/" + app.passwordFile, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
        #expect(!refused.standardError.contains(appPassword) && !refused.standardOutput.contains(appPassword))
        let rootPassword = try String(contentsOfFile: state + "/secrets/source.password", encoding: .utf8).split(separator: "\n").first.map(String.init)
        let grantor = try await MariaDBConnection.connect(
            configuration: MariaDBConnection.Configuration(host: "127.0.0.1", port: upState.source.port, user: "root", password: rootPassword))
        for row in try await grantor.query("SELECT host FROM mysql.user WHERE user = \(app.user)") {
            // At table level: a database-level grant reaches connections ProxySQL already pooled for the account only
            // at their next USE (MariaDB and MySQL cache database privileges per connection).
            try await grantor.run("GRANT CREATE, DROP ON cutover_load.cutover_canary TO \(app.user)@\(row[0].string ?? "%")")
        }
        await grantor.close()
        let cutover = try await Binary.run(config + canary + ["cutover", "writers", "--yes"], in: directory)
        #expect(cutover.status == 0, "\(cutover.standardOutput)\(cutover.standardError)")
        #expect(cutover.standardOutput.contains("writer-cutover") && cutover.standardOutput.contains("completed"))
        #expect(cutover.standardOutput.contains("canary: longest gap"), "\(cutover.standardOutput)")
        #expect(cutover.standardOutput.contains("as the canary account; the number to watch"))
        let status = try await Binary.run(config + ["status", "--json"], in: directory)
        #expect(status.status == 0, "\(status.standardError)")
        #expect(status.standardOutput.contains("\"role\":\"target writer\"") && status.standardOutput.contains("\"runtime\":\"ONLINE\""))
        #expect(status.standardOutput.contains("\"direction\":\"reverse (target → source)\""))
        let failback = try await Binary.run(config + canary + ["failback", "writers", "--yes", "--json"], in: directory)
        #expect(failback.status == 0, "\(failback.standardOutput)\(failback.standardError)")
        let canaryEvents = failback.standardOutput.split(separator: "\n").filter { $0.contains("\"event\":\"canary\"") }
        #expect(canaryEvents.count == 1, "\(failback.standardOutput)")
        #expect(canaryEvents.first?.contains("\"operation\":\"writer-failback\"") == true)
        #expect(canaryEvents.first?.contains("\"longest_gap_ms\":") == true)

        // The helpers, against the same servers.
        let compare = try await Binary.run(config + ["accounts", "compare"], in: directory)
        #expect(compare.status == 0, "\(compare.standardOutput)")
        let rewrite = ["--rewrite-host", "%=127.0.0.%"]
        let missing = try await Binary.run(config + ["accounts", "compare"] + rewrite, in: directory)
        #expect(missing.status == 2)
        #expect(missing.standardOutput.contains("MISSING"))
        let copy = try await Binary.run(config + ["accounts", "copy", "--yes"] + rewrite, in: directory)
        #expect(copy.status == 0, "\(copy.standardOutput)\(copy.standardError)")
        #expect(copy.standardOutput.contains("CREATE USER 'app'@'127.0.0.%' <authentication of 'app'@'%' on the source"))
        #expect(copy.standardOutput.contains("Undo: DROP USER 'app'@'127.0.0.%'"))
        let copied = try await Binary.run(config + ["accounts", "compare"] + rewrite, in: directory)
        #expect(copied.status == 0, "\(copied.standardOutput)")
        let reverse = try await Binary.run(config + ["reverse-user", "create", "--yes", "--host", "127.0.0.1"], in: directory)
        #expect(reverse.status == 0, "\(reverse.standardOutput)\(reverse.standardError)")
        #expect(reverse.standardOutput.contains("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl_reverse'@'127.0.0.1'"))
        #expect(!reverse.standardOutput.contains("more than it needs"))
        let retention = try await Binary.run(config + ["retention", "set", "--hours", "72", "--yes"], in: directory)
        #expect(retention.status == 0, "\(retention.standardOutput)\(retention.standardError)")
        #expect(retention.standardOutput.contains("Undo: migrate-cli retention set --hours 24"))
        let retained = try await Binary.run(config + ["retention", "check", "--json"], in: directory)
        #expect(retained.status == 0)
        #expect(retained.standardOutput.contains("{\"setting\":\"binlog retention hours\",\"value\":\"72\"}"))
        let zones = try await Binary.run(config + ["timezones", "import", "--dry-run"], in: directory)
        #expect(zones.status == 0)
        #expect(zones.standardOutput.contains("mysql_tzinfo_to_sql /usr/share/zoneinfo"))
        // A zone on the source only (kept out of the binlog, so replication does not carry it): check refuses,
        // import copies it, check agrees.
        let sourcePassword = try String(contentsOfFile: state + "/secrets/source.password", encoding: .utf8).split(separator: "\n").first.map(String.init)
        let sandboxState = try JSONDecoder().decode(SandboxState.self, from: Data(contentsOf: URL(fileURLWithPath: state + "/sandbox.json")))
        let source = try await MariaDBConnection.connect(
            configuration: MariaDBConnection.Configuration(host: "127.0.0.1", port: sandboxState.source.port, user: "root", password: sourcePassword))
        for statement: SQLStatement in [
            "SET SESSION sql_log_bin = 0", "INSERT INTO mysql.time_zone (Time_zone_id, Use_leap_seconds) VALUES (1, 'N')",
            "INSERT INTO mysql.time_zone_name (Name, Time_zone_id) VALUES ('Test/Zone', 1)",
            "INSERT INTO mysql.time_zone_transition_type (Time_zone_id, Transition_type_id, `Offset`, Is_DST, Abbreviation) VALUES (1, 0, 3600, 0, 'TST')",
        ] {
            try await source.run(statement)
        }
        await source.close()
        let differ = try await Binary.run(config + ["timezones", "check"], in: directory)
        #expect(differ.status == 2, "\(differ.standardOutput)")
        #expect(differ.standardOutput.contains("migrate-cli timezones import"))
        let imported = try await Binary.run(config + ["timezones", "import", "--yes"], in: directory)
        #expect(imported.status == 0, "\(imported.standardOutput)\(imported.standardError)")
        #expect(imported.standardOutput.contains("INSERT INTO mysql.time_zone_name ... (1 rows copied from the source"))
        let agree = try await Binary.run(config + ["timezones", "check"], in: directory)
        #expect(agree.status == 0, "\(agree.standardOutput)")

        let sandboxStatus = try await Binary.run(["sandbox", "status", "--state-dir", state], in: directory)
        #expect(sandboxStatus.status == 0, "\(sandboxStatus.standardOutput)")

        let down = try await Binary.run(["sandbox", "down", "--state-dir", state], in: directory, deadline: .seconds(90))
        #expect(down.status == 0, "\(down.standardOutput)\(down.standardError)")
        let stopped = ContinuousClock.now
        while up.isRunning, ContinuousClock.now - stopped < .seconds(10) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!up.isRunning)
        #expect(up.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: state))
    }
}
