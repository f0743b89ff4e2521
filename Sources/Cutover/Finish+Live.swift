import Foundation
public import Logging
public import ProxySQLAdmin

/// `finish` over a live ``CutoverEnvironment``: reads ``Finish/Facts``, and performs the steps, journaling each.
public struct FinishRun: Sendable {
    public let environment: CutoverEnvironment
    /// How long the guard waits for reverse replication to execute Aurora's current position.
    public var reverseCatchUpTimeout: Duration
    /// Bound on each replication step (stop/reset).
    public var stepTimeout: Duration

    public init(environment: CutoverEnvironment, reverseCatchUpTimeout: Duration = .seconds(30), stepTimeout: Duration = .seconds(60)) {
        self.environment = environment
        self.reverseCatchUpTimeout = reverseCatchUpTimeout
        self.stepTimeout = stepTimeout
    }

    /// Reads what the guards need; a node or a server that cannot be read becomes a fact, not an error.
    public func readFacts(logger: Logger) async -> Finish.Facts {
        let topology = environment.topology
        let hostgroups = Set(
            [topology.source.writer.hostgroup, topology.target.writer.hostgroup]
                + [topology.source.reader?.hostgroup, topology.target.reader?.hostgroup].compactMap { $0 })
        let sourceKeys = [topology.source.writer] + (topology.source.reader.map { [$0] } ?? [])
        var nodes: [Finish.NodeFacts] = []
        for node in environment.proxies.nodes {
            do {
                let rows = try await node.servers(in: .runtime, hostgroups: hostgroups, logger: logger)
                var used: UInt64 = 0
                for key in sourceKeys {
                    used += try await node.connectionPoolStats(for: key, logger: logger)?.connectionsUsed ?? 0
                }
                nodes.append(.init(name: node.nodeName, runtimeRows: rows, sourceConnectionsUsed: used))
            } catch {
                nodes.append(.init(name: node.nodeName, runtimeRows: [], sourceConnectionsUsed: 0, error: "\(error)"))
            }
        }
        let reverse: Finish.ReverseState
        do {
            if let health = try await environment.source.replicaHealth(logger: logger) {
                if !health.isRunning {
                    reverse = .broken("\(health)")
                } else {
                    let position = try await environment.target.currentPosition(logger: logger)
                    do {
                        try await environment.source.waitForCatchUp(
                            to: position, timeout: reverseCatchUpTimeout, progress: { _ in }, logger: logger)
                        reverse = .caughtUp("executed Aurora's \(position)")
                    } catch {
                        reverse = .behind("did not execute Aurora's \(position) within \(reverseCatchUpTimeout): \(error)")
                    }
                }
            } else {
                reverse = .absent
            }
        } catch {
            reverse = .broken("its status could not be read: \(error)")
        }
        let forwardConfigured = ((try? await environment.target.replicaHealth(logger: logger)) ?? nil) != nil
        return Finish.Facts(topology: topology, nodes: nodes, reverse: reverse, forwardConfigured: forwardConfigured)
    }

    /// One step finish took, for the report.
    public struct Step: Sendable, Hashable {
        public var name: String
        public var endpoint: String
        public var detail: String
        public var duration: Duration
    }

    /// Performs the steps (the guards must have passed): reverse replication stopped and reset on the source, the
    /// source's writer and reader rows deleted on every node then LOAD and SAVE (runtime verified), forward
    /// replication reset on Aurora. Each step is journaled before and after.
    ///
    /// - Throws: the first failing step's error (the steps before it stay done; the journal says which).
    public func perform(journal: CutoverJournal?, logger: Logger, progress: @Sendable (Step) -> Void = { _ in }) async throws -> [Step] {
        let runID = "finish-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let started = ContinuousClock.now
        let topology = environment.topology
        var steps: [Step] = []
        func record(_ kind: CutoverJournalEntry.Kind, _ name: String, _ endpoint: String, _ detail: String) async throws {
            guard let journal else { return }
            var entry = CutoverJournalEntry(
                sequence: 0, runID: runID, kind: kind, time: Date().ISO8601Format(),
                elapsedMicroseconds: Int64((ContinuousClock.now - started).components.seconds * 1_000_000
                    + (ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000))
            entry.step = StepID(rawValue: "finish.\(name)")
            entry.statements = [ExecutedStatement(endpoint: endpoint, statement: detail)]
            entry.pastPointOfNoReturn = kind == .event
            try await journal.append(entry)
        }
        func step(_ name: String, _ endpoint: String, _ detail: String, _ body: () async throws -> Void) async throws {
            try await record(.action, name, endpoint, detail)
            let start = ContinuousClock.now
            try await body()
            let done = Step(name: name, endpoint: endpoint, detail: detail, duration: ContinuousClock.now - start)
            try await record(.event, name, endpoint, "done in \(done.duration)")
            steps.append(done)
            progress(done)
        }
        let timeout = stepTimeout
        try await step("stop-reverse-replication", "source", "STOP REPLICA; RESET REPLICA ALL") {
            try await environment.source.stopAndResetReplication(timeout: timeout, logger: logger)
        }
        let sourceKeys = [topology.source.writer] + (topology.source.reader.map { [$0] } ?? [])
        for node in environment.proxies.nodes {
            try await step(
                "remove-source-rows", node.nodeName,
                sourceKeys.map { "DELETE FROM mysql_servers WHERE hostgroup_id = \($0.hostgroup.rawValue) AND hostname = '\($0.endpoint.host)' AND port = \($0.endpoint.port)" }
                    .joined(separator: "; ") + "; LOAD MYSQL SERVERS TO RUNTIME; SAVE MYSQL SERVERS TO DISK"
            ) {
                for key in sourceKeys { try await node.removeServer(key, logger: logger) }
                try await node.loadServersToRuntime(logger: logger)
                try await node.saveServersToDisk(logger: logger)
                let left = try await node.servers(in: .runtime, hostgroups: Set(sourceKeys.map(\.hostgroup)), logger: logger)
                    .filter { row in sourceKeys.contains(row.key) }
                guard left.isEmpty else {
                    throw CutoverError(
                        code: .executorFailed, message: "\(node.nodeName) still lists \(left.map { "\($0.key)" }.joined(separator: ", ")) at runtime after LOAD",
                        remedy: "check the node's mysql_servers (a ProxySQL Cluster peer may have synced them back) and delete them by hand")
                }
            }
        }
        if (try? await environment.target.replicaHealth(logger: logger)) ?? nil != nil {
            try await step("reset-forward-replication", "target", "rds_stop_replication; rds_reset_external_source|master") {
                try await environment.target.stopAndResetReplication(timeout: timeout, logger: logger)
            }
        }
        return steps
    }
}
