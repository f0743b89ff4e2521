import Logging
import MariaDB
import ProxySQLAdmin

extension Preflight {
    // MARK: ProxySQL checks

    static let proxyChecks: [Definition] = [
        Definition(
            id: "proxysql.connectivity",
            title: "Every ProxySQL admin interface reachable, version",
            remedyOnError: { _ in proxyAdminRemedy },
            check: Preflight.checkProxyConnectivity
        ),
        Definition(
            id: "proxysql.source-rows",
            title: "Source rows ONLINE in every node's runtime",
            remedyOnError: { _ in proxyAdminRemedy },
            check: Preflight.checkSourceRows
        ),
        Definition(
            id: "proxysql.pinned-sessions",
            title: "Sessions ProxySQL pins to the source rows right now (they hold the drain)",
            remedyOnError: { _ in proxyAdminRemedy + "; the admin account must read stats_mysql_processlist" },
            check: Preflight.checkPinnedSessions
        ),
        Definition(
            id: "proxysql.target-rows",
            title: "Target rows present in ProxySQL and not ONLINE",
            remedyOnError: { _ in proxyAdminRemedy },
            check: Preflight.checkTargetRows
        ),
        Definition(
            id: "proxysql.target-reachable",
            title: "Each ProxySQL node reaches the target (monitor logs)",
            remedyOnError: { _ in proxyAdminRemedy },
            check: Preflight.checkTargetReachable
        ),
        Definition(
            id: "proxysql.replication-hostgroups",
            title: "No replication hostgroup pair can move the target rows",
            remedyOnError: { _ in proxyAdminRemedy },
            check: Preflight.checkReplicationHostgroups
        ),
        Definition(
            id: "proxysql.runtime-equal",
            title: "Every node's runtime equal and loaded",
            remedyOnError: { _ in proxyAdminRemedy },
            check: Preflight.checkRuntimeEqual
        ),
        clusterCheck,
    ]

    static let proxyAdminRemedy =
        "check the ProxySQL admin address and credentials (mysql -h HOST -P 6032 -u ADMIN -p -e 'SELECT @@version')"

    /// The rows the cut-over moves, per role (writer first).
    func keys(_ role: DatabaseRole) -> [BackendServer.Key] {
        let routing = topology.routing(role)
        return [routing.writer] + (routing.reader.map { [$0] } ?? [])
    }

    /// The hostgroups of every row the cut-over moves.
    var routedHostgroups: Set<HostgroupID> {
        Set((keys(.source) + keys(.target)).map(\.hostgroup))
    }

    /// A `fail` per node that could not answer.
    private func record(_ failures: [(node: String, error: ProxySQLAdminError)], _ findings: inout Findings) {
        for failure in failures {
            findings.fail("\(failure.node): \(failure.error)", remedy: Self.proxyAdminRemedy)
        }
    }

    /// Runs `read` on every node, lets `judge` turn the answers into findings, adds a `fail` per node that could not
    /// answer, and combines them into the check's outcome.
    private func onEveryNode<Value: Sendable>(
        _ operationName: String,
        logger: Logger,
        read: @escaping @Sendable (any ProxySQLAdministering, Logger) async throws -> Value,
        judge: (_ answers: [(node: String, value: Value)], _ findings: inout Findings) -> Void
    ) async -> Outcome {
        let result = await proxies.forEachNode(operationName, logger: logger, read)
        var findings = Findings()
        judge(result.successes, &findings)
        record(result.failures, &findings)
        return findings.outcome(ifEmpty: .pass(""))
    }

    private func literal(_ text: String) -> String { SQLQuoting.stringLiteral(text, dialect: .proxySQLAdmin) }

    private func whereKey(_ key: BackendServer.Key) -> String {
        "hostgroup_id = \(key.hostgroup) AND hostname = \(literal(key.endpoint.host)) AND port = \(key.endpoint.port)"
    }

    // MARK: Checks

    func checkProxyConnectivity(_ logger: Logger) async throws -> Outcome {
        guard !proxies.nodes.isEmpty else {
            return .fail(
                "no ProxySQL node is configured", remedy: "list the ProxySQL admin interfaces in the configuration")
        }
        return await onEveryNode("preflight version", logger: logger) { node, logger in
            try await node.version(logger: logger)
        } judge: { answers, findings in
            for (node, version) in answers { findings.pass("\(node): ProxySQL \(version)") }
        }
    }

    func checkSourceRows(_ logger: Logger) async throws -> Outcome {
        let keys = keys(.source)
        let hostgroups = Set(keys.map(\.hostgroup))
        return await onEveryNode("preflight source rows", logger: logger) { node, logger in
            try await node.servers(in: .runtime, hostgroups: hostgroups, logger: logger)
        } judge: { answers, findings in
            for (node, runtime) in answers {
                for key in keys {
                    let live = runtime.first { $0.key == key && $0.status != .offlineHard }
                    switch live?.status {
                    case .online?:
                        findings.pass("\(node): \(key) ONLINE")
                    case let status?:
                        findings.fail(
                            "\(node): \(key) is \(status), not ONLINE: the cut-over starts from the source serving",
                            remedy: "if a previous run stopped midway, see `migrate-cli status` and `migrate-cli resume`; "
                                + "otherwise UPDATE mysql_servers SET status = 'ONLINE' WHERE \(whereKey(key)); "
                                + "LOAD MYSQL SERVERS TO RUNTIME"
                        )
                    case nil:
                        findings.fail(
                            "\(node): \(key) is not live in runtime_mysql_servers",
                            remedy: "check mysql_servers on \(node) and the topology's source rows; "
                                + "LOAD MYSQL SERVERS TO RUNTIME if the row is configured"
                        )
                    }
                }
            }
        }
    }

    /// Reads `stats_mysql_processlist` on every node for the sessions holding a backend connection to a source row
    /// while idle (pinned): a warning each, with the likely reason and the policy knob or action that helps. A
    /// snapshot: it cannot fail the preflight, since pins come and go with the load; the writer switch's guards look
    /// again and refuse only what would hold the drain past its deadline (see ``CutoverPolicy``).
    func checkPinnedSessions(_ logger: Logger) async throws -> Outcome {
        var findings = Findings()
        for key in keys(.source) {
            let pins = await SessionPins.read(on: key, proxies: proxies, logger: logger)
            let stubborn = Set(pins.stubborn(idleLimit: policy.longTransactionLimit).map(\.entry.sessionID))
            let remedy = pins.remedy(policy: policy)
            for node in proxies.nodeNames where !pins.failures.contains(where: { $0.node == node }) {
                let sessions = pins.sessions.filter { $0.node == node }
                let pinned = sessions.filter { $0.entry.isIdleHoldingBackend }
                if pinned.isEmpty {
                    let running = sessions.count
                    findings.pass(
                        "\(node): no session pinned to \(key)"
                            + (running == 0 ? "" : " (\(running) running a statement)"))
                }
                for session in pinned {
                    let holder = SessionPins.holder(session.entry, node: node)
                    let blocks = stubborn.contains(session.entry.sessionID) && policy.drainDeadlinePolicy == .rollBack
                    let guarded = blocks && !(policy.pinnedSessions == .cut
                        && DrainClassifier.holderClass(of: session.entry).isIdlePin)
                    findings.warn(
                        "\(node): \(key) is held by \(holder)"
                            + (guarded
                                ? " — the writer switch's guards refuse while it stays (drain-deadline-policy roll-back)"
                                : " — \(drainPlan(for: session.entry))"),
                        remedy: remedy
                    )
                }
            }
            record(pins.failures, &findings)
        }
        return findings.outcome(ifEmpty: .pass("no source row to read"))
    }

    func checkTargetRows(_ logger: Logger) async throws -> Outcome {
        let keys = keys(.target)
        let hostgroups = Set(keys.map(\.hostgroup))
        return await onEveryNode("preflight target rows", logger: logger) { node, logger in
            let configured = try await node.servers(in: .configured, hostgroups: hostgroups, logger: logger)
            let runtime = try await node.servers(in: .runtime, hostgroups: hostgroups, logger: logger)
            return (configured, runtime)
        } judge: { answers, findings in
            for (node, (configured, runtime)) in answers {
                for key in keys {
                    let hardOffline =
                        "UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE \(whereKey(key)); "
                        + "LOAD MYSQL SERVERS TO RUNTIME; SAVE MYSQL SERVERS TO DISK (on \(node))"
                    guard let row = configured.first(where: { $0.key == key }) else {
                        findings.fail(
                            "\(node): \(key) is not in mysql_servers",
                            remedy: "on \(node): INSERT INTO mysql_servers (hostgroup_id, hostname, port, status) VALUES "
                                + "(\(key.hostgroup), \(literal(key.endpoint.host)), \(key.endpoint.port), 'OFFLINE_HARD'); "
                                + "LOAD MYSQL SERVERS TO RUNTIME; SAVE MYSQL SERVERS TO DISK"
                        )
                        continue
                    }
                    let live = runtime.first { $0.key == key && $0.status != .offlineHard }
                    if row.status == .online || live?.status == .online {
                        findings.fail(
                            "\(node): \(key) is ONLINE (" + (row.status == .online ? "configured" : "live in runtime")
                                + "): the target would take traffic before the cut-over",
                            remedy: hardOffline
                        )
                    } else if row.status != .offlineHard || live != nil {
                        findings.warn(
                            "\(node): \(key) is \(live?.status ?? row.status), expected OFFLINE_HARD",
                            remedy: hardOffline
                        )
                    } else {
                        findings.pass("\(node): \(key) OFFLINE_HARD")
                    }
                }
            }
        }
    }

    func checkTargetReachable(_ logger: Logger) async throws -> Outcome {
        let endpoints = Array(Set(keys(.target).map(\.endpoint))).sorted()
        let rows = options.monitorLogRows
        return await onEveryNode("preflight monitor logs", logger: logger) { node, logger in
            var logs: [ServerEndpoint: Result<[MonitorCheck], ProxySQLAdminError>] = [:]
            for endpoint in endpoints {
                do {
                    var checks: [MonitorCheck] = []
                    for kind in MonitorCheck.Kind.allCases {
                        checks += try await node.monitorChecks(of: endpoint, kind: kind, limit: rows, logger: logger)
                    }
                    logs[endpoint] = .success(checks)
                } catch {
                    logs[endpoint] = .failure(ProxySQLAdminError(classifying: error, node: node.nodeName))
                }
            }
            return logs
        } judge: { answers, findings in
            let now = wallClockMicroseconds()
            let maxAge = UInt64(max(0, options.monitorLogMaxAge / .microseconds(1)))
            let probeRemedy =
                "the monitor does not check OFFLINE_HARD servers: to confirm, add the target endpoint to a spare "
                + "hostgroup outside every replication hostgroup pair as OFFLINE_SOFT (INSERT INTO mysql_servers "
                + "(hostgroup_id, hostname, port, status, comment) VALUES (9999, 'HOST', PORT, 'OFFLINE_SOFT', 'probe'); "
                + "LOAD MYSQL SERVERS TO RUNTIME), read monitor.mysql_server_connect_log, then remove it; or run "
                + "mysql -h HOST -P PORT -e 'SELECT 1' from the ProxySQL host"
            for (node, logs) in answers {
                for endpoint in endpoints {
                    switch logs[endpoint] {
                    case .failure(let error)?:
                        findings.warn(
                            "\(node): could not confirm \(endpoint): the monitor logs cannot be read (\(error))",
                            remedy: probeRemedy
                        )
                    case .success(let checks)?:
                        let recent = checks.filter {
                            now &- $0.startedAtMicroseconds <= maxAge || $0.startedAtMicroseconds > now
                        }
                        .sorted { $0.startedAtMicroseconds > $1.startedAtMicroseconds }
                        guard let newest = recent.first else {
                            findings.warn(
                                "\(node): could not confirm \(endpoint): no monitor check in the last "
                                    + "\(options.monitorLogMaxAge)",
                                remedy: probeRemedy
                            )
                            continue
                        }
                        if newest.succeeded {
                            findings.pass("\(node): \(newest)")
                        } else {
                            findings.fail(
                                "\(node) cannot reach \(endpoint): \(newest)",
                                remedy: "open the path from \(node) to \(endpoint) (security group, firewall) and check "
                                    + "that mysql-monitor_username can log in there"
                            )
                        }
                    case nil:
                        break
                    }
                }
            }
        }
    }

    func checkReplicationHostgroups(_ logger: Logger) async throws -> Outcome {
        let endpoints = Array(Set(keys(.target).map(\.endpoint))).sorted()
        // A pair in either layer counts against a target row in either layer: the OFFLINE_HARD target row is absent
        // from the runtime today, but a runtime pair catches it the moment the cut-over makes it live.
        return await onEveryNode("preflight replication hostgroups", logger: logger) { node, logger in
            var pairsByLayer: [(ConfigurationLayer, [ReplicationHostgroupPair])] = []
            for layer in [ConfigurationLayer.configured, .runtime] {
                pairsByLayer.append((layer, try await node.replicationHostgroupPairs(layer: layer, logger: logger)))
            }
            let hostgroups = Set(pairsByLayer.flatMap(\.1).flatMap { [$0.writerHostgroup, $0.readerHostgroup] })
            guard !hostgroups.isEmpty else { return [MonitorExposure]() }
            var rows: [BackendServer] = []
            for layer in [ConfigurationLayer.configured, .runtime] {
                rows += try await node.servers(in: layer, hostgroups: hostgroups, logger: logger)
            }
            var exposures: [MonitorExposure] = []
            for endpoint in endpoints {
                for (layer, pairs) in pairsByLayer {
                    for exposure in MonitorExposure.find(endpoint: endpoint, pairs: pairs, servers: rows, layer: layer)
                    where !exposures.contains(where: { $0.endpoint == endpoint && $0.pair == exposure.pair }) {
                        var exposure = exposure
                        exposure.servers = Array(Set(exposure.servers.map(\.key))).sorted().compactMap { key in
                            exposure.servers.first { $0.key == key }
                        }
                        exposures.append(exposure)
                    }
                }
            }
            return exposures
        } judge: { answers, findings in
            for (node, exposures) in answers {
                if exposures.isEmpty {
                    findings.pass("\(node): no pair contains the target")
                }
                for exposure in exposures {
                    findings.fail(
                        "\(node): \(exposure): the monitor could move it by read_only",
                        remedy: "on \(node): DELETE FROM mysql_replication_hostgroups WHERE writer_hostgroup = "
                            + "\(exposure.pair.writerHostgroup) AND reader_hostgroup = \(exposure.pair.readerHostgroup); "
                            + "LOAD MYSQL SERVERS TO RUNTIME; SAVE MYSQL SERVERS TO DISK (or keep the target out of "
                            + "the pair's hostgroups for the migration)"
                    )
                }
            }
        }
    }

    func checkRuntimeEqual(_ logger: Logger) async throws -> Outcome {
        let hostgroups = routedHostgroups
        return await onEveryNode("preflight runtime", logger: logger) { node, logger in
            let runtime = try await node.servers(in: .runtime, hostgroups: hostgroups, logger: logger)
            let loaded = try await node.verifyRuntimeMatchesConfiguration(hostgroups: hostgroups, logger: logger)
            return (runtime, loaded)
        } judge: { answers, findings in
            let hostgroupList = hostgroups.sorted().map(\.description).joined(separator: ", ")
            for (node, (_, loaded)) in answers where !loaded.isSatisfied {
                findings.warn(
                    "\(node): mysql_servers differs from the runtime (a change not loaded): "
                        + loaded.differences.map(\.description).joined(separator: "; "),
                    remedy: "on \(node): review mysql_servers, then LOAD MYSQL SERVERS TO RUNTIME (or discard the change "
                        + "with LOAD MYSQL SERVERS FROM RUNTIME)"
                )
            }
            if let (reference, (referenceRows, _)) = answers.first {
                let expected = Set(referenceRows.filter { $0.status != .offlineHard })
                var differing = false
                for (node, (rows, _)) in answers.dropFirst() {
                    let live = Set(rows.filter { $0.status != .offlineHard })
                    guard live != expected else { continue }
                    differing = true
                    let missing = expected.subtracting(live).sorted { $0.key < $1.key }.map(\.description)
                    let extra = live.subtracting(expected).sorted { $0.key < $1.key }.map(\.description)
                    findings.fail(
                        "\(node) differs from \(reference) in hostgroups \(hostgroupList): "
                            + (missing.isEmpty ? "" : "lacks \(missing.joined(separator: ", "))")
                            + (missing.isEmpty || extra.isEmpty ? "" : "; ")
                            + (extra.isEmpty ? "" : "has \(extra.joined(separator: ", "))"),
                        remedy: "make mysql_servers equal on every node (ProxySQL Cluster sync, or the same statements on "
                            + "each), then LOAD MYSQL SERVERS TO RUNTIME on each"
                    )
                }
                if !differing {
                    findings.pass(
                        answers.count == 1
                            ? "\(reference): one node, \(expected.count) live row(s) in hostgroups \(hostgroupList)"
                            : "\(answers.count) nodes with the same \(expected.count) live row(s) in hostgroups \(hostgroupList)"
                    )
                }
            }
        }
    }
}
