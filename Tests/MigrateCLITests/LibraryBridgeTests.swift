import ArgumentParser
import Cutover
import Foundation
import Synchronization
import Testing

@testable import MigrateCLI

/// `LibraryBridge` is the seam between the commands and the library: a command takes its library calls from the
/// bridge it is given, so a fake bridge sees exactly what the command asks for (issue #17: give the bridge a test
/// that uses it).
@Suite struct LibraryBridgeTests {
    struct Sentinel: Error {}

    @Test("`cutover writers --dry-run` plans through the bridge it is given, with the loaded configuration")
    func dryRunGoesThroughTheBridge() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/migrate.yaml"
        try Fixture.minimalYAML.write(toFile: path, atomically: true, encoding: .utf8)
        let seen = Mutex<[(CutoverOperation, String)]>([])
        var bridge = LibraryBridge.live
        bridge.plan = { environment, operation, _ in
            seen.withLock { $0.append((operation, environment.configuration.journalPath)) }
            throw Sentinel()
        }
        bridge.openExecutor = { _ in
            Issue.record("a dry run must not open the live executor")
            throw Sentinel()
        }
        let options = try GlobalOptions.parse(["--config", path, "--json"])
        let runtime = CommandRuntime(options: options, environment: Fixture.passwords, bootstrapsLogging: false)
        let error = await #expect(throws: ExitCode.self) {
            try await OperationCommand.execute(
                .writerCutover, options: options, change: try ChangeOptions.parse(["--dry-run"]), bridge: bridge,
                runtime: runtime)
        }
        // The fake's error is a failure (exit 1), mapped by the command like any library error.
        #expect(error?.rawValue == ExitStatus.failure.code)
        let calls = seen.withLock { $0 }
        #expect(calls.count == 1)
        #expect(calls.first?.0 == .writerCutover)
        // The configuration the command loaded from --config: its journal sits beside that file.
        #expect(calls.first?.1 == directory + "/migrate-journal.jsonl")
    }
}
