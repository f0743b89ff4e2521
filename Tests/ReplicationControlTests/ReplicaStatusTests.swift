import MariaDB
import ReplicationControl
import Testing

@Suite("ReplicaStatus parsing")
struct ReplicaStatusTests {
    @Test(arguments: Fixtures.allReplicaStatusNames)
    func everyFixtureParses(name: String) throws {
        let statuses = try Fixtures.replicaStatuses(name)
        #expect(!statuses.isEmpty)
        for status in statuses { #expect(status.isConfigured) }
    }

    // MARK: MySQL

    @Test func mysql57LegacyNames() throws {
        let status = try Fixtures.replicaStatus("mysql-5.7-show-slave-status")
        #expect(status.columnNaming == .legacy)
        #expect(status.isRunning)
        #expect(status.ioThreadStateText == "Waiting for master to send event")
        #expect(status.sourceHost == "localhost")
        #expect(status.sourcePort == 13000)
        #expect(status.sourceUser == "repl")
        #expect(status.receivedPosition == (try BinlogPosition(file: "master-bin.000002", offset: 1307)))
        #expect(status.executedPosition == (try BinlogPosition(file: "master-bin.000002", offset: 1307)))
        #expect(status.secondsBehindSource == 0)
        #expect(status.lastIOError == nil)
        #expect(status.lastSQLError == nil)
        #expect(status.sourceServerID == 1)
        #expect(status.sourceUUID == "3e11fa47-71ca-11e1-9e33-c80aa9429562")
        #expect(status.gtid.mode == .autoPosition)
        #expect(status.gtid.executedSet == (try MySQLGTIDSet(parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")))
        #expect(status.gtid.retrievedSet == status.gtid.executedSet)
        #expect(status.filters.isEmpty)
        #expect(status.channelName == "")
        #expect(status.sqlDelay == 0)
        #expect(status.untilCondition == "None")
    }

    @Test(arguments: ["mysql-8.0-show-replica-status", "mysql-8.4-show-replica-status"])
    func mysqlModernNames(name: String) throws {
        let status = try Fixtures.replicaStatus(name)
        #expect(status.columnNaming == .modern)
        #expect(status.isRunning)
        #expect(status.sqlThreadStateText == "Replica has read all relay log; waiting for more updates")
        #expect(status.sourceHost == "127.0.0.1")
        #expect(status.sourcePort == 13000)
        #expect(status.executedPosition == (try BinlogPosition(file: "master-bin.000001", offset: 927)))
        #expect(status.receivedPosition == status.executedPosition)
        #expect(status.secondsBehindSource == 0)
        #expect(status.gtid.mode == .autoPosition)
        #expect(status.gtid.executedSet?.description == "73f86016-978b-11ee-ade5-8d2a2a562feb:1-3")
    }

    @Test func mysqlTwoChannelsWithMultiLineGTIDSet() throws {
        let statuses = try Fixtures.replicaStatuses("mysql-8.4-two-channels")
        #expect(statuses.map(\.channelName) == ["source_1", "source_2"])
        let first = statuses[0]
        let second = statuses[1]
        #expect(first.isRunning)
        #expect(first.secondsBehindSource == 2)
        #expect(
            first.gtid.executedSet?.description
                == "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-50,4a6d1b7e-71ca-11e1-9e33-c80aa9429562:1-9"
        )
        #expect(second.ioThread == .connecting)
        #expect(second.sqlThread == .running)
        #expect(!second.isRunning)
        #expect(second.secondsBehindSource == nil)
        #expect(second.lastIOError?.number == 2003)
        #expect(second.lastSQLError == nil)
        // Received in file 10, executed in file 9: the two coordinates are distinct.
        #expect(second.receivedPosition == (try BinlogPosition(file: "binlog.000010", offset: 4)))
        #expect(second.executedPosition == (try BinlogPosition(file: "binlog.000009", offset: 1177)))
        #expect(try second.executedPosition!.isBefore(second.receivedPosition!))
        #expect(second.filters.ignoreServerIDs == [11, 13])
    }

    // MARK: Aurora

    @Test(arguments: ["aurora-v3-io-error-1236", "aurora-v2-io-error-1236"])
    func auroraIOErrorAndNullLag(name: String) throws {
        let status = try Fixtures.replicaStatus(name)
        #expect(status.ioThread == .stopped)
        #expect(status.sqlThread == .running)
        #expect(status.secondsBehindSource == nil)
        #expect(status.lastIOError?.number == 1236)
        #expect(status.lastIOError?.message.hasPrefix("Got fatal error 1236") == true)
        #expect(status.lastSQLError == nil)
        #expect(status.receivedPosition == (try BinlogPosition(file: "mysql-bin-changelog.012345", offset: 1_219_393)))
        #expect(status.executedPosition == (try BinlogPosition(file: "mysql-bin-changelog.012345", offset: 30_223_232)))
        #expect(status.sourceServerID == 67_285_976)
        #expect(status.gtid.mode == .off)
    }

    @Test func auroraSQLErrorWithFilterAndMultiLineGTIDs() throws {
        let status = try Fixtures.replicaStatus("aurora-v3-sql-error-multiline-gtid")
        #expect(status.ioThread == .running)
        #expect(status.sqlThread == .stopped)
        #expect(status.hasError)
        #expect(status.lastSQLError?.number == 1062)
        #expect(status.lastSQLError?.timestamp == "231024 09:15:02")
        #expect(status.filters.wildIgnoreTables == ["mysql.rds\\_%"])
        #expect(status.gtid.executedSet?.intervals.count == 2)
        #expect(status.executedPosition == (try BinlogPosition(file: "mysql-bin-changelog.000123", offset: 3925)))
        #expect(status.secondsBehindSource == nil)
    }

    // MARK: MariaDB (captured)

    @Test func mariaDBRunningByPosition() throws {
        let status = try Fixtures.replicaStatus("mariadb-10.11-running-position")
        #expect(status.columnNaming == .legacy)
        #expect(status.isRunning)
        #expect(status.gtid.mode == .off)
        #expect(status.gtid.receivedPosition == nil)
        #expect(status.executedPosition == (try BinlogPosition(file: "mysql-bin.000001", offset: 1376)))
        #expect(status.sourcePort != nil)
        #expect(status.secondsBehindSource == 0)
    }

    @Test func mariaDBShowReplicaStatusKeepsOldNames() throws {
        let status = try Fixtures.replicaStatus("mariadb-10.11-show-replica-status")
        #expect(status.columnNaming == .legacy)
        #expect(status.isRunning)
    }

    @Test func mariaDBRunningWithGTID() throws {
        let status = try Fixtures.replicaStatus("mariadb-10.11-running-gtid")
        #expect(status.gtid.mode == .mariaDBSlavePos)
        #expect(status.gtid.receivedPosition == (try MariaDBGTIDPosition(parsing: "1-1-8")))
    }

    @Test func mariaDBStopped() throws {
        let status = try Fixtures.replicaStatus("mariadb-10.11-stopped")
        #expect(status.isStopped)
        #expect(status.secondsBehindSource == nil)
        #expect(status.ioThreadStateText == nil)
        #expect(!status.hasError)
    }

    @Test func mariaDBSQLThreadStopped() throws {
        let status = try Fixtures.replicaStatus("mariadb-10.11-sql-thread-stopped")
        #expect(status.ioThread == .running)
        #expect(status.sqlThread == .stopped)
        #expect(status.secondsBehindSource == nil)
        #expect(!status.hasError)
    }

    @Test func mariaDBDuplicateKeyError() throws {
        let status = try Fixtures.replicaStatus("mariadb-10.11-sql-error-duplicate")
        #expect(status.sqlThread == .stopped)
        #expect(status.lastSQLError?.number == 1062)
        #expect(status.lastSQLError?.message.contains("Duplicate entry '4' for key 'PRIMARY'") == true)
        #expect(status.executedPosition == (try BinlogPosition(file: "mysql-bin.000001", offset: 1376)))
        #expect(try status.executedPosition!.isBefore(status.receivedPosition!))
    }

    @Test(arguments: ["mariadb-10.11-io-connecting", "mariadb-10.11-io-access-denied"])
    func mariaDBConnecting(name: String) throws {
        let status = try Fixtures.replicaStatus(name)
        #expect(status.ioThread == .connecting)
        #expect(status.sqlThread == .running)
        #expect(!status.isRunning)
        #expect(status.ioThreadStateText == "Connecting to master")
        #expect([2003, 1045].contains(status.lastIOError?.number))
    }

    @Test func mariaDBAfterResetHasNoCoordinates() throws {
        let status = try Fixtures.replicaStatus("mariadb-10.11-after-reset")
        #expect(status.isStopped)
        #expect(status.receivedPosition == nil)
        #expect(status.executedPosition == nil)
        #expect(status.gtid.mode == .mariaDBSlavePos)
        #expect(status.gtid.receivedPosition == nil)
    }

    @Test func mariaDBAllSlavesStatusIsMultiChannel() throws {
        let statuses = try Fixtures.replicaStatuses("mariadb-10.11-all-slaves-two")
        #expect(statuses.map(\.channelName) == ["", "second"])
        #expect(statuses[0].lastSQLError?.number == 1062)
        #expect(statuses[1].ioThread == .connecting)
        #expect(statuses[1].lastIOError?.number == 2003)
        let one = try Fixtures.replicaStatus("mariadb-10.11-all-slaves-one")
        #expect(one.gtid.executedPosition == (try MariaDBGTIDPosition(parsing: "1-1-6")))
    }

    // MARK: Odd inputs

    @Test func emptyResultMeansNotConfigured() throws {
        let empty = ResultSet(columnNames: ["Slave_IO_State", "Slave_IO_Running", "Slave_SQL_Running"], rows: [])
        #expect(try ReplicaStatus.parse(empty).isEmpty)
        #expect(try ReplicaStatus.parse(SQLResult()).isEmpty)
        #expect(!ReplicaStatus.notConfigured().isConfigured)
        #expect(ReplicaStatus.notConfigured().isStopped)
    }

    @Test func invalidFileAtPositionZeroIsAbsent() throws {
        let status = try parse([
            "Slave_IO_Running": "No", "Slave_SQL_Running": "No", "Master_Log_File": "INVALID",
            "Read_Master_Log_Pos": "0", "Relay_Master_Log_File": "INVALID", "Exec_Master_Log_Pos": "0",
        ])
        #expect(status.receivedPosition == nil)
        #expect(status.executedPosition == nil)
    }

    @Test func invalidFileWithARealOffsetFailsClearly() throws {
        let error = try #require(throws: ReplicationError.self) {
            try parse([
                "Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes", "Relay_Master_Log_File": "INVALID",
                "Exec_Master_Log_Pos": "1234",
            ])
        }
        #expect(error.code == .malformedStatus)
        #expect(error.message.contains("Relay_Master_Log_File"))
    }

    @Test func nullSecondsBehindIsAbsentAndGarbageThrows() throws {
        let status = try parse([
            "Replica_IO_Running": "Yes", "Replica_SQL_Running": "Yes", "Seconds_Behind_Source": nil,
        ])
        #expect(status.secondsBehindSource == nil)
        #expect(status.columnNaming == .modern)
        #expect(throws: ReplicationError(code: .malformedStatus, message: "")) {
            try parse(["Replica_IO_Running": "Yes", "Replica_SQL_Running": "Yes", "Seconds_Behind_Source": "soon"])
        }
    }

    @Test func unknownThreadStateAndMissingColumnsThrow() throws {
        let unknown = try #require(throws: ReplicationError.self) {
            try parse(["Slave_IO_Running": "Maybe", "Slave_SQL_Running": "Yes"])
        }
        #expect(unknown.message.contains("Slave_IO_Running"))
        let missing = try #require(throws: ReplicationError.self) { try parse(["Slave_IO_Running": "Yes"]) }
        #expect(missing.code == .malformedStatus)
        #expect(missing.message.contains("SQL_Running"))
    }

    @Test func mariaDBPreparingIsConnecting() throws {
        // Seen on MariaDB 10.11 right after START SLAVE, while the IO thread initialises.
        let status = try parse(["Slave_IO_Running": "Preparing", "Slave_SQL_Running": "Yes"])
        #expect(status.ioThread == .connecting)
    }

    @Test func columnNamesAreCaseInsensitive() throws {
        let status = try parse([
            "slave_io_running": "yes", "SLAVE_SQL_RUNNING": "YES", "exec_master_log_pos": "4",
            "relay_master_log_file": "b.000001",
        ])
        #expect(status.isRunning)
        #expect(status.executedPosition == (try BinlogPosition(file: "b.000001", offset: 4)))
    }

    @Test func columnOrderDoesNotMatter() throws {
        let names = [
            "Exec_Master_Log_Pos", "Slave_SQL_Running", "Relay_Master_Log_File", "Slave_IO_Running",
            "Seconds_Behind_Master",
        ]
        let forward = ResultSet(columnNames: names, rows: [["77", "Yes", "m.000003", "Connecting", nil]])
        let reversed = ResultSet(columnNames: names.reversed(), rows: [[nil, "Connecting", "m.000003", "Yes", "77"]])
        let one = try #require(try ReplicaStatus.parse(forward).first)
        let two = try #require(try ReplicaStatus.parse(reversed).first)
        #expect(one.executedPosition == two.executedPosition)
        #expect(one.ioThread == .connecting)
        #expect(two.ioThread == .connecting)
    }

    @Test func errorNumberWithoutTextStillCounts() throws {
        let status = try parse([
            "Slave_IO_Running": "Yes", "Slave_SQL_Running": "No", "Last_SQL_Errno": "1146", "Last_SQL_Error": "",
        ])
        #expect(status.lastSQLError == ReplicaStatus.ThreadError(number: 1146, message: ""))
    }

    private func parse(_ cells: KeyValuePairs<String, String?>) throws -> ReplicaStatus {
        let resultSet = ResultSet(columnNames: cells.map(\.key), rows: [cells.map(\.value)])
        return try ReplicaStatus(row: resultSet[0])
    }
}

@Suite("SourceStatus parsing")
struct SourceStatusTests {
    @Test(arguments: ["mysql-8.0-show-master-status", "mysql-8.4-show-binary-log-status"])
    func mysql(name: String) throws {
        let status = try SourceStatus.parse(SQLResult(resultSets: [Fixtures.resultSet("source-status/\(name).txt")]))
        #expect(status.position == (try BinlogPosition(file: "source-bin.000002", offset: 1307)))
        #expect(status.binlogDoDatabases == ["test"])
        #expect(status.binlogIgnoreDatabases == ["manual", "mysql"])
        #expect(status.gtid == .mysql(try MySQLGTIDSet(parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")))
        #expect(
            CatchUpTarget.gtid(of: status)
                == .mysqlGTIDSet(try MySQLGTIDSet(parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")))
    }

    @Test(arguments: ["mariadb-10.11-show-master-status", "mariadb-10.11-show-binlog-status"])
    func mariaDB(name: String) throws {
        let gtidRow = try Fixtures.resultSet("source-status/mariadb-10.11-gtid-binlog-pos.txt")[0]
        let status = try SourceStatus.parse(
            SQLResult(resultSets: [Fixtures.resultSet("source-status/\(name).txt")]),
            mariaDBGTIDBinlogPosition: gtidRow["gtid_binlog_pos"]?.string
        )
        #expect(status.position == (try BinlogPosition(file: "mysql-bin.000001", offset: 1814)))
        #expect(status.binlogDoDatabases.isEmpty)
        #expect(status.gtid == .mariaDB(try MariaDBGTIDPosition(parsing: "1-1-8")))
        #expect(CatchUpTarget.position(of: status) == .position(status.position))
    }

    @Test func auroraEmptyGTIDSet() throws {
        let status = try SourceStatus.parse(
            SQLResult(resultSets: [Fixtures.resultSet("source-status/aurora-v3-show-master-status.txt")]))
        #expect(status.position.file == "mysql-bin-changelog.000002")
        #expect(status.gtid == .mysql(MySQLGTIDSet()))
    }

    @Test func noRowMeansBinaryLogOff() throws {
        let empty = SQLResult(resultSets: [ResultSet(columnNames: ["File", "Position"], rows: [])])
        #expect(throws: ReplicationError(code: .binaryLogDisabled, message: "")) { try SourceStatus.parse(empty) }
        let malformed = SQLResult(resultSets: [ResultSet(columnNames: ["File", "Position"], rows: [["binlog", "4"]])])
        #expect(throws: ReplicationError(code: .malformedStatus, message: "")) { try SourceStatus.parse(malformed) }
    }
}
