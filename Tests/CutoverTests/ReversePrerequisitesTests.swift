@testable import Cutover
import ProxySQLAdmin
import ReplicationControl
import Testing

/// Issue #13 item 5: what the replication started after a writer switch needs is decided before the switch, as
/// verdicts with a severity and a remedy (pure: facts in, verdicts out).
@Suite("Reverse replication prerequisites: facts in, verdicts out")
struct ReversePrerequisitesTests {
    static let grantsBoth = [ServerInspection.Grant(privileges: ["REPLICATION SLAVE", "REPLICATION CLIENT"], target: "*.*")]

    /// A healthy cut-over: an Aurora v3 target (the new writer) and a MySQL source, both ROW, both gtid_mode ON,
    /// 24 h retention, the reverse account logs in with both privileges.
    static func facts(
        newVariables: [String: String] = [:], oldVariables: [String: String] = [:],
        retention: String?? = .some("24"), login: ReversePrerequisites.Login? = .loggedIn(grants: grantsBoth)
    ) -> ReversePrerequisites.Facts {
        var new = ["log_bin": "ON", "binlog_format": "ROW", "gtid_mode": "ON", "aurora_enable_repl_bin_log_filtering": "OFF"]
        var old = ["log_bin": "ON", "binlog_format": "ROW", "gtid_mode": "ON", "binlog_expire_logs_seconds": "2592000"]
        new.merge(newVariables) { $1 }
        old.merge(oldVariables) { $1 }
        let configuration: [ServerInspection.ConfigurationEntry]? =
            switch retention {
            case .none: nil
            case .some(let value): [ServerInspection.ConfigurationEntry(name: "binlog retention hours", value: value)]
            }
        return ReversePrerequisites.Facts(
            newWriter: .init(
                name: "target (aurora:3306)", binlog: .init(variables: new), rdsConfiguration: configuration),
            oldWriter: .init(name: "source (db1:3306)", binlog: .init(variables: old), rdsConfiguration: nil),
            account: "repl_reverse", endpoint: ServerEndpoint(host: "aurora", port: 3306),
            configurationSection: "replication.reverse", login: login)
    }

    func verdict(_ aspect: ReversePrerequisites.Aspect, _ facts: ReversePrerequisites.Facts) throws
        -> ReversePrerequisites.Verdict
    {
        let found = ReversePrerequisites.verdicts(facts).filter { $0.aspect == aspect }
        #expect(found.count == (aspect == .binlogFormat ? 2 : 1))
        return try #require(found.max { $0.status < $1.status })
    }

    @Test("a healthy pair passes everything, and the guards have nothing to refuse")
    func healthy() {
        let verdicts = ReversePrerequisites.verdicts(Self.facts())
        #expect(verdicts.map(\.aspect) == [.binaryLog, .binlogFormat, .binlogFormat, .gtidMode, .binlogRetention, .login])
        #expect(verdicts.allSatisfy { $0.status == .pass }, "\(verdicts)")
        #expect(ReversePrerequisites.blockingReasons(Self.facts()).isEmpty)
    }

    @Test(
        "binlog_format: ROW on both passes; anything else on either server fails, naming it",
        arguments: [
            ("ROW", "ROW", PreflightCheck.Status.pass, nil), ("MIXED", "ROW", .fail, "target"),
            ("ROW", "STATEMENT", .fail, "source"), ("STATEMENT", "MIXED", .fail, "both"),
        ] as [(String, String, PreflightCheck.Status, String?)])
    func binlogFormat(new: String, old: String, status: PreflightCheck.Status, failing: String?) throws {
        let facts = Self.facts(newVariables: ["binlog_format": new], oldVariables: ["binlog_format": old])
        let verdicts = ReversePrerequisites.binlogFormat(facts)
        #expect(verdicts.map(\.status).max() == status)
        let failed = verdicts.filter { $0.status == .fail }
        switch failing {
        case "target"?:
            #expect(failed.count == 1 && failed[0].detail.hasPrefix("target (aurora:3306) has binlog_format = MIXED"))
            // Aurora: the parameter group, not SET GLOBAL.
            #expect(failed[0].remedy?.contains("DB cluster parameter group") == true)
        case "source"?:
            #expect(failed.count == 1 && failed[0].detail.hasPrefix("source (db1:3306) has binlog_format = STATEMENT"))
            #expect(failed[0].remedy?.contains("SET PERSIST binlog_format = 'ROW'") == true)
            #expect(failed[0].detail.contains("applies again after a failback"))
        case "both"?:
            #expect(failed.count == 2)
        default:
            #expect(failed.isEmpty)
        }
        let reasons = ReversePrerequisites.blockingReasons(facts).filter { $0.check == "reverse.binlog-format" }
        #expect(reasons.count == failed.count)
    }

    @Test(
        "gtid_mode: every pair, compatible both ways or refused with the direction that breaks",
        arguments: [
            ("ON", "ON", PreflightCheck.Status.pass), ("OFF", "OFF", .pass), ("ON", "ON_PERMISSIVE", .pass),
            ("ON_PERMISSIVE", "OFF_PERMISSIVE", .pass), ("OFF_PERMISSIVE", "OFF", .pass),
            ("ON_PERMISSIVE", "ON_PERMISSIVE", .pass),
            // The new writer writes GTID transactions, a replica with OFF refuses them (and vice versa).
            ("ON", "OFF", .fail), ("OFF", "ON", .fail), ("ON_PERMISSIVE", "OFF", .fail), ("OFF", "ON_PERMISSIVE", .fail),
            ("OFF_PERMISSIVE", "ON", .fail), ("ON", "OFF_PERMISSIVE", .fail),
        ] as [(String, String, PreflightCheck.Status)])
    func gtidModes(new: String, old: String, status: PreflightCheck.Status) throws {
        let facts = Self.facts(newVariables: ["gtid_mode": new], oldVariables: ["gtid_mode": old])
        let verdict = try self.verdict(.gtidMode, facts)
        #expect(verdict.status == status, "\(verdict)")
        guard status == .fail else { return }
        // The explanation names the mode that refuses and what it refuses (not "it will use file and position").
        #expect(verdict.detail.contains("refuses"))
        #expect(!verdict.detail.contains("file and position"))
        #expect(verdict.remedy?.contains("one step at a time") == true)
        #expect(verdict.blockingReason?.check == "reverse.gtid-mode")
    }

    @Test("gtid_mode: the reverse direction's failure says it comes after the point of no return")
    func gtidReverseExplanation() throws {
        let verdict = try self.verdict(.gtidMode, Self.facts(newVariables: ["gtid_mode": "OFF"], oldVariables: ["gtid_mode": "ON"]))
        #expect(
            verdict.detail.contains(
                "after the switch source (db1:3306) replicates from target (aurora:3306), which writes anonymous "
                    + "transactions (gtid_mode OFF), and a replica with gtid_mode = ON refuses anonymous transactions"))
        #expect(verdict.detail.contains("forward replication cannot run either"))
    }

    @Test("gtid_mode: MariaDB on both is not applicable; MariaDB with MySQL warns")
    func gtidMariaDB() throws {
        var facts = Self.facts()
        facts.newWriter.binlog = .init(variables: ["log_bin": "ON", "binlog_format": "ROW"])
        facts.oldWriter.binlog = .init(variables: ["log_bin": "ON", "binlog_format": "ROW"])
        #expect(try self.verdict(.gtidMode, facts).status == .pass)
        #expect(try self.verdict(.gtidMode, facts).detail.hasPrefix("not applicable"))
        facts.oldWriter.binlog = .init(variables: ["log_bin": "ON", "binlog_format": "ROW", "gtid_mode": "ON"])
        #expect(try self.verdict(.gtidMode, facts).status == .warn)
    }

    @Test(
        "binlog retention hours on RDS and Aurora: NULL, 0, too short fail; long enough passes",
        arguments: [
            (nil, PreflightCheck.Status.fail), ("NULL", .fail), ("0", .fail), ("1", .fail), ("23", .fail),
            ("24", .pass), ("168", .pass), ("3000", .warn),
        ] as [(String?, PreflightCheck.Status)])
    func rdsRetention(value: String?, status: PreflightCheck.Status) throws {
        let verdict = try self.verdict(.binlogRetention, Self.facts(retention: .some(value)))
        #expect(verdict.status == status, "\(verdict)")
        if status != .pass {
            #expect(verdict.remedy?.contains("CALL mysql.rds_set_configuration('binlog retention hours', 24)") == true)
        }
        if status == .fail {
            #expect(verdict.detail.contains("error 1236"))
            #expect(verdict.blockingReason?.check == "reverse.binlog-retention")
        }
    }

    @Test("binlog retention: a longer minimum raises the bar")
    func retentionMinimum() throws {
        let verdict = ReversePrerequisites.binlogRetention(Self.facts(retention: .some("24")).newWriter, minimumHours: 72)
        #expect(verdict.status == .fail)
        #expect(verdict.remedy?.contains("'binlog retention hours', 72)") == true)
    }

    @Test(
        "binlog retention of a self-managed new writer (a failback onto the source): expiry in seconds or days",
        arguments: [
            (["binlog_expire_logs_seconds": "0", "expire_logs_days": "0"], PreflightCheck.Status.pass),
            (["binlog_expire_logs_seconds": "0", "expire_logs_days": "0.000000"], .pass),
            (["binlog_expire_logs_seconds": "2592000"], .pass), (["binlog_expire_logs_seconds": "3600"], .fail),
            (["binlog_expire_logs_seconds": "0", "expire_logs_days": "7"], .pass),
            (["binlog_expire_logs_seconds": "0", "expire_logs_days": "0.5"], .fail), ([:], .warn),
        ] as [([String: String], PreflightCheck.Status)])
    func selfManagedRetention(variables: [String: String], status: PreflightCheck.Status) throws {
        var facts = Self.facts(retention: .none)
        facts.newWriter.binlog = .init(variables: ["log_bin": "ON", "binlog_format": "ROW"].merging(variables) { $1 })
        let verdict = try self.verdict(.binlogRetention, facts)
        #expect(verdict.status == status, "\(verdict)")
        if status == .fail { #expect(verdict.remedy?.contains("binlog_expire_logs_seconds = 86400") == true) }
    }

    @Test("the new writer without a binary log fails")
    func binaryLogOff() throws {
        let verdict = try self.verdict(.binaryLog, Self.facts(newVariables: ["log_bin": "OFF"]))
        #expect(verdict.status == .fail)
        #expect(verdict.blockingReason?.check == "reverse.binary-log")
    }

    @Test(
        "the reverse account's login: ok, refused, without REPLICATION SLAVE or CLIENT, host not allowed, unreachable",
        arguments: [
            (ReversePrerequisites.Login.loggedIn(grants: grantsBoth), PreflightCheck.Status.pass, nil),
            (.loggedIn(grants: [.init(privileges: ["ALL PRIVILEGES"], target: "*.*")]), .pass, nil),
            // MariaDB 10.5+ shows REPLICATION CLIENT as BINLOG MONITOR.
            (.loggedIn(grants: [.init(privileges: ["REPLICATION SLAVE", "BINLOG MONITOR"], target: "*.*")]), .pass, nil),
            (.loggedIn(grants: [.init(privileges: ["REPLICATION CLIENT"], target: "*.*")]), .fail, "REPLICATION SLAVE"),
            (.loggedIn(grants: [.init(privileges: ["REPLICATION SLAVE"], target: "app.*")]), .fail, "REPLICATION SLAVE"),
            (.loggedIn(grants: [.init(privileges: ["REPLICATION SLAVE"], target: "*.*")]), .warn, "REPLICATION CLIENT"),
            (.failed(errorNumber: 1045, message: "Access denied for user 'repl_reverse'"), .fail, "error 1045"),
            (.failed(errorNumber: 3159, message: "insecure transport prohibited"), .fail, "error 3159"),
            (.failed(errorNumber: 1130, message: "Host 'tool' is not allowed"), .warn, "cannot be judged from here"),
            (.failed(errorNumber: 2003, message: "Can't connect"), .warn, "could not be reached from this host"),
            (.notProbed(reason: "no password"), .warn, "not probed"),
        ] as [(ReversePrerequisites.Login, PreflightCheck.Status, String?)])
    func login(login: ReversePrerequisites.Login, status: PreflightCheck.Status, mentions: String?) throws {
        let verdict = try self.verdict(.login, Self.facts(login: login))
        #expect(verdict.status == status, "\(verdict)")
        if let mentions { #expect(verdict.detail.contains(mentions), "\(verdict.detail)") }
        if status == .fail {
            #expect(verdict.blockingReason?.check == "reverse.login")
            #expect(verdict.remedy?.isEmpty == false)
        }
        // The password never appears: the facts do not even hold it.
        #expect(!verdict.description.contains("secret"))
    }

    @Test("no login probe (test doubles): no login verdict at all")
    func noProbe() {
        #expect(!ReversePrerequisites.verdicts(Self.facts(login: nil)).contains { $0.aspect == .login })
    }
}

/// The guards' side (issue #13 item 5 inside the pure guards of #17): the facts as the executor read them, the
/// verdicts as the switch sees them.
@Suite("Switch guards: reverse replication prerequisites (#13)")
struct ReversePrerequisiteGuardVerdictsTests {
    static func verdicts(_ reading: GuardReading<ReversePrerequisites.Facts?>?) -> CutoverGuards.Verdicts {
        var facts = CutoverGuardsTests.clearCutover()
        facts.reversePrerequisites = reading
        return CutoverGuardsTests.evaluate(facts)
    }

    @Test("clear facts, or databases that do not report them (test doubles): nothing refused, nothing noted")
    func clear() {
        for reading in [nil, .read(nil), .read(ReversePrerequisitesTests.facts())] as [GuardReading<ReversePrerequisites.Facts?>?] {
            let verdicts = Self.verdicts(reading)
            #expect(verdicts.blockingReasons == [])
            #expect(!verdicts.notes.contains { $0.contains("reverse.") })
        }
    }

    @Test("a failing prerequisite refuses with its check and remedy; a warning is a note; nothing is journaled")
    func refusedAndNoted() {
        let facts = ReversePrerequisitesTests.facts(
            retention: .some(nil), login: .failed(errorNumber: 2003, message: "Can't connect"))
        let verdicts = Self.verdicts(.read(facts))
        #expect(CutoverGuardsTests.checks(verdicts) == ["reverse.binlog-retention"])
        #expect(verdicts.blockingReasons.first?.remedy.contains("rds_set_configuration") == true)
        #expect(verdicts.notes.contains { $0.hasPrefix("guards: reverse.login: ") && $0.contains("could not be reached") })
        #expect(verdicts.variablesToSnapshot.isEmpty)
    }

    @Test("facts that could not be read refuse the switch (reverse.facts)")
    func unreadable() {
        let verdicts = Self.verdicts(.unreadable("cannot read the binary-log settings of aurora or source: 1227"))
        #expect(CutoverGuardsTests.checks(verdicts) == ["reverse.facts"])
    }

    @Test("a reader switch is not checked")
    func readerSwitch() {
        var facts = CutoverGuardsTests.clearCutover()
        facts.operation = .readerCutover
        facts.reversePrerequisites = .unreadable("not read")
        #expect(CutoverGuards.reversePrerequisiteVerdicts(facts).reasons.isEmpty)
    }
}
