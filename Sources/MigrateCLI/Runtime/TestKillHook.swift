import Cutover
import Foundation
import Synchronization

/// **A test hook**, inert unless the environment variable `MIGRATE_CLI_TEST_SIGKILL` is set: it makes a journaled
/// run (`cutover`, `failback`, `resume`) kill its own process with SIGKILL at an exact point, so that tests can
/// check, on the real binary, that `migrate-cli resume` recovers from a process death after every journal entry.
/// Nothing else reads the variable; without it no hook is installed and nothing changes. Never set it outside tests.
///
/// Values (counted within this process):
/// - `after-entry:N`: right after the N-th journal entry this process wrote is on disk (`fsync`ed).
/// - `after-action:N`: right after the N-th action this process performed returned, before its outcome is
///   journaled (the action took effect, the journal does not say so).
struct TestKillHook: Sendable, Equatable {
    /// The environment variable.
    static let variable = "MIGRATE_CLI_TEST_SIGKILL"

    enum Point: Sendable, Equatable {
        case afterEntry(Int)
        case afterAction(Int)
    }

    let point: Point

    /// The hook the environment asks for: nil when the variable is absent.
    ///
    /// - Throws: ``ConfigurationError`` when the value is malformed (nothing runs then).
    static func from(environment: [String: String]) throws -> TestKillHook? {
        guard let value = environment[variable] else { return nil }
        let malformed = ConfigurationError(
            code: .invalid, field: variable, "must be after-entry:N or after-action:N with N ≥ 1 (a test hook), not \(value)")
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let count = Int(parts[1]), count >= 1 else { throw malformed }
        switch parts[0] {
        case "after-entry": return TestKillHook(point: .afterEntry(count))
        case "after-action": return TestKillHook(point: .afterAction(count))
        default: throw malformed
        }
    }

    /// Says on standard error that the hook is armed, so it is never active unnoticed.
    func announce() {
        let text = "migrate-cli: test hook \(Self.variable) is set (\(point)): this process will kill itself with SIGKILL\n"
        CommandRuntime.writeAll(STDERR_FILENO, text)
    }

    /// The journal observer of `after-entry:N` (nil for the other kind).
    func journalObserver() -> (@Sendable (JournalRecord) -> Void)? {
        guard case .afterEntry(let limit) = point else { return nil }
        let written = Atomic<Int>(0)
        return { _ in
            if written.add(1, ordering: .sequentiallyConsistent).newValue == limit { Self.die() }
        }
    }

    /// `executor`, wrapped for `after-action:N`.
    func wrap(_ executor: any CutoverExecutor) -> any CutoverExecutor {
        guard case .afterAction(let limit) = point else { return executor }
        return DyingExecutor(base: executor, limit: limit)
    }

    /// SIGKILL to this process: no handler, no cleanup, no flush, exactly as `kill -9` from outside.
    static func die() -> Never {
        kill(getpid(), SIGKILL)
        // SIGKILL to oneself is delivered before kill(2) returns; never continue if it somehow was not.
        abort()
    }

    /// Performs actions through `base` and dies after the `limit`-th returned.
    final class DyingExecutor: CutoverExecutor, Sendable {
        let base: any CutoverExecutor
        let limit: Int
        private let performed = Atomic<Int>(0)

        init(base: any CutoverExecutor, limit: Int) {
            self.base = base
            self.limit = limit
        }

        func perform(_ action: CutoverAction, context: CutoverExecutionContext) async
            -> CutoverStepResult
        {
            let result = await base.perform(action, context: context)
            if performed.add(1, ordering: .sequentiallyConsistent).newValue == limit { TestKillHook.die() }
            return result
        }
    }
}
