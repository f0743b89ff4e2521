import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl

extension Preflight {
    /// Every check, in the order they run.
    static let definitions: [Definition] =
        databaseChecks + reversePrerequisiteChecks + proxyChecks + [windowSettingsCheck] + routingAuditChecks
        + drainPlanChecks

    // MARK: Shared facts

    func identity(_ role: DatabaseRole, _ facts: Facts, _ logger: Logger) async throws -> ServerInspection.Identity {
        let server = inspector(role)
        return try await facts.value("\(role).identity") { try await server.identity(logger: logger) }
    }

    func binlogSettings(_ role: DatabaseRole, _ facts: Facts, _ logger: Logger) async throws
        -> ServerInspection.BinlogSettings
    {
        let server = inspector(role)
        return try await facts.value("\(role).binlog") { try await server.binlogSettings(logger: logger) }
    }

    func inspector(_ role: DatabaseRole) -> any ServerInspecting {
        role == .source ? source : target
    }

    // MARK: Database checks

    static let databaseChecks: [Definition] = [
        Definition(
            id: "source.connectivity",
            title: "Source reachable, version",
            remedyOnError: { $0.connectivityRemedy(.source) },
            body: { preflight, facts, logger in
                .pass(try await preflight.identity(.source, facts, logger).description)
            }
        ),
        Definition(
            id: "target.connectivity",
            title: "Target reachable, version",
            remedyOnError: { $0.connectivityRemedy(.target) },
            body: { preflight, facts, logger in
                .pass(try await preflight.identity(.target, facts, logger).description)
            }
        ),
        Definition(
            id: "versions.compatible",
            title: "Source and target versions compatible both ways",
            remedyOnError: { $0.connectivityRemedy(nil) },
            check: Preflight.checkVersions
        ),
        Definition(
            id: "target.procedures",
            title: "Replication procedures on the target (Aurora v2/v3)",
            remedyOnError: { _ in
                "grant the preflight account SELECT on information_schema.ROUTINES (EXECUTE on mysql.* on RDS/Aurora)"
            },
            check: Preflight.checkProcedures
        ),
        Definition(
            id: "charset.server",
            title: "Server character set and collation equal",
            remedyOnError: { _ in "check that the preflight account can run SELECT @@global.character_set_server" },
            check: Preflight.checkServerCharacterSettings
        ),
        Definition(
            id: "charset.schemas",
            title: "Schemas present on the target with equal character set and collation",
            remedyOnError: { _ in
                "grant the preflight account SELECT on information_schema.SCHEMATA (any privilege on each schema)"
            },
            check: Preflight.checkSchemas
        ),
        Definition(
            id: "timezone.tables",
            title: "Time zone tables loaded on the target where the source has them",
            remedyOnError: { _ in "grant the preflight account SELECT on mysql.time_zone_name on both servers" },
            check: Preflight.checkTimeZones
        ),
        Definition(
            id: "replication.target",
            title: "Replication into the target running, no errors, lag within budget",
            remedyOnError: { _ in
                "check that the preflight account can read the target's replica status (REPLICATION CLIENT, or "
                    + "SLAVE MONITOR on MariaDB)"
            },
            check: Preflight.checkReplication
        ),
        Definition(
            id: "replication.identities",
            title: "Distinct server ids, compatible GTID settings",
            remedyOnError: { _ in "check that the preflight account can run SHOW GLOBAL VARIABLES on both servers" },
            check: Preflight.checkServerIdentities
        ),
        Definition(
            id: "replication.tls",
            title: "Replication encrypted where it crosses a network",
            remedyOnError: { _ in
                "check that the preflight account can read the target's replica status and run SHOW GLOBAL VARIABLES "
                    + "on both servers"
            },
            check: Preflight.checkReplicationTLS
        ),
        Definition(
            id: "target.binlog",
            title: "Binary log on the target (for reverse replication)",
            remedyOnError: { _ in "check that the preflight account can run SHOW GLOBAL VARIABLES on the target" },
            check: Preflight.checkTargetBinlog
        ),
        Definition(
            id: "target.binlog-retention",
            title: "Binlog retention set on the target (for reverse replication)",
            remedyOnError: { _ in "grant the preflight account EXECUTE on mysql.rds_show_configuration" },
            check: Preflight.checkReverseBinlogRetention
        ),
        Definition(
            id: "target.read-only",
            title: "Target accepts writes (not read-only)",
            remedyOnError: { _ in "check that the preflight account can run SHOW GLOBAL VARIABLES on the target" },
            check: Preflight.checkTargetWritable
        ),
        Definition(
            id: "reverse-replication.account",
            title: "Reverse-replication account on the target with REPLICATION SLAVE/CLIENT",
            remedyOnError: { _ in "grant the preflight account SELECT on mysql.user on the target" },
            check: Preflight.checkReverseReplicationAccount
        ),
        Definition(
            id: "application.accounts",
            title: "Application accounts on the target, same host patterns",
            remedyOnError: { _ in "grant the preflight account SELECT on mysql.user on both servers" },
            check: Preflight.checkApplicationAccounts
        ),
        Definition(
            id: "source.long-transactions",
            title: "No long write transactions on the source",
            remedyOnError: { _ in
                "grant the preflight account PROCESS on the source (information_schema.INNODB_TRX and PROCESSLIST)"
            },
            check: Preflight.checkLongTransactions
        ),
    ]

    func connectivityRemedy(_ role: DatabaseRole?) -> String {
        let names = role.map { [inspector($0).name] } ?? [source.name, target.name]
        return names.map {
            "check that \($0) is reachable from here and that the account can log in "
                + "(mysql -h HOST -P PORT -u USER -p -e 'SELECT @@version')"
        }.joined(separator: "; ")
    }

    // MARK: Versions and procedures

    func checkVersions(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        let source = try await identity(.source, facts, logger).serverIdentity
        let target = try await identity(.target, facts, logger).serverIdentity
        let both = "source \(source), target \(target)"
        let sourceIsMariaDB = source.flavor == .mariaDB
        let targetIsMariaDB = target.flavor == .mariaDB
        if sourceIsMariaDB != targetIsMariaDB {
            return .warn(
                "\(both): MariaDB and MySQL replicate with each other only by file and position (their GTIDs differ)",
                remedy: "rehearse the cut-over and the failback (migrate-cli rehearse); use file/position replication"
            )
        }
        let sourceRelease = (source.version.major, source.version.minor)
        let targetRelease = (target.version.major, target.version.minor)
        if sourceRelease == targetRelease { return .pass(both) }
        if targetRelease > sourceRelease {
            return .warn(
                "\(both): reverse replication (failback) would run from a newer server to an older one, which "
                    + "MySQL does not support (new collations such as utf8mb4_0900_ai_ci and new event types break it)",
                remedy: "rehearse the failback before the cut-over; keep new objects to collations and features the "
                    + "source knows, or upgrade the source to \(target.version.major).\(target.version.minor) first"
            )
        }
        return .warn(
            "\(both): forward replication runs from a newer server to an older one, which MySQL does not support",
            remedy: "use a target of release \(source.version.major).\(source.version.minor) or newer"
        )
    }

    /// Which spelling of the `rds_*` procedures a server has (Aurora v2 / RDS ≤ 8.0: `..._master`; Aurora v3 /
    /// RDS 8.4: `..._source`).
    enum ProcedureGeneration: String {
        case master = "v2 (rds_set_external_master)"
        case source = "v3 (rds_set_external_source)"
    }

    func checkProcedures(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        let names = Set(try await target.rdsProcedureNames(logger: logger))
        let identity = try await identity(.target, facts, logger).serverIdentity
        let common = ["rds_start_replication", "rds_stop_replication"]
        var generations: [(ProcedureGeneration, [String])] = []
        for (generation, suffix) in [(ProcedureGeneration.source, "source"), (.master, "master")] {
            let needed = ["rds_set_external_\(suffix)", "rds_reset_external_\(suffix)"] + common
            if names.contains("rds_set_external_\(suffix)") {
                generations.append((generation, needed.filter { !names.contains($0) }))
            }
        }
        let remedyMissing =
            "on RDS/Aurora grant the cut-over account EXECUTE on the mysql.rds_* procedures (the master user has it);"
            + " check with SHOW PROCEDURE STATUS WHERE Db = 'mysql'"
        guard let (generation, missing) = generations.first else {
            if identity.isAurora || !names.isEmpty {
                return .fail(
                    "\(identity) lists no mysql.rds_set_external_master or rds_set_external_source "
                        + "(visible rds procedures: \(names.isEmpty ? "none" : names.sorted().joined(separator: ", ")))",
                    remedy: remedyMissing
                )
            }
            return .warn(
                "no mysql.rds_* procedures: \(identity) is not RDS or Aurora; replication will be driven with "
                    + "CHANGE MASTER / START SLAVE (a rehearsal or self-managed target)",
                remedy: "nothing to do for a self-managed target; for RDS/Aurora connect to the cluster's writer "
                    + "endpoint and check the account's EXECUTE privilege on mysql.*"
            )
        }
        guard missing.isEmpty else {
            return .fail(
                "the target has \(generation.rawValue) but lacks "
                    + missing.map { "mysql.\($0)" }.joined(separator: ", "),
                remedy: remedyMissing
            )
        }
        var detail = "\(generation.rawValue) on \(identity)"
        if generations.count > 1 { detail += "; both spellings present, the _source one is used" }
        if case .auroraMySQL(let auroraVersion) = identity.flavor {
            let expected: ProcedureGeneration = auroraVersion.major >= 3 ? .source : .master
            if expected != generation {
                return .warn(
                    detail + ": Aurora \(auroraVersion.major) normally has \(expected.rawValue)",
                    remedy: "check @@aurora_version and SHOW PROCEDURE STATUS WHERE Db = 'mysql' on the target"
                )
            }
        }
        return .pass(detail)
    }

    // MARK: Character sets and time zones

    func checkServerCharacterSettings(_ logger: Logger) async throws -> Outcome {
        let source = try await source.characterSettings(logger: logger)
        let target = try await target.characterSettings(logger: logger)
        guard source == target else {
            return .warn(
                "source \(source), target \(target): schemas and tables created after the cut-over without an "
                    + "explicit character set would differ",
                remedy: "set character_set_server = \(source.characterSet) and collation_server = \(source.collation) "
                    + "on the target (Aurora: in the DB cluster parameter group; MySQL: SET PERSIST or my.cnf)"
            )
        }
        return .pass("both \(source)")
    }

    func checkSchemas(_ logger: Logger) async throws -> Outcome {
        let sourceSchemas = try await source.schemas(logger: logger)
        let targetSchemas = Dictionary(
            try await target.schemas(logger: logger).map { ($0.name, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        var findings = Findings()
        for schema in sourceSchemas {
            guard let other = targetSchemas[schema.name] else {
                findings.fail(
                    "\(schema.name) is missing on the target",
                    remedy: "restore the schema on the target and check the replication filters (Replicate_Do_DB, "
                        + "Replicate_Ignore_DB) of the target"
                )
                continue
            }
            if other.characterSet != schema.characterSet || other.collation != schema.collation {
                findings.fail(
                    "\(schema.name): source \(schema.characterSet) / \(schema.collation), target "
                        + "\(other.characterSet) / \(other.collation)",
                    remedy: "on the target: ALTER DATABASE \(SQLQuoting.identifier(schema.name, dialect: .mysql)) "
                        + "CHARACTER SET \(schema.characterSet) COLLATE \(schema.collation)"
                )
            }
        }
        let extra = Set(targetSchemas.keys).subtracting(sourceSchemas.map(\.name)).sorted()
        let onlyOnTarget = extra.isEmpty ? "" : "; only on the target: \(extra.joined(separator: ", "))"
        return findings.outcome(
            ifEmpty: .pass("\(sourceSchemas.count) schema(s), equal on both" + onlyOnTarget)
        )
    }

    func checkTimeZones(_ logger: Logger) async throws -> Outcome {
        let source = try await source.timeZoneCount(logger: logger)
        let target = try await target.timeZoneCount(logger: logger)
        if source > 0, target == 0 {
            return .fail(
                "the source has \(source) named time zones, the target none: CONVERT_TZ and time_zone = "
                    + "'Europe/Paris' would return NULL or fail there",
                remedy: "load them on the target: mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql -u root mysql "
                    + "(RDS and Aurora ship them loaded: check the account's SELECT on mysql.time_zone_name)"
            )
        }
        if source == 0 {
            return .pass("not loaded on the source (the application cannot use named zones); target has \(target)")
        }
        return .pass("loaded on both (source \(source), target \(target) zone names)")
    }

    // MARK: Replication

    /// The target's replication health, read once per run.
    func targetHealth(_ facts: Facts, _ logger: Logger) async throws -> ReplicaHealth? {
        struct Fact: Sendable { var health: ReplicaHealth? }
        let database = targetDatabase
        return try await facts.value("target.replica-health") {
            Fact(health: try await database.replicaHealth(logger: logger))
        }.health
    }

    func checkReplication(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        guard let health = try await targetHealth(facts, logger) else {
            return .fail(
                "\(targetDatabase.name) does not replicate from anyone (replication not configured)",
                remedy: "make the target a replica of \(topology.sourceReplicationEndpoint) as "
                    + "\(topology.forwardReplicationUser): CALL mysql.rds_set_external_source(...) (Aurora v3) or "
                    + "rds_set_external_master(...) (v2), then CALL mysql.rds_start_replication"
            )
        }
        guard health.isRunning else {
            return .fail(
                "\(targetDatabase.name): \(health)",
                remedy: "read Last_IO_Error / Last_SQL_Error in SHOW REPLICA STATUS on the target, fix the cause, "
                    + "then CALL mysql.rds_start_replication (START SLAVE on a self-managed target)"
            )
        }
        var findings = Findings()
        if let lag = health.secondsBehind {
            if Duration.seconds(lag) > policy.lagBudget {
                findings.fail(
                    "\(targetDatabase.name) is \(lag) s behind, over the budget of \(policy.lagBudget)",
                    remedy: "wait for the target to catch up (or raise policy.lag-budget)"
                )
            } else {
                findings.pass("running, \(lag) s behind (budget \(policy.lagBudget))")
            }
        } else {
            findings.warn(
                "running, but the lag is unknown (Seconds_Behind_Master is NULL)",
                remedy: "read SHOW REPLICA STATUS on the target again in a few seconds"
            )
        }
        let expected = topology.sourceReplicationEndpoint.description
        if let from = health.sourceEndpoint, from.lowercased() != expected.lowercased() {
            findings.warn(
                "replicates from \(from), the topology names \(expected)",
                remedy: "check that \(from) is the source (or correct replication.source in the configuration)"
            )
        }
        return findings.outcome(ifEmpty: .pass("running"))
    }

    /// Whether replication runs, or would run, in clear text across a network: the running forward replication
    /// (`Master_SSL_Allowed`), and what the run sets up (reverse replication after a cut-over, forward replication
    /// after a failback) under `replication.*.tls`. Clear text on a loopback address is fine. With TLS required, a
    /// replication source that offers no TLS (`have_ssl` = `DISABLED`) fails: reverse replication is started after
    /// the point of no return, where a failure leaves no way back until it is fixed.
    func checkReplicationTLS(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        var findings = Findings()
        let forward = topology.sourceReplicationEndpoint
        let reverse = topology.targetReplicationEndpoint
        let forwardRemote = !Self.isLoopback(forward.host)
        let reverseRemote = !Self.isLoopback(reverse.host)

        // Forward replication as it runs now (set up by the operator, runbook step 2).
        if let health = try await targetHealth(facts, logger), health.usesTLS == false, forwardRemote {
            findings.warn(
                "forward replication into \(targetDatabase.name) runs unencrypted from \(forward): the replication "
                    + "password and every row cross the network in clear text",
                remedy: "re-point it with TLS: CALL mysql.rds_stop_replication; CALL mysql.rds_reset_external_source; "
                    + "CALL mysql.rds_set_external_source('\(forward.host)', \(forward.port), "
                    + "'\(topology.forwardReplicationUser)', '<password>', '<file>', <position>, 1); CALL "
                    + "mysql.rds_start_replication (v2: the _master names), at the position it had executed; or accept "
                    + "it on a private network path"
            )
        }

        // What the run sets up.
        for (direction, endpoint, remote, mode, key, peer) in [
            ("reverse replication (after a cut-over, the source replicates from the target)", reverse, reverseRemote,
                topology.reverseReplicationTLS, "replication.reverse.tls", DatabaseRole.target),
            ("forward replication (after a failback, the target replicates from the source again)", forward,
                forwardRemote, topology.forwardReplicationTLS, "replication.forward.tls", DatabaseRole.source),
        ] {
            switch mode {
            case .disabled where remote:
                findings.warn(
                    "\(direction) would run unencrypted to \(endpoint) (\(key): disabled)",
                    remedy: "set \(key): required (MASTER_SSL = 1 / ssl_encryption = 1), unless the path is a private "
                        + "network you trust"
                )
            case .disabled:
                findings.pass("\(direction): unencrypted, on loopback \(endpoint)")
            case .required:
                let accepts = try await binlogSettings(peer, facts, logger).acceptsTLS
                // The guards of every writer switch decide the same way (`reverse.tls`, ReversePrerequisites+TLS).
                if ReversePrerequisites.tlsUnavailable(mode, acceptsTLS: accepts) {
                    let failure =
                        "\(direction) is set to use TLS, but "
                        + ReversePrerequisites.serverName("the \(peer)", replicationEndpoint: endpoint)
                        + " offers none (have_ssl = DISABLED): its replica could not connect"
                    let remedy =
                        "give the \(peer) server a certificate (ssl_cert, ssl_key) and restart it, or set \(key): "
                        + "disabled on a trusted network path"
                    if peer == .target {
                        findings.fail(failure + " after the point of no return, leaving no way back", remedy: remedy)
                    } else {
                        findings.warn(failure + " at the end of a failback", remedy: remedy)
                    }
                } else {
                    findings.pass("\(direction): TLS to \(endpoint)")
                }
            }
        }
        return findings.outcome(ifEmpty: .pass("no replication to check"))
    }

    /// Whether `host` is a loopback address (traffic that never leaves the machine).
    static func isLoopback(_ host: String) -> Bool {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "::1" || lowered == "0:0:0:0:0:0:0:1" { return true }
        let parts = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    func checkServerIdentities(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        let source = try await binlogSettings(.source, facts, logger)
        let target = try await binlogSettings(.target, facts, logger)
        var findings = Findings()
        if let sourceID = source.serverID, let targetID = target.serverID {
            if sourceID == targetID {
                findings.fail(
                    "source and target both have server_id \(sourceID): each ignores the other's events",
                    remedy: "give the servers distinct server_id values (my.cnf, or the parameter group)"
                )
            } else {
                findings.pass("server_id: source \(sourceID), target \(targetID)")
            }
        } else {
            findings.warn("server_id could not be read on both servers", remedy: "SELECT @@server_id on both servers")
        }
        // gtid_mode: `reverse-replication.gtid-mode` (ReversePrerequisites) judges whether it replicates both ways.
        if let sourceDomain = source.gtidDomainID, let targetDomain = target.gtidDomainID, sourceDomain == targetDomain,
            source.gtidStrictMode == true || target.gtidStrictMode == true
        {
            findings.warn(
                "both servers use gtid_domain_id \(sourceDomain) with gtid_strict_mode on: a local write on a "
                    + "replica stops replication (error 1950)",
                remedy: "give each server its own gtid_domain_id, or turn gtid_strict_mode off"
            )
        }
        return findings.outcome(ifEmpty: .pass("server ids and GTID settings compatible"))
    }

    func checkTargetBinlog(_ facts: Facts, _ logger: Logger) async throws -> Outcome {
        let settings = try await binlogSettings(.target, facts, logger)
        var findings = Findings()
        let binlogRemedy =
            "Aurora: set binlog_format = ROW in the DB cluster parameter group and reboot the writer; "
            + "MySQL/MariaDB: log_bin and a unique server_id in my.cnf, then restart"
        switch settings.binaryLogEnabled {
        case true?:
            findings.pass("log_bin ON")
        case false?:
            findings.fail(
                "log_bin is OFF: reverse replication (failback) needs the target's binary log", remedy: binlogRemedy)
        case nil:
            findings.warn("log_bin could not be read", remedy: "SHOW GLOBAL VARIABLES LIKE 'log_bin' on the target")
        }
        // binlog_format: `reverse-replication.binlog-format` requires ROW on both servers (ReversePrerequisites).
        if settings.auroraBinlogReplicationFiltering == true {
            findings.warn(
                "aurora_enable_repl_bin_log_filtering is ON",
                remedy: "set aurora_enable_repl_bin_log_filtering = 0 in the DB cluster parameter group (see the "
                    + "Aurora preflight checklist)"
            )
        }
        return findings.outcome(ifEmpty: .pass("binary log on"))
    }

    func checkTargetWritable(_ logger: Logger) async throws -> Outcome {
        let state = try await target.readOnlyState(logger: logger)
        guard state.acceptsWrites else {
            return .fail(
                "\(target.name) is read-only (\(state)): every write would fail after the cut-over",
                remedy: "Aurora: use the cluster (writer) endpoint, not a reader instance; MySQL/MariaDB: "
                    + "SET GLOBAL read_only = OFF (and in my.cnf) before the cut-over"
            )
        }
        return .pass(state.description)
    }

    // MARK: Accounts

    func checkReverseReplicationAccount(_ logger: Logger) async throws -> Outcome {
        let user = topology.reverseReplicationUser
        let accounts = try await target.accounts(users: [user], logger: logger)
        let quotedUser = SQLQuoting.stringLiteral(user, dialect: .mysql)
        guard !accounts.isEmpty else {
            return .fail(
                "no account \(quotedUser) on the target: the source cannot replicate from it for a failback",
                remedy: "on the target: CREATE USER \(quotedUser)@'%' IDENTIFIED BY '…'; GRANT REPLICATION SLAVE, "
                    + "REPLICATION CLIENT ON *.* TO \(quotedUser)@'%'"
            )
        }
        var findings = Findings()
        var anyReplicationSlave = false
        for account in accounts {
            let grants = try await target.grants(for: account, logger: logger)
            let quoted =
                "\(SQLQuoting.stringLiteral(account.user, dialect: .mysql))@"
                + SQLQuoting.stringLiteral(account.host, dialect: .mysql)
            let slave = ServerInspection.Grant.grantsGlobally("REPLICATION SLAVE", in: grants)
            let client = ServerInspection.Grant.grantsGlobally("REPLICATION CLIENT", in: grants)
            anyReplicationSlave = anyReplicationSlave || slave
            if !slave {
                findings.fail(
                    "\(account) lacks REPLICATION SLAVE on *.*",
                    remedy: "on the target: GRANT REPLICATION SLAVE ON *.* TO \(quoted)"
                )
            } else if !client {
                findings.warn(
                    "\(account) has REPLICATION SLAVE but not REPLICATION CLIENT",
                    remedy: "on the target: GRANT REPLICATION CLIENT ON *.* TO \(quoted)"
                )
            } else {
                findings.pass("\(account) has REPLICATION SLAVE and REPLICATION CLIENT")
            }
            if ["localhost", "127.0.0.1", "::1"].contains(account.host) && accounts.count == 1 {
                findings.warn(
                    "\(account) can only log in locally; the source connects over the network",
                    remedy: "create it for the source's address or network, e.g. \(quotedUser)@'10.0.%'"
                )
            }
        }
        // One host pattern with the privilege is enough: the others are reported but do not block.
        var outcome = findings.outcome(ifEmpty: .pass(""))
        if anyReplicationSlave, outcome.status == .fail { outcome.status = .warn }
        return outcome
    }

    func checkApplicationAccounts(_ logger: Logger) async throws -> Outcome {
        let users = topology.applicationUsers
        guard !users.isEmpty else {
            return .warn(
                "no application accounts listed in the topology: their presence on the target cannot be checked",
                remedy: "list them in topology.applicationUsers (they are also the sessions closed on the old writer)"
            )
        }
        let onSource = Dictionary(grouping: try await source.accounts(users: users, logger: logger), by: \.user)
        let onTarget = Dictionary(grouping: try await target.accounts(users: users, logger: logger), by: \.user)
        var findings = Findings()
        for user in users {
            let quotedUser = SQLQuoting.stringLiteral(user, dialect: .mysql)
            let sourceHosts = Set((onSource[user] ?? []).map(\.host))
            let targetHosts = Set((onTarget[user] ?? []).map(\.host))
            func list(_ hosts: Set<String>) -> String { hosts.sorted().map { "'\($0)'" }.joined(separator: ", ") }
            if targetHosts.isEmpty {
                findings.fail(
                    "\(quotedUser) is missing on the target" + (sourceHosts.isEmpty ? " (and on the source)" : ""),
                    remedy: "create the application accounts on the target with the source's grants "
                        + "(SHOW GRANTS FOR each on the source, or pt-show-grants | mysql on the target)"
                )
            } else if sourceHosts.isEmpty {
                findings.warn(
                    "\(quotedUser) is not on the source (target hosts \(list(targetHosts)))",
                    remedy: "check topology.applicationUsers"
                )
            } else if sourceHosts != targetHosts {
                findings.warn(
                    "\(quotedUser) host patterns differ: source \(list(sourceHosts)), target \(list(targetHosts))",
                    remedy: "create the same host patterns on the target: ProxySQL connects from its own address, "
                        + "which must match one of them (IP-limited hosts differ between networks)"
                )
            } else {
                findings.pass("\(quotedUser) on both, hosts \(list(sourceHosts))")
            }
        }
        return findings.outcome(ifEmpty: .pass(""))
    }

    // MARK: Transactions

    func checkLongTransactions(_ logger: Logger) async throws -> Outcome {
        let limit = policy.longTransactionLimit
        let transactions = try await source.openWriteTransactions(olderThan: limit, logger: logger)
        guard transactions.isEmpty else {
            let ids = transactions.map { String($0.connectionID) }.joined(separator: ", ")
            return .fail(
                "\(transactions.count) write transaction(s) on \(source.name) open for \(limit) or more:\n"
                    + transactions.map(\.description).joined(separator: "\n"),
                remedy: "let them finish or end them (KILL \(ids) on the source): they would hold the drain past "
                    + "its deadline"
            )
        }
        return .pass("no write transaction open for \(limit) or more")
    }
}
