import Cutover
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl

/// A live executor and what closes its connections.
struct PreparedExecutor: Sendable {
    var executor: any CutoverExecutor
    var close: @Sendable () async -> Void
}

/// How `plan` (and `--dry-run`) learns about the servers.
struct PlanOptions: Sendable, Hashable {
    /// Read the dialects, the replication state and the ProxySQL tables from the servers (read-only). Off: assume.
    var detect: Bool = true
}

/// The cut-over, failback and resume wiring: the live executor over the configured endpoints, and the dry run.
enum OperationWiring {
    /// Opens every endpoint (source with native replication control, target with the RDS procedures when it has
    /// them, every ProxySQL node), each session recording its statements for the journal.
    static func openExecutor(_ environment: CommandEnvironment) async throws -> PreparedExecutor {
        let scope = ConnectionScope(environment: environment)
        do {
            let cutoverEnvironment = try await scope.cutoverEnvironment()
            return PreparedExecutor(
                executor: LiveCutoverExecutor(environment: cutoverEnvironment),
                close: { await scope.closeAll() }
            )
        } catch {
            await scope.closeAll()
            throw error
        }
    }

    /// The dry run of `operation`: what the servers are (read-only, unless `options.detect` is off), then the
    /// plan.
    static func plan(_ environment: CommandEnvironment, _ operation: CutoverOperation, _ options: PlanOptions) async throws
        -> DryRunPlan
    {
        let dryEnvironment = await dryRunEnvironment(environment, operation, options)
        return await DryRunExecutor.plan(operation, environment: dryEnvironment, logger: environment.logger)
    }

    /// The dry run of resuming the unfinished run of `entries`: the servers are read as for ``plan(_:_:_:)``.
    ///
    /// - Throws: `CutoverError` when there is nothing to resume or the journal is of another topology.
    static func planResume(_ environment: CommandEnvironment, _ entries: [JournalRecord]) async throws -> DryRunPlan {
        guard let operation = CutoverJournal.unfinishedRun(in: entries)?.first?.operation else {
            throw CutoverError(
                code: .nothingToResume,
                message: "the journal \(environment.configuration.journalPath) has no unfinished run",
                remedy: "nothing to do; `migrate-cli journal show` lists past runs"
            )
        }
        let dryEnvironment = await dryRunEnvironment(environment, operation, PlanOptions())
        return try await DryRunExecutor.planResume(entries: entries, environment: dryEnvironment, logger: environment.logger)
    }

    /// The simulated starting state: read from the servers where they answer, assumed elsewhere (each assumption
    /// is listed with the plan).
    static func dryRunEnvironment(_ environment: CommandEnvironment, _ operation: CutoverOperation, _ options: PlanOptions) async
        -> DryRunEnvironment
    {
        let configuration = environment.configuration
        var result = DryRunEnvironment.startingState(
            for: operation,
            topology: configuration.topology,
            policy: configuration.policy,
            filter: configuration.reverseReplicationFilter.replicationFilter,
            endpoints: (ConnectionScope.sourceName, ConnectionScope.targetName)
        )
        let state = operation.from == .source ? "before a cut-over" : "before a failback"
        guard options.detect else {
            result.assumptions = [
                "offline: nothing was read from the servers",
                "source assumed \(DryRunEnvironment.assumedSourceDialect.server) \(DryRunEnvironment.assumedSourceDialect.version), target Aurora MySQL 3 (rds_*_source procedures)",
                "replication and ProxySQL rows assumed as usual \(state); ProxySQL variables at their defaults",
            ]
            return result
        }
        var assumptions: [String] = []
        let scope = ConnectionScope(environment: environment)
        for role in [DatabaseRole.source, .target] {
            do {
                let connection = try await scope.connect(role.endpointName)
                let database = try await scope.database(role, over: connection, recording: false)
                let health = try await database.replicaHealth(logger: environment.logger)
                let readOnly = try? await ServerInspector(session: connection).readOnlyState(logger: environment.logger)
                let replicatingFrom = health?.sourceEndpoint.flatMap(Self.endpoint(parsing:))
                var dbState = DryRunDatabase.State(
                    replicatingFrom: replicatingFrom,
                    replicationRunning: health?.isRunning ?? false,
                    readOnly: readOnly?.readOnly ?? false,
                    superReadOnly: readOnly?.superReadOnly
                )
                if database.dialect.hasSuperReadOnly, dbState.superReadOnly == nil { dbState.superReadOnly = false }
                if role == .source {
                    result.source.dialect = database.dialect
                    result.source.usesRDSProcedures = database.dialect.isAurora || database.dialect.rdsProcedures != nil
                    result.sourceState = dbState
                } else {
                    result.target.dialect = database.dialect
                    result.target.usesRDSProcedures = database.dialect.isAurora || database.dialect.rdsProcedures != nil
                    result.targetState = dbState
                }
            } catch {
                let dialect = role == .source ? result.source.dialect : result.target.dialect
                assumptions.append("\(role): not read (\(error)); assumed \(dialect.server) \(dialect.version) in the usual state \(state)")
            }
        }
        for node in configuration.proxyNodes {
            do {
                let connection = try await scope.connect(.proxyNode(node.name))
                let client = ProxySQLAdminClient(session: connection, name: node.name)
                var nodeState = DryRunProxySQLNode.State(
                    servers: try await client.servers(in: .configured, hostgroups: [], logger: environment.logger),
                    replicationHostgroupPairs: try await client.replicationHostgroupPairs(layer: .configured, logger: environment.logger)
                )
                nodeState.runtimeServers = try await client.servers(in: .runtime, hostgroups: [], logger: environment.logger)
                for name in [ProxySQLVariable.Name.queryRetriesOnFailure, .autoIncrementDelayMultiplex] {
                    if let value = try? await client.variable(name, layer: .configured, logger: environment.logger) {
                        nodeState.variables[name] = value.value
                    }
                    if let value = try? await client.variable(name, layer: .runtime, logger: environment.logger) {
                        nodeState.runtimeVariables[name] = value.value
                    }
                }
                result.proxyNodes[node.name] = nodeState
            } catch {
                assumptions.append("\(node.name): not read (\(error)); its rows assumed as usual \(state)")
            }
        }
        await scope.closeAll()
        result.assumptions = assumptions
        return result
    }

    /// `host:port` as a ``ServerEndpoint``.
    static func endpoint(parsing text: String) -> ServerEndpoint? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        return ServerEndpoint(host: String(text[..<colon]), port: port)
    }
}
