import Cutover
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Testing

private let logger = Logger(label: "preflight-tests")

/// A healthy migration (MySQL 8.0 source, Aurora v3 target, two ProxySQL nodes) that every test spoils in one place.
struct PreflightFixture {
    static let now: UInt64 = 1_800_000_000_000_000
    static let sourceWriter = BackendServer.Key(hostgroup: 10, host: "source-db", port: 3306)
    static let sourceReader = BackendServer.Key(hostgroup: 11, host: "source-db", port: 3306)
    static let targetWriter = BackendServer.Key(hostgroup: 10, host: "aurora-writer", port: 3306)
    static let targetReader = BackendServer.Key(hostgroup: 11, host: "aurora-reader", port: 3306)
    static let reverseAccount = ServerInspection.Account(user: "repl_reverse", host: "%")

    let source = FakeServerInspector(name: "source")
    let target = FakeServerInspector(name: "target")
    let targetDatabase = FakeCutoverDatabase(
        name: "target",
        health: ReplicaHealth(
            ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
            sourceEndpoint: "source-db:3306")
    )
    let nodes = [FakeProxyAdmin(nodeName: "proxy-1"), FakeProxyAdmin(nodeName: "proxy-2")]
    /// The reverse-replication account's login (`reverse-replication.login`): logs in with both privileges.
    let loginProbe = FakeReplicationLoginProbe(
        .loggedIn(grants: [ServerInspection.Grant(privileges: ["REPLICATION SLAVE", "REPLICATION CLIENT"], target: "*.*")]))
    var replicationPassword: String? = "reverse-secret"
    var policy = CutoverPolicy()
    var options = Preflight.Options(checkTimeout: .seconds(5))
    var topology = CutoverTopology(
        source: .init(writer: sourceWriter, reader: sourceReader),
        target: .init(writer: targetWriter, reader: targetReader),
        proxyNodes: ["proxy-1", "proxy-2"],
        sourceReplicationEndpoint: ServerEndpoint(host: "source-db", port: 3306),
        targetReplicationEndpoint: ServerEndpoint(host: "aurora-writer", port: 3306),
        forwardReplicationUser: "repl",
        reverseReplicationUser: "repl_reverse",
        applicationUsers: ["app"]
    )
    var proxyNodes: [any ProxySQLAdministering]

    init() {
        proxyNodes = nodes
        target.update { script in
            script.identity = ServerInspection.Identity(
                versionString: "8.0.mysql_aurora.3.05.2", versionComment: "Source distribution", auroraVersion: "3.05.2"
            )
            script.binlog = ServerInspection.BinlogSettings(variables: [
                "log_bin": "ON", "binlog_format": "ROW", "server_id": "2", "gtid_mode": "OFF",
                "enforce_gtid_consistency": "OFF", "aurora_enable_repl_bin_log_filtering": "OFF",
            ])
            script.procedures = [
                "rds_reset_external_source", "rds_set_configuration", "rds_set_external_source",
                "rds_show_configuration", "rds_start_replication", "rds_stop_replication",
            ]
            script.rdsConfiguration = [
                ServerInspection.ConfigurationEntry(name: "binlog retention hours", value: "24"),
                ServerInspection.ConfigurationEntry(name: "source delay", value: "0"),
            ]
            script.accounts = [
                ServerInspection.Account(user: "app", host: "%"), Self.reverseAccount,
                ServerInspection.Account(user: "rdsadmin", host: "localhost"),
            ]
            script.grants[Self.reverseAccount] = [
                ServerInspection.Grant(privileges: ["REPLICATION SLAVE", "REPLICATION CLIENT"], target: "*.*")
            ]
        }
        for node in nodes {
            node.update { script in
                script.configured = [
                    BackendServer(hostgroup: 10, host: "source-db", status: .online),
                    BackendServer(hostgroup: 11, host: "source-db", status: .online),
                    BackendServer(hostgroup: 10, host: "aurora-writer", status: .offlineHard),
                    BackendServer(hostgroup: 11, host: "aurora-reader", status: .offlineHard),
                ]
                script.runtime = script.configured.filter { $0.status != .offlineHard }
                script.monitor = [
                    Self.monitor(.connect, "aurora-writer", ago: 30), Self.monitor(.ping, "aurora-writer", ago: 5),
                    Self.monitor(.connect, "aurora-reader", ago: 30), Self.monitor(.ping, "aurora-reader", ago: 5),
                ]
            }
        }
    }

    static func monitor(_ kind: MonitorCheck.Kind, _ host: String, ago seconds: UInt64, error: String? = nil)
        -> MonitorCheck
    {
        MonitorCheck(
            kind: kind, endpoint: ServerEndpoint(host: host, port: 3306),
            startedAtMicroseconds: now - seconds * 1_000_000, durationMicroseconds: error == nil ? 350 : 0, error: error
        )
    }

    var preflight: Preflight {
        var preflight = Preflight(
            topology: topology, policy: policy, source: source, target: target, targetDatabase: targetDatabase,
            proxies: ProxySQLCluster(nodes: proxyNodes, nodeDeadline: .seconds(5)), options: options,
            clock: ContinuousClock(), wallClockMicroseconds: { Self.now })
        preflight.replicationLogin = Preflight.ReplicationLogin(probe: loginProbe, password: replicationPassword)
        return preflight
    }

    func run() async -> PreflightReport {
        await preflight.run(logger: logger)
    }

    /// Runs and returns the check `id`, failing the test when it is absent.
    func check(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> PreflightCheck {
        let report = await run()
        #expect(report.checks.map(\.id) == Preflight.checkIDs, sourceLocation: sourceLocation)
        return try #require(report[id], sourceLocation: sourceLocation)
    }
}

@Suite("Preflight report")
struct PreflightReportTests {
    @Test("a healthy migration passes every check, in the documented order, without changing anything")
    func healthy() async throws {
        let fixture = PreflightFixture()
        let report = await fixture.run()
        #expect(report.checks.map(\.id) == Preflight.checkIDs)
        #expect(Preflight.checkIDs.count == 35)
        for check in report.checks {
            #expect(check.status == .pass, "\(check)")
            #expect(check.remedy == nil)
        }
        #expect(report.canProceed)
        #expect(report.blockingReasons.isEmpty)
        for node in fixture.nodes { #expect(node.mutations.isEmpty) }
        #expect(fixture.targetDatabase.calls == ["replicaHealth"])
        // Shared facts are read once per run.
        #expect(fixture.target.calls.filter { $0 == "identity" }.count == 1)
        #expect(fixture.target.calls.filter { $0 == "binlogSettings" }.count == 1)
    }

    @Test("a throwing dependency becomes a fail with its error text and a remedy; the other checks still run")
    func throwingDependency() async throws {
        let fixture = PreflightFixture()
        fixture.source.update {
            $0.errors["identity"] = MariaDBError(
                code: .connectionLost, serverErrorNumber: 2013, message: "Lost connection")
        }
        let report = await fixture.run()
        #expect(report.checks.map(\.id) == Preflight.checkIDs)
        let failed = Set(report.checks.filter { $0.status == .fail }.map(\.id))
        #expect(failed == ["source.connectivity", "versions.compatible"])
        let check = try #require(report["source.connectivity"])
        #expect(check.detail.contains("2013"))
        #expect(check.remedy?.contains("source") == true)
        #expect(!report.canProceed)
        #expect(report.blockingReasons.map(\.check) == ["source.connectivity", "versions.compatible"])
        #expect(report.checks.filter { $0.status == .pass }.count == Preflight.checkIDs.count - 2)
    }

    @Test("a check that does not finish is a fail after the timeout; the others complete")
    func timeout() async throws {
        var fixture = PreflightFixture()
        // Long enough that the other (instant) checks never hit it even on a loaded machine (a full `swift test`
        // while other builds run: load average above 10 on two cores starved them past 1 s).
        fixture.options.checkTimeout = .seconds(3)
        fixture.target.update { $0.hanging = ["timeZoneCount"] }
        let started = ContinuousClock.now
        let report = await fixture.run()
        // Bounded (a hanging check must not hang the report), generously: the whole suite shares two cores.
        #expect(ContinuousClock.now - started < .seconds(60))
        let check = try #require(report["timezone.tables"])
        #expect(check.status == .fail)
        #expect(check.detail.contains("did not finish within"))
        #expect(check.remedy != nil)
        #expect(report.checks.filter { $0.status == .fail }.count == 1, "\(report.checks.filter { $0.status == .fail })")
    }

    @Test("JSON carries the checks, the verdict and the blocking reasons, and decodes back")
    func json() async throws {
        let fixture = PreflightFixture()
        fixture.targetDatabase.setHealth(.success(nil))
        let report = await fixture.run()
        let data = try JSONEncoder().encode(report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["canProceed"] as? Bool == false)
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(summary["fail"] == 1)
        #expect(summary["pass"] == Preflight.checkIDs.count - 1)
        let reasons = try #require(object["blockingReasons"] as? [[String: Any]])
        #expect(reasons.first?["check"] as? String == "replication.target")
        let decoded = try JSONDecoder().decode(PreflightReport.self, from: data)
        #expect(decoded == report)
    }

    @Test("the text table has a row per check, remedies under warn and fail, and a verdict")
    func text() {
        let report = PreflightReport(checks: [
            PreflightCheck(id: "source.connectivity", title: "t", status: .pass, detail: "MySQL 8.0.36"),
            PreflightCheck(id: "charset.server", title: "t", status: .warn, detail: "differs", remedy: "SET x"),
            PreflightCheck(
                id: "replication.target", title: "t", status: .fail, detail: "line 1\nline 2", remedy: "CALL y"),
        ])
        let lines = report.description.split(separator: "\n").map(String.init)
        #expect(lines[0] == "STATUS  CHECK                DETAIL")
        #expect(lines[1] == "pass    source.connectivity  MySQL 8.0.36")
        #expect(lines[2] == "WARN    charset.server       differs")
        #expect(lines[3] == "                             remedy: SET x")
        #expect(lines[4] == "FAIL    replication.target   line 1")
        #expect(lines[5] == "                             line 2")
        #expect(lines[6] == "                             remedy: CALL y")
        #expect(lines[7] == "1 pass, 1 warn, 1 fail: cannot proceed")
        #expect(report.overallStatus == .fail)
        #expect(report.warnings.map(\.id) == ["charset.server"])
    }
}

@Suite("Preflight database checks")
struct PreflightDatabaseCheckTests {
    @Test("connectivity: the version is the detail; a failure names the server")
    func connectivity() async throws {
        let fixture = PreflightFixture()
        let source = try await fixture.check("source.connectivity")
        #expect(source.detail == "MySQL 8.0.36")
        let target = try await fixture.check("target.connectivity")
        #expect(target.detail.hasPrefix("Aurora MySQL 3.5.2"))
        fixture.target.update { $0.errors["identity"] = MariaDBError(code: .connectionFailed, message: "refused") }
        let failed = try await fixture.check("target.connectivity")
        #expect(failed.status == .fail)
        #expect(failed.remedy?.contains("target") == true)
    }

    @Test(
        "versions: equal releases pass; newer target, older target and mixed flavors warn",
        arguments: [
            ("8.0.36", PreflightCheck.Status.pass, "source MySQL"),
            ("5.7.44-log", .warn, "reverse replication"),
            ("8.4.3", .warn, "forward replication"),
            ("10.11.19-MariaDB", .warn, "MariaDB and MySQL"),
        ])
    func versions(sourceVersion: String, status: PreflightCheck.Status, text: String) async throws {
        let fixture = PreflightFixture()
        fixture.source.update { $0.identity = ServerInspection.Identity(versionString: sourceVersion) }
        let check = try await fixture.check("versions.compatible")
        #expect(check.status == status)
        #expect(check.detail.contains(text))
        #expect((check.remedy != nil) == (status != .pass))
    }

    @Test("procedures: v3 on Aurora 3 passes")
    func proceduresV3() async throws {
        let check = try await PreflightFixture().check("target.procedures")
        #expect(check.status == .pass)
        #expect(check.detail.hasPrefix("v3 (rds_set_external_source)"))
    }

    @Test("procedures: v2 on Aurora 2 passes, v2 on Aurora 3 warns")
    func proceduresV2() async throws {
        let fixture = PreflightFixture()
        let v2 = [
            "rds_reset_external_master", "rds_set_external_master", "rds_start_replication", "rds_stop_replication",
        ]
        fixture.target.update {
            $0.identity = ServerInspection.Identity(versionString: "5.7.mysql_aurora.2.11.2", auroraVersion: "2.11.2")
            $0.procedures = v2
        }
        let pass = try await fixture.check("target.procedures")
        #expect(pass.status == .pass)
        #expect(pass.detail.hasPrefix("v2 (rds_set_external_master)"))
        fixture.target.update {
            $0.identity = ServerInspection.Identity(versionString: "8.0.mysql_aurora.3.05.2", auroraVersion: "3.05.2")
        }
        let warn = try await fixture.check("target.procedures")
        #expect(warn.status == .warn)
        #expect(warn.detail.contains("Aurora 3 normally has v3"))
    }

    @Test("procedures: none on a self-managed target warns, none on Aurora fails, a partial set fails")
    func proceduresMissing() async throws {
        let fixture = PreflightFixture()
        fixture.target.update {
            $0.identity = ServerInspection.Identity(versionString: "10.11.19-MariaDB")
            $0.procedures = []
        }
        let selfManaged = try await fixture.check("target.procedures")
        #expect(selfManaged.status == .warn)
        #expect(selfManaged.detail.contains("not RDS or Aurora"))
        fixture.target.update {
            $0.identity = ServerInspection.Identity(versionString: "8.0.mysql_aurora.3.05.2", auroraVersion: "3.05.2")
        }
        let aurora = try await fixture.check("target.procedures")
        #expect(aurora.status == .fail)
        #expect(aurora.remedy?.contains("EXECUTE") == true)
        fixture.target.update {
            $0.procedures = ["rds_reset_external_source", "rds_set_external_source", "rds_start_replication"]
        }
        let partial = try await fixture.check("target.procedures")
        #expect(partial.status == .fail)
        #expect(partial.detail.contains("mysql.rds_stop_replication"))
    }

    @Test("server character set: equal passes, different warns with the setting to change")
    func serverCharacterSet() async throws {
        let fixture = PreflightFixture()
        #expect(try await fixture.check("charset.server").status == .pass)
        fixture.target.update {
            $0.characterSettings = ServerInspection.CharacterSettings(
                characterSet: "utf8mb4", collation: "utf8mb4_0900_ai_ci")
        }
        let check = try await fixture.check("charset.server")
        #expect(check.status == .warn)
        #expect(check.detail.contains("utf8mb4_0900_ai_ci"))
        #expect(check.remedy?.contains("collation_server = utf8mb4_general_ci") == true)
    }

    @Test("schemas: a missing schema or a different collation fails; a schema only on the target is noted")
    func schemas() async throws {
        let fixture = PreflightFixture()
        fixture.source.update {
            $0.schemas = [
                ServerInspection.Schema(name: "app", characterSet: "utf8mb4", collation: "utf8mb4_general_ci"),
                ServerInspection.Schema(name: "billing", characterSet: "latin1", collation: "latin1_swedish_ci"),
            ]
        }
        fixture.target.update {
            $0.schemas = [
                ServerInspection.Schema(name: "app", characterSet: "utf8mb4", collation: "utf8mb4_general_ci"),
                ServerInspection.Schema(name: "billing", characterSet: "latin1", collation: "latin1_swedish_ci"),
                ServerInspection.Schema(name: "scratch", characterSet: "utf8mb4", collation: "utf8mb4_general_ci"),
            ]
        }
        let pass = try await fixture.check("charset.schemas")
        #expect(pass.status == .pass)
        #expect(pass.detail == "2 schema(s), equal on both; only on the target: scratch")
        fixture.target.update {
            $0.schemas = [ServerInspection.Schema(name: "app", characterSet: "utf8mb4", collation: "utf8mb4_bin")]
        }
        let fail = try await fixture.check("charset.schemas")
        #expect(fail.status == .fail)
        #expect(fail.detail.contains("billing is missing on the target"))
        #expect(fail.detail.contains("app: source utf8mb4 / utf8mb4_general_ci, target utf8mb4 / utf8mb4_bin"))
        #expect(fail.remedy?.contains("ALTER DATABASE `app` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci") == true)
    }

    @Test(
        "time zone tables: needed on the target only where the source has them",
        arguments: [(1800, 1800, PreflightCheck.Status.pass), (1800, 0, .fail), (0, 0, .pass), (0, 1800, .pass)])
    func timeZones(source: Int, target: Int, status: PreflightCheck.Status) async throws {
        let fixture = PreflightFixture()
        fixture.source.update { $0.timeZoneCount = source }
        fixture.target.update { $0.timeZoneCount = target }
        let check = try await fixture.check("timezone.tables")
        #expect(check.status == status)
        if status == .fail { #expect(check.remedy?.contains("mysql_tzinfo_to_sql") == true) }
    }

    @Test("replication into the target: not configured, broken, lagging, lag unknown, other source")
    func replication() async throws {
        var fixture = PreflightFixture()
        #expect(try await fixture.check("replication.target").detail == "running, 0 s behind (budget 5.0 seconds)")
        fixture.targetDatabase.setHealth(.success(nil))
        let none = try await fixture.check("replication.target")
        #expect(none.status == .fail)
        #expect(none.remedy?.contains("rds_set_external_source") == true)
        fixture.targetDatabase.setHealth(
            .success(
                ReplicaHealth(
                    ioThreadRunning: true, sqlThreadRunning: false, secondsBehind: nil,
                    lastError: "Error 'Duplicate entry' on query", sourceEndpoint: "source-db:3306")))
        let broken = try await fixture.check("replication.target")
        #expect(broken.status == .fail)
        #expect(broken.detail.contains("Duplicate entry"))
        fixture.policy.lagBudget = .seconds(5)
        fixture.targetDatabase.setHealth(
            .success(
                ReplicaHealth(
                    ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 12, lastError: nil,
                    sourceEndpoint: "source-db:3306")))
        let lagging = try await fixture.check("replication.target")
        #expect(lagging.status == .fail)
        #expect(lagging.detail.contains("12 s behind"))
        fixture.targetDatabase.setHealth(
            .success(
                ReplicaHealth(
                    ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: nil, lastError: nil,
                    sourceEndpoint: "source-db:3306")))
        #expect(try await fixture.check("replication.target").status == .warn)
        fixture.targetDatabase.setHealth(
            .success(
                ReplicaHealth(
                    ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 1, lastError: nil,
                    sourceEndpoint: "10.9.9.9:3306")))
        let other = try await fixture.check("replication.target")
        #expect(other.status == .warn)
        #expect(other.detail.contains("replicates from 10.9.9.9:3306"))
        fixture.targetDatabase.setHealth(
            .failure(MariaDBError(code: .server, serverErrorNumber: 1227, message: "denied")))
        let unreadable = try await fixture.check("replication.target")
        #expect(unreadable.status == .fail)
        #expect(unreadable.remedy?.contains("REPLICATION CLIENT") == true)
    }

    @Test("server ids and GTID settings")
    func identities() async throws {
        let fixture = PreflightFixture()
        #expect(try await fixture.check("replication.identities").status == .pass)
        fixture.target.update { $0.binlog.variables["server_id"] = "1" }
        let same = try await fixture.check("replication.identities")
        #expect(same.status == .fail)
        #expect(same.detail.contains("both have server_id 1"))
        fixture.target.update {
            $0.binlog.variables["server_id"] = "2"
            $0.binlog.variables["gtid_mode"] = "ON"
        }
        // gtid_mode is judged by reverse-replication.gtid-mode (ON against OFF cannot replicate either way).
        #expect(try await fixture.check("replication.identities").status == .pass)
        let gtid = try await fixture.check("reverse-replication.gtid-mode")
        #expect(gtid.status == .fail)
        #expect(gtid.detail.contains("refuses"))
        let mariadb = PreflightFixture()
        for server in [mariadb.source, mariadb.target] {
            server.update {
                $0.binlog = ServerInspection.BinlogSettings(variables: [
                    "server_id": server.name == "source" ? "1" : "2", "gtid_domain_id": "0", "gtid_strict_mode": "ON",
                ])
            }
        }
        let strict = try await mariadb.check("replication.identities")
        #expect(strict.status == .warn)
        #expect(strict.detail.contains("error 1950"))
    }

    @Test("binlog on the target: off fails, statement format and Aurora filtering warn")
    func targetBinlog() async throws {
        let fixture = PreflightFixture()
        #expect(try await fixture.check("target.binlog").status == .pass)
        fixture.target.update { $0.binlog.variables["binlog_format"] = "STATEMENT" }
        // binlog_format is reverse-replication.binlog-format's (ROW on both servers, a failure otherwise).
        #expect(try await fixture.check("target.binlog").status == .pass)
        #expect(try await fixture.check("reverse-replication.binlog-format").status == .fail)
        fixture.target.update {
            $0.binlog.variables["binlog_format"] = "ROW"
            $0.binlog.variables["aurora_enable_repl_bin_log_filtering"] = "1"
        }
        let filtering = try await fixture.check("target.binlog")
        #expect(filtering.status == .warn)
        #expect(filtering.remedy?.contains("aurora_enable_repl_bin_log_filtering = 0") == true)
        fixture.target.update { $0.binlog.variables["log_bin"] = "OFF" }
        let off = try await fixture.check("target.binlog")
        #expect(off.status == .fail)
        #expect(off.remedy?.contains("binlog_format = ROW in the DB cluster parameter group") == true)
    }

    @Test(
        "binlog retention hours",
        arguments: [
            ("24", PreflightCheck.Status.pass), ("168", .pass), (nil, .fail), ("0", .fail), ("12", .fail),
            ("3000", .warn),
        ] as [(String?, PreflightCheck.Status)])
    func retention(value: String?, status: PreflightCheck.Status) async throws {
        let fixture = PreflightFixture()
        fixture.target.update {
            $0.rdsConfiguration = [ServerInspection.ConfigurationEntry(name: "binlog retention hours", value: value)]
        }
        let check = try await fixture.check("target.binlog-retention")
        #expect(check.status == status)
        if status != .pass {
            #expect(check.remedy?.contains("CALL mysql.rds_set_configuration('binlog retention hours', 24)") == true)
        }
    }

    @Test("binlog retention without rds_show_configuration: the binary logs' expiry; a missing entry warns")
    func retentionNotRDS() async throws {
        let fixture = PreflightFixture()
        fixture.target.update {
            $0.rdsConfiguration = nil
            $0.binlog.variables["binlog_expire_logs_seconds"] = "0"
            $0.binlog.variables["expire_logs_days"] = "0"
        }
        let check = try await fixture.check("target.binlog-retention")
        #expect(check.status == .pass)
        #expect(check.detail.contains("never expire"))
        fixture.target.update { $0.binlog.variables["binlog_expire_logs_seconds"] = "3600" }
        #expect(try await fixture.check("target.binlog-retention").status == .fail)
        fixture.target.update { $0.rdsConfiguration = [] }
        #expect(try await fixture.check("target.binlog-retention").status == .warn)
    }

    @Test("reverse-replication login: probed with the reverse account, endpoint, TLS and password; a refusal fails")
    func reverseLogin() async throws {
        var fixture = PreflightFixture()
        fixture.topology.reverseReplicationTLS = .required
        let check = try await fixture.check("reverse-replication.login")
        #expect(check.status == .pass, "\(check)")
        #expect(fixture.loginProbe.calls.last == "repl_reverse@aurora-writer:3306 tls=required password=reverse-secret")
        fixture.loginProbe.answer(.failed(errorNumber: 1045, message: "Access denied for user 'repl_reverse'"))
        let refused = try await fixture.check("reverse-replication.login")
        #expect(refused.status == .fail)
        #expect(refused.detail.contains("error 1045"))
        #expect(refused.remedy?.contains("replication.reverse.user and its password") == true)
        #expect(!refused.description.contains("reverse-secret"))
        fixture.replicationPassword = nil
        let unprobed = try await fixture.check("reverse-replication.login")
        #expect(unprobed.status == .warn)
        #expect(unprobed.detail.contains("no password is configured"))
    }

    @Test("a read-only target fails")
    func readOnly() async throws {
        let fixture = PreflightFixture()
        #expect(try await fixture.check("target.read-only").status == .pass)
        fixture.target.update { $0.readOnly = ServerInspection.ReadOnlyState(readOnly: false, innodbReadOnly: true) }
        let check = try await fixture.check("target.read-only")
        #expect(check.status == .fail)
        #expect(check.detail.contains("innodb_read_only=ON"))
    }

    @Test("reverse-replication account: missing or without REPLICATION SLAVE fails, without CLIENT warns")
    func reverseAccount() async throws {
        let fixture = PreflightFixture()
        #expect(try await fixture.check("reverse-replication.account").status == .pass)
        #expect(fixture.target.calls.contains("accounts(repl_reverse)"))
        #expect(fixture.target.calls.contains("grants('repl_reverse'@'%')"))
        let account = PreflightFixture.reverseAccount
        fixture.target.update {
            $0.grants[account] = [ServerInspection.Grant(privileges: ["REPLICATION SLAVE"], target: "*.*")]
        }
        let noClient = try await fixture.check("reverse-replication.account")
        #expect(noClient.status == .warn)
        #expect(noClient.remedy == "on the target: GRANT REPLICATION CLIENT ON *.* TO 'repl_reverse'@'%'")
        fixture.target.update { $0.grants[account] = [ServerInspection.Grant(privileges: ["SELECT"], target: "*.*")] }
        let noSlave = try await fixture.check("reverse-replication.account")
        #expect(noSlave.status == .fail)
        #expect(noSlave.remedy == "on the target: GRANT REPLICATION SLAVE ON *.* TO 'repl_reverse'@'%'")
        fixture.target.update { $0.accounts.removeAll { $0.user == "repl_reverse" } }
        let missing = try await fixture.check("reverse-replication.account")
        #expect(missing.status == .fail)
        #expect(missing.remedy?.contains("CREATE USER 'repl_reverse'@'%'") == true)
    }

    @Test("reverse-replication account: one host pattern with the privilege is enough; local-only warns")
    func reverseAccountHosts() async throws {
        let fixture = PreflightFixture()
        let local = ServerInspection.Account(user: "repl_reverse", host: "localhost")
        fixture.target.update { $0.accounts.append(local) }
        let mixed = try await fixture.check("reverse-replication.account")
        #expect(mixed.status == .warn)
        fixture.target.update {
            $0.accounts.removeAll { $0 == PreflightFixture.reverseAccount }
            $0.grants[local] = [ServerInspection.Grant(privileges: ["ALL PRIVILEGES"], target: "*.*")]
        }
        let onlyLocal = try await fixture.check("reverse-replication.account")
        #expect(onlyLocal.status == .warn)
        #expect(onlyLocal.detail.contains("only log in locally"))
    }

    @Test("application accounts: missing on the target fails, other host patterns warn, none listed warns")
    func applicationAccounts() async throws {
        var fixture = PreflightFixture()
        let pass = try await fixture.check("application.accounts")
        #expect(pass.status == .pass)
        #expect(pass.detail == "'app' on both, hosts '%'")
        fixture.source.update { $0.accounts = [ServerInspection.Account(user: "app", host: "10.0.%")] }
        let hosts = try await fixture.check("application.accounts")
        #expect(hosts.status == .warn)
        #expect(hosts.detail == "'app' host patterns differ: source '10.0.%', target '%'")
        fixture.target.update { $0.accounts.removeAll { $0.user == "app" } }
        #expect(try await fixture.check("application.accounts").status == .fail)
        fixture.topology.applicationUsers = []
        #expect(try await fixture.check("application.accounts").status == .warn)
    }

    @Test("long write transactions on the source fail with the connections to end; the policy's limit is used")
    func longTransactions() async throws {
        var fixture = PreflightFixture()
        fixture.policy.longTransactionLimit = .seconds(3)
        #expect(try await fixture.check("source.long-transactions").status == .pass)
        #expect(fixture.source.calls.contains("openWriteTransactions(3.0 seconds)"))
        fixture.source.update {
            $0.openTransactions = [
                ServerInspection.OpenWriteTransaction(
                    connectionID: 42, user: "app", clientHost: "10.0.0.9:5123", database: "app", command: "Sleep",
                    seconds: 30, rowsModified: 7, lockStructs: 2, state: "RUNNING")
            ]
        }
        let check = try await fixture.check("source.long-transactions")
        #expect(check.status == .fail)
        #expect(check.detail.contains("connection 42 (app@10.0.0.9:5123, Sleep) open 30 s, 7 row(s) modified"))
        #expect(check.remedy?.contains("KILL 42") == true)
    }
}

@Suite("Preflight ProxySQL checks")
struct PreflightProxySQLCheckTests {
    @Test("connectivity: every node's version; an unreachable node fails, and no node at all fails")
    func connectivity() async throws {
        var fixture = PreflightFixture()
        let pass = try await fixture.check("proxysql.connectivity")
        #expect(pass.detail == "proxy-1: ProxySQL 2.7.1-16-g2726c27\nproxy-2: ProxySQL 2.7.1-16-g2726c27")
        fixture.nodes[1].update {
            $0.errors["version"] = ProxySQLAdminError(code: .connectionFailed, message: "cannot connect")
        }
        let fail = try await fixture.check("proxysql.connectivity")
        #expect(fail.status == .fail)
        #expect(fail.detail.hasPrefix("proxy-2: "))
        fixture.proxyNodes = []
        #expect(try await fixture.check("proxysql.connectivity").status == .fail)
    }

    @Test("source rows must be ONLINE in every runtime")
    func sourceRows() async throws {
        let fixture = PreflightFixture()
        #expect(try await fixture.check("proxysql.source-rows").status == .pass)
        fixture.nodes[0].update { script in
            script.runtime = script.runtime.map { row in
                var row = row
                if row.key == PreflightFixture.sourceWriter { row.status = .offlineSoft }
                return row
            }
        }
        let soft = try await fixture.check("proxysql.source-rows")
        #expect(soft.status == .fail)
        #expect(soft.detail.hasPrefix("proxy-1: 10/source-db:3306 is OFFLINE_SOFT"))
        fixture.nodes[1].update { $0.runtime = [] }
        let absent = try await fixture.check("proxysql.source-rows")
        #expect(absent.detail.contains("proxy-2: 10/source-db:3306 is not live"))
    }

    @Test("target rows: missing fails, ONLINE fails (configured or runtime), OFFLINE_SOFT warns")
    func targetRows() async throws {
        let fixture = PreflightFixture()
        #expect(try await fixture.check("proxysql.target-rows").status == .pass)
        let node = fixture.nodes[1]
        func setTargetWriter(_ status: BackendStatus?, runtime: BackendStatus? = nil) {
            node.update { script in
                script.configured.removeAll { $0.key == PreflightFixture.targetWriter }
                script.runtime.removeAll { $0.key == PreflightFixture.targetWriter }
                if let status {
                    script.configured.append(BackendServer(hostgroup: 10, host: "aurora-writer", status: status))
                }
                if let runtime {
                    script.runtime.append(BackendServer(hostgroup: 10, host: "aurora-writer", status: runtime))
                }
            }
        }
        setTargetWriter(nil)
        let missing = try await fixture.check("proxysql.target-rows")
        #expect(missing.status == .fail)
        #expect(missing.detail.hasPrefix("proxy-2: 10/aurora-writer:3306 is not in mysql_servers"))
        #expect(
            missing.remedy?.hasPrefix(
                "on proxy-2: INSERT INTO mysql_servers (hostgroup_id, hostname, port, status) VALUES (10, 'aurora-writer', 3306, 'OFFLINE_HARD')"
            ) == true)
        setTargetWriter(.online, runtime: .online)
        let online = try await fixture.check("proxysql.target-rows")
        #expect(online.status == .fail)
        #expect(
            online.remedy?.contains("UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE hostgroup_id = 10") == true)
        setTargetWriter(.offlineHard, runtime: .online)
        let notLoaded = try await fixture.check("proxysql.target-rows")
        #expect(notLoaded.status == .fail)
        #expect(notLoaded.detail.contains("live in runtime"))
        setTargetWriter(.offlineSoft, runtime: .offlineSoft)
        #expect(try await fixture.check("proxysql.target-rows").status == .warn)
    }

    @Test("target reachable: a recent success passes, a recent error fails, old rows or no table warn")
    func reachable() async throws {
        let fixture = PreflightFixture()
        let pass = try await fixture.check("proxysql.target-reachable")
        #expect(pass.status == .pass)
        #expect(pass.detail.contains("proxy-1: ping aurora-writer:3306 at 1799999995.000000: ok in 350 µs"))
        fixture.nodes[0].update {
            $0.monitor?.append(
                PreflightFixture.monitor(.ping, "aurora-writer", ago: 1, error: "Can't connect to MySQL server"))
        }
        let failing = try await fixture.check("proxysql.target-reachable")
        #expect(failing.status == .fail)
        #expect(failing.detail.hasPrefix("proxy-1 cannot reach aurora-writer:3306"))
        #expect(failing.remedy?.contains("security group") == true)
        fixture.nodes[0].update {
            $0.monitor = [
                PreflightFixture.monitor(.connect, "aurora-writer", ago: 3600),
                PreflightFixture.monitor(.connect, "aurora-reader", ago: 3600),
            ]
        }
        let stale = try await fixture.check("proxysql.target-reachable")
        #expect(stale.status == .warn)
        #expect(stale.detail.contains("proxy-1: could not confirm aurora-reader:3306: no monitor check in the last"))
        #expect(stale.remedy?.contains("OFFLINE_SOFT") == true)
        fixture.nodes[0].update { $0.monitor = nil }
        let noTable = try await fixture.check("proxysql.target-reachable")
        #expect(noTable.status == .warn)
        #expect(noTable.detail.contains("no such table"))
    }

    @Test("target reachable: a node without monitor logs (protocol default) warns")
    func reachableDefault() async throws {
        var fixture = PreflightFixture()
        fixture.proxyNodes = [MonitorlessProxyAdmin(inner: fixture.nodes[0]), fixture.nodes[1]]
        let check = try await fixture.check("proxysql.target-reachable")
        #expect(check.status == .warn)
        #expect(check.detail.contains("proxy-1: could not confirm aurora-writer:3306"))
    }

    @Test("a replication hostgroup pair over the target's hostgroups fails")
    func replicationHostgroups() async throws {
        let fixture = PreflightFixture()
        #expect(try await fixture.check("proxysql.replication-hostgroups").status == .pass)
        fixture.nodes[1].update {
            $0.pairs[.runtime] = [ReplicationHostgroupPair(writerHostgroup: 10, readerHostgroup: 11)]
        }
        let check = try await fixture.check("proxysql.replication-hostgroups")
        #expect(check.status == .fail)
        #expect(check.detail.contains("proxy-2: aurora-writer:3306 in hostgroups 10 of writer 10 / reader 11"))
        #expect(check.remedy?.contains("DELETE FROM mysql_replication_hostgroups WHERE writer_hostgroup = 10") == true)
        // A configured pair over the reader hostgroup only catches the target reader row.
        let readers = PreflightFixture()
        readers.nodes[0].update {
            $0.pairs[.configured] = [ReplicationHostgroupPair(writerHostgroup: 20, readerHostgroup: 11)]
        }
        let reader = try await readers.check("proxysql.replication-hostgroups")
        #expect(reader.status == .fail)
        #expect(
            reader.detail.contains(
                "proxy-1: aurora-reader:3306 in hostgroups 11 of writer 20 / reader 11 (read_only) [configured]"))
        #expect(!reader.detail.contains("proxy-1: aurora-writer"))
    }

    @Test("runtimes: nodes that differ fail, a configuration not loaded warns")
    func runtimeEqual() async throws {
        let fixture = PreflightFixture()
        let pass = try await fixture.check("proxysql.runtime-equal")
        #expect(pass.detail == "2 nodes with the same 2 live row(s) in hostgroups 10, 11")
        fixture.nodes[1].update { script in
            script.runtime = script.runtime.map { row in
                var row = row
                if row.key == PreflightFixture.sourceReader { row.weight = 5 }
                return row
            }
            script.configured = script.configured.map { row in
                var row = row
                if row.key == PreflightFixture.sourceReader { row.weight = 5 }
                return row
            }
        }
        let differs = try await fixture.check("proxysql.runtime-equal")
        #expect(differs.status == .fail)
        #expect(differs.detail.hasPrefix("proxy-2 differs from proxy-1 in hostgroups 10, 11"))
        let unloaded = PreflightFixture()
        unloaded.nodes[0].update { script in
            script.configured = script.configured.map { row in
                var row = row
                if row.key == PreflightFixture.sourceWriter { row.maxConnections = 10 }
                return row
            }
        }
        let warn = try await unloaded.check("proxysql.runtime-equal")
        #expect(warn.status == .warn)
        #expect(warn.detail.hasPrefix("proxy-1: mysql_servers differs from the runtime"))
    }
}
