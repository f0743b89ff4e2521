import Logging
import ProxySQLAdmin

private typealias StatusChange = CutoverStateMachine.StatusChange

extension LiveCutoverStep {
    /// Performs one of the ProxySQL family of actions: the window's variables, the pin settle, status changes, the
    /// drain, closing sessions, restoring the variables and saving the configuration.
    func performProxyAction(_ action: CutoverAction, context: CutoverExecutionContext) async throws
        -> CutoverEvent
    {
        func noRow(_ server: RoutedServer) -> CutoverEvent {
            stepFailed(action, "the topology has no \(server) row", context: context)
        }
        switch action {
        case .prepareProxy(let disableRetries, let relaxPin):
            return try await prepareProxy(disableRetries: disableRetries, relaxPin: relaxPin, context: context)
        case .settleAutoIncrementPins(let server, let timeout, let interval):
            guard let key = topology.key(of: server) else { return noRow(server) }
            return try await settlePins(server, key: key, timeout: timeout, interval: interval, context: context)
        case .setStatus(let server, let status):
            guard let key = topology.key(of: server) else { return noRow(server) }
            return await setStatus(server, status, key: key, action: action, context: context)
        case .watchNewWriter(let role, let watch, let recovery, let interval, let maximumReloads):
            guard let key = topology.key(of: .writer(role)) else { return noRow(.writer(role)) }
            return await watchNewWriter(
                role, key: key,
                ShunnedWriterRecovery.Watch(watch: watch, recovery: recovery, maximumReloads: maximumReloads),
                interval: interval, context: context)
        case .pollDrain(let server, let timeout, let interval):
            guard let key = topology.key(of: server) else { return noRow(server) }
            return try await drainClassifying(server, key: key, timeout: timeout, interval: interval, context: context)
        case .closeSessions(let role):
            return try await closeSessions(role, action: action, context: context)
        case .restoreProxySettings(let snapshot):
            if let failure = await restore(snapshot, logger: context.logger).failures.first {
                return stepFailed(
                    action, "\(failure.error)", endpoint: failure.node, mayHaveTakenEffect: true, error: failure.error,
                    context: context)
            }
            return .proxySettingsRestored
        case .saveProxyConfiguration:
            if let failure = await proxies.saveServersToDisk(logger: context.logger).failures.first {
                return stepFailed(action, "\(failure.error)", endpoint: failure.node, context: context)
            }
            return .proxyConfigurationSaved
        case .runGuards, .fence, .liftFence, .readPosition, .proveFenceHeld, .persistReadOnly, .settleReplication,
            .waitForCatchUp, .stopReplication, .startReplication, .verifyReplication, .wait, .finish:
            preconditionFailure("\(action) is not a ProxySQL action")
        }
    }

    // MARK: Status changes

    /// ``CutoverAction/setStatus(_:_:)`` on every node: the rows to change (``intendedStates(_:_:key:)``),
    /// the reader rule (read here, decided by `CutoverStateMachine.StatusChange.readerVerdict(_:database:reading:)`),
    /// then each node's UPDATE, LOAD and runtime check; a failure says whether it may have taken effect (read here,
    /// decided by `CutoverStateMachine.StatusChange.mayHaveTakenEffect(_:_:nodesSucceeded:absentFromEveryRuntime:)`).
    /// The event's time is when the window opened (the first node stopped routing) or closed (the last node routes
    /// anew).
    private func setStatus(
        _ server: RoutedServer, _ status: RoutingStatus, key: BackendServer.Key, action: CutoverAction,
        context: CutoverExecutionContext
    ) async -> CutoverEvent {
        var otherReaderOnline: BackendServer.Key?
        if server.kind == .reader {
            let serving = environment.database(StatusChange.servingRole(of: server, status))
            let reading = await readServingDatabase(serving, logger: context.logger)
            switch StatusChange.readerVerdict(status, database: serving.name, reading: reading) {
            case .refused(let problem, let database):
                return stepFailed(
                    action, "\(problem); \(server) left as it was on every node", endpoint: database,
                    remedy: "bring \(database) back (running, reachable, replicating cleanly), check the readers with "
                        + "`migrate-cli status`, then run the reader switch again",
                    context: context)
            case .proceed(let requiringOtherReaderOnline):
                otherReaderOnline = requiringOtherReaderOnline ? topology.key(of: .reader(server.role.other)) : nil
            }
        }
        let times = await applyOnEveryNode(
            intendedStates(server, status, key: key), requiringOnline: otherReaderOnline, context: context,
            logger: context.logger)
        if let failure = times.failure {
            var absentEverywhere: Bool?
            if StatusChange.needsRuntimeReading(server, status, nodesSucceeded: times.succeeded) {
                absentEverywhere = await proxies.verifyRuntime(
                    [IntendedBackendState(key: key, status: .offlineHard)], logger: context.logger
                ).isCompleteSuccess
            }
            let mayHaveTakenEffect = StatusChange.mayHaveTakenEffect(
                server, status, nodesSucceeded: times.succeeded, absentFromEveryRuntime: absentEverywhere)
            return stepFailed(
                action, failure.message, endpoint: failure.node, mayHaveTakenEffect: mayHaveTakenEffect,
                error: failure.error, context: context)
        }
        return .statusSet(server, status, at: status == .online ? times.latest : times.earliest)
    }

    /// The rows one status change sets, in one LOAD per node: the ONLINE of a writer re-asserts that the other
    /// writer is OFFLINE_HARD, so no node can ever hold two ONLINE writers.
    private func intendedStates(_ server: RoutedServer, _ status: RoutingStatus, key: BackendServer.Key)
        -> [IntendedBackendState]
    {
        var intended: [IntendedBackendState] = []
        if server.kind == .writer, status == .online, let other = topology.key(of: .writer(server.role.other)) {
            intended.append(IntendedBackendState(key: other, status: .offlineHard))
        }
        intended.append(IntendedBackendState(key: key, status: BackendStatus(status)))
        return intended
    }

    private struct NodeTimes {
        var earliest: Duration
        var latest: Duration
        var succeeded: Int
        var failure: (node: String, message: String, error: any Error)?
    }

    /// Per node: each UPDATE, then LOAD (its completion time is recorded), then a runtime check
    /// (`CutoverStateMachine.StatusChange.runtimeConfirms(_:)`: a row intended ONLINE that ProxySQL already shunned
    /// counts as loaded). With
    /// `requiringOnline`, a node whose runtime does not show that server ONLINE is left unchanged (and fails).
    private func applyOnEveryNode(
        _ intended: [IntendedBackendState],
        requiringOnline required: BackendServer.Key? = nil,
        context: CutoverExecutionContext,
        logger: Logger
    ) async -> NodeTimes {
        let result = await proxies.forEachNode("set status", logger: logger) { node, logger in
            if let required {
                let runtime = try await node.servers(in: .runtime, hostgroups: [required.hostgroup], logger: logger)
                guard runtime.contains(where: { $0.key == required && $0.status == .online }) else {
                    let changed = intended.map { "\($0.key) \($0.status)" }.joined(separator: ", ")
                    throw CutoverError(
                        code: .executorFailed,
                        message: "\(node.nodeName): \(required) is not ONLINE in runtime_mysql_servers, so \(changed) "
                            + "would leave this node without an ONLINE reader; the node was left unchanged",
                        remedy: "put a reader ONLINE on \(node.nodeName) (see `migrate-cli status`), then run the "
                            + "reader switch again"
                    )
                }
            }
            for state in intended {
                try await node.setStatus(state.status, of: state.key, logger: logger)
            }
            try await node.loadServersToRuntime(logger: logger)
            let loadedAt = context.elapsed()
            _ = try await node.requireRuntime(
                intended, exhaustiveHostgroups: [], confirmedBy: StatusChange.runtimeConfirms, logger: logger)
            return loadedAt
        }
        let times = result.successes.map(\.value)
        var outcome = NodeTimes(
            earliest: times.min() ?? context.elapsed(),
            latest: times.max() ?? context.elapsed(),
            succeeded: times.count
        )
        if let failure = result.failures.first {
            // A refusal of ours carries its own remedy: keep the message without it (the failure adds it).
            let message = Self.ownRefusal(failure.error)?.message ?? "\(failure.error)"
            outcome.failure = (failure.node, message, failure.error)
        }
        return outcome
    }

    /// What `database` shows of its ability to serve reads: it does not answer, it replicates with a problem, or it
    /// serves (the verdict is `CutoverStateMachine.StatusChange.readerVerdict(_:database:reading:)`'s).
    private func readServingDatabase(_ database: any CutoverDatabase, logger: Logger) async
        -> StatusChange.ServingDatabase
    {
        do {
            if let health = try await database.replicaHealth(logger: logger), !health.isRunning {
                return .notReplicatingCleanly("\(health)")
            }
            return .serving
        } catch {
            return .unreachable("\(error)")
        }
    }

    // MARK: Sessions

    /// ``CutoverAction/closeSessions(_:)``: kills every ProxySQL session attached to `role`'s writer
    /// row on every node, then closes the client sessions on the database itself; the count is of both.
    private func closeSessions(_ role: DatabaseRole, action: CutoverAction, context: CutoverExecutionContext)
        async throws -> CutoverEvent
    {
        let logger = context.logger
        var closed = 0
        if let key = topology.key(of: .writer(role)) {
            let attached = await proxies.processlist(attachedTo: key, logger: logger)
            for (node, sessions) in attached.successes {
                guard let client = proxies.nodes.first(where: { $0.nodeName == node }) else { continue }
                for session in sessions {
                    do {
                        try await client.killSession(session.sessionID, logger: logger)
                        closed += 1
                    } catch {
                        logger.debug("kill session failed", metadata: ["proxysql.node": "\(node)", "error": "\(error)"])
                    }
                }
            }
            if let failure = attached.failures.first {
                return stepFailed(
                    action, "cannot read the processlist: \(failure.error)", endpoint: failure.node, context: context)
            }
        }
        closed += try await environment.database(role).closeSessions(users: topology.applicationUsers, logger: logger)
        return .sessionsClosed(role, count: closed, at: context.elapsed())
    }
}
