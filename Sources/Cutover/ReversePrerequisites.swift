public import ProxySQLAdmin
public import ReplicationControl

/// What the replication a writer switch starts after its point of no return needs, decided **before** the switch
/// (issue #13 item 5): facts read from both servers in, verdicts with a severity and a remedy out. Pure: no I/O.
///
/// After a writer switch the old writer replicates from the new one (reverse replication after a cut-over; forward
/// replication again after a failback). That step runs after the point of no return: a prerequisite found missing
/// there leaves the new writer serving with no way back. So the guards of `cutover writers` / `failback writers` and
/// `migrate-cli preflight` check these facts first, and a `fail` verdict refuses the switch (nothing changed):
///
/// - the new writer writes a binary log (``Aspect/binaryLog``);
/// - `binlog_format = ROW` on both servers (``Aspect/binlogFormat``);
/// - `gtid_mode` values that can replicate both ways (``Aspect/gtidMode``);
/// - the new writer keeps its binary logs long enough (``Aspect/binlogRetention``): Aurora's and RDS's
///   `binlog retention hours`, a self-managed server's `binlog_expire_logs_seconds` / `expire_logs_days`;
/// - the replication account logs in to the new writer with `REPLICATION SLAVE` (``Aspect/login``), probed by a
///   real login with the configured password.
///
/// See `Documentation/adr/0017-reverse-replication-prerequisites-are-guards.md`.
public enum ReversePrerequisites {
    /// One prerequisite.
    public enum Aspect: String, Sendable, Hashable, Codable, CaseIterable {
        /// The new writer writes a binary log (`log_bin`).
        case binaryLog = "binary-log"
        /// `binlog_format = ROW` on both servers.
        case binlogFormat = "binlog-format"
        /// `gtid_mode` compatible both ways.
        case gtidMode = "gtid-mode"
        /// The new writer's binary logs kept long enough.
        case binlogRetention = "binlog-retention"
        /// The replication account logs in to the new writer, with the privileges a replica needs.
        case login
        /// TLS, when the replication is configured to require it, is offered by the new writer (`have_ssl`).
        case tls

        /// The check of a guard's ``BlockingReason`` (`reverse.binlog-format`).
        public var check: String { "reverse.\(rawValue)" }
    }

    /// What was read from one server.
    public struct ServerFacts: Sendable, Hashable, Codable {
        /// The server's name in messages (`target (aurora.example:3306)`).
        public var name: String
        /// Its binary-log and GTID variables.
        public var binlog: ServerInspection.BinlogSettings
        /// The rows of `CALL mysql.rds_show_configuration`, nil when the server has no such procedure (not RDS or
        /// Aurora: its binary logs expire by `binlog_expire_logs_seconds` / `expire_logs_days`).
        public var rdsConfiguration: [ServerInspection.ConfigurationEntry]?

        /// Creates facts.
        public init(
            name: String, binlog: ServerInspection.BinlogSettings,
            rdsConfiguration: [ServerInspection.ConfigurationEntry]?
        ) {
            self.name = name
            self.binlog = binlog
            self.rdsConfiguration = rdsConfiguration
        }

        /// Whether the server is RDS or Aurora (its settings live in a parameter group).
        public var isManaged: Bool { rdsConfiguration != nil || binlog.auroraBinlogReplicationFiltering != nil }
    }

    /// The outcome of a login with the replication account to the new writer, made from the host the tool runs on.
    public enum Login: Sendable, Hashable, Codable {
        /// The login worked; `grants` are what `SHOW GRANTS` listed for the account.
        case loggedIn(grants: [ServerInspection.Grant])
        /// The server refused the account: wrong password (1045), a missing or locked account, an expired password,
        /// TLS demanded or refused (3159, 2026), an authentication plugin the replica cannot use.
        case refused(errorNumber: UInt32?, message: String)
        /// The server refuses connections from this host for that user (1130): the account may well admit the old
        /// writer's address, which cannot be judged from here.
        case hostNotAllowed(message: String)
        /// The endpoint could not be reached from this host (a network path only the old writer has, a firewall).
        case unreachable(message: String)
        /// No login was tried (no password configured).
        case notProbed(reason: String)

        /// Sorts a failed login by its error number: which numbers are a refusal (blocking), which only mean "not
        /// from here".
        public static func failed(errorNumber: UInt32?, message: String) -> Login {
            switch errorNumber {
            case 1130?:
                return .hostNotAllowed(message: message)
            case 1044?, 1045?, 1251?, 1698?, 1820?, 1862?, 2026?, 2059?, 3118?, 3159?, 4151?:
                return .refused(errorNumber: errorNumber, message: message)
            default:
                return .unreachable(message: message)
            }
        }
    }

    /// Everything the verdicts are made from.
    public struct Facts: Sendable, Hashable, Codable {
        /// The new writer: the server the old writer replicates from after the switch.
        public var newWriter: ServerFacts
        /// The old writer: it becomes that replica.
        public var oldWriter: ServerFacts
        /// The replication account the old writer logs in with (`replication.reverse.user` for a cut-over,
        /// `replication.forward.user` for a failback).
        public var account: String
        /// Where the old writer reaches the new one (`replication.reverse.host`/`port` for a cut-over).
        public var endpoint: ServerEndpoint
        /// The configuration section of that replication (`replication.reverse`), for remedies.
        public var configurationSection: String
        /// The login probe's outcome; nil when no probe was made (no verdict then).
        public var login: Login?
        /// The configured TLS setting of that replication (`replication.reverse.tls` for a cut-over); nil when not
        /// known (no verdict then). See ``tls(_:)``.
        public var tls: ReplicationTLS? = nil

        /// Creates facts.
        public init(
            newWriter: ServerFacts, oldWriter: ServerFacts, account: String, endpoint: ServerEndpoint,
            configurationSection: String, login: Login?
        ) {
            self.newWriter = newWriter
            self.oldWriter = oldWriter
            self.account = account
            self.endpoint = endpoint
            self.configurationSection = configurationSection
            self.login = login
        }
    }

    /// The verdict on one prerequisite (one server's, for ``Aspect/binlogFormat``).
    public struct Verdict: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Which prerequisite.
        public var aspect: Aspect
        /// `pass`, `warn` (cannot be judged, or does not break replication) or `fail` (refuses the switch).
        public var status: PreflightCheck.Status
        /// What was found and why it matters.
        public var detail: String
        /// What to do; nil for a pass.
        public var remedy: String?

        /// Creates a verdict.
        public init(aspect: Aspect, status: PreflightCheck.Status, detail: String, remedy: String? = nil) {
            self.aspect = aspect
            self.status = status
            self.detail = detail
            self.remedy = remedy
        }

        /// The guard's refusal for a `fail`, nil otherwise.
        public var blockingReason: BlockingReason? {
            guard status == .fail else { return nil }
            return BlockingReason(check: aspect.check, message: detail, remedy: remedy ?? "")
        }

        /// `fail reverse.binlog-format: … — remedy`.
        public var description: String {
            "\(status) \(aspect.check): \(detail)" + (remedy.map { " — \($0)" } ?? "")
        }
    }

    /// The shortest binary-log retention accepted by default, in hours: a day, so that a reverse channel paused by a
    /// night's incident can still resume.
    public static let defaultMinimumRetentionHours = 24

    /// Every verdict, in ``Aspect`` order.
    ///
    /// - Parameter minimumRetentionHours: retention under this fails.
    public static func verdicts(_ facts: Facts, minimumRetentionHours: Int = defaultMinimumRetentionHours)
        -> [Verdict]
    {
        var verdicts = [binaryLog(facts.newWriter)]
        verdicts += binlogFormat(facts)
        verdicts.append(gtidMode(new: facts.newWriter, old: facts.oldWriter))
        verdicts.append(binlogRetention(facts.newWriter, minimumHours: minimumRetentionHours))
        if let login = facts.login { verdicts.append(self.login(login, facts: facts)) }
        if let tls = tls(facts) { verdicts.append(tls) }
        return verdicts
    }

    /// The guard's refusals: the `fail` verdicts.
    public static func blockingReasons(_ facts: Facts, minimumRetentionHours: Int = defaultMinimumRetentionHours)
        -> [BlockingReason]
    {
        verdicts(facts, minimumRetentionHours: minimumRetentionHours).compactMap(\.blockingReason)
    }

    // MARK: Binary log

    /// The new writer must write a binary log: the old writer replicates from it.
    public static func binaryLog(_ new: ServerFacts) -> Verdict {
        switch new.binlog.binaryLogEnabled {
        case true?:
            return Verdict(aspect: .binaryLog, status: .pass, detail: "\(new.name): log_bin ON")
        case false?:
            return Verdict(
                aspect: .binaryLog, status: .fail,
                detail: "\(new.name) writes no binary log (log_bin OFF): after the switch the old writer would have "
                    + "nothing to replicate from, and the way back would be lost",
                remedy: new.isManaged
                    ? "turn the binary log on: binlog_format = ROW in the DB cluster parameter group (Aurora) or the "
                        + "DB parameter group and automated backups (RDS), then reboot the writer; run preflight again"
                    : "turn the binary log on: log_bin (log-bin = mysql-bin) and a unique server_id in my.cnf, then "
                        + "restart \(new.name); run preflight again")
        case nil:
            return Verdict(
                aspect: .binaryLog, status: .warn, detail: "\(new.name): log_bin could not be read",
                remedy: "SHOW GLOBAL VARIABLES LIKE 'log_bin' on \(new.name)")
        }
    }

    // MARK: binlog_format

    /// `binlog_format` must be ROW on both: the new writer's binary log is what the old writer applies after the
    /// switch, and the old writer's is what the new one applied until now (and applies again after a failback).
    public static func binlogFormat(_ facts: Facts) -> [Verdict] {
        [(facts.newWriter, true), (facts.oldWriter, false)].map { server, isNew in
            guard let format = server.binlog.binlogFormat else {
                return Verdict(
                    aspect: .binlogFormat, status: .warn, detail: "\(server.name): binlog_format could not be read",
                    remedy: "SHOW GLOBAL VARIABLES LIKE 'binlog_format' on \(server.name)")
            }
            guard format != "ROW" else {
                return Verdict(aspect: .binlogFormat, status: .pass, detail: "\(server.name): binlog_format ROW")
            }
            let role =
                isNew
                ? "its binary log is what the old writer applies after the switch"
                : "its binary log is what the new writer has applied until now, and applies again after a failback"
            let remedy =
                server.isManaged
                ? "set binlog_format = ROW in \(server.name)'s DB cluster parameter group (Aurora) or DB parameter "
                    + "group (RDS) and reboot the writer instance; run preflight again"
                : "on \(server.name): SET PERSIST binlog_format = 'ROW' (MySQL) or SET GLOBAL binlog_format = 'ROW' "
                    + "and binlog_format = ROW in my.cnf (MariaDB); sessions already open keep their format, so "
                    + "reconnect the application (and ProxySQL's backend connections) before the switch"
            return Verdict(
                aspect: .binlogFormat, status: .fail,
                detail: "\(server.name) has binlog_format = \(format), not ROW: \(role); in \(format) format a "
                    + "statement that is not deterministic (UUID(), LIMIT without ORDER BY, a trigger or default "
                    + "reading the clock) can write other rows on the replica, a divergence no error reports",
                remedy: remedy)
        }
    }

    // MARK: gtid_mode

    /// MySQL's `gtid_mode`, and what a server in each mode writes and accepts as a replica.
    enum GTIDMode: String, CaseIterable {
        case off = "OFF"
        case offPermissive = "OFF_PERMISSIVE"
        case onPermissive = "ON_PERMISSIVE"
        case on = "ON"

        /// Its own new transactions carry GTIDs (ON_PERMISSIVE, ON); otherwise they are anonymous.
        var writesGTIDs: Bool { self == .onPermissive || self == .on }

        /// As a replica, whether it applies what a source in `source` mode writes: OFF refuses GTID transactions,
        /// ON refuses anonymous ones; the two permissive modes take both.
        func canReplicate(from source: GTIDMode) -> Bool {
            source.writesGTIDs ? self != .off : self != .on
        }
    }

    /// `gtid_mode` must let each server replicate from the other: OFF and OFF_PERMISSIVE write anonymous
    /// transactions, ON and ON_PERMISSIVE write GTID transactions; a replica in ON refuses anonymous transactions and
    /// one in OFF refuses GTID transactions (its receiver thread does not even start). MariaDB has no `gtid_mode`
    /// (its GTIDs are always on).
    public static func gtidMode(new: ServerFacts, old: ServerFacts) -> Verdict {
        let newText = new.binlog.gtidMode
        let oldText = old.binlog.gtidMode
        guard let newText, let oldText else {
            if newText == nil && oldText == nil {
                return Verdict(
                    aspect: .gtidMode, status: .pass,
                    detail: "not applicable: neither server has gtid_mode (MariaDB: GTIDs always on)")
            }
            return Verdict(
                aspect: .gtidMode, status: .warn,
                detail: "only one server has gtid_mode (\(new.name): \(newText ?? "none"), \(old.name): "
                    + "\(oldText ?? "none")): MariaDB and MySQL replicate with each other by file and position only",
                remedy: "rehearse the cut-over and the failback between these two kinds of server first "
                    + "(migrate-cli rehearse)")
        }
        guard let newMode = GTIDMode(rawValue: newText), let oldMode = GTIDMode(rawValue: oldText) else {
            return Verdict(
                aspect: .gtidMode, status: .warn,
                detail: "gtid_mode \(new.name): \(newText), \(old.name): \(oldText): a value this tool does not know",
                remedy: "check gtid_mode on both servers (OFF, OFF_PERMISSIVE, ON_PERMISSIVE or ON)")
        }
        let pair = "gtid_mode: \(old.name) \(oldText), \(new.name) \(newText)"
        var broken: [String] = []
        func writes(_ mode: GTIDMode) -> String { mode.writesGTIDs ? "GTID transactions" : "anonymous transactions" }
        func refuses(_ mode: GTIDMode) -> String {
            mode == .on ? "a replica with gtid_mode = ON refuses anonymous transactions"
                : "a replica with gtid_mode = OFF refuses GTID transactions"
        }
        if !oldMode.canReplicate(from: newMode) {
            broken.append(
                "after the switch \(old.name) replicates from \(new.name), which writes \(writes(newMode)) "
                    + "(gtid_mode \(newText)), and \(refuses(oldMode)): its receiver thread stops at once, after the "
                    + "point of no return, with no way back")
        }
        if !newMode.canReplicate(from: oldMode) {
            broken.append(
                "\(new.name) replicates from \(old.name), which writes \(writes(oldMode)) (gtid_mode \(oldText)), and "
                    + "\(refuses(newMode)): forward replication cannot run either")
        }
        guard broken.isEmpty else {
            return Verdict(
                aspect: .gtidMode, status: .fail,
                detail: pair + ": " + broken.joined(separator: "; "),
                remedy: "give both servers gtid_mode values that replicate both ways: the same value (ON, with "
                    + "enforce_gtid_consistency = ON, for GTID replication), or neighbours (OFF with OFF_PERMISSIVE, "
                    + "OFF_PERMISSIVE with ON_PERMISSIVE, ON_PERMISSIVE with ON). gtid_mode moves one step at a time "
                    + "(OFF, OFF_PERMISSIVE, ON_PERMISSIVE, ON): SET PERSIST gtid_mode = … on MySQL; on Aurora in the "
                    + "DB cluster parameter group, then reboot. Then run preflight again")
        }
        return Verdict(aspect: .gtidMode, status: .pass, detail: pair + ": compatible both ways")
    }

    // MARK: Retention

    /// The new writer must keep its binary logs while the old writer may still need them: a reverse channel paused
    /// for a while (a network cut, a restart) must find the next event when it resumes.
    public static func binlogRetention(_ new: ServerFacts, minimumHours: Int) -> Verdict {
        let minimum = max(1, minimumHours)
        if let entries = new.rdsConfiguration {
            let remedy =
                "on \(new.name): CALL mysql.rds_set_configuration('binlog retention hours', \(max(minimum, 24))); "
                + "run preflight again (after the migration: `migrate-cli finish` lists setting it back)"
            guard
                let entry = entries.first(where: {
                    $0.name.lowercased() == ServerInspection.ConfigurationEntry.binlogRetentionHours
                })
            else {
                return Verdict(
                    aspect: .binlogRetention, status: .warn,
                    detail: "\(new.name): rds_show_configuration lists no 'binlog retention hours'", remedy: remedy)
            }
            let lost =
                "a reverse channel that pauses (a network cut, a restart of the old writer) may find the binary "
                + "logs it needs purged (error 1236), and the way back lost"
            guard let text = entry.value?.filter({ !$0.isWhitespace }), text.uppercased() != "NULL" else {
                return Verdict(
                    aspect: .binlogRetention, status: .fail,
                    detail: "\(new.name): binlog retention hours is NULL: RDS and Aurora then purge binary logs as "
                        + "soon as they can; " + lost,
                    remedy: remedy)
            }
            guard let hours = Int(text), hours > 0 else {
                return Verdict(
                    aspect: .binlogRetention, status: .fail,
                    detail: "\(new.name): binlog retention hours is \(text), not a number of hours: " + lost,
                    remedy: remedy)
            }
            if hours < minimum {
                return Verdict(
                    aspect: .binlogRetention, status: .fail,
                    detail: "\(new.name): binlog retention hours is \(hours), under \(minimum): " + lost,
                    remedy: remedy)
            }
            if hours > 2160 {
                return Verdict(
                    aspect: .binlogRetention, status: .warn,
                    detail: "\(new.name): binlog retention hours is \(hours), over Aurora's maximum of 2160",
                    remedy: remedy)
            }
            return Verdict(aspect: .binlogRetention, status: .pass, detail: "\(new.name): binlog retention hours = \(hours)")
        }
        let seconds = new.binlog["binlog_expire_logs_seconds"].flatMap { Int($0) }
        let days = new.binlog["expire_logs_days"].flatMap { Double($0) }
        guard seconds != nil || days != nil else {
            return Verdict(
                aspect: .binlogRetention, status: .warn,
                detail: "\(new.name): neither binlog_expire_logs_seconds nor expire_logs_days could be read",
                remedy: "SHOW GLOBAL VARIABLES LIKE '%expire_logs%' on \(new.name)")
        }
        let effective: Int
        let setting: String
        if let seconds, seconds > 0 {
            (effective, setting) = (seconds, "binlog_expire_logs_seconds = \(seconds)")
        } else if let days, days > 0 {
            (effective, setting) = (Int(days * 86_400), "expire_logs_days = \(new.binlog["expire_logs_days"] ?? "")")
        } else {
            return Verdict(
                aspect: .binlogRetention, status: .pass,
                detail: "\(new.name): binary logs never expire by themselves (binlog_expire_logs_seconds and "
                    + "expire_logs_days are 0)")
        }
        guard effective >= minimum * 3600 else {
            return Verdict(
                aspect: .binlogRetention, status: .fail,
                detail: "\(new.name) expires its binary logs after \(effective) s (\(setting)), under \(minimum) h: "
                    + "a reverse channel paused longer cannot resume (error 1236), and the way back is lost",
                remedy: "on \(new.name): SET PERSIST binlog_expire_logs_seconds = \(minimum * 3600) (MySQL), or SET "
                    + "GLOBAL binlog_expire_logs_seconds = \(minimum * 3600) and the same line in my.cnf (MariaDB); "
                    + "run preflight again")
        }
        return Verdict(aspect: .binlogRetention, status: .pass, detail: "\(new.name): \(setting)")
    }

    // MARK: Login

    /// The replication account must log in to the new writer and hold `REPLICATION SLAVE` (what a replica's
    /// receiver thread needs). `REPLICATION CLIENT` is not needed by the replica itself: missing, it warns.
    public static func login(_ login: Login, facts: Facts) -> Verdict {
        let user = "'\(facts.account)'"
        let at = serverName(facts.newWriter.name, replicationEndpoint: facts.endpoint)
        let section = facts.configurationSection
        switch login {
        case .loggedIn(let grants):
            let slave = ServerInspection.Grant.grantsGlobally("REPLICATION SLAVE", in: grants)
            let client = ServerInspection.Grant.grantsGlobally("REPLICATION CLIENT", in: grants)
            if !slave {
                return Verdict(
                    aspect: .login, status: .fail,
                    detail: "\(user) logs in to \(at) but lacks REPLICATION SLAVE on *.*: the old writer's receiver "
                        + "thread would be refused (error 1227) after the point of no return",
                    remedy: "on \(facts.newWriter.name): GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO "
                        + "\(user)@'%' (or the account's host pattern); run preflight again")
            }
            if !client {
                return Verdict(
                    aspect: .login, status: .warn,
                    detail: "\(user) logs in to \(at) with REPLICATION SLAVE but not REPLICATION CLIENT (a replica "
                        + "does not need it; RDS's documentation asks for it)",
                    remedy: "on \(facts.newWriter.name): GRANT REPLICATION CLIENT ON *.* TO \(user)@'%'")
            }
            return Verdict(
                aspect: .login, status: .pass,
                detail: "\(user) logs in to \(at) (from this host) with REPLICATION SLAVE and REPLICATION CLIENT")
        case .refused(let number, let message):
            let code = number.map { "error \($0)" } ?? "an error"
            return Verdict(
                aspect: .login, status: .fail,
                detail: "\(at) refused the login of \(user) with the configured password: \(code) (\(message)); "
                    + "after the switch the old writer's replica would be refused the same way, after the point of "
                    + "no return",
                remedy: "check \(section).user and its password (\(section).password-file or the variable), and the "
                    + "account on \(facts.newWriter.name) (CREATE USER / ALTER USER \(user)@'%' IDENTIFIED BY '…'; "
                    + "not locked, password not expired); for a TLS error set \(section).tls to what the server "
                    + "demands; run preflight again")
        case .hostNotAllowed(let message):
            return notJudgedFromHere(
                facts,
                detail: "\(at) does not let \(user) connect from this host (\(message)); whether it admits the old "
                    + "writer's address cannot be judged from here")
        case .unreachable(let message):
            return notJudgedFromHere(
                facts,
                detail: "\(facts.endpoint) could not be reached from this host to probe \(user)'s login "
                    + "(\(message)); the old writer may have a network path this host lacks")
        case .notProbed(let reason):
            return Verdict(
                aspect: .login, status: .warn, detail: "\(user)'s login to \(at) was not probed: \(reason)",
                remedy: "set \(section).password-file (or its variable), then run preflight again")
        }
    }

    /// A login this host could not judge (a host pattern that excludes it, no network path): a warning whose remedy
    /// is the same check, run from the old writer's host.
    private static func notJudgedFromHere(_ facts: Facts, detail: String) -> Verdict {
        Verdict(
            aspect: .login, status: .warn, detail: detail,
            remedy: "from the old writer's host: mysql -h \(facts.endpoint.host) -P \(facts.endpoint.port) -u "
                + "\(facts.account) -p -e 'SHOW GRANTS' (it must list REPLICATION SLAVE)")
    }
}
