import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import Testing

extension FaultTests {
    /// The full preflight (the library's ``Preflight`` and `migrate-cli preflight`) on the rehearsal pair of each
    /// server kind: MySQL 9.7 source and MySQL Aurora stand-in (GTIDs on, `mysql.rds_*` procedures, an admin without
    /// SUPER), or MariaDB (#12). Every check's verdict is stated per kind; planted faults must fail on both.
    @Suite("Preflight on both server kinds", .faultBed(kinds: FaultBed.kinds))
    struct PreflightBothKinds {
        let logger = Logger(label: "fault.preflight", factory: { _ in SwiftLogNoOpLogHandler() })

        /// The verdicts on the good pair, by check, through the library (``FaultBed/preflight``). The warnings are the
        /// same on both kinds: ProxySQL's monitor is not emulated (reachability unconfirmed), and this preflight is
        /// given no reverse-replication password, so `reverse-replication.login` cannot probe the login (#13: not
        /// probed is a warning, never a pass).
        static func expectedStatus(_ id: String, on server: SandboxServerKind) -> PreflightCheck.Status {
            switch id {
            case "proxysql.target-reachable", "reverse-replication.login": .warn
            default: .pass
            }
        }

        /// The same through `migrate-cli preflight`, which reads the reverse account's password from the
        /// configuration and logs in with it: the sandbox's account holds REPLICATION SLAVE and REPLICATION CLIENT on
        /// the stand-in, so the login passes there.
        static func expectedCLIStatus(_ id: String, on server: SandboxServerKind) -> String {
            switch id {
            case "reverse-replication.login": "pass"
            default: expectedStatus(id, on: server) == .pass ? "pass" : expectedStatus(id, on: server).rawValue.uppercased()
            }
        }

        @Test("the good pair: every check's verdict as expected, MySQL's checks read MySQL's facts", arguments: FaultBed.kinds)
        func goodPair(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            try await bed.setBinlogRetention()
            let report = try await bed.preflight(checkTimeout: .seconds(15), logger: logger)
            let summary = report.checks.map { "\($0.status) \($0.id): \($0.detail)" }.joined(separator: "\n")
            #expect(report.checks.map(\.id) == Preflight.checkIDs)
            for check in report.checks {
                #expect(check.status == Self.expectedStatus(check.id, on: server), "\(server) \(check)")
            }
            #expect(report.canProceed, "\(server):\n\(summary)")
            #expect(
                report["reverse-replication.login"]?.detail.contains("not probed") == true,
                "\(server): \(report["reverse-replication.login"]?.detail ?? "missing")")

            // No check passes for lack of the facts it looks at: each reads the server's own spellings.
            func detail(_ id: String) -> String { report[id]?.detail ?? "" }
            switch server {
            case .mysql:
                #expect(detail("versions.compatible").contains("9.7"), "\(detail("versions.compatible"))")
                // Aurora v3's procedure names (rds_set_external_source), found on the stand-in.
                #expect(detail("target.procedures").contains("source"), "\(detail("target.procedures"))")
                // super_read_only is MySQL's: read and reported on the target.
                #expect(detail("target.read-only").contains("super_read_only=OFF"), "\(detail("target.read-only"))")
                #expect(detail("replication.target").contains("running"), "\(detail("replication.target"))")
            case .mariadb:
                #expect(detail("versions.compatible").contains("MariaDB"), "\(detail("versions.compatible"))")
                #expect(detail("target.read-only").contains("super_read_only=n/a"), "\(detail("target.read-only"))")
            }

            // `migrate-cli preflight --json` on the same pair says the same.
            let workspace = try CLIWorkspace(bed: bed)
            defer { workspace.remove() }
            let cli = try await MigrateBinary.run(
                ["--config", workspace.configurationPath, "preflight", "--json"], in: workspace.directory,
                deadline: .seconds(120))
            #expect(cli.code == 0, "\(cli)")
            let rows = (cli.objects.last { $0["command"] as? String == "preflight" }?["sections"] as? [[String: Any]])?
                .first?["rows"] as? [[String: String]] ?? []
            let cliStatuses = Dictionary(rows.map { ($0["check"] ?? "?", $0["status"] ?? "?") }) { first, _ in first }
            for check in report.checks {
                let expected = Self.expectedCLIStatus(check.id, on: server)
                #expect(cliStatuses[check.id] == expected, "\(server) CLI \(check.id): \(cliStatuses[check.id] ?? "missing")")
            }
            try await bed.expectStartingState("after")
        }

        @Test(
            "planted faults fail: the target read-only, Aurora's applier stopped, the reverse account without REPLICATION SLAVE, binlog_format STATEMENT",
            arguments: FaultBed.kinds)
        func plantedFaults(server: SandboxServerKind) async throws {
            guard let bed = try await FaultBed.inStartingState(server) else { return }
            let target = try await bed.target.connectAsRoot()
            let reverse = Rehearsal.reverseReplicationUser
            // MySQL: super_read_only (which sets read_only too); MariaDB has only read_only.
            let readOnly = server == .mysql ? "super_read_only" : "read_only"
            try await bed.setBinlogRetention()
            try await target.run(bed.sql.stopReplica("SQL_THREAD"))
            try await target.run("SET SESSION sql_log_bin = 0")
            try await target.run("REVOKE REPLICATION SLAVE ON *.* FROM \(reverse)@'%'")
            try await target.run("SET GLOBAL binlog_format = 'STATEMENT'")
            // Last: MySQL's super_read_only refuses root's REVOKE too (1290).
            try await target.run("SET GLOBAL \(unsafeRaw: readOnly) = ON")

            let report: PreflightReport
            do {
                report = try await bed.preflight(checkTimeout: .seconds(15), logger: logger)
            } catch {
                try await Self.repair(target, bed: bed, readOnly: readOnly)
                throw error
            }
            try await Self.repair(target, bed: bed, readOnly: readOnly)

            let summary = report.checks.map { "\($0.status) \($0.id): \($0.detail)" }.joined(separator: "\n")
            #expect(!report.canProceed)
            let failed = Set(report.checks.filter { $0.status == .fail }.map(\.id))
            #expect(
                failed == [
                    "target.read-only", "replication.target", "reverse-replication.account",
                    "reverse-replication.binlog-format",
                ],
                "\(server):\n\(summary)")
            #expect(report["target.read-only"]?.detail.contains(readOnly) == true, "\(summary)")
            #expect(report["replication.target"]?.detail.lowercased().contains("sql stopped") == true, "\(summary)")
            #expect(report["reverse-replication.account"]?.detail.contains("REPLICATION SLAVE") == true, "\(summary)")
            // binlog_format STATEMENT blocks since #13 (`reverse-replication.binlog-format`: a statement that is not
            // deterministic can diverge the replica silently); `target.binlog` now checks only log_bin.
            #expect(
                report["reverse-replication.binlog-format"]?.detail.contains("STATEMENT") == true, "\(summary)")
            #expect(report["target.binlog"]?.status == .pass, "\(summary)")
            // Not given the password, the library's preflight does not probe the login: a warning, not a verdict.
            #expect(report["reverse-replication.login"]?.status == .warn, "\(summary)")
            try await bed.expectStartingState("after")
        }

        static func repair(_ target: MariaDBConnection, bed: FaultBed, readOnly: String) async throws {
            // First: MySQL's super_read_only refuses root's GRANT too (1290).
            try await target.run("SET GLOBAL \(unsafeRaw: readOnly) = OFF")
            try await target.run("SET GLOBAL binlog_format = 'ROW'")
            try await target.run("GRANT REPLICATION SLAVE ON *.* TO \(Rehearsal.reverseReplicationUser)@'%'")
            try await target.run("SET SESSION sql_log_bin = 1")
            try await target.run("SET GLOBAL \(unsafeRaw: readOnly) = OFF")
            try await target.run("SET GLOBAL read_only = OFF")
            try await target.run(bed.sql.startReplica("SQL_THREAD"))
            await target.close()
            try await bed.waitForReplica(bed.target, of: bed.source)
        }
    }
}
