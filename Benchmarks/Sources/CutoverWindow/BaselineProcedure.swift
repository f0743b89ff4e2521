import Cutover
import Logging
import ProxySQLAdmin

/// The published fixed-sleep writer switch (bash, 2021), reproduced step for step with our own library calls so the
/// comparison measures the procedure, not the client code:
///
/// 1. old writer `OFFLINE_SOFT` + LOAD (the window opens);
/// 2. `sleep 1` to "drain";
/// 3. old writer `OFFLINE_HARD` + LOAD;
/// 4. read the old writer's position, then poll the new writer's replica status every second until it has executed
///    it (the environment's catch-up waiter is set to polling with a 1 s interval);
/// 5. inside the window: stop and reset replication on the new writer, read its position, configure and start
///    replication the other way (through Aurora's procedures when the new replica is Aurora);
/// 6. new writer `ONLINE` + LOAD (the window closes).
///
/// No retry switch-off, no session closing, no read-only fence, no deadlines worth the name (the scripts have none;
/// ours are 2 minutes so a broken run still ends), no SAVE TO DISK.
struct BaselineProcedure: Sendable {
    let environment: CutoverEnvironment

    /// Instants of the procedure's steps.
    struct Marks: Sendable {
        var windowOpened: ContinuousClock.Instant?
        var drained: ContinuousClock.Instant?
        var hardOffline: ContinuousClock.Instant?
        var finalPositionRead: ContinuousClock.Instant?
        var caughtUp: ContinuousClock.Instant?
        var replicationSwitched: ContinuousClock.Instant?
        var windowClosed: ContinuousClock.Instant?
    }

    func run(_ operation: CutoverOperation, logger: Logger) async throws -> Marks {
        precondition(operation.movesWriter, "the baseline switches writers only")
        let topology = environment.topology
        guard let node = environment.proxies.nodes.first,
            let oldKey = topology.key(of: .writer(operation.from)),
            let newKey = topology.key(of: .writer(operation.to))
        else {
            throw BenchmarkError("the topology lacks writer rows")
        }
        let old = environment.database(operation.from)
        let new = environment.database(operation.to)
        var marks = Marks()

        try await node.setStatusAndLoad(.offlineSoft, of: oldKey, logger: logger)
        marks.windowOpened = .now

        try await Task.sleep(for: .seconds(1))
        marks.drained = .now

        try await node.setStatusAndLoad(.offlineHard, of: oldKey, logger: logger)
        marks.hardOffline = .now

        let finalPosition = try await old.currentPosition(logger: logger)
        marks.finalPositionRead = .now
        try await new.waitForCatchUp(to: finalPosition, timeout: .seconds(120), progress: { _ in }, logger: logger)
        marks.caughtUp = .now

        // Inside the window, as the scripts do it: forward replication off, reverse replication on.
        try await new.stopAndResetReplication(timeout: .seconds(120), logger: logger)
        let newPosition = try await new.currentPosition(logger: logger)
        let reverse = operation.from == .source
        try await old.startReplication(
            from: reverse ? topology.targetReplicationEndpoint : topology.sourceReplicationEndpoint,
            user: reverse ? topology.reverseReplicationUser : topology.forwardReplicationUser,
            password: reverse ? environment.reverseReplicationPassword : environment.forwardReplicationPassword,
            tls: reverse ? topology.reverseReplicationTLS : topology.forwardReplicationTLS,
            at: newPosition,
            timeout: .seconds(120),
            logger: logger
        )
        marks.replicationSwitched = .now

        try await node.setStatusAndLoad(.online, of: newKey, logger: logger)
        marks.windowClosed = .now
        return marks
    }
}

/// A failure of the benchmark itself (not of the procedure under test).
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
