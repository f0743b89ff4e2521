public import MariaDB

/// The exact statements ``ProxySQLAdminClient`` sends, for dry runs and tests.
///
/// Every literal is interpolated into a `SQLStatement` and rendered when sent, with ProxySQL admin (SQLite)
/// rules on a `.proxySQLAdmin` session: a quote is doubled, a backslash stays an ordinary character, and a
/// value holding NUL or another control character becomes `CAST(X'…' AS TEXT)`. The admin interface does not
/// accept prepared statements, so there is no other way to pass a value. Identifiers and keywords are fixed
/// text chosen here. Render with `statement.rendered(for: .proxySQLAdmin)`; log `statement.redacted`.
public enum ProxySQLAdminStatements {
    static let serverColumns = BackendServer.columnNames.joined(separator: ", ")

    /// `SELECT <every column> FROM mysql_servers|runtime_mysql_servers [WHERE hostgroup_id = N]
    /// ORDER BY hostgroup_id, hostname, port`.
    public static func selectServers(layer: ConfigurationLayer, hostgroup: HostgroupID? = nil) -> SQLStatement {
        var statement: SQLStatement =
            "SELECT \(unsafeRaw: serverColumns) FROM \(unsafeRaw: layer.table("mysql_servers"))"
        if let hostgroup { statement = statement + " WHERE hostgroup_id = \(hostgroup.rawValue)" }
        return statement + " ORDER BY hostgroup_id, hostname, port"
    }

    /// `SELECT <every column> FROM ... WHERE hostgroup_id IN (...) ORDER BY ...` (every row when the set is
    /// empty).
    public static func selectServers(layer: ConfigurationLayer, hostgroups: Set<HostgroupID>) -> SQLStatement {
        guard !hostgroups.isEmpty else { return selectServers(layer: layer) }
        if hostgroups.count == 1 { return selectServers(layer: layer, hostgroup: hostgroups.first!) }
        let list = SQLStatement.joined(hostgroups.sorted().map { "\($0.rawValue)" }, separator: ", ")
        return "SELECT \(unsafeRaw: serverColumns) FROM \(unsafeRaw: layer.table("mysql_servers"))"
            + " WHERE hostgroup_id IN (\(list)) ORDER BY hostgroup_id, hostname, port"
    }

    /// `INSERT INTO mysql_servers (<every column>) VALUES (...)`.
    public static func insertServer(_ server: BackendServer) -> SQLStatement {
        "INSERT INTO mysql_servers (\(unsafeRaw: serverColumns)) VALUES (\(server.hostgroup.rawValue), "
            + "\(server.endpoint.host), \(server.endpoint.port), \(server.gtidPort), \(server.status.rawValue), "
            + "\(server.weight), \(server.compression), \(server.maxConnections), \(server.maxReplicationLag), "
            + "\(server.useSSL ? 1 : 0), \(server.maxLatencyMs), \(server.comment))"
    }

    /// `UPDATE mysql_servers SET <columns> WHERE <selector>`.
    public static func updateServers(_ selector: ServerSelector, set change: ServerChange) -> SQLStatement {
        var assignments: [SQLStatement] = []
        if let status = change.status { assignments.append("status = \(status.rawValue)") }
        if let weight = change.weight { assignments.append("weight = \(weight)") }
        if let comment = change.comment { assignments.append("comment = \(comment)") }
        if let maxConnections = change.maxConnections { assignments.append("max_connections = \(maxConnections)") }
        if let lag = change.maxReplicationLag { assignments.append("max_replication_lag = \(lag)") }
        let assignmentList = SQLStatement.joined(assignments, separator: ", ")
        return "UPDATE mysql_servers SET \(assignmentList) WHERE \(whereClause(selector))"
    }

    /// `DELETE FROM mysql_servers WHERE <selector>`.
    public static func deleteServers(_ selector: ServerSelector) -> SQLStatement {
        "DELETE FROM mysql_servers WHERE \(whereClause(selector))"
    }

    /// The condition for `selector`.
    public static func whereClause(_ selector: ServerSelector) -> SQLStatement {
        switch selector {
        case .key(let key):
            "hostgroup_id = \(key.hostgroup.rawValue) AND \(whereClause(.endpoint(key.endpoint)))"
        case .comment(let comment):
            "comment = \(comment)"
        case .endpoint(let endpoint):
            "hostname = \(endpoint.host) AND port = \(endpoint.port)"
        case .hostgroup(let hostgroup):
            "hostgroup_id = \(hostgroup.rawValue)"
        }
    }

    /// `LOAD MYSQL SERVERS TO RUNTIME`.
    public static let loadServersToRuntime: SQLStatement = "LOAD MYSQL SERVERS TO RUNTIME"
    /// `SAVE MYSQL SERVERS TO DISK`.
    public static let saveServersToDisk: SQLStatement = "SAVE MYSQL SERVERS TO DISK"
    /// `LOAD MYSQL VARIABLES TO RUNTIME`.
    public static let loadVariablesToRuntime: SQLStatement = "LOAD MYSQL VARIABLES TO RUNTIME"
    /// `SAVE MYSQL VARIABLES TO DISK`.
    public static let saveVariablesToDisk: SQLStatement = "SAVE MYSQL VARIABLES TO DISK"
    /// `SELECT @@version`.
    public static let selectVersion: SQLStatement = "SELECT @@version"

    /// `SELECT * FROM stats_mysql_connection_pool WHERE hostgroup = N AND srv_host = 'h' AND srv_port = P`.
    public static func selectConnectionPool(for server: BackendServer.Key) -> SQLStatement {
        "SELECT * FROM stats_mysql_connection_pool WHERE hostgroup = \(server.hostgroup.rawValue)"
            + " AND srv_host = \(server.endpoint.host) AND srv_port = \(server.endpoint.port)"
    }

    /// `SELECT * FROM stats_mysql_connection_pool [WHERE hostgroup = N] ORDER BY hostgroup, srv_host, srv_port`.
    public static func selectConnectionPool(hostgroup: HostgroupID? = nil) -> SQLStatement {
        var statement: SQLStatement = "SELECT * FROM stats_mysql_connection_pool"
        if let hostgroup { statement = statement + " WHERE hostgroup = \(hostgroup.rawValue)" }
        return statement + " ORDER BY hostgroup, srv_host, srv_port"
    }

    /// `SELECT * FROM stats_mysql_processlist WHERE srv_host = 'h' AND srv_port = P [AND hostgroup = N]
    /// ORDER BY SessionID`.
    public static func selectProcesslist(attachedTo endpoint: ServerEndpoint, hostgroup: HostgroupID? = nil)
        -> SQLStatement
    {
        var statement: SQLStatement =
            "SELECT * FROM stats_mysql_processlist WHERE srv_host = \(endpoint.host) AND srv_port = \(endpoint.port)"
        if let hostgroup { statement = statement + " AND hostgroup = \(hostgroup.rawValue)" }
        return statement + " ORDER BY SessionID"
    }

    /// `SELECT * FROM stats_mysql_processlist [WHERE hostgroup = N] ORDER BY SessionID`.
    public static func selectProcesslist(hostgroup: HostgroupID? = nil) -> SQLStatement {
        var statement: SQLStatement = "SELECT * FROM stats_mysql_processlist"
        if let hostgroup { statement = statement + " WHERE hostgroup = \(hostgroup.rawValue)" }
        return statement + " ORDER BY SessionID"
    }

    /// `KILL CONNECTION <SessionID>`.
    public static func killConnection(_ session: ProxySQLSessionID) -> SQLStatement {
        "KILL CONNECTION \(session.rawValue)"
    }

    /// `SELECT * FROM mysql_replication_hostgroups|runtime_mysql_replication_hostgroups ORDER BY writer_hostgroup`.
    public static func selectReplicationHostgroups(layer: ConfigurationLayer) -> SQLStatement {
        "SELECT * FROM \(unsafeRaw: layer.table("mysql_replication_hostgroups")) ORDER BY writer_hostgroup"
    }

    /// `SELECT variable_name, variable_value FROM global_variables|runtime_global_variables
    /// WHERE variable_name = 'n'`.
    public static func selectVariable(_ name: ProxySQLVariable.Name, layer: ConfigurationLayer = .configured)
        -> SQLStatement
    {
        "SELECT variable_name, variable_value FROM \(unsafeRaw: layer.table("global_variables"))"
            + " WHERE variable_name = \(name.rawValue)"
    }

    /// `SELECT variable_name, variable_value FROM ... WHERE variable_name IN (...) ORDER BY variable_name`.
    public static func selectVariables(_ names: [ProxySQLVariable.Name], layer: ConfigurationLayer = .configured)
        -> SQLStatement
    {
        let list = SQLStatement.joined(names.map { "\($0.rawValue)" }, separator: ", ")
        return "SELECT variable_name, variable_value FROM \(unsafeRaw: layer.table("global_variables"))"
            + " WHERE variable_name IN (\(list)) ORDER BY variable_name"
    }

    /// `UPDATE global_variables SET variable_value = 'v' WHERE variable_name = 'n'`.
    public static func updateVariable(_ name: ProxySQLVariable.Name, to value: String) -> SQLStatement {
        "UPDATE global_variables SET variable_value = \(value) WHERE variable_name = \(name.rawValue)"
    }
}
