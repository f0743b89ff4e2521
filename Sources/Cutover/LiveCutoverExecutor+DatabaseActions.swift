import Logging

extension LiveCutoverStep {
    /// Performs one of the database family of actions: the fence, its lifting, reading a position, the fence proof
    /// and making `read_only` durable.
    func performDatabaseAction(_ action: CutoverAction, context: CutoverExecutionContext) async throws
        -> CutoverEvent
    {
        let logger = context.logger
        switch action {
        case .fence(let role, let timeout):
            let database = environment.database(role)
            guard database.canFence else {
                return stepFailed(
                    action,
                    "\(database.name) cannot be made read-only (no SET GLOBAL for this account: Aurora or RDS); set "
                        + "policy.fence-old-writer: false",
                    endpoint: database.name, context: context)
            }
            try await database.fence(timeout: timeout, logger: logger)
            return .fenced(role, at: context.elapsed())
        case .liftFence(let role):
            try await environment.database(role).liftFence(logger: logger)
            return .fenceLifted(role)
        case .readPosition(let role):
            let position = try await environment.database(role).currentPosition(logger: logger)
            return .positionRead(role, position, at: context.elapsed())
        case .proveFenceHeld(let role, let atFence):
            return try await proveFenceHeld(role, atFence: atFence, context: context)
        case .persistReadOnly(let role, let readOnly):
            let database = environment.database(role)
            guard database.canFence else {
                return stepFailed(
                    action, "\(database.name) cannot set read_only (no SET GLOBAL for this account: Aurora or RDS)",
                    endpoint: database.name, context: context)
            }
            let durability = try await database.makeReadOnlyDurable(
                readOnly, timeout: policy.replicationStepTimeout, logger: logger)
            return .readOnlyPersisted(role, durability)
        case .runGuards, .prepareProxy, .settleAutoIncrementPins, .setStatus, .watchNewWriter, .pollDrain, .closeSessions,
            .restoreProxySettings, .saveProxyConfiguration, .settleReplication, .waitForCatchUp, .stopReplication,
            .startReplication, .verifyReplication, .wait, .finish:
            preconditionFailure("\(action) is not a database action")
        }
    }

    /// Performs one of the replication family of actions: the settle, the catch-up wait, and stopping, starting and
    /// verifying a replication channel.
    func performReplicationAction(_ action: CutoverAction, context: CutoverExecutionContext) async throws
        -> CutoverEvent
    {
        let logger = context.logger
        switch action {
        case .settleReplication(let role, let source, let threshold, let timeout):
            return try await settleReplication(
                role, source: source, threshold: threshold, timeout: timeout, context: context)
        case .waitForCatchUp(let role, let coordinate, let timeout):
            return try await waitForCatchUp(role, to: coordinate, timeout: timeout, context: context)
        case .stopReplication(let role):
            try await environment.database(role).stopAndResetReplication(
                timeout: policy.replicationStepTimeout, logger: logger)
            return .replicationStopped(role)
        case .startReplication(let role, let source, let coordinate):
            let reverse = role == .source
            try await environment.database(role).startReplication(
                from: source == .target ? topology.targetReplicationEndpoint : topology.sourceReplicationEndpoint,
                user: reverse ? topology.reverseReplicationUser : topology.forwardReplicationUser,
                password: reverse ? environment.reverseReplicationPassword : environment.forwardReplicationPassword,
                tls: reverse ? topology.reverseReplicationTLS : topology.forwardReplicationTLS,
                at: coordinate,
                timeout: policy.replicationStepTimeout,
                logger: logger
            )
            return .replicationStarted(role)
        case .verifyReplication(let role):
            try await environment.database(role).verifyReplication(timeout: policy.replicationStepTimeout, logger: logger)
            return .replicationVerified(role)
        case .runGuards, .prepareProxy, .settleAutoIncrementPins, .setStatus, .watchNewWriter, .pollDrain, .closeSessions,
            .restoreProxySettings, .saveProxyConfiguration, .fence, .liftFence, .readPosition, .proveFenceHeld,
            .persistReadOnly, .wait, .finish:
            preconditionFailure("\(action) is not a replication action")
        }
    }

    /// ``CutoverAction/waitForCatchUp(_:coordinate:timeout:)``, reporting progress; a stop request
    /// interrupts the wait's statement (KILL QUERY; the session stays usable) and gives `catchUpStopped`.
    private func waitForCatchUp(
        _ role: DatabaseRole, to coordinate: ReplicationCoordinate, timeout: Duration, context: CutoverExecutionContext
    ) async throws -> CutoverEvent {
        let database = environment.database(role)
        let caughtUp: Bool? = try await untilStopRequested(context) {
            try await database.waitForCatchUp(
                to: coordinate,
                timeout: timeout,
                progress: { executed in
                    context.report(.catchUpProgress(role: role, executed: executed, target: coordinate, at: context.elapsed()))
                },
                logger: context.logger
            )
            return true
        }
        guard caughtUp != nil else { return .catchUpStopped(role, at: context.elapsed()) }
        return .caughtUp(role, at: context.elapsed())
    }
}
