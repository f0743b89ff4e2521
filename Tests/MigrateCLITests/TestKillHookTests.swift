import Cutover
import Foundation
import Testing

@testable import MigrateCLI

@Suite("The SIGKILL test hook")
struct TestKillHookTests {
    @Test("absent: no hook; after-entry:N and after-action:N parse; anything else is refused, naming the variable")
    func parsing() throws {
        #expect(try TestKillHook.from(environment: [:]) == nil)
        #expect(try TestKillHook.from(environment: ["MIGRATE_CLI_TEST_SIGKILL": "after-entry:7"]) == TestKillHook(point: .afterEntry(7)))
        #expect(try TestKillHook.from(environment: ["MIGRATE_CLI_TEST_SIGKILL": "after-action:11"]) == TestKillHook(point: .afterAction(11)))
        for bad in ["", "7", "after-entry:", "after-entry:0", "after-entry:x", "before-entry:3"] {
            do {
                _ = try TestKillHook.from(environment: ["MIGRATE_CLI_TEST_SIGKILL": bad])
                Issue.record("accepted \(bad)")
            } catch let error as ConfigurationError {
                #expect(error.issues.first?.field == "MIGRATE_CLI_TEST_SIGKILL")
            }
        }
    }

    @Test("the hook's variable is not taken for a misspelt configuration variable")
    func notAConfigurationVariable() throws {
        _ = try Fixture.load(yaml: Fixture.minimalYAML, environment: ["MIGRATE_CLI_TEST_SIGKILL": "after-entry:1"])
        // A real misspelling next to it is still refused.
        let issues = Fixture.issues(yaml: try Fixture.minimalYAML, environment: ["MIGRATE_CLI_TEST_SIGKIL": "after-entry:1"])
        #expect(issues.map(\.field) == ["MIGRATE_CLI_TEST_SIGKIL"])
    }

    @Test("the observer of after-entry:N ignores the first N-1 entries (the N-th kills the process: tested on the binary)")
    func observerCounts() throws {
        let hook = TestKillHook(point: .afterEntry(3))
        let observer = try #require(hook.journalObserver())
        let entry = CutoverJournalEntry(sequence: 1, runID: "r", kind: .runStarted, time: "2026-01-01T00:00:00.000Z", elapsedMicroseconds: 0)
        observer(entry)
        observer(entry)
        #expect(TestKillHook(point: .afterAction(1)).journalObserver() == nil)
    }
}
