import Cutover
import Logging
import MariaDB
import ReplicationControl

/// The helpers the published procedure does by hand: accounts, the reverse-replication account, time zone tables,
/// binlog retention. Each change is previewed with `--dry-run`, and its report says how to undo it.
enum HelperWiring {
    // MARK: Accounts

    static func accountComparisons(_ scope: ConnectionScope, _ request: AccountsRequest) async throws
        -> (source: MariaDBConnection, target: MariaDBConnection, comparisons: [AccountMigration.Comparison])
    {
        let configuration = scope.configuration
        let source = try await scope.connect(.source)
        let target = try await scope.connect(.targetWriter)
        // Replication accounts are not application accounts.
        let excluding = Set([configuration.forwardReplication.user, configuration.reverseReplication.user])
            .union([configuration.sourceAccount.user, configuration.targetAccount.user].compactMap { $0 })
        let users = request.users.isEmpty ? configuration.applicationUsers : request.users
        let comparisons = try await AccountMigration.compare(
            source: ServerInspector(session: source, name: ConnectionScope.sourceName),
            target: ServerInspector(session: target, name: ConnectionScope.targetName),
            users: users,
            excluding: request.users.isEmpty ? excluding : [],
            rewrites: request.hostRewrites.map { AccountMigration.HostRewrite(from: $0.from, to: $0.to) },
            logger: scope.logger
        )
        return (source, target, comparisons)
    }

    static func comparisonSection(_ comparisons: [AccountMigration.Comparison]) -> CommandReport.Section {
        .init(
            title: "Accounts (source → target)",
            headers: ["source account", "target account", "on target", "missing grants", "extra on target", "not copyable"],
            rows: comparisons.map { comparison in
                [
                    "\(comparison.source)", "\(comparison.target)", comparison.presentOnTarget ? "yes" : "MISSING",
                    comparison.missingGrants.joined(separator: "; "), comparison.extraGrants.joined(separator: "; "),
                    comparison.refused.joined(separator: "; "),
                ]
            }
        )
    }

    static func accountsCompare(_ environment: CommandEnvironment, _ request: AccountsRequest) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let (_, _, comparisons) = try await accountComparisons(scope, request)
            let blocking = comparisons.filter { !$0.matches }.map { comparison in
                BlockingReason(
                    check: "accounts.\(comparison.source.user)",
                    message: comparison.presentOnTarget
                        ? "\(comparison.target) lacks \(comparison.missingGrants.joined(separator: ", "))"
                        : "\(comparison.target) does not exist on the target",
                    remedy: "migrate-cli accounts copy --user \(comparison.source.user)"
                        + request.hostRewrites.map { " --rewrite-host \($0.from)=\($0.to)" }.joined()
                        + (comparison.presentOnTarget ? " (copy creates missing accounts only: GRANT the rest by hand)" : "")
                )
            }
            return CommandReport(
                command: "accounts compare",
                sections: [comparisonSection(comparisons)],
                blockingReasons: blocking,
                notes: comparisons.isEmpty ? ["no application account found on the source"] : []
            )
        }
    }

    static func accountsCopy(_ environment: CommandEnvironment, _ request: AccountsRequest) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let (source, target, comparisons) = try await accountComparisons(scope, request)
            var changes: [String] = []
            var notes: [String] = []
            var created: [String] = []
            for comparison in comparisons where !comparison.presentOnTarget {
                let plan = try await AccountMigration.copyPlan(
                    comparison, source: source,
                    sourceInspector: ServerInspector(session: source), logger: scope.logger)
                for (index, statement) in plan.statements.enumerated() {
                    // CREATE USER carries the source's password hash: never shown.
                    changes.append(
                        "[target] "
                            + (index == 0
                                ? "CREATE USER \(plan.target) <authentication of \(plan.source) on the source: its hash is copied, not shown>"
                                : statement.rendered(for: .mysql(noBackslashEscapes: false))))
                    if !request.dryRun { try await target.run(statement) }
                }
                notes += plan.skipped.map { "\(comparison.source): \($0)" }
                created.append("\(comparison.target)")
            }
            for comparison in comparisons where comparison.presentOnTarget && !comparison.missingGrants.isEmpty {
                notes.append("\(comparison.target) exists but lacks \(comparison.missingGrants.joined(separator: ", ")): existing accounts are never changed; GRANT by hand")
            }
            if !created.isEmpty {
                notes.append((request.dryRun ? "would create " : "created ") + created.joined(separator: ", ")
                    + ". Undo: " + created.map { "DROP USER \($0);" }.joined(separator: " "))
            } else {
                notes.append("nothing to create: every account exists on the target")
            }
            return CommandReport(
                command: "accounts copy", sections: [comparisonSection(comparisons)], notes: notes, changes: changes,
                dryRun: request.dryRun)
        }
    }

    // MARK: Reverse-replication account

    static func reverseUserCreate(_ environment: CommandEnvironment, _ host: String, _ dryRun: Bool) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let configuration = scope.configuration
            let user = configuration.reverseReplication.user
            guard let password = try environment.connections.replicationPassword(configuration.reverseReplication, direction: "reverse")?.reveal() else {
                throw ConfigurationError(code: .secretUnavailable, field: "replication.reverse.password-env", "reverse-user create needs the account's password (password-env or password-file)")
            }
            let target = try await scope.connect(.targetWriter)
            let inspector = ServerInspector(session: target, name: ConnectionScope.targetName)
            let account = ServerInspection.Account(user: user, host: host)
            let existed = try await inspector.accounts(users: [user], logger: scope.logger).contains(account)
            let statements = [
                ReplicationUser.createStatement(user: user, host: host, password: password),
                ReplicationUser.grantStatement(user: user, host: host),
            ]
            var changes = statements.map { "[target] " + $0.renderedHidingSecrets(for: .mysql(noBackslashEscapes: false)) }
            var notes: [String] = []
            var blocking: [BlockingReason] = []
            if !dryRun {
                for statement in statements { try await target.run(statement) }
                let grants = try await inspector.grants(for: account, logger: scope.logger)
                if !ReplicationUser.isComplete(grants) {
                    blocking.append(BlockingReason(check: "reverse-user.grants", message: "\(account) lacks a replication privilege after GRANT", remedy: "check that the target account may grant REPLICATION SLAVE and REPLICATION CLIENT"))
                }
                let extra = ReplicationUser.extraPrivileges(in: grants)
                if !extra.isEmpty { notes.append("\(account) has more than it needs: \(extra.joined(separator: ", ")) (not revoked)") }
            }
            if existed {
                notes.append("\(account) existed already: its password is unchanged (CREATE USER IF NOT EXISTS); only the grants were ensured")
                changes[0] += "  (no-op: the account exists)"
            } else {
                notes.append("Undo: DROP USER \(account); on the target")
            }
            notes.append("grants: exactly \(ReplicationUser.privileges.joined(separator: ", ")) ON *.*; the source replicates from the target with it after the writer switch")
            return CommandReport(command: "reverse-user create", blockingReasons: blocking, notes: notes, changes: changes, dryRun: dryRun)
        }
    }

    // MARK: Time zones

    static func timezoneCounts(_ scope: ConnectionScope) async throws -> (MariaDBConnection, MariaDBConnection, [String: Int], [String: Int], [[String]]) {
        let source = try await scope.connect(.source)
        let target = try await scope.connect(.targetWriter)
        let sourceCounts = try await TimeZoneTables.counts(on: source)
        let targetCounts = try await TimeZoneTables.counts(on: target)
        var rows = TimeZoneTables.tables.map { ["mysql.\($0)", "\(sourceCounts[$0] ?? 0)", "\(targetCounts[$0] ?? 0)"] }
        let sourceZone = try await source.queryFirst(TimeZoneTables.settingsStatement)
        let targetZone = try await target.queryFirst(TimeZoneTables.settingsStatement)
        rows.append(["@@global.time_zone", sourceZone?["time_zone"]?.string ?? "?", targetZone?["time_zone"]?.string ?? "?"])
        rows.append(["@@system_time_zone", sourceZone?["system_time_zone"]?.string ?? "?", targetZone?["system_time_zone"]?.string ?? "?"])
        return (source, target, sourceCounts, targetCounts, rows)
    }

    static func timezonesCheck(_ environment: CommandEnvironment) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let (_, _, sourceCounts, targetCounts, rows) = try await timezoneCounts(scope)
            var blocking: [BlockingReason] = []
            let sourceZones = sourceCounts["time_zone_name"] ?? 0
            let targetZones = targetCounts["time_zone_name"] ?? 0
            if sourceZones > 0, targetZones == 0 {
                blocking.append(BlockingReason(check: "timezones.target", message: "the source has \(sourceZones) named zones, the target none: CONVERT_TZ and SET time_zone = 'Region/City' would return NULL or fail there", remedy: "migrate-cli timezones import"))
            } else if sourceZones == 0, targetZones > 0 {
                blocking.append(BlockingReason(check: "timezones.source", message: "the target has \(targetZones) named zones, the source none: after a failback named zones would stop working", remedy: "load them on the source: \(TimeZoneTables.loadCommand(host: scope.configuration.source.host, port: scope.configuration.source.port, user: scope.configuration.sourceAccount.user ?? "root"))"))
            } else if sourceZones != targetZones {
                blocking.append(BlockingReason(check: "timezones.differ", message: "the source has \(sourceZones) named zones, the target \(targetZones): the zone data may differ in version", remedy: "load the same tzdata on both (mysql_tzinfo_to_sql)"))
            }
            return CommandReport(
                command: "timezones check",
                sections: [.init(title: "Time zone tables (rows)", headers: ["table", "source", "target"], rows: rows)],
                blockingReasons: blocking,
                notes: blocking.isEmpty ? [sourceZones == 0 ? "both sides have no named zones (only offsets like '+00:00' work)" : "the tables agree"] : []
            )
        }
    }

    static func timezonesImport(_ environment: CommandEnvironment, _ dryRun: Bool) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let (source, target, sourceCounts, targetCounts, rows) = try await timezoneCounts(scope)
            let configuration = scope.configuration
            let section = CommandReport.Section(title: "Time zone tables (rows)", headers: ["table", "source", "target"], rows: rows)
            let sourceTotal = sourceCounts.values.reduce(0, +)
            let targetTotal = targetCounts.values.reduce(0, +)
            if targetTotal == 0, sourceTotal > 0 {
                let changes = TimeZoneTables.tables.filter { (sourceCounts[$0] ?? 0) > 0 }.map {
                    "[target] INSERT INTO mysql.\($0) ... (\(sourceCounts[$0] ?? 0) rows copied from the source, in batches of 1000)"
                }
                if !dryRun {
                    _ = try await TimeZoneTables.copy(from: source, to: target, logger: scope.logger)
                }
                return CommandReport(
                    command: "timezones import", sections: [section],
                    notes: ["Undo: DELETE FROM each of mysql.\(TimeZoneTables.tables.joined(separator: ", mysql.")) on the target (they were empty before)"],
                    changes: changes, dryRun: dryRun)
            }
            let lacking: (String, Address, String?)? =
                targetTotal == 0 ? ("target", configuration.targetWriter, configuration.targetAccount.user)
                : sourceTotal == 0 ? ("source", configuration.source, configuration.sourceAccount.user) : nil
            var notes: [String] = []
            if let (side, address, user) = lacking {
                notes.append("nothing to copy: \(targetTotal == 0 ? "neither side has" : "the \(side) lacks") time zone rows. Load them from the operating system's zone files on the \(side):")
                notes.append("  " + TimeZoneTables.loadCommand(host: address.host, port: address.port, user: user ?? "root"))
            } else {
                notes.append("both sides have time zone rows: nothing to import (`migrate-cli timezones check` compares them)")
            }
            return CommandReport(command: "timezones import", sections: [section], notes: notes, dryRun: dryRun)
        }
    }

    // MARK: Binlog retention

    static func rdsController(_ scope: ConnectionScope) async throws -> (RDSReplicaController, MariaDBConnection) {
        let target = try await scope.connect(.targetWriter)
        return (try await RDSReplicaController.detecting(on: target, logger: scope.logger), target)
    }

    static func retentionCheck(_ environment: CommandEnvironment) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let (controller, target) = try await rdsController(scope)
            let hours = try await controller.binlogRetentionHours(logger: scope.logger)
            let binlog = try await ServerInspector(session: target).binlogSettings(logger: scope.logger)
            var blocking: [BlockingReason] = []
            if binlog.binaryLogEnabled != true {
                blocking.append(BlockingReason(check: "retention.binlog", message: "the target's binary log is off: reverse replication cannot start", remedy: "set binlog_format = ROW in the Aurora cluster parameter group and reboot the writer"))
            }
            if hours == nil {
                blocking.append(BlockingReason(check: "retention.hours", message: "'binlog retention hours' is not set: Aurora may purge binlogs reverse replication still needs", remedy: "migrate-cli retention set --hours 72"))
            }
            return CommandReport(
                command: "retention check",
                sections: [.init(title: "Target binlog", headers: ["setting", "value"], rows: [
                    ["log_bin", binlog.binaryLogEnabled.map { $0 ? "ON" : "OFF" } ?? "?"],
                    ["binlog_format", binlog.binlogFormat ?? "?"],
                    ["binlog retention hours", hours.map(String.init) ?? "NULL (not set)"],
                ])],
                blockingReasons: blocking
            )
        }
    }

    static func retentionSet(_ environment: CommandEnvironment, _ hours: Int, _ dryRun: Bool) async throws -> CommandReport {
        try await ConnectionScope.with(environment) { scope in
            let (controller, _) = try await rdsController(scope)
            let previous = try await controller.binlogRetentionHours(logger: scope.logger)
            guard let statement = controller.procedures.setBinlogRetentionHoursStatement(hours) else {
                throw ReplicationError(code: .procedureMissing, message: "the target has no mysql.rds_set_configuration")
            }
            if !dryRun { try await controller.setBinlogRetentionHours(hours, logger: scope.logger) }
            let now = dryRun ? previous : try await controller.binlogRetentionHours(logger: scope.logger)
            return CommandReport(
                command: "retention set",
                sections: [.init(title: "binlog retention hours", headers: ["before", "after"], rows: [[previous.map(String.init) ?? "NULL", dryRun ? "\(hours) (dry run)" : now.map(String.init) ?? "NULL"]])],
                notes: ["Undo: migrate-cli retention set --hours \(previous.map(String.init) ?? "<previous>")" + (previous == nil ? " (it was not set; CALL mysql.rds_set_configuration('binlog retention hours', NULL) clears it)" : "")],
                changes: ["[target] " + statement.rendered(for: .mysql(noBackslashEscapes: false))],
                dryRun: dryRun
            )
        }
    }
}
