public import Logging
public import MariaDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One MariaDB server of a ``MariaDBSandbox``: a local `mariadbd` on 127.0.0.1 with its own directory (data,
/// `tmpdir`, socket, pid file, error log), its own port and `server_id`.
///
/// It runs with the binary log on (`mysql-bin`, ROW format, `log_slave_updates`), `gtid_domain_id` equal to its
/// `server_id`, and a `root` account reachable over TCP with a random password (see ``rootConfiguration``).
/// It is stopped, and its directory removed, by ``MariaDBSandbox/stop()``.
public actor SandboxServer {
    /// A short name for messages and logs (`server1`, `server2`, ...).
    public nonisolated let name: String
    /// The server's `server_id` (1, 2, ... in sandbox order); also its `gtid_domain_id`.
    public nonisolated let serverID: Int
    /// The TCP port on 127.0.0.1. It stays the same across ``restart()``.
    public nonisolated let port: Int
    /// The server's own directory (holding `data`, `tmp`, the socket, the pid file and `error.log`).
    public nonisolated let directory: String
    /// The data directory (`datadir`).
    public nonisolated let dataDirectory: String
    /// The server's error log.
    public nonisolated let errorLogPath: String
    /// The Unix socket the server listens on besides TCP.
    public nonisolated let socketPath: String
    /// The server's own option file (`my.cnf` in its directory), read at every start and nothing else from the
    /// host: an operator's edits (see ``setOptionFileLines(_:)``) take effect at the next ``restart()``.
    public nonisolated let optionFilePath: String
    /// Which server this is (MariaDB or MySQL).
    public nonisolated let kind: SandboxServerKind

    private nonisolated let rootPassword: String
    private let arguments: [String]
    private let binaries: ServerBinaries
    private let options: MariaDBSandbox.Options
    private let logger: Logger
    private var process: ChildProcess?
    private var removed = false

    init(
        name: String,
        serverID: Int,
        port: Int,
        directory: String,
        rootPassword: String,
        binaries: ServerBinaries,
        options: MariaDBSandbox.Options,
        logger: Logger
    ) {
        self.name = name
        self.serverID = serverID
        self.port = port
        self.directory = directory
        self.dataDirectory = "\(directory)/data"
        self.errorLogPath = "\(directory)/error.log"
        self.socketPath = "\(directory)/mysqld.sock"
        self.optionFilePath = "\(directory)/my.cnf"
        self.kind = binaries.kind
        self.rootPassword = rootPassword
        self.binaries = binaries
        self.options = options
        self.arguments = ServerSettings.serverArguments(
            kind: binaries.kind,
            directory: directory,
            serverID: serverID,
            port: port,
            extraOptions: options.extraServerOptions
        )
        var logger = logger
        logger[metadataKey: "sandbox.server"] = "\(name)"
        logger[metadataKey: "sandbox.port"] = "\(port)"
        self.logger = logger
    }

    deinit {
        // A safety net only: ``MariaDBSandbox/stop()`` is the way to stop a server.
        if let process, process.isRunning { process.sendToGroup(SIGKILL) }
    }

    // MARK: Connecting

    /// Settings for `root` over TCP to 127.0.0.1 (all privileges, with grant option).
    public nonisolated var rootConfiguration: MariaDBConnection.Configuration {
        configuration(user: "root", password: rootPassword)
    }

    /// Settings for another account on this server (same endpoint).
    public nonisolated func configuration(
        user: String,
        password: String?,
        database: String? = nil
    ) -> MariaDBConnection.Configuration {
        MariaDBConnection.Configuration(
            host: "127.0.0.1", port: port, user: user, password: password, database: database)
    }

    /// Opens a connection as `root`.
    ///
    /// - Throws: `MariaDBError` when the server cannot be reached.
    public nonisolated func connectAsRoot(
        database: String? = nil,
        logger: Logger = Logger(label: "sandbox", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> MariaDBConnection {
        var configuration = rootConfiguration
        configuration.database = database
        return try await MariaDBConnection.connect(configuration: configuration, logger: logger)
    }

    // MARK: State

    /// Whether the server process is running.
    public var isRunning: Bool { process?.isRunning ?? false }

    /// The pid of the running `mariadbd`, nil when it is not running.
    public var processID: Int32? {
        guard let process, process.isRunning else { return nil }
        return process.pid
    }

    // MARK: Option file

    /// The header of the option file; lines set with ``setOptionFileLines(_:)`` follow it.
    static let optionFileHeader = """
        # The sandbox server's option file: read at start (--defaults-file); the command line adds the rest.
        [mysqld]

        """

    /// The lines of the option file's `[mysqld]` section (what an operator added).
    public nonisolated var optionFileLines: [String] {
        let text = SandboxFiles.read(optionFilePath) ?? Self.optionFileHeader
        return text.dropFirst(Self.optionFileHeader.count).split(separator: "\n").map(String.init)
    }

    /// Replaces the lines of the option file's `[mysqld]` section (an operator editing `my.cnf`); the server reads
    /// them at its next start.
    ///
    /// - Throws: ``SandboxError`` when the file cannot be written.
    public nonisolated func setOptionFileLines(_ lines: [String]) throws {
        try SandboxFiles.write(
            Self.optionFileHeader + lines.map { $0 + "\n" }.joined(), to: optionFilePath)
    }

    // MARK: Faults

    /// Kills the server with `SIGKILL` (a crash, for fault tests) and waits until it is gone. Its data directory
    /// stays; ``restart()`` brings it back.
    ///
    /// - Throws: ``SandboxError/Code/serverNotRunning`` when it is not running;
    ///   ``SandboxError/Code/serverStopFailed`` when it is still there 5 seconds later.
    public func kill() async throws {
        guard let process, process.isRunning else {
            throw SandboxError(code: .serverNotRunning, message: "the server is not running", serverName: name)
        }
        // The whole group: the server and its watchdog loop.
        process.sendToGroup(SIGKILL)
        guard await process.waitForExit(timeout: .seconds(5)) != nil else {
            throw SandboxError(
                code: .serverStopFailed, message: "the server survived SIGKILL for 5 s", serverName: name)
        }
        processEnded(process)
        logger.info("sandbox server killed")
    }

    /// Stops the server (cleanly, with `SIGTERM`, when it runs) and starts it again on the same data directory
    /// and port, waiting until it accepts connections.
    ///
    /// - Throws: ``SandboxError`` (``SandboxError/Code/serverStartFailed`` with the error log's tail when it does
    ///   not come back, for example because another process took its port in the meantime).
    public func restart() async throws {
        guard !removed else {
            throw SandboxError(code: .serverNotRunning, message: "the sandbox was stopped", serverName: name)
        }
        try await shutDown()
        try await start(retryingPortConflicts: false)
        logger.info("sandbox server restarted")
    }

    // MARK: Internal lifecycle

    /// Copies the template into the server's directory (first start only).
    func prepareDirectory(from template: DataDirectoryTemplate) async throws {
        let started = ContinuousClock.now
        try SandboxFiles.createDirectory("\(directory)/tmp")
        try await SandboxFiles.copyTree(template.dataDirectory, to: dataDirectory)
        // MySQL makes its server_uuid at first start when auto.cnf is missing: each copy gets its own.
        unlink("\(dataDirectory)/auto.cnf")
        logger.debug(
            "sandbox data directory copied",
            metadata: ["sandbox.duration_ms": "\((ContinuousClock.now - started).milliseconds)"]
        )
    }

    /// Launches the server and waits until `root` can log in over TCP.
    ///
    /// - Parameter retryingPortConflicts: when true, a start that fails because the port is taken throws a
    ///   ``PortConflict`` so the sandbox can retry with another port.
    func start(retryingPortConflicts: Bool) async throws {
        precondition(process == nil || process?.isRunning == false, "start() on a running server")
        let started = ContinuousClock.now
        let startOffset = Self.fileSize(errorLogPath)
        if SandboxFiles.read(optionFilePath) == nil { try setOptionFileLines([]) }
        let process = try ChildProcess.launch(
            executable: "/bin/sh",
            arguments: ["-c", ServerSettings.watchdogScript, "sandbox-watchdog", "\(options.ownerProcessID)"]
                + [binaries.server, "--defaults-file=\(optionFilePath)"] + arguments,
            environment: ServerSettings.environment,
            outputPath: "\(directory)/console.log"
        )
        self.process = process
        SandboxRegistry.shared.registerProcessGroup(process.pid)

        let deadline = ContinuousClock.now + options.startupTimeout
        var configuration = rootConfiguration
        configuration.connectTimeout = .seconds(1)
        var firstDenied: ContinuousClock.Instant?
        while true {
            if let termination = process.poll() {
                processEnded(process)
                let log = Self.read(errorLogPath, from: startOffset)
                if retryingPortConflicts, Self.isPortConflict(log) { throw PortConflict() }
                throw SandboxError(
                    code: .serverStartFailed,
                    message: "\(kind.serverProgramName) exited while starting (\(termination)); error log: \(errorLogPath)",
                    serverName: name,
                    logTail: Self.lastLines(of: log)
                )
            }
            do {
                let connection = try await MariaDBConnection.connect(configuration: configuration)
                await connection.close()
                break
            } catch let error as MariaDBError where error.isAccessDenied {
                // Either our server refuses root (nothing will change by waiting), or another sandbox's server holds
                // the port (its root has another password) and ours is about to exit with "Address already in use"
                // (then the poll above reports a port conflict and the sandbox retries with another port). Give our
                // process a few seconds to tell which.
                let now = ContinuousClock.now
                let since = firstDenied ?? now
                firstDenied = since
                if now - since >= Self.accessDeniedGrace {
                    await forceStop(process)
                    throw SandboxError(
                        code: .serverStartFailed,
                        message: "the server on port \(port) refused the sandbox root account for "
                            + "\(Self.accessDeniedGrace) (is another server listening on that port?)",
                        serverName: name,
                        underlying: error
                    )
                }
            } catch {
                // Not listening yet.
            }
            if ContinuousClock.now >= deadline || Task.isCancelled {
                await forceStop(process)
                if Task.isCancelled { throw CancellationError() }
                throw SandboxError(
                    code: .serverStartFailed,
                    message: "\(kind.serverProgramName) did not accept connections within \(options.startupTimeout); "
                        + "error log: \(errorLogPath)",
                    serverName: name,
                    logTail: Self.lastLines(of: Self.read(errorLogPath, from: startOffset))
                )
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.debug(
            "sandbox server ready",
            metadata: [
                "sandbox.pid": "\(process.pid)",
                "sandbox.duration_ms": "\((ContinuousClock.now - started).milliseconds)",
            ]
        )
    }

    /// Stops the server cleanly (`SIGTERM`), or with `SIGKILL` after the shutdown timeout. Keeps its directory.
    func shutDown() async throws {
        guard let process, process.isRunning else { return }
        if kind == .mysql { await endBinlogDumpThreads() }
        process.send(SIGTERM)
        if await process.waitForExit(timeout: options.shutdownTimeout) == nil {
            logger.debug("sandbox server ignored SIGTERM; killing it")
            await forceStop(process)
        }
        if process.isRunning {
            throw SandboxError(
                code: .serverStopFailed, message: "the server survived SIGKILL for 5 s", serverName: name)
        }
        processEnded(process)
    }

    /// Stops the server (see ``shutDown()``) and removes its directory. Never throws: failures are logged, and the
    /// process is killed in any case.
    func stopAndRemove() async {
        do {
            try await shutDown()
        } catch {
            logger.info("sandbox server did not stop", metadata: ["sandbox.error": "\(error)"])
        }
        removed = true
        do {
            try await SandboxFiles.removeTree(directory)
        } catch {
            logger.info("could not remove sandbox server directory", metadata: ["sandbox.error": "\(error)"])
        }
    }

    /// MySQL: ends the Binlog Dump threads of attached replicas, which otherwise hold a shutdown for 11–13 s
    /// (about 3 s without them). Best effort, bounded by a 2 s connect and statement timeout.
    private func endBinlogDumpThreads() async {
        var configuration = rootConfiguration
        configuration.connectTimeout = .seconds(2)
        guard let connection = try? await MariaDBConnection.connect(configuration: configuration) else { return }
        let threads =
            (try? await connection.query(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'"))?
            .compactMap { $0[0].int } ?? []
        for thread in threads {
            _ = try? await connection.run("KILL CONNECTION \(thread)")
        }
        await connection.close()
        if !threads.isEmpty {
            logger.debug("ended binlog dump threads before shutdown", metadata: ["sandbox.threads": "\(threads.count)"])
        }
    }

    private func forceStop(_ process: ChildProcess) async {
        process.sendToGroup(SIGKILL)
        _ = await process.waitForExit(timeout: .seconds(5))
        if !process.isRunning { processEnded(process) }
    }

    private func processEnded(_ process: ChildProcess) {
        // The watchdog loop of the server, if it is still there, sees the server gone and ends within 0.5 s.
        SandboxRegistry.shared.unregisterProcessGroup(process.pid)
    }

    /// Thrown by ``start(retryingPortConflicts:)`` when the port was taken before the server could bind it.
    struct PortConflict: Error {}

    /// How long a starting server may refuse root before the start fails: long enough for a server that lost its
    /// port to another one to exit.
    static let accessDeniedGrace: Duration = .seconds(5)

    static func isPortConflict(_ log: String) -> Bool {
        log.contains("Address already in use") || log.contains("Do you already have another server running on port")
    }

    private static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// The part of the log written since `offset` (this start's lines only).
    private static func read(_ path: String, from offset: Int) -> String {
        guard let text = SandboxFiles.read(path) else { return "" }
        let bytes = Array(text.utf8)
        return offset < bytes.count ? String(decoding: bytes[offset...], as: UTF8.self) : text
    }

    private static func lastLines(of text: String, count: Int = 30) -> String {
        text.split(separator: "\n").suffix(count).joined(separator: "\n")
    }
}
