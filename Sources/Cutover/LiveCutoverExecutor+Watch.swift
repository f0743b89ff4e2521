import Logging
import ProxySQLAdmin

extension LiveCutoverStep {
    /// ``CutoverAction/watchNewWriter(_:watch:recovery:interval:maximumReloads:)``: reads every node's runtime status
    /// of the new writer's row, logs in to it with the replication account of the replication started after the
    /// switch when ``ShunnedWriterRecovery/Watch/needsProbe(_:)`` asks (the account the old writer will use: no
    /// administrative privilege, so `max_connections` refuses it as it refuses ProxySQL's connects), re-loads where
    /// the watch says, and reports what it saw. The decisions are ``ShunnedWriterRecovery``'s; this only reads, acts
    /// and reports. Never fails: a node that cannot be read is reported as such; a stop request ends the watch.
    ///
    /// Undo: none needed. A re-LOAD sends `LOAD MYSQL SERVERS TO RUNTIME` with the rows unchanged: it only puts the
    /// live status back to the configured `ONLINE`.
    func watchNewWriter(
        _ role: DatabaseRole, key: BackendServer.Key, _ initial: ShunnedWriterRecovery.Watch, interval: Duration,
        context: CutoverExecutionContext
    ) async -> CutoverEvent {
        let logger = context.logger
        var watch = initial
        let start = context.elapsed()
        while true {
            let (statuses, unreadable) = await runtimeStatuses(of: key, logger: logger)
            let accepts = watch.needsProbe(statuses) ? await probeNewWriter(role, logger: logger) : nil
            let next = watch.observe(
                statuses, unreadable: unreadable, acceptsConnections: accepts, elapsed: context.elapsed() - start)
            switch next {
            case .end:
                return .newWriterWatched(role, watch.report, at: context.elapsed())
            case .reload(let nodes):
                let failures = await reload(nodes, logger: logger)
                watch.reloaded(nodes: nodes, at: context.elapsed(), failures: failures)
                logger.info(
                    "new writer was SHUNNED and accepts connections again: re-loaded mysql_servers",
                    metadata: ["proxysql.nodes": "\(nodes.joined(separator: ","))", "cutover.phase": "watchNewWriter"])
            case .readAgain:
                break
            }
            if context.isStopRequested() {
                return .newWriterWatched(role, watch.report, at: context.elapsed())
            }
            do {
                try await sleep(interval)
            } catch {
                // Cancelled: report what was seen so far.
                return .newWriterWatched(role, watch.report, at: context.elapsed())
            }
        }
    }

    /// Each node's runtime status of `key` (nil where the row is absent or the node could not be read, the latter
    /// also in the second value with its error).
    private func runtimeStatuses(of key: BackendServer.Key, logger: Logger) async
        -> (statuses: [String: BackendStatus?], unreadable: [String: String])
    {
        let result = await proxies.forEachNode("read the new writer's runtime status", logger: logger) { node, logger in
            try await node.servers(in: .runtime, hostgroups: [key.hostgroup], logger: logger)
                .first { $0.key == key }?.status
        }
        var statuses: [String: BackendStatus?] = [:]
        var unreadable: [String: String] = [:]
        for outcome in result.outcomes {
            switch outcome.result {
            case .success(let status): statuses[outcome.node] = status
            case .failure(let error):
                statuses[outcome.node] = .some(nil)
                unreadable[outcome.node] = "\(error)"
            }
        }
        return (statuses, unreadable)
    }

    /// A fresh login to the new writer with the replication account that will replicate from it (journaled like the
    /// guards' probe, never the password): whether it accepts connections (nil: no probe configured).
    private func probeNewWriter(_ role: DatabaseRole, logger: Logger) async -> Bool? {
        guard let login = await environment.probeReplicationLogin(to: role, logger: logger) else { return nil }
        return ShunnedWriterRecovery.acceptsConnections(login)
    }

    /// `LOAD MYSQL SERVERS TO RUNTIME` on `nodes` (rows unchanged); node → error where it failed.
    private func reload(_ nodes: [String], logger: Logger) async -> [String: String] {
        let wanted = Set(nodes)
        let result = await proxies.forEachNode("re-load mysql_servers", logger: logger) { node, logger in
            guard wanted.contains(node.nodeName) else { return false }
            try await node.loadServersToRuntime(logger: logger)
            return true
        }
        var failures: [String: String] = [:]
        for failure in result.failures where wanted.contains(failure.node) {
            failures[failure.node] = "\(failure.error)"
        }
        return failures
    }
}
