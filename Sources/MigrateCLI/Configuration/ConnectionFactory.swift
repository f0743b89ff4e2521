import Foundation
import MariaDB

/// A password read from its source. Prints as `<redacted>` everywhere (`description`, `debugDescription`,
/// `dump`, string interpolation); ``reveal()`` hands it to the client library and nowhere else.
struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    init(_ value: String) { self.value = value }

    /// The password, for a connection configuration only.
    func reveal() -> String { value }

    var description: String { "<redacted>" }
    var debugDescription: String { "Secret(<redacted>)" }
    var customMirror: Mirror { Mirror(self, children: ["value": "<redacted>"], displayStyle: .struct) }
}

/// An endpoint the CLI can connect to, named as in the configuration.
enum EndpointName: Sendable, Hashable, CustomStringConvertible {
    case source
    case sourceReader
    case targetWriter
    case targetReader
    case proxyNode(String)
    /// The canary account at a ProxySQL data port (only when the canary is on).
    case canary

    /// The configuration section that describes it.
    var description: String {
        switch self {
        case .source: "source"
        case .sourceReader: "source.reader"
        case .targetWriter: "target.writer"
        case .targetReader: "target.reader"
        case .proxyNode(let name): "proxysql.nodes.\(name)"
        case .canary: "canary"
        }
    }
}

/// Reads a login path (`~/.mylogin.cnf`) into a connection configuration: the `MariaDB` module's
/// `MariaDBConnection.Configuration.fromLoginPath(_:file:)` (see ``LibraryBridge``), or a fake in tests.
typealias LoginPathResolver = @Sendable (_ name: String, _ file: String?) throws -> MariaDBConnection.Configuration

/// Builds one `MariaDBConnection.Configuration` per endpoint of a ``MigrateConfiguration``, reading each password
/// from its source when asked (never earlier, never cached in a printable form). ProxySQL admin endpoints get
/// `quoting = .proxySQLAdmin`.
struct ConnectionFactory: Sendable {
    let configuration: MigrateConfiguration
    let environment: [String: String]
    let loginPathResolver: LoginPathResolver

    init(
        configuration: MigrateConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        loginPathResolver: LoginPathResolver? = nil
    ) {
        self.configuration = configuration
        self.environment = environment
        self.loginPathResolver = loginPathResolver ?? LibraryBridge.live.resolveLoginPath
    }

    /// Every endpoint of the configuration, in a stable order.
    var endpoints: [EndpointName] {
        var names: [EndpointName] = [.source]
        if configuration.sourceReader != nil { names.append(.sourceReader) }
        names.append(.targetWriter)
        if configuration.targetReader != nil { names.append(.targetReader) }
        names += configuration.proxyNodes.map { .proxyNode($0.name) }
        if configuration.canary != nil { names.append(.canary) }
        return names
    }

    /// The connection configuration of `endpoint`, with its password read.
    ///
    /// - Throws: ``ConfigurationError`` (``ConfigurationError/Code/secretUnavailable``) naming the field whose
    ///   password source cannot be read (a login path included).
    func connectionConfiguration(for endpoint: EndpointName) throws -> MariaDBConnection.Configuration {
        let address: Address
        let account: AccountSettings
        let prefix: String
        switch endpoint {
        case .source:
            (address, account, prefix) = (configuration.source, configuration.sourceAccount, "source")
        case .sourceReader:
            guard let reader = configuration.sourceReader else { throw missing(endpoint) }
            (address, account, prefix) = (reader, configuration.sourceAccount, "source")
        case .targetWriter:
            (address, account, prefix) = (configuration.targetWriter, configuration.targetAccount, "target")
        case .targetReader:
            guard let reader = configuration.targetReader else { throw missing(endpoint) }
            (address, account, prefix) = (reader, configuration.targetAccount, "target")
        case .proxyNode(let name):
            guard let node = configuration.proxyNodes.first(where: { $0.name == name }) else { throw missing(endpoint) }
            (address, account, prefix) = (node.address, node.account, "proxysql.nodes.\(name)")
        case .canary:
            guard let canary = configuration.canary else { throw missing(endpoint) }
            (address, account, prefix) = (canary.address, canary.account, "canary")
        }
        var result: MariaDBConnection.Configuration
        switch account.credentials {
        case .loginPath(let name, let file):
            do {
                result = try loginPathResolver(name, file)
            } catch {
                throw ConfigurationError(code: .secretUnavailable, field: "\(prefix).login-path", "cannot read login path \(name): \(error)")
            }
            result.endpoint = .tcp(host: address.host, port: address.port)
            if let user = account.user { result.user = user }
        default:
            result = MariaDBConnection.Configuration(
                host: address.host,
                port: address.port,
                user: account.user ?? "",
                password: try password(account.credentials, field: prefix).map { $0.reveal() }
            )
            if case .optionFile(let path, let group) = account.credentials {
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw ConfigurationError(code: .secretUnavailable, field: "\(prefix).option-file", "cannot read \(path)")
                }
                result.optionFile = .init(path: path, group: group)
            }
        }
        result.connectTimeout = account.connectTimeout
        result.programName = "migrate-cli"
        switch account.tls.mode {
        case .disabled:
            result.tls = nil
        case .required, .verifyIdentity:
            result.tls = .init(
                certificateAuthorityFile: account.tls.certificateAuthorityFile,
                certificateFile: account.tls.certificateFile,
                keyFile: account.tls.keyFile,
                verifyServerCertificate: account.tls.mode == .verifyIdentity
            )
        }
        if case .proxyNode = endpoint { result.quoting = .proxySQLAdmin }
        do {
            try result.validate()
        } catch {
            throw ConfigurationError(code: .invalid, field: prefix, "\(error)")
        }
        return result
    }

    /// Every endpoint's configuration; reports all unreadable passwords at once.
    func allConnectionConfigurations() throws -> [(EndpointName, MariaDBConnection.Configuration)] {
        var result: [(EndpointName, MariaDBConnection.Configuration)] = []
        var issues: [ConfigurationIssue] = []
        for endpoint in endpoints {
            do {
                result.append((endpoint, try connectionConfiguration(for: endpoint)))
            } catch let error as ConfigurationError {
                issues += error.issues.filter { !issues.contains($0) }
            }
        }
        if !issues.isEmpty { throw ConfigurationError(code: .secretUnavailable, issues: issues) }
        return result
    }

    /// Reads every password the configuration names (endpoints and replication accounts), reporting every
    /// unreadable one at once; prints none.
    ///
    /// - Returns: the endpoints' configurations.
    func checkAllSecrets() throws -> [(EndpointName, MariaDBConnection.Configuration)] {
        var issues: [ConfigurationIssue] = []
        var result: [(EndpointName, MariaDBConnection.Configuration)] = []
        do {
            result = try allConnectionConfigurations()
        } catch let error as ConfigurationError {
            issues += error.issues
        }
        for (account, direction) in [(configuration.forwardReplication, "forward"), (configuration.reverseReplication, "reverse")] {
            do {
                _ = try replicationPassword(account, direction: direction)
            } catch let error as ConfigurationError {
                issues += error.issues
            }
        }
        if !issues.isEmpty { throw ConfigurationError(code: .secretUnavailable, issues: issues) }
        return result
    }

    /// The password of a replication account (`forward`: Aurora → source; `reverse`: source → Aurora).
    func replicationPassword(_ account: ReplicationAccount, direction: String) throws -> Secret? {
        try password(account.credentials, field: "replication.\(direction)")
    }

    /// Reads the password of a `password-env` or `password-file` source; nil for the others.
    func password(_ source: CredentialSource, field prefix: String) throws -> Secret? {
        switch source {
        case .none, .loginPath, .optionFile:
            return nil
        case .environment(let name):
            guard let value = environment[name] else {
                throw ConfigurationError(code: .secretUnavailable, field: "\(prefix).password-env", "environment variable \(name) is not set")
            }
            guard !value.isEmpty else {
                throw ConfigurationError(code: .secretUnavailable, field: "\(prefix).password-env", "environment variable \(name) is empty")
            }
            return Secret(value)
        case .file(let path):
            return try Self.readPasswordFile(path, field: "\(prefix).password-file")
        }
    }

    /// The first line of `path`, refusing a file that other users can read or write.
    static func readPasswordFile(_ path: String, field: String) throws -> Secret {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ConfigurationError(code: .secretUnavailable, field: field, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw ConfigurationError(code: .secretUnavailable, field: field, "\(path) is not a regular file")
        }
        if status.st_mode & 0o006 != 0 {
            throw ConfigurationError(
                code: .secretUnavailable,
                field: field,
                "\(path) is readable or writable by other users; run `chmod 600 \(path)`"
            )
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(code: .secretUnavailable, field: field, "cannot read \(path) as UTF-8 text")
        }
        // "\r\n" is one Character in Swift: split on any newline character.
        let password = text.split(maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !password.isEmpty else {
            throw ConfigurationError(code: .secretUnavailable, field: field, "\(path) is empty")
        }
        return Secret(password)
    }

    private func missing(_ endpoint: EndpointName) -> ConfigurationError {
        ConfigurationError(code: .invalid, field: endpoint.description, "is not configured")
    }
}
