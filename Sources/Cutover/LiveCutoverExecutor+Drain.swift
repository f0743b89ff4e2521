import Logging
import ProxySQLAdmin

extension LiveCutoverExecutor {
    /// Polls the old server's `ConnUsed` until 0 or `timeout`, and under ``PinnedSessionPolicy/cut`` reads who
    /// holds it once two consecutive polls showed it held (a single late `ConnUsed` poll is tolerated): when only
    /// idle pins hold it, the drain ends at once (``DrainClassifier/verdict(holders:policy:)``), and at the deadline
    /// idle pins alone are cut rather than rolled back for (``DrainClassifier/deadlineVerdict(holders:policy:)``).
    /// The decisions are the classifier's; this function only reads and reports.
    func drainClassifying(
        _ server: RoutedServer,
        key: BackendServer.Key,
        timeout: Duration,
        interval: Duration,
        context: CutoverExecutionContext
    ) async throws -> CutoverStateMachine.Event {
        let logger = context.logger
        let start = context.elapsed()
        var lastReport = Duration.zero - .seconds(1)
        var lastClassified = Duration.zero - .seconds(1)
        var busyPolls = 0
        // Idle pins cut while the drain went on (``DrainClassifier/Verdict/cutIdlePinsAndKeepWaiting(_:)``).
        var cut: [ClassifiedHolder] = []
        // A processlist read costs about as much as a pool poll on ProxySQL: at most one every 10 ms.
        let classifyEvery = max(interval, .milliseconds(10))
        while true {
            let stats = await proxies.connectionPoolStats(for: key, logger: logger)
            if let failure = stats.failures.first {
                return stepFailed(
                    .pollDrain(server, timeout: timeout, interval: interval), "\(failure.error)",
                    endpoint: failure.node, context: context)
            }
            let used = stats.successes.reduce(0) { $0 + Int($1.value?.connectionsUsed ?? 0) }
            let now = context.elapsed()
            if used == 0 {
                return cut.isEmpty ? .drained(server, at: now) : .drainEndedWithIdlePins(server, holders: cut, at: now)
            }
            busyPolls += 1
            if now - start >= timeout {
                let pins = await SessionPins.read(on: key, proxies: proxies, logger: logger)
                let classified = DrainClassifier.classify(pins)
                context.report(.drainProgress(server: server, connectionsUsed: used, holders: pins.holders, at: now))
                if pins.failures.isEmpty,
                    case .cutIdlePins(let holders)? = DrainClassifier.deadlineVerdict(holders: classified, policy: policy)
                {
                    return .drainEndedWithIdlePins(server, holders: cut + holders, at: context.elapsed())
                }
                return .drainDeadlinePassed(server, holders: pins.holders, at: now)
            }
            if context.isStopRequested() {
                // The operator asked to stop: waiting out the deadline would only keep the writes blocked longer.
                let holders = await SessionPins.read(on: key, proxies: proxies, logger: logger).holders
                context.report(.drainProgress(server: server, connectionsUsed: used, holders: holders, at: now))
                return .drainStopped(server, holders: holders, at: now)
            }
            if policy.pinnedSessions == .cut, DrainClassifier.shouldClassify(consecutiveBusyPolls: busyPolls),
                now - lastClassified >= classifyEvery
            {
                lastClassified = now
                let pins = await SessionPins.read(on: key, proxies: proxies, logger: logger)
                if pins.failures.isEmpty {
                    let classified = DrainClassifier.classify(pins)
                    switch DrainClassifier.verdict(holders: classified, policy: policy) {
                    case .keepWaiting:
                        break
                    case .cutIdlePins(let holders):
                        let at = context.elapsed()
                        context.report(.drainProgress(server: server, connectionsUsed: used, holders: pins.holders, at: at))
                        return .drainEndedWithIdlePins(server, holders: cut + holders, at: at)
                    case .cutIdlePinsAndKeepWaiting(let holders):
                        cut += await killIdlePins(holders, of: pins, logger: logger)
                    }
                }
            }
            if now - lastReport >= .milliseconds(100) {
                lastReport = now
                context.report(.drainProgress(server: server, connectionsUsed: used, holders: [], at: now))
            }
            try await sleep(interval)
        }
    }

    /// Kills the sessions of `holders` (admin `KILL CONNECTION` on the node that shows them); returns those killed.
    private func killIdlePins(_ holders: [ClassifiedHolder], of pins: SessionPins, logger: Logger) async
        -> [ClassifiedHolder]
    {
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

    /// Reads `stats_mysql_query_digest` on every node and decides about the auto-increment pin
    /// (``AutoIncrementPinDecision/decide(policy:evidence:)``).
    func autoIncrementPinDecision(logger: Logger) async -> AutoIncrementPinDecision {
        guard policy.autoIncrementPin == .auto else {
            return AutoIncrementPinDecision.decide(policy: policy.autoIncrementPin, evidence: nil)
        }
        let read = await proxies.lastInsertIDUse(logger: logger)
        var evidence = LastInsertIDEvidence(digestsRead: 0, lastInsertIDDigests: [])
        for failure in read.failures { evidence.unreadable.append("\(failure.node) (\(failure.error))") }
        for (node, use) in read.successes {
            guard let use else {
                evidence.unreadable.append("\(node) (no digest reader)")
                continue
            }
            evidence.digestsRead += use.digests
            for text in use.lastInsertIDDigests where !evidence.lastInsertIDDigests.contains(text) {
                evidence.lastInsertIDDigests.append(text)
            }
        }
        return AutoIncrementPinDecision.decide(policy: .auto, evidence: evidence)
    }
}
