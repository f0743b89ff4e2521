import ReplicationControl
import Testing

@Suite("ServerInspection.Grant")
struct ServerInspectionGrantTests {
    typealias Grant = ServerInspection.Grant

    @Test(
        "SHOW GRANTS lines of several servers",
        arguments: [
            (
                "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'%'",
                ["REPLICATION SLAVE", "REPLICATION CLIENT"], "*.*", false
            ),
            (
                "GRANT BACKUP_ADMIN,BINLOG_ADMIN,REPLICATION_SLAVE_ADMIN ON *.* TO `admin`@`%` WITH GRANT OPTION",
                ["BACKUP_ADMIN", "BINLOG_ADMIN", "REPLICATION_SLAVE_ADMIN"], "*.*", true
            ),
            ("GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION", ["ALL PRIVILEGES"], "*.*", true),
            ("grant select, insert on `app`.* to 'app'@'10.0.%'", ["SELECT", "INSERT"], "app.*", false),
            ("GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*ABC'", ["USAGE"], "*.*", false),
            ("GRANT UPDATE (`a`, `b`), SELECT ON `db`.`t` TO `u`@`%`", ["UPDATE", "SELECT"], "db.t", false),
            ("GRANT SELECT ON `we,ird`.* TO `u`@`%`", ["SELECT"], "we,ird.*", false),
        ] as [(String, [String], String, Bool)])
    func parses(line: String, privileges: [String], target: String, withGrantOption: Bool) throws {
        let grant = try #require(Grant(parsing: line))
        #expect(grant.privileges == privileges)
        #expect(grant.target == target)
        #expect(grant.withGrantOption == withGrantOption)
        #expect(!grant.description.contains("PASSWORD"))
    }

    @Test(
        "role grants and other text are not privilege grants",
        arguments: [
            "GRANT `reporting`@`%` TO `u`@`%`", "GRANT `r1` TO `u`@`%`", "REVOKE SELECT ON *.* FROM u", "", "GRANT",
        ])
    func notPrivilegeGrants(line: String) {
        #expect(Grant(parsing: line) == nil)
    }

    @Test("synonyms and ALL: BINLOG MONITOR is REPLICATION CLIENT, ALL gives everything, only *.* is global")
    func privilegeChecks() throws {
        let mariadb = try #require(Grant(parsing: "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `r`@`%`"))
        #expect(mariadb.grants("REPLICATION CLIENT"))
        #expect(mariadb.grants("replication slave"))
        #expect(!mariadb.grants("SUPER"))
        let all = try #require(Grant(parsing: "GRANT ALL ON *.* TO `r`@`%`"))
        #expect(all.grants("REPLICATION SLAVE"))
        let onSchema = try #require(Grant(parsing: "GRANT ALL PRIVILEGES ON `app`.* TO `r`@`%`"))
        #expect(!Grant.grantsGlobally("REPLICATION SLAVE", in: [onSchema]))
        #expect(Grant.grantsGlobally("REPLICATION SLAVE", in: [onSchema, all]))
    }
}
