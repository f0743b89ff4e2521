import Logging

extension LiveCutoverStep {
    /// The guards' proof of the earlier switch's fence (issue #13, item 1): before a failback moves writes back onto
    /// the source (or a cut-over back onto the target), the server being switched to must have written nothing of
    /// its own since its final position was read at the fence of the journal's last writer switch. Decided by
    /// ``FenceProof/earlierFence(for:history:)`` and ``FenceProof/earlierFenceVerdict(_:verdict:name:journalPath:)``;
    /// what cannot be proved is reported as a note (never silence), a divergence blocks.
    func earlierFenceReasons(for operation: CutoverOperation, context: CutoverExecutionContext) async
        -> [BlockingReason]
    {
        let history = context.journalHistory
        switch FenceProof.earlierFence(for: operation, history: history) {
        case .notApplicable:
            return []
        case .cannotProve(let why):
            context.logger.warning("the earlier fence cannot be proved", metadata: ["cutover.reason": "\(why)"])
            context.report(.note("guards: WARNING: \(why)"))
            return []
        case .check(let facts):
            let database = environment.database(operation.to)
            let verdict: FenceProof.LaterVerdict
            do {
                let now = try await database.currentPosition(logger: context.logger)
                let identity = try await database.safetyFacts(logger: context.logger)
                verdict = FenceProof.laterVerdict(
                    atFence: facts.atFence, now: now, reverseReplicationStarted: facts.reverseReplicationStarted,
                    mariaDBBinlogState: identity?.gtidBinlogState, serverID: identity?.serverID,
                    serverUUID: identity?.serverUUID)
            } catch {
                return [
                    BlockingReason(
                        check: "fence.diverged",
                        message: "cannot read \(database.name)'s position to prove that the fence of the earlier "
                            + "switch held: \(error)",
                        remedy: "check the account (REPLICATION CLIENT) and connectivity, then run again")
                ]
            }
            let (reason, note) = FenceProof.earlierFenceVerdict(
                facts, verdict: verdict, name: database.name, journalPath: history?.path)
            if let note { context.report(.note("guards: \(note)")) }
            if let reason {
                context.logger.error(
                    "the fence of the earlier switch did not hold",
                    metadata: ["cutover.database": "\(database.name)", "cutover.reason": "\(reason.message)"])
            }
            return reason.map { [$0] } ?? []
        }
    }
}
