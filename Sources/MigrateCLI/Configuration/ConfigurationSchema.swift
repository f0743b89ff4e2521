import Cutover
import Foundation

/// A configuration field's dotted name, such as `policy.drain-deadline` or `proxysql.nodes.proxysql-1.host`.
struct ConfigurationKey: Hashable, Comparable, CustomStringConvertible, Sendable {
    var segments: [String]

    init(_ segments: [String]) { self.segments = segments }

    init(_ dotted: String) { self.segments = dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }

    var description: String { segments.joined(separator: ".") }

    /// The environment variable that sets this field: `MIGRATE_` + the name in upper case, `.` and `-` as `_`.
    var environmentName: String {
        "MIGRATE_" + description.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 }.map(String.init).joined()
    }

    func appending(_ segment: String) -> ConfigurationKey { ConfigurationKey(segments + [segment]) }

    static func < (lhs: ConfigurationKey, rhs: ConfigurationKey) -> Bool { lhs.description < rhs.description }
}

/// What kind of value a field holds; decides how its text is read and checked.
enum ConfigurationValueKind: Sendable, Equatable {
    case text
    /// A host name or IP address.
    case host
    /// A TCP port, 1–65535.
    case port
    /// A ProxySQL hostgroup number, ≥ 0.
    case hostgroup
    /// A human duration (`500ms`, `2s`, `1m`).
    case duration
    case bool
    case choice([String])
    /// A file path; relative paths in the file are relative to the file's directory.
    case path
    /// The name of an environment variable.
    case environmentVariable
    /// A list of names (YAML sequence, or comma-separated in an environment variable or flag).
    case list
    case integer(ClosedRange<Int>)

    var typeName: String {
        switch self {
        case .text: "text"
        case .host: "host"
        case .port: "port"
        case .hostgroup: "hostgroup"
        case .duration: "duration"
        case .bool: "true|false"
        case .choice(let values): values.joined(separator: "|")
        case .path: "path"
        case .environmentVariable: "variable name"
        case .list: "list"
        case .integer(let range): "integer \(range.lowerBound)–\(range.upperBound)"
        }
    }
}

/// One field of the configuration: its name pattern (`*` stands for a ProxySQL node's name), kind, default and a
/// one-line summary. The schema is the single source for parsing, "did you mean", environment variable names and
/// `migrate-cli config keys`.
struct ConfigurationField: Sendable {
    var pattern: [String]
    var kind: ConfigurationValueKind
    /// The default as written in the file, or a phrase (`source.host`) when it derives from another field.
    var defaultValue: String?
    var summary: String

    var name: String { pattern.joined(separator: ".").replacingOccurrences(of: "*", with: "<name>") }

    func matches(_ key: ConfigurationKey) -> Bool {
        guard key.segments.count == pattern.count else { return false }
        return zip(pattern, key.segments).allSatisfy { $0 == "*" || $0 == $1 }
    }
}

enum ConfigurationSchema {
    /// Credential and connection fields shared by every endpoint that the CLI connects to.
    private static func accountFields(_ prefix: [String], who: String, defaultPort: Int?) -> [ConfigurationField] {
        var fields: [ConfigurationField] = []
        if let defaultPort {
            fields += [
                ConfigurationField(pattern: prefix + ["host"], kind: .host, summary: "host name or IP address of \(who) (not `localhost`: use 127.0.0.1)"),
                ConfigurationField(pattern: prefix + ["port"], kind: .port, defaultValue: "\(defaultPort)", summary: "TCP port of \(who)"),
            ]
        }
        fields += [
            ConfigurationField(pattern: prefix + ["user"], kind: .text, summary: "account the CLI logs in to \(who) with"),
            ConfigurationField(pattern: prefix + ["password-env"], kind: .environmentVariable, summary: "environment variable that holds the password"),
            ConfigurationField(pattern: prefix + ["password-file"], kind: .path, summary: "file that holds the password (first line; not readable by others)"),
            ConfigurationField(pattern: prefix + ["login-path"], kind: .text, summary: "login path in ~/.mylogin.cnf (mysql_config_editor) with user and password"),
            ConfigurationField(pattern: prefix + ["login-path-file"], kind: .path, defaultValue: "~/.mylogin.cnf", summary: "login-path file to read instead of the default"),
            ConfigurationField(pattern: prefix + ["option-file"], kind: .path, summary: "MySQL option file read at connect time (password in [client] or option-group)"),
            ConfigurationField(pattern: prefix + ["option-group"], kind: .text, defaultValue: "client", summary: "group of option-file to read"),
            ConfigurationField(pattern: prefix + ["tls", "mode"], kind: .choice(TLSMode.allCases.map(\.rawValue)), defaultValue: "disabled", summary: "TLS to \(who)"),
            ConfigurationField(pattern: prefix + ["tls", "ca-file"], kind: .path, summary: "PEM file of the certificate authorities to trust"),
            ConfigurationField(pattern: prefix + ["tls", "cert-file"], kind: .path, summary: "PEM client certificate"),
            ConfigurationField(pattern: prefix + ["tls", "key-file"], kind: .path, summary: "PEM client key"),
            ConfigurationField(pattern: prefix + ["connect-timeout"], kind: .duration, defaultValue: "5s", summary: "bound on connecting to \(who)"),
        ]
        return fields
    }

    private static func rowFields(_ role: String, _ kind: String, hostgroupDefault: String, addressDefault: String) -> [ConfigurationField] {
        let prefix = ["proxysql", "rows", role, kind]
        return [
            ConfigurationField(pattern: prefix + ["hostgroup"], kind: .hostgroup, defaultValue: hostgroupDefault, summary: "hostgroup_id of the \(role) \(kind) row in mysql_servers"),
            ConfigurationField(pattern: prefix + ["host"], kind: .host, defaultValue: addressDefault + ".host", summary: "hostname of the \(role) \(kind) row, as ProxySQL reaches it"),
            ConfigurationField(pattern: prefix + ["port"], kind: .port, defaultValue: addressDefault + ".port", summary: "port of the \(role) \(kind) row"),
        ]
    }

    private static func replicationFields(_ direction: String, reaches: String, defaultAddress: String) -> [ConfigurationField] {
        let prefix = ["replication", direction]
        return [
            ConfigurationField(pattern: prefix + ["host"], kind: .host, defaultValue: defaultAddress + ".host", summary: "address \(reaches) (as seen from the replica)"),
            ConfigurationField(pattern: prefix + ["port"], kind: .port, defaultValue: defaultAddress + ".port", summary: "port \(reaches)"),
            ConfigurationField(pattern: prefix + ["user"], kind: .text, summary: "replication account"),
            ConfigurationField(pattern: prefix + ["password-env"], kind: .environmentVariable, summary: "environment variable that holds the replication password"),
            ConfigurationField(pattern: prefix + ["password-file"], kind: .path, summary: "file that holds the replication password"),
            ConfigurationField(pattern: prefix + ["tls"], kind: .choice(ReplicationTLS.allCases.map(\.rawValue)), defaultValue: "required", summary: "encrypt the replication the run sets up (MASTER_SSL / the procedures' ssl_encryption); `disabled` only on a trusted network"),
        ]
    }

    /// The canary account's fields (`canary.host`, `canary.port` 6033, `canary.user`, its password source, TLS).
    static var canaryAccountFields: [ConfigurationField] {
        accountFields(["canary"], who: "ProxySQL's data port as the canary account", defaultPort: 6033)
    }

    static let fields: [ConfigurationField] = {
        var fields: [ConfigurationField] = [
            ConfigurationField(pattern: ["version"], kind: .integer(1...1), defaultValue: "1", summary: "format version of this file"),
        ]
        fields += accountFields(["source"], who: "the source (the live MySQL primary)", defaultPort: 3306)
        fields += [
            ConfigurationField(pattern: ["source", "reader", "host"], kind: .host, summary: "the source's read endpoint (a replica), if reads are routed there"),
            ConfigurationField(pattern: ["source", "reader", "port"], kind: .port, defaultValue: "3306", summary: "port of the source's read endpoint"),
            ConfigurationField(pattern: ["target", "writer", "host"], kind: .host, summary: "Aurora cluster (writer) endpoint"),
            ConfigurationField(pattern: ["target", "writer", "port"], kind: .port, defaultValue: "3306", summary: "port of the Aurora writer endpoint"),
            ConfigurationField(pattern: ["target", "reader", "host"], kind: .host, summary: "Aurora reader endpoint, if reads are routed"),
            ConfigurationField(pattern: ["target", "reader", "port"], kind: .port, defaultValue: "3306", summary: "port of the Aurora reader endpoint"),
        ]
        fields += accountFields(["target"], who: "the target (Aurora)", defaultPort: nil)
        fields += [
            ConfigurationField(pattern: ["proxysql", "hostgroups", "writer"], kind: .hostgroup, defaultValue: "10", summary: "writer hostgroup"),
            ConfigurationField(pattern: ["proxysql", "hostgroups", "reader"], kind: .hostgroup, defaultValue: "11", summary: "reader hostgroup"),
        ]
        fields += accountFields(["proxysql", "nodes", "*"], who: "this ProxySQL node's admin interface", defaultPort: 6032)
        fields += rowFields("source", "writer", hostgroupDefault: "proxysql.hostgroups.writer", addressDefault: "source")
        fields += rowFields("source", "reader", hostgroupDefault: "proxysql.hostgroups.reader", addressDefault: "source.reader")
        fields += rowFields("target", "writer", hostgroupDefault: "proxysql.hostgroups.writer", addressDefault: "target.writer")
        fields += rowFields("target", "reader", hostgroupDefault: "proxysql.hostgroups.reader", addressDefault: "target.reader")
        fields += replicationFields("forward", reaches: "at which Aurora reaches the source", defaultAddress: "source")
        fields += replicationFields("reverse", reaches: "at which the source reaches Aurora", defaultAddress: "target.writer")
        fields += [
            ConfigurationField(pattern: ["replication", "reverse", "filter"], kind: .choice(ReverseReplicationFilter.allCases.map(\.rawValue)), defaultValue: "rds-tables", summary: "what reverse replication ignores: Aurora's mysql.rds_* tables, or the whole mysql schema"),
        ]
        let policy = ["policy"]
        let defaults = PolicyDefaults.self
        fields += [
            ConfigurationField(pattern: policy + ["lag-budget"], kind: .duration, defaultValue: defaults.lagBudget, summary: "largest replication lag the guards accept (a refusal threshold; the settle keeps the window short)"),
            ConfigurationField(pattern: policy + ["drain-deadline"], kind: .duration, defaultValue: defaults.drainDeadline, summary: "how long in-flight transactions may take to drain after OFFLINE_SOFT"),
            ConfigurationField(pattern: policy + ["drain-poll-interval"], kind: .duration, defaultValue: defaults.drainPollInterval, summary: "how often ConnUsed is polled while draining"),
            ConfigurationField(pattern: policy + ["drain-deadline-policy"], kind: .choice(["roll-back", "force"]), defaultValue: "roll-back", summary: "at the drain deadline: put the old writer back, or cut the sessions that hold it"),
            ConfigurationField(pattern: policy + ["catch-up-deadline"], kind: .duration, defaultValue: defaults.catchUpDeadline, summary: "how long the new writer may take to execute the final position"),
            ConfigurationField(pattern: policy + ["fence-old-writer"], kind: .bool, defaultValue: "true", summary: "make the old writer read-only after OFFLINE_HARD (not possible on Aurora)"),
            ConfigurationField(pattern: policy + ["fence-timeout"], kind: .duration, defaultValue: defaults.fenceTimeout, summary: "bound on setting the fence"),
            ConfigurationField(pattern: policy + ["disable-query-retries"], kind: .bool, defaultValue: "true", summary: "turn ProxySQL's query retry off for the window (no double writes)"),
            ConfigurationField(pattern: policy + ["auto-increment-pin"], kind: .choice(["auto", "keep", "relax"]), defaultValue: "auto", summary: "relax mysql-auto_increment_delay_multiplex for the window (auto: only when stats_mysql_query_digest shows no LAST_INSERT_ID())"),
            ConfigurationField(pattern: policy + ["pinned-sessions"], kind: .choice(["cut", "wait"]), defaultValue: "cut", summary: "sessions held on the old writer only by an idle pin (auto-increment, @ variable, lock): cut at OFFLINE_HARD, or wait for them until the drain deadline"),
            ConfigurationField(pattern: policy + ["auto-increment-pin-settle"], kind: .duration, defaultValue: defaults.autoIncrementPinSettle, summary: "with relax: at most this long before OFFLINE_SOFT for pins taken earlier to run out (0 skips; at most 10s)"),
            ConfigurationField(pattern: policy + ["replication-settle-threshold"], kind: .duration, defaultValue: defaults.replicationSettleThreshold, summary: "writer switch: the window opens once one wait on the new writer for the old one's current position takes at most this (0 skips the settle)"),
            ConfigurationField(pattern: policy + ["replication-settle-deadline"], kind: .duration, defaultValue: defaults.replicationSettleDeadline, summary: "bound on that settle before OFFLINE_SOFT; not settled by then: roll back with the measured lag (0 skips the settle)"),
            ConfigurationField(pattern: policy + ["shunned-writer-watch"], kind: .duration, defaultValue: defaults.shunnedWriterWatch, summary: "writer switch, after the new writer's ONLINE (outside the window): watch ProxySQL for it being SHUNNED by failed connects, and re-load where it is once a login to it succeeds (up to 3s once it is seen SHUNNED; 0 skips the watch)"),
            ConfigurationField(pattern: policy + ["shunned-writer-reloads"], kind: .integer(0...10), defaultValue: "\(CutoverPolicy().shunnedWriterReloads)", summary: "at most this many re-LOADs (rows unchanged) for a SHUNNED new writer per switch (0: watch and report only)"),
            ConfigurationField(pattern: policy + ["long-transaction-limit"], kind: .duration, defaultValue: defaults.longTransactionLimit, summary: "write transactions older than this on the old writer block the guards"),
            ConfigurationField(pattern: policy + ["admin-statement-timeout"], kind: .duration, defaultValue: defaults.adminStatementTimeout, summary: "bound on one admin statement per ProxySQL node"),
            ConfigurationField(pattern: policy + ["replication-step-timeout"], kind: .duration, defaultValue: defaults.replicationStepTimeout, summary: "bound on replication steps off the critical path (Aurora procedures sleep)"),
            ConfigurationField(pattern: ["journal", "path"], kind: .path, defaultValue: "migrate-journal.jsonl", summary: "the run journal (JSON Lines): audit trail and what `resume` reads"),
            ConfigurationField(pattern: ["application", "users"], kind: .list, defaultValue: "[] (every ProxySQL user)", summary: "application accounts whose ProxySQL routing the guards judge (every client session on the old writer is closed at OFFLINE_HARD whatever its account)"),
        ]
        fields += CanarySettings.schemaFields
        fields += SwitchSettings.schemaFields
        return fields
    }()

    /// The field `key` names, if any.
    static func field(for key: ConfigurationKey) -> ConfigurationField? {
        fields.first { $0.matches(key) }
    }

    /// Whether `path` is a section that holds fields (`source`, `source.tls`, `proxysql.nodes.p1`).
    static func isSection(_ path: [String]) -> Bool {
        fields.contains { field in
            field.pattern.count > path.count
                && zip(field.pattern, path).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    /// Whether the segment below `path` is a free name (a ProxySQL node).
    static func takesNames(_ path: [String]) -> Bool {
        fields.contains { field in
            field.pattern.count > path.count && field.pattern[path.count] == "*"
                && zip(field.pattern, path).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    /// Every concrete key that `key` could have meant, with node names taken from `key` where a pattern has `*`.
    private static func candidates(near key: ConfigurationKey) -> [String] {
        var result: Set<String> = []
        for field in fields {
            var segments = field.pattern
            for index in segments.indices where segments[index] == "*" {
                segments[index] = index < key.segments.count ? key.segments[index] : "<name>"
            }
            // Also offer the sections on the way, so a misspelt section is matched at its own depth.
            for depth in 1...segments.count {
                result.insert(segments.prefix(depth).joined(separator: "."))
            }
        }
        return Array(result)
    }

    /// The closest known name to `key` (at most a few edits away), for "did you mean".
    static func suggestion(for key: ConfigurationKey) -> String? {
        let target = key.description
        let candidates = candidates(near: key).filter { $0.split(separator: ".").count == key.segments.count }
        let scored = candidates.map { ($0, EditDistance.between(target, $0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best = scored.first else { return nil }
        let limit = max(2, key.segments.last.map { $0.count / 3 } ?? 2)
        return best.1 <= limit ? best.0 : nil
    }

    /// The closest known environment variable to `name`, for "did you mean".
    static func environmentSuggestion(for name: String, nodeNames: [String]) -> String? {
        var known: [String] = []
        for field in fields {
            if field.pattern.contains("*") {
                for node in nodeNames.isEmpty ? ["<NAME>"] : nodeNames {
                    known.append(ConfigurationKey(field.pattern.map { $0 == "*" ? node : $0 }).environmentName)
                }
            } else {
                known.append(ConfigurationKey(field.pattern).environmentName)
            }
        }
        let scored = known.map { ($0, EditDistance.between(name, $0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best = scored.first, best.1 <= max(2, name.count / 6) else { return nil }
        return best.0
    }
}

/// Default policy values in the file's spelling, taken from `CutoverPolicy()` so they cannot drift.
enum PolicyDefaults {
    private static let policy = CutoverPolicy()
    static let lagBudget = HumanDuration.format(policy.lagBudget)
    static let drainDeadline = HumanDuration.format(policy.drainDeadline)
    static let drainPollInterval = HumanDuration.format(policy.drainPollInterval)
    static let catchUpDeadline = HumanDuration.format(policy.catchUpDeadline)
    static let fenceTimeout = HumanDuration.format(policy.fenceTimeout)
    static let autoIncrementPinSettle = HumanDuration.format(policy.autoIncrementPinSettle)
    static let replicationSettleThreshold = HumanDuration.format(policy.replicationSettleThreshold)
    static let replicationSettleDeadline = HumanDuration.format(policy.replicationSettleDeadline)
    static let shunnedWriterWatch = HumanDuration.format(policy.shunnedWriterWatch)
    static let longTransactionLimit = HumanDuration.format(policy.longTransactionLimit)
    static let adminStatementTimeout = HumanDuration.format(policy.adminStatementTimeout)
    static let replicationStepTimeout = HumanDuration.format(policy.replicationStepTimeout)
}

/// Levenshtein distance, for suggestions.
enum EditDistance {
    static func between(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs.lowercased()), b = Array(rhs.lowercased())
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
