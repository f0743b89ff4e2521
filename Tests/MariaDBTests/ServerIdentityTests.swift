import Testing

@testable import MariaDB

@Suite("ServerIdentity")
struct ServerIdentityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var versionString: String
        var versionComment: String? = nil
        var auroraVersion: String? = nil
        var version: ServerVersion
        var flavor: ServerIdentity.Flavor

        var testDescription: String { versionString }
    }

    static let cases: [Case] = [
        Case(versionString: "10.11.19-MariaDB-0+deb12u1", version: ServerVersion(10, 11, 19), flavor: .mariaDB),
        Case(versionString: "5.5.5-10.6.12-MariaDB", version: ServerVersion(10, 6, 12), flavor: .mariaDB),
        Case(versionString: "10.6.12-MariaDB-log", version: ServerVersion(10, 6, 12), flavor: .mariaDB),
        Case(versionString: "5.7.44-log", version: ServerVersion(5, 7, 44), flavor: .mysql),
        Case(
            versionString: "5.7.44", versionComment: "MySQL Community Server (GPL)", version: ServerVersion(5, 7, 44),
            flavor: .mysql),
        Case(versionString: "8.0.36-0ubuntu0.22.04.1", version: ServerVersion(8, 0, 36), flavor: .mysql),
        Case(
            versionString: "8.0.36-28", versionComment: "Percona Server (GPL), Release 28",
            version: ServerVersion(8, 0, 36), flavor: .mysql),
        Case(versionString: "8.4.0", version: ServerVersion(8, 4, 0), flavor: .mysql),
        Case(
            versionString: "5.7.mysql_aurora.2.11.2",
            version: ServerVersion(5, 7, 0),
            flavor: .auroraMySQL(auroraVersion: ServerVersion(2, 11, 2))
        ),
        Case(
            versionString: "8.0.mysql_aurora.3.05.2",
            version: ServerVersion(8, 0, 0),
            flavor: .auroraMySQL(auroraVersion: ServerVersion(3, 5, 2))
        ),
        Case(
            versionString: "8.0.28",
            auroraVersion: "3.04.1",
            version: ServerVersion(8, 0, 28),
            flavor: .auroraMySQL(auroraVersion: ServerVersion(3, 4, 1))
        ),
        Case(
            versionString: "2.7.1-16-g2726c27", versionComment: "(ProxySQL Admin Module)",
            version: ServerVersion(2, 7, 1), flavor: .proxySQL),
        Case(versionString: "8.0.11-ProxySQL", version: ServerVersion(8, 0, 11), flavor: .proxySQL),
        Case(
            versionString: "5.5.30", versionComment: "(ProxySQL)", version: ServerVersion(5, 5, 30), flavor: .proxySQL),
        Case(
            versionString: "8.0.36", versionComment: "mariadb.org binary distribution",
            version: ServerVersion(8, 0, 36), flavor: .mariaDB),
        Case(versionString: "garbage", version: ServerVersion(0), flavor: .mysql),
    ]

    @Test("parses the version strings of every server family", arguments: cases)
    func parse(testCase: Case) {
        let identity = ServerIdentity.parse(
            versionString: testCase.versionString,
            versionComment: testCase.versionComment,
            auroraVersion: testCase.auroraVersion
        )
        #expect(identity.version == testCase.version)
        #expect(identity.flavor == testCase.flavor)
        #expect(identity.versionString == testCase.versionString)
        #expect(identity.isMariaDB == (testCase.flavor == .mariaDB))
        let isAurora = if case .auroraMySQL = testCase.flavor { true } else { false }
        #expect(identity.isAurora == isAurora)
    }

    @Test("descriptions")
    func descriptions() {
        let aurora = ServerIdentity.parse(versionString: "8.0.mysql_aurora.3.05.2")
        #expect(aurora.description == "Aurora MySQL 3.5.2 8.0.mysql_aurora.3.05.2")
        #expect(ServerIdentity.parse(versionString: "10.11.19-MariaDB").description == "MariaDB 10.11.19-MariaDB")
        #expect(ServerIdentity.Flavor.proxySQL.description == "ProxySQL")
        #expect(ServerIdentity.Flavor.mysql.description == "MySQL")
        #expect(ServerVersion(8, 0, 22).description == "8.0.22")
    }

    @Test("versions order numerically")
    func ordering() {
        let sorted = [
            ServerVersion(5, 5, 5), ServerVersion(5, 7, 44), ServerVersion(8), ServerVersion(8, 0, 9),
            ServerVersion(8, 0, 22), ServerVersion(8, 0, 100), ServerVersion(8, 4, 0), ServerVersion(10, 5, 2),
            ServerVersion(10, 11, 19),
        ]
        #expect(sorted.shuffled().sorted() == sorted)
        #expect(ServerVersion(8, 0, 22) >= ServerVersion(8, 0, 22))
        #expect(ServerVersion(10, 2) > ServerVersion(9, 99, 99))
        #expect(ServerVersion(8) == ServerVersion(8, 0, 0))
    }

    @Test(
        "parsing version text",
        arguments: [
            ("8.0.22", ServerVersion(8, 0, 22)),
            ("8.0", ServerVersion(8, 0, 0)),
            ("10", ServerVersion(10, 0, 0)),
            ("10.11.19-MariaDB", ServerVersion(10, 11, 19)),
            ("3.05.2", ServerVersion(3, 5, 2)),
            ("8.0.36.1", ServerVersion(8, 0, 36)),
            ("1.2.", ServerVersion(1, 2, 0)),
        ] as [(String, ServerVersion)])
    func parsingText(text: String, expected: ServerVersion) {
        #expect(ServerVersion(parsing: text) == expected)
    }

    @Test("text that is not a version, including numbers too large for Int, gives nil")
    func parsingFailures() {
        for text in [
            "", "abc", ".8.0", "v8.0", "99999999999999999999999", "8.99999999999999999999999.1",
            "1.2.99999999999999999999",
        ] {
            #expect(ServerVersion(parsing: text) == nil, "\(text)")
        }
        let identity = ServerIdentity.parse(versionString: "99999999999999999999999.0-MariaDB")
        #expect(identity.version == ServerVersion(0))
        #expect(identity.flavor == .mariaDB)
    }
}
