import Foundation
import Logging
import ReplicationControl
import MariaDB
public import ProxySQLAdmin

/// Everything a live run talks to: the two databases, the ProxySQL nodes, and the replication passwords.
public struct CutoverEnvironment: Sendable {
    /// Who is who.
    public var topology: CutoverTopology
    /// The source database.
    public var source: any CutoverDatabase
    /// The target (Aurora) database.
    public var target: any CutoverDatabase
    /// Every ProxySQL node.
    public var proxies: ProxySQLCluster
    /// Password of ``CutoverTopology/forwardReplicationUser`` (target replicating from source).
    public var forwardReplicationPassword: String
    /// Password of ``CutoverTopology/reverseReplicationUser`` (source replicating from target).
    public var reverseReplicationPassword: String
    /// Logs in with the replication account the old writer will use after a writer switch, for the guards
    /// (``ReversePrerequisites``); nil: no login is probed (test doubles). ``connect(_:policy:logger:)`` sets the live
    /// ``ReplicationLoginProbe``.
    public var replicationLoginProbe: (any ReplicationLoginProbing)?

    /// Creates an environment.
    public init(
        topology: CutoverTopology,
        source: any CutoverDatabase,
        target: any CutoverDatabase,
        proxies: ProxySQLCluster,
        forwardReplicationPassword: String,
        reverseReplicationPassword: String
    ) {
        self.topology = topology
        self.source = source
        self.target = target
        self.proxies = proxies
        self.forwardReplicationPassword = forwardReplicationPassword
        self.reverseReplicationPassword = reverseReplicationPassword
    }

    /// The database playing `role`.
    public func database(_ role: DatabaseRole) -> any CutoverDatabase {
        role == .source ? source : target
    }
}

/// Performs actions against real endpoints through the lower layers' protocols.
///
/// Status changes go to every ProxySQL node (one LOAD per change and per node) and are verified in each node's
/// runtime; the ONLINE of a writer re-asserts, in the same change, that the other writer is OFFLINE_HARD, so no
/// node can ever hold two ONLINE writers.
public struct LiveCutoverExecutor: CutoverExecutor {
    /// What the executor acts on.
    public let environment: CutoverEnvironment

    /// Creates an executor. The policy and the clock of a run are not the executor's: every action is performed
    /// under the ``CutoverExecutionContext/policy`` and on the ``CutoverExecutionContext/sleep`` of the context the
    /// runner hands it (the journaled policy on resume, the run's clock).
    public init(environment: CutoverEnvironment) {
        self.environment = environment
    }

    /// Performs `action` and returns its event and the statements it sent. Never throws: a failure is
    /// ``CutoverEvent/stepFailed(_:at:)``.
    public func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult {
        await LiveCutoverStep(environment: environment, context: context).perform(action, context: context)
    }
}

/// One action of a run, performed by ``LiveCutoverExecutor`` under the run's policy and on the run's clock, both
/// taken from the action's ``CutoverExecutionContext`` (one policy and one clock per run, issue #17).
struct LiveCutoverStep: Sendable {
    /// What the step acts on.
    let environment: CutoverEnvironment
    /// The run's policy (``CutoverExecutionContext/policy``): the bounds of the run and the guards' limits.
    let policy: CutoverPolicy
    /// Sleeps on the run's clock (``CutoverExecutionContext/sleep``), the clock `elapsed` is read from.
    let sleep: @Sendable (Duration) async throws -> Void
    /// ``CutoverEnvironment/proxies`` with every admin statement bounded by
    /// ``CutoverPolicy/adminStatementTimeout``, whoever built the clients.
    let proxies: ProxySQLCluster

    /// A step of the run `context` belongs to.
    init(environment: CutoverEnvironment, context: CutoverExecutionContext) {
        self.environment = environment
        self.policy = context.policy
        self.sleep = context.sleep
        self.proxies = environment.proxies.boundingEachStatement(by: context.policy.adminStatementTimeout)
    }

    var topology: CutoverTopology { environment.topology }

    /// Performs `action` and returns its event and the statements it sent.
    func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult {
        let recorder = StatementRecorder()
        let event = await StatementRecorder.$current.withValue(recorder) {
            await performRecorded(action, context: context)
        }
        return CutoverStepResult(event: event, statements: recorder.recorded)
    }

    /// Performs `action` by its family: the guards, ProxySQL (``performProxyAction(_:context:)``), the databases'
    /// fence and position (``performDatabaseAction(_:context:)``), replication
    /// (``performReplicationAction(_:context:)``). A thrown error is a failure that may have taken effect.
    private func performRecorded(_ action: CutoverAction, context: CutoverExecutionContext) async
        -> CutoverEvent
    {
        do {
            switch action {
            case .runGuards(let operation):
                return await runGuards(operation, context: context)
            case .prepareProxy, .settleAutoIncrementPins, .setStatus, .watchNewWriter, .pollDrain, .closeSessions,
                .restoreProxySettings, .saveProxyConfiguration:
                return try await performProxyAction(action, context: context)
            case .fence, .liftFence, .readPosition, .proveFenceHeld, .persistReadOnly:
                return try await performDatabaseAction(action, context: context)
            case .settleReplication, .waitForCatchUp, .stopReplication, .startReplication, .verifyReplication:
                return try await performReplicationAction(action, context: context)
            case .wait, .finish:
                preconditionFailure("\(action) is not performed by an executor")
            }
        } catch {
            return stepFailed(action, "\(error)", mayHaveTakenEffect: true, error: error, context: context)
        }
    }

    // MARK: Messages

    /// The ``CutoverEvent/stepFailed(_:at:)`` of `action`: on `endpoint` (by default the one the
    /// action talks to), with `remedy` or else the usual one for the action (and `error`, when known).
    func stepFailed(
        _ action: CutoverAction,
        _ message: String,
        endpoint: String? = nil,
        mayHaveTakenEffect: Bool = false,
        error: (any Error)? = nil,
        remedy: String? = nil,
        context: CutoverExecutionContext
    ) -> CutoverEvent {
        let endpoint = endpoint ?? endpointName(of: action)
        return .stepFailed(
            StepFailure(
                step: CutoverRunner.describe(action),
                message: message,
                endpoint: endpoint,
                mayHaveTakenEffect: mayHaveTakenEffect,
                remedy: remedy ?? self.remedy(for: action, endpoint: endpoint, error: error)
            ),
            at: context.elapsed()
        )
    }

    /// The endpoint an action talks to, for failure messages.
    func endpointName(of action: CutoverAction) -> String? {
        switch action {
        case .closeSessions(let role), .fence(let role, _), .liftFence(let role), .readPosition(let role), .proveFenceHeld(let role, _),
            .waitForCatchUp(let role, _, _), .stopReplication(let role), .startReplication(let role, _, _),
            .verifyReplication(let role), .persistReadOnly(let role, _), .settleReplication(let role, _, _, _):
            return environment.database(role).name
        case .setStatus, .watchNewWriter, .pollDrain, .prepareProxy, .settleAutoIncrementPins, .restoreProxySettings,
            .saveProxyConfiguration:
            return "ProxySQL " + proxies.nodeNames.joined(separator: ", ")
        case .runGuards, .wait, .finish:
            return nil
        }
    }

    /// What the operator can do about a failure of `action` on `endpoint` (caused by `error`, when known).
    func remedy(for action: CutoverAction, endpoint: String?, error: (any Error)? = nil) -> String {
        let target = endpoint ?? "the endpoint"
        if let error, let remedy = Self.ownRefusal(error)?.remedy { return remedy }
        if let error = error as? ReplicationError, error.code == .stepTimedOut {
            return "find what blocks replication on \(target) (SHOW PROCESSLIST: a session holding FLUSH TABLES WITH "
                + "READ LOCK, a backup tool, a long transaction), release it, then finish with `migrate-cli resume`"
        }
        if let error, Self.meansUnreachable(error) {
            switch action {
            case .stopReplication, .startReplication, .verifyReplication, .persistReadOnly, .restoreProxySettings,
                .saveProxyConfiguration:
                return "bring \(target) back (is it running, reachable, accepting the cut-over account?), then finish "
                    + "with `migrate-cli resume`"
            default:
                return "check that \(target) is running and reachable with the cut-over account"
            }
        }
        switch action {
        case .setStatus, .watchNewWriter, .pollDrain, .prepareProxy, .settleAutoIncrementPins, .restoreProxySettings,
            .saveProxyConfiguration:
            return "check that \(target) answers on its admin port with the configured account, and compare its "
                + "runtime_mysql_servers with `migrate-cli status`"
        case .persistReadOnly:
            return "check that \(target) is up and that the cut-over account may set read_only, then finish with "
                + "`migrate-cli resume`"
        case .closeSessions, .fence, .liftFence, .readPosition, .proveFenceHeld:
            return "check that \(target) is up and reachable with the cut-over account"
        case .waitForCatchUp, .settleReplication:
            return "check replication into \(target) (SHOW REPLICA STATUS: threads, last error, lag); run the "
                + "operation again once it replicates cleanly and has caught up"
        case .stopReplication, .startReplication, .verifyReplication:
            return "fix replication on \(target) (SHOW REPLICA STATUS shows the error), then finish with "
                + "`migrate-cli resume`"
        case .runGuards, .wait, .finish:
            return "fix the cause and run again"
        }
    }

    /// A refusal of the executor's own (a ``CutoverError`` with its remedy), also when a node's result wrapped it.
    static func ownRefusal(_ error: any Error) -> CutoverError? {
        if let error = error as? CutoverError { return error }
        if let error = error as? ProxySQLAdminError { return error.underlying.flatMap { $0 as? CutoverError } }
        return nil
    }

    /// Whether `error` says the endpoint could not be reached or the connection broke.
    static func meansUnreachable(_ error: any Error) -> Bool {
        if let error = error as? MariaDBError {
            return error.isConnectionLost || error.code == .connectionFailed || error.code == .connectionClosed
        }
        if let error = error as? ReplicationError {
            if let underlying = error.underlying { return meansUnreachable(underlying) }
            return error.serverErrorNumber.map { [2002, 2003, 2006, 2013, 2055].contains($0) } ?? false
        }
        if let error = error as? ProxySQLAdminError {
            if error.code == .connectionFailed || error.code == .connectionLost { return true }
            return error.underlying.map(meansUnreachable) ?? false
        }
        if let error = error as? CutoverError { return error.underlying.map(meansUnreachable) ?? false }
        return false
    }

    // MARK: Stoppable waits

    /// Runs `wait` until it returns, or until a stop is requested (checked every 10 ms): then the wait is
    /// cancelled (its statement is interrupted) and the result is nil. A wait that finished first wins.
    func untilStopRequested<T: Sendable>(
        _ context: CutoverExecutionContext,
        _ wait: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        if context.isStopRequested() { return nil }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await wait() }
            group.addTask {
                while !context.isStopRequested() {
                    try await Task.sleep(for: .milliseconds(10))
                }
                return nil
            }
            defer { group.cancelAll() }
            // The first to end decides; the other is cancelled (its error, if any, is of no interest then).
            guard let first = try await group.next() else { return nil }
            return first
        }
    }

    // MARK: Drain

    // MARK: Auto-increment pin settle

    /// A session on one ProxySQL node.
    private struct NodeSession: Hashable {
        var node: String
        var session: ProxySQLSessionID
    }

    /// Lets the auto-increment pins taken before the relaxation run out (see
    /// ``CutoverAction/settleAutoIncrementPins(_:timeout:interval:)``).
    ///
    /// The signal, on real ProxySQL and on the emulator alike: a session pinned to its backend connection keeps it
    /// between statements, so it stays in `stats_mysql_processlist` with `srv_host`/`srv_port` of the server and the
    /// same `l_srv_port` (ProxySQL's end of that one connection). The first poll lists the sessions attached now; a
    /// session is done once a later poll shows it without a connection to the server (it returned the connection
    /// to the pool: its pin is over, and with the pin relaxed it takes no new one) or on another connection (it
    /// returned one in between). When ProxySQL's `mysql-show_processlist_extended` is on, a session whose
    /// `extended_info` shows an `auto_increment_delay_token` of 0 on every backend connection is done at once, even
    /// while it runs a statement. Sessions pinned for other reasons (a transaction, a session variable, a lock)
    /// keep the settle to its bound; the drain then deals with them as always.
    func settlePins(
        _ server: RoutedServer,
        key: BackendServer.Key,
        timeout: Duration,
        interval: Duration,
        context: CutoverExecutionContext
    ) async throws -> CutoverEvent {
        let logger = context.logger
        let start = context.elapsed()
        var waiting: [NodeSession: ServerEndpoint?]?
        while true {
            let attached = await proxies.processlist(attachedTo: key, logger: logger)
            let now = context.elapsed()
            if attached.failures.isEmpty {
                var current: [NodeSession: ProcesslistEntry] = [:]
                for (node, sessions) in attached.successes {
                    for entry in sessions { current[NodeSession(node: node, session: entry.sessionID)] = entry }
                }
                if let previous = waiting {
                    waiting = previous.filter { session, connection in
                        guard let entry = current[session] else { return false }
                        return entry.localBackendEndpoint == connection
                            && Self.autoIncrementDelayTokens(entry, hostgroup: key.hostgroup) != 0
                    }
                } else {
                    waiting = current.filter { Self.autoIncrementDelayTokens($0.value, hostgroup: key.hostgroup) != 0 }
                        .mapValues(\.localBackendEndpoint)
                }
                if waiting?.isEmpty == true {
                    return .autoIncrementPinsSettled(server, stillHeld: 0, at: now)
                }
            } else if let failure = attached.failures.first {
                logger.debug(
                    "settle cannot read the processlist",
                    metadata: ["proxysql.node": "\(failure.node)", "error": "\(failure.error)"]
                )
            }
            let elapsed = now - start
            if elapsed >= timeout {
                return .autoIncrementPinsSettled(server, stillHeld: waiting?.count, at: now)
            }
            try await sleep(min(interval, timeout - elapsed))
        }
    }

    /// The sum of `auto_increment_delay_token` over the session's backend connections in `hostgroup`, read from
    /// `extended_info` (ProxySQL's session JSON, present when `mysql-show_processlist_extended` is 1 or 2:
    /// `{"backends": [{"hostgroup_id": 10, "conn": {"auto_increment_delay_token": 3, ...}}, ...]}`); nil when
    /// that is not shown.
    static func autoIncrementDelayTokens(_ entry: ProcesslistEntry, hostgroup: HostgroupID) -> Int? {
        guard let text = entry.extendedInfo, !text.isEmpty,
            let session = try? JSONDecoder().decode(ExtendedSessionInfo.self, from: Data(text.utf8))
        else { return nil }
        var total: Int?
        for backend in session.backends ?? [] {
            guard let backend, backend.hostgroupID.map({ $0 == hostgroup.rawValue }) ?? true,
                let token = backend.connection?.autoIncrementDelayToken
            else { continue }
            total = (total ?? 0) + token
        }
        return total
    }

    /// The part of ProxySQL's session JSON (`extended_info`, `PROXYSQL INTERNAL SESSION`) the settle reads.
    private struct ExtendedSessionInfo: Decodable {
        struct Backend: Decodable {
            struct Connection: Decodable {
                var autoIncrementDelayToken: Int?
                enum CodingKeys: String, CodingKey { case autoIncrementDelayToken = "auto_increment_delay_token" }
            }
            var hostgroupID: Int?
            var connection: Connection?
            enum CodingKeys: String, CodingKey {
                case hostgroupID = "hostgroup_id"
                case connection = "conn"
            }
        }
        var backends: [Backend?]?
    }

    private func holders(of key: BackendServer.Key, logger: Logger) async -> [SessionHolder] {
        await SessionPins.read(on: key, proxies: proxies, logger: logger).holders
    }

    // MARK: Proxy variables

    func prepareProxy(disableRetries: Bool, relaxPin: Bool, context: CutoverExecutionContext) async throws
        -> CutoverEvent
    {
        let logger = context.logger
        let action = CutoverAction.prepareProxy(disableQueryRetries: disableRetries, relaxAutoIncrementPin: relaxPin)
        let changes = ProxySettingsSnapshot.variablesChanged(disableRetries: disableRetries, relaxPin: relaxPin)
        let snapshot: ProxySettingsSnapshot
        do {
            snapshot = try await self.snapshot(of: changes.keys.sorted(), logger: logger)
        } catch let failure as NodeFailure {
            return stepFailed(
                action, "cannot read variables: \(failure.error)", endpoint: failure.node, context: context)
        }
        let applied = await proxies.setVariablesAndLoad(changes, logger: logger)
        if let failure = applied.failures.first {
            // Put back what may have changed before reporting: the machine only restores what it knows of.
            _ = await restore(snapshot, logger: logger)
            return stepFailed(
                action, "\(failure.error)", endpoint: failure.node, mayHaveTakenEffect: true, context: context)
        }
        return .proxyPrepared(snapshot)
    }

    /// A node that could not be read.
    struct NodeFailure: Error {
        var node: String
        var error: any Error
    }

    /// The current values of `names` on every node.
    ///
    /// - Throws: ``NodeFailure`` for the first node that could not be read.
    func snapshot(of names: [ProxySQLVariable.Name], logger: Logger) async throws -> ProxySettingsSnapshot {
        let current = await proxies.variables(names, logger: logger)
        if let failure = current.failures.first { throw NodeFailure(node: failure.node, error: failure.error) }
        var snapshot = ProxySettingsSnapshot()
        for (node, variables) in current.successes {
            snapshot.previousValues[node] = Dictionary(uniqueKeysWithValues: variables.map { ($0.name.rawValue, $0.value) })
        }
        return snapshot
    }

    func restore(_ snapshot: ProxySettingsSnapshot, logger: Logger) async -> ClusterResult<Void> {
        guard !snapshot.isEmpty else { return ClusterResult(outcomes: []) }
        return await proxies.forEachNode("restore variables", logger: logger) { node, logger in
            guard let values = snapshot.previousValues[node.nodeName], !values.isEmpty else { return }
            for (name, value) in values.sorted(by: { $0.key < $1.key }) {
                try await node.setVariable(ProxySQLVariable.Name(rawValue: name), to: value, logger: logger)
            }
            try await node.loadVariablesToRuntime(logger: logger)
        }
    }
}

extension BackendStatus {
    /// The ProxySQL status for a routing status.
    init(_ status: RoutingStatus) {
        switch status {
        case .online: self = .online
        case .offlineSoft: self = .offlineSoft
        case .offlineHard: self = .offlineHard
        }
    }
}
