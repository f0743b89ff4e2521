import Cutover
import CutoverRehearsal
import CutoverSandbox
import Dispatch
import Foundation
import MariaDB
import ProxySQLAdmin
import Testing

/// The built `migrate-cli`, run as a child process by the process-level fault tests (`swift build` puts it next to
/// the test bundle).
enum MigrateBinary {
    /// The binary's path.
    ///
    /// - Throws: when it was not built.
    static func path() throws -> String {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for directory in candidates {
            let path = directory.appendingPathComponent("migrate-cli").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw FaultBedError(
            "migrate-cli was not built next to the tests (searched \(candidates.map(\.path))); run `swift build` first")
    }

    /// How a child ended, and what it printed.
    struct Exit: Sendable, CustomStringConvertible {
        /// The exit code, or nil when a signal ended it.
        var code: Int32?
        /// The signal that ended it, or nil.
        var signal: Int32?
        var standardOutput: String
        var standardError: String
        var duration: Duration

        var description: String {
            (code.map { "exit \($0)" } ?? "killed by signal \(signal ?? -1)") + " after \(duration)\n"
                + standardOutput.suffix(4000) + "\n" + standardError.suffix(2000)
        }

        /// The `--json` objects printed on standard output.
        var objects: [[String: Any]] {
            standardOutput.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        /// The `run-finished` object of a `--json` run.
        var runFinished: [String: Any]? { objects.last { $0["event"] as? String == "run-finished" } }
    }

    /// A running child. Its output goes to files, read when it has ended.
    final class Child: @unchecked Sendable {
        // Process is not Sendable; it is only touched here, through `lock`.
        private let process: Process
        private let lock = NSLock()
        private let outputPath: String
        private let errorPath: String
        private let started = ContinuousClock.now
        /// The child's pid.
        let pid: Int32

        /// Starts `migrate-cli arguments` in `directory` with only PATH, HOME, NO_COLOR and `environment`.
        init(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try MigrateBinary.path())
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            var base = ["PATH": "/usr/bin:/bin", "HOME": directory, "NO_COLOR": "1"]
            base.merge(environment) { $1 }
            process.environment = base
            let name = UUID().uuidString
            outputPath = directory + "/.stdout-\(name)"
            errorPath = directory + "/.stderr-\(name)"
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
            process.standardInput = FileHandle.nullDevice
            try process.run()
            self.process = process
            self.pid = process.processIdentifier
        }

        /// Sends `signal` to the child.
        func send(_ signal: Int32) {
            lock.withLock { if process.isRunning { _ = kill(pid, signal) } }
        }

        /// Waits for the end (on a thread of its own, never the cooperative pool); after `deadline` the child is
        /// killed and the test fails.
        func wait(deadline: Duration = .seconds(60)) async -> Exit {
            await withCheckedContinuation { continuation in
                DispatchQueue(label: "migrate-binary-wait").async {
                    continuation.resume(returning: self.waitBlocking(deadline: deadline))
                }
            }
        }

        private func waitBlocking(deadline: Duration) -> Exit {
            while lock.withLock({ process.isRunning }) {
                if ContinuousClock.now - started > deadline {
                    _ = kill(pid, SIGKILL)
                    Issue.record("migrate-cli (pid \(pid)) did not end within \(deadline)")
                    break
                }
                Thread.sleep(forTimeInterval: 0.005)
            }
            process.waitUntilExit()
            let duration = ContinuousClock.now - started
            let signaled = process.terminationReason == .uncaughtSignal
            let exit = Exit(
                code: signaled ? nil : process.terminationStatus,
                signal: signaled ? process.terminationStatus : nil,
                standardOutput: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
                standardError: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "",
                duration: duration
            )
            try? FileManager.default.removeItem(atPath: outputPath)
            try? FileManager.default.removeItem(atPath: errorPath)
            return exit
        }
    }

    /// Runs `migrate-cli arguments` to its end.
    static func run(
        _ arguments: [String], in directory: String, environment: [String: String] = [:],
        deadline: Duration = .seconds(60)
    ) async throws -> Exit {
        try await Child(arguments, in: directory, environment: environment).wait(deadline: deadline)
    }
}

/// A directory with a `migrate.yaml` for the fault bed (passwords in 0600 files, never on a command line) and one
/// journal per case.
struct CLIWorkspace: Sendable {
    let directory: String
    var configurationPath: String { directory + "/migrate.yaml" }

    /// Writes the configuration of `bed` with the fault policy (drain 1 s, catch-up 2 s, fence 1 s).
    init(bed: FaultBed) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fault-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(
            atPath: directory + "/secrets", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let rehearsal = bed.rehearsal
        let secrets = [
            "source": bed.source.rootConfiguration.password ?? "",
            "target": rehearsal.auroraShim.adminPassword,
            "proxysql": rehearsal.emulator.configuration.adminPassword,
            "forward": rehearsal.forwardReplicationPassword,
            "reverse": rehearsal.reverseReplicationPassword,
        ]
        for (name, secret) in secrets {
            let path = "\(directory)/secrets/\(name).password"
            let created = FileManager.default.createFile(
                atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
            guard created else { throw FaultBedError("cannot write \(path)") }
        }
        let policy = FaultPolicies.standard
        let yaml = """
            version: 1
            source:
              host: 127.0.0.1
              port: \(bed.source.port)
              user: root
              password-file: secrets/source.password
              reader:
                host: 127.0.0.1
                port: \(bed.source.port)
            target:
              writer:
                host: 127.0.0.1
                port: \(bed.target.port)
              reader:
                host: 127.0.0.1
                port: \(bed.target.port)
              user: \(rehearsal.auroraShim.adminUser)
              password-file: secrets/target.password
            proxysql:
              hostgroups:
                writer: \(Rehearsal.writerHostgroup.rawValue)
                reader: \(Rehearsal.readerHostgroup.rawValue)
              nodes:
                \(Rehearsal.proxyNodeName):
                  host: 127.0.0.1
                  port: \(rehearsal.emulator.adminPort)
                  user: \(rehearsal.emulator.configuration.adminUser)
                  password-file: secrets/proxysql.password
            replication:
              # As the sandbox's own configuration: its servers have no certificates and replicate on loopback
              # (preflight's replication.tls fails `required` against a server with have_ssl = DISABLED).
              forward:
                user: \(Rehearsal.forwardReplicationUser)
                password-file: secrets/forward.password
                tls: disabled
              reverse:
                user: \(Rehearsal.reverseReplicationUser)
                password-file: secrets/reverse.password
                tls: disabled
            policy:
              drain-deadline: \(Self.milliseconds(policy.drainDeadline))ms
              catch-up-deadline: \(Self.milliseconds(policy.catchUpDeadline))ms
              fence-timeout: \(Self.milliseconds(policy.fenceTimeout))ms
              replication-step-timeout: \(Self.milliseconds(policy.replicationStepTimeout))ms
              # The kill points of the process-level suites count this policy's steps; under the default `auto`
              # whether the pin-settle step runs is decided at run time from ProxySQL's query digests.
              auto-increment-pin: keep
            journal:
              path: journal.jsonl
            application:
              users: [\(rehearsal.applicationAccount.username)]

            """
        try yaml.write(toFile: configurationPath, atomically: true, encoding: .utf8)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// `--config` and a journal of its own (`--set journal.path=...`), then `arguments`.
    func arguments(journal: String, _ arguments: [String]) -> [String] {
        ["--config", configurationPath, "--set", "journal.path=\(journal)"] + arguments
    }

    func journalPath(_ name: String) -> String { directory + "/\(name).jsonl" }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
