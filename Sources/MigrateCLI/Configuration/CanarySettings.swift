import Cutover
import Foundation

/// The optional canary (#14 item 9): an application-like account that writes a heartbeat row every few
/// milliseconds through one ProxySQL data port during a cut-over or failback, so the run reports the longest time
/// clients could not write. Off by default against real servers (it writes: a table created through the proxy, so
/// on the writer and replicated, and dropped afterwards).
struct CanarySettings: Sendable, Hashable {
    /// The ProxySQL data port the heartbeats go through (the application's own, usually 6033).
    var address: Address
    /// The canary account: configured like every other (password by reference).
    var account: AccountSettings
    /// The schema the canary's table is created in.
    var database: String
    /// The table's name.
    var table: String
    var interval: Duration
    var writeTimeout: Duration
    /// With `canary.per-node: true`: every ProxySQL node's data port, in the nodes' order (one canary writer
    /// each, each reported, the worst as the headline); empty otherwise (one writer through ``address``).
    var nodes: [NodeAddress] = []

    /// One ProxySQL node's data port, as the per-node canary reaches it.
    struct NodeAddress: Sendable, Hashable {
        var node: String
        var address: Address
    }

    /// The configuration fields of the canary, for ``ConfigurationSchema``.
    static var schemaFields: [ConfigurationField] {
        [
            ConfigurationField(pattern: ["canary", "enabled"], kind: .bool, defaultValue: "false", summary: "write heartbeat rows through ProxySQL during the switch and report the longest gap clients saw (the number to watch; it writes, so off unless set)"),
            ConfigurationField(pattern: ["canary", "database"], kind: .text, summary: "schema the canary's table is created in (on the source, replicated; dropped after the run)"),
            ConfigurationField(pattern: ["canary", "table"], kind: .text, defaultValue: CanaryProxyWriter.defaultTable, summary: "name of the canary's table"),
            ConfigurationField(pattern: ["canary", "interval"], kind: .duration, defaultValue: "5ms", summary: "time between the starts of two heartbeats"),
            ConfigurationField(pattern: ["canary", "write-timeout"], kind: .duration, defaultValue: "15s", summary: "a heartbeat not acknowledged by then counts as an error"),
            ConfigurationField(pattern: ["canary", "per-node"], kind: .bool, defaultValue: "false", summary: "one canary writer per ProxySQL node, through each node's data port (proxysql.nodes.<name>.data-host/-port), each reported, the worst as the headline"),
            ConfigurationField(pattern: ["proxysql", "nodes", "*", "data-host"], kind: .host, defaultValue: "proxysql.nodes.<name>.host", summary: "host of this ProxySQL node's data port (the per-node canary writes through it)"),
            ConfigurationField(pattern: ["proxysql", "nodes", "*", "data-port"], kind: .port, defaultValue: "canary.port", summary: "this ProxySQL node's data port (the per-node canary writes through it)"),
        ] + ConfigurationSchema.canaryAccountFields
    }
}

extension FieldReader {
    /// The canary, when `canary.enabled` is true; nil otherwise (its other fields are then still checked).
    /// `proxyNodes`: the configured ProxySQL nodes (the per-node canary writes through each one's data port).
    mutating func canary(proxyNodes: [ProxyNodeSettings] = []) -> CanarySettings? {
        let enabled = bool("canary.enabled") ?? false
        let setFields = raw.values.keys.filter { $0.segments.first == "canary" && $0.description != "canary.enabled" }
        guard enabled else {
            if !setFields.isEmpty {
                // Set but off: read them anyway so a typo is reported, and say nothing else.
                _ = account("canary", needsUser: false)
                _ = address("canary", defaultPort: 6033, connects: true, required: nil)
                _ = duration("canary.interval")
                _ = duration("canary.write-timeout")
                _ = bool("canary.per-node")
            }
            for node in proxyNodes { _ = nodeDataAddress(node, defaultPort: 6033) }
            return nil
        }
        let perNode = bool("canary.per-node") ?? false
        if perNode, proxyNodes.isEmpty {
            problem("canary.per-node", "needs ProxySQL nodes (proxysql.nodes): without ProxySQL there is one endpoint, use canary.host")
        }
        // Per node, canary.host is optional (each node's data-host is used) and canary.port is the nodes' default.
        let address: Address? =
            perNode && !has("canary.host")
            ? nil
            : self.address("canary", defaultPort: 6033, connects: true, required: "the ProxySQL data port the canary writes through (canary.enabled is true)")
        let account = account("canary")
        let database = text("canary.database")
        if database == nil, !has("canary.database") {
            problem("canary.database", "missing: the schema the canary's table is created in (canary.enabled is true)")
        }
        let table = text("canary.table") ?? CanaryProxyWriter.defaultTable
        if !table.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) {
            problem("canary.table", "'\(table)' is not a plain table name (letters, digits and _)")
        }
        let interval = duration("canary.interval") ?? .milliseconds(5)
        let writeTimeout = duration("canary.write-timeout") ?? .seconds(15)
        let defaultPort = address?.port ?? port("canary.port") ?? 6033
        var nodes: [CanarySettings.NodeAddress] = []
        for node in proxyNodes {
            let address = nodeDataAddress(node, defaultPort: defaultPort)
            if perNode, let address { nodes.append(.init(node: node.name, address: address)) }
        }
        guard let database, let address = address ?? nodes.first?.address else { return nil }
        return CanarySettings(
            address: address, account: account, database: database, table: table, interval: interval, writeTimeout: writeTimeout,
            nodes: nodes
        )
    }
}

extension FieldReader {
    /// A ProxySQL node's data port: `proxysql.nodes.<name>.data-host` (default: the node's admin host) and
    /// `.data-port` (default: `defaultPort`, the canary's port).
    mutating func nodeDataAddress(_ node: ProxyNodeSettings, defaultPort: Int) -> Address? {
        let prefix = "proxysql.nodes.\(node.name)"
        let host = host("\(prefix).data-host", connects: true)
        let port = port("\(prefix).data-port")
        if has("\(prefix).data-host"), host == nil { return nil }
        if has("\(prefix).data-port"), port == nil { return nil }
        return Address(host: host ?? node.address.host, port: port ?? defaultPort)
    }
}
