extension CutoverStateMachine {
    /// The decision of ``Step/proveFenceOld``: the old writer's position now against the final position read at the
    /// fence. Held: go on. Diverged: a loud forward failure naming the extra transactions, and reverse replication
    /// skipped (it would apply the new writer's changes on top of rows that exist only on the old writer).
    mutating func proveFence(_ context: Context, now: ReplicationCoordinate, at: Duration) -> Action {
        var context = context
        guard let final = context.finalPosition else {
            preconditionFailure("fence proof without a final position")
        }
        switch FenceProof.compare(atFence: final, now: now) {
        case .held:
            context.fenceProved = true
            return next(after: .proveFenceOld, context)
        case .diverged(let extra):
            // Normally the executor compares and reports the failure with the endpoint; this is the same decision for
            // an executor that answered with the position.
            context.forwardFailures.append(
                FenceProof.failure(
                    old: context.old, new: context.new, atFence: final, now: now, extra: extra, endpoint: nil))
            context.skipped.insert(.proveFenceOld)
            context.skipped.insert(.startReverseReplication)
            context.skipped.insert(.verifyReverseReplication)
            return next(after: .proveFenceOld, context)
        }
    }
}
