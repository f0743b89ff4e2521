import MariaDB
import Testing

@testable import ReplicationControl

/// The statements of the operator helpers: replication account, account copy, time zone rows, RDS procedures.
@Suite("Helper statements")
struct HelperStatementTests {
    let mysql = SQLDialect.mysql(noBackslashEscapes: false)

    @Test("the reverse-replication account gets exactly REPLICATION SLAVE and REPLICATION CLIENT; the password is a secret")
    func replicationUser() {
        let create = ReplicationUser.createStatement(user: "repl_reverse", host: "10.0.%", password: "pa'ss")
        #expect(create.rendered(for: mysql) == "CREATE USER IF NOT EXISTS 'repl_reverse'@'10.0.%' IDENTIFIED BY 'pa''ss'")
        #expect(create.redacted == "CREATE USER IF NOT EXISTS '…'@'…' IDENTIFIED BY '<redacted>'")
        #expect(create.renderedHidingSecrets(for: mysql) == "CREATE USER IF NOT EXISTS 'repl_reverse'@'10.0.%' IDENTIFIED BY '<redacted>'")
        #expect(
            ReplicationUser.grantStatement(user: "repl_reverse", host: "%").rendered(for: mysql)
                == "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl_reverse'@'%'")
        let exact = [ServerInspection.Grant(parsing: "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `r`@`%`")!]
        #expect(ReplicationUser.isComplete(exact))
        #expect(ReplicationUser.extraPrivileges(in: exact).isEmpty)
        let more = exact + [ServerInspection.Grant(parsing: "GRANT SELECT ON `app`.* TO `r`@`%`")!]
        #expect(ReplicationUser.extraPrivileges(in: more) == ["SELECT ON app.*"])
        #expect(!ReplicationUser.isComplete([ServerInspection.Grant(parsing: "GRANT REPLICATION SLAVE ON *.* TO `r`@`%`")!]))
    }

    @Test("a copied account keeps the source's authentication, under the rewritten host")
    func createFromShowCreateUser() throws {
        let account = ServerInspection.Account(user: "app", host: "%")
        let mariaDB = try AccountMigration.createStatement(
            fromShowCreateUser: "CREATE USER `app`@`10.0.%` IDENTIFIED BY PASSWORD '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9'",
            as: account)
        #expect(mariaDB.rendered(for: mysql) == "CREATE USER 'app'@'%' IDENTIFIED BY PASSWORD '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9'")
        #expect(!mariaDB.redacted.contains("6BB4"))
        let quoted = try AccountMigration.createStatement(
            fromShowCreateUser: "CREATE USER 'we''ird'@'h' IDENTIFIED WITH 'mysql_native_password' AS '*AB' REQUIRE NONE",
            as: account)
        #expect(quoted.rendered(for: mysql) == "CREATE USER 'app'@'%' IDENTIFIED WITH 'mysql_native_password' AS '*AB' REQUIRE NONE")
        #expect(throws: ReplicationError.self) {
            try AccountMigration.createStatement(fromShowCreateUser: "GRANT ALL ON *.* TO x", as: account)
        }
    }

    @Test("copied grants drop what Aurora refuses and quote the objects again")
    func grants() {
        let account = ServerInspection.Account(user: "app", host: "%")
        let grant = ServerInspection.Grant(parsing: "GRANT SELECT, INSERT, SUPER, FILE ON *.* TO `app`@`10.0.%` WITH GRANT OPTION")!
        #expect(
            AccountMigration.grantStatement(grant, to: account)?.rendered(for: mysql)
                == "GRANT SELECT, INSERT ON *.* TO 'app'@'%' WITH GRANT OPTION")
        let schema = ServerInspection.Grant(parsing: "GRANT SELECT ON `shop`.`orders` TO `app`@`%`")!
        #expect(AccountMigration.grantStatement(schema, to: account)?.rendered(for: mysql) == "GRANT SELECT ON `shop`.`orders` TO 'app'@'%'")
        #expect(AccountMigration.grantStatement(ServerInspection.Grant(parsing: "GRANT USAGE ON *.* TO `app`@`%`")!, to: account) == nil)
        #expect(AccountMigration.grantStatement(ServerInspection.Grant(parsing: "GRANT SUPER ON *.* TO `app`@`%`")!, to: account) == nil)
        #expect(AccountMigration.rewritten(ServerInspection.Account(user: "a", host: "10.0.%"), [.init(from: "10.0.%", to: "%")]).host == "%")
        #expect(AccountMigration.rewritten(ServerInspection.Account(user: "a", host: "10.1.%"), [.init(from: "10.0.%", to: "%")]).host == "10.1.%")
    }

    @Test("time zone rows are copied as literals, NULL kept")
    func timeZoneInsert() {
        let statement = TimeZoneTables.insertStatement(
            "time_zone_transition_type", columns: ["Time_zone_id", "Abbreviation"],
            rows: [[SQLValue("1"), SQLValue("CE'T")], [SQLValue("2"), SQLValue(nil)]][...])
        #expect(
            statement.rendered(for: mysql)
                == "INSERT INTO mysql.`time_zone_transition_type` (`Time_zone_id`, `Abbreviation`) VALUES ('1', 'CE''T'), ('2', NULL)")
    }

    @Test("the RDS procedure statements follow the server's generation")
    func rdsStatements() throws {
        let source = ReplicationSource(
            host: "10.0.0.5", port: 3306, user: "repl", password: "s3cret",
            startPoint: .position(try BinlogPosition(file: "mysql-bin.000003", offset: 154)))
        #expect(
            try RDSProcedures.auroraVersion2.setExternalSourceStatement(source).renderedHidingSecrets(for: mysql)
                == "CALL mysql.rds_set_external_master('10.0.0.5', 3306, 'repl', '<redacted>', 'mysql-bin.000003', 154, 0)")
        #expect(RDSProcedures.auroraVersion3.resetExternalSourceStatement.rendered(for: mysql) == "CALL mysql.rds_reset_external_source")
        #expect(RDSProcedures.auroraVersion3.setBinlogRetentionHoursStatement(72)?.rendered(for: mysql) == "CALL mysql.rds_set_configuration('binlog retention hours', 72)")
        #expect(RDSProcedures.auroraVersion3.setBinlogRetentionHoursStatement(nil)?.rendered(for: mysql) == "CALL mysql.rds_set_configuration('binlog retention hours', NULL)")
        var autoPosition = source
        autoPosition.startPoint = .autoPosition
        #expect(
            try RDSProcedures.auroraVersion3.setExternalSourceStatement(autoPosition).redacted
                == "CALL mysql.rds_set_external_source_with_auto_position('…', 3306, '…', '<redacted>', 0)")
    }
}
