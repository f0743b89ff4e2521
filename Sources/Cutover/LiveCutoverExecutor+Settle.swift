import Logging
import ReplicationControl

extension LiveCutoverStep {
    /// The replication settle before the window (``CutoverAction/settleReplication(_:source:threshold:timeout:)``):
    /// while writes still flow, read `source`'s current position and wait on `role` until it has executed it; repeat
    /// until one wait returns within `threshold` or `timeout` has passed since the start. Every wait is bounded by
    /// what is left of `timeout`. Changes nothing anywhere (reads and waits only).
    ///
    /// The loop asks ``ReplicationSettleObservation/verdict(threshold:deadline:at:)`` whether to go on; the event
    /// carries what it saw, and the state machine asks the same function whether to open the window.
    ///
    /// - Throws: when a position cannot be read or replication breaks while waiting (not at the deadline: that is a
    ///   fact of the observation).
    func settleReplication(
        _ role: DatabaseRole,
        source: DatabaseRole,
        threshold: Duration,
        timeout: Duration,
        context: CutoverExecutionContext
    ) async throws -> CutoverEvent {
        let logger = context.logger
        let replica = environment.database(role)
        let primary = environment.database(source)
        var observation = ReplicationSettleObservation(startedAt: context.elapsed())
        var verdict = observation.verdict(threshold: threshold, deadline: timeout, at: observation.startedAt)
        while case .waitAgain = verdict {
            if context.isStopRequested() {
                observation.stopped = true
                break
            }
            let position = try await primary.currentPosition(logger: logger)
            let started = context.elapsed()
            let bound = timeout - (started - observation.startedAt)
            guard bound > .zero else {
                observation.recordWait(.zero, for: position, timedOut: true)
                break
            }
            do {
                let finished: Bool? = try await untilStopRequested(context) {
                    try await replica.waitForCatchUp(to: position, timeout: bound, progress: { _ in }, logger: logger)
                    return true
                }
                if finished == nil {
                    observation.stopped = true
                    break
                }
                observation.recordWait(context.elapsed() - started, for: position)
            } catch let error as ReplicationError where error.code == .catchUpTimedOut {
                observation.recordWait(context.elapsed() - started, for: position, timedOut: true)
            }
            if let lastWait = observation.lastWait {
                context.report(
                    .settleProgress(
                        role: role, round: observation.rounds, lastWait: lastWait, threshold: threshold,
                        at: context.elapsed()))
            }
            verdict = observation.verdict(threshold: threshold, deadline: timeout, at: context.elapsed())
        }
        if verdict != .settled, !observation.stopped {
            // The replica's own report, for the refusal (whole seconds; nil when unknown or unreadable).
            observation.secondsBehind = (try? await replica.replicaHealth(logger: logger))??.secondsBehind
        }
        logger.debug(
            "replication settle ended",
            metadata: ["cutover.settle": "\(observation)", "replication.role": "\(role)"])
        return .replicationSettleEnded(role, observation, at: context.elapsed())
    }
}
