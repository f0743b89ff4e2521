public import Logging
public import MariaDB
public import ProxySQLAdmin
public import ReplicationControl

/// The library's one front door to a live environment (issue #17): the CLI, the rehearsal and the DocC article open
/// their sessions as they must (a login path, a DBA account, a reconnecting admin session) and hand them here; this
/// builds the rest by construction — each session wrapped in a ``RecordingSQLSession`` so that the journal records
/// every statement, the databases' replication drivers, the ProxySQL admin clients with the policy's statement bound,
/// and the cluster with the one node deadline of ``nodeDeadline(for:)``.
extension CutoverEnvironment {
    /// An open session to one database and how the cut-over names and drives it.
    public struct DatabaseSession: Sendable {
        /// The journal's name for the statements sent over it (`source`, `target`).
        public var name: String
        /// Where it is (`10.0.0.5:3306`), for messages: the database is called `name (address)`.
        public var address: String
        /// The open session (not yet recording: the front door wraps it).
        public var session: any SQLSession
        /// Drive replication with Aurora's and RDS's `mysql.rds_*` procedures (true), with native statements (false),
        /// or as the server says (nil).
        public var useRDSProcedures: Bool?

        /// Describes a database session.
        public init(name: String, address: String, session: any SQLSession, useRDSProcedures: Bool? = nil) {
            self.name = name
            self.address = address
            self.session = session
            self.useRDSProcedures = useRDSProcedures
        }
    }

    /// An open admin session to one ProxySQL node.
    public struct ProxyNodeSession: Sendable {
        /// The node's name (the topology's and the journal's).
        public var name: String
        /// The open admin session (`quoting = .proxySQLAdmin`; not yet recording: the front door wraps it).
        public var session: any SQLSession

        /// Describes a node session.
        public init(name: String, session: any SQLSession) {
            self.name = name
            self.session = session
        }
    }

    /// Everything a live environment is built from: the open sessions, who is who, and the replication passwords.
    public struct Sessions: Sendable {
        /// Who is who.
        public var topology: CutoverTopology
        /// The source database's session.
        public var source: DatabaseSession
        /// The target (Aurora) database's session.
        public var target: DatabaseSession
        /// Every ProxySQL node's admin session, in topology order.
        public var proxyNodes: [ProxyNodeSession]
        /// Password of ``CutoverTopology/forwardReplicationUser``.
        public var forwardReplicationPassword: String
        /// Password of ``CutoverTopology/reverseReplicationUser``.
        public var reverseReplicationPassword: String
        /// What native replication into the source leaves out (Aurora's own tables, by default).
        public var filter: ReplicationFilter
        /// How catch-up waits watch the new writer.
        public var catchUp: CatchUpWaiter.Options

        /// Describes the sessions of an environment.
        public init(
            topology: CutoverTopology,
            source: DatabaseSession,
            target: DatabaseSession,
            proxyNodes: [ProxyNodeSession],
            forwardReplicationPassword: String,
            reverseReplicationPassword: String,
            filter: ReplicationFilter = .ignoreRDSTables,
            catchUp: CatchUpWaiter.Options = CatchUpWaiter.Options()
        ) {
            self.topology = topology
            self.source = source
            self.target = target
            self.proxyNodes = proxyNodes
            self.forwardReplicationPassword = forwardReplicationPassword
            self.reverseReplicationPassword = reverseReplicationPassword
            self.filter = filter
            self.catchUp = catchUp
        }
    }

    /// How long one node may take for one cluster operation (a status change is an UPDATE, a LOAD and a runtime
    /// read): three admin statements of the policy, and never under 2 s. The one node deadline of every live
    /// environment.
    public static func nodeDeadline(for policy: CutoverPolicy) -> Duration {
        max(policy.adminStatementTimeout * 3, .seconds(2))
    }

    /// Builds the environment of a live run over open sessions: every statement is recorded for the journal, the
    /// databases are detected (dialect, RDS procedures), the nodes' admin statements are bounded by
    /// ``CutoverPolicy/adminStatementTimeout`` and each node's share of a cluster operation by
    /// ``nodeDeadline(for:)``, and the guards get the live ``ReplicationLoginProbe``. The caller keeps the sessions and
    /// closes them after the run.
    ///
    /// - Throws: when a database cannot be detected (its dialect or replication state cannot be read).
    public static func connect(_ sessions: Sessions, policy: CutoverPolicy, logger: Logger) async throws
        -> CutoverEnvironment
    {
        var environment = CutoverEnvironment(
            topology: sessions.topology,
            source: try await database(sessions.source, filter: sessions.filter, catchUp: sessions.catchUp, logger: logger),
            target: try await database(sessions.target, filter: sessions.filter, catchUp: sessions.catchUp, logger: logger),
            proxies: proxyCluster(sessions.proxyNodes, policy: policy),
            forwardReplicationPassword: sessions.forwardReplicationPassword,
            reverseReplicationPassword: sessions.reverseReplicationPassword
        )
        // The guards log in with the replication account before a writer switch (issue #13 item 5).
        environment.replicationLoginProbe = ReplicationLoginProbe()
        return environment
    }

    /// One database as the cut-over drives it (native replication statements, or the RDS procedures), its statements
    /// recorded for the journal unless `recording` is off (read-only inspection).
    public static func database(
        _ database: DatabaseSession,
        filter: ReplicationFilter = .ignoreRDSTables,
        catchUp: CatchUpWaiter.Options = CatchUpWaiter.Options(),
        recording: Bool = true,
        logger: Logger
    ) async throws -> ReplicationControlDatabase {
        try await ReplicationControlDatabase.connect(
            name: "\(database.name) (\(database.address))",
            session: recording ? RecordingSQLSession(database.session, name: database.name) : database.session,
            useRDSProcedures: database.useRDSProcedures,
            filter: filter,
            catchUp: catchUp,
            logger: logger
        )
    }

    /// The ProxySQL nodes as one cluster: admin statements bounded by the policy, the node deadline of
    /// ``nodeDeadline(for:)``, statements recorded for the journal unless `recording` is off.
    public static func proxyCluster(_ nodes: [ProxyNodeSession], policy: CutoverPolicy, recording: Bool = true)
        -> ProxySQLCluster
    {
        ProxySQLCluster(
            nodes: nodes.map { node in
                ProxySQLAdminClient(
                    session: recording ? RecordingSQLSession(node.session, name: node.name) : node.session,
                    name: node.name,
                    statementTimeout: policy.adminStatementTimeout
                )
            },
            nodeDeadline: nodeDeadline(for: policy)
        )
    }
}
