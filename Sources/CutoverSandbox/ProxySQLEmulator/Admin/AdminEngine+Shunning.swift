extension AdminEngine {
    /// Writes the live statuses into `runtime_mysql_servers` before it is read: ProxySQL dumps that table from its
    /// live servers, so a server shunned automatically reads `SHUNNED` there (and `ONLINE` again once it recovers),
    /// while `mysql_servers` keeps the configured status.
    func refreshRuntimeServerStatuses() throws {
        for (key, status) in dataPlane.liveStatuses() {
            _ = try database.query(
                "UPDATE main.runtime_mysql_servers SET status = ? WHERE hostgroup_id = ? AND hostname = ? AND port = ? "
                    + "AND status <> ?",
                [status.rawValue, String(key.hostgroup), key.host, String(key.port), status.rawValue]
            )
        }
    }
}
