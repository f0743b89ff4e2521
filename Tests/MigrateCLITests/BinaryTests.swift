import Foundation
import Testing

@testable import MigrateCLI

/// Runs the built `migrate-cli` binary.
enum Binary {
    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// The binary next to the test bundle (SwiftPM builds it with the tests: the test target depends on it).
    static func path() throws -> String {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        candidates.append(Bundle.module.bundleURL.deletingLastPathComponent())
        for directory in candidates {
            let path = directory.appendingPathComponent("migrate-cli").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw BinaryMissing(searched: candidates.map(\.path))
    }

    struct BinaryMissing: Error, CustomStringConvertible {
        var searched: [String]
        var description: String { "migrate-cli was not built next to the tests (searched \(searched)); run `swift build` first" }
    }

    /// Runs the binary with `arguments` in `directory`, with only `environment` (plus PATH and HOME); kills it after
    /// `deadline`.
    static func run(
        _ arguments: [String],
        in directory: String,
        environment: [String: String] = [:],
        deadline: Duration = .seconds(30)
    ) async throws -> Result {
        // The wait blocks a thread for as long as the child runs: never one of Swift's cooperative threads (two on
        // this machine), which every other test, and the servers they start, need.
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "binary-test-run").async {
                continuation.resume(with: Swift.Result { try runBlocking(arguments, in: directory, environment: environment, deadline: deadline) })
            }
        }
    }

    static func runBlocking(
        _ arguments: [String],
        in directory: String,
        environment: [String: String],
        deadline: Duration
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path())
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var base = ["PATH": "/usr/bin:/bin", "HOME": directory, "NO_COLOR": "1"]
        base.merge(environment) { $1 }
        process.environment = base
        let output = directory + "/.stdout-\(UUID().uuidString)"
        let error = directory + "/.stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        _ = FileManager.default.createFile(atPath: error, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: output)
            try? FileManager.default.removeItem(atPath: error)
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: error))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let start = ContinuousClock.now
        while process.isRunning {
            if ContinuousClock.now - start > deadline {
                process.terminate()
                process.waitUntilExit()
                Issue.record("migrate-cli \(arguments) did not finish within \(deadline)")
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            standardOutput: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: error, encoding: .utf8)) ?? ""
        )
    }
}

@Suite("The built binary", .serialized)
struct BinaryTests {
    @Test("--help exits 0 and lists the commands and exit codes")
    func help() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Binary.run(["--help"], in: directory)
        #expect(result.status == 0)
        for command in ["rehearse", "sandbox", "init", "config", "preflight", "plan", "status", "cutover", "failback", "resume", "journal", "accounts", "reverse-user", "timezones", "retention"] {
            #expect(result.standardOutput.contains("  \(command) "), "\(command)")
        }
        #expect(result.standardOutput.contains("Exit codes:"))
        let sub = try await Binary.run(["cutover", "writers", "--help"], in: directory)
        #expect(sub.status == 0)
        #expect(sub.standardOutput.contains("point of no return"))
    }

    @Test("a usage error exits 64")
    func usage() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Binary.run(["cutover", "sideways"], in: directory)
        #expect(result.status == 64)
    }

    @Test("init writes a file that loads; a second init refuses and leaves it alone")
    func initThenLoad() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try await Binary.run(["init"], in: directory)
        #expect(written.status == 0, "\(written.standardError)")
        let path = directory + "/migrate.yaml"
        let content = try String(contentsOfFile: path, encoding: .utf8)
        #expect(content == ExampleConfiguration.text)

        let shown = try await Binary.run(["--config", "migrate.yaml", "config", "show"], in: directory)
        #expect(shown.status == 0, "\(shown.standardError)")
        #expect(shown.standardOutput.contains("10/10.0.0.5:3306"))

        try "# edited\n".appending(content).write(toFile: path, atomically: true, encoding: .utf8)
        let again = try await Binary.run(["init"], in: directory)
        #expect(again.status == 2)
        #expect(again.standardError.contains("--force"))
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("# edited\n"))

        let forced = try await Binary.run(["init", "--force", "--json"], in: directory)
        #expect(forced.status == 0)
        #expect(forced.standardOutput.hasPrefix("{\"event\":\"written\""))
    }

    @Test("config check reads every password source, printing none")
    func check() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: try Fixture.path("minimal.yaml"), toPath: directory + "/migrate.yaml")
        let missing = try await Binary.run(["config", "check"], in: directory)
        #expect(missing.status == 78)
        #expect(missing.standardError.contains("source.password-env: environment variable TEST_SOURCE_PASSWORD is not set"))
        let good = try await Binary.run(["config", "check"], in: directory, environment: Fixture.passwords)
        #expect(good.status == 0, "\(good.standardError)")
        for password in Fixture.passwords.values {
            #expect(!good.standardOutput.contains(password))
            #expect(!good.standardError.contains(password))
        }
    }

    @Test("bad configuration: exit 78, every field named, nothing written")
    func badConfiguration() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/migrate.yaml"
        try FileManager.default.copyItem(atPath: try Fixture.path("invalid.yaml"), toPath: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for command in [["config", "check"], ["cutover", "writers", "--yes"], ["status"]] {
            let result = try await Binary.run(command + ["--set", "journal.path=\(directory)/journal.jsonl"], in: directory, environment: Fixture.passwords)
            #expect(result.status == 78, "\(command): \(result.standardError)")
            for field in ["source.hots", "target.writer.port", "policy.drain-deadline", "source.password"] {
                #expect(result.standardError.contains(field), "\(command) does not name \(field)")
            }
            #expect(!result.standardError.contains("hunter2"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: directory + "/journal.jsonl"))

        let json = try await Binary.run(["config", "check", "--json"], in: directory)
        #expect(json.status == 78)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "error")
        let fields = (object["issues"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []
        #expect(fields.contains("target.writer.host"))
    }

    @Test("a password given with --set is refused and not echoed")
    func passwordFlag() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: try Fixture.path("minimal.yaml"), toPath: directory + "/migrate.yaml")
        let result = try await Binary.run(["config", "show", "--set", "source.password=hunter2"], in: directory)
        #expect(result.status == 78)
        #expect(result.standardError.contains("never accepted on the command line"))
        #expect(!result.standardError.contains("hunter2") && !result.standardOutput.contains("hunter2"))
    }

    @Test("plan --offline prints every step's statements per endpoint, deterministically, without connecting")
    func planOffline() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: try Fixture.path("minimal.yaml"), toPath: directory + "/migrate.yaml")
        let plan = try await Binary.run(["plan", "writer-cutover", "--offline"], in: directory, environment: Fixture.passwords)
        #expect(plan.status == 0, "\(plan.standardError)")
        #expect(plan.standardOutput.hasPrefix("Plan for writer-cutover (dry run: nothing was sent)"))
        for line in [
            "* [proxysql-1] UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostgroup_id = 10 AND hostname = '10.0.0.5' AND port = 3306",
            "* [proxysql-1] LOAD MYSQL SERVERS TO RUNTIME",
            "* [source] SET GLOBAL super_read_only = ON",
            "* [target] CALL mysql.rds_stop_replication",
            "* [proxysql-1] SAVE MYSQL SERVERS TO DISK",
            "Simulated outcome: completed",
        ] {
            #expect(plan.standardOutput.contains(line), "\(line)")
        }
        for password in Fixture.passwords.values {
            #expect(!plan.standardOutput.contains(password) && !plan.standardError.contains(password))
        }
        let again = try await Binary.run(["plan", "writer-cutover", "--offline"], in: directory, environment: Fixture.passwords)
        #expect(again.standardOutput == plan.standardOutput)
        let json = try await Binary.run(["plan", "writer-failback", "--offline", "--json"], in: directory, environment: Fixture.passwords)
        #expect(json.status == 0)
        let lines = json.standardOutput.split(separator: "\n")
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        #expect(lines.last?.contains("\"simulated_outcome\":\"completed\"") == true)
        // `cutover writers --dry-run` is the same plan and changes nothing: no journal.
        let dryRun = try await Binary.run(
            ["cutover", "writers", "--dry-run", "--set", "source.port=1", "--set", "target.writer.host=127.0.0.1", "--set", "target.writer.port=1",
             "--set", "proxysql.nodes.proxysql-1.host=127.0.0.1", "--set", "proxysql.nodes.proxysql-1.port=1"],
            in: directory, environment: Fixture.passwords)
        #expect(dryRun.status == 0, "\(dryRun.standardError)")
        #expect(dryRun.standardOutput.contains("assumed: source: not read"))
        #expect(dryRun.standardOutput.contains("Simulated outcome: completed"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/migrate-journal.jsonl"))
    }

    @Test("an unreachable endpoint: exit 69 naming it, nothing changed, no journal")
    func unreachable() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: try Fixture.path("minimal.yaml"), toPath: directory + "/migrate.yaml")
        let settings = ["--set", "source.host=127.0.0.1", "--set", "source.port=1", "--set", "source.connect-timeout=1s"]
        for command in [["cutover", "writers", "--yes"], ["preflight"], ["accounts", "compare"]] {
            let result = try await Binary.run(command + settings, in: directory, environment: Fixture.passwords)
            #expect(result.status == 69, "\(command): \(result.standardError)")
            #expect(result.standardError.contains("source (127.0.0.1:1)"), "\(command): \(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/migrate-journal.jsonl"))
    }

    @Test("journal show reads a journal without a configuration")
    func journalShow() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let empty = try await Binary.run(["journal", "show", "--file", "none.jsonl"], in: directory)
        #expect(empty.status == 0)
        #expect(empty.standardOutput.contains("has no run yet"))
        try "not json\n{}\n".write(toFile: directory + "/bad.jsonl", atomically: true, encoding: .utf8)
        let bad = try await Binary.run(["journal", "show", "--file", "bad.jsonl"], in: directory)
        #expect(bad.status == 1)
        #expect(bad.standardError.contains("line 1"))
    }

    /// A line whose event or outcome this version cannot read (another version wrote it, or it was edited) is shown
    /// by `journal show --json` too, with `"unreadable"` saying why (#17); before, it was left out silently while the
    /// human output named it. Readable lines keep their stored shape.
    @Test("journal show --json shows an unreadable line with the reason, readable lines as stored")
    func journalShowJSONUnreadable() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let header = #""elapsedMicroseconds":0,"kind":"run-started","operation":"writer-cutover","runID":"r1","sequence":1,"time":"2026-12-06T11:00:00.000Z""#
        let lines = [
            "{" + header + "}",
            #"{"action":{"runGuards":{"_0":"writer-cutover"}},"elapsedMicroseconds":10,"kind":"action","pastPointOfNoReturn":false,"runID":"r1","sequence":2,"step":"guards","time":"2026-12-06T11:00:00.010Z"}"#,
            #"{"elapsedMicroseconds":20,"event":{"teleported":{"_0":"target"}},"kind":"event","runID":"r1","sequence":3,"statements":[{"endpoint":"target","statement":"SELECT 1"}],"step":"guards","time":"2026-12-06T11:00:00.020Z"}"#,
            #"{"elapsedMicroseconds":30,"kind":"run-finished","outcome":{"paused":{}},"runID":"r1","sequence":4,"time":"2026-12-06T11:00:00.030Z"}"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/j.jsonl", atomically: true, encoding: .utf8)

        let human = try await Binary.run(["journal", "show", "--file", "j.jsonl"], in: directory)
        #expect(human.status == 0, "\(human.standardError)")
        #expect(human.standardOutput.contains("entry 3: its event teleported cannot be read"), "\(human.standardOutput)")

        let result = try await Binary.run(["journal", "show", "--file", "j.jsonl", "--json"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let shown = try result.standardOutput.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? NSDictionary)
        }
        #expect(shown.count == 4, "every line is shown: \(result.standardOutput)")
        guard shown.count == 4 else { return }
        // Readable lines: exactly as stored, no `unreadable` field.
        for index in 0..<2 {
            let stored = try #require(try JSONSerialization.jsonObject(with: Data(lines[index].utf8)) as? NSDictionary)
            #expect(shown[index] == stored, "line \(index + 1): \(shown[index])")
        }
        // The unreadable event: its fields as stored, without the event, with the reason and its sequence number.
        #expect(shown[2]["sequence"] as? Int == 3)
        #expect(shown[2]["kind"] as? String == "event")
        #expect(shown[2]["step"] as? String == "guards")
        #expect(shown[2]["event"] == nil)
        #expect((shown[2]["statements"] as? [Any])?.count == 1)
        let eventReason = try #require(shown[2]["unreadable"] as? String)
        #expect(eventReason.contains("its event teleported cannot be read by this version"), "\(eventReason)")
        // The unreadable outcome of the run's end, likewise.
        #expect(shown[3]["sequence"] as? Int == 4)
        #expect(shown[3]["kind"] as? String == "run-finished")
        #expect(shown[3]["outcome"] == nil)
        #expect((shown[3]["unreadable"] as? String)?.contains("its outcome paused cannot be read") == true, "\(shown[3])")
    }
}
