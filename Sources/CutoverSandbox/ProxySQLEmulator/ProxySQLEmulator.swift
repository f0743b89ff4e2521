import Foundation
public import Logging
public import MariaDB
import NIOCore
import NIOPosix
import Synchronization

/// A **test double** of ProxySQL 2.7 for tests and rehearsals: not ProxySQL, and not for production traffic.
///
/// It serves an admin port (MySQL protocol, SQLite behind it, ProxySQL's tables, commands and error texts) and one
/// data-plane port per hostgroup. The data plane authenticates clients itself, keeps its own connections to the
/// backend MySQL/MariaDB servers, and runs each statement on an ONLINE backend of the port's hostgroup, keeping a
/// session on one backend connection only while ProxySQL would (transactions, `@` variables, `GET_LOCK`,
/// `LOCK TABLES`, auto-increment inserts...). OFFLINE_SOFT, OFFLINE_HARD, waiting for an ONLINE server (error
/// 9001), the automatic re-send of interrupted statements and `stats_mysql_connection_pool` follow what was
/// observed on a real ProxySQL. `Documentation/proxysql-emulator.md` lists what is faithful and what differs.
///
/// ```swift
/// let emulator = try await ProxySQLEmulator.start(
///     configuration: .init(adminPassword: "admin", frontendUsers: [.init(username: "app", password: "secret")]),
///     logger: logger
/// )
/// let admin = try await MariaDBConnection.connect(configuration: emulator.adminConfiguration)
/// try await admin.run("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (10, '127.0.0.1', \(port))")
/// try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
/// // clients connect to 127.0.0.1:emulator.dataPort(hostgroup: 10)!
/// await emulator.stop()
/// ```
public final class ProxySQLEmulator: Sendable {
    /// The configuration the emulator was started with.
    public let configuration: Configuration
    /// The admin port on 127.0.0.1.
    public let adminPort: Int
    /// The directory holding `proxysql.db`.
    public let dataDirectory: String
    /// The application port on 127.0.0.1 (ProxySQL's 6033), routing by `mysql_query_rules`, or nil when
    /// ``Configuration/applicationPort`` is nil.
    public let applicationPort: Int?

    private let dataPorts: [Int: Int]
    private let dataPlane: DataPlane
    private let engine: AdminEngine
    private let serverChannels: [any Channel]
    private let adminChannels: Mutex<[ObjectIdentifier: any Channel]>
    private let runTask = Mutex<Task<Void, Never>?>(nil)
    private let adminConnectionIDs = Atomic<UInt32>(0)
    private let removeDirectoryOnStop: Bool
    private let logger: Logger

    private init(
        configuration: Configuration,
        adminPort: Int,
        dataDirectory: String,
        dataPorts: [Int: Int],
        applicationPort: Int?,
        dataPlane: DataPlane,
        engine: AdminEngine,
        serverChannels: [any Channel],
        removeDirectoryOnStop: Bool,
        logger: Logger
    ) {
        self.applicationPort = applicationPort
        self.configuration = configuration
        self.adminPort = adminPort
        self.dataDirectory = dataDirectory
        self.dataPorts = dataPorts
        self.dataPlane = dataPlane
        self.engine = engine
        self.serverChannels = serverChannels
        self.adminChannels = Mutex([:])
        self.removeDirectoryOnStop = removeDirectoryOnStop
        self.logger = logger
    }

    /// The data-plane port of `hostgroup` on 127.0.0.1, or nil when the configuration has no port for it.
    public func dataPort(hostgroup: Int) -> Int? { dataPorts[hostgroup] }

    /// Every hostgroup with its data-plane port.
    public var hostgroupPorts: [Int: Int] { dataPorts }

    /// A configuration for the admin port, with ProxySQL admin (SQLite) quoting.
    public var adminConfiguration: MariaDBConnection.Configuration {
        var configuration = MariaDBConnection.Configuration(
            host: "127.0.0.1",
            port: adminPort,
            user: self.configuration.adminUser,
            password: self.configuration.adminPassword
        )
        configuration.quoting = .proxySQLAdmin
        return configuration
    }

    /// A configuration for the application port (routing by query rules), as `user` (the first frontend user by
    /// default); nil without an application port.
    public func applicationConfiguration(user: Configuration.User? = nil, database: String? = nil)
        -> MariaDBConnection.Configuration?
    {
        guard let port = applicationPort, let account = user ?? configuration.frontendUsers.first else { return nil }
        return MariaDBConnection.Configuration(
            host: "127.0.0.1", port: port, user: account.username, password: account.password, database: database)
    }

    /// A configuration for the data-plane port of `hostgroup`, as `user` (the first frontend user by default).
    public func dataConfiguration(hostgroup: Int, user: Configuration.User? = nil, database: String? = nil)
        -> MariaDBConnection.Configuration?
    {
        guard let port = dataPorts[hostgroup], let account = user ?? configuration.frontendUsers.first else { return nil }
        return MariaDBConnection.Configuration(
            host: "127.0.0.1",
            port: port,
            user: account.username,
            password: account.password,
            database: database
        )
    }

    /// Starts the emulator: opens (or creates) its admin database, binds its ports and serves them until
    /// ``stop()``.
    ///
    /// - Throws: ``ProxySQLEmulatorError`` (``ProxySQLEmulatorError/Code/invalidConfiguration``,
    ///   ``ProxySQLEmulatorError/Code/bindFailed``, ``ProxySQLEmulatorError/Code/storage``).
    public static func start(
        configuration: Configuration,
        logger: Logger = Logger(label: "proxysql-emulator", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> ProxySQLEmulator {
        guard !configuration.hostgroupPorts.isEmpty else {
            throw ProxySQLEmulatorError(code: .invalidConfiguration, message: "no hostgroup port configured")
        }
        guard !configuration.adminUser.isEmpty else {
            throw ProxySQLEmulatorError(code: .invalidConfiguration, message: "admin user is empty")
        }
        if let port = configuration.applicationPort, !(0...65535).contains(port) {
            throw ProxySQLEmulatorError(code: .invalidConfiguration, message: "application port \(port) is out of range")
        }
        for (hostgroup, port) in configuration.hostgroupPorts where hostgroup < 0 || !(0...65535).contains(port) {
            throw ProxySQLEmulatorError(
                code: .invalidConfiguration,
                message: "hostgroup \(hostgroup) or its port \(port) is out of range"
            )
        }

        let directory: String
        let removeOnStop: Bool
        if let given = configuration.dataDirectory {
            directory = given
            removeOnStop = false
        } else {
            directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("proxysql-emulator-\(UUID().uuidString)").path
            removeOnStop = true
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ProxySQLEmulatorError(code: .storage, message: "cannot create \(directory)", underlying: error)
        }

        let group = MultiThreadedEventLoopGroup.singleton
        let dataPlane = DataPlane(
            logger: logger, coldConnectionDelay: configuration.coldConnectionDelay, shunClock: configuration.shunClock,
            afterBackendAnswer: configuration.afterBackendAnswer)
        dataPlane.setLateConnUsed(every: configuration.lateConnUsedEvery)
        let database: AdminDatabase
        do {
            database = try AdminDatabase(diskPath: directory + "/proxysql.db")
        } catch {
            throw ProxySQLEmulatorError(code: .storage, message: "cannot open the admin database", underlying: error)
        }

        var servers: [NIOAsyncChannel<FrontendChannel, Never>] = []
        func closeAll() async {
            for server in servers { try? await server.channel.close() }
        }
        var dataPorts: [Int: Int] = [:]
        var applicationPort: Int?
        let adminServer: NIOAsyncChannel<FrontendChannel, Never>
        do {
            adminServer = try await bind(port: configuration.adminPort, group: group)
            servers.append(adminServer)
            if let port = configuration.applicationPort {
                let server = try await bind(port: port, group: group)
                servers.append(server)
                applicationPort = server.channel.localAddress?.port ?? port
            }
            for (hostgroup, port) in configuration.hostgroupPorts.sorted(by: { $0.key < $1.key }) {
                let server = try await bind(port: port, group: group)
                servers.append(server)
                dataPorts[hostgroup] = server.channel.localAddress?.port ?? port
            }
        } catch {
            await closeAll()
            throw ProxySQLEmulatorError(code: .bindFailed, message: "cannot listen on 127.0.0.1", underlying: error)
        }
        let adminPort = adminServer.channel.localAddress?.port ?? configuration.adminPort

        let engine = AdminEngine(
            database: database,
            dataPlane: dataPlane,
            version: configuration.version,
            hostgroupPorts: dataPorts,
            logger: logger
        )
        var variables = RuntimeVariables().rows
        let interfaces = (applicationPort.map { [$0] } ?? []) + dataPorts.sorted { $0.key < $1.key }.map(\.value)
        variables.append(("mysql-interfaces", interfaces.map { "127.0.0.1:\($0)" }.joined(separator: ";")))
        variables.append(("admin-version", configuration.version))
        variables.append(("admin-mysql_ifaces", "127.0.0.1:\(adminPort)"))
        variables.append(contentsOf: AdminEngine.clusterVariableDefaults)
        for (name, value) in configuration.initialVariables {
            if let index = variables.firstIndex(where: { $0.0 == name }) {
                variables[index].1 = value
            } else {
                variables.append((name, value))
            }
        }
        do {
            try engine.bootstrap(
                users: configuration.frontendUsers.map {
                    FrontendCredentials(
                        username: $0.username, password: $0.password, active: true, defaultHostgroup: $0.defaultHostgroup,
                        transactionPersistent: $0.transactionPersistent)
                },
                initialVariables: variables
            )
        } catch {
            await closeAll()
            throw ProxySQLEmulatorError(code: .storage, message: "cannot initialise the admin database", underlying: error)
        }

        let emulator = ProxySQLEmulator(
            configuration: configuration,
            adminPort: adminPort,
            dataDirectory: directory,
            dataPorts: dataPorts,
            applicationPort: applicationPort,
            dataPlane: dataPlane,
            engine: engine,
            serverChannels: servers.map(\.channel),
            removeDirectoryOnStop: removeOnStop,
            logger: logger
        )
        let hostgroupOfPort = Dictionary(uniqueKeysWithValues: dataPorts.map { ($0.value, $0.key) })
        // The emulator outlives this call (start/stop API, like the sandbox's servers): one task serves every
        // port until stop() closes the listeners and cancels it.
        let task = Task {
            await withDiscardingTaskGroup { tasks in
                for server in servers {
                    let port = server.channel.localAddress?.port ?? 0
                    let route: DataSession.Route? =
                        port == adminPort ? nil : port == applicationPort ? .queryRules(port: port) : hostgroupOfPort[port].map { .hostgroup($0) }
                    tasks.addTask {
                        await emulator.serve(server, route: route, group: group)
                    }
                }
                tasks.addTask { await emulator.sweepIdleSessions() }
                // ProxySQL Cluster: pulls mysql_servers from the peers in proxysql_servers (issue #16).
                tasks.addTask { await engine.runClusterSync(ownAdminPort: adminPort) }
            }
        }
        emulator.runTask.withLock { $0 = task }
        logger.info(
            "proxysql emulator started",
            metadata: ["proxysql.admin_port": "\(adminPort)", "proxysql.data_ports": "\(dataPorts)"]
        )
        return emulator
    }

    /// Stops serving: closes the listeners, every client and backend connection, and removes the temporary data
    /// directory (a given `dataDirectory` is kept).
    public func stop() async {
        for channel in serverChannels { try? await channel.close() }
        let (frontends, backends) = dataPlane.shutdown()
        for channel in frontends { channel.close(promise: nil) }
        for backend in backends { backend.close(reason: .sessionKilled) }
        for channel in adminChannels.withLock({ Array($0.values) }) { channel.close(promise: nil) }
        let task = runTask.withLock { $0 }
        task?.cancel()
        await task?.value
        if removeDirectoryOnStop { try? FileManager.default.removeItem(atPath: dataDirectory) }
        logger.info("proxysql emulator stopped")
    }

    /// Closes every open admin connection from the emulator's side, as a dropped network connection or a restart
    /// of ProxySQL's admin module would (a fault for tests). The clients find out at their next statement.
    ///
    /// - Returns: how many connections were closed.
    @discardableResult
    public func dropAdminConnections() -> Int {
        let channels = adminChannels.withLock { Array($0.values) }
        for channel in channels { channel.close(promise: nil) }
        logger.info("admin connections dropped", metadata: ["proxysql.count": "\(channels.count)"])
        return channels.count
    }

    /// Sessions of the data plane, for tests that want to know why a session holds its backend.
    /// How many statements are waiting for a usable server in their hostgroup (for tests that act when one waits).
    func waitingStatementCount() -> Int { dataPlane.waitingStatementCount() }

    public func sessionSummaries() -> [SessionSummary] {
        dataPlane.sessionsSnapshot().map {
            SessionSummary(
                sessionID: Int($0.id),
                user: $0.user,
                hostgroup: $0.hostgroup,
                backend: $0.backend.map { "\($0.server.host):\($0.server.port)" },
                pinReasons: $0.pins.description + ($0.autoIncrementTokens > 0 ? ",auto_increment(\($0.autoIncrementTokens))" : ""),
                isRunningStatement: $0.command == .query
            )
        }
    }

    /// One data-plane session as the emulator sees it.
    public struct SessionSummary: Sendable, Hashable {
        /// The `SessionID` of `stats_mysql_processlist` (also the connection id the client saw).
        public var sessionID: Int
        /// The session's account.
        public var user: String
        /// The hostgroup the session is routed to (by the port it connected to).
        public var hostgroup: Int
        /// `host:port` of the backend the session holds, if any.
        public var backend: String?
        /// Why it holds it (`transaction`, `user_variable`, `get_lock`, `auto_increment(n)`...), or `none`.
        public var pinReasons: String
        /// Whether a statement of the session is running now.
        public var isRunningStatement: Bool
    }

    // MARK: Serving

    private static func bind(port: Int, group: any EventLoopGroup) async throws -> NIOAsyncChannel<FrontendChannel, Never> {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MySQLPacketDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MySQLPacketEncoder()))
                    return try FrontendChannel(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func serve(_ server: NIOAsyncChannel<FrontendChannel, Never>, route: DataSession.Route?, group: any EventLoopGroup) async {
        do {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { connections in
                    for try await connection in inbound {
                        connections.addTask {
                            if let route {
                                await DataSession(dataPlane: self.dataPlane, route: route, group: group, logger: self.logger)
                                    .run(connection)
                            } else {
                                let key = ObjectIdentifier(connection.channel)
                                self.adminChannels.withLock { $0[key] = connection.channel }
                                let id = self.adminConnectionIDs.add(1, ordering: .relaxed).newValue
                                await AdminSession(
                                    engine: self.engine,
                                    adminUser: self.configuration.adminUser,
                                    adminPassword: self.configuration.adminPassword,
                                    serverVersion: self.dataPlane.variables.serverVersion,
                                    connectionID: id,
                                    latency: self.configuration.adminLatency,
                                    logger: self.logger
                                ).run(connection)
                                _ = self.adminChannels.withLock { $0.removeValue(forKey: key) }
                            }
                        }
                    }
                }
            }
        } catch {
            logger.debug("listener ended", metadata: ["proxysql.error": "\(error)"])
        }
    }

    private func sweepIdleSessions() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            dataPlane.wakeWaitersIfShunRecoveryDue()
            for id in dataPlane.sweepIdleSessions(now: .now) {
                logger.debug("idle session closed by timer", metadata: ["proxysql.session_id": "\(id)"])
                dataPlane.killSession(id)
            }
        }
    }
}

/// Runs `body` with a started emulator and always stops it, also when `body` throws.
public func withProxySQLEmulator<Result: Sendable>(
    configuration: ProxySQLEmulator.Configuration,
    logger: Logger = Logger(label: "proxysql-emulator", factory: { _ in SwiftLogNoOpLogHandler() }),
    _ body: (ProxySQLEmulator) async throws -> Result
) async throws -> Result {
    let emulator = try await ProxySQLEmulator.start(configuration: configuration, logger: logger)
    do {
        let result = try await body(emulator)
        await emulator.stop()
        return result
    } catch {
        await emulator.stop()
        throw error
    }
}
