public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Independent local MariaDB servers for tests, benchmarks and rehearsals.
///
/// ``start(servers:options:logger:)`` launches `count` servers on free 127.0.0.1 ports, each with a throwaway
/// directory copied from a data directory that `mariadb-install-db` prepares once per process, `server_id` 1, 2,
/// ..., `gtid_domain_id` equal to `server_id`, the binary log on (ROW, `log_slave_updates`), and a `root` account
/// with a random password over TCP. ``stop()`` stops them and removes their directories.
///
/// Nothing outlives the process: every server runs under a small watchdog that kills it within about half a
/// second once the owning process is gone (even after a crash or `SIGKILL`), an exit hook kills what is still
/// running at a normal exit, and each start removes what crashed runs left under the sandbox root.
///
/// ```swift
/// try await withMariaDBSandbox(servers: 2, logger: logger) { sandbox in
///     let source = try await sandbox.servers[0].connectAsRoot()
///     ...
/// }
/// ```
public final class MariaDBSandbox: Sendable {
    /// How the servers are set up.
    public struct Options: Sendable {
        /// Extra server options, as `my.cnf` lines for the `[mysqld]` group (`innodb_lock_wait_timeout=5`,
        /// `skip-slave-start`), given to every server after the sandbox's own (so they win).
        public var extraServerOptions: [String]
        /// Where run directories and the template go; nil for `$TMPDIR/cutover-sandbox-<uid>`. Keep it short: a
        /// Unix socket path must fit in 107 bytes.
        public var rootDirectory: String?
        /// Bound on each server's start, until `root` can log in.
        public var startupTimeout: Duration
        /// Bound on a clean shutdown (`SIGTERM`) before the server is killed.
        public var shutdownTimeout: Duration
        /// Bound on preparing the template data directory with `mariadb-install-db` (once per process).
        public var preparationTimeout: Duration
        /// The process whose end kills the servers (the watchdog polls it); the current process by default.
        public var ownerProcessID: Int32
        /// The `mariadbd` to run; nil to look in `PATH` and the usual system directories.
        public var serverExecutable: String?
        /// The `mariadb-install-db` to run; nil to look in `PATH` and the usual system directories.
        public var installDatabaseExecutable: String?
        /// Which server to run: MariaDB (the default) or MySQL 9.7 from a ``MySQLDistribution`` (found through
        /// `$MYSQL_ROOT` or its default directory; ``serverExecutable`` may name its `mysqld` wrapper instead).
        public var serverKind: SandboxServerKind

        /// Creates options; every parameter has a sensible default.
        public init(
            extraServerOptions: [String] = [],
            rootDirectory: String? = nil,
            startupTimeout: Duration = .seconds(30),
            shutdownTimeout: Duration = .seconds(10),
            preparationTimeout: Duration = .seconds(120),
            ownerProcessID: Int32? = nil,
            serverExecutable: String? = nil,
            installDatabaseExecutable: String? = nil,
            serverKind: SandboxServerKind = .mariadb
        ) {
            self.extraServerOptions = extraServerOptions
            self.rootDirectory = rootDirectory
            self.startupTimeout = startupTimeout
            self.shutdownTimeout = shutdownTimeout
            self.preparationTimeout = preparationTimeout
            self.ownerProcessID = ownerProcessID ?? getpid()
            self.serverExecutable = serverExecutable
            self.installDatabaseExecutable = installDatabaseExecutable
            self.serverKind = serverKind
        }
    }

    /// The servers, in `server_id` order (`servers[0]` has `server_id` 1).
    public let servers: [SandboxServer]
    /// The run directory holding every server's directory.
    public let directory: String
    /// How long ``start(servers:options:logger:)`` took, including the template preparation when this start
    /// was the process's first. The `info` record "sandbox started" also gives the servers' part alone
    /// (`sandbox.servers_ms`: copying the template, launching, waiting until `root` can log in).
    public let startupDuration: Duration

    private let ports: [Int]
    private let logger: Logger
    private let stopped = Mutex(false)

    private init(servers: [SandboxServer], directory: String, ports: [Int], startupDuration: Duration, logger: Logger) {
        self.servers = servers
        self.directory = directory
        self.ports = ports
        self.startupDuration = startupDuration
        self.logger = logger
    }

    /// Checks that the servers of `kind` are installed: `mariadbd` and `mariadb-install-db`, or a
    /// ``MySQLDistribution``.
    ///
    /// - Throws: ``SandboxError`` (``SandboxError/Code/serverBinariesMissing``) whose message says how to install
    ///   them (`apt-get install mariadb-server`, `migrate-cli sandbox install-mysql`).
    public static func requireServerBinaries(kind: SandboxServerKind = .mariadb) throws {
        _ = try ServerBinaries.locate(kind: kind)
    }

    /// Starts `count` servers and waits until each accepts `root` over TCP.
    ///
    /// - Parameters:
    ///   - count: how many servers (1...32).
    ///   - options: see ``Options``.
    ///   - logger: receives an `info` record with the start-up time, and `debug` records per server.
    /// - Returns: the running sandbox; call ``stop()`` when done (or use ``withMariaDBSandbox(servers:options:logger:_:)``).
    /// - Throws: ``SandboxError``: ``SandboxError/Code/serverBinariesMissing`` when the server is not installed,
    ///   ``SandboxError/Code/serverStartFailed`` (with the tail of the error log) when a server does not come up,
    ///   ``SandboxError/Code/dataDirectoryPreparationFailed``, ``SandboxError/Code/fileSystem``, or
    ///   `CancellationError`. Whatever was started is stopped and removed before it throws.
    public static func start(
        servers count: Int = 1,
        options: Options = Options(),
        logger: Logger = Logger(label: "sandbox", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> MariaDBSandbox {
        let started = ContinuousClock.now
        guard (1...32).contains(count) else {
            throw SandboxError(code: .invalidOptions, message: "server count \(count) is outside 1...32")
        }
        let binaries = try ServerBinaries.locate(
            kind: options.serverKind,
            server: options.serverExecutable,
            installDatabase: options.installDatabaseExecutable
        )
        let root = options.rootDirectory ?? SandboxFiles.defaultRoot
        let directory = "\(root)/run-\(getpid())-\(randomToken(length: 6))"
        // "<directory>/server32/mysqld.sock" must fit in sockaddr_un.sun_path.
        guard directory.utf8.count + "/server32/mysqld.sock".utf8.count < 108 else {
            throw SandboxError(
                code: .invalidOptions,
                message: "sandbox root \(root) is too long for a Unix socket path; choose a shorter rootDirectory"
            )
        }
        try SandboxFiles.createDirectory(root)
        await SandboxFiles.reapLeftovers(under: root, logger: logger)
        let template = try await DataDirectoryTemplateStore.shared.template(
            root: root,
            binaries: binaries,
            timeout: options.preparationTimeout,
            logger: logger
        )

        let serversStarted = ContinuousClock.now
        try SandboxFiles.createDirectory(directory, mode: 0o700)
        SandboxRegistry.shared.registerDirectory(directory)
        var ports: [Int] = []
        var servers: [SandboxServer] = []
        do {
            try SandboxFiles.writeOwnerFile(in: directory)
            ports = try SandboxRegistry.shared.reservePorts(count)
            let reserved = ports
            servers = try await withThrowingTaskGroup(of: (Int, SandboxServer).self) { group in
                for index in 0..<count {
                    group.addTask {
                        try await startServer(
                            index: index,
                            port: reserved[index],
                            directory: directory,
                            template: template,
                            binaries: binaries,
                            options: options,
                            logger: logger
                        )
                    }
                }
                var started: [(Int, SandboxServer)] = []
                do {
                    for try await result in group { started.append(result) }
                } catch {
                    // Stop the ones that came up; the failing one cleaned up after itself.
                    group.cancelAll()
                    while !group.isEmpty {
                        if let result = try? await group.next() { started.append(result) }
                    }
                    for (_, server) in started { await server.stopAndRemove() }
                    throw error
                }
                return started.sorted { $0.0 < $1.0 }.map { $0.1 }
            }
            // A server retried after a port conflict runs on another (also reserved) port.
            ports = servers.map(\.port)
        } catch {
            SandboxRegistry.shared.releasePorts(ports)
            try? await SandboxFiles.removeTree(directory)
            SandboxRegistry.shared.unregisterDirectory(directory)
            throw error
        }

        let now = ContinuousClock.now
        let duration = now - started
        logger.info(
            "sandbox started",
            metadata: [
                "sandbox.servers": "\(count)",
                "sandbox.ports": "\(ports.map(String.init).joined(separator: ","))",
                "sandbox.directory": "\(directory)",
                "sandbox.startup_ms": "\(duration.milliseconds)",
                "sandbox.servers_ms": "\((now - serversStarted).milliseconds)",
            ]
        )
        return MariaDBSandbox(
            servers: servers,
            directory: directory,
            ports: ports,
            startupDuration: duration,
            logger: logger
        )
    }

    /// Copies the template and starts server `index`, retrying with a new port when another process took the
    /// reserved one first. Returns the index with the running server.
    static func startServer(
        index: Int,
        port: Int,
        directory: String,
        template: DataDirectoryTemplate,
        binaries: ServerBinaries,
        options: Options,
        logger: Logger
    ) async throws -> (Int, SandboxServer) {
        var port = port
        var attempt = 1
        while true {
            let server = SandboxServer(
                name: "server\(index + 1)",
                serverID: index + 1,
                port: port,
                directory: "\(directory)/server\(index + 1)",
                rootPassword: template.rootPassword,
                binaries: binaries,
                options: options,
                logger: logger
            )
            do {
                try await server.prepareDirectory(from: template)
                try await server.start(retryingPortConflicts: attempt < 5)
                return (index, server)
            } catch is SandboxServer.PortConflict {
                logger.debug("sandbox port taken by another process; retrying", metadata: ["sandbox.port": "\(port)"])
                await server.stopAndRemove()
                port = try SandboxRegistry.shared.reservePorts(1)[0]
                attempt += 1
            } catch {
                await server.stopAndRemove()
                throw error
            }
        }
    }

    /// Stops every server (cleanly, then with `SIGKILL` after ``Options/shutdownTimeout``) and removes the run
    /// directory. Safe to call more than once, and from a cancelled task; never throws (failures are logged).
    public func stop() async {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for server in servers {
                group.addTask { await server.stopAndRemove() }
            }
        }
        do {
            try await SandboxFiles.removeTree(directory)
        } catch {
            logger.info("could not remove sandbox directory", metadata: ["sandbox.error": "\(error)"])
        }
        SandboxRegistry.shared.unregisterDirectory(directory)
        SandboxRegistry.shared.releasePorts(ports)
        logger.info(
            "sandbox stopped",
            metadata: [
                "sandbox.directory": "\(directory)",
                "sandbox.stop_ms": "\((ContinuousClock.now - started).milliseconds)",
            ]
        )
    }
}

/// Starts a sandbox of `count` servers, runs `body` with it, and stops it afterwards, also when `body` throws or
/// the task is cancelled.
///
/// - Parameters:
///   - count: how many servers (see ``MariaDBSandbox/start(servers:options:logger:)``).
///   - options: see ``MariaDBSandbox/Options``.
///   - logger: passed to the sandbox.
///   - body: the work to do with the running sandbox.
/// - Returns: what `body` returned.
/// - Throws: what ``MariaDBSandbox/start(servers:options:logger:)`` or `body` threw.
public func withMariaDBSandbox<Value>(
    servers count: Int = 1,
    options: MariaDBSandbox.Options = MariaDBSandbox.Options(),
    logger: Logger = Logger(label: "sandbox", factory: { _ in SwiftLogNoOpLogHandler() }),
    _ body: (MariaDBSandbox) async throws -> Value
) async throws -> Value {
    let sandbox = try await MariaDBSandbox.start(servers: count, options: options, logger: logger)
    let result: Result<Value, any Error>
    do {
        result = .success(try await body(sandbox))
    } catch {
        result = .failure(error)
    }
    await sandbox.stop()
    return try result.get()
}
