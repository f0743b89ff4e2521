import Foundation
import InMemoryLogging
import Logging
import MariaDB
import Synchronization
import Testing

@testable import CutoverSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// Two servers from one sandbox: configuration, independence, kill and restart.
@Suite(.integration, .mariaDBSandbox(servers: 2), .serialized)
struct MariaDBSandboxTests {
    @Test func serversAreConfiguredAndDistinct() async throws {
        let sandbox = try SuiteSandbox.require()
        try #require(sandbox.servers.count == 2)
        var seen: [(port: Int, datadir: String, tmpdir: String, socket: String)] = []
        for (index, server) in sandbox.servers.enumerated() {
            #expect(server.serverID == index + 1)
            #expect(server.name == "server\(index + 1)")
            let connection = try await server.connectAsRoot()
            let row = try #require(
                try await connection.queryFirst(
                    """
                    SELECT @@server_id AS server_id, @@gtid_domain_id AS domain, @@log_bin AS log_bin,
                           @@binlog_format AS format, @@log_slave_updates AS slave_updates, @@port AS port,
                           @@bind_address AS bind_address, @@skip_name_resolve AS skip_name_resolve,
                           @@datadir AS datadir, @@tmpdir AS tmpdir, @@socket AS socket,
                           @@character_set_server AS charset, @@log_bin_basename AS binlog_base
                    """
                )
            )
            #expect(try row.decode(Int.self, "server_id") == server.serverID)
            #expect(try row.decode(Int.self, "domain") == server.serverID)
            #expect(try row.decode(Bool.self, "log_bin"))
            #expect(try row.decode(String.self, "format") == "ROW")
            #expect(try row.decode(Bool.self, "slave_updates"))
            #expect(try row.decode(Int.self, "port") == server.port)
            #expect(try row.decode(String.self, "bind_address") == "127.0.0.1")
            #expect(try row.decode(Bool.self, "skip_name_resolve"))
            #expect(try row.decode(String.self, "charset") == "utf8mb4")
            let datadir = try row.decode(String.self, "datadir")
            #expect(datadir.hasPrefix(server.dataDirectory))
            #expect(try row.decode(String.self, "binlog_base").hasPrefix(server.dataDirectory))
            seen.append(
                (
                    server.port, datadir, try row.decode(String.self, "tmpdir"),
                    try row.decode(String.self, "socket")
                )
            )
            // The binary log is on and has a position to replicate from.
            let status = try await connection.queryFirst("SHOW MASTER STATUS")
            #expect(status?["File"]?.string?.hasPrefix("mysql-bin.") == true)
            // Root works over TCP only with the sandbox password; the account has every privilege.
            let grants = try await connection.query("SHOW GRANTS FOR CURRENT_USER()")
            #expect(
                grants.contains { $0[0].string?.contains("GRANT ALL PRIVILEGES ON *.* TO `root`@`127.0.0.1`") == true })
            await connection.close()
        }
        #expect(Set(seen.map(\.port)).count == 2)
        #expect(Set(seen.map(\.datadir)).count == 2)
        #expect(Set(seen.map(\.tmpdir)).count == 2)
        #expect(Set(seen.map(\.socket)).count == 2)
    }

    @Test func serversAreIndependent() async throws {
        let sandbox = try SuiteSandbox.require()
        let first = try await sandbox.servers[0].connectAsRoot()
        let second = try await sandbox.servers[1].connectAsRoot()
        try await first.run("CREATE DATABASE only_on_first")
        let onSecond = try await second.query("SHOW DATABASES LIKE 'only_on_first'")
        #expect(onSecond.isEmpty)
        try await first.run("DROP DATABASE only_on_first")
    }

    @Test func killedServerLosesItsConnectionsAndRestartKeepsDataAndPort() async throws {
        let server = try SuiteSandbox.require().servers[1]
        let (connection, database) = try await server.connectToFreshDatabase(prefix: "restart")
        try await connection.run("CREATE TABLE t (id INT PRIMARY KEY)")
        try await connection.run("INSERT INTO t VALUES (1), (2)")
        let busy = try await server.connectAsRoot()
        let observer = try await server.connectAsRoot()
        let running = Task { try await busy.query("SELECT SLEEP(20)") }
        try await waitUntilRunning(connectionID: busy.connectionID, on: observer, statementPrefix: "SELECT SLEEP")
        let pid = try #require(await server.processID)

        let clock = ContinuousClock()
        let killed = clock.now
        try await server.kill()

        #expect(await server.isRunning == false)
        #expect(Glibc.kill(pid, 0) != 0)  // gone and reaped
        // The running statement fails promptly with a lost connection.
        let runningError = try #require(await running.result.failureAsMariaDBError)
        #expect(clock.now - killed < .seconds(10))  // far below the SLEEP(20); generous for a loaded machine
        #expect(runningError.code == .connectionLost)
        // The idle connection finds out on its next call.
        let idleError = try await #require(throws: MariaDBError.self) { _ = try await connection.query("SELECT 1") }
        #expect(idleError.code == .connectionLost)
        #expect(idleError.isConnectionLost)
        await #expect(throws: SandboxError.self) { try await server.kill() }

        try await server.restart()

        #expect(await server.isRunning)
        let newPID = try #require(await server.processID)
        #expect(newPID != pid)
        // The old connections stay dead: no silent reconnect, even though the server is back.
        #expect(await connection.isUsable == false)
        let stillDead = try await #require(throws: MariaDBError.self) { _ = try await connection.query("SELECT 1") }
        #expect(stillDead.code == .connectionClosed)
        // Same port, same data.
        let fresh = try await server.connectAsRoot(database: database)
        #expect(try await fresh.queryFirst("SELECT @@port AS port")?["port"]?.int == server.port)
        #expect(try await fresh.query("SELECT id FROM t ORDER BY id").map { $0["id"]?.int } == [1, 2])
    }

    @Test func cancellingAQueryOnAFrozenServerFallsBackToClosingTheSocket() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        let observer = try await server.connectAsRoot()
        let pid = try #require(await server.processID)
        let query = Task { try await connection.query("SELECT SLEEP(30)") }
        try await waitUntilRunning(connectionID: connection.connectionID, on: observer, statementPrefix: "SELECT SLEEP")
        // A frozen server accepts TCP connections (the kernel does) but answers nothing, not even KILL QUERY.
        try await freeze(pid)
        let clock = ContinuousClock()
        let cancelled = clock.now
        query.cancel()
        let outcome = await query.result
        let elapsed = clock.now - cancelled
        #expect(Glibc.kill(pid, SIGCONT) == 0)

        let error = try #require(outcome.failureAsMariaDBError)
        #expect(error.code == .cancelled)
        // KILL QUERY gets a second; then the socket is shut down, which makes the connection unusable.
        #expect(elapsed < .seconds(5), "cancel took \(elapsed)")  // a frozen server never answers: bounded, generous under load
        #expect(await connection.isUsable == false)
        let closed = try await #require(throws: MariaDBError.self) { _ = try await connection.query("SELECT 1") }
        #expect(closed.code == .connectionClosed)
        // The server itself is fine once it runs again.
        let fresh = try await server.connectAsRoot()
        #expect(try await fresh.queryFirst("SELECT 1 AS one")?["one"]?.int == 1)
    }

    @Test func deadlineOnAFrozenServerIsKeptToo() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        let pid = try #require(await server.processID)
        try await freeze(pid)
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await Result { try await connection.query("SELECT 1", timeout: .milliseconds(200)) }
        let elapsed = clock.now - started
        #expect(Glibc.kill(pid, SIGCONT) == 0)

        let error = try #require(outcome.failureAsMariaDBError)
        #expect(error.code == .deadlineExceeded)
        #expect(elapsed < .seconds(5), "timeout took \(elapsed)")  // a frozen server never answers: bounded, generous under load
        #expect(await connection.isUsable == false)
    }

    @Test func cleanRestartOfARunningServer() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let (connection, database) = try await server.connectToFreshDatabase(prefix: "clean_restart")
        try await connection.run("CREATE TABLE t (id INT PRIMARY KEY)")
        try await connection.run("INSERT INTO t VALUES (7)")
        let before = try #require(try await connection.queryFirst("SHOW MASTER STATUS")?["File"]?.string)

        try await server.restart()

        let fresh = try await server.connectAsRoot(database: database)
        #expect(try await fresh.queryFirst("SELECT id FROM t")?["id"]?.int == 7)
        // A clean restart rotates to a new binary log file; the old one stays.
        let logs = try await fresh.query("SHOW BINARY LOGS").compactMap { $0["Log_name"]?.string }
        #expect(logs.contains(before))
        #expect(logs.count >= 2)
        // The old session ended with the old server process.
        let lost = try await #require(throws: MariaDBError.self) { _ = try await connection.query("SELECT 1") }
        #expect(lost.code == .connectionLost)
    }
}

/// Extra server options reach every server.
@Suite(
    .integration,
    .mariaDBSandbox(
        servers: 1,
        options: .init(extraServerOptions: [
            "[mysqld]", "# a comment", "innodb_lock_wait_timeout = 7", "max_connections=77", "read-only",
            "--lock-wait-timeout=123",
        ])
    )
)
struct MariaDBSandboxOptionsTests {
    @Test func extraServerOptionsAreApplied() async throws {
        let connection = try await SuiteSandbox.require().servers[0].connectAsRoot()
        let row = try #require(
            try await connection.queryFirst(
                """
                SELECT @@innodb_lock_wait_timeout AS lock_wait, @@max_connections AS max_connections,
                       @@read_only AS read_only, @@lock_wait_timeout AS lock_wait_timeout
                """
            )
        )
        #expect(row["lock_wait"]?.int == 7)
        #expect(row["max_connections"]?.int == 77)
        #expect(row["read_only"]?.bool == true)
        #expect(row["lock_wait_timeout"]?.int == 123)
    }
}

/// Start-up, timing, stop and what is left afterwards.
@Suite(.integration)
struct MariaDBSandboxLifecycleTests {
    @Test func startLogsTheStartupTimeAndStopLeavesNothing() async throws {
        let handler = InMemoryLogHandler()
        let logger = Logger(
            label: "sandbox",
            factory: { label in
                MultiplexLogHandler([handler, StreamLogHandler.standardError(label: label)])
            })
        let sandbox = try await MariaDBSandbox.start(servers: 2, logger: logger)
        var pids: [Int32] = []
        for server in sandbox.servers {
            pids.append(try #require(await server.processID))
            #expect(await server.isRunning)
        }
        let started = try #require(handler.entries.first { $0.message == "sandbox started" })
        #expect(started.level == .info)
        let milliseconds = try #require(started.metadata["sandbox.startup_ms"].flatMap { Int("\($0)") })
        #expect(Int64(milliseconds) == sandbox.startupDuration.milliseconds)
        #expect(started.metadata["sandbox.servers"] == "2")
        let directory = sandbox.directory
        #expect(FileManager.default.fileExists(atPath: directory))

        await sandbox.stop()

        for pid in pids { #expect(Glibc.kill(pid, 0) != 0, "mariadbd \(pid) survived stop()") }
        #expect(!FileManager.default.fileExists(atPath: directory))
        for server in sandbox.servers { #expect(await server.isRunning == false) }
        #expect(handler.entries.contains { $0.message == "sandbox stopped" })
        // Nothing is logged with the password.
        let password = try #require(sandbox.servers[0].rootConfiguration.password)
        #expect(!handler.entries.contains { "\($0.message) \($0.metadata)".contains(password) })
        await sandbox.stop()  // idempotent
    }

    @Test func withMariaDBSandboxStopsAfterAThrow() async throws {
        struct Planned: Error {}
        let captured = Mutex<(String, [Int32])?>(nil)
        await #expect(throws: Planned.self) {
            try await withMariaDBSandbox(servers: 1) { sandbox in
                let pid = try #require(await sandbox.servers[0].processID)
                captured.withLock { $0 = (sandbox.directory, [pid]) }
                throw Planned()
            }
        }
        let (directory, pids) = try #require(captured.withLock { $0 })
        #expect(!FileManager.default.fileExists(atPath: directory))
        for pid in pids { #expect(Glibc.kill(pid, 0) != 0) }
    }
}

/// A server whose owner process dies is killed by its watchdog.
@Suite(.integration)
struct MariaDBSandboxWatchdogTests {
    @Test func serverDiesWithItsOwnerProcess() async throws {
        let owner = try ChildProcess.launch(
            executable: "/bin/sleep",
            arguments: ["60"],
            environment: [:],
            outputPath: "/dev/null"
        )
        let sandbox = try await MariaDBSandbox.start(servers: 1, options: .init(ownerProcessID: owner.pid))
        let server = sandbox.servers[0]
        let pid = try #require(await server.processID)
        // The watchdog loop runs beside the server, in its process group.
        let watchdogs = try processes(inGroup: pid).filter { $0 != pid }
        #expect(!watchdogs.isEmpty)

        owner.send(SIGKILL)
        _ = await owner.waitForExit(timeout: .seconds(5))
        let clock = ContinuousClock()
        let ownerGone = clock.now
        while await server.isRunning, clock.now - ownerGone < .seconds(5) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await server.isRunning == false)
        #expect(clock.now - ownerGone < .seconds(2), "the watchdog took \(clock.now - ownerGone)")
        await sandbox.stop()
        #expect(!FileManager.default.fileExists(atPath: sandbox.directory))
    }
}

/// Leftovers of crashed runs are removed; those of live processes are not. (No server needed.)
@Suite
struct MariaDBSandboxReaperTests {
    @Test func leftoversOfDeadOwnersAreKilledAndRemoved() async throws {
        let root = "/tmp/cutover-reaper-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        // A run whose owner is gone, with a process still running inside it.
        let deadOwner = try ChildProcess.launch(
            executable: "/bin/true", arguments: [], environment: [:], outputPath: "/dev/null")
        _ = await deadOwner.waitForExit(timeout: .seconds(5))
        let crashed = "\(root)/run-\(deadOwner.pid)-crashd"
        try SandboxFiles.createDirectory("\(crashed)/server1/data")
        try SandboxFiles.write("\(deadOwner.pid) 12345\n", to: "\(crashed)/owner")
        let straggler = try ChildProcess.launch(
            executable: "/bin/sh",
            arguments: ["-c", "sleep 30; : \(crashed)/server1/data", "stray-mariadbd"],
            environment: [:],
            outputPath: "/dev/null"
        )
        // A run of this (live) process.
        let live = "\(root)/run-\(getpid())-livexx"
        try SandboxFiles.createDirectory("\(live)/server1")
        try SandboxFiles.writeOwnerFile(in: live)
        // Something else in the root is not ours to touch.
        try SandboxFiles.createDirectory("\(root)/unrelated")

        await SandboxFiles.reapLeftovers(under: root, logger: Logger(label: "test"))

        #expect(await straggler.waitForExit(timeout: .seconds(5)) == .signalled(SIGKILL))
        #expect(!FileManager.default.fileExists(atPath: crashed))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: "\(root)/unrelated"))
    }
}

/// Errors of the sandbox itself.
@Suite
struct MariaDBSandboxErrorTests {
    @Test func missingServerBinaryNamesTheAptPackage() async throws {
        let error = try await #require(throws: SandboxError.self) {
            _ = try await MariaDBSandbox.start(options: .init(serverExecutable: "/nonexistent/mariadbd"))
        }
        #expect(error.code == .serverBinariesMissing)
        #expect(error.description.contains("apt-get install mariadb-server"))
    }

    @Test(.integration)
    func serverThatCannotStartReportsItsErrorLogAndLeavesNothing() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let error = try await #require(throws: SandboxError.self) {
            _ = try await MariaDBSandbox.start(servers: 2, options: .init(extraServerOptions: ["no-such-option=1"]))
        }
        #expect(error.code == .serverStartFailed)
        #expect(error.logTail?.contains("unknown variable 'no-such-option=1'") == true)
        #expect(error.description.contains("no-such-option"))
        #expect(clock.now - started < .seconds(40))
        // The message names the error log, inside the run directory: that directory is gone, and so is every
        // process that mentioned it.
        let logPath = try #require(error.message.split(separator: " ").last.map(String.init))
        #expect(logPath.hasSuffix("/error.log"))
        let runDirectory = URL(fileURLWithPath: logPath).deletingLastPathComponent().deletingLastPathComponent().path
        #expect(URL(fileURLWithPath: runDirectory).lastPathComponent.hasPrefix("run-\(getpid())-"))
        #expect(!FileManager.default.fileExists(atPath: runDirectory))
        // The watchdog shell polls every 0.5 s: give it (with a deadline) the time to notice its server is gone.
        let deadline = clock.now + .seconds(3)
        while !processes(mentioning: runDirectory).isEmpty, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(processes(mentioning: runDirectory).isEmpty)
    }

    @Test func rejectsABadServerCount() async throws {
        let error = try await #require(throws: SandboxError.self) {
            _ = try await MariaDBSandbox.start(servers: 0)
        }
        #expect(error.code == .invalidOptions)
    }
}

// MARK: Process helpers

/// Stops process `pid` with `SIGSTOP` and waits (up to 5 s) until it is stopped (signals are asynchronous).
func freeze(_ pid: Int32, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    #expect(kill(pid, SIGSTOP) == 0, sourceLocation: sourceLocation)
    let deadline = ContinuousClock.now + .seconds(5)
    while ContinuousClock.now < deadline {
        if let stat = SandboxFiles.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")"),
            stat[stat.index(after: close)...].split(separator: " ").first == "T"
        {
            return
        }
        try await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("process \(pid) did not stop", sourceLocation: sourceLocation)
}

/// The pids of the processes in process group `group`.
func processes(inGroup group: Int32) throws -> [Int32] {
    try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { entry -> Int32? in
        guard let pid = Int32(entry), let stat = SandboxFiles.read("/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name: state, ppid, pgrp.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && Int32(fields[2]) == group ? pid : nil
    }
}

/// The pids of the live (not zombie) processes whose command line mentions `path`.
func processes(mentioning path: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> Int32? in
        guard let pid = Int32(entry), let commandLine = SandboxFiles.commandLine(of: pid) else { return nil }
        return commandLine.contains(path) && !SandboxFiles.isZombie(pid) ? pid : nil
    }
}

extension Result where Failure == any Error {
    /// Runs `body` and captures its outcome.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}

/// A server whose port was taken before it could bind it comes up on another port.
@Suite(.integration)
struct MariaDBSandboxPortConflictTests {
    @Test func takenPortIsReplaced() async throws {
        let binaries = try ServerBinaries.locate()
        let root = SandboxFiles.defaultRoot
        let template = try await DataDirectoryTemplateStore.shared.template(
            root: root,
            binaries: binaries,
            timeout: .seconds(120),
            logger: Logger(label: "test")
        )
        let directory = "\(root)/run-\(getpid())-ports\(UInt16.random(in: 0...UInt16.max))"
        try SandboxFiles.createDirectory(directory)
        try SandboxFiles.writeOwnerFile(in: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let squatter = try Listener()
        defer { squatter.close() }

        let (_, server) = try await MariaDBSandbox.startServer(
            index: 0,
            port: squatter.port,
            directory: directory,
            template: template,
            binaries: binaries,
            options: .init(),
            logger: Logger(label: "test")
        )

        #expect(server.port != squatter.port)
        let connection = try await server.connectAsRoot()
        #expect(try await connection.queryFirst("SELECT @@port AS port")?["port"]?.int == server.port)
        await server.stopAndRemove()
        #expect(await server.isRunning == false)
    }
}
