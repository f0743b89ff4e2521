import Cutover
import CutoverRehearsal
import CutoverSandbox
import CutoverTestSupport
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

extension FaultTests {
    /// The new writer refuses connections right after its ONLINE (#14 item 8): "Aurora" at `max_connections`, made real
    /// by a ``ConnectionHog`` (every new connection to it gets 1040). ProxySQL (the emulator, which shuns as 2.7.1 does)
    /// shuns it within milliseconds; the switch must still complete (the ONLINE's runtime check counts a row intended
    /// ONLINE that shows SHUNNED as loaded), and the watch after the ONLINE must re-load it only once it accepts
    /// connections again, never while it refuses. Under write load: nothing acknowledged lost, never two writers.
    @Suite("New writer shunned after its ONLINE", .faultBed(kinds: FaultBed.kinds))
    struct ShunnedNewWriter {
        let logger = Logger(label: "fault.shunned-new-writer", factory: { _ in SwiftLogNoOpLogHandler() })

        /// The emulator's shun variables for these cases: the "desperate" re-try of a shunned sole writer waits
        /// `shun_recovery_time_sec / 10` = 5 s here (1 s at the defaults), so that on a loaded machine ProxySQL's own
        /// re-try cannot come before the watch (bounded at 3 s once it sees the shun) has decided. The waiting
        /// statements' bound, `connect_timeout_server_max`, is raised with it.
        static let shunVariables = [
            "mysql-shun_recovery_time_sec": "50", "mysql-connect_timeout_server_max": "60000",
        ]

        /// Sets `variables` on the bed's emulator and returns the values to put back.
        static func setVariables(_ variables: [String: String], on bed: FaultBed) async throws -> [String: String] {
            let admin = try await MariaDBConnection.connect(configuration: bed.rehearsal.emulator.adminConfiguration)
            var previous: [String: String] = [:]
            for (name, value) in variables {
                previous[name] = try await admin.queryFirst(
                    "SELECT variable_value FROM global_variables WHERE variable_name = '\(unsafeRaw: name)'")?[0].string
                try await admin.run(
                    "UPDATE global_variables SET variable_value = '\(unsafeRaw: value)' WHERE variable_name = '\(unsafeRaw: name)'")
            }
            try await admin.run("LOAD MYSQL VARIABLES TO RUNTIME")
            await admin.close()
            return previous
        }

        /// Holds the hog between the injection that engages it and whoever releases it.
        final class HogBox: Sendable {
            let hog = Mutex<ConnectionHog?>(nil)
            let releaser = Mutex<Task<Void, any Error>?>(nil)

            func release() async throws {
                if let task = releaser.withLock({ $0 }) { _ = try? await task.value }
                if let hog = hog.withLock({ $0 }) { try await hog.release() }
            }
        }

        /// Engages the hog on "Aurora" (through root, before the window opens: the tool's sessions to it are open
        /// already and keep working).
        static func engageHog(_ bed: FaultBed, into box: HogBox) async throws {
            let hog = try await ConnectionHog.engage(
                ConnectionHog.Configuration(server: bed.target.rootConfiguration),
                logger: Logger(label: "hog", factory: { _ in SwiftLogNoOpLogHandler() }))
            box.hog.withLock { $0 = hog }
            #expect(try await hog.isInForce(), "the hog does not make Aurora refuse connections")
        }

        /// Runs one case on the bed of `server`: the emulator's shun variables set (and put back on every way out), a
        /// writer cut-over under load with the watch given 2 s (a loaded machine still reads the shun before it
        /// ends) and `injections` (made with the case's hog box, released on every way out), which must complete;
        /// `check` gets the result, the watch's report and the node's name; then the bed fails back.
        func runCase(
            _ server: SandboxServerKind, _ name: String,
            injections: (FaultBed, HogBox) -> [Injection],
            check: (FaultCaseResult, ShunnedWriterWatch, String) throws -> Void
        ) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let previous = try await Self.setVariables(Self.shunVariables, on: bed)
            let box = HogBox()
            var policy = FaultPolicies.standard
            policy.shunnedWriterWatch = .seconds(2)
            do {
                let result = try await FaultScenario.run(
                    FaultCase(
                        name: server.faultRow(name), policy: policy, injections: injections(bed, box),
                        expected: .completed, repair: { _ in try await box.release() }),
                    on: bed
                )
                let watch = try #require(result.report.timeline.newWriterWatch, "no watch in the timeline")
                print("SHUNNED-WATCH \(result.name): \(watch.details); longest gap without an acknowledged write: \(result.load.longestGap().map { "\($0)" } ?? "-")")
                try check(result, watch, bed.rehearsal.proxyNodeNames[0])
                try await bed.failBack(logger: logger)
                try await bed.expectStartingState("after failback")
            } catch {
                try? await box.release()
                _ = try? await Self.setVariables(previous, on: bed)
                throw error
            }
            _ = try await Self.setVariables(previous, on: bed)
        }

        @Test("Aurora refuses connections at the ONLINE and accepts them again 600 ms after ProxySQL shunned it: the watch sees it SHUNNED, leaves it while a login is refused, re-loads once a login succeeds; the switch completes, nothing lost", arguments: FaultBed.kinds)
        func recoversOnceItAccepts(server: SandboxServerKind) async throws {
            try await runCase(
                server, "new writer at max_connections at its ONLINE, accepting again 600 ms after the shun",
                injections: { bed, box in
                    [
                        .before(.offlineSoftOld, "hog Aurora's connections; release them 600 ms after the shun") {
                            try await Self.engageHog(bed, into: box)
                            let task = Task {
                                guard
                                    try await firstShun(
                                        of: bed.topology.target.writer,
                                        admin: bed.rehearsal.emulator.adminConfiguration,
                                        deadline: .now + .seconds(60)) != nil
                                else { throw FaultBedError("Aurora's writer row was never SHUNNED") }
                                try await Task.sleep(for: .milliseconds(600))
                                try await box.hog.withLock { $0 }?.release()
                            }
                            box.releaser.withLock { $0 = task }
                        }
                    ]
                }
            ) { result, watch, node in
                #expect(watch.shunnedOn == [node], "\(watch.details)")
                // A login was refused (1040) before the release, and one succeeded after it: only then the re-LOAD.
                #expect(watch.probes.first == false, "\(watch.details)")
                #expect(watch.probes.last == true, "\(watch.details)")
                #expect(watch.reloads.map(\.nodes).first == [node], "\(watch.details)")
                #expect(watch.reloads.allSatisfy { $0.failures.isEmpty }, "\(watch.details)")
                #expect(watch.stillShunned.isEmpty, "\(watch.details)")
                #expect(watch.left?.contains("still refuses") == true, "\(watch.details)")
                #expect(ShunnedWriterRecovery.followUp(watch) == nil)
                // The window is the ONLINE's: the watch ran after it.
                let closed = try #require(result.report.timeline.marks[.windowClosed])
                #expect(watch.reloads.allSatisfy { $0.at > closed })
            }
        }

        @Test("Aurora refuses connections through the whole watch: no re-LOAD (it would be shunned again at once), the switch still completes (a SHUNNED new writer is not a failed ONLINE), and the follow-up names the node", arguments: FaultBed.kinds)
        func leftWhileRefusing(server: SandboxServerKind) async throws {
            try await runCase(
                server, "new writer at max_connections through the watch after its ONLINE",
                injections: { bed, box in
                    [
                        .before(.offlineSoftOld, "hog Aurora's connections") {
                            try await Self.engageHog(bed, into: box)
                        },
                        // After the watch (the next step): Aurora accepts connections again, and ProxySQL's own
                        // re-try brings it back.
                        .before(.stopForwardReplication, "release Aurora's connections") {
                            try await box.release()
                        },
                    ]
                }
            ) { result, watch, node in
                #expect(watch.shunnedOn == [node], "\(watch.details)")
                #expect(watch.reloads.isEmpty, "re-loaded while Aurora refused connections: \(watch.details)")
                #expect(!watch.probes.isEmpty && watch.probes.allSatisfy { !$0 }, "\(watch.details)")
                #expect(watch.stillShunned == [node], "\(watch.details)")
                #expect(result.report.timeline.followUps.contains { $0.contains("still SHUNNED on \(node)") })
            }
        }
    }
}
