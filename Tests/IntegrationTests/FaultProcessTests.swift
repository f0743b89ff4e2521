@testable import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import Testing

extension FaultTests {
    /// The real `migrate-cli` process, end to end: the built binary runs writer cut-overs and failbacks on the fault
    /// bed (through a generated `migrate.yaml`) while a write load runs through the ProxySQL emulator. It is killed
    /// with SIGKILL after each journal entry in turn (the test hook `MIGRATE_CLI_TEST_SIGKILL` makes it kill itself
    /// right after the N-th entry is `fsync`ed, or right after the N-th action returned), then `migrate-cli resume`
    /// runs; or it gets SIGINT/SIGTERM in the middle of the write window, or after the point of no return.
    @Suite("migrate-cli killed and interrupted (the built binary)", .faultBed())
    struct ProcessLevel {
        let logger = Logger(label: "fault.process", factory: { _ in SwiftLogNoOpLogHandler() })

        /// Where the child kills itself.
        enum KillPoint: Sendable, Hashable, CustomStringConvertible {
            /// Right after the N-th journal entry (of that process) is on disk.
            case afterEntry(Int)
            /// Right after the N-th action returned, before its outcome is journaled.
            case afterAction(Int)

            var hook: String {
                switch self {
                case .afterEntry(let n): "after-entry:\(n)"
                case .afterAction(let n): "after-action:\(n)"
                }
            }

            var description: String {
                switch self {
                case .afterEntry(let n): "entry \(n)"
                case .afterAction(let n): "action \(n) performed"
                }
            }
        }

        /// The steps of an uninterrupted run of `operation` with the fault policy, in order (raw values, as the
        /// journal names them). Kill points are named by step and resolved through this list, so that a step added
        /// to the machine moves no point to another step.
        static func steps(_ operation: CutoverOperation) -> [String] {
            var policy = FaultPolicies.standard
            policy.autoIncrementPin = .keep  // as the generated migrate.yaml says (CLIWorkspace)
            return CutoverStateMachine.steps(for: operation, policy: policy).map(\.rawValue)
        }

        /// The 1-based number of `step`'s action among the actions of an uninterrupted `operation`.
        static func actionNumber(_ step: String, _ operation: CutoverOperation) -> Int {
            guard let index = steps(operation).firstIndex(of: step) else {
                preconditionFailure("no step \(step) in a \(operation): \(steps(operation))")
            }
            return index + 1
        }

        /// The journal entry that records `step`'s action (run-started is entry 1; then an action and its outcome
        /// per step), or its outcome.
        static func entry(ofAction step: String, _ operation: CutoverOperation) -> Int {
            2 * actionNumber(step, operation)
        }
        static func entry(ofOutcome step: String, _ operation: CutoverOperation) -> Int {
            entry(ofAction: step, operation) + 1
        }

        /// Journal entries of an uninterrupted writer cut-over and failback: run-started, an action and its outcome
        /// per step, run-finished.
        static var cutoverEntries: Int { 2 * steps(.writerCutover).count + 2 }
        static var failbackEntries: Int { 2 * steps(.writerFailback).count + 2 }

        /// The kill points, in order; cut-overs and failbacks alternate (each case ends with its operation
        /// completed). The default covers both sides of the window and of the point of no return (the new writer's
        /// ONLINE, `onlineNew`) and the end; `LONG_TESTS=1` every entry and every action of the cut-over (each also
        /// applied to the failback that follows it).
        static var killPoints: [KillPoint] {
            let cutover = CutoverOperation.writerCutover
            let failback = CutoverOperation.writerFailback
            if LongTests.enabled {
                let entries = (1...cutoverEntries).flatMap { n -> [KillPoint] in
                    [.afterEntry(n), .afterEntry(min(n, failbackEntries))]
                }
                let actionCount = steps(cutover).count
                let failbackActions = steps(failback).count
                let actions = (1...actionCount).flatMap { n -> [KillPoint] in
                    [.afterAction(n), .afterAction(min(n, failbackActions))]
                }
                return entries + actions
            }
            return [
                .afterAction(actionNumber("prepareProxy", cutover)),  // ProxySQL's query retries off, not journaled
                .afterEntry(entry(ofOutcome: "offlineSoftOld", failback)),  // the window is open
                .afterEntry(entry(ofOutcome: "fenceOld", cutover)),  // the old writer fenced (read_only)
                .afterEntry(entry(ofAction: "readNewWriterPosition", failback)),  // the new writer's position to be read
                .afterEntry(entry(ofAction: "onlineNew", cutover) - 1),  // the last outcome before the ONLINE
                .afterAction(actionNumber("onlineNew", failback)),  // ONLINE performed, not journaled
                .afterEntry(entry(ofAction: "onlineNew", cutover)),  // ONLINE journaled, not performed
                .afterEntry(entry(ofOutcome: "onlineNew", failback)),  // ONLINE journaled as done
                .afterEntry(entry(ofOutcome: "startReverseReplication", cutover)),  // reverse replication started
                .afterEntry(failbackEntries - 1),  // failback: the last outcome, before run-finished
                .afterEntry(cutoverEntries - 1),  // cut-over: the last outcome, before run-finished
                .afterEntry(failbackEntries),  // failback: after run-finished (nothing to resume)
            ]
        }

        @Test("killed (SIGKILL) after each journal entry in turn, then `migrate-cli resume`: the result equals an uninterrupted run")
        func killedAfterEachEntry() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let workspace = try CLIWorkspace(bed: bed)
            defer { workspace.remove() }
            let retries = try await bed.queryRetries()
            let load = try WriteLoad(
                configuration: WriteLoad.Configuration(
                    endpoint: bed.rehearsal.writerEndpoint, clients: 4, pauseAfterFailure: .milliseconds(5)),
                logger: logger
            )
            let sampler = RoutingSampler(nodes: bed.proxyNodes)
            let started = ContinuousClock.now
            let (report, (finalOperation, rows)) = try await load.run { load -> (CutoverOperation, [String]) in
                guard try await load.waitForAcknowledgedWrites(100, timeout: .seconds(30)) else {
                    throw FaultBedError("the write load did not start")
                }
                return try await sampler.sampling {
                    var operation = CutoverOperation.writerCutover
                    var rows: [String] = []
                    for (index, point) in Self.killPoints.enumerated() {
                        rows.append(
                            try await killAndResume(
                                operation, point, index: index, workspace: workspace, bed: bed, retries: retries))
                        _ = try await load.waitForMoreAcknowledgedWrites(10, timeout: .seconds(20))
                        operation = operation == .writerCutover ? .writerFailback : .writerCutover
                    }
                    return (operation == .writerCutover ? .writerFailback : .writerCutover, rows)
                }
            }
            let elapsed = ContinuousClock.now - started
            #expect(sampler.summary.violations.isEmpty, "two writers ONLINE: \(sampler.summary.violations)")
            #expect(sampler.summary.totalSamples > 100)
            // Every acknowledged write on the final writer exactly once, and the same rows on the other server.
            let verification = try await bed.expectNoWriteLostOrDoubled(
                report, after: finalOperation, "migrate-cli killed and resumed")
            for row in rows { FaultMatrix.record(row) }
            FaultMatrix.record(
                "| `migrate-cli` SIGKILLed at \(Self.killPoints.count) points, `resume` (\(FaultMatrix.milliseconds(elapsed)) in all) | every resume as expected | - | - | \(verification.acknowledgedCount) | \(verification.lost.count) | \(verification.duplicated.count) | \(sampler.summary.totalSamples) / \(sampler.summary.violations.count) |"
            )
            if finalOperation == .writerCutover {
                let back = try await MigrateBinary.run(
                    workspace.arguments(journal: workspace.journalPath("reset"), ["failback", "writers", "--yes"]),
                    in: workspace.directory)
                #expect(back.code == 0, "reset: \(back)")
            }
            try await bed.expectStartingState("at the end")
        }

        @Test("killed, then the resume killed too: a second `migrate-cli resume` finishes the run")
        func killedWhileResuming() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let workspace = try CLIWorkspace(bed: bed)
            defer { workspace.remove() }
            let journal = workspace.journalPath("twice")
            // The cut-over dies once its ONLINE is journaled; the resume dies after re-issuing it (its second entry:
            // run-started is not repeated, so its entries are the ONLINE action and its outcome).
            let killed = try await MigrateBinary.run(
                workspace.arguments(journal: journal, ["cutover", "writers", "--yes", "--json"]),
                in: workspace.directory,
                environment: ["MIGRATE_CLI_TEST_SIGKILL": "after-entry:\(Self.entry(ofAction: "onlineNew", .writerCutover))"])
            try #require(killed.signal == SIGKILL, "\(killed)")
            let first = try await MigrateBinary.run(
                workspace.arguments(journal: journal, ["resume", "--yes", "--json"]),
                in: workspace.directory, environment: ["MIGRATE_CLI_TEST_SIGKILL": "after-entry:2"])
            try #require(first.signal == SIGKILL, "\(first)")
            let entries = try CutoverJournal.read(path: journal)
            #expect(
                entries.count == Self.entry(ofAction: "onlineNew", .writerCutover) + 2 && entries.last?.kind == .event
                    && entries.last?.step == "onlineNew", "\(entries.count) entries, the last \(entries.last?.step ?? "-")")
            #expect(Set(entries.map(\.runID)).count == 1)
            let second = try await MigrateBinary.run(
                workspace.arguments(journal: journal, ["resume", "--yes", "--json"]), in: workspace.directory)
            #expect(second.code == 0, "\(second)")
            #expect(second.runFinished?["outcome"] as? String == "completed")
            try await bed.expectCutOverState("after the second resume")
            FaultMatrix.record(
                "| `migrate-cli` killed at entry \(Self.entry(ofAction: "onlineNew", .writerCutover)) (`ONLINE` journaled), its `resume` killed after re-issuing the `ONLINE`, `resume` again | \(second.runFinished?["outcome"] as? String ?? "?") (exit \(second.code.map(String.init) ?? "-")) | - | - | - | - | - | - |"
            )
            let back = try await MigrateBinary.run(
                workspace.arguments(journal: journal, ["failback", "writers", "--yes"]), in: workspace.directory)
            #expect(back.code == 0, "failback: \(back)")
            try await bed.expectStartingState("at the end")
        }

        /// One kill point: `operation` killed at `point`, `resume`, and if the resume rolled back the operation run
        /// again. Then the state must be that of a completed `operation`. Returns the matrix row.
        func killAndResume(
            _ operation: CutoverOperation, _ point: KillPoint, index: Int, workspace: CLIWorkspace, bed: FaultBed,
            retries: String
        ) async throws -> String {
            let journal = workspace.journalPath("case-\(index)")
            let command = operation == .writerCutover ? ["cutover", "writers"] : ["failback", "writers"]
            let killed = try await MigrateBinary.run(
                workspace.arguments(journal: journal, command + ["--yes", "--json"]), in: workspace.directory,
                environment: ["MIGRATE_CLI_TEST_SIGKILL": point.hook])
            var label = "\(operation) killed at \(point)"
            try #require(killed.signal == SIGKILL, "\(label): \(killed)")
            #expect(killed.standardError.contains("test hook MIGRATE_CLI_TEST_SIGKILL is set"))
            // The journal as the killed process left it: exactly up to the kill point, its lock file behind.
            let left = try CutoverJournal.read(path: journal)
            switch point {
            case .afterEntry(let n):
                #expect(left.count == n, "\(label): \(left.count) entries")
            case .afterAction(let n):
                #expect(left.count == 2 * n && left.last?.kind == .action, "\(label): \(left.count) entries")
            }
            if let last = left.last {
                label += " (\(last.kind.rawValue)\(last.step.map { " \($0)" } ?? ""))"
            }
            let lockPath = journal + ".lock"
            #expect(FileManager.default.fileExists(atPath: lockPath), "\(label): the killed process left no lock file")
            let finished = left.last?.kind == .runFinished
            // The resume goes forward once the run reached the new writer's ONLINE: every step of the window before
            // it has its outcome journaled (the ONLINE may then have been issued or not); otherwise it rolls back.
            let stepBeforeOnline = operation == .writerCutover ? "readNewWriterPosition" : "unfenceNew"
            let pastOnline = left.contains {
                $0.step == "onlineNew" || ($0.kind == .event && $0.step?.rawValue == stepBeforeOnline)
            }

            // resume: despite the lock file of the dead process.
            let resumed = try await MigrateBinary.run(
                workspace.arguments(journal: journal, ["resume", "--yes", "--json"]), in: workspace.directory)
            let expectedCode: Int32 = finished ? 2 : pastOnline ? 0 : 3
            #expect(resumed.code == expectedCode, "\(label): resume \(resumed)")
            #expect(!FileManager.default.fileExists(atPath: lockPath), "\(label): resume left the lock behind")
            var window = "-"
            var outcome = "nothing to resume (exit 2)"
            if !finished {
                let runFinished = resumed.runFinished
                outcome = "\(runFinished?["outcome"] as? String ?? "?") (exit \(resumed.code.map(String.init) ?? "-"))"
                #expect(runFinished?["outcome"] as? String == (pastOnline ? "completed" : "rolled-back"), "\(label)")
                #expect(runFinished?["exit_code"] as? Int == Int(expectedCode))
                if !pastOnline {
                    #expect(
                        (runFinished?["reason"] as? String)?.contains("interrupted before the point of no return")
                            == true, "\(label): \(runFinished?["reason"] ?? "-")")
                }
                if let ms = (runFinished?["timeline"] as? [String: Any])?["window_ms"] as? Double {
                    window = "\(Int(ms.rounded())) ms"
                }
                // The resume continued the killed run: one run id, ended by its run-finished.
                let after = try CutoverJournal.read(path: journal)
                #expect(Set(after.map(\.runID)).count == 1 && after.last?.kind == .runFinished, "\(label)")
                let started = resumed.objects.first { $0["event"] as? String == "run-started" }
                #expect(started?["run_id"] as? String == left.first?.runID, "\(label): the resume names its run")
            }
            let everything = [killed.standardOutput, killed.standardError, resumed.standardOutput, resumed.standardError,
                (try? String(contentsOfFile: journal, encoding: .utf8)) ?? ""].joined(separator: "\n")
            for secret in bed.cliSecrets {
                #expect(!everything.contains(secret), "\(label): a password in the output or the journal")
            }
            var rerun = "-"
            if !finished, !pastOnline {
                // Rolled back: the starting state of the operation, then it runs again, uninterrupted.
                try await bed.expectRolledBackState(of: operation, "\(label), rolled back")
                #expect(try await bed.queryRetries() == retries, "\(label): query retries not restored")
                let again = try await MigrateBinary.run(
                    workspace.arguments(journal: journal, command + ["--yes", "--json"]), in: workspace.directory)
                #expect(again.code == 0, "\(label): run again: \(again)")
                rerun = "\(again.runFinished?["outcome"] as? String ?? "?") (exit \(again.code.map(String.init) ?? "-"))"
            }
            // As after an uninterrupted run.
            try await bed.expectCompletedState(of: operation, label)
            #expect(try await bed.queryRetries() == retries, "\(label): query retries not restored")
            return "| \(label) | resume: \(outcome); run again: \(rerun) | \(window) | - | - | - | - | - |"
        }

        // MARK: Signals

        @Test("SIGINT during the drain: the run rolls back at once, exit 130, routing restored, nothing lost")
        func interruptDuringDrain() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let workspace = try CLIWorkspace(bed: bed)
            defer { workspace.remove() }
            let retries = try await bed.queryRetries()
            // A client holds a transaction open through ProxySQL: the drain waits for it (up to 5 s).
            let pinned = try await PinnedClient.openTransaction(bed: bed)
            let result = try await interrupt(
                bed: bed, workspace: workspace, name: "interrupted-drain", signal: SIGINT, atStep: "drainOld",
                settings: ["policy.drain-deadline=5s"]
            )
            result.expectRolledBackOnShutdown()
            #expect(result.exit.objects.contains { $0["event"] as? String == "shutdown-requested" })
            // The stop ended the drain: the window did not last until the drain deadline.
            #expect(result.signalToExit < .seconds(4), "from the signal to the exit: \(result.signalToExit)")
            try await bed.expectStartingState("after SIGINT during the drain")
            #expect(try await bed.queryRetries() == retries)
            // The held transaction was never cut: it commits, on the source.
            #expect(await pinned.commit() == nil)
            await pinned.close()
            FaultMatrix.record(result.row("SIGINT to `migrate-cli cutover writers` during the drain (a client holds a transaction)"))
        }

        @Test("SIGTERM during the catch-up: rollback (fence lifted), exit 130, routing restored, nothing lost")
        func terminateDuringCatchUp() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let workspace = try CLIWorkspace(bed: bed)
            defer { workspace.remove() }
            let retries = try await bed.queryRetries()
            // Aurora's applier blocked: the catch-up waits (up to its deadline, 5 s).
            let lock = try await bed.target.connectAsRoot()
            try await lock.run("FLUSH TABLES WITH READ LOCK")
            let result: Interruption
            do {
                result = try await interrupt(
                    bed: bed, workspace: workspace, name: "terminated-catch-up", signal: SIGTERM, atStep: "catchUp",
                    // The replication settle would refuse first (the applier is blocked): skip it, to test the
                    // catch-up inside the window.
                    settings: [
                        "policy.catch-up-deadline=5s", "policy.lag-budget=60s", "policy.replication-settle-deadline=0s",
                    ]
                )
            } catch {
                _ = try? await lock.run("UNLOCK TABLES")
                await lock.close()
                throw error
            }
            try await lock.run("UNLOCK TABLES")
            await lock.close()
            result.expectRolledBackOnShutdown()
            // The stop ended the catch-up wait: the window did not last until the catch-up deadline.
            #expect(result.signalToExit < .seconds(4), "from the signal to the exit: \(result.signalToExit)")
            try await bed.waitForReplica(bed.target, of: bed.source)
            try await bed.expectStartingState("after SIGTERM during the catch-up")
            #expect(try await bed.queryRetries() == retries)
            FaultMatrix.record(result.row("SIGTERM to `migrate-cli cutover writers` during the catch-up (Aurora's applier blocked)"))
        }

        @Test("SIGINT after the point of no return: the step in flight finishes, the durable fence, variables and SAVE still run, exit 5 with the replication steps remaining and the resume command; resume finishes")
        func interruptAfterPointOfNoReturn() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let workspace = try CLIWorkspace(bed: bed)
            defer { workspace.remove() }
            let retries = try await bed.queryRetries()
            // Aurora's procedures sleep like the real ones (1 s before, 2 s after a stop): the step after the point of
            // no return lasts long enough to be interrupted.
            try await bed.setAuroraDelays(true)
            let result: Interruption
            do {
                result = try await interrupt(
                    bed: bed, workspace: workspace, name: "interrupted-after", signal: SIGINT,
                    atStep: "stopForwardReplication", settings: [])
            } catch {
                try? await bed.setAuroraDelays(false)
                throw error
            }
            try await bed.setAuroraDelays(false)
            #expect(result.exit.code == 5, "\(result.exit)")
            let finished = result.exit.runFinished
            #expect(finished?["outcome"] as? String == "stopped-after-point-of-no-return")
            #expect(finished?["reason"] as? String == "shutdown requested")
            // The cheap safety steps ran before the stop (#13 item 9): only reverse replication is left for resume.
            #expect(
                finished?["remaining_steps"] as? [String] == [
                    "proveFenceOld", "startReverseReplication", "verifyReverseReplication",
                ])
            #expect(try await bed.queryRetries() == retries, "query retries not restored before the stop")
            let next = finished?["next"] as? String ?? ""
            #expect(next.contains("migrate-cli resume") && next.contains(workspace.configurationPath), "\(next)")
            // The new writer serves; the old one is fenced; forward replication is stopped, reverse not yet started.
            #expect(try await bed.runtimeWriters(node: bed.rehearsal.emulator.adminConfiguration) == [bed.targetEndpoint])
            #expect(try await bed.readOnly(bed.source))
            #expect(try await bed.replication(bed.target) == nil)
            #expect(try await bed.replication(bed.source) == nil)

            let resumed = try await MigrateBinary.run(
                workspace.arguments(journal: result.journal, ["resume", "--yes", "--json"]), in: workspace.directory)
            #expect(resumed.code == 0, "\(resumed)")
            #expect(resumed.runFinished?["outcome"] as? String == "completed")
            try await bed.expectCutOverState("after resume")
            #expect(try await bed.queryRetries() == retries)
            FaultMatrix.record(result.row("SIGINT to `migrate-cli cutover writers` after the point of no return (stopping forward replication, Aurora's delays on); then `resume`: \(resumed.runFinished?["outcome"] as? String ?? "?")"))
            let back = try await MigrateBinary.run(
                workspace.arguments(journal: result.journal, ["failback", "writers", "--yes"]), in: workspace.directory)
            #expect(back.code == 0, "failback: \(back)")
            try await bed.expectStartingState("at the end")
        }

        /// What an interrupted run did.
        struct Interruption {
            var exit: MigrateBinary.Exit
            var journal: String
            var signalToExit: Duration
            var verification: WriteLoadVerification
            var samples: RoutingSampler.Summary

            /// Checks that the run rolled back because of the signal: exit 130, outcome `rolled-back`, exit status
            /// `interrupted`, reason `shutdown requested`.
            func expectRolledBackOnShutdown(sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(exit.code == 130, "\(exit)", sourceLocation: sourceLocation)
                let finished = exit.runFinished
                #expect(finished?["outcome"] as? String == "rolled-back", sourceLocation: sourceLocation)
                #expect(finished?["exit_status"] as? String == "interrupted", sourceLocation: sourceLocation)
                #expect(
                    finished?["reason"] as? String == "shutdown requested", "\(finished?["reason"] ?? "-")",
                    sourceLocation: sourceLocation)
            }

            func row(_ name: String) -> String {
                let timeline = exit.runFinished?["timeline"] as? [String: Any]
                let window = (timeline?["window_ms"] as? Double).map { "\(Int($0.rounded())) ms" } ?? "-"
                let outcome = "\(exit.runFinished?["outcome"] as? String ?? "?"), exit \(exit.code.map(String.init) ?? "-")"
                return "| \(name) | \(outcome); signal to exit \(FaultMatrix.milliseconds(signalToExit)) | \(window) | \(FaultMatrix.milliseconds(exit.duration)) | \(verification.acknowledgedCount) | \(verification.lost.count) | \(verification.duplicated.count) | \(samples.totalSamples) / \(samples.violations.count) |"
            }
        }

        /// Runs `migrate-cli cutover writers` under write load, sends `signal` once the action of `atStep` is
        /// journaled (and has run for 100 ms), and waits for the end. Checks the writes on the final writer and
        /// the routing samples.
        func interrupt(
            bed: FaultBed, workspace: CLIWorkspace, name: String, signal: Int32, atStep step: String,
            settings: [String]
        ) async throws -> Interruption {
            let journal = workspace.journalPath(name)
            let load = try WriteLoad(
                configuration: WriteLoad.Configuration(
                    endpoint: bed.rehearsal.writerEndpoint, clients: 4, pauseAfterFailure: .milliseconds(5)),
                logger: logger
            )
            let sampler = RoutingSampler(nodes: bed.proxyNodes)
            let (report, (exit, signalToExit)) = try await load.run { load -> (MigrateBinary.Exit, Duration) in
                guard try await load.waitForAcknowledgedWrites(100, timeout: .seconds(30)) else {
                    throw FaultBedError("the write load did not start")
                }
                return try await sampler.sampling {
                    let child = try MigrateBinary.Child(
                        workspace.arguments(
                            journal: journal,
                            settings.flatMap { ["--set", $0] } + ["cutover", "writers", "--yes", "--json"]),
                        in: workspace.directory)
                    let reached = try await Self.waitForAction(step: step, journal: journal, timeout: .seconds(30))
                    if !reached { child.send(SIGKILL) }
                    try #require(reached, "\(name): the run never reached \(step)")
                    try await Task.sleep(for: .milliseconds(100))
                    let signalled = ContinuousClock.now
                    child.send(signal)
                    let exit = await child.wait(deadline: .seconds(60))
                    let exited = ContinuousClock.now
                    _ = try await load.waitForMoreAcknowledgedWrites(50, timeout: .seconds(20))
                    return (exit, exited - signalled)
                }
            }
            #expect(sampler.summary.violations.isEmpty, "\(name): two writers ONLINE: \(sampler.summary.violations)")
            // The writer at the end: Aurora once the run passed the point of no return, the source otherwise.
            let finalWriter = exit.objects.contains { $0["event"] as? String == "point-of-no-return" } ? bed.target : bed.source
            let verification = try await bed.expectNoWriteLostOrDoubled(report, finalWriter: finalWriter, name)
            let everything = exit.standardOutput + exit.standardError
                + ((try? String(contentsOfFile: journal, encoding: .utf8)) ?? "")
            for secret in bed.cliSecrets {
                #expect(!everything.contains(secret), "\(name): a password in the output or the journal")
            }
            return Interruption(
                exit: exit, journal: journal, signalToExit: signalToExit, verification: verification,
                samples: sampler.summary)
        }

        /// Polls the journal until an action of `step` is in it.
        static func waitForAction(step: String, journal: String, timeout: Duration) async throws -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let entries = try? CutoverJournal.read(path: journal),
                    entries.contains(where: { $0.kind == .action && $0.step?.rawValue == step })
                {
                    return true
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            return false
        }
    }
}

extension FaultBed {
    /// `mysql-query_retries_on_failure` in the runtime of the bed's first node.
    func queryRetries() async throws -> String {
        let admin = try await MariaDBConnection.connect(configuration: rehearsal.emulator.adminConfiguration)
        let value = try await admin.queryFirst(
            "SELECT variable_value FROM runtime_global_variables WHERE variable_name = 'mysql-query_retries_on_failure'"
        )?[0].string
        await admin.close()
        return value ?? "?"
    }

    /// Every secret the CLI's configuration points at, and the application's.
    var cliSecrets: [String] {
        [
            source.rootConfiguration.password ?? "", target.rootConfiguration.password ?? "",
            rehearsal.auroraShim.adminPassword, rehearsal.emulator.configuration.adminPassword,
            rehearsal.forwardReplicationPassword, rehearsal.reverseReplicationPassword,
            rehearsal.applicationAccount.password,
        ].filter { $0.count >= 6 }
    }

    /// Re-installs the Aurora stand-in's procedures with or without Aurora's sleeps (same account, same password).
    func setAuroraDelays(_ on: Bool) async throws {
        var options = rehearsal.auroraShim.options
        options.simulatedDelays = on
        options.adminPassword = rehearsal.auroraShim.adminPassword
        _ = try await AuroraProcedureShim.install(on: target, options: options, logger: logger)
    }
}
