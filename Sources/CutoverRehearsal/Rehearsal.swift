public import Cutover
public import CutoverSandbox
public import Logging
public import MariaDB
public import ProxySQLAdmin
public import ReplicationControl

/// A complete practice topology on this machine: a MariaDB "source", a MariaDB "Aurora" (with the `mysql.rds_*`
/// stand-ins and a restricted admin account), forward replication set up through the procedures, a write-load
/// schema and application account, and the ProxySQL emulator routing hostgroup 10 (writer) and 11 (reader).
///
/// Used by the cut-over's proof tests, the benchmarks and `migrate-cli rehearse` / `sandbox up`. Everything it
/// starts is stopped by ``stop()`` (and, should the process die, by the sandbox's watchdogs).
public final class Rehearsal: Sendable {
    /// What to start.
    public struct Options: Sendable {
        /// Make the Aurora stand-in's procedures sleep like Aurora's (about 1 s before, 2 s after start/stop).
        public var simulateAuroraDelays: Bool
        /// The application account (narrow grants, so the read-only fence applies to it).
        public var applicationUser: String
        /// The write-load schema installed on the source (and replicated).
        public var schema: WriteLoadSchema
        /// ProxySQL emulator variables set at start (`mysql-connect_timeout_server_max`, ...).
        public var proxyVariables: [String: String]
        /// Extra `my.cnf` lines for both servers.
        public var extraServerOptions: [String]
        /// The emulator's admin latencies: ``AdminLatencyProfile/realistic`` (a real ProxySQL 2.7.1's, the default
        /// for rehearsals and benchmarks) or ``AdminLatencyProfile/fast`` (tests).
        public var adminLatency: AdminLatencyProfile
        /// Which server both the source and "Aurora" are: MariaDB (the default) or MySQL 9.7 (GTIDs on).
        public var serverKind: SandboxServerKind
        /// Set up forward replication from the source's current position (true, the default), or leave "Aurora"
        /// empty and unreplicated, for a rehearsal that copies the source and runs `replication start-forward`
        /// itself (``Rehearsal/copySourceToTarget(databases:logger:)``).
        public var startsForwardReplication: Bool = true
        /// How many ProxySQL emulator nodes front the application (a fleet, issue #16): each has the same rows,
        /// the cut-over applies every switch to all of them and verifies each one's runtime. 1 by default.
        public var proxyNodes: Int = 1
        /// "Aurora"'s `binlog retention hours`, set at start as the runbook does before a cut-over (the writer
        /// switch's guards refuse less than 24, issue #13 item 5); nil leaves Aurora's default, `NULL`.
        public var binlogRetentionHours: Int? = 24

        /// Creates options.
        public init(
            simulateAuroraDelays: Bool = false,
            applicationUser: String = "app",
            schema: WriteLoadSchema = WriteLoadSchema(),
            proxyVariables: [String: String] = [:],
            extraServerOptions: [String] = [],
            adminLatency: AdminLatencyProfile = .realistic,
            serverKind: SandboxServerKind = .mariadb
        ) {
            self.adminLatency = adminLatency
            self.simulateAuroraDelays = simulateAuroraDelays
            self.applicationUser = applicationUser
            self.schema = schema
            self.proxyVariables = proxyVariables
            self.extraServerOptions = extraServerOptions
            self.serverKind = serverKind
        }
    }

    /// The writer hostgroup of the emulator's rows.
    public static let writerHostgroup: HostgroupID = 10
    /// The reader hostgroup of the emulator's rows.
    public static let readerHostgroup: HostgroupID = 11
    /// The name of the emulator node in the topology and the journal.
    public static let proxyNodeName = "proxysql-emulator"
    /// The account "Aurora" replicates from the source with (it exists on the source).
    public static let forwardReplicationUser = "repl_forward"
    /// The account the source replicates from "Aurora" with after a writer switch (it exists on "Aurora").
    public static let reverseReplicationUser = "repl_reverse"

    /// What was started.
    public let options: Options
    /// The two MariaDB servers: ``source`` and ``target``.
    public let sandbox: MariaDBSandbox
    /// The ProxySQL emulator nodes (``Options/proxyNodes`` of them), in the order of ``proxyNodeNames``.
    public let emulators: [ProxySQLEmulator]
    /// The first ProxySQL emulator node (the only one unless ``Options/proxyNodes`` is above 1).
    public var emulator: ProxySQLEmulator { emulators[0] }
    /// The `mysql.rds_*` stand-ins on the target, and their restricted admin account.
    public let auroraShim: AuroraProcedureShim.Installation
    /// Who is who, for the cut-over.
    public let topology: CutoverTopology
    /// The application account, as the emulator's frontend user (and the backend login it uses).
    public let applicationAccount: ProxySQLEmulator.Configuration.User
    /// The password of ``forwardReplicationUser`` (a sandbox secret: do not log it).
    public let forwardReplicationPassword: String
    /// The password of ``reverseReplicationUser`` (a sandbox secret: do not log it).
    public let reverseReplicationPassword: String

    /// The server playing the on-premises source.
    public var source: SandboxServer { sandbox.servers[0] }
    /// The server playing Aurora.
    public var target: SandboxServer { sandbox.servers[1] }

    private init(
        options: Options,
        sandbox: MariaDBSandbox,
        emulators: [ProxySQLEmulator],
        auroraShim: AuroraProcedureShim.Installation,
        topology: CutoverTopology,
        applicationAccount: ProxySQLEmulator.Configuration.User,
        forwardReplicationPassword: String,
        reverseReplicationPassword: String
    ) {
        self.options = options
        self.sandbox = sandbox
        self.emulators = emulators
        self.auroraShim = auroraShim
        self.topology = topology
        self.applicationAccount = applicationAccount
        self.forwardReplicationPassword = forwardReplicationPassword
        self.reverseReplicationPassword = reverseReplicationPassword
    }

    /// Starts everything and sets up forward replication source → "Aurora" through the procedures.
    ///
    /// - Throws: `SandboxError` (servers), `MariaDBError` / `ReplicationError` (setup statements),
    ///   `ProxySQLEmulatorError` (emulator); whatever was started is stopped first.
    public static func start(options: Options = Options(), logger: Logger) async throws -> Rehearsal {
        let sandbox = try await MariaDBSandbox.start(
            servers: 2,
            options: MariaDBSandbox.Options(extraServerOptions: options.extraServerOptions, serverKind: options.serverKind),
            logger: logger
        )
        var emulators: [ProxySQLEmulator] = []
        do {
            let source = sandbox.servers[0]
            let target = sandbox.servers[1]
            let shim = try await AuroraProcedureShim.install(
                on: target,
                options: AuroraProcedureShim.Options(simulatedDelays: options.simulateAuroraDelays),
                logger: logger
            )
            let forwardPassword = randomSecret()
            let reversePassword = randomSecret()
            let applicationPassword = randomSecret()

            let sourceRoot = try await source.connectAsRoot(logger: logger)
            let targetRoot = try await target.connectAsRoot(logger: logger)
            // Replication accounts, kept out of the binary logs (each exists only where it is used).
            for (session, user, password) in [
                (sourceRoot, forwardReplicationUser, forwardPassword), (targetRoot, reverseReplicationUser, reversePassword),
            ] {
                try await session.run("SET SESSION sql_log_bin = 0")
                try await session.run("CREATE USER IF NOT EXISTS \(user)@'%' IDENTIFIED BY \(secret: password)")
                try await session.run("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO \(user)@'%'")
                try await session.run("SET SESSION sql_log_bin = 1")
            }

            // Forward replication from the source's current position, through the procedures, as the restricted
            // admin (exactly what an operator does on Aurora).
            let auroraAdmin = try await MariaDBConnection.connect(configuration: shim.adminConfiguration, logger: logger)
            let aurora = try await RDSReplicaController.detecting(on: auroraAdmin, logger: logger)
            let sourceController = try await SourceController.detecting(on: sourceRoot, logger: logger)
            if let hours = options.binlogRetentionHours {
                try await aurora.setBinlogRetentionHours(hours, logger: logger)
            }
            let startPosition = try await sourceController.sourceStatus(logger: logger).position
            if options.startsForwardReplication {
                try await aurora.configureSource(
                    ReplicationSource(
                        host: "127.0.0.1",
                        port: source.port,
                        user: forwardReplicationUser,
                        password: forwardPassword,
                        startPoint: .position(startPosition)
                    ),
                    logger: logger
                )
                _ = try await aurora.startReplication(logger: logger)
            }

            // The application's schema and account, created on the source: replication carries them to "Aurora".
            try await options.schema.install(on: [sourceRoot])
            try await options.schema.createApplicationAccount(
                on: [sourceRoot],
                user: options.applicationUser,
                password: applicationPassword
            )
            if options.startsForwardReplication {
                let caughtUp = try await sourceController.sourceStatus(logger: logger).position
                _ = try await aurora.waitUntilExecuted(.position(caughtUp), timeout: .seconds(30), logger: logger)
            }

            // ProxySQL: source rows ONLINE, "Aurora" rows OFFLINE_HARD, in the writer and reader hostgroups.
            let applicationAccount = ProxySQLEmulator.Configuration.User(
                username: options.applicationUser,
                password: applicationPassword,
                defaultHostgroup: Int(writerHostgroup.rawValue)
            )
            var emulatorConfiguration = ProxySQLEmulator.Configuration(
                adminPassword: randomSecret(),
                frontendUsers: [applicationAccount],
                hostgroupPorts: [Int(writerHostgroup.rawValue): 0, Int(readerHostgroup.rawValue): 0],
                initialVariables: options.proxyVariables
            )
            // 1 poll in 10 after a COMMIT still counted the connection on a real 2.7.1 (issue #14 item 4).
            emulatorConfiguration.lateConnUsedEvery = 10
            emulatorConfiguration.adminLatency = options.adminLatency
            // The application port routes by the published read/write split (issue #16 item 3).
            emulatorConfiguration.applicationPort = 0
            emulators = try await startEmulators(count: options.proxyNodes, configuration: emulatorConfiguration, logger: logger)
            let sourceEndpoint = ServerEndpoint(host: "127.0.0.1", port: source.port)
            let targetEndpoint = ServerEndpoint(host: "127.0.0.1", port: target.port)
            let topology = CutoverTopology(
                source: .init(
                    writer: BackendServer.Key(hostgroup: writerHostgroup, endpoint: sourceEndpoint),
                    reader: BackendServer.Key(hostgroup: readerHostgroup, endpoint: sourceEndpoint)
                ),
                target: .init(
                    writer: BackendServer.Key(hostgroup: writerHostgroup, endpoint: targetEndpoint),
                    reader: BackendServer.Key(hostgroup: readerHostgroup, endpoint: targetEndpoint)
                ),
                proxyNodes: proxyNodeNames(count: emulators.count),
                sourceReplicationEndpoint: sourceEndpoint,
                targetReplicationEndpoint: targetEndpoint,
                forwardReplicationUser: forwardReplicationUser,
                reverseReplicationUser: reverseReplicationUser,
                applicationUsers: [options.applicationUser],
                // The sandbox's servers have no certificates, and replication stays on loopback.
                forwardReplicationTLS: .disabled,
                reverseReplicationTLS: .disabled
            )
            try await configureServerRows(on: emulators, topology: topology, logger: logger)
            await auroraAdmin.close()
            await sourceRoot.close()
            await targetRoot.close()

            return Rehearsal(
                options: options,
                sandbox: sandbox,
                emulators: emulators,
                auroraShim: shim,
                topology: topology,
                applicationAccount: applicationAccount,
                forwardReplicationPassword: forwardPassword,
                reverseReplicationPassword: reversePassword
            )
        } catch {
            await stopEmulators(emulators)
            await sandbox.stop()
            throw error
        }
    }

    /// Stops the emulator and the servers and removes their directories.
    public func stop() async {
        await Self.stopEmulators(emulators)
        await sandbox.stop()
    }

    /// The application's writer endpoint: the emulator's hostgroup-10 port.
    public var writerEndpoint: MariaDBConnection.Configuration {
        emulator.dataConfiguration(hostgroup: Int(Self.writerHostgroup.rawValue), user: applicationAccount)!
    }

    /// The application's reader endpoint: the emulator's hostgroup-11 port.
    public var readerEndpoint: MariaDBConnection.Configuration {
        emulator.dataConfiguration(hostgroup: Int(Self.readerHostgroup.rawValue), user: applicationAccount)!
    }

    /// How ``makeEnvironment(options:logger:)`` builds the environment.
    public struct EnvironmentOptions: Sendable {
        /// How catch-up waits watch the new writer (wait function or polling; slice and poll interval).
        public var catchUp: CatchUpWaiter.Options
        /// The policy whose admin statement bound and node deadline the ProxySQL nodes get
        /// (``CutoverEnvironment/nodeDeadline(for:)``); the default policy unless set.
        public var policy: CutoverPolicy = CutoverPolicy()
        /// Wraps each session before the environment uses it, given the session and its journal name (`source`,
        /// `aurora`, `Rehearsal.proxyNodeName(_:)`), to time or fault every statement. nil: no wrapper. A test hook,
        /// not part of the shipped API: `@_spi(Testing) import CutoverRehearsal`.
        @_spi(Testing) public var wrapSession: (@Sendable (any SQLSession, String) -> any SQLSession)?

        /// Creates options; the defaults are those of a real run.
        public init(catchUp: CatchUpWaiter.Options = CatchUpWaiter.Options()) {
            self.catchUp = catchUp
            self.wrapSession = nil
        }

        /// Creates options with a session wrapper (tests and benchmarks).
        @_spi(Testing) public init(
            catchUp: CatchUpWaiter.Options,
            wrapSession: (@Sendable (any SQLSession, String) -> any SQLSession)?
        ) {
            self.catchUp = catchUp
            self.wrapSession = wrapSession
        }
    }

    /// Opens the connections a live cut-over uses and returns its environment: the source as root (a DBA account),
    /// "Aurora" as the restricted admin (procedures only), the emulator's admin interface. Every statement they send
    /// is recorded for the journal.
    ///
    /// - Parameter options: catch-up strategy and an optional session wrapper.
    /// - Returns: the environment, and a function that closes its connections.
    public func makeEnvironment(
        options: EnvironmentOptions = EnvironmentOptions(),
        logger: Logger
    ) async throws -> (CutoverEnvironment, @Sendable () async -> Void) {
        let sourceConnection = try await source.connectAsRoot(logger: logger)
        let targetConnection = try await MariaDBConnection.connect(configuration: auroraShim.adminConfiguration, logger: logger)
        // The admin sessions reconnect once when their connection drops (what `ProxySQLAdminClient.connect` does).
        // One persistent connection per node, opened in parallel before the run: no switch pays a connection
        // set-up (issue #16).
        let adminConnections = try await connectAdmins(logger: logger)
        func session(_ connection: any SQLSession, _ name: String) -> any SQLSession {
            options.wrapSession?(connection, name) ?? connection
        }
        // The library's front door records every statement, bounds the nodes and detects the databases.
        let environment: CutoverEnvironment
        do {
            environment = try await CutoverEnvironment.connect(
                CutoverEnvironment.Sessions(
                    topology: topology,
                    source: .init(
                        name: "source", address: "127.0.0.1:\(source.port)", session: session(sourceConnection, "source"),
                        useRDSProcedures: false),
                    target: .init(
                        name: "aurora", address: "127.0.0.1:\(target.port)", session: session(targetConnection, "aurora"),
                        useRDSProcedures: true),
                    proxyNodes: zip(adminConnections, proxyNodeNames).map { connection, name in
                        .init(name: name, session: session(connection, name))
                    },
                    forwardReplicationPassword: forwardReplicationPassword,
                    reverseReplicationPassword: reverseReplicationPassword,
                    catchUp: options.catchUp
                ),
                policy: options.policy,
                logger: logger
            )
        } catch {
            await sourceConnection.close()
            await targetConnection.close()
            for connection in adminConnections { await connection.close() }
            throw error
        }
        return (
            environment,
            {
                await sourceConnection.close()
                await targetConnection.close()
                for connection in adminConnections { await connection.close() }
            }
        )
    }

    static func randomSecret() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<20).map { _ in alphabet.randomElement()! })
    }
}

/// Runs `body` with a started ``Rehearsal`` and always stops it.
public func withRehearsal<Result: Sendable>(
    options: Rehearsal.Options = Rehearsal.Options(),
    logger: Logger,
    _ body: (Rehearsal) async throws -> Result
) async throws -> Result {
    let rehearsal = try await Rehearsal.start(options: options, logger: logger)
    do {
        let result = try await body(rehearsal)
        await rehearsal.stop()
        return result
    } catch {
        await rehearsal.stop()
        throw error
    }
}
