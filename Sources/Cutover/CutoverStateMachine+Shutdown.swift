extension CutoverStateMachine {
    /// Whether `step` still runs when the operator asks a run to stop after the point of no return (SIGINT,
    /// SIGTERM): the cheap steps that keep the switched state safe across a crash or a restart — the old writer's
    /// durable fence (or a failback's new writer kept writable), ProxySQL's variables put back (query retries, the
    /// auto-increment pin), `SAVE MYSQL SERVERS TO DISK`. Each takes milliseconds. The watch after the new writer's
    /// ONLINE runs too: on a stop request it reads once (and re-loads if that read calls for it) and ends. The
    /// replication steps (stopping forward replication, proving the fence held and starting and verifying reverse
    /// replication) can wait on Aurora's procedures for seconds and belong together: they are left for `resume`.
    static func runsDespiteShutdown(_ step: Step) -> Bool {
        switch step {
        case .watchNewWriter, .confirmFenceOld, .persistUnfenceNew, .restoreProxy, .saveConfiguration:
            true
        case .guards, .prepareProxy, .settlePins, .settleReplication, .offlineSoftOld, .drainOld, .offlineHardOld, .closeSessionsOld,
            .fenceOld, .readFinalPosition, .catchUp, .readNewWriterPosition, .unfenceNew, .onlineNew,
            .stopForwardReplication, .proveFenceOld, .startReverseReplication, .verifyReverseReplication, .onlineNewReader:
            false
        }
    }
}
