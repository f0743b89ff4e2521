import CutoverTestSupport
import Logging
import MariaDB
import ProxySQLAdmin

/// Shared fixtures for the ProxySQLAdmin tests.
enum Fixtures {
    static let serverColumns = BackendServer.columnNames
    static let columnList = serverColumns.joined(separator: ", ")

    static let poolColumns = [
        "hostgroup", "srv_host", "srv_port", "status", "ConnUsed", "ConnFree", "ConnOK", "ConnERR", "MaxConnUsed",
        "Queries", "Queries_GTID_sync", "Bytes_data_sent", "Bytes_data_recv", "Latency_us",
    ]

    static let processlistColumns = [
        "ThreadID", "SessionID", "user", "db", "cli_host", "cli_port", "hostgroup", "l_srv_host", "l_srv_port",
        "srv_host", "srv_port", "command", "time_ms", "info",
    ]

    /// A `mysql_servers` row as text cells, the way the admin interface sends it.
    static func cells(_ server: BackendServer) -> [String?] {
        [
            String(server.hostgroup.rawValue), server.endpoint.host, String(server.endpoint.port),
            String(server.gtidPort), server.status.rawValue, String(server.weight), String(server.compression),
            String(server.maxConnections), String(server.maxReplicationLag), server.useSSL ? "1" : "0",
            String(server.maxLatencyMs), server.comment,
        ]
    }

    static func selectServers(_ table: String, where condition: String? = nil) -> String {
        var sql = "SELECT \(columnList) FROM \(table)"
        if let condition { sql += " WHERE \(condition)" }
        return sql + " ORDER BY hostgroup_id, hostname, port"
    }

    static func session(name: String = "proxy-a:6032") -> ScriptedSQLSession {
        ScriptedSQLSession(dialect: .proxySQLAdmin, endpointDescription: name)
    }

    static func client(_ session: ScriptedSQLSession, name: String? = nil) -> ProxySQLAdminClient {
        ProxySQLAdminClient(session: session, name: name)
    }

    static let logger = Logger(label: "test.proxysql-admin", factory: { _ in SwiftLogNoOpLogHandler() })

    static func adminFailure(_ sqliteMessage: String) -> MariaDBError {
        MariaDBError(
            code: .server,
            serverErrorNumber: 1045,
            sqlState: "28000",
            message: ProxySQLAdminError.adminErrorPrefix + sqliteMessage
        )
    }

    static let writer = BackendServer.Key(hostgroup: 10, host: "db1", port: 3306)
    static let aurora = BackendServer.Key(hostgroup: 10, host: "aurora-writer.cluster-x.rds.amazonaws.com", port: 3306)
}
