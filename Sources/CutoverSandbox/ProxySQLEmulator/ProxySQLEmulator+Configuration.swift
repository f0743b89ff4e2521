extension ProxySQLEmulator {
    /// How to start an emulator.
    public struct Configuration: Sendable {
        /// An account of the data plane (a `mysql_users` row): clients log in with it and the emulator uses the same
        /// credentials for its backend connections, as ProxySQL does.
        public struct User: Sendable, Hashable {
            /// The account's user name.
            public var username: String
            /// The account's password (used for the frontend login and the backend connections).
            public var password: String
            /// `mysql_users.default_hostgroup`: where the application port sends a statement no query rule routes
            /// (the hostgroup ports ignore it).
            public var defaultHostgroup: Int
            /// `mysql_users.transaction_persistent` (1 by default, as ProxySQL): on the application port, an open
            /// transaction keeps the session's statements in its hostgroup.
            public var transactionPersistent = true

            /// Creates a data-plane account.
            public init(username: String, password: String, defaultHostgroup: Int = 0) {
                self.username = username
                self.password = password
                self.defaultHostgroup = defaultHostgroup
            }
        }

        /// The admin account (`admin-admin_credentials`).
        public var adminUser: String
        /// The admin account's password.
        public var adminPassword: String
        /// Accounts of the data plane (`mysql_users`), loaded when no saved database exists yet.
        public var frontendUsers: [User]
        /// One data-plane listening port per hostgroup (port-based routing stands in for query rules); port 0
        /// picks a free port.
        public var hostgroupPorts: [Int: Int]
        /// The admin port; 0 picks a free port.
        public var adminPort: Int
        /// The application port (ProxySQL's `mysql-interfaces`, 6033 on a real ProxySQL): statements are routed by
        /// `mysql_users.default_hostgroup`, `mysql_query_rules` and `transaction_persistent`, as ProxySQL routes them.
        /// Nil (the default) opens none; 0 picks a free port.
        public var applicationPort: Int?
        /// Where `proxysql.db` (the `disk` database) lives. Nil uses a fresh temporary directory, removed by
        /// ``ProxySQLEmulator/stop()``. A directory that already holds a saved database is loaded from it, as
        /// ProxySQL does on a restart.
        public var dataDirectory: String?
        /// `@@version` on the admin port (ProxySQL's own version). The handshake announces
        /// `mysql-server_version` (8.0.11 by default), like ProxySQL.
        public var version: String
        /// Initial values of `global_variables` (names with their `mysql-` prefix), for example
        /// `["mysql-connect_timeout_server_max": "2000"]`; applied to memory and runtime at the first start.
        public var initialVariables: [String: String]
        /// How long the admin interface takes to answer: ``AdminLatencyProfile/realistic`` (a real ProxySQL
        /// 2.7.1's latencies, the default) or ``AdminLatencyProfile/fast`` (no padding, for unit-speed tests).
        public var adminLatency: AdminLatencyProfile = .realistic
        /// ProxySQL's `ConnUsed` is almost, not always, immediate: in one real run 1 poll in 10 that started after a
        /// COMMIT's acknowledgement still counted the connection. With a value N > 0, every N-th release of a
        /// backend connection stays counted by one more poll of `stats_mysql_connection_pool`. 0 (the default, for
        /// exact tests) turns it off; the rehearsal uses 10.
        public var lateConnUsedEvery = 0
        /// Extra time before the first statement on a freshly opened backend connection. A real ProxySQL opens
        /// fresh connections to a server that comes back from `OFFLINE_HARD` (its pool was emptied), and the first
        /// statements there took 10–13 ms on this machine (ProxySQL 2.7.1, MariaDB backends), against well under a
        /// millisecond on a warm connection. Zero (the default) keeps unit-speed tests fast; set it to rehearse
        /// what clients see right after a writer switch.
        public var coldConnectionDelay: Duration = .zero
        /// The second that SHUNNED counts connect errors in: the wall clock, as ProxySQL (tests only may hold it
        /// still; see ``ShunClock``).
        var shunClock: ShunClock = .wallClock
        /// Fault injection for the emulator's own tests (not public): runs after a backend answered a forwarded
        /// statement and before the session takes the answer in, with the statement and its backend connection (a
        /// test can cut the connection exactly there, as an `OFFLINE_HARD` LOAD or a `KILL` can on a loaded machine).
        var afterBackendAnswer: (@Sendable (_ statement: String, _ connection: BackendConnection) async -> Void)?

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - adminUser: admin account name.
        ///   - adminPassword: admin account password.
        ///   - frontendUsers: data-plane accounts.
        ///   - hostgroupPorts: hostgroup to port (0 for a free port); by default hostgroups 10 and 11.
        ///   - adminPort: admin port, 0 for a free one.
        ///   - dataDirectory: directory of `proxysql.db`, nil for a temporary one.
        ///   - version: what `SELECT @@version` answers on the admin interface.
        ///   - initialVariables: `global_variables` values set at start (`mysql-connect_timeout_server_max`, ...).
        public init(
            adminUser: String = "admin",
            adminPassword: String,
            frontendUsers: [User],
            hostgroupPorts: [Int: Int] = [10: 0, 11: 0],
            adminPort: Int = 0,
            dataDirectory: String? = nil,
            version: String = "2.7.1-emulator",
            initialVariables: [String: String] = [:]
        ) {
            self.adminUser = adminUser
            self.adminPassword = adminPassword
            self.frontendUsers = frontendUsers
            self.hostgroupPorts = hostgroupPorts
            self.adminPort = adminPort
            self.dataDirectory = dataDirectory
            self.version = version
            self.initialVariables = initialVariables
        }
    }
}
