import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

@Suite("ReplicationDialect")
struct ReplicationDialectTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    struct Expectation: Sendable, CustomTestStringConvertible {
        let name: String
        let dialect: ReplicationDialect
        let replicaStatus: String
        let sourceStatus: String
        let start: String
        let stop: String
        let reset: String
        let positionWait: String
        var testDescription: String { name }
    }

    static let table: [Expectation] = [
        Expectation(
            name: "MySQL 5.7", dialect: Dialects.mysql57, replicaStatus: "SHOW SLAVE STATUS",
            sourceStatus: "SHOW MASTER STATUS",
            start: "START SLAVE FOR CHANNEL ''", stop: "STOP SLAVE FOR CHANNEL ''", reset: "RESET SLAVE ALL FOR CHANNEL ''", positionWait: "MASTER_POS_WAIT"
        ),
        Expectation(
            name: "MySQL 8.0.21", dialect: Dialects.mysql8021, replicaStatus: "SHOW SLAVE STATUS",
            sourceStatus: "SHOW MASTER STATUS",
            start: "START SLAVE FOR CHANNEL ''", stop: "STOP SLAVE FOR CHANNEL ''", reset: "RESET SLAVE ALL FOR CHANNEL ''", positionWait: "MASTER_POS_WAIT"
        ),
        Expectation(
            name: "MySQL 8.0.22", dialect: Dialects.mysql8022, replicaStatus: "SHOW REPLICA STATUS",
            sourceStatus: "SHOW MASTER STATUS",
            start: "START REPLICA FOR CHANNEL ''", stop: "STOP REPLICA FOR CHANNEL ''", reset: "RESET REPLICA ALL FOR CHANNEL ''", positionWait: "MASTER_POS_WAIT"
        ),
        Expectation(
            name: "MySQL 8.0.26", dialect: Dialects.mysql8026, replicaStatus: "SHOW REPLICA STATUS",
            sourceStatus: "SHOW MASTER STATUS",
            start: "START REPLICA FOR CHANNEL ''", stop: "STOP REPLICA FOR CHANNEL ''", reset: "RESET REPLICA ALL FOR CHANNEL ''", positionWait: "SOURCE_POS_WAIT"
        ),
        Expectation(
            name: "MySQL 8.4", dialect: Dialects.mysql84, replicaStatus: "SHOW REPLICA STATUS",
            sourceStatus: "SHOW BINARY LOG STATUS",
            start: "START REPLICA FOR CHANNEL ''", stop: "STOP REPLICA FOR CHANNEL ''", reset: "RESET REPLICA ALL FOR CHANNEL ''", positionWait: "SOURCE_POS_WAIT"
        ),
        Expectation(
            name: "MariaDB 10.4", dialect: Dialects.mariaDB104, replicaStatus: "SHOW SLAVE STATUS",
            sourceStatus: "SHOW MASTER STATUS",
            start: "START SLAVE", stop: "STOP SLAVE", reset: "RESET SLAVE ALL", positionWait: "MASTER_POS_WAIT"
        ),
        Expectation(
            name: "MariaDB 10.11", dialect: Dialects.mariaDB, replicaStatus: "SHOW SLAVE STATUS",
            sourceStatus: "SHOW BINLOG STATUS",
            start: "START SLAVE", stop: "STOP SLAVE", reset: "RESET SLAVE ALL", positionWait: "MASTER_POS_WAIT"
        ),
        Expectation(
            name: "Aurora 2.11", dialect: Dialects.auroraV2, replicaStatus: "SHOW SLAVE STATUS",
            sourceStatus: "SHOW MASTER STATUS",
            start: "START SLAVE FOR CHANNEL ''", stop: "STOP SLAVE FOR CHANNEL ''", reset: "RESET SLAVE ALL FOR CHANNEL ''", positionWait: "MASTER_POS_WAIT"
        ),
        Expectation(
            name: "Aurora 3.05", dialect: Dialects.auroraV3, replicaStatus: "SHOW REPLICA STATUS",
            sourceStatus: "SHOW MASTER STATUS",
            start: "START REPLICA FOR CHANNEL ''", stop: "STOP REPLICA FOR CHANNEL ''", reset: "RESET REPLICA ALL FOR CHANNEL ''", positionWait: "SOURCE_POS_WAIT"
        ),
    ]

    @Test(arguments: table)
    func statementsPerServer(_ expected: Expectation) throws {
        let dialect = expected.dialect
        #expect(dialect.replicaStatusStatement.rendered(for: .mysql) == expected.replicaStatus)
        #expect(dialect.sourceStatusStatement.rendered(for: .mysql) == expected.sourceStatus)
        #expect(dialect.startReplicaStatement.rendered(for: .mysql) == expected.start)
        #expect(dialect.stopReplicaStatement.rendered(for: .mysql) == expected.stop)
        #expect(dialect.resetReplicaStatement.rendered(for: .mysql) == expected.reset)
        let position = try BinlogPosition(file: "mysql-bin.000002", offset: 157)
        #expect(dialect.waitFunction(for: .position(position))?.name == expected.positionWait)
    }

    @Test func auroraVersionRaisesTheMySQLVersion() {
        #expect(Dialects.auroraV3.version == ServerVersion(8, 0, 32))
        #expect(Dialects.auroraV2.version == ServerVersion(5, 7, 12))
        #expect(!Dialects.auroraV3.allowsGlobalVariables)
        #expect(Dialects.auroraV3.isAurora)
        let early = ReplicationDialect(
            server: .auroraMySQL(auroraVersion: ServerVersion(3, 2, 0)), version: ServerVersion(8, 0, 0))
        #expect(early.version == ServerVersion(8, 0, 23))
        #expect(
            early.waitFunction(for: .position(try! BinlogPosition(file: "b.000001", offset: 4)))?.name
                == "MASTER_POS_WAIT")
    }

    /// Regression (#12): MySQL 9.7.4 replicating from MySQL 9.7.4 without TLS failed with IO error 2061
    /// ("Authentication requires secure connection") until the statement asked for the source's RSA key.
    @Test func mysqlWithoutTLSAsksForTheSourcePublicKey() throws {
        let plain = ReplicationSource(host: "h", port: 3306, user: "u", password: "p", startPoint: .autoPosition)
        var tls = plain
        tls.useTLS = true
        let mysql97 = ReplicationDialect(server: .mysql, version: ServerVersion(9, 7, 4))
        #expect(try mysql97.changeSourceStatements(plain)[0].rendered(for: .mysql).hasSuffix("SOURCE_SSL = 0, GET_SOURCE_PUBLIC_KEY = 1 FOR CHANNEL ''"))
        #expect(try mysql97.changeSourceStatements(tls)[0].rendered(for: .mysql).hasSuffix("SOURCE_SSL = 1 FOR CHANNEL ''"))
        #expect(try !Dialects.mariaDB.changeSourceStatements(plain)[0].rendered(for: .mysql).contains("PUBLIC_KEY"))
        #expect(ReplicationDialect(server: .mysql, version: ServerVersion(5, 7, 44)).requestsSourcePublicKey(useTLS: false) == false)
    }

    @Test func changeSourceStatements() throws {
        let position = try BinlogPosition(file: "mysql-bin-changelog.000002", offset: 157)
        let source = ReplicationSource(
            host: "10.0.0.7", port: 3306, user: "repl", password: "s3cr'et", startPoint: .position(position))
        let mariaDB = try Dialects.mariaDB.changeSourceStatements(source).map { $0.rendered(for: .mysql) }
        #expect(
            mariaDB == [
                "CHANGE MASTER TO MASTER_HOST = '10.0.0.7', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 's3cr''et', "
                    + "MASTER_LOG_FILE = 'mysql-bin-changelog.000002', MASTER_LOG_POS = 157, MASTER_USE_GTID = no, MASTER_SSL = 0"
            ]
        )
        let redacted = try Dialects.mariaDB.changeSourceStatements(source)[0].redacted
        #expect(!redacted.contains("s3cr"))
        let mysql84 = try Dialects.mysql84.changeSourceStatements(
            ReplicationSource(
                host: "h", port: 3307, user: "u", password: "p", startPoint: .autoPosition, useTLS: true,
                connectRetrySeconds: 5)
        )
        #expect(
            mysql84.map { $0.rendered(for: .mysql) } == [
                "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'h', SOURCE_PORT = 3307, SOURCE_USER = 'u', SOURCE_PASSWORD = 'p', "
                    + "SOURCE_AUTO_POSITION = 1, SOURCE_SSL = 1, SOURCE_CONNECT_RETRY = 5 FOR CHANNEL ''"
            ]
        )
        let mysql8021 = try Dialects.mysql8021.changeSourceStatements(
            ReplicationSource(host: "h", port: 3306, user: "u", password: "p", startPoint: .position(position))
        )
        #expect(
            mysql8021.map { $0.rendered(for: .mysql) } == [
                "CHANGE MASTER TO MASTER_HOST = 'h', MASTER_PORT = 3306, MASTER_USER = 'u', MASTER_PASSWORD = 'p', "
                    + "MASTER_LOG_FILE = 'mysql-bin-changelog.000002', MASTER_LOG_POS = 157, MASTER_AUTO_POSITION = 0, MASTER_SSL = 0, "
                    + "GET_MASTER_PUBLIC_KEY = 1 FOR CHANNEL ''"
            ]
        )
        let gtid = try Dialects.mariaDB.changeSourceStatements(
            ReplicationSource(
                host: "h", port: 3306, user: "u", password: "p",
                startPoint: .mariaDBGTID(try MariaDBGTIDPosition(parsing: "0-1-5,2-2-9")))
        )
        #expect(gtid.map { $0.rendered(for: .mysql) }.first == "SET GLOBAL gtid_slave_pos = '0-1-5,2-2-9'")
        #expect(gtid.last?.rendered(for: .mysql).hasSuffix("MASTER_USE_GTID = slave_pos, MASTER_SSL = 0") == true)
        #expect(throws: ReplicationError(code: .unsupported, message: "")) {
            try Dialects.mysql84.changeSourceStatements(
                ReplicationSource(
                    host: "h", port: 3306, user: "u", password: "p", startPoint: .mariaDBGTID(MariaDBGTIDPosition()))
            )
        }
        #expect(throws: ReplicationError(code: .invalidArgument, message: "")) {
            try Dialects.mysql84.changeSourceStatements(
                ReplicationSource(host: "h", port: 0, user: "u", password: "p", startPoint: .autoPosition))
        }
    }

    /// Issue #13 item 11: without `FOR CHANNEL`, MySQL's `STOP REPLICA` stops and `RESET REPLICA ALL` wipes every
    /// channel of a multi-source replica, not only the cut-over's.
    @Test func mySQLStatementsNameTheirChannel() throws {
        for dialect in [Dialects.mysql57, Dialects.mysql8021, Dialects.mysql84] {
            for statement in [dialect.startReplicaStatement, dialect.stopReplicaStatement, dialect.resetReplicaStatement] {
                #expect(statement.rendered(for: .mysql).hasSuffix(" FOR CHANNEL ''"), "\(statement.rendered(for: .mysql))")
            }
            let change = try dialect.changeSourceStatements(
                ReplicationSource(host: "h", port: 3306, user: "u", password: "p", startPoint: .autoPosition))
            #expect(change.last?.rendered(for: .mysql).hasSuffix(" FOR CHANNEL ''") == true)
        }
        // MariaDB's unnamed forms act on @@default_master_connection only.
        #expect(Dialects.mariaDB.stopReplicaStatement.rendered(for: .mysql) == "STOP SLAVE")
        #expect(Dialects.mariaDB.resetReplicaStatement.rendered(for: .mysql) == "RESET SLAVE ALL")
    }

    @Test func startUntilStatements() throws {
        let position = try BinlogPosition(file: "mysql-bin.000009", offset: 4711)
        #expect(
            Dialects.mariaDB.startReplicaUntilStatement(position).rendered(for: .mysql)
                == "START SLAVE UNTIL MASTER_LOG_FILE = 'mysql-bin.000009', MASTER_LOG_POS = 4711"
        )
        #expect(
            Dialects.mysql84.startReplicaUntilStatement(position).rendered(for: .mysql)
                == "START REPLICA UNTIL SOURCE_LOG_FILE = 'mysql-bin.000009', SOURCE_LOG_POS = 4711 FOR CHANNEL ''"
        )
    }

    @Test func filterStatements() {
        #expect(
            Dialects.mariaDB.replicationFilterStatements(.ignoreRDSTables).map { $0.rendered(for: .mysql) } == [
                "SET GLOBAL replicate_wild_ignore_table = 'mysql.rds\\\\_%'", "SET GLOBAL replicate_ignore_db = ''",
            ]
        )
        #expect(
            Dialects.mariaDB.replicationFilterStatements(.ignoreMySQLSchema).map { $0.rendered(for: .mysql) } == [
                "SET GLOBAL replicate_wild_ignore_table = ''", "SET GLOBAL replicate_ignore_db = 'mysql'",
            ]
        )
        #expect(
            Dialects.mysql84.replicationFilterStatements(.ignoreRDSTables).map { $0.rendered(for: .mysql) } == [
                "CHANGE REPLICATION FILTER REPLICATE_WILD_IGNORE_TABLE = ('mysql.rds\\\\_%'), REPLICATE_IGNORE_DB = () FOR CHANNEL ''"
            ]
        )
        // With NO_BACKSLASH_ESCAPES the backslash is written once.
        #expect(
            Dialects.mysql84.replicationFilterStatements(.ignoreRDSTables)[0].rendered(
                for: .mysql(noBackslashEscapes: true))
                == "CHANGE REPLICATION FILTER REPLICATE_WILD_IGNORE_TABLE = ('mysql.rds\\_%'), REPLICATE_IGNORE_DB = () FOR CHANNEL ''"
        )
    }

    /// Issue #13, item 11: without `FOR CHANNEL` MySQL 8.0.1+ sets the global filters, which every channel without
    /// its own filters inherits; the cut-over names its channel. MySQL 5.7 has only global filters; MariaDB's
    /// `SET GLOBAL replicate_*` acts on the default connection.
    @Test func filterStatementsNameTheChannel() {
        for dialect in [Dialects.mysql8021, Dialects.mysql8026, Dialects.mysql84] {
            for filter in [ReplicationFilter.none, .ignoreRDSTables, .ignoreMySQLSchema] {
                let text = dialect.replicationFilterStatements(filter).map { $0.rendered(for: .mysql) }
                #expect(text.count == 1)
                #expect(text.allSatisfy { $0.hasPrefix("CHANGE REPLICATION FILTER") && $0.hasSuffix(" FOR CHANNEL ''") })
            }
        }
        #expect(!Dialects.mysql57.replicationFilterStatements(.ignoreMySQLSchema)[0].rendered(for: .mysql).contains("FOR CHANNEL"))
        #expect(Dialects.mariaDB.replicationFilterStatements(.ignoreMySQLSchema).allSatisfy { !$0.rendered(for: .mysql).contains("FOR CHANNEL") })
    }

    @Test func waitFunctionsAndTheirTimeouts() throws {
        let position = try BinlogPosition(file: "mysql-bin.000002", offset: 157)
        // Whole seconds, never 0 (0 means "forever" to MASTER_POS_WAIT).
        let positionWait = try #require(Dialects.mariaDB.waitFunction(for: .position(position)))
        #expect(!positionWait.acceptsFractionalTimeout)
        let gtidSet = try MySQLGTIDSet(parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")
        #expect(Dialects.mariaDB.waitFunction(for: .mysqlGTIDSet(gtidSet)) == nil)
        #expect(Dialects.mysql84.waitFunction(for: .mysqlGTIDSet(gtidSet))?.name == "WAIT_FOR_EXECUTED_GTID_SET")
        let mariaDBGTID = try MariaDBGTIDPosition(parsing: "0-1-5")
        #expect(Dialects.mariaDB.waitFunction(for: .mariaDBGTIDPosition(mariaDBGTID))?.name == "MASTER_GTID_WAIT")
        #expect(Dialects.mariaDB.waitFunction(for: .mariaDBGTIDPosition(mariaDBGTID))?.acceptsFractionalTimeout == true)
        #expect(Dialects.mysql84.waitFunction(for: .mariaDBGTIDPosition(mariaDBGTID)) == nil)
    }

    @Test func detectsMariaDBWithTheShimsProcedures() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact(ReplicationDialect.versionQuery.rendered(for: .mysql)),
            columns: ["Variable_name", "Value"],
            rows: [["version", "10.11.19-MariaDB-0+deb12u1-log"], ["version_comment", "Debian 12"]]
        )
        session.expect(
            .exact(ReplicationDialect.proceduresQuery.rendered(for: .mysql)),
            columns: ["ROUTINE_NAME"],
            rows: [
                ["rds_set_external_master"], ["rds_reset_external_master"], ["rds_start_replication"],
                ["rds_stop_replication"],
            ]
        )
        let dialect = try await ReplicationDialect.detect(on: session, logger: logger)
        try session.verifyAllConsumed()
        #expect(dialect.server == .mariaDB)
        #expect(dialect.version == ServerVersion(10, 11, 19))
        #expect(dialect.rdsProcedures?.generation == .master)
        #expect(dialect.rdsProcedures?.setExternalSourceWithAutoPosition == nil)
    }

    @Test func detectsAuroraV3AndPrefersSourceNames() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact(ReplicationDialect.versionQuery.rendered(for: .mysql)),
            columns: ["Variable_name", "Value"],
            rows: [["aurora_version", "3.05.2"], ["version", "8.0.32"], ["version_comment", "Source distribution"]]
        )
        session.expect(
            .prefix("SELECT ROUTINE_NAME FROM information_schema.ROUTINES"),
            columns: ["ROUTINE_NAME"],
            rows: [
                ["rds_set_external_master"], ["rds_reset_external_master"], ["rds_set_external_source"],
                ["rds_reset_external_source"], ["rds_start_replication"], ["rds_stop_replication"],
                ["rds_set_external_source_with_auto_position"],
            ]
        )
        let dialect = try await ReplicationDialect.detect(on: session, logger: logger)
        try session.verifyAllConsumed()
        #expect(dialect.server == .auroraMySQL(auroraVersion: ServerVersion(3, 5, 2)))
        #expect(dialect.version == ServerVersion(8, 0, 32))
        let procedures = try #require(dialect.rdsProcedures)
        #expect(procedures.setExternalSource == "rds_set_external_source")
        #expect(procedures.resetExternalSource == "rds_reset_external_source")
        #expect(procedures.setExternalSourceWithAutoPosition == "rds_set_external_source_with_auto_position")
    }

    @Test func detectsPlainMySQLWithoutProcedures() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .prefix("SHOW GLOBAL VARIABLES"),
            columns: ["Variable_name", "Value"],
            rows: [["version", "8.4.3"], ["version_comment", "MySQL Community Server - GPL"]]
        )
        session.expect(.prefix("SELECT ROUTINE_NAME"), columns: ["ROUTINE_NAME"], rows: [])
        let dialect = try await ReplicationDialect.detect(on: session, logger: logger)
        #expect(dialect.server == .mysql)
        #expect(dialect.rdsProcedures == nil)
        #expect(throws: ReplicationError(code: .procedureMissing, message: "")) {
            try RDSReplicaController(session: session, dialect: dialect)
        }
    }

    @Test func rdsProceduresNeedOneCompleteSpelling() {
        #expect(throws: ReplicationError(code: .procedureMissing, message: "")) {
            try RDSProcedures(availableProcedures: [
                "rds_set_external_source", "rds_reset_external_master", "rds_start_replication", "rds_stop_replication",
            ])
        }
        #expect(throws: ReplicationError(code: .procedureMissing, message: "")) {
            try RDSProcedures(availableProcedures: [
                "rds_set_external_master", "rds_reset_external_master", "rds_start_replication",
            ])
        }
        #expect(RDSProcedures.auroraVersion2.setExternalSource == "rds_set_external_master")
        #expect(RDSProcedures.auroraVersion3.setExternalSource == "rds_set_external_source")
    }
}
