import Logging

extension LiveCutoverStep {
    /// ``CutoverAction/proveFenceHeld(_:atFence:)``: reads `role`'s position and compares it with the
    /// final position read at the fence (``FenceProof``); a difference is a failure naming the extra transactions.
    func proveFenceHeld(_ role: DatabaseRole, atFence: ReplicationCoordinate, context: CutoverExecutionContext)
        async throws -> CutoverEvent
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
