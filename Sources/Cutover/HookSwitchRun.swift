import Foundation
public import Logging
import ProxySQLAdmin

#if canImport(Glibc)
import Glibc
#endif

/// What the switch command did.
public struct SwitchCommandResult: Sendable, Hashable {
    /// The exit status, nil when it did not exit by itself (killed at its timeout, or not started).
    public var exitStatus: Int32?
    /// Whether it was killed at its timeout.
    public var timedOut: Bool
    /// Its stdout and stderr, the first 16 KiB.
    public var output: String
    /// Why it could not start, if it did not.
    public var launchError: String?

    /// Creates a result.
    public init(exitStatus: Int32?, timedOut: Bool, output: String, launchError: String? = nil) {
        self.exitStatus = exitStatus
        self.timedOut = timedOut
        self.output = output
        self.launchError = launchError
    }

    /// Exit status 0.
    public var succeeded: Bool { exitStatus == 0 && !timedOut && launchError == nil }
}

/// Runs the operator's switch command.
public protocol SwitchCommandRunning: Sendable {
    /// Runs `command` with `environment`, bounded by `timeout`.
    func run(command: String, environment: [String: String], timeout: Duration) async -> SwitchCommandResult
}

/// Runs the command with `/bin/sh -c`, its output captured in a temporary file; at its timeout SIGTERM (to its
/// process group when it leads one), then SIGKILL 2 s later.
public struct ShellSwitchCommandRunner: SwitchCommandRunning {
    /// Creates a runner.
    public init() {}

    /// The process's environment without passwords (`MYSQL_PWD`, any name containing `PASSWORD`), plus `extra`.
    public static func environment(adding extra: [String: String], base: [String: String]? = nil) -> [String: String] {
        (base ?? ProcessInfo.processInfo.environment).filter { $0.key != "MYSQL_PWD" && !$0.key.uppercased().contains("PASSWORD") }.merging(extra) { $1 }
    }

    public func run(command: String, environment: [String: String], timeout: Duration) async -> SwitchCommandResult {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("switch-\(UUID().uuidString).out").path
        FileManager.default.createFile(atPath: outputPath, contents: nil, attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        guard let handle = FileHandle(forWritingAtPath: outputPath) else {
            return SwitchCommandResult(exitStatus: nil, timedOut: false, output: "", launchError: "cannot create \(outputPath)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = Self.environment(adding: environment)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? handle.close()
            return SwitchCommandResult(exitStatus: nil, timedOut: false, output: "", launchError: "\(error)")
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var timedOut = false
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                timedOut = true
                // The shell's process group too, when it leads one, so its children end with it.
                let pid = process.processIdentifier
                let group = getpgid(pid) == pid
                if group { kill(-pid, SIGTERM) }
                kill(pid, SIGTERM)
                let grace = ContinuousClock.now.advanced(by: .seconds(2))
                while process.isRunning, ContinuousClock.now < grace { try? await Task.sleep(for: .milliseconds(20)) }
                if group { kill(-pid, SIGKILL) }
                if process.isRunning { kill(pid, SIGKILL) }
                break
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        process.waitUntilExit()
        try? handle.close()
        let data = FileManager.default.contents(atPath: outputPath) ?? Data()
        let output = String(decoding: data.prefix(16 * 1024), as: UTF8.self)
        return SwitchCommandResult(
            exitStatus: timedOut ? nil : process.terminationStatus, timedOut: timedOut, output: output)
    }
}

/// The writer switch without ProxySQL over a live ``CutoverEnvironment`` (its ProxySQL cluster is not used): reads
/// the facts, drives ``HookSwitchMachine``, performs each action with the existing database operations (fence,
/// session closing, catch-up wait, replication), runs the command, and journals every step.
public struct HookSwitchRun: Sendable {
    public let environment: CutoverEnvironment
    public let settings: HookSwitch.Settings
    public let policy: CutoverPolicy
    public let commandRunner: any SwitchCommandRunning
    /// How often the new writer's position is read while observing.
    public var observeInterval: Duration = .milliseconds(5)

    /// Creates a run.
    public init(
        environment: CutoverEnvironment, settings: HookSwitch.Settings, policy: CutoverPolicy,
        commandRunner: any SwitchCommandRunning = ShellSwitchCommandRunner()
    ) {
        self.environment = environment
        self.settings = settings
        self.policy = policy
        self.commandRunner = commandRunner
    }

    /// One step as it happened, for progress and the report.
    public struct Step: Sendable, Hashable {
        public var step: StepID
        public var action: String
        public var outcome: String
        public var at: Duration
    }

    /// The end of a run.
    public struct Result: Sendable {
        public var runID: String
        public var outcome: CutoverOutcome
        public var report: HookSwitchMachine.Report
        public var steps: [Step]
        public var command: SwitchCommandResult?
        /// Where the run had stopped, when this is a resume of it (`migrate-cli resume`).
        public var resumedFrom: StepID?
    }

    /// The writers as the applications reach them (the topology's writer rows' endpoints).
    func endpoint(_ role: DatabaseRole) -> HookSwitch.ServerEndpointText {
        let endpoint = environment.topology.routing(role).writer.endpoint
        return HookSwitch.ServerEndpointText(host: endpoint.host, port: endpoint.port)
    }

    /// Reads the guards' facts; what cannot be read becomes a read error, not a thrown error.
    public func readFacts(direction: HookSwitch.Direction, logger: Logger) async -> HookSwitch.Facts {
        let old = environment.database(direction.oldWriter), new = environment.database(direction.newWriter)
        var errors: [String] = []
        var replication: ReplicaHealth?
        var oldFacts: DatabaseSafetyFacts?
        var newFacts: DatabaseSafetyFacts?
        var long: [LongTransaction] = []
        do { replication = try await new.replicaHealth(logger: logger) } catch { errors.append("\(new.name): \(error)") }
        do { oldFacts = try await old.safetyFacts(logger: logger) } catch { errors.append("\(old.name): \(error)") }
        do { newFacts = try await new.safetyFacts(logger: logger) } catch { errors.append("\(new.name): \(error)") }
        do { long = try await old.longWriteTransactions(olderThan: policy.longTransactionLimit, logger: logger) } catch {
            errors.append("\(old.name): \(error)")
        }
        var reverse: ReversePrerequisites.Facts?
        switch await environment.readReversePrerequisites(
            for: direction == .cutover ? .writerCutover : .writerFailback, logger: logger)
        {
        case .unreadable(let why): errors.append(why)
        case .read(let facts): reverse = facts
        }
        var facts = HookSwitch.Facts(
            newWriterReplication: replication, oldWriter: oldFacts, newWriter: newFacts, oldWriterCanFence: old.canFence,
            newWriterCanLiftReadOnly: new.canFence, longTransactions: long, command: settings.command(for: direction),
            readErrors: errors)
        facts.reversePrerequisites = reverse
        return facts
    }

    /// Runs the switch to the end: completed, refused, rolled back, or stopped past the point of no return.
    ///
    /// - Throws: ``CutoverError`` when the journal cannot be written before anything changed, and
    ///   ``CutoverError/Code/unfinishedRun`` when the journal's last run is unfinished (`migrate-cli resume` first).
    public func run(
        direction: HookSwitch.Direction, journal: CutoverJournal?, logger: Logger,
        isStopRequested: @escaping @Sendable () -> Bool = { false },
        progress: @escaping @Sendable (Step) -> Void = { _ in }
    ) async throws -> Result {
        if let journal, let unfinished = journal.unfinishedRunAtOpen {
            throw CutoverRunner.unfinishedRunError(
                unfinished, journalPath: journal.path, unreadableEnd: journal.unfinishedRunEndUnreadable)
        }
        let runID = "switch-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let started = ContinuousClock.now
        if let journal {
            var header = JournalRecord(sequence: 0, runID: runID, kind: .runStarted, time: JournalRecord.now(), elapsedMicroseconds: 0)
            header.policy = policy
            header.topologyFingerprint = environment.topology.fingerprint
            header.hookSwitch = HookSwitchJournalPayload(direction: direction, observeTimeout: settings.observeTimeout)
            try await journal.append(header)
        }
        var machine = HookSwitchMachine(direction: direction, policy: policy, observeTimeout: settings.observeTimeout)
        let first = machine.started()
        return await drive(
            &machine, first: first, runID: runID, elapsed: { ContinuousClock.now - started }, journal: journal,
            logger: logger, isStopRequested: isStopRequested, progress: progress)
    }

    /// Resumes the journal's unfinished switch run (the process died, or the run stopped past the point of no
    /// return): replays it through ``HookSwitchReplay`` and finishes it the way ``HookSwitchMachine`` decides (see
    /// ``HookSwitchMachine/resumeAfterInterruption()``), appending to the same run. The journaled policy and
    /// observation bound apply, and the switch command of the current settings.
    ///
    /// - Throws: ``CutoverError``: ``CutoverError/Code/nothingToResume`` (no unfinished switch run),
    ///   ``CutoverError/Code/journalMismatch`` (the journal does not replay, or was written for another topology),
    ///   ``CutoverError/Code/unsupportedJournalVersion``.
    public func resume(
        entries: [JournalRecord], journal: CutoverJournal?, logger: Logger,
        isStopRequested: @escaping @Sendable () -> Bool = { false },
        progress: @escaping @Sendable (Step) -> Void = { _ in }
    ) async throws -> Result {
        var replay = try Self.replay(entries: entries, topologyFingerprint: environment.topology.fingerprint)
        // The run's clock goes on from its start (the window is measured from the fence, journaled on that clock).
        let startedAt = JournalRecord.date(fromTimestamp: replay.header.time) ?? Date()
        let offset = Duration.milliseconds(Int64(max(0, Date().timeIntervalSince(startedAt)) * 1000))
        let resumed = ContinuousClock.now
        let run = HookSwitchRun(environment: environment, settings: settings, policy: replay.policy, commandRunner: commandRunner)
        var result = await run.drive(
            &replay.machine, first: replay.next, runID: replay.runID, elapsed: { offset + (ContinuousClock.now - resumed) },
            journal: journal, logger: logger, isStopRequested: isStopRequested, progress: progress)
        result.resumedFrom = replay.stoppedAt
        return result
    }

    /// The replay of the unfinished switch run of `entries`, checked against `topologyFingerprint`.
    ///
    /// - Throws: ``CutoverError`` as ``resume(entries:journal:logger:isStopRequested:progress:)``.
    public static func replay(entries: [JournalRecord], topologyFingerprint: String) throws -> HookSwitchReplay {
        guard let run = HookSwitchReplay.unfinishedRun(in: entries) else {
            throw CutoverError(
                code: .nothingToResume, message: "the journal has no unfinished switch run",
                remedy: "nothing to do; `migrate-cli journal show` lists past runs")
        }
        let replay = try HookSwitchReplay(run: run)
        if let journaled = replay.header.topologyFingerprint, journaled != topologyFingerprint {
            throw CutoverError(
                code: .journalMismatch,
                message: "the unfinished switch run \(replay.runID) was started with another topology (\(journaled), now \(topologyFingerprint))",
                remedy: "resume with the configuration that started it")
        }
        return replay
    }

    /// Drives `machine` from `first` to its `finish`, performing and journaling each step.
    func drive(
        _ machine: inout HookSwitchMachine, first: HookSwitchMachine.Action, runID: String,
        elapsed: @escaping @Sendable () -> Duration, journal: CutoverJournal?, logger: Logger,
        isStopRequested: @escaping @Sendable () -> Bool, progress: @escaping @Sendable (Step) -> Void
    ) async -> Result {
        let direction = machine.direction
        var steps: [Step] = []
        var commandResult: SwitchCommandResult?
        var journalFailure: String?
        func entry(_ kind: JournalRecord.Kind) -> JournalRecord {
            var entry = JournalRecord(
                sequence: 0, runID: runID, kind: kind, time: JournalRecord.now(),
                elapsedMicroseconds: Int64(elapsed() / .microseconds(1)))
            entry.hookSwitch = HookSwitchJournalPayload(direction: direction)
            return entry
        }
        func record(
            _ kind: JournalRecord.Kind, _ step: StepID, _ text: String, pastPointOfNoReturn: Bool,
            action: HookSwitchMachine.Action? = nil, event: HookSwitchMachine.Event? = nil
        ) async {
            guard let journal, journalFailure == nil else { return }
            var entry = entry(kind)
            entry.step = step
            entry.hookSwitch?.action = action
            entry.hookSwitch?.event = event
            entry.statements = [ExecutedStatement(endpoint: "switch \(direction)", statement: text)]
            entry.pastPointOfNoReturn = pastPointOfNoReturn
            do { try await journal.append(entry) } catch { journalFailure = "\(error)" }
        }
        var action = first
        while true {
            if case .finish(let outcome) = action {
                if let journal, journalFailure == nil {
                    var last = entry(.runFinished)
                    last.step = "switch.done"
                    last.outcome = outcome
                    last.statements = [ExecutedStatement(endpoint: "switch \(direction)", statement: Self.summary(machine.report))]
                    try? await journal.append(last)
                }
                return Result(runID: runID, outcome: outcome, report: machine.report, steps: steps, command: commandResult)
            }
            if isStopRequested(), !machine.isPastPointOfNoReturn, machine.currentStep.phase == .forward {
                await record(.event, machine.currentStep, "stop requested by the operator", pastPointOfNoReturn: false, event: .stopRequested)
                action = machine.receive(.stopRequested)
                continue
            }
            let step = machine.currentStep
            await record(.action, step, action.description, pastPointOfNoReturn: machine.isPastPointOfNoReturn, action: action)
            let (event, text) = await perform(action, direction: direction, runID: runID, elapsed: elapsed, logger: logger) {
                commandResult = $0
            }
            await record(.event, step, text, pastPointOfNoReturn: machine.isPastPointOfNoReturn, event: event)
            let done = Step(step: step, action: action.description, outcome: text, at: elapsed())
            steps.append(done)
            progress(done)
            action = machine.receive(event)
        }
    }

    /// Whether the new writer's position moved past `after` (its GTID state changed, or its file and offset grew).
    static func moved(_ position: ReplicationCoordinate, after: ReplicationCoordinate, base: BinlogPositionText?) -> Bool {
        if let gtid = position.gtidSet, !gtid.isEmpty, gtid != (after.gtidSet ?? "") { return true }
        guard let base, let now = try? BinlogPositionText(position) else { return false }
        return now > base
    }

    static func summary(_ report: HookSwitchMachine.Report) -> String {
        var parts: [String] = []
        if let window = report.window { parts.append("window \(window) (fence → first write on the new writer)") }
        if report.firstWriteObservedAt == nil, report.switchCommandFinishedAt != nil { parts.append("no write observed on the new writer") }
        if !report.undone.isEmpty { parts.append("undone: " + report.undone.joined(separator: "; ")) }
        parts.append("\(report.sessionsClosed) session(s) closed")
        return parts.joined(separator: ", ")
    }

    private func perform(
        _ action: HookSwitchMachine.Action, direction: HookSwitch.Direction, runID: String,
        elapsed: () -> Duration, logger: Logger, command: (SwitchCommandResult) -> Void
    ) async -> (HookSwitchMachine.Event, String) {
        func failure(_ name: String, _ role: DatabaseRole?, _ error: any Error, mayHaveTakenEffect: Bool = true) -> (HookSwitchMachine.Event, String) {
            let endpoint = role.map { environment.database($0).name }
            let failure = StepFailure(step: name, message: "\(error)", endpoint: endpoint, mayHaveTakenEffect: mayHaveTakenEffect)
            return (.stepFailed(failure), "failed: \(failure)")
        }
        let topology = environment.topology
        switch action {
        case .runGuards:
            return await runGuards(direction: direction, elapsed: elapsed, logger: logger)
        case .fence(let role, let timeout):
            do {
                try await environment.database(role).fence(timeout: timeout, logger: logger)
                return (.fenced(at: elapsed()), "read-only")
            } catch { return failure("fence", role, error) }
        case .closeSessions(let role):
            do {
                let count = try await environment.database(role).closeSessions(users: topology.applicationUsers, logger: logger)
                return (.sessionsClosed(count: count), "\(count) session(s) closed")
            } catch { return failure("close-sessions", role, error) }
        case .readPosition(let role):
            do {
                let position = try await environment.database(role).currentPosition(logger: logger)
                return (.positionRead(role, position), "\(position)")
            } catch { return failure("read-position", role, error, mayHaveTakenEffect: false) }
        case .waitForCatchUp(let role, let coordinate, let timeout):
            do {
                try await environment.database(role).waitForCatchUp(to: coordinate, timeout: timeout, progress: { _ in }, logger: logger)
                return (.caughtUp(at: elapsed()), "executed \(coordinate)")
            } catch { return failure("catch-up", role, error, mayHaveTakenEffect: false) }
        case .stopReplication(let role):
            do {
                try await environment.database(role).stopAndResetReplication(timeout: policy.replicationStepTimeout, logger: logger)
                return (.replicationStopped, "stopped and reset")
            } catch { return failure("stop-replication", role, error) }
        case .setReadOnly(let role, let on):
            do {
                let durability = try await environment.database(role).makeReadOnlyDurable(on, timeout: policy.replicationStepTimeout, logger: logger)
                let lines = durability.optionFileLines
                return (.readOnlySet, "read_only \(on ? "ON" : "OFF")" + (lines.isEmpty ? "" : "; add to the option file: " + lines.joined(separator: ", ")))
            } catch { return failure("set-read-only", role, error) }
        case .startReplication(let role, let from, let coordinate):
            let reverse = role == .source
            do {
                try await environment.database(role).startReplication(
                    from: from == .target ? topology.targetReplicationEndpoint : topology.sourceReplicationEndpoint,
                    user: reverse ? topology.reverseReplicationUser : topology.forwardReplicationUser,
                    password: reverse ? environment.reverseReplicationPassword : environment.forwardReplicationPassword,
                    tls: reverse ? topology.reverseReplicationTLS : topology.forwardReplicationTLS,
                    at: coordinate, timeout: policy.replicationStepTimeout, logger: logger)
                return (.replicationStarted, "replicating from \(from) at \(coordinate)")
            } catch { return failure("start-replication", role, error) }
        case .verifyReplication(let role):
            do {
                try await environment.database(role).verifyReplication(timeout: policy.replicationStepTimeout, logger: logger)
                return (.replicationVerified, "running")
            } catch { return failure("verify-replication", role, error, mayHaveTakenEffect: false) }
        case .liftFence(let role):
            do {
                try await environment.database(role).liftFence(logger: logger)
                return (.fenceLifted, "read_only lifted")
            } catch { return failure("lift-fence", role, error) }
        case .runSwitchCommand(let direction):
            return await runSwitchCommand(direction, runID: runID, elapsed: elapsed, command: command)
        case .observeWrites(let role, let after, let timeout):
            return await observeWrites(role, after: after, timeout: timeout, elapsed: elapsed, logger: logger)
        case .finish:
            preconditionFailure("finish is not performed")
        }
    }

    /// The guards: reads the facts (``readFacts(direction:logger:)``) and lets ``HookSwitch/blockingReasons(_:direction:policy:names:)`` decide.
    private func runGuards(direction: HookSwitch.Direction, elapsed: () -> Duration, logger: Logger) async
        -> (HookSwitchMachine.Event, String)
    {
        let facts = await readFacts(direction: direction, logger: logger)
        let names = (environment.database(direction.oldWriter).name, environment.database(direction.newWriter).name)
        let reasons = HookSwitch.blockingReasons(facts, direction: direction, policy: policy, names: names)
        return (
            .guardsFinished(blockingReasons: reasons, oldAlreadyReadOnly: facts.oldWriterAlreadyReadOnly && !facts.oldWriterCanFence,
                newWriterReadOnly: facts.newWriterReadOnly, at: elapsed()),
            reasons.isEmpty ? "passed" : reasons.map(\.description).joined(separator: "; "))
    }

    /// Runs the operator's switch command for `direction` with the run's variables; its result is reported to
    /// `command` (the journal) and becomes the event.
    private func runSwitchCommand(
        _ direction: HookSwitch.Direction, runID: String, elapsed: () -> Duration, command: (SwitchCommandResult) -> Void
    ) async -> (HookSwitchMachine.Event, String) {
        let variables = HookSwitch.commandEnvironment(
            direction: direction, oldWriter: endpoint(direction.oldWriter), newWriter: endpoint(direction.newWriter), runID: runID)
        let start = elapsed()
        let result = await commandRunner.run(command: settings.command(for: direction), environment: variables, timeout: settings.commandTimeout)
        command(result)
        let end = elapsed()
        let status = result.launchError.map { "could not start: \($0)" }
            ?? (result.timedOut ? "killed at its timeout (\(settings.commandTimeout))" : "exit \(result.exitStatus ?? -1)")
        let text = "\(status); output: \(result.output)"
        if result.succeeded { return (.switchCommandSucceeded(started: start, at: end), text) }
        let failure = StepFailure(
            step: "switch-command", message: status + (result.output.isEmpty ? "" : ": \(result.output.suffix(500))"),
            endpoint: "switch command", mayHaveTakenEffect: true)
        return (.switchCommandFailed(failure, started: start, at: end), text)
    }

    /// Polls `role`'s position until it moves past `after` (the first write on the new writer) or `timeout` passes.
    private func observeWrites(
        _ role: DatabaseRole, after: ReplicationCoordinate, timeout: Duration, elapsed: () -> Duration, logger: Logger
    ) async -> (HookSwitchMachine.Event, String) {
        let database = environment.database(role)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let base = try? BinlogPositionText(after)
        while ContinuousClock.now < deadline {
            if let position = try? await database.currentPosition(logger: logger), Self.moved(position, after: after, base: base) {
                return (.writeObserved(position, at: elapsed()), "first write seen at \(position)")
            }
            try? await Task.sleep(for: observeInterval)
        }
        return (.noWriteObserved(at: elapsed()), "no write within \(timeout)")
    }
}

/// A coordinate's file and offset, compared as the binlog orders them (numeric file suffix, then offset).
struct BinlogPositionText: Equatable, Comparable {
    var fileNumber: Int
    var offset: UInt64

    init(_ coordinate: ReplicationCoordinate) throws {
        guard let dot = coordinate.file.lastIndex(of: "."), let number = Int(coordinate.file[coordinate.file.index(after: dot)...]) else {
            throw CutoverError(code: .executorFailed, message: "binlog file \(coordinate.file) has no numeric suffix")
        }
        fileNumber = number
        offset = coordinate.offset
    }

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.fileNumber, lhs.offset) < (rhs.fileNumber, rhs.offset) }
}
