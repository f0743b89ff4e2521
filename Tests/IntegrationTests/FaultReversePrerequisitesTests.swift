import Cutover
import CutoverRehearsal
import CutoverSandbox
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Testing

/// One planted fault of issue #13 item 5: how to plant it, how to undo it, and what preflight and the guards must say.
private struct ReverseFault: Sendable {
    var name: String
    /// Preflight's check that must fail, and a text its remedy must contain.
    var preflightCheck: String
    var remedyMentions: String
    /// Other preflight checks the same fault fails (the account's grants read from `mysql.user`).
    var alsoFailing: [String] = []
    /// The guards' refusal.
    var guardCheck: String
    var plant: @Sendable (FaultBed) async throws -> Void
    var undo: @Sendable (FaultBed) async throws -> Void
}

/// Runs `statements` as root on `server`, out of the binary log (account and setting changes must not replicate).
private func asRoot(_ server: SandboxServer, _ statements: [SQLStatement]) async throws {
    let connection = try await server.connectAsRoot()
    do {
        try await connection.run("SET SESSION sql_log_bin = 0")
        for statement in statements { try await connection.run(statement) }
        await connection.close()
    } catch {
        await connection.close()
        throw error
    }
}

/// Runs `statement` as the Aurora stand-in's restricted admin (what an operator can do on Aurora).
private func asAuroraAdmin(_ bed: FaultBed, _ statement: SQLStatement) async throws {
    let admin = try await MariaDBConnection.connect(configuration: bed.rehearsal.auroraShim.adminConfiguration)
    do {
        try await admin.run(statement)
        await admin.close()
    } catch {
        await admin.close()
        throw error
    }
}

/// The preflight of the bed's cut-over, with the reverse-replication account's password (as `migrate-cli preflight`).
private func preflight(_ bed: FaultBed, logger: Logger) async throws -> PreflightReport {
    let (environment, close) = try await bed.makeEnvironment(logger: logger)
    let source = try await bed.source.connectAsRoot()
    let target = try await MariaDBConnection.connect(configuration: bed.rehearsal.auroraShim.adminConfiguration)
    var preflight = Preflight(
        topology: bed.topology, policy: FaultPolicies.standard,
        source: ServerInspector(session: source, name: "source"), target: ServerInspector(session: target, name: "aurora"),
        targetDatabase: environment.target, proxies: environment.proxies)
    preflight.replicationLogin = Preflight.ReplicationLogin(password: bed.rehearsal.reverseReplicationPassword)
    let report = await preflight.run(logger: logger)
    await source.close()
    await target.close()
    await close()
    return report
}

/// Plants `fault`, checks that preflight fails with the remedy and that `cutover writers` is refused by its guards
/// with nothing changed, then undoes it (also when a check throws) and checks the starting state.
private func check(_ fault: ReverseFault, on bed: FaultBed, logger: Logger) async throws {
    try await fault.plant(bed)
    let report: PreflightReport
    let result: FaultCaseResult
    do {
        report = try await preflight(bed, logger: logger)
        result = try await FaultScenario.run(FaultCase(name: fault.name, expected: .refused(fault.guardCheck)), on: bed)
    } catch {
        try? await fault.undo(bed)
        throw error
    }
    try await fault.undo(bed)
    let found = report[fault.preflightCheck]
    #expect(found?.status == .fail, "\(fault.name): \(found.map(\.description) ?? "no \(fault.preflightCheck)")")
    #expect(found?.remedy?.contains(fault.remedyMentions) == true, "\(fault.name): \(found?.remedy ?? "no remedy")")
    // Only the planted fault among the reverse-replication checks.
    let reverseChecks = report.blockingReasons.map(\.check).filter {
        $0.hasPrefix("reverse-replication.") || $0.hasPrefix("target.binlog")
    }
    #expect(Set(reverseChecks) == Set([fault.preflightCheck] + fault.alsoFailing), "\(fault.name): \(report.blockingReasons)")
    if case .refused(let reasons) = result.report.outcome {
        let reason = reasons.first { $0.check == fault.guardCheck }
        #expect(reason?.remedy.isEmpty == false, "\(reasons)")
        // Only the planted fault: the bed is otherwise ready (a login probe that failed for another reason would show).
        #expect(reasons.map(\.check) == [fault.guardCheck], "\(fault.name): \(reasons)")
    }
    for secret in [bed.rehearsal.reverseReplicationPassword, bed.rehearsal.forwardReplicationPassword] {
        #expect(!"\(report)".contains(secret))
        #expect(!"\(result.report)".contains(secret))
    }
    try await bed.expectStartingState("after \(fault.name)")
}

extension FaultTests {
    /// Issue #13 item 5: what reverse replication needs is checked before the switch, by preflight and by the guards
    /// of `cutover writers`; each planted fault is a refusal with a remedy, nothing changed — not a one-way trip.
    /// Retention and the reverse account on both server kinds; `binlog_format` on MariaDB; `gtid_mode` on MySQL 9.7
    /// (MariaDB has none).
    @Suite("Reverse replication prerequisites are guards (#13)", .faultBed(kinds: FaultBed.kinds))
    struct ReversePrerequisiteGuards {
        let logger = Logger(label: "fault.reverse", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test(
            "the bed passes: ROW, 24 h retention, the reverse account logs in with REPLICATION SLAVE",
            arguments: FaultBed.kinds)
        func healthyBedPasses(_ kind: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(kind) else { return }
            let report = try await preflight(bed, logger: logger)
            for id in [
                "target.binlog", "target.binlog-retention", "reverse-replication.binlog-format",
                "reverse-replication.gtid-mode", "reverse-replication.login",
            ] {
                #expect(report[id]?.status == .pass, "\(kind): \(report[id].map(\.description) ?? id)")
            }
        }

        @Test("binlog_format MIXED on the source: preflight fails, the guards refuse")
        func mixedFormatOnSource() async throws {
            guard let bed = try await FaultBed.inStartingState(.mariadb) else { return }
            try await check(
                ReverseFault(
                    name: "source binlog_format=MIXED", preflightCheck: "reverse-replication.binlog-format",
                    remedyMentions: "binlog_format = 'ROW'", guardCheck: "reverse.binlog-format",
                    plant: { try await asRoot($0.source, ["SET GLOBAL binlog_format = 'MIXED'"]) },
                    undo: { try await asRoot($0.source, ["SET GLOBAL binlog_format = 'ROW'"]) }),
                on: bed, logger: logger)
        }

        @Test("Aurora's binlog retention hours NULL, then 1: preflight fails, the guards refuse", arguments: FaultBed.kinds)
        func retention(_ kind: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(kind) else { return }
            for value in ["NULL", "1"] {
                try await check(
                    ReverseFault(
                        name: kind.faultRow("Aurora binlog retention hours \(value)"),
                        preflightCheck: "target.binlog-retention",
                        remedyMentions: "CALL mysql.rds_set_configuration('binlog retention hours', 24)",
                        guardCheck: "reverse.binlog-retention",
                        plant: {
                            try await asAuroraAdmin(
                                $0, "CALL mysql.rds_set_configuration('binlog retention hours', \(unsafeRaw: value))")
                        },
                        undo: { try await asAuroraAdmin($0, "CALL mysql.rds_set_configuration('binlog retention hours', 24)") }
                    ),
                    on: bed, logger: logger)
            }
        }

        @Test(
            "the reverse account's password changed on Aurora: its login is refused (1045) before the switch",
            arguments: FaultBed.kinds)
        func loginRefused(_ kind: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(kind) else { return }
            let user = Rehearsal.reverseReplicationUser
            let password = bed.rehearsal.reverseReplicationPassword
            try await check(
                ReverseFault(
                    name: kind.faultRow("reverse account password changed"), preflightCheck: "reverse-replication.login",
                    remedyMentions: "replication.reverse.user and its password", guardCheck: "reverse.login",
                    plant: { bed in
                        try await asRoot(bed.target, ["ALTER USER \(unsafeRaw: user)@'%' IDENTIFIED BY \(secret: "not-" + password)"])
                    },
                    undo: { bed in
                        try await asRoot(bed.target, ["ALTER USER \(unsafeRaw: user)@'%' IDENTIFIED BY \(secret: password)"])
                    }),
                on: bed, logger: logger)
        }

        @Test("the reverse account without REPLICATION SLAVE: refused before the switch", arguments: FaultBed.kinds)
        func missingReplicationSlave(_ kind: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(kind) else { return }
            let user = Rehearsal.reverseReplicationUser
            try await check(
                ReverseFault(
                    name: kind.faultRow("reverse account without REPLICATION SLAVE"),
                    preflightCheck: "reverse-replication.login", remedyMentions: "GRANT REPLICATION SLAVE",
                    alsoFailing: ["reverse-replication.account"], guardCheck: "reverse.login",
                    plant: { try await asRoot($0.target, ["REVOKE REPLICATION SLAVE ON *.* FROM \(unsafeRaw: user)@'%'"]) },
                    undo: { try await asRoot($0.target, ["GRANT REPLICATION SLAVE ON *.* TO \(unsafeRaw: user)@'%'"]) }),
                on: bed, logger: logger)
        }

        /// Aurora moved to OFF_PERMISSIVE writes anonymous transactions, which the source (gtid_mode ON) would refuse
        /// as a replica after the switch; forward replication (GTID transactions into OFF_PERMISSIVE) still runs.
        @Test("MySQL 9.7: Aurora gtid_mode OFF_PERMISSIVE against the source's ON: preflight fails, the guards refuse")
        func gtidModeMismatch() async throws {
            guard let bed = try await FaultBed.inStartingState(.mysql) else { return }
            try await check(
                ReverseFault(
                    name: "MySQL: Aurora gtid_mode OFF_PERMISSIVE", preflightCheck: "reverse-replication.gtid-mode",
                    remedyMentions: "one step at a time", guardCheck: "reverse.gtid-mode",
                    plant: {
                        try await asRoot(
                            $0.target,
                            ["SET GLOBAL gtid_mode = 'ON_PERMISSIVE'", "SET GLOBAL gtid_mode = 'OFF_PERMISSIVE'"])
                    },
                    undo: {
                        try await asRoot(
                            $0.target, ["SET GLOBAL gtid_mode = 'ON_PERMISSIVE'", "SET GLOBAL gtid_mode = 'ON'"])
                    }),
                on: bed, logger: logger)
        }
    }
}
