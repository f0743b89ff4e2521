import MariaDB
import ProxySQLAdmin
import Testing

@Suite("Domain types")
struct DomainTypesTests {
    @Test(
        "BackendStatus parses case-insensitively",
        arguments: [
            ("ONLINE", BackendStatus.online), ("online", .online), (" Online ", .online), ("SHUNNED", .shunned),
            ("offline_soft", .offlineSoft), ("OFFLINE_SOFT", .offlineSoft), ("Offline_Hard", .offlineHard),
            ("SHUNNED_REPLICATION_LAG", .shunned),
        ]
    )
    func statusParses(text: String, expected: BackendStatus) {
        #expect(BackendStatus(parsing: text) == expected)
    }

    @Test("BackendStatus refuses unknown text", arguments: ["", "OFFLINE", "OFFLINE SOFT", "ONLINE1", "1"])
    func statusRefuses(text: String) {
        #expect(BackendStatus(parsing: text) == nil)
    }

    @Test("Only OFFLINE_HARD leaves the runtime; only ONLINE takes new connections")
    func statusProperties() {
        #expect(BackendStatus.allCases.filter { !$0.isPresentInRuntime } == [.offlineHard])
        #expect(BackendStatus.allCases.filter(\.acceptsNewConnections) == [.online])
        #expect(BackendStatus.offlineSoft.description == "OFFLINE_SOFT")
    }

    @Test("Endpoints and keys describe themselves and order by hostgroup, host, port")
    func keys() {
        #expect(ServerEndpoint(host: "db1", port: 3306).description == "db1:3306")
        #expect(ServerEndpoint(host: "::1", port: 6033).description == "[::1]:6033")
        let a = BackendServer.Key(hostgroup: 10, host: "b", port: 1)
        let b = BackendServer.Key(hostgroup: 11, host: "a", port: 1)
        let c = BackendServer.Key(hostgroup: 10, host: "b", port: 2)
        #expect([b, c, a].sorted() == [a, c, b])
        #expect(a.description == "10/b:1")
        #expect(HostgroupID(-1).isValid == false)
        #expect(ServerEndpoint(host: "", port: 1).isValid == false)
        #expect(ServerEndpoint(host: "h", port: 65536).isValid == false)
    }

    @Test("BackendServer defaults are ProxySQL's column defaults")
    func defaults() {
        let server = BackendServer(hostgroup: 10, host: "aurora-writer", status: .offlineHard)
        #expect(server.endpoint.port == 3306)
        #expect(server.gtidPort == 0)
        #expect(server.weight == 1)
        #expect(server.compression == 0)
        #expect(server.maxConnections == 1000)
        #expect(server.maxReplicationLag == 0)
        #expect(server.useSSL == false)
        #expect(server.maxLatencyMs == 0)
        #expect(server.comment == "")
        #expect(server.validationProblems.isEmpty)
    }

    @Test("BackendServer validation mirrors ProxySQL's CHECK constraints")
    func validation() {
        var server = BackendServer(hostgroup: -1, host: "", port: 70000, weight: 10_000_001, maxConnections: -1)
        server.gtidPort = 70000
        server.compression = 2
        server.maxReplicationLag = 126_144_001
        server.maxLatencyMs = -5
        #expect(
            server.validationProblems == [
                "hostgroup_id -1 is negative", "hostname is empty", "port 70000 is outside 0...65535",
                "gtid_port 70000 is outside 0...65535", "gtid_port equals port",
                "weight 10000001 is outside 0...10000000",
                "compression 2 is not 0 or 1", "max_connections -1 is negative",
                "max_replication_lag 126144001 is outside 0...126144000", "max_latency_ms -5 is negative",
            ]
        )
        var sameGTID = BackendServer(hostgroup: 1, host: "h", port: 3306)
        sameGTID.gtidPort = 3306
        #expect(sameGTID.validationProblems == ["gtid_port equals port"])
        #expect(
            BackendServer(hostgroup: 0, host: "h", port: 0, weight: 0, maxConnections: 0).validationProblems.isEmpty)
        #expect(BackendServer(hostgroup: 0, host: "h", weight: 10_000_000).validationProblems.isEmpty)
    }

    @Test("BackendServer reads a mysql_servers row whose every value is text")
    func serverFromRow() throws {
        let rows = ResultSet(
            columnNames: BackendServer.columnNames,
            rows: [["10", "db1", "3306", "0", "offline_soft", "100", "0", "200", "5", "1", "20", "writer 'main'"]]
        )
        let server = try BackendServer(row: rows[0])
        #expect(server.key == BackendServer.Key(hostgroup: 10, host: "db1", port: 3306))
        #expect(server.status == .offlineSoft)
        #expect(server.weight == 100)
        #expect(server.maxConnections == 200)
        #expect(server.maxReplicationLag == 5)
        #expect(server.useSSL)
        #expect(server.maxLatencyMs == 20)
        #expect(server.comment == "writer 'main'")
        #expect(server.value(of: .useSSL) == "1")
        #expect(server.value(of: .status) == "OFFLINE_SOFT")
    }

    @Test("A malformed mysql_servers row is an unexpectedResult naming the column")
    func serverFromBadRow() {
        let missing = ResultSet(columnNames: ["hostgroup_id", "hostname"], rows: [["10", "db1"]])
        let error = #expect(throws: ProxySQLAdminError.self) { try BackendServer(row: missing[0]) }
        #expect(error?.code == .unexpectedResult)
        #expect(error?.message == "mysql_servers.port is missing from the result")

        var cells: [String?] = ["10", "db1", "3306", "0", "ONLINE", "1", "0", "1000", "0", "0", "0", ""]
        cells[5] = "heavy"
        let bad = ResultSet(columnNames: BackendServer.columnNames, rows: [cells])
        #expect(throws: ProxySQLAdminError(code: .unexpectedResult)) { try BackendServer(row: bad[0]) }
        cells[5] = "1"
        cells[4] = "MAINTENANCE"
        let badStatus = ResultSet(columnNames: BackendServer.columnNames, rows: [cells])
        #expect(throws: ProxySQLAdminError(code: .unexpectedResult)) { try BackendServer(row: badStatus[0]) }
        cells[4] = "ONLINE"
        cells[11] = nil
        let nullComment = ResultSet(columnNames: BackendServer.columnNames, rows: [cells])
        #expect(throws: ProxySQLAdminError(code: .unexpectedResult)) { try BackendServer(row: nullComment[0]) }
    }

    static let poolColumns = [
        "hostgroup", "srv_host", "srv_port", "status", "ConnUsed", "ConnFree", "ConnOK", "ConnERR", "MaxConnUsed",
        "Queries", "Queries_GTID_sync", "Bytes_data_sent", "Bytes_data_recv", "Latency_us",
    ]

    @Test("ConnectionPoolStats reads a stats_mysql_connection_pool row")
    func poolStats() throws {
        let rows = ResultSet(
            columnNames: Self.poolColumns,
            rows: [
                [
                    "10", "db1", "3306", "SHUNNED_REPLICATION_LAG", "3", "7", "12", "1", "9", "4000", "0", "123", "456",
                    "250",
                ]
            ]
        )
        let stats = try ConnectionPoolStats(row: rows[0])
        #expect(stats.key == BackendServer.Key(hostgroup: 10, host: "db1", port: 3306))
        #expect(stats.status == .shunned)
        #expect(stats.statusText == "SHUNNED_REPLICATION_LAG")
        #expect(stats.connectionsUsed == 3)
        #expect(stats.connectionsFree == 7)
        #expect(stats.connectionsOK == 12)
        #expect(stats.connectionsErrored == 1)
        #expect(stats.maxConnectionsUsed == 9)
        #expect(stats.queries == 4000)
        #expect(stats.queriesGTIDSync == 0)
        #expect(stats.bytesSent == 123)
        #expect(stats.bytesReceived == 456)
        #expect(stats.latencyMicroseconds == 250)
        #expect(!stats.isDrained)
    }

    @Test("Queries_GTID_sync is optional; ConnUsed is not")
    func poolStatsOptionalColumns() throws {
        let columns = Self.poolColumns.filter { $0 != "Queries_GTID_sync" }
        let rows = ResultSet(
            columnNames: columns,
            rows: [["10", "db1", "3306", "OFFLINE_SOFT", "0", "0", "1", "0", "1", "5", "0", "0", "0"]])
        let stats = try ConnectionPoolStats(row: rows[0])
        #expect(stats.queriesGTIDSync == nil)
        #expect(stats.isDrained)
        let noUsed = ResultSet(
            columnNames: columns.filter { $0 != "ConnUsed" },
            rows: [["10", "db1", "3306", "ONLINE", "0", "1", "0", "1", "5", "0", "0", "0"]])
        #expect(throws: ProxySQLAdminError(code: .unexpectedResult)) { try ConnectionPoolStats(row: noUsed[0]) }
    }

    static let processlistColumns = [
        "ThreadID", "SessionID", "user", "db", "cli_host", "cli_port", "hostgroup", "l_srv_host", "l_srv_port",
        "srv_host", "srv_port", "command", "time_ms", "info",
    ]

    @Test("ProcesslistEntry reads sessions with and without a backend connection")
    func processlist() throws {
        let rows = ResultSet(
            columnNames: Self.processlistColumns,
            rows: [
                [
                    "1", "42", "app", "shop", "10.0.0.5", "51234", "10", "10.0.0.9", "40000", "db1", "3306", "Sleep",
                    "1500", nil,
                ],
                ["0", "43", "app", nil, "localhost", nil, "10", nil, nil, nil, nil, "Sleep", "3", nil],
            ]
        )
        let pinned = try ProcesslistEntry(row: rows[0])
        #expect(pinned.sessionID == 42)
        #expect(pinned.threadID == 1)
        #expect(pinned.user == "app")
        #expect(pinned.database == "shop")
        #expect(pinned.clientPort == 51234)
        #expect(pinned.hostgroup == 10)
        #expect(pinned.localBackendEndpoint == ServerEndpoint(host: "10.0.0.9", port: 40000))
        #expect(pinned.backendEndpoint == ServerEndpoint(host: "db1", port: 3306))
        #expect(pinned.timeMilliseconds == 1500)
        #expect(pinned.isIdleHoldingBackend)
        #expect(pinned.statusFlags == nil)

        let idle = try ProcesslistEntry(row: rows[1])
        #expect(idle.database == nil)
        #expect(idle.clientPort == nil)
        #expect(idle.backendEndpoint == nil)
        #expect(!idle.holdsBackendConnection)
        #expect(!idle.isIdleHoldingBackend)
    }

    @Test("ProcesslistEntry reads status_flags and extended_info when present")
    func processlistExtended() throws {
        let rows = ResultSet(
            columnNames: Self.processlistColumns + ["status_flags", "extended_info"],
            rows: [["1", "7", "u", "d", "h", "1", "11", "l", "2", "db2", "3307", "Query", "5", "SELECT 1", "16", "{}"]]
        )
        let entry = try ProcesslistEntry(row: rows[0])
        #expect(entry.statusFlags == 16)
        #expect(entry.extendedInfo == "{}")
        #expect(entry.info == "SELECT 1")
        #expect(!entry.isIdleHoldingBackend)
    }

    @Test("Replication hostgroup pairs read with and without check_type")
    func replicationPairs() throws {
        let current = ResultSet(
            columnNames: ["writer_hostgroup", "reader_hostgroup", "check_type", "comment"],
            rows: [["10", "11", "innodb_read_only", "aurora"]]
        )
        let pair = try ReplicationHostgroupPair(row: current[0])
        #expect(pair.writerHostgroup == 10)
        #expect(pair.readerHostgroup == 11)
        #expect(pair.checkType == .innodbReadOnly)
        #expect(pair.comment == "aurora")
        #expect(pair.contains(10) && pair.contains(11) && !pair.contains(12))

        let old = ResultSet(columnNames: ["writer_hostgroup", "reader_hostgroup", "comment"], rows: [["1", "2", ""]])
        #expect(try ReplicationHostgroupPair(row: old[0]).checkType == .readOnly)
    }

    @Test("Monitor exposure finds pairs whose writer or reader hostgroup holds the server")
    func exposure() {
        let aurora = ServerEndpoint(host: "aurora", port: 3306)
        let pairs = [
            ReplicationHostgroupPair(writerHostgroup: 10, readerHostgroup: 11),
            ReplicationHostgroupPair(writerHostgroup: 20, readerHostgroup: 21),
            ReplicationHostgroupPair(writerHostgroup: 30, readerHostgroup: 31),
        ]
        let servers = [
            BackendServer(hostgroup: 11, host: "aurora", status: .offlineHard),
            BackendServer(hostgroup: 20, host: "aurora"),
            BackendServer(hostgroup: 21, host: "aurora"),
            BackendServer(hostgroup: 30, host: "other"),
            BackendServer(hostgroup: 31, host: "aurora", port: 3307),
            BackendServer(hostgroup: 40, host: "aurora"),
        ]
        let found = MonitorExposure.find(endpoint: aurora, pairs: pairs, servers: servers, layer: .configured)
        #expect(found.map(\.pair.writerHostgroup) == [10, 20])
        #expect(found[0].servers.map(\.hostgroup) == [11])
        #expect(found[1].servers.map(\.hostgroup) == [20, 21])
        #expect(
            found[0].description == "aurora:3306 in hostgroups 11 of writer 10 / reader 11 (read_only) [configured]")
        #expect(MonitorExposure.find(endpoint: aurora, pairs: [], servers: servers, layer: .runtime).isEmpty)
    }

    @Test("Variables read as text and convert")
    func variables() throws {
        let rows = ResultSet(
            columnNames: ["variable_name", "variable_value"],
            rows: [["mysql-query_retries_on_failure", "1"], ["mysql-monitor_enabled", "false"]]
        )
        let retries = try ProxySQLVariable(row: rows[0])
        #expect(retries.name == .queryRetriesOnFailure)
        #expect(retries.intValue == 1)
        let monitor = try ProxySQLVariable(row: rows[1])
        #expect(monitor.boolValue == false)
        #expect(monitor.intValue == nil)
        #expect(ProxySQLVariable.Name.connectTimeoutServerMax.rawValue == "mysql-connect_timeout_server_max")
        #expect(ProxySQLVariable.Name.autoIncrementDelayMultiplex.rawValue == "mysql-auto_increment_delay_multiplex")
    }

    @Test("Variable values match as text, integers or booleans")
    func valuesMatch() {
        #expect(ProxySQLVariable.valuesMatch("0", "0"))
        #expect(ProxySQLVariable.valuesMatch("010", "10"))
        #expect(ProxySQLVariable.valuesMatch("true", "1"))
        #expect(ProxySQLVariable.valuesMatch("FALSE", "false"))
        #expect(!ProxySQLVariable.valuesMatch("1", "0"))
        #expect(!ProxySQLVariable.valuesMatch("true", "0"))
        #expect(!ProxySQLVariable.valuesMatch("@a", "@b"))
    }

    @Test("ProxySQL versions parse their leading number")
    func versions() {
        let version = ProxySQLVersion(versionString: "2.7.1-16-g2726c27")
        #expect(version.version == ServerVersion(2, 7, 1))
        #expect(version.description == "2.7.1-16-g2726c27")
        #expect(ProxySQLVersion(versionString: "garbage").version == ServerVersion(0))
    }

    @Test("Server changes validate and describe themselves")
    func changes() {
        #expect(ServerChange().isEmpty)
        #expect(ServerChange().validationProblems == ["the change sets no column"])
        #expect(ServerChange(weight: -1).validationProblems.count == 1)
        #expect(ServerChange(maxConnections: -1, maxReplicationLag: 126_144_001).validationProblems.count == 2)
        #expect(ServerChange(status: .offlineSoft, weight: 0).description == "status=OFFLINE_SOFT weight=0")
    }
}
