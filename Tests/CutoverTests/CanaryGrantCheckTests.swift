import Cutover
import ReplicationControl
import Testing

/// The canary's preflight grant check (#14 item 9), from `SHOW GRANTS` lines as MariaDB and MySQL print them.
@Suite("Canary: grant check")
struct CanaryGrantCheckTests {
    static func grants(_ lines: [String]) -> [ServerInspection.Grant] { lines.compactMap(ServerInspection.Grant.init(parsing:)) }

    @Test("CREATE, INSERT and DROP on the database (or the table, or everything) pass")
    func passes() {
        for lines in [
            ["GRANT USAGE ON *.* TO `c`@`%`", "GRANT INSERT, CREATE, DROP ON `app`.* TO `c`@`%`"],
            ["GRANT ALL PRIVILEGES ON `app`.* TO `c`@`%`"],
            ["GRANT SELECT, INSERT, CREATE, DROP ON *.* TO 'c'@'%' IDENTIFIED BY PASSWORD '*ABC'"],
            ["GRANT INSERT, CREATE, DROP ON `app`.`cutover_canary` TO `c`@`%`"],
        ] {
            let check = Canary.grantCheck(grants: Self.grants(lines), database: "app", table: "cutover_canary")
            #expect(check.status == .pass, "\(lines)")
            #expect(check.id == "canary.grants")
        }
    }

    @Test("an application account's usual grants (no CREATE, DROP) fail, naming what is missing, with a remedy")
    func fails() {
        let check = Canary.grantCheck(
            grants: Self.grants(["GRANT USAGE ON *.* TO `app`@`%`", "GRANT SELECT, INSERT, UPDATE, DELETE ON `app`.* TO `app`@`%`"]),
            database: "app", table: "cutover_canary"
        )
        #expect(check.status == .fail)
        #expect(check.detail.hasPrefix("missing CREATE, DROP on app.cutover_canary"))
        #expect(check.remedy?.contains("GRANT CREATE, INSERT, DROP ON app.*") == true)
        let elsewhere = Canary.grantCheck(
            grants: Self.grants(["GRANT ALL PRIVILEGES ON `other`.* TO `c`@`%`"]), database: "app", table: "cutover_canary")
        #expect(elsewhere.status == .fail, "grants on another database do not count")
        #expect(elsewhere.detail.contains("no grant on app"))
    }
}
