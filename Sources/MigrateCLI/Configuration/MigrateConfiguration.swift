import Cutover
import Foundation
import ProxySQLAdmin

/// TLS to an endpoint the CLI connects to.
enum TLSMode: String, Sendable, Hashable, CaseIterable {
    /// Plain TCP.
    case disabled
    /// Encrypted; the server certificate is not checked.
    case required
    /// Encrypted; the certificate is checked against the CA file and the host name.
    case verifyIdentity = "verify-identity"
}

/// What reverse replication (the source replicating from Aurora) ignores.
enum ReverseReplicationFilter: String, Sendable, Hashable, CaseIterable {
    /// Aurora's own bookkeeping tables (`mysql.rds\_%`), which the source does not have.
    case rdsTables = "rds-tables"
    /// The whole `mysql` schema.
    case mysqlSchema = "mysql-schema"
}

/// Where a password comes from. Holds references only (a variable name, a path), never the password.
enum CredentialSource: Sendable, Hashable, CustomStringConvertible {
    /// No password (for example socket authentication, or an account without one).
    case none
    /// An environment variable.
    case environment(String)
    /// A file whose first line is the password.
    case file(String)
    /// A login path of `mysql_config_editor` (`~/.mylogin.cnf`, or `file`).
    case loginPath(name: String, file: String?)
    /// A MySQL option file read by the client library at connect time.
    case optionFile(path: String, group: String?)

    var description: String {
        switch self {
        case .none: "no password"
        case .environment(let name): "password from $\(name)"
        case .file(let path): "password from file \(path)"
        case .loginPath(let name, let file): "login path \(name)" + (file.map { " in \($0)" } ?? "")
        case .optionFile(let path, let group): "option file \(path)" + (group.map { " [\($0)]" } ?? "")
        }
    }
}

/// TLS files and mode of one endpoint.
struct TLSSettings: Sendable, Hashable {
    var mode: TLSMode = .disabled
    var certificateAuthorityFile: String?
    var certificateFile: String?
    var keyFile: String?
}

/// How the CLI logs in to one database or ProxySQL admin interface.
struct AccountSettings: Sendable, Hashable {
    /// Nil only when a login path provides it.
    var user: String?
    var credentials: CredentialSource
    var tls: TLSSettings
    var connectTimeout: Duration
}

/// A host and a TCP port.
struct Address: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    var endpoint: ServerEndpoint { ServerEndpoint(host: host, port: port) }
    var description: String { endpoint.description }
}

/// A replication account and how the replica reaches its source.
struct ReplicationAccount: Sendable, Hashable {
    var address: Address
    var user: String
    /// `.none`, `.environment` or `.file`.
    var credentials: CredentialSource
    /// Whether the replication the run sets up in this direction is encrypted.
    var tls: ReplicationTLS
}

/// One ProxySQL node's admin interface.
struct ProxyNodeSettings: Sendable, Hashable {
    var name: String
    var address: Address
    var account: AccountSettings
}

/// The validated configuration of `migrate-cli`: the topology, the policy, and how to reach every endpoint.
///
/// It holds no password: only where each password is (``CredentialSource``). ``ConnectionFactory`` reads them when
/// a command connects. Built by ``ConfigurationLoader``.
struct MigrateConfiguration: Sendable {
    /// The source's address as the CLI reaches it.
    var source: Address
    var sourceReader: Address?
    var sourceAccount: AccountSettings
    var targetWriter: Address
    var targetReader: Address?
    var targetAccount: AccountSettings
    var proxyNodes: [ProxyNodeSettings]
    var writerHostgroup: HostgroupID
    var readerHostgroup: HostgroupID
    var forwardReplication: ReplicationAccount
    var reverseReplication: ReplicationAccount
    var reverseReplicationFilter: ReverseReplicationFilter
    var policy: CutoverPolicy
    var journalPath: String
    var applicationUsers: [String]
    /// The rows ProxySQL routes with, the replication addresses and accounts (checked: `problems` is empty).
    var topology: CutoverTopology
    /// The file the configuration was read from, if any.
    var filePath: String?
    /// Every value that was set, and where it came from (for `config show`).
    var values: [ConfigurationKey: RawValue]
    /// The canary, when `canary.enabled` is true (#14 item 9).
    var canary: CanarySettings? = nil
    /// The switch command, when the configuration has a `switch` section instead of `proxysql` (#15 item 2).
    var switchSettings: HookSwitch.Settings? = nil
}
