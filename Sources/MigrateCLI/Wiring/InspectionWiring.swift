import Cutover
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl

/// `preflight` and `status`: read-only views of the servers, as ``CommandReport``s.
enum InspectionWiring {
    /// Cut-over `Preflight` over both databases (`ServerInspector`) and every ProxySQL node.
    static func preflight(_ environment: CommandEnvironment, _ operation: CutoverOperation?) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let configuration = scope.configuration
            let source = try await scope.connect(.source)
            let target = try await scope.connect(.targetWriter)
            let targetDatabase = try await scope.database(.target, over: target, recording: false)
            let proxies = try await scope.proxyCluster(recording: false)
            var preflight = Preflight(
                topology: configuration.topology,
                policy: configuration.policy,
                source: ServerInspector(session: source, name: ConnectionScope.sourceName),
                target: ServerInspector(session: target, name: ConnectionScope.targetName),
                targetDatabase: targetDatabase,
                proxies: proxies
            )
            // `reverse-replication.login` logs in with the account the source replicates from Aurora with.
            preflight.replicationLogin = Preflight.ReplicationLogin(
                password: try environment.connections.replicationPassword(
                    configuration.reverseReplication, direction: "reverse")?.reveal())
            var report = await preflight.run(logger: environment.logger)
            // Without ProxySQL (#15): the proxy's checks do not apply; the switch commands are checked instead.
            if let settings = configuration.switchSettings, configuration.proxyNodes.isEmpty {
                report = HookSwitch.preflightReport(report, settings: settings)
            }
            return Self.report(report, operation: operation)
        }
    }

    /// A preflight report as a command report: one row per check, the failures as blocking reasons.
    static func report(_ report: PreflightReport, operation: CutoverOperation?) -> CommandReport {
        let rows = report.checks.map { check in
            [
                check.status == .pass ? "pass" : check.status.rawValue.uppercased(), check.id,
                check.detail.split(separator: "\n").joined(separator: "; "),
            ]
        }
        var notes = report.checks.filter { $0.status == .warn }.map { check in
            "warn \(check.id): " + (check.remedy ?? "see the detail").split(separator: "\n").joined(separator: "; ")
        }
        notes += [
            "\(report.count(.pass)) passed, \(report.count(.warn)) warned, \(report.count(.fail)) failed: "
                + (report.canProceed ? "ready (warnings do not block)" : "not ready; fix the blocking checks and run again")
        ]
        if let operation, !operation.movesWriter || operation.from == .target {
            notes.append("the checks look at the cut-over direction (source → Aurora); the \(operation) run checks its own guards before it changes anything")
        }
        return CommandReport(
            command: "preflight",
            sections: [.init(title: "Preflight", headers: ["status", "check", "detail"], rows: rows)],
            blockingReasons: report.blockingReasons,
            notes: notes
        )
    }

    /// Every ProxySQL node's rows for the configured servers (configured and runtime status, ConnUsed), and
    /// replication in both directions. An endpoint that does not answer is shown as such: the rest is still read.
    static func status(_ environment: CommandEnvironment) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let configuration = scope.configuration
            let topology = configuration.topology
            let logger = environment.logger
            var roles: [BackendServer.Key: String] = [:]
            for role in [DatabaseRole.source, .target] {
                let routing = topology.routing(role)
                roles[routing.writer] = "\(role) writer"
                if let reader = routing.reader { roles[reader] = "\(role) reader" }
            }
            let hostgroups: Set<HostgroupID> = [configuration.writerHostgroup, configuration.readerHostgroup]
            var routingRows: [[String]] = []
            var notes: [String] = []
            var failures: [StatusReadFailure] = []
            var writers: [StatusAssessment.NodeWriters] = []
            for node in configuration.proxyNodes {
                do {
                    let client = ProxySQLAdminClient(session: try await scope.connect(.proxyNode(node.name)), name: node.name)
                    let configured = try await client.servers(in: .configured, hostgroups: hostgroups, logger: logger)
                    let runtime = try await client.servers(in: .runtime, hostgroups: hostgroups, logger: logger)
                    var pool: [BackendServer.Key: ConnectionPoolStats] = [:]
                    for hostgroup in hostgroups.sorted() {
                        for row in try await client.connectionPoolStats(hostgroup: hostgroup, logger: logger) { pool[row.key] = row }
                    }
                    let keys = Array(Set(configured.map(\.key)).union(runtime.map(\.key))).sorted()
                    for key in keys {
                        let live = runtime.first { $0.key == key }
                        routingRows.append([
                            node.name, roles[key] ?? "-", "\(key.hostgroup)", "\(key.endpoint)",
                            configured.first { $0.key == key }?.status.rawValue ?? "absent",
                            live?.status.rawValue ?? "absent (OFFLINE_HARD)",
                            pool[key].map { "\($0.connectionsUsed)" } ?? "-",
                        ])
                    }
                    for (key, role) in roles.sorted(by: { $0.key < $1.key }) where !configured.contains(where: { $0.key == key }) {
                        notes.append("\(node.name): the \(role) row \(key) is missing from mysql_servers")
                    }
                    let writerRows = try await client.servers(in: .runtime, hostgroups: [configuration.writerHostgroup], logger: logger)
                    writers.append(StatusAssessment.NodeWriters(
                        node: node.name,
                        online: writerRows.filter { $0.status == .online || $0.status == .shunned }.map(\.endpoint)))
                } catch {
                    let failure = StatusReadFailure.classify(error)
                    failures.append(failure)
                    routingRows.append([node.name, "-", "-", "\(scope.address(of: .proxyNode(node.name)))", failure.cell, failure.detail, "-"])
                }
            }
            var replicationRows: [[String]] = []
            for (role, direction) in [(DatabaseRole.target, "forward (source → target)"), (.source, "reverse (target → source)")] {
                do {
                    let connection = try await scope.connect(role.endpointName)
                    let dialect = try await ReplicationDialect.detect(on: connection, logger: logger)
                    let controller: any ReplicaControlling =
                        (dialect.isAurora || dialect.rdsProcedures != nil)
                        ? try RDSReplicaController(session: connection, dialect: dialect)
                        : try NativeReplicaController(session: connection, dialect: dialect)
                    let status = try await controller.replicaStatus(logger: logger)
                    replicationRows.append(Self.replicationRow(direction: direction, role: role, status: status))
                    if role == .source {
                        // After a writer cut-over the old source must stay read-only, across restarts too.
                        let name = "source (\(scope.address(of: role.endpointName)))"
                        do {
                            notes += try await SourceFenceCheck.inspect(session: connection, name: name, logger: logger)
                        } catch {
                            notes.append("\(name): cannot check its read-only fence: \(error)")
                        }
                    }
                } catch {
                    let failure = StatusReadFailure.classify(error)
                    failures.append(failure)
                    replicationRows.append([direction, "\(role)", failure.cell, "-", "-", "-", "-", failure.detail])
                }
            }
            // The journal's last run, its phase derived from runtime as well (a crash during the ONLINE step leaves
            // a journal that alone says "not past the point of no return"), and the writer-hostgroup alarms.
            let journalPath = configuration.journalPath
            var journalSection: CommandReport.Section
            var alarms: [BlockingReason] = []
            do {
                let entries = try CutoverJournal.read(path: journalPath)
                let run = JournalRenderer.lastRun(entries)
                let assessment = StatusAssessment.assess(run: run, writers: writers, topology: topology)
                alarms = assessment.alarms
                // A switch run without ProxySQL has no routing to derive its phase from: its journal says it.
                journalSection = JournalRenderer.phase(entries, path: journalPath, derived: run.first?.hookSwitch == nil ? assessment.phase : nil)
                if let facts = FenceProof.journalFacts(run: run) {
                    let (alarm, note) = await Self.fenceProof(facts, scope: scope, logger: logger)
                    if let alarm { alarms.append(alarm) }
                    if let note { notes.append(note) }
                }
            } catch {
                failures.append(StatusReadFailure(cause: .failed, detail: "\(error)"))
                journalSection = CommandReport.Section(
                    title: "Journal", headers: ["field", "value"], rows: [["journal", journalPath], ["error", "\(error)"]])
                alarms = StatusAssessment.assess(run: [], writers: writers, topology: topology).alarms
            }
            if !failures.isEmpty {
                notes.append("\(failures.count) endpoint(s) could not be read: \(failures.map(\.detail).joined(separator: "; "))")
            }
            let routingSection: CommandReport.Section
            if let settings = configuration.switchSettings, configuration.proxyNodes.isEmpty {
                // Without ProxySQL (#15): the applications find the writer through what the switch command changes.
                routingSection = .init(title: "Switch (no ProxySQL)", headers: ["what", "value"], rows: [
                    ["mode", "switch command (the applications find the writer without a proxy)"],
                    ["cutover command", settings.cutoverCommand],
                    ["failback command", settings.failbackCommand],
                    ["bounds", "command \(HumanDuration.format(settings.commandTimeout)), first write observed within \(HumanDuration.format(settings.observeTimeout))"],
                ])
            } else {
                routingSection = .init(
                    title: "ProxySQL routing (hostgroups \(configuration.writerHostgroup), \(configuration.readerHostgroup))",
                    headers: ["node", "role", "hostgroup", "server", "configured", "runtime", "ConnUsed"],
                    rows: routingRows)
            }
            var report = CommandReport(
                command: "status",
                sections: [
                    routingSection,
                    .init(
                        title: "Replication",
                        headers: ["direction", "replica", "from", "io", "sql", "lag", "executed", "last error"],
                        rows: replicationRows),
                    journalSection,
                ],
                blockingReasons: alarms,
                notes: notes
            )
            // Alarms first (the routing needs the operator now), then what could not be read (#13 items 12, 13).
            report.status = alarms.isEmpty ? StatusReadFailure.exitStatus(failures) ?? .success : .failure
            return report
        }
    }

    static func replicationRow(direction: String, role: DatabaseRole, status: ReplicaStatus) -> [String] {
        guard status.isConfigured else {
            return [direction, "\(role)", "-", "not configured", "-", "-", "-", ""]
        }
        let source = status.sourceHost.map { "\($0):\(status.sourcePort ?? 3306)" } ?? "-"
        let error = [status.lastIOError.map { "io \($0)" }, status.lastSQLError.map { "sql \($0)" }].compactMap { $0 }
        return [
            direction, "\(role)", source, "\(status.ioThread)", "\(status.sqlThread)",
            status.secondsBehindSource.map { "\($0) s" } ?? "unknown",
            status.executedPosition.map { "\($0)" } ?? "-",
            error.joined(separator: "; "),
        ]
    }
}
