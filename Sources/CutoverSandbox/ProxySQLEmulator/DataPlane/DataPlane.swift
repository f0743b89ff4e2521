import Logging
import NIOCore
import Synchronization

/// A frontend user: credentials clients log in with, also used by the emulator for its backend connections
/// (ProxySQL's `mysql_users` serve both sides the same way).
struct FrontendCredentials: Sendable, Equatable {
    var username: String
    var password: String
    var active: Bool
    var defaultHostgroup: Int
    /// `mysql_users.transaction_persistent` (ProxySQL's default is 1): an open transaction holds the session's
    /// statements in its hostgroup whatever the query rules say.
    var transactionPersistent = true
}

/// The live state shared by the data plane sessions, the admin interface and the idle-timer sweeper: runtime
/// servers with their connection pools, sessions, runtime variables. Every access goes through one mutex and is
/// short (no I/O under the lock, except closing channels, which only schedules work on their event loops).
final class DataPlane: Sendable {
    struct ServerRecord {
        var config: RuntimeServerConfig
        /// In `runtime_mysql_servers` (false once OFFLINE_HARD or removed: hidden, but its used connections live on).
        var inRuntime: Bool
        var free: [BackendConnection] = []
        var used = 0
        var connecting = 0
        var connectionsOK = 0
        var connectionsFailed = 0
        var maxUsed = 0
        var queries = 0
        var bytesSent = 0
        var bytesReceived = 0
        /// Listed in `stats_mysql_connection_pool`. A server that goes OFFLINE_HARD while sessions still hold
        /// connections to it stays listed (status OFFLINE_HARD, `ConnUsed` = connections held) until a LOAD finds
        /// it holding none: ProxySQL purges such servers at LOAD time only.
        var listedInPool = true
        /// Releases not yet shown in `ConnUsed` (the late poll of ``lateConnUsedEvery``).
        var lateUsed = 0
        /// Connect errors counted for automatic `SHUNNED` (`DataPlane+Shunning.swift`).
        var shun = ShunCounter()

        var acceptsNewConnections: Bool { inRuntime && config.status == .online && config.weight > 0 }
    }

    enum Command: String, Sendable {
        case sleep = "Sleep"
        case query = "Query"
    }

    struct SessionRecord {
        let id: UInt32
        var user: String
        var schema: String?
        let clientHost: String
        let clientPort: Int
        /// The hostgroup of the session's last statement (its port's, or where the query rules sent it).
        var hostgroup: Int
        let frontend: any Channel
        var command = Command.sleep
        var commandStarted: ContinuousClock.Instant
        var lastActive: ContinuousClock.Instant
        var info: String?
        var backend: BackendConnection?
        var pins: PinReasons = []
        var autoIncrementTokens = 0
        var killed = false
    }

    struct State {
        var servers: [ServerKey: ServerRecord] = [:]
        var serverOrder: [ServerKey] = []
        var sessions: [UInt32: SessionRecord] = [:]
        var variables = RuntimeVariables()
        var users: [String: FrontendCredentials] = [:]
        /// `runtime_mysql_query_rules` and the fast-routing table, compiled (the application port routes by them).
        var queryRules = QueryRuleSet.empty
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID: UInt64 = 0
        var nextSessionID: UInt32 = 1
        var nextBackendID: UInt64 = 1
        var stopped = false
        /// Every server of the last LOAD, in its order (OFFLINE_HARD ones included), for the pool statistics.
        var loadOrder: [ServerKey] = []
        /// Every this-many-th connection release stays counted in `ConnUsed` for one more poll (0: never).
        var lateConnUsedEvery = 0
        var releases = 0
        /// Query digests (`stats_mysql_query_digest`), by (hostgroup, schema, user, digest text).
        var digests: [DigestKey: DigestStats] = [:]
    }

    let state = Mutex(State())
    let logger: Logger

    /// Extra time before the first statement on a freshly opened backend connection (see
    /// ``ProxySQLEmulator/Configuration/coldConnectionDelay``).
    let coldConnectionDelay: Duration

    /// The second that shunning counts in (the wall clock, as ProxySQL; a test may hold it still).
    let shunClock: ShunClock

    /// Fault injection for tests: runs after a backend answered a forwarded statement, before the session takes the
    /// answer in (see ``ProxySQLEmulator/Configuration/afterBackendAnswer``).
    let afterBackendAnswer: (@Sendable (_ statement: String, _ connection: BackendConnection) async -> Void)?

    init(
        logger: Logger,
        coldConnectionDelay: Duration = .zero,
        shunClock: ShunClock = .wallClock,
        afterBackendAnswer: (@Sendable (_ statement: String, _ connection: BackendConnection) async -> Void)? = nil
    ) {
        self.logger = logger
        self.coldConnectionDelay = coldConnectionDelay
        self.shunClock = shunClock
        self.afterBackendAnswer = afterBackendAnswer
    }

    var variables: RuntimeVariables { state.withLock { $0.variables } }

    // MARK: Runtime changes (admin LOAD)

    /// Applies `LOAD MYSQL SERVERS TO RUNTIME`: new statuses take effect at once. OFFLINE_HARD (or removed) servers
    /// leave the runtime: their free connections are closed and statements running on them are cut; idle sessions
    /// pinned to them keep their connection until their next statement. OFFLINE_SOFT servers get no new
    /// assignment and their free connections are closed. Waiting statements are woken up.
    func loadServers(_ configs: [RuntimeServerConfig]) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            var seen = Set<ServerKey>()
            var order: [ServerKey] = []
            for config in configs {
                seen.insert(config.key)
                order.append(config.key)
                var record = state.servers[config.key] ?? ServerRecord(config: config, inRuntime: true)
                let wasListed = record.inRuntime || record.listedInPool
                // A LOAD sets the configured status: a server shunned automatically whose row says ONLINE is back
                // ONLINE (ProxySQL compares the incoming rows with the live statuses); a row saying SHUNNED is a
                // manual shun, which never recovers by itself.
                if !(config.status == .shunned && record.config.status == .shunned) { record.shun.automatic = false }
                record.config = config
                record.inRuntime = config.status != .offlineHard
                record.listedInPool = record.inRuntime || (wasListed && record.used + record.connecting > 0)
                state.servers[config.key] = record
            }
            for (key, var record) in state.servers where !seen.contains(key) {
                let wasListed = record.inRuntime || record.listedInPool
                record.inRuntime = false
                record.config.status = .offlineHard
                record.listedInPool = wasListed && record.used + record.connecting > 0
                state.servers[key] = record
                if record.listedInPool { order.append(key) }
            }
            state.loadOrder = order
            state.serverOrder = order.filter { state.servers[$0]?.inRuntime == true }
            for (key, var record) in state.servers where record.config.status != .online || !record.inRuntime {
                for connection in record.free { connection.close() }
                record.free.removeAll()
                state.servers[key] = record
                if !record.inRuntime {
                    for session in state.sessions.values where session.command == .query {
                        if let backend = session.backend, backend.server == key {
                            backend.close(reason: .offlineHard)
                        }
                    }
                }
            }
            // Forget servers that left the runtime and hold no connection any more.
            for (key, record) in state.servers where !record.inRuntime && record.used == 0 && record.connecting == 0 {
                if !seen.contains(key) { state.servers[key] = nil }
            }
            return Self.bumpGeneration(&state)
        }
        for waiter in waiters { waiter.resume() }
    }

    func loadVariables(_ values: [String: String]) -> [String] {
        let (refused, waiters) = state.withLock { state in
            let refused = state.variables.apply(values)
            return (refused, Self.bumpGeneration(&state))
        }
        for waiter in waiters { waiter.resume() }
        return refused
    }

    func loadUsers(_ users: [FrontendCredentials]) {
        state.withLock { state in
            state.users = Dictionary(users.map { ($0.username, $0) }, uniquingKeysWith: { _, last in last })
        }
    }

    func credentials(for username: String) -> FrontendCredentials? {
        state.withLock { $0.users[username] }
    }

    private static func bumpGeneration(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        state.generation &+= 1
        let waiters = Array(state.waiters.values)
        state.waiters.removeAll()
        return waiters
    }

    /// Waits until the runtime changes after `generation`, or until `deadline`; returns whether it changed.
    func waitForRuntimeChange(after generation: UInt64, until deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            group.addTask {
                await self.runtimeChange(after: generation)
                return true
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    private func runtimeChange(after generation: UInt64) async {
        let id: UInt64 = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != generation || state.stopped || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    // MARK: Sessions

    /// Registers a logged-in client under `id` (reserved with ``reserveSessionID()`` for the handshake).
    func registerSession(
        id: UInt32,
        user: String,
        schema: String?,
        clientHost: String,
        clientPort: Int,
        hostgroup: Int,
        frontend: any Channel
    ) -> Bool {
        state.withLock { state in
            if state.stopped { return false }
            let now = ContinuousClock.now
            state.sessions[id] = SessionRecord(
                id: id,
                user: user,
                schema: schema,
                clientHost: clientHost,
                clientPort: clientPort,
                hostgroup: hostgroup,
                frontend: frontend,
                commandStarted: now,
                lastActive: now,
                pins: state.variables.multiplexing ? [] : [.noMultiplex]
            )
            return true
        }
    }

    func reserveSessionID() -> UInt32 {
        state.withLock { state in
            let id = state.nextSessionID
            state.nextSessionID &+= 1
            return id
        }
    }

    /// Removes a session; its backend connection (if any) is returned to the pool when clean, closed otherwise.
    func unregisterSession(_ id: UInt32, backendReusable: Bool) {
        state.withLock { state in
            guard let session = state.sessions.removeValue(forKey: id) else { return }
            if let backend = session.backend {
                Self.release(backend, reusable: backendReusable && session.pins.isEmpty && session.autoIncrementTokens == 0, state: &state)
            }
        }
    }

    /// Closes a session from outside (admin `KILL CONNECTION`, idle timers): its backend connection is closed
    /// and no longer counted as used, then its client connection is closed. Returns false for an unknown id.
    @discardableResult
    func killSession(_ id: UInt32) -> Bool {
        let frontend: (any Channel)? = state.withLock { state in
            guard var session = state.sessions[id] else { return nil }
            session.killed = true
            if let backend = session.backend {
                backend.close(reason: .sessionKilled)
                Self.release(backend, reusable: false, state: &state)
                session.backend = nil
            }
            state.sessions[id] = session
            return session.frontend
        }
        frontend?.close(promise: nil)
        return frontend != nil
    }

    func isKilled(_ id: UInt32) -> Bool {
        state.withLock { $0.sessions[id]?.killed ?? true }
    }

    /// Marks the start of a command.
    func beginCommand(_ id: UInt32, info: String?) {
        state.withLock { state in
            guard state.sessions[id] != nil else { return }
            let now = ContinuousClock.now
            state.sessions[id]!.command = .query
            state.sessions[id]!.commandStarted = now
            state.sessions[id]!.lastActive = now
            state.sessions[id]!.info = info
        }
    }

    func endCommand(_ id: UInt32) {
        state.withLock { state in
            guard state.sessions[id] != nil else { return }
            let now = ContinuousClock.now
            state.sessions[id]!.command = .sleep
            state.sessions[id]!.commandStarted = now
            state.sessions[id]!.lastActive = now
            state.sessions[id]!.info = nil
        }
    }

    func setUser(_ id: UInt32, user: String) {
        state.withLock { state in
            if state.sessions[id] != nil { state.sessions[id]!.user = user }
        }
    }

    func setSchema(_ id: UInt32, schema: String?) {
        state.withLock { state in
            if state.sessions[id] != nil { state.sessions[id]!.schema = schema }
        }
    }

    func session(_ id: UInt32) -> SessionRecord? {
        state.withLock { $0.sessions[id] }
    }

    // MARK: Backend assignment

    enum Acquisition {
        /// The session's own (pinned) connection, still on a usable server.
        case pinned(BackendConnection)
        /// The session is pinned to a connection whose server went OFFLINE_HARD (or left the runtime).
        case pinnedToOfflineHard(BackendConnection)
        /// A free connection from the pool, now the session's.
        case pooled(BackendConnection)
        /// No free connection: open one to this server, then call ``attachNew(_:to:)``.
        case connect(ServerKey)
        /// No ONLINE server in the hostgroup: wait for a runtime change after this generation.
        case wait(generation: UInt64)
        case sessionGone
    }

    func acquire(session id: UInt32, hostgroup: Int, user: String) -> Acquisition {
        state.withLock { state in
            guard !state.stopped, let session = state.sessions[id], !session.killed else { return .sessionGone }
            if let backend = session.backend {
                let record = state.servers[backend.server]
                if record == nil || record!.inRuntime == false { return .pinnedToOfflineHard(backend) }
                return .pinned(backend)
            }
            let second = shunClock.second()
            Self.recoverShunned(hostgroup: hostgroup, desperate: false, second: second, state: &state)
            func usable(_ state: inout State) -> [(ServerKey, Int)] { state.serverOrder.compactMap { key -> (ServerKey, Int)? in
                guard key.hostgroup == hostgroup, var record = state.servers[key], record.acceptsNewConnections else { return nil }
                // Free connections the backend closed meanwhile (server restart, wait_timeout) are dropped.
                if record.free.contains(where: { !$0.isActive }) {
                    record.free.removeAll { !$0.isActive }
                    state.servers[key] = record
                }
                let hasFree = record.free.contains { $0.user == user }
                if !hasFree && record.used + record.free.count + record.connecting >= record.config.maxConnections {
                    return nil
                }
                return (key, record.config.weight)
            } }
            var candidates = usable(&state)
            // No usable server: ProxySQL's "desperate attempt" tries shunned servers after a shorter wait.
            if candidates.isEmpty, Self.recoverShunned(hostgroup: hostgroup, desperate: true, second: second, state: &state) > 0 {
                candidates = usable(&state)
            }
            guard !candidates.isEmpty else { return .wait(generation: state.generation) }
            let total = candidates.reduce(0) { $0 + $1.1 }
            var pick = Int.random(in: 0..<max(1, total))
            var chosen = candidates[0].0
            for (key, weight) in candidates {
                if pick < weight {
                    chosen = key
                    break
                }
                pick -= weight
            }
            var record = state.servers[chosen]!
            if let index = record.free.lastIndex(where: { $0.user == user && $0.isActive }) {
                let connection = record.free.remove(at: index)
                record.used += 1
                record.maxUsed = max(record.maxUsed, record.used)
                state.servers[chosen] = record
                state.sessions[id]!.backend = connection
                return .pooled(connection)
            }
            record.connecting += 1
            state.servers[chosen] = record
            return .connect(chosen)
        }
    }

    func nextBackendID() -> UInt64 {
        state.withLock { state in
            defer { state.nextBackendID += 1 }
            return state.nextBackendID
        }
    }

    /// Attaches a freshly opened connection to the session; false (and the connection closed) when the server
    /// stopped accepting new connections meanwhile or the session is gone.
    func attachNew(_ connection: BackendConnection, to id: UInt32) -> Bool {
        let attached = state.withLock { state -> Bool in
            guard var record = state.servers[connection.server] else { return false }
            record.connecting -= 1
            record.connectionsOK += 1
            guard record.acceptsNewConnections, let session = state.sessions[id], !session.killed, session.backend == nil
            else {
                state.servers[connection.server] = record
                return false
            }
            record.used += 1
            record.maxUsed = max(record.maxUsed, record.used)
            state.servers[connection.server] = record
            state.sessions[id]!.backend = connection
            return true
        }
        if !attached { connection.close() }
        return attached
    }

    /// Updates pins after a statement and, when nothing pins the session any more, returns its connection to the
    /// pool (or closes it when its server is no longer ONLINE). Called before the answer is sent to the client,
    /// so `ConnUsed` is already right when the client sees it.
    func finishStatement(
        session id: UInt32,
        connection: BackendConnection,
        pins: PinReasons,
        autoIncrementTokens: Int,
        queries: Int,
        bytesSent: Int,
        bytesReceived: Int,
        connectionBroken: Bool
    ) {
        state.withLock { state in
            if var record = state.servers[connection.server] {
                record.queries += queries
                record.bytesSent += bytesSent
                record.bytesReceived += bytesReceived
                state.servers[connection.server] = record
            }
            guard var session = state.sessions[id], session.backend === connection else { return }
            session.pins = pins
            session.autoIncrementTokens = autoIncrementTokens
            session.lastActive = .now
            let pinned = !pins.isEmpty || autoIncrementTokens > 0
            // A connection that broke under a session that still needs it (a transaction, session variables, the
            // auto-increment delay after an INSERT) stays attached: ProxySQL never moves such a session to another
            // backend behind its back; its next statement gets 2013 (and the frontend is closed when OFFLINE_HARD
            // cut it, `pinnedToOfflineHard`). Releasing it here let that next statement run on another connection:
            // a `SELECT LAST_INSERT_ID()` read that connection's id, a COMMIT answered OK for nothing (issue #18).
            if !pinned {
                session.backend = nil
                Self.release(connection, reusable: !connectionBroken, state: &state)
            }
            state.sessions[id] = session
        }
    }

    /// Sets the session's pins without a backend statement (tracked SET answered locally, resets).
    func setPins(session id: UInt32, pins: PinReasons, autoIncrementTokens: Int? = nil) {
        state.withLock { state in
            guard state.sessions[id] != nil else { return }
            state.sessions[id]!.pins = pins
            if let autoIncrementTokens { state.sessions[id]!.autoIncrementTokens = autoIncrementTokens }
        }
    }

    /// Detaches and releases the session's connection, whatever pins it (COM_RESET_CONNECTION, lost connection).
    func detachBackend(session id: UInt32, reusable: Bool) {
        state.withLock { state in
            guard var session = state.sessions[id], let backend = session.backend else { return }
            session.backend = nil
            session.autoIncrementTokens = 0
            state.sessions[id] = session
            Self.release(backend, reusable: reusable, state: &state)
        }
    }

    private static func release(_ connection: BackendConnection, reusable: Bool, state: inout State) {
        guard var record = state.servers[connection.server] else {
            connection.close()
            return
        }
        record.used -= 1
        state.releases &+= 1
        if state.lateConnUsedEvery > 0, state.releases % state.lateConnUsedEvery == 0 { record.lateUsed += 1 }
        if reusable && record.acceptsNewConnections && connection.isActive && connection.closeReason == nil {
            record.free.append(connection)
        } else {
            connection.close()
        }
        state.servers[connection.server] = record
    }

    // MARK: Idle timers

    /// Releases auto-increment pins idle for longer than `mysql-auto_increment_delay_multiplex_timeout_ms`, and
    /// returns sessions idle past `mysql-max_transaction_idle_time` (in a transaction) or `mysql-wait_timeout`.
    func sweepIdleSessions(now: ContinuousClock.Instant) -> [UInt32] {
        state.withLock { state in
            var expired: [UInt32] = []
            let variables = state.variables
            for (id, var session) in state.sessions where session.command == .sleep && !session.killed {
                let idle = now - session.lastActive
                if session.autoIncrementTokens > 0,
                    idle >= .milliseconds(variables.autoIncrementDelayMultiplexTimeoutMs)
                {
                    session.autoIncrementTokens = 0
                    if session.pins.isEmpty, let backend = session.backend {
                        session.backend = nil
                        Self.release(backend, reusable: true, state: &state)
                    }
                    state.sessions[id] = session
                }
                if session.pins.contains(.transaction), idle >= .milliseconds(variables.maxTransactionIdleTime) {
                    expired.append(id)
                } else if variables.waitTimeout > 0, idle >= .milliseconds(variables.waitTimeout) {
                    expired.append(id)
                }
            }
            return expired
        }
    }

    // MARK: Statistics

    struct PoolRow {
        var config: RuntimeServerConfig
        var used: Int
        var free: Int
        var connectionsOK: Int
        var connectionsFailed: Int
        var maxUsed: Int
        var queries: Int
        var bytesSent: Int
        var bytesReceived: Int
    }

    /// `stats_mysql_connection_pool`: servers in the runtime, and OFFLINE_HARD ones while sessions hold connections
    /// to them (and until the next LOAD after the last one was let go), as observed on ProxySQL 2.7.1. An
    /// OFFLINE_HARD server nobody held at its LOAD is absent. A release picked by ``State/lateConnUsedEvery`` is
    /// still counted in `ConnUsed` by this one poll.
    func poolRows() -> [PoolRow] {
        state.withLock { state in
            state.loadOrder.compactMap { key in
                guard var record = state.servers[key], record.inRuntime || record.listedInPool else { return nil }
                let late = record.lateUsed
                if late > 0 {
                    record.lateUsed = 0
                    state.servers[key] = record
                }
                return PoolRow(
                    config: record.config,
                    used: record.used + late,
                    free: record.free.count,
                    connectionsOK: record.connectionsOK,
                    connectionsFailed: record.connectionsFailed,
                    maxUsed: record.maxUsed,
                    queries: record.queries,
                    bytesSent: record.bytesSent,
                    bytesReceived: record.bytesReceived
                )
            }
        }
    }

    func sessionsSnapshot() -> [SessionRecord] {
        state.withLock { state in state.sessions.values.sorted { $0.id < $1.id } }
    }

    /// Stops accepting sessions, wakes every waiter and returns every frontend channel and backend connection.
    func shutdown() -> (frontends: [any Channel], backends: [BackendConnection]) {
        let (frontends, backends, waiters) = state.withLock { state in
            state.stopped = true
            let frontends = state.sessions.values.map(\.frontend)
            var backends = state.sessions.values.compactMap(\.backend)
            for record in state.servers.values { backends += record.free }
            for key in state.servers.keys { state.servers[key]!.free.removeAll() }
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            return (frontends, backends, waiters)
        }
        for waiter in waiters { waiter.resume() }
        return (frontends, backends)
    }
}
