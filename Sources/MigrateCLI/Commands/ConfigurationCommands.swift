import ArgumentParser
import Cutover
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented example configuration to edit.",
        discussion: """
            Writes ./migrate.yaml (or --output FILE): every section explained, passwords referenced by environment \
            variable, never written in the file. Refuses to overwrite an existing file unless --force.

            Changes: creates one file. Undo: delete it.

            Examples:
              migrate-cli init
              migrate-cli init --output /etc/migrate/migrate.yaml
              $EDITOR migrate.yaml && migrate-cli config check
            """
    )

    @Option(name: [.short, .long], help: ArgumentHelp("Where to write the file.", valueName: "file"))
    var output: String = ConfigurationLoader.defaultFileName

    @Flag(help: "Overwrite an existing file.")
    var force = false

    @Flag(name: .long, help: "Print a JSON line describing what was written.")
    var json = false

    func run() async throws {
        let options = try GlobalOptions.parse(json ? ["--json"] : [])
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let path = absolute(output, relativeTo: FileManager.default.currentDirectoryPath)
            try Self.write(to: path, force: force)
            if json {
                runtime.write(JSONValue.object([("event", "written"), ("path", .string(path))]).serialized + "\n")
            } else {
                runtime.write("Wrote \(path).\nNext: edit it, export the password variables it names, then run `migrate-cli config check`.\n")
            }
            return .success
        }
    }

    /// Writes the example configuration to `path`.
    ///
    /// - Throws: ``ConfigurationError`` (``ConfigurationError/Code/fileExists``) when the file exists and `force`
    ///   is false; nothing is written then.
    static func write(to path: String, force: Bool) throws {
        if FileManager.default.fileExists(atPath: path), !force {
            throw ConfigurationError(code: .fileExists, field: path, "exists already; pass --force to overwrite it (nothing was written)")
        }
        do {
            try Data(ExampleConfiguration.text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ConfigurationError(code: .fileUnreadable, field: path, "cannot write: \(error.localizedDescription)")
        }
    }
}

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Validate the configuration, show it, list its fields.",
        subcommands: [ConfigCheckCommand.self, ConfigShowCommand.self, ConfigKeysCommand.self]
    )
}

struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and read every password source; connect to nothing.",
        discussion: """
            Reads the file, the MIGRATE_* environment and --set flags, checks every field (each problem names its \
            field), builds the topology, and reads each password from where the configuration says it is (printing \
            none). Use `migrate-cli preflight` to check the servers themselves.

            Changes nothing. Exit 0 when usable, 78 otherwise.

            Examples:
              migrate-cli config check
              migrate-cli config check --config /etc/migrate/migrate.yaml --set policy.drain-deadline=300ms
            """
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let environment = try runtime.commandEnvironment()
            let endpoints = try environment.connections.checkAllSecrets()
            var report = ConfigurationReport.connections(environment.configuration, endpoints: endpoints.map(\.0))
            report.command = "config check"
            report.notes.append("configuration is valid; every password source is readable (topology \(environment.configuration.topology.fingerprint))")
            runtime.emit(report)
            return .success
        }
    }
}

struct ConfigShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the effective configuration and where each value came from.",
        discussion: """
            Every field after merging the file, the environment and --set, with its origin (file:line, environment \
            variable, --set, default), the ProxySQL rows derived from it, and each endpoint's account and password \
            source. Passwords are never read nor printed here.

            Examples:
              migrate-cli config show
              MIGRATE_POLICY_DRAIN_DEADLINE=300ms migrate-cli config show --json
            """
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            let configuration = try runtime.loadConfiguration()
            runtime.emit(ConfigurationReport.show(configuration))
            return .success
        }
    }
}

struct ConfigKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List every configuration field with its environment variable, type and default.",
        discussion: """
            <name> stands for a ProxySQL node's name: proxysql.nodes.proxysql-1.host is set by \
            MIGRATE_PROXYSQL_NODES_PROXYSQL_1_HOST (upper case, `-` and `.` as `_`).
            """
    )

    @Flag(name: .long, help: "One JSON object per field.")
    var json = false

    func run() async throws {
        let options = try GlobalOptions.parse(json ? ["--json"] : [])
        let runtime = CommandRuntime(options: options)
        try await runtime.run {
            runtime.emit(ConfigurationReport.keys())
            return .success
        }
    }
}

/// Configuration views as ``CommandReport``s.
enum ConfigurationReport {
    static func keys() -> CommandReport {
        let rows = ConfigurationSchema.fields.map { field in
            [field.name, ConfigurationKey(field.pattern.map { $0 == "*" ? "<NAME>" : $0 }).environmentName, field.kind.typeName, field.defaultValue ?? "", field.summary]
        }
        return CommandReport(command: "config keys", sections: [.init(title: "Configuration fields", headers: ["key", "environment", "type", "default", "meaning"], rows: rows)])
    }

    static func show(_ configuration: MigrateConfiguration) -> CommandReport {
        var rows: [[String]] = []
        for field in ConfigurationSchema.fields where !field.pattern.contains("*") {
            let key = ConfigurationKey(field.pattern)
            if let value = configuration.values[key] {
                rows.append([key.description, value.text, value.origin.description])
            } else if let value = field.defaultValue, showsDefault(key, field, configuration) {
                rows.append([key.description, value, "default"])
            }
        }
        for node in configuration.proxyNodes {
            for field in ConfigurationSchema.fields where field.pattern.contains("*") {
                let key = ConfigurationKey(field.pattern.map { $0 == "*" ? node.name : $0 })
                if let value = configuration.values[key] {
                    rows.append([key.description, value.text, value.origin.description])
                }
            }
        }
        let topology = configuration.topology
        var routing: [[String]] = [
            ["source writer", "\(topology.source.writer)"],
            ["target writer", "\(topology.target.writer)"],
        ]
        if let reader = topology.source.reader { routing.append(["source reader", "\(reader)"]) }
        if let reader = topology.target.reader { routing.append(["target reader", "\(reader)"]) }
        routing.append(["forward replication", "\(configuration.forwardReplication.user)@\(topology.sourceReplicationEndpoint) (Aurora → source)"])
        routing.append(["reverse replication", "\(configuration.reverseReplication.user)@\(topology.targetReplicationEndpoint) (source → Aurora), filter \(configuration.reverseReplicationFilter.rawValue)"])
        routing.append(["journal", configuration.journalPath])
        routing.append(["topology fingerprint", topology.fingerprint])
        var report = connections(configuration, endpoints: nil)
        report.command = "config show"
        report.sections.insert(.init(title: "Routing (hostgroup/host:port in mysql_servers)", headers: ["role", "row"], rows: routing), at: 0)
        report.sections.insert(.init(title: "Effective configuration", headers: ["key", "value", "origin"], rows: rows), at: 0)
        if let path = configuration.filePath { report.notes.append("read from \(path)") }
        return report
    }

    /// Whether an unset field's default is worth showing: not for options of an unused feature (option-group
    /// without option-file, a reader that is not configured) nor for defaults that derive from other fields.
    private static func showsDefault(_ key: ConfigurationKey, _ field: ConfigurationField, _ configuration: MigrateConfiguration) -> Bool {
        let last = key.segments.last ?? ""
        if ["option-group", "login-path-file"].contains(last) { return false }
        if key.segments.first == "proxysql", key.segments.dropFirst().first == "rows" { return false }
        if key.description.hasPrefix("source.reader."), configuration.sourceReader == nil { return false }
        if key.description.hasPrefix("target.reader."), configuration.targetReader == nil { return false }
        if key.segments.first == "replication", ["host", "port"].contains(last) { return false }
        return true
    }

    static func connections(_ configuration: MigrateConfiguration, endpoints: [EndpointName]?) -> CommandReport {
        func row(_ name: String, _ address: Address, _ account: AccountSettings, quoting: String) -> [String] {
            ["\(name)", "\(account.user ?? "(from login path)")@\(address)", account.credentials.description, account.tls.mode.rawValue, quoting]
        }
        var rows: [[String]] = [row("source", configuration.source, configuration.sourceAccount, quoting: "mysql")]
        if let reader = configuration.sourceReader { rows.append(row("source.reader", reader, configuration.sourceAccount, quoting: "mysql")) }
        rows.append(row("target.writer", configuration.targetWriter, configuration.targetAccount, quoting: "mysql"))
        if let reader = configuration.targetReader { rows.append(row("target.reader", reader, configuration.targetAccount, quoting: "mysql")) }
        for node in configuration.proxyNodes {
            rows.append(row("proxysql.nodes.\(node.name)", node.address, node.account, quoting: "proxysql-admin"))
        }
        if let endpoints {
            let names = Set(endpoints.map(\.description))
            rows = rows.filter { names.contains($0[0]) }
        }
        for (account, direction) in [(configuration.forwardReplication, "forward"), (configuration.reverseReplication, "reverse")] {
            rows.append(["replication.\(direction)", "\(account.user)@\(account.address)", account.credentials.description, account.tls == .required ? "required" : "disabled", "-"])
        }
        return CommandReport(command: "config", sections: [
            .init(title: "Accounts (passwords are never shown)", headers: ["endpoint", "account", "password", "tls", "quoting"], rows: rows),
        ])
    }
}
