import Logging

extension LiveCutoverStep {
    /// The writer switch's safety guards of issue #13 (decided by ``WriterSafetyGuards``): the new writer can take
    /// writes (or this run lifts its fence), it replicates from the old writer by server identity, and the forward
    /// channel has no filter that drops application transactions. A database that cannot report its facts (test
    /// doubles) is not checked; one whose facts cannot be read blocks.
    func writerSafetyReasons(for operation: CutoverOperation, logger: Logger) async -> [BlockingReason] {
        guard operation.movesWriter else { return [] }
        let old = environment.database(operation.from)
        let new = environment.database(operation.to)
        var reasons: [BlockingReason] = []
        let newFacts: DatabaseSafetyFacts?
        let oldFacts: DatabaseSafetyFacts?
        do {
            newFacts = try await new.safetyFacts(logger: logger)
            oldFacts = try await old.safetyFacts(logger: logger)
        } catch {
            return [
                BlockingReason(
                    check: "target.writable",
                    message: "cannot read read_only / server_id of \(new.name) or \(old.name): \(error)",
                    remedy: "check the account and connectivity (`migrate-cli preflight`), then run again")
            ]
        }
        if let newFacts {
            // Only a failback onto the source lifts a fence (the `unfenceNew` step), and only where SET GLOBAL works.
            let runLiftsFence = operation.to == .source && new.canFence
            if let reason = WriterSafetyGuards.newWriterWritable(newFacts, name: new.name, runLiftsFence: runLiftsFence) {
                reasons.append(reason)
            }
        }
        if let newFacts, oldFacts != nil {
            do {
                let upstream = try await old.replicaHealth(logger: logger)
                if let reason = WriterSafetyGuards.oldWriterUpstreamLink(
                    upstream, new: newFacts, oldName: old.name, newName: new.name)
                {
                    reasons.append(reason)
                }
            } catch {
                reasons.append(
                    BlockingReason(
                        check: "reverse.upstream-link",
                        message: "cannot read the replica status of \(old.name): \(error)",
                        remedy: "check the account's privileges (REPLICATION CLIENT) and connectivity, then run again"))
            }
        }
        if let health = try? await new.replicaHealth(logger: logger), health.isRunning {
            if let oldFacts,
                let reason = WriterSafetyGuards.replicatesFromOldWriter(
                    health, old: oldFacts, oldName: old.name, newName: new.name)
            {
                reasons.append(reason)
            }
            if let filters = health.filters, let reason = WriterSafetyGuards.forwardFilters(filters, newName: new.name) {
                reasons.append(reason)
            }
        }
        // What the replication started after the point of no return needs (item 5).
        reasons += await reversePrerequisiteReasons(for: operation, logger: logger)
        return reasons
    }
}

extension LiveCutoverStep {
    /// ``CutoverStateMachine/Action/proveFenceHeld(_:atFence:)``: reads `role`'s position and compares it with the
    /// final position read at the fence (``FenceProof``); a difference is a failure naming the extra transactions.
    func proveFenceHeld(_ role: DatabaseRole, atFence: ReplicationCoordinate, context: CutoverExecutionContext)
        async throws -> CutoverStateMachine.Event
    {
        let database = environment.database(role)
        let now = try await database.currentPosition(logger: context.logger)
        switch FenceProof.compare(atFence: atFence, now: now) {
        case .held:
            return .positionRead(role, now, at: context.elapsed())
        case .diverged(let extra):
            context.logger.error(
                "the fence did not hold", metadata: ["cutover.database": "\(database.name)", "cutover.extra": "\(extra)"])
            return .stepFailed(
                FenceProof.failure(
                    old: role, new: role.other, atFence: atFence, now: now, extra: extra, endpoint: database.name),
                at: context.elapsed())
        }
    }
}
