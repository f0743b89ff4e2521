import ReplicationControl
import Testing

@Suite("DumpCoordinates")
struct DumpCoordinatesTests {
    /// The header `mariadb-dump --master-data=2` (10.11) writes.
    static let mariaDBCommented = """
        -- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
        --
        -- Host: 127.0.0.1    Database:
        -- ------------------------------------------------------
        /*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;

        --
        -- Position to start replication or point-in-time recovery from
        --

        -- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000002', MASTER_LOG_POS=1337;

        --
        -- Current Database: `app`
        --

        CREATE DATABASE /*!32312 IF NOT EXISTS*/ `app`;
        CREATE TABLE `t` (`id` int NOT NULL);
        INSERT INTO `t` VALUES (1);
        -- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000009', MASTER_LOG_POS=4;
        """

    @Test func readsMariaDBCommentedHeaderAndStopsAtTheData() throws {
        let coordinates = try DumpCoordinates.parse(Self.mariaDBCommented)
        #expect(coordinates.position == (try BinlogPosition(file: "mariadb-bin.000002", offset: 1337)))
        #expect(coordinates.positionCommented)
        #expect(coordinates.syntax == .changeMaster)
        #expect(coordinates.namedSourceHost == nil)
    }

    @Test func readsMySQL84SourceDataUncommentedWithMultiLineGTIDPurged() throws {
        let header = """
            -- MySQL dump 10.13  Distrib 8.4.3, for Linux (x86_64)
            SET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN;
            SET @@SESSION.SQL_LOG_BIN= 0;

            --
            -- GTID state at the beginning of the backup
            --

            SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-105,
            4e11fa47-71ca-11e1-9e33-c80aa9429562:1-3';

            --
            -- Position to start replication or point-in-time recovery from
            --

            CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157;
            """
        let coordinates = try DumpCoordinates.parse(header)
        #expect(coordinates.position == (try BinlogPosition(file: "binlog.000002", offset: 157)))
        #expect(!coordinates.positionCommented)
        #expect(coordinates.syntax == .changeReplicationSource)
        #expect(coordinates.mySQLGTIDPurged == "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-105,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-3")
        #expect(coordinates.gtidPurgedAppends)
    }

    @Test func readsMySQL57MasterDataAndLegacyGTIDPurged() throws {
        let header = """
            SET @@GLOBAL.GTID_PURGED='3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5';
            -- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=154;
            """
        let coordinates = try DumpCoordinates.parse(header)
        #expect(coordinates.position?.description == "mysql-bin.000003:154")
        #expect(coordinates.mySQLGTIDPurged == "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")
        #expect(!coordinates.gtidPurgedAppends)
    }

    @Test func readsMariaDBGTIDHeader() throws {
        let header = """
            --
            -- Preferably use GTID to start replication from GTID position:
            --

            -- SET GLOBAL gtid_slave_pos='0-1-5,7-2-11';
            --
            -- GTID position to start replication:
            -- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;
            --
            -- Use only the MASTER_USE_GTID=slave_pos or MASTER_LOG_FILE/MASTER_LOG_POS in the statements below.
            -- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000001', MASTER_LOG_POS=328;
            """
        let coordinates = try DumpCoordinates.parse(header)
        #expect(coordinates.mariaDBGTIDSlavePosition == "0-1-5,7-2-11")
        #expect(coordinates.mariaDBUsesGTID)
        #expect(coordinates.position?.description == "mariadb-bin.000001:328")
    }

    /// mariadb-dump 10.11 `--master-data=2 --gtid`, as captured: the GTID state is deferred to the end of the dump.
    @Test func readsMariaDBDeferredGTIDStateFromTheTrailer() throws {
        let header = """
            -- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;

            -- A corresponding to the above master-data CHANGE-MASTER settings to the slave gtid state is printed later in the file.

            -- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000001', MASTER_LOG_POS=773;
            CREATE DATABASE /*!32312 IF NOT EXISTS*/ `app`;
            """
        let trailer = """
            UNLOCK TABLES;

            -- The deferred gtid setting for slave corresponding to the master-data CHANGE-MASTER follows

            -- Preferably use GTID to start replication from GTID position:

            -- SET GLOBAL gtid_slave_pos='0-7-3';
            /*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;
            """
        let withoutTrailer = try DumpCoordinates.parse(header)
        #expect(withoutTrailer.mariaDBGTIDSlavePosition == nil)
        let coordinates = try DumpCoordinates.parse(header, trailer: trailer)
        #expect(coordinates.mariaDBGTIDSlavePosition == "0-7-3")
        #expect(coordinates.mariaDBUsesGTID)
        #expect(coordinates.position?.description == "mariadb-bin.000001:773")
    }

    @Test func flagsADumpTakenFromAReplica() throws {
        let header = "CHANGE MASTER TO MASTER_HOST='10.0.0.9', MASTER_PORT=3306, MASTER_LOG_FILE='mysql-bin.000007', MASTER_LOG_POS=99;"
        let coordinates = try DumpCoordinates.parse(header)
        #expect(coordinates.namedSourceHost == "10.0.0.9")
        #expect(coordinates.position?.offset == 99)
    }

    @Test func windowsLineEndingsAndNamedConnections() throws {
        let header = "-- CHANGE MASTER 'primary' TO MASTER_LOG_FILE='bin.000004', MASTER_LOG_POS=120;\r\n"
        #expect(try DumpCoordinates.parse(header).position?.description == "bin.000004:120")
    }

    @Test(arguments: [
        "-- just a dump\nCREATE TABLE t (id int);\n",
        "-- CHANGE MASTER TO MASTER_LOG_FILE='a.000001', MASTER_LOG_POS=4;\nCHANGE MASTER TO MASTER_LOG_FILE='a.000002', MASTER_LOG_POS=4;",
        "CHANGE MASTER TO MASTER_LOG_FILE='a.000001';",
        "CHANGE MASTER TO MASTER_LOG_FILE='a.000001', MASTER_LOG_POS=abc;",
        "",
    ])
    func refusesHeadersWithoutUsableCoordinates(_ header: String) {
        #expect(throws: ReplicationError.self) { try DumpCoordinates.parse(header) }
    }

    @Test func coordinatesAfterTheFirstTableAreNotHeader() {
        let header = "CREATE TABLE t (id int);\n-- CHANGE MASTER TO MASTER_LOG_FILE='a.000001', MASTER_LOG_POS=4;\n"
        #expect(throws: ReplicationError.self) { try DumpCoordinates.parse(header) }
    }
}
