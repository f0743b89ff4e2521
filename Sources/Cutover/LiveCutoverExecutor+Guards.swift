import Logging
import ProxySQLAdmin

extension LiveCutoverStep {
    /// ``CutoverAction/runGuards(_:)``: reads the facts (``readGuardFacts(for:context:)``), lets
    /// ``CutoverGuards/evaluate(_:policy:topology:)`` decide, reports its notes, and, when the switch may start,
    /// journals the ProxySQL variables the window will replace (read now, before anything changes).
    func runGuards(_ operation: CutoverOperation, context: CutoverExecutionContext) async -> CutoverEvent {
        let facts = await readGuardFacts(for: operation, context: context)
        let verdicts = CutoverGuards.evaluate(facts, policy: policy, topology: topology)
        if case .cannotProve(let why) = facts.earlierFence {
            context.logger.warning("the earlier fence cannot be proved", metadata: ["cutover.reason": "\(why)"])
        }
        if let diverged = verdicts.earlierFenceDiverged {
            context.logger.error(
                "the fence of the earlier switch did not hold",
                metadata: ["cutover.database": "\(facts.newName)", "cutover.reason": "\(diverged.message)"])
        }
        for note in verdicts.notes { context.report(.note(note)) }
        var settings: ProxySettingsSnapshot?
        if !verdicts.variablesToSnapshot.isEmpty {
            settings = try? await snapshot(of: verdicts.variablesToSnapshot, logger: context.logger)
        }
        return .guardsFinished(
            blockingReasons: verdicts.blockingReasons, pinnedSessions: verdicts.pinnedSessions,
            proxySettings: settings, autoIncrementPin: verdicts.autoIncrementPin)
    }

    /// Reads what the guards of `operation` look at, and only that (a fact the decision cannot need is not read).
    /// Nothing is decided here: a fact that cannot be read becomes ``GuardReading/unreadable(_:)``.
    func readGuardFacts(for operation: CutoverOperation, context: CutoverExecutionContext) async -> CutoverGuards.Facts {
        let logger = context.logger
        let old = environment.database(operation.from)
        let new = environment.database(operation.to)
        let newReplication = await Self.reading { try await new.replicaHealth(logger: logger) }
        var facts = CutoverGuards.Facts(
            operation: operation, oldName: old.name, newName: new.name, oldCanFence: old.canFence,
            newCanFence: new.canFence, newReplication: newReplication)
        if !operation.movesWriter, case .read(nil) = newReplication {
            facts.newServesWrites = await servesWrites(operation.to, logger: logger)
        }
        if operation.movesWriter {
            facts.writerSafety = await readWriterSafety(old: old, new: new, logger: logger)
            facts.reversePrerequisites = await environment.readReversePrerequisites(for: operation, logger: logger)
            facts.longTransactions = await Self.reading {
                try await old.longWriteTransactions(olderThan: policy.longTransactionLimit, logger: logger)
            }
        }
        facts.proxy = await readProxyFacts(for: operation, logger: logger)
        if operation.movesWriter {
            facts.windowSettings = await ProxyWindowSettings.read(from: proxies, logger: logger)
        }
        facts.earlierFence = await readEarlierFence(for: operation, context: context)
        if operation.movesWriter, policy.autoIncrementPin == .auto {
            facts.autoIncrementEvidence = await LastInsertIDEvidence.read(from: proxies, logger: logger)
        }
        return facts
    }

    /// `read`'s value, or the text of its error.
    static func reading<Value: Sendable>(_ read: () async throws -> Value) async -> GuardReading<Value> {
        do {
            return .read(try await read())
        } catch {
            return .unreadable("\(error)")
        }
    }

    /// Both writers' identities and, when both are known, the old writer's upstream link.
    private func readWriterSafety(old: any CutoverDatabase, new: any CutoverDatabase, logger: Logger) async
        -> CutoverGuards.WriterSafety
    {
        let identities = await Self.reading {
            let newFacts = try await new.safetyFacts(logger: logger)
            return CutoverGuards.Identities(new: newFacts, old: try await old.safetyFacts(logger: logger))
        }
        var safety = CutoverGuards.WriterSafety(identities: identities)
        if let read = identities.value, read.new != nil, read.old != nil {
            safety.oldUpstream = await Self.reading { try await old.replicaHealth(logger: logger) }
        }
        return safety
    }

    /// What every ProxySQL node holds about the switch's two rows; nil when the topology has no rows of the
    /// switch's kind for both databases.
    private func readProxyFacts(for operation: CutoverOperation, logger: Logger) async -> CutoverGuards.Proxy? {
        let kind: RoutedServer.Kind = operation.movesWriter ? .writer : .reader
        guard let oldKey = topology.key(of: RoutedServer(operation.from, kind)),
            let newKey = topology.key(of: RoutedServer(operation.to, kind))
        else { return nil }
        let expected = [IntendedBackendState(key: oldKey, status: .online), IntendedBackendState(key: newKey, status: .offlineHard)]
        let runtime = await proxies.verifyRuntime(expected, logger: logger)
        let configured = await proxies.forEachNode("read configured servers", logger: logger) { node, logger in
            try await node.servers(in: .configured, hostgroups: [oldKey.hostgroup, newKey.hostgroup], logger: logger)
        }
        let exposure = await proxies.monitorExposure(of: newKey.endpoint, logger: logger)
        let routing = await ProxySQLRoutingAudit.read(
            proxies: proxies, topology: topology, operation: operation, logger: logger)
        let pins = await SessionPins.read(on: oldKey, proxies: proxies, logger: logger)
        return CutoverGuards.Proxy(
            oldKey: oldKey, newKey: newKey, runtimeMismatches: runtime.failures, configured: configured,
            monitorExposure: exposure, routing: routing, pins: pins)
    }

    /// Whether `role`'s writer row is ONLINE in every ProxySQL node's runtime (that database takes the writes).
    private func servesWrites(_ role: DatabaseRole, logger: Logger) async -> Bool {
        guard let key = topology.key(of: .writer(role)) else { return false }
        let verified = await proxies.verifyRuntime([IntendedBackendState(key: key, status: .online)], logger: logger)
        return verified.failures.isEmpty && !verified.successes.isEmpty
    }

    /// The earlier switch's fence as the journal tells it (``FenceProof/earlierFence(for:history:)``) and, when it
    /// is to be checked, the new writer's position and identity now.
    private func readEarlierFence(for operation: CutoverOperation, context: CutoverExecutionContext) async
        -> CutoverGuards.EarlierFence
    {
        switch FenceProof.earlierFence(for: operation, history: context.journalHistory) {
        case .notApplicable:
            return .notApplicable
        case .cannotProve(let why):
            return .cannotProve(why)
        case .check(let facts):
            let database = environment.database(operation.to)
            let now = await Self.reading {
                let position = try await database.currentPosition(logger: context.logger)
                return CutoverGuards.NewWriterNow(
                    position: position, identity: try await database.safetyFacts(logger: context.logger))
            }
            return .check(facts, now: now, journalPath: context.journalHistory?.path)
        }
    }
}
