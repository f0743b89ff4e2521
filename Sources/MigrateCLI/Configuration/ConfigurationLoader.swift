import Cutover
import Foundation
import ProxySQLAdmin

/// Reads the configuration from its three sources and validates it: the YAML file, `MIGRATE_*` environment
/// variables, and `--set key=value` flags (flag > environment > file > default).
///
/// Every problem found is reported at once, each naming its field; loading reads files only and never connects.
struct ConfigurationLoader: Sendable {
    /// The file read when neither `--config` nor `MIGRATE_CONFIG` names one.
    static let defaultFileName = "migrate.yaml"

    var environment: [String: String]
    var assignments: [String]
    var currentDirectory: String

    init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        assignments: [String] = [],
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.environment = environment
        self.assignments = assignments
        self.currentDirectory = currentDirectory
    }

    /// The configuration file to read: `explicit` (`--config`), else `$MIGRATE_CONFIG`, else `migrate.yaml` in the
    /// current directory. `isExplicit` is false for the last one, which may be absent.
    func filePath(explicit: String?) -> (path: String, isExplicit: Bool) {
        if let explicit { return (absolute(explicit, relativeTo: currentDirectory), true) }
        if let fromEnvironment = environment["MIGRATE_CONFIG"], !fromEnvironment.isEmpty {
            return (absolute(fromEnvironment, relativeTo: currentDirectory), true)
        }
        return (absolute(Self.defaultFileName, relativeTo: currentDirectory), false)
    }

    /// Loads and validates.
    ///
    /// - Parameter explicit: the `--config` path, if given.
    /// - Throws: ``ConfigurationError`` listing every problem.
    func load(explicit: String?) throws(ConfigurationError) -> MigrateConfiguration {
        let (raw, filePath, issues) = try layers(explicit: explicit)
        var reader = FieldReader(raw: raw, environment: environment, currentDirectory: currentDirectory, filePath: filePath)
        reader.issues = issues
        let configuration = reader.build()
        guard let configuration, reader.issues.isEmpty else {
            throw ConfigurationError(code: .invalid, issues: reader.issues)
        }
        return configuration
    }

    /// The merged layers and the issues found while reading them (unknown keys, unknown variables).
    func layers(explicit: String?) throws(ConfigurationError) -> (RawConfiguration, String?, [ConfigurationIssue]) {
        let (path, isExplicit) = filePath(explicit: explicit)
        var issues: [ConfigurationIssue] = []
        var file = RawConfiguration()
        var readPath: String?
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(code: .fileUnreadable, field: path, "cannot read the file (check its permissions)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(code: .fileUnreadable, field: path, "the file is not UTF-8 text")
            }
            let parsed = try RawConfiguration.parse(yaml: text, path: path)
            file = parsed.0
            issues += parsed.1
            readPath = path
        }
        let (flags, flagIssues) = RawConfiguration.fromAssignments(assignments)
        let (environmentLayer, unknownVariables) = RawConfiguration.fromEnvironment(
            environment,
            knownNodes: file.nodeNames + flags.nodeNames
        )
        if readPath == nil {
            let reason = isExplicit ? "no such file" : "no configuration file (\(Self.defaultFileName) in this directory)"
            if isExplicit || (environmentLayer.values.isEmpty && flags.values.isEmpty) {
                throw ConfigurationError(
                    code: .fileUnreadable,
                    field: path,
                    "\(reason); write one with `migrate-cli init`, or name it with --config FILE or MIGRATE_CONFIG"
                )
            }
        }
        if let readPath, file.values.isEmpty, file.nodeNames.isEmpty, issues.isEmpty, environmentLayer.values.isEmpty,
            flags.values.isEmpty
        {
            throw ConfigurationError(
                code: .invalid, field: readPath,
                "the file is empty (nothing but comments or blank lines): write one with `migrate-cli init --force`")
        }
        let merged = file.overlaid(with: environmentLayer).overlaid(with: flags)
        let referenced = merged.referencedEnvironmentVariables
        let knownNodes = merged.nodeNames.map(NodeName.environmentSpelling)
        // A `…_PASSWORD` variable is never a field (passwords are not configuration values): it holds a password for
        // a `password-env` of this or another configuration (`migrate-cli init` suggests MIGRATE_SOURCE_PASSWORD),
        // so it is not "unknown" when this configuration reads that password from a file instead.
        for name in unknownVariables where !referenced.contains(name) && !name.hasSuffix("_PASSWORD") {
            let hint = ConfigurationSchema.environmentSuggestion(for: name, nodeNames: knownNodes).map { " (did you mean \($0)?)" } ?? ""
            issues.append(ConfigurationIssue(
                field: name,
                "unknown configuration variable\(hint); MIGRATE_* variables set configuration fields (see `migrate-cli config keys`)"
            ))
        }
        return (merged, readPath, issues + flagIssues)
    }
}

/// Turns `~/x` and relative paths into absolute ones.
func absolute(_ path: String, relativeTo directory: String, home: String? = ProcessInfo.processInfo.environment["HOME"]) -> String {
    var path = path
    if path == "~" || path.hasPrefix("~/"), let home { path = home + path.dropFirst() }
    if path.hasPrefix("/") { return (path as NSString).standardizingPath }
    return ((directory as NSString).appendingPathComponent(path) as NSString).standardizingPath
}

// MARK: - Typed reading and validation

/// Reads typed values out of the merged layers, recording an issue (with the field and origin) for each value
/// that does not parse, and builds the ``MigrateConfiguration``.
struct FieldReader {
    let raw: RawConfiguration
    let environment: [String: String]
    let currentDirectory: String
    let filePath: String?
    var issues: [ConfigurationIssue] = []

    init(raw: RawConfiguration, environment: [String: String], currentDirectory: String, filePath: String?) {
        self.raw = raw
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.filePath = filePath
    }

    // MARK: Primitive readers

    func has(_ key: String) -> Bool { raw[ConfigurationKey(key)] != nil }

    mutating func problem(_ key: String, _ message: String) {
        issues.append(ConfigurationIssue(field: key, message, origin: raw[ConfigurationKey(key)]?.origin))
    }

    private mutating func scalar(_ key: String) -> (String, ValueOrigin)? {
        guard let value = raw[ConfigurationKey(key)] else { return nil }
        let text = value.text.trimmingCharacters(in: .whitespaces)
        if text.isEmpty {
            problem(key, "is empty")
            return nil
        }
        return (text, value.origin)
    }

    mutating func text(_ key: String) -> String? { scalar(key)?.0 }

    mutating func host(_ key: String, connects: Bool) -> String? {
        guard let (text, _) = scalar(key) else { return nil }
        if text.contains("://") || text.contains("/") {
            problem(key, "'\(text)' is not a host name: write the host only (no scheme, no path)")
            return nil
        }
        if text.contains(where: \.isWhitespace) {
            problem(key, "'\(text)' is not a host name (it contains spaces)")
            return nil
        }
        if connects, text.lowercased() == "localhost" {
            problem(key, "`localhost` makes the client library use the Unix socket and ignore the port; write 127.0.0.1")
            return nil
        }
        return text
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>, what: String) -> Int? {
        guard let (text, _) = scalar(key) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            problem(key, "'\(text)' is not \(what) (\(range.lowerBound)–\(range.upperBound))")
            return nil
        }
        return value
    }

    mutating func port(_ key: String) -> Int? { integer(key, in: 1...65535, what: "a TCP port") }

    mutating func hostgroup(_ key: String) -> HostgroupID? {
        integer(key, in: 0...Int(Int32.max), what: "a hostgroup number").map { HostgroupID($0) }
    }

    mutating func duration(_ key: String, allowZero: Bool = false) -> Duration? {
        guard let (text, _) = scalar(key) else { return nil }
        guard let value = HumanDuration.parse(text) else {
            let hint = Double(text) != nil ? " (a unit is required: \(text)ms or \(text)s?)" : " (write for example 500ms, 2s or 1m)"
            problem(key, "'\(text)' is not a duration\(hint)")
            return nil
        }
        if value == .zero && !allowZero {
            problem(key, "must be longer than 0")
            return nil
        }
        return value
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let (text, _) = scalar(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problem(key, "'\(text)' is not true or false")
            return nil
        }
    }

    /// `required` or `disabled`; the booleans of the earlier spelling (`tls: true`) are read as those.
    mutating func replicationTLS(_ key: String) -> ReplicationTLS? {
        guard let (text, _) = scalar(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return .required
        case "false", "no", "off": return .disabled
        default: return choice(key, ReplicationTLS.self)
        }
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) -> T? where T.RawValue == String {
        guard let (text, _) = scalar(key) else { return nil }
        if let value = T(rawValue: text) { return value }
        let allowed = T.allCases.map(\.rawValue)
        let closest = allowed.min { EditDistance.between(text, $0) < EditDistance.between(text, $1) }
        let near = allowed.first { $0.hasPrefix(text.lowercased()) } ?? closest.flatMap { EditDistance.between(text, $0) <= 3 ? $0 : nil }
        let hint = near.map { " (did you mean \($0)?)" } ?? ""
        problem(key, "'\(text)' is not one of \(allowed.joined(separator: ", "))\(hint)")
        return nil
    }

    /// A path, made absolute: relative to the file's directory for values from the file, else to the current one.
    mutating func path(_ key: String) -> String? {
        guard let (text, origin) = scalar(key) else { return nil }
        let base: String
        if case .file(let file, _) = origin {
            base = (file as NSString).deletingLastPathComponent
        } else {
            base = currentDirectory
        }
        return absolute(text, relativeTo: base, home: environment["HOME"])
    }

    mutating func environmentVariable(_ key: String) -> String? {
        guard let (text, _) = scalar(key) else { return nil }
        let valid = text.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
            && text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        guard valid else {
            problem(key, "'\(text)' is not an environment variable name (letters, digits and _)")
            return nil
        }
        return text
    }

    mutating func list(_ key: String) -> [String]? {
        guard let value = raw[ConfigurationKey(key)] else { return nil }
        guard case .list(let items) = value.content else { return [value.text] }
        let trimmed = items.map { $0.trimmingCharacters(in: .whitespaces) }
        if trimmed.contains(where: \.isEmpty) {
            problem(key, "contains an empty name")
            return nil
        }
        if Set(trimmed).count != trimmed.count {
            problem(key, "names a user twice")
            return nil
        }
        return trimmed
    }

    // MARK: Composite readers

    mutating func account(_ prefix: String, needsUser: Bool = true) -> AccountSettings {
        let passwordEnvironment = environmentVariable("\(prefix).password-env")
        let passwordFile = path("\(prefix).password-file")
        let loginPath = text("\(prefix).login-path")
        let loginPathFile = path("\(prefix).login-path-file")
        let optionFile = path("\(prefix).option-file")
        let optionGroup = text("\(prefix).option-group")
        let sources = ["password-env", "password-file", "login-path", "option-file"].filter { has("\(prefix).\($0)") }
        if sources.count > 1 {
            problem("\(prefix).\(sources[1])", "choose one way to give the password: \(sources.map { "\(prefix).\($0)" }.joined(separator: " and ")) are both set")
        }
        if loginPathFile != nil && loginPath == nil && !has("\(prefix).login-path") {
            problem("\(prefix).login-path-file", "is set without \(prefix).login-path")
        }
        if optionGroup != nil && optionFile == nil && !has("\(prefix).option-file") {
            problem("\(prefix).option-group", "is set without \(prefix).option-file")
        }
        var credentials = CredentialSource.none
        if let passwordEnvironment {
            credentials = .environment(passwordEnvironment)
        } else if let passwordFile {
            credentials = .file(passwordFile)
        } else if let loginPath {
            credentials = .loginPath(name: loginPath, file: loginPathFile)
        } else if let optionFile {
            credentials = .optionFile(path: optionFile, group: optionGroup)
        }
        let user = text("\(prefix).user")
        if user == nil, !has("\(prefix).user"), needsUser, !has("\(prefix).login-path") {
            problem("\(prefix).user", "missing: the account the CLI logs in with (or a login-path that names one)")
        }
        var tls = TLSSettings()
        tls.mode = choice("\(prefix).tls.mode", TLSMode.self) ?? .disabled
        tls.certificateAuthorityFile = path("\(prefix).tls.ca-file")
        tls.certificateFile = path("\(prefix).tls.cert-file")
        tls.keyFile = path("\(prefix).tls.key-file")
        let files = ["ca-file", "cert-file", "key-file"].filter { has("\(prefix).tls.\($0)") }
        if tls.mode == .disabled, let first = files.first {
            problem("\(prefix).tls.\(first)", "is set but \(prefix).tls.mode is disabled (set it to required or verify-identity)")
        }
        if tls.mode == .verifyIdentity, !has("\(prefix).tls.ca-file") {
            problem("\(prefix).tls.ca-file", "missing: verify-identity needs the CA bundle (for Aurora: the RDS global bundle)")
        }
        if has("\(prefix).tls.cert-file") != has("\(prefix).tls.key-file") {
            problem("\(prefix).tls.\(has("\(prefix).tls.cert-file") ? "key-file" : "cert-file")", "a client certificate needs both cert-file and key-file")
        }
        let connectTimeout = duration("\(prefix).connect-timeout") ?? .seconds(5)
        return AccountSettings(user: user, credentials: credentials, tls: tls, connectTimeout: connectTimeout)
    }

    mutating func address(_ prefix: String, defaultPort: Int, connects: Bool, required: String?) -> Address? {
        let host = host("\(prefix).host", connects: connects)
        let port = port("\(prefix).port")
        if host == nil {
            if let required, !has("\(prefix).host") { problem("\(prefix).host", "missing: \(required)") }
            if has("\(prefix).port"), !has("\(prefix).host") { problem("\(prefix).host", "missing: \(prefix).port is set without a host") }
            return nil
        }
        if has("\(prefix).port"), port == nil { return nil }
        return Address(host: host!, port: port ?? defaultPort)
    }

    mutating func replication(_ direction: String, defaultAddress: Address?) -> ReplicationAccount? {
        let prefix = "replication.\(direction)"
        let host = host("\(prefix).host", connects: false) ?? defaultAddress?.host
        let port = port("\(prefix).port") ?? defaultAddress?.port
        let user = text("\(prefix).user")
        if user == nil, !has("\(prefix).user") {
            let what = direction == "forward" ? "Aurora replicates from the source with" : "the source replicates from Aurora with (reverse replication)"
            problem("\(prefix).user", "missing: the account \(what)")
        }
        let passwordEnvironment = environmentVariable("\(prefix).password-env")
        let passwordFile = path("\(prefix).password-file")
        if has("\(prefix).password-env") && has("\(prefix).password-file") {
            problem("\(prefix).password-file", "choose one: \(prefix).password-env and \(prefix).password-file are both set")
        } else if !has("\(prefix).password-env") && !has("\(prefix).password-file") {
            problem("\(prefix).password-env", "missing: set \(prefix).password-env or \(prefix).password-file (replication needs the account's password)")
        }
        let tls = replicationTLS("\(prefix).tls") ?? .required
        guard let host, let port, let user else { return nil }
        let credentials: CredentialSource = passwordEnvironment.map { .environment($0) } ?? passwordFile.map { .file($0) } ?? .none
        return ReplicationAccount(address: Address(host: host, port: port), user: user, credentials: credentials, tls: tls)
    }

    mutating func row(_ role: String, _ kind: String, hostgroup: HostgroupID?, address: Address?) -> BackendServer.Key? {
        let prefix = "proxysql.rows.\(role).\(kind)"
        let rowHostgroup = self.hostgroup("\(prefix).hostgroup") ?? hostgroup
        let host = host("\(prefix).host", connects: false) ?? address?.host
        let port = port("\(prefix).port") ?? address?.port
        guard let rowHostgroup, let host, let port else { return nil }
        return BackendServer.Key(hostgroup: rowHostgroup, host: host, port: port)
    }

    mutating func policy() -> CutoverPolicy {
        var policy = CutoverPolicy()
        if let value = duration("policy.lag-budget", allowZero: true) { policy.lagBudget = value }
        if let value = duration("policy.drain-deadline") { policy.drainDeadline = value }
        if let value = duration("policy.drain-poll-interval") { policy.drainPollInterval = value }
        if let value = text("policy.drain-deadline-policy") {
            if let parsed = DrainDeadlinePolicy(rawValue: value) {
                policy.drainDeadlinePolicy = parsed
            } else {
                problem("policy.drain-deadline-policy", "'\(value)' is not one of roll-back, force")
            }
        }
        if let value = duration("policy.catch-up-deadline") { policy.catchUpDeadline = value }
        if let value = bool("policy.fence-old-writer") { policy.fenceOldWriter = value }
        if let value = duration("policy.fence-timeout") { policy.fenceTimeout = value }
        if let value = bool("policy.disable-query-retries") { policy.disableQueryRetries = value }
        if let value = text("policy.auto-increment-pin") {
            if let parsed = AutoIncrementPinPolicy(rawValue: value) {
                policy.autoIncrementPin = parsed
            } else {
                problem("policy.auto-increment-pin", "'\(value)' is not one of auto, keep, relax")
            }
        }
        if let value = text("policy.pinned-sessions") {
            if let parsed = PinnedSessionPolicy(rawValue: value) {
                policy.pinnedSessions = parsed
            } else {
                problem("policy.pinned-sessions", "'\(value)' is not one of cut, wait")
            }
        }
        if let value = duration("policy.auto-increment-pin-settle", allowZero: true) {
            if value > .seconds(10) {
                problem(
                    "policy.auto-increment-pin-settle",
                    "\(HumanDuration.format(value)) is longer than 10s: a pin ends by itself after ProxySQL's "
                        + "mysql-auto_increment_delay_multiplex_timeout_ms (10s by default), and a longer settle only delays the switch"
                )
            } else {
                policy.autoIncrementPinSettle = value
            }
        }
        if let value = duration("policy.replication-settle-threshold", allowZero: true) {
            policy.replicationSettleThreshold = value
        }
        if let value = duration("policy.replication-settle-deadline", allowZero: true) {
            policy.replicationSettleDeadline = value
        }
        if let value = duration("policy.shunned-writer-watch", allowZero: true) {
            if value > .seconds(10) {
                problem(
                    "policy.shunned-writer-watch",
                    "\(HumanDuration.format(value)) is longer than 10s: ProxySQL tries a shunned writer again by itself "
                        + "1-2 s after its last error, so a longer watch only delays the rest of the switch"
                )
            } else {
                policy.shunnedWriterWatch = value
            }
        }
        if let value = integer("policy.shunned-writer-reloads", in: 0...10, what: "a number of re-LOADs") {
            policy.shunnedWriterReloads = value
        }
        if let value = duration("policy.long-transaction-limit") { policy.longTransactionLimit = value }
        if let value = duration("policy.admin-statement-timeout") { policy.adminStatementTimeout = value }
        if let value = duration("policy.replication-step-timeout") { policy.replicationStepTimeout = value }
        if policy.drainPollInterval >= policy.drainDeadline {
            problem(
                has("policy.drain-poll-interval") ? "policy.drain-poll-interval" : "policy.drain-deadline",
                "the poll interval (\(HumanDuration.format(policy.drainPollInterval))) must be shorter than the drain deadline (\(HumanDuration.format(policy.drainDeadline)))"
            )
        }
        return policy
    }

    // MARK: Build

    mutating func build() -> MigrateConfiguration? {
        _ = integer("version", in: 1...1, what: "a format version this build reads")

        let source = address("source", defaultPort: 3306, connects: true, required: "the source (the live MySQL primary) host")
        let sourceReader = address("source.reader", defaultPort: 3306, connects: true, required: nil)
        let sourceAccount = account("source")
        let targetWriter = address("target.writer", defaultPort: 3306, connects: true, required: "the Aurora cluster (writer) endpoint")
        let targetReader = address("target.reader", defaultPort: 3306, connects: true, required: nil)
        let targetAccount = account("target")

        let writerHostgroup = hostgroup("proxysql.hostgroups.writer") ?? (has("proxysql.hostgroups.writer") ? nil : 10)
        let readerHostgroup = hostgroup("proxysql.hostgroups.reader") ?? (has("proxysql.hostgroups.reader") ? nil : 11)
        if let writerHostgroup, let readerHostgroup, writerHostgroup == readerHostgroup {
            problem("proxysql.hostgroups.reader", "is the writer hostgroup too (\(writerHostgroup)); readers need their own hostgroup")
        }

        var nodes: [ProxyNodeSettings] = []
        let switchSettings = switchSettings()
        if raw.nodeNames.isEmpty, !hasSwitchSection {
            issues.append(ConfigurationIssue(field: "proxysql.nodes", "missing: at least one ProxySQL node (a name with host, port, user and password source), or, for applications that find the database without a proxy, a `switch` section (switch.cutover-command, switch.failback-command; see Documentation/configuration.md)"))
        }
        for name in raw.nodeNames {
            let prefix = "proxysql.nodes.\(name)"
            let address = address(prefix, defaultPort: 6032, connects: true, required: "the admin interface's host of ProxySQL node \(name)")
            let account = account(prefix)
            if let address { nodes.append(ProxyNodeSettings(name: name, address: address, account: account)) }
        }

        let sourceWriterRow = row("source", "writer", hostgroup: writerHostgroup, address: source)
        let targetWriterRow = row("target", "writer", hostgroup: writerHostgroup, address: targetWriter)
        let routesReaders = targetReader != nil || has("proxysql.rows.target.reader.host")
        var sourceReaderRow: BackendServer.Key?
        var targetReaderRow: BackendServer.Key?
        if routesReaders {
            sourceReaderRow = row("source", "reader", hostgroup: readerHostgroup, address: sourceReader ?? source)
            targetReaderRow = row("target", "reader", hostgroup: readerHostgroup, address: targetReader)
        } else {
            for key in ["source.reader.host", "proxysql.rows.source.reader.host"] where has(key) {
                problem(key, "a source reader is set but no target reader: set target.reader.host (the Aurora reader endpoint) too, or remove \(key)")
            }
        }

        let forward = replication("forward", defaultAddress: source)
        let reverse = replication("reverse", defaultAddress: targetWriter)
        let filter = choice("replication.reverse.filter", ReverseReplicationFilter.self) ?? .rdsTables
        let policy = policy()
        let journalPath = path("journal.path")
            ?? absolute("migrate-journal.jsonl", relativeTo: filePath.map { ($0 as NSString).deletingLastPathComponent } ?? currentDirectory)
        let applicationUsers = list("application.users") ?? []
        let canary = canary(proxyNodes: nodes)

        guard issues.isEmpty, let source, let targetWriter, let sourceWriterRow, let targetWriterRow, let forward,
            let reverse, let writerHostgroup, let readerHostgroup
        else { return nil }

        let topology = CutoverTopology(
            source: CutoverTopology.Routing(writer: sourceWriterRow, reader: sourceReaderRow),
            target: CutoverTopology.Routing(writer: targetWriterRow, reader: targetReaderRow),
            proxyNodes: nodes.map(\.name),
            sourceReplicationEndpoint: forward.address.endpoint,
            targetReplicationEndpoint: reverse.address.endpoint,
            forwardReplicationUser: forward.user,
            reverseReplicationUser: reverse.user,
            applicationUsers: applicationUsers,
            forwardReplicationTLS: forward.tls,
            reverseReplicationTLS: reverse.tls
        )
        // Without ProxySQL (a `switch` section) the topology has no node: its rows only name the writers.
        for problem in topology.problems where !(hasSwitchSection && topology.proxyNodes.isEmpty && problem.hasPrefix("proxysql: at least one node")) {
            issues.append(ConfigurationIssue(field: Self.field(ofTopologyProblem: problem), problem))
        }
        guard issues.isEmpty else { return nil }
        return MigrateConfiguration(
            source: source,
            sourceReader: sourceReader,
            sourceAccount: sourceAccount,
            targetWriter: targetWriter,
            targetReader: targetReader,
            targetAccount: targetAccount,
            proxyNodes: nodes,
            writerHostgroup: writerHostgroup,
            readerHostgroup: readerHostgroup,
            forwardReplication: forward,
            reverseReplication: reverse,
            reverseReplicationFilter: filter,
            policy: policy,
            journalPath: journalPath,
            applicationUsers: applicationUsers,
            topology: topology,
            filePath: filePath,
            values: raw.values,
            canary: canary,
            switchSettings: switchSettings
        )
    }

    /// The configuration field a `CutoverTopology.problems` line is about.
    static func field(ofTopologyProblem problem: String) -> String {
        for (prefix, field) in [
            ("source.writer", "proxysql.rows.source.writer"), ("target.writer", "proxysql.rows.target.writer"),
            ("source.reader", "proxysql.rows.source.reader"), ("target.reader", "proxysql.rows.target.reader"),
            ("proxysql", "proxysql.nodes"), ("source.replication", "replication.forward.host"),
            ("target.replication", "replication.reverse.host"), ("replication.forward", "replication.forward.user"),
            ("replication.reverse", "replication.reverse.user"),
        ] where problem.hasPrefix(prefix) {
            return field
        }
        return "proxysql.rows"
    }
}
