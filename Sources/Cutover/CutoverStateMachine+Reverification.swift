extension CutoverStateMachine {
    /// Where a resume starts again when the run died right before the new writer's ONLINE, that ONLINE never
    /// journaled (issue #13, item 3): the old writer's `OFFLINE_HARD`, so that the steps up to the ONLINE run once
    /// more in order: `OFFLINE_HARD` on every node (a ProxySQL restarted meanwhile loaded its saved routing), the
    /// sessions on the old writer closed, its fence set again (it may have restarted writable), its final position
    /// read again, the catch-up waited for again, the new writer's position read again. All of them are before the
    /// point of no return: a failure rolls back. Nil for a reader switch (its point of no return is another step).
    static func reverificationStart(_ context: Context) -> Step? {
        guard context.operation.movesWriter, context.steps.contains(.offlineHardOld) else { return nil }
        return .offlineHardOld
    }
}
