public import ProxySQLAdmin

/// How the guards' and preflight's messages about the replication started after a writer switch name the new writer
/// and the endpoint its replica connects to (issue #15): the server's name in messages usually carries the address
/// the tool connects to already (`target (127.0.0.1:3306)`), and the replication endpoint is most often that same
/// address, which the messages then showed twice (`target (127.0.0.1:3306) (127.0.0.1:3306)`). The two can differ
/// (`replication.reverse.host`/`port` set to an address only the old writer uses): then both are shown, the
/// replication endpoint labelled as such.
extension ReversePrerequisites {
    /// `name`, followed by ` via replication endpoint host:port` unless the address `name` shows (its trailing
    /// `(host:port)`) is `endpoint` already. Pure.
    ///
    /// - `serverName("target (127.0.0.1:3306)", replicationEndpoint: 127.0.0.1:3306)` is `target (127.0.0.1:3306)`;
    /// - `serverName("target (10.0.0.5:3306)", replicationEndpoint: 10.9.0.5:3306)` is
    ///   `target (10.0.0.5:3306) via replication endpoint 10.9.0.5:3306`;
    /// - a name with no address (`target`, preflight's) always gets the labelled endpoint.
    public static func serverName(_ name: String, replicationEndpoint endpoint: ServerEndpoint) -> String {
        if let shown = addressShown(in: name), shown.lowercased() == endpoint.description.lowercased() {
            return name
        }
        return "\(name) via replication endpoint \(endpoint)"
    }

    /// The address in a name's trailing parentheses (`target (127.0.0.1:3306)` → `127.0.0.1:3306`), nil when the
    /// name does not end with one.
    static func addressShown(in name: String) -> String? {
        guard name.hasSuffix(")"), let open = name.lastIndex(of: "(") else { return nil }
        let inner = name[name.index(after: open)..<name.index(before: name.endIndex)]
        return inner.isEmpty ? nil : String(inner)
    }
}
