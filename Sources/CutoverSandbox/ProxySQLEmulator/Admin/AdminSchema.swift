/// The admin tables, with ProxySQL 2.x's own definitions (`include/ProxySQL_Admin_Tables_Definitions.h`:
/// `ADMIN_SQLITE_TABLE_MYSQL_SERVERS_V2_0_11`, `..._MYSQL_REPLICATION_HOSTGROUPS_V2_0_8`, `..._MYSQL_USERS_V2_1_0`,
/// `global_variables`, and the `stats_` tables), so defaults, CHECK constraints and their SQLite error messages are
/// ProxySQL's.
enum AdminSchema {
    static func mysqlServers(_ name: String) -> String {
        "CREATE TABLE IF NOT EXISTS \(name) (hostgroup_id INT CHECK (hostgroup_id>=0) NOT NULL DEFAULT 0 , "
            + "hostname VARCHAR NOT NULL , port INT CHECK (port >= 0 AND port <= 65535) NOT NULL DEFAULT 3306 , "
            + "gtid_port INT CHECK ((gtid_port <> port OR gtid_port=0) AND gtid_port >= 0 AND gtid_port <= 65535) "
            + "NOT NULL DEFAULT 0 , status VARCHAR CHECK (UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', "
            + "'OFFLINE_HARD')) NOT NULL DEFAULT 'ONLINE' , weight INT CHECK (weight >= 0 AND weight <=10000000) "
            + "NOT NULL DEFAULT 1 , compression INT CHECK (compression IN(0,1)) NOT NULL DEFAULT 0 , max_connections "
            + "INT CHECK (max_connections >=0) NOT NULL DEFAULT 1000 , max_replication_lag INT CHECK "
            + "(max_replication_lag >= 0 AND max_replication_lag <= 126144000) NOT NULL DEFAULT 0 , use_ssl INT "
            + "CHECK (use_ssl IN(0,1)) NOT NULL DEFAULT 0 , max_latency_ms INT UNSIGNED CHECK (max_latency_ms>=0) "
            + "NOT NULL DEFAULT 0 , comment VARCHAR NOT NULL DEFAULT '' , PRIMARY KEY (hostgroup_id, hostname, port) )"
    }

    static func replicationHostgroups(_ name: String) -> String {
        "CREATE TABLE IF NOT EXISTS \(name) (writer_hostgroup INT CHECK (writer_hostgroup>=0) NOT NULL PRIMARY KEY , "
            + "reader_hostgroup INT NOT NULL CHECK (reader_hostgroup<>writer_hostgroup AND reader_hostgroup>=0) , "
            + "check_type VARCHAR CHECK (LOWER(check_type) IN ('read_only','innodb_read_only','super_read_only',"
            + "'read_only|innodb_read_only','read_only&innodb_read_only')) NOT NULL DEFAULT 'read_only' , "
            + "comment VARCHAR NOT NULL DEFAULT '', UNIQUE (reader_hostgroup))"
    }

    static func mysqlUsers(_ name: String) -> String {
        "CREATE TABLE IF NOT EXISTS \(name) (username VARCHAR NOT NULL , password VARCHAR , active INT CHECK "
            + "(active IN (0,1)) NOT NULL DEFAULT 1 , use_ssl INT CHECK (use_ssl IN (0,1)) NOT NULL DEFAULT 0 , "
            + "default_hostgroup INT NOT NULL DEFAULT 0 , default_schema VARCHAR , schema_locked INT CHECK "
            + "(schema_locked IN (0,1)) NOT NULL DEFAULT 0 , transaction_persistent INT CHECK "
            + "(transaction_persistent IN (0,1)) NOT NULL DEFAULT 1 , fast_forward INT CHECK (fast_forward IN (0,1)) "
            + "NOT NULL DEFAULT 0 , backend INT CHECK (backend IN (0,1)) NOT NULL DEFAULT 1 , frontend INT CHECK "
            + "(frontend IN (0,1)) NOT NULL DEFAULT 1 , max_connections INT CHECK (max_connections >=0) NOT NULL "
            + "DEFAULT 10000 , attributes VARCHAR CHECK (JSON_VALID(attributes) OR attributes = '') NOT NULL "
            + "DEFAULT '' , comment VARCHAR NOT NULL DEFAULT '' , PRIMARY KEY (username, backend) , "
            + "UNIQUE (username, frontend))"
    }

    static func variables(_ name: String) -> String {
        "CREATE TABLE IF NOT EXISTS \(name) (variable_name VARCHAR NOT NULL PRIMARY KEY , variable_value VARCHAR NOT NULL)"
    }

    static let connectionPool =
        "CREATE TABLE IF NOT EXISTS stats.stats_mysql_connection_pool (hostgroup INT , srv_host VARCHAR , "
        + "srv_port INT , status VARCHAR , ConnUsed INT , ConnFree INT , ConnOK INT , ConnERR INT , MaxConnUsed INT , "
        + "Queries INT , Queries_GTID_sync INT , Bytes_data_sent INT , Bytes_data_recv INT , Latency_us INT)"

    static let processlist =
        "CREATE TABLE IF NOT EXISTS stats.stats_mysql_processlist (ThreadID INT NOT NULL , SessionID INTEGER PRIMARY "
        + "KEY , user VARCHAR , db VARCHAR , cli_host VARCHAR , cli_port INT , hostgroup INT , l_srv_host VARCHAR , "
        + "l_srv_port INT , srv_host VARCHAR , srv_port INT , command VARCHAR , time_ms INT NOT NULL , info VARCHAR , "
        + "status_flags INT , extended_info VARCHAR)"

    /// Every table of `main`, `disk` and `stats`.
    static var installScript: String {
        var statements: [String] = []
        for schema in ["main", "disk"] {
            statements.append(mysqlServers("\(schema).mysql_servers"))
            statements.append(replicationHostgroups("\(schema).mysql_replication_hostgroups"))
            statements.append(mysqlUsers("\(schema).mysql_users"))
            statements.append(variables("\(schema).global_variables"))
        }
        statements.append(mysqlServers("main.runtime_mysql_servers"))
        statements.append(replicationHostgroups("main.runtime_mysql_replication_hostgroups"))
        statements.append(mysqlUsers("main.runtime_mysql_users"))
        statements.append(variables("main.runtime_global_variables"))
        statements.append(connectionPool)
        statements.append(processlist)
        statements += queryDigestTables.map(queryDigest)
        return statements.joined(separator: ";\n") + ";"
    }

    /// Tables copied by `LOAD/SAVE MYSQL SERVERS ...`.
    static let serverTables = ["mysql_servers", "mysql_replication_hostgroups"]
}
