import Cutover
import Dispatch
import Foundation
import Logging
import Synchronization

/// Runs one cut-over, failback or resume: builds the runner from the configuration and the executor, journals it,
/// renders its events as they come, relays SIGINT/SIGTERM as a graceful shutdown, and maps the outcome to an exit
/// status. The behaviour is all in the library's runner and executor; this only wires them.
struct OperationSession: Sendable {
    var environment: CommandEnvironment
    var executor: any CutoverExecutor
    var context: RunContext
    /// Whether to journal (live runs) or not (dry runs).
    var journaled: Bool
    /// Whether to relay SIGINT/SIGTERM to the runner (off in tests).
    var relaysSignals: Bool = true
    /// The SIGKILL test hook (`MIGRATE_CLI_TEST_SIGKILL`); nil, and inert, unless that variable is set.
    var killHook: TestKillHook? = nil
    /// Whether the output is JSON Lines (`--json`): the canary's report is then a `canary` event.
    var json: Bool = false
    /// Where rendered text goes.
    var output: @Sendable (String) -> Void
    var makeRenderer: @Sendable (RunContext) -> any ProgressRendering

    /// Runs `operation` from the start.
    func run(_ operation: CutoverOperation) async throws -> (CutoverReport, ExitStatus) {
        let journal = journaled ? try openJournal() : nil
        let runner = makeRunner(operation, journal: journal)
        do {
            // The canary (when configured) only around live runs: a dry run writes nothing.
            let result = journaled
                ? try await withCanary(operation) { try await drive(runner) { try await runner.run() } }
                : try await drive(runner) { try await runner.run() }
            await journal?.close()
            return result
        } catch {
            await journal?.close()
            throw error
        }
    }

    /// Resumes the unfinished run of the configured journal.
    ///
    /// - Throws: ``CutoverError`` (``CutoverError/Code/nothingToResume``, ``CutoverError/Code/journalMismatch``,
    ///   ``CutoverError/Code/journalLocked``).
    func resume() async throws -> (CutoverReport, ExitStatus) {
        let path = environment.configuration.journalPath
        let journal = try openJournal()
        do {
            let entries = try CutoverJournal.read(path: path)
            guard let run = CutoverJournal.unfinishedRun(in: entries), let operation = run.first?.operation else {
                throw CutoverError(
                    code: .nothingToResume,
                    message: "the journal \(path) has no unfinished run",
                    remedy: "nothing to do; `migrate-cli journal show` lists past runs"
                )
            }
            let runner = makeRunner(operation, journal: journal, runID: run.first?.runID)
            let result = try await drive(runner) { try await runner.resume(from: entries) }
            await journal.close()
            return result
        } catch {
            await journal.close()
            throw error
        }
    }

    private func openJournal() throws -> CutoverJournal {
        try CutoverJournal(path: environment.configuration.journalPath, didAppend: killHook?.journalObserver())
    }

    private func makeRunner(_ operation: CutoverOperation, journal: CutoverJournal?, runID: String? = nil) -> CutoverRunner {
        CutoverRunner(
            configuration: CutoverRunner.Configuration(
                operation: operation,
                policy: environment.configuration.policy,
                topologyFingerprint: environment.configuration.topology.fingerprint
            ),
            executor: killHook?.wrap(executor) ?? executor,
            journal: journal,
            logger: environment.logger,
            runID: runID
        )
    }

    /// Renders the runner's events while `start` runs, relays signals, and returns the report and exit status.
    private func drive(
        _ runner: CutoverRunner,
        _ start: @Sendable @escaping () async throws -> CutoverReport
    ) async throws -> (CutoverReport, ExitStatus) {
        let (signals, signalContinuation) = AsyncStream.makeStream(of: Int32.self)
        let relay = relaysSignals ? await SignalRelay.install(signals: [SIGINT, SIGTERM]) { signalContinuation.yield($0) } : nil
        // A dropped SSH session (SIGHUP) must not kill the run mid-window: it goes on, and its outcome is in the
        // journal (`migrate-cli status`, `journal show`). SIGPIPE is ignored for the whole process (`main`).
        let hangup = relaysSignals ? HangupShield() : nil
        defer {
            relay?.cancel()
            hangup?.restore()
            signalContinuation.finish()
        }
        let context = context
        let output = output
        let makeRenderer = makeRenderer
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                var renderer = makeRenderer(context)
                var interrupted = false
                for await event in runner.events {
                    if case .shutdownRequested = event { interrupted = true }
                    output(renderer.render(event))
                }
                output(renderer.finish())
                return interrupted
            }
            group.addTask {
                var count = 0
                for await _ in signals {
                    count += 1
                    await runner.requestGracefulShutdown()
                    if count > 1 {
                        CommandRuntime.writeAll(STDERR_FILENO, "migrate-cli: already stopping safely (the step in flight finishes first); SIGKILL would leave work half done\n")
                    }
                }
                return false
            }
            do {
                let report = try await start()
                signalContinuation.finish()
                var interrupted = false
                for try await sawShutdown in group { interrupted = interrupted || sawShutdown }
                return (report, ExitStatus.of(report.outcome, interrupted: interrupted))
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}

/// Runs `body`; the first SIGINT or SIGTERM cancels it (structured cancellation: the library cleans up, for example
/// the rehearsal stops its servers), and the call then throws `CancellationError` (exit code 130).
func cancellingOnInterrupt<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
    let relay = await SignalRelay.install(signals: [SIGINT, SIGTERM]) { continuation.yield($0) }
    defer {
        relay.cancel()
        continuation.finish()
    }
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            for await _ in signals {
                CommandRuntime.writeAll(STDERR_FILENO, "migrate-cli: interrupted; cleaning up\n")
                throw CancellationError()
            }
            return nil
        }
        defer { group.cancelAll() }
        while let result = try await group.next() {
            if let value = result { return value }
        }
        throw CancellationError()
    }
}

/// Relays POSIX signals to a handler through Dispatch, replacing their default action while it is installed, so an
/// operator's Ctrl-C becomes a graceful shutdown instead of killing the process between two steps.
///
/// On Linux, Dispatch installs its own handler when a source is registered, which happens asynchronously:
/// ``install(signals:handler:)`` waits for every registration so no early signal takes the default action.
final class SignalRelay: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let signals: [Int32]
    private static let queue = DispatchQueue(label: "migrate-cli.signals")

    private init(signals: [Int32], sources: [any DispatchSourceSignal]) {
        self.signals = signals
        self.sources = sources
    }

    /// Starts relaying `signals` to `handler`; returns once every source is registered.
    static func install(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) async -> SignalRelay {
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            #if canImport(Darwin)
            // Darwin's signal sources use kqueue, beside the signal disposition: ignore the default action so the
            // process survives. On Linux, Dispatch takes the signal with its own handler.
            signal(number, SIG_IGN)
            #endif
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(number) }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                source.setRegistrationHandler { continuation.resume() }
                source.resume()
            }
            sources.append(source)
        }
        return SignalRelay(signals: signals, sources: sources)
    }

    /// Stops relaying.
    func cancel() {
        for source in sources { source.cancel() }
        #if canImport(Darwin)
        for number in signals { signal(number, SIG_DFL) }
        #endif
    }
}

/// Renders a dry run: each step, and under it the exact statements per endpoint (secrets masked, changes marked `*`).
enum PlanRenderer {
    static func human(_ plan: DryRunPlan, style: TerminalStyle) -> String {
        var text = style.bold("Plan for \(plan.operation)") + " (dry run: nothing was sent)\n"
        for assumption in plan.assumptions {
            text += style.yellow("assumed: ") + assumption + "\n"
        }
        var markedPoint = false
        for step in plan.steps {
            if step.pastPointOfNoReturn, !markedPoint {
                markedPoint = true
                text += style.bold("     --- point of no return: from here the run only moves forward ---") + "\n"
            }
            text += "\(String(step.index).leftPadded(to: 3)). \(step.action)  → \(step.outcome)\n"
            for statement in step.statements {
                let marker = statement.isChange ? "*" : " "
                text += "     \(marker) [\(statement.endpoint)] \(statement.text)"
                    + (statement.repeatsPerRow ? style.dim("  (once per row found)") : "") + "\n"
            }
        }
        text += "Simulated outcome: \(outcomeName(plan.outcome))\n"
        let changes = plan.steps.flatMap(\.statements).filter(\.isChange)
        text += "\(changes.count) changing statement(s) on \(Set(changes.map(\.endpoint)).count) endpoint(s); "
            + "* marks a change, <placeholders> are read during the run\n"
        return text
    }

    static func json(_ plan: DryRunPlan) -> String {
        var lines: [String] = []
        for assumption in plan.assumptions {
            lines.append(JSONValue.object([("event", "plan-assumption"), ("message", .string(assumption))]).serialized)
        }
        for step in plan.steps {
            lines.append(JSONValue.object([
                ("event", "plan-step"), ("index", .int(Int64(step.index))), ("action", .string(step.action)),
                ("outcome", .string(step.outcome)), ("past_point_of_no_return", .bool(step.pastPointOfNoReturn)),
                ("statements", .array(step.statements.map {
                    .object([
                        ("endpoint", .string($0.endpoint)), ("statement", .string($0.text)), ("changes", .bool($0.isChange)),
                        ("once_per_row", .bool($0.repeatsPerRow)),
                    ])
                })),
            ]).serialized)
        }
        lines.append(JSONValue.object([
            ("event", "plan-finished"), ("operation", .string(plan.operation.rawValue)), ("steps", .int(Int64(plan.steps.count))),
            ("simulated_outcome", .string(outcomeName(plan.outcome))),
        ]).serialized)
        return lines.joined(separator: "\n") + "\n"
    }

    static func outcomeName(_ outcome: CutoverOutcome) -> String {
        switch outcome {
        case .completed: "completed"
        case .refused(let reasons): "refused (" + reasons.map(\.check).joined(separator: ", ") + ")"
        case .rolledBack: "rolled back"
        case .stoppedAfterPointOfNoReturn: "stopped after the point of no return"
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
