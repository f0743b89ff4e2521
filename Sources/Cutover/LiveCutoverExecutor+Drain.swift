import Logging
import ProxySQLAdmin

extension LiveCutoverStep {
    /// Drains the old server: performs the reads and kills ``DrainSchedule`` asks for (the `ConnUsed` polls, the
    /// classified processlist reads of ``PinnedSessionPolicy/cut``, the kills of idle pins beside work in flight)
    /// until it ends. The decisions are the schedule's and the classifier's; this function only reads, acts and
    /// reports (progress every 100 ms, the holders when idle pins end the drain, at the deadline and on a stop).
    func drainClassifying(
        _ server: RoutedServer,
        key: BackendServer.Key,
        timeout: Duration,
        interval: Duration,
        context: CutoverExecutionContext
    ) async throws -> CutoverEvent {
        let logger = context.logger
        var schedule = DrainSchedule(policy: policy, start: context.elapsed(), timeout: timeout, interval: interval)
        var lastReport = Duration.zero - .seconds(1)
        var used = 0
        // The last processlist reading, for the reports.
        var lastPins: SessionPins?
        var next = schedule.first
        while true {
            let observation: DrainSchedule.Observation
            switch next {
            case .finish(let ending):
                switch ending {
                case .drained(let at):
                    return .drained(server, at: at)
                case .drainedAfterCuttingIdlePins(let cut, let at):
                    return .drainEndedWithIdlePins(server, holders: cut, at: at)
                case .idlePinsOnly(let holders, let at):
                    context.report(.drainProgress(server: server, connectionsUsed: used, holders: lastPins?.holders ?? [], at: at))
                    return .drainEndedWithIdlePins(server, holders: holders, at: at)
                case .deadlinePassed(let at):
                    context.report(.drainProgress(server: server, connectionsUsed: used, holders: lastPins?.holders ?? [], at: at))
                    return .drainDeadlinePassed(server, holders: lastPins?.holders ?? [], at: at)
                }
            case .pollPool:
                let stats = await proxies.connectionPoolStats(for: key, logger: logger)
                if let failure = stats.failures.first {
                    return stepFailed(
                        .pollDrain(server, timeout: timeout, interval: interval), "\(failure.error)",
                        endpoint: failure.node, context: context)
                }
                used = stats.successes.reduce(0) { $0 + Int($1.value?.connectionsUsed ?? 0) }
                observation = .pool(used: used, at: context.elapsed())
            case .readHolders:
                let pins = await SessionPins.read(on: key, proxies: proxies, logger: logger)
                lastPins = pins
                observation = .holders(pins.failures.isEmpty ? DrainClassifier.classify(pins) : nil, at: context.elapsed())
            case .kill(let holders):
                let killed = await killIdlePins(holders, of: lastPins, logger: logger)
                observation = .killed(killed, at: context.elapsed())
            case .sleep(let duration):
                try await sleep(duration)
                observation = .slept(at: context.elapsed())
            }
            next = schedule.next(after: observation)
            if case .finish = next { continue }
            let now = context.elapsed()
            if context.isStopRequested() {
                // The operator asked to stop: waiting out the deadline would only keep the writes blocked longer.
                let holders = await SessionPins.read(on: key, proxies: proxies, logger: logger).holders
                context.report(.drainProgress(server: server, connectionsUsed: used, holders: holders, at: now))
                return .drainStopped(server, holders: holders, at: now)
            }
            if now - lastReport >= .milliseconds(100) {
                lastReport = now
                context.report(.drainProgress(server: server, connectionsUsed: used, holders: [], at: now))
            }
        }
    }

    /// Kills the sessions of `holders` (admin `KILL CONNECTION` on the node that shows them); returns those killed.
    private func killIdlePins(_ holders: [ClassifiedHolder], of pins: SessionPins?, logger: Logger) async
        -> [ClassifiedHolder]
    {
        guard let pins else { return [] }
        var killed: [ClassifiedHolder] = []
        for holder in holders {
            guard let (node, entry) = pins.sessions.first(where: { $0.entry.sessionID.rawValue == holder.holder.sessionID
                && holder.holder.clientAddress.hasSuffix("via \($0.node)") }),
                let client = proxies.nodes.first(where: { $0.nodeName == node })
            else { continue }
            do {
                try await client.killSession(entry.sessionID, logger: logger)
                killed.append(holder)
            } catch {
                logger.debug("kill of an idle pinned session failed", metadata: ["proxysql.node": "\(node)", "error": "\(error)"])
            }
        }
        return killed
    }
}
