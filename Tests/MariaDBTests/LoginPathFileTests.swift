import Foundation
import Testing

@testable import MariaDB

/// The values `Fixtures/make_mylogin_fixtures.py` wrote into `mylogin-mysql8.cnf`.
private let mysql8Key: [UInt8] = [3, 17, 29, 8, 0, 31, 14, 22, 5, 9, 27, 1, 30, 12, 19, 6, 24, 2, 11, 20]
private let auroraPassword = "Au\"ro'ra\\p#w;d = é 🔑"
private let mysql8Paths: [LoginPath] = [
    LoginPath(name: "client", host: "db.internal", port: 3307, user: "ops", password: "client pw"),
    LoginPath(
        name: "aurora",
        host: "aurora-cluster.cluster-abc123.eu-west-1.rds.amazonaws.com",
        port: 3306,
        user: "admin",
        password: auroraPassword
    ),
    LoginPath(name: "local", user: "root", socket: "/run/mysqld/mysqld.sock"),
    LoginPath(name: "empty-password", user: "nobody", password: ""),
    LoginPath(name: "sixteen-bytes", user: "u"),
]

@Suite("LoginPathFile")
struct LoginPathFileTests {
    static func fixture(_ name: String) throws -> LoginPathFile {
        // Git does not keep mode 0600, so the committed fixtures are read without the permission check.
        try LoginPathFile(contentsOf: TestFiles.fixture(name), requireOwnerOnlyAccess: false)
    }

    @Test("reads the file written by the independent Python generator")
    func readsGeneratedFixture() throws {
        let file = try Self.fixture("mylogin-mysql8.cnf")
        #expect(file.names == ["client", "aurora", "local", "empty-password", "sixteen-bytes"])
        #expect(file.loginPaths == mysql8Paths)
    }

    @Test("[client] applies first and the named path overrides it")
    func clientThenNamed() throws {
        let file = try Self.fixture("mylogin-mysql8.cnf")
        let aurora = try file.loginPath(named: "aurora")
        #expect(aurora == mysql8Paths[1])
        let local = try file.loginPath(named: "local")
        #expect(local.name == "local")
        #expect(local.user == "root")
        #expect(local.socket == "/run/mysqld/mysqld.sock")
        #expect(local.password == "client pw", "inherited from [client]")
        #expect(local.host == "db.internal", "inherited from [client]")
        #expect(local.port == 3307)
        #expect(try file.loginPath(named: "empty-password").password == "", "an empty password overrides [client]'s")
        #expect(try file.loginPath(named: "client") == mysql8Paths[0])
        #expect(try file.loginPath(named: "AURORA").user == "admin", "names match case-insensitively like MySQL groups")
    }

    @Test("reads the unquoted values of MySQL 5.6/5.7's mysql_config_editor; # is not a comment there")
    func readsLegacyFixture() throws {
        let file = try Self.fixture("mylogin-legacy.cnf")
        #expect(file.names == ["legacy", "client"])
        let legacy = try file.loginPath(named: "legacy")
        #expect(legacy.user == "legacy_user")
        #expect(legacy.password == "p@ss#word")
        #expect(legacy.host == "127.0.0.1")
        #expect(legacy.port == 3310)
        #expect(try file.loginPath(named: "client").password == "single quoted")
    }

    @Test("our encoder is byte-compatible with the Python generator for the same key")
    func encoderMatchesPython() throws {
        let expected = try Array(Data(contentsOf: URL(fileURLWithPath: TestFiles.fixture("mylogin-mysql8.cnf"))))
        let encoded = try LoginPathFile(loginPaths: mysql8Paths).encoded(key: mysql8Key)
        #expect(encoded == expected)
    }

    @Test("the sixteen-byte line carries a whole block of padding")
    func fullBlockPadding() throws {
        let lines = try LoginPathFile.decryptLines(
            Array(Data(contentsOf: URL(fileURLWithPath: TestFiles.fixture("mylogin-mysql8.cnf"))))
        )
        #expect(lines.contains { String(decoding: $0, as: UTF8.self) == "[sixteen-bytes]" })
        let encrypted = LoginPathFile.encrypt(lines: [Array("[sixteen-bytes]\n".utf8)], key: mysql8Key)
        #expect(encrypted.count == 24 + 4 + 32)
        #expect(encrypted[24..<28] == [32, 0, 0, 0])
    }

    @Test("hostile values survive encode and decode")
    func roundTrip() throws {
        let paths = [
            LoginPath(name: "client", user: "fallback"),
            LoginPath(
                name: "weird",
                host: "::1",
                port: 65535,
                user: "we\"ird 'user'",
                password: "\\\"\\n\n\r\t#;= \\s '' \"\" é🔑\\",
                socket: "/tmp/my sock\\path"
            ),
            LoginPath(name: "with space", user: " leading and trailing ", password: "  "),
        ]
        let file = LoginPathFile(loginPaths: paths)
        let decoded = try LoginPathFile(bytes: try file.encoded())
        #expect(decoded.loginPaths == paths)
        let withKey = try LoginPathFile(bytes: try file.encoded(key: Array(repeating: 0xFF, count: 20)))
        #expect(withKey.loginPaths == paths)
    }

    @Test("a random key uses bytes below 32, as mysql_config_editor does")
    func randomKey() throws {
        let bytes = try LoginPathFile(loginPaths: []).encoded()
        #expect(bytes.count == 24)
        #expect(bytes[0..<4] == [0, 0, 0, 0])
        #expect(bytes[4...].allSatisfy { $0 < 32 })
        #expect(try LoginPathFile(bytes: bytes).loginPaths.isEmpty)
    }

    @Test("the AES key is the 20-byte buffer XOR-folded into 16")
    func keyFolding() {
        let buffer: [UInt8] = Array(1...20)
        let key = LoginPathFile.aesKey(fromFileKey: buffer)
        #expect(key.count == 16)
        #expect(key[0] == 1 ^ 17)
        #expect(key[3] == 4 ^ 20)
        #expect(key[4] == 5)
        #expect(key[15] == 16)
    }

    @Test("encoding refuses a bad key or an unwritable name")
    func encodingErrors() {
        let file = LoginPathFile(loginPaths: [LoginPath(name: "ok", user: "u")])
        #expect(mariaDBError { _ = try file.encoded(key: [1, 2, 3]) }?.code == .loginPath)
        for name in ["", "a]b", "a\nb"] {
            let bad = LoginPathFile(loginPaths: [LoginPath(name: name, user: "u")])
            #expect(mariaDBError { _ = try bad.encoded() }?.code == .loginPath, "\(name.debugDescription)")
        }
    }

    @Test("corrupt files are reported as corrupt", arguments: CorruptCase.allCases)
    func corruptFiles(corruption: CorruptCase) throws {
        let good = try LoginPathFile(loginPaths: [LoginPath(name: "p", user: "u", password: "pw-not-shown")])
            .encoded(key: mysql8Key)
        let error = try #require(
            mariaDBError { _ = try LoginPathFile(bytes: corruption.apply(to: good), path: "/x/.mylogin.cnf") })
        #expect(error.code == .loginPath)
        #expect(error.description.contains("/x/.mylogin.cnf is corrupt"), "\(error)")
        #expect(!error.description.contains("pw-not-shown"))
    }

    enum CorruptCase: CaseIterable, Sendable {
        case empty, shortHeader, cutLength, zeroLength, negativeLength, unalignedLength, hugeLength, cutRecord,
            badPadding, optionBeforeGroup

        func apply(to good: [UInt8]) -> [UInt8] {
            switch self {
            case .empty: return []
            case .shortHeader: return Array(good.prefix(23))
            case .cutLength: return Array(good.prefix(26))
            case .zeroLength: return Array(good.prefix(24)) + [0, 0, 0, 0]
            case .negativeLength:
                return Array(good.prefix(24)) + [0xF0, 0xFF, 0xFF, 0xFF] + Array(repeating: 0, count: 16)
            case .unalignedLength: return Array(good.prefix(24)) + [15, 0, 0, 0] + Array(repeating: 0, count: 15)
            case .hugeLength: return Array(good.prefix(24)) + [0, 0x20, 0, 0] + Array(repeating: 0, count: 0x2000)
            case .cutRecord: return Array(good.dropLast(1))
            case .badPadding:
                // Another key decrypts the records to garbage, which fails the padding check.
                var bytes = good
                bytes[4] ^= 0x55
                return bytes
            case .optionBeforeGroup:
                return LoginPathFile.encrypt(lines: [Array("user = x\n".utf8)], key: Array(repeating: 1, count: 20))
            }
        }
    }

    @Test("an invalid port is an error naming the login path")
    func invalidPort() {
        let bytes = LoginPathFile.encrypt(lines: ["[p]\n", "port = abc\n"].map { Array($0.utf8) }, key: mysql8Key)
        let error = mariaDBError { _ = try LoginPathFile(bytes: bytes) }
        #expect(error?.code == .loginPath)
        #expect(error?.description.contains("[p] has an invalid port") == true)
    }

    @Test("a missing login path names it and the ones there are, never a password")
    func noSuchLoginPath() throws {
        let file = try Self.fixture("mylogin-mysql8.cnf")
        let error = try #require(mariaDBError { _ = try file.loginPath(named: "prod") })
        #expect(error.code == .loginPath)
        #expect(error.description.contains("no login path [prod]"))
        #expect(error.description.contains("[aurora]"))
        #expect(!error.description.contains("client pw"))
        #expect(!error.description.contains(auroraPassword))
    }

    @Test("files: missing, too open, a directory, and written with mode 0600")
    func fileHandling() throws {
        try TestFiles.withTemporaryDirectory { (directory: URL) throws in
            let path = directory.appendingPathComponent(".mylogin.cnf").path
            let missing = try #require(mariaDBError { _ = try LoginPathFile(contentsOf: path) })
            #expect(missing.code == .loginPath)
            #expect(missing.description.contains("\(path) does not exist"))
            #expect(missing.description.contains("mysql_config_editor"))

            let file = LoginPathFile(loginPaths: mysql8Paths)
            try file.write(to: path, key: mysql8Key)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let read = try LoginPathFile(contentsOf: path)
            #expect(read.loginPaths == mysql8Paths)
            #expect(read.path == path)

            for mode in [0o640, 0o604, 0o700] {
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
                let tooOpen = try #require(mariaDBError { _ = try LoginPathFile(contentsOf: path) })
                #expect(tooOpen.code == .loginPath)
                #expect(tooOpen.description.contains("chmod 600"), "\(tooOpen)")
                #expect(try LoginPathFile(contentsOf: path, requireOwnerOnlyAccess: false).loginPaths == mysql8Paths)
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
            #expect(try LoginPathFile(contentsOf: path).names.count == mysql8Paths.count)

            let directoryError = mariaDBError { _ = try LoginPathFile(contentsOf: directory.path) }
            #expect(directoryError?.code == .loginPath)
        }
    }

    @Test("the default location: MYSQL_TEST_LOGIN_FILE, else HOME")
    func defaultPath() {
        #expect(LoginPathFile.defaultPath(environment: { ["HOME": "/home/ops"][$0] }) == "/home/ops/.mylogin.cnf")
        #expect(LoginPathFile.defaultPath(environment: { ["HOME": "/root/"][$0] }) == "/root/.mylogin.cnf")
        #expect(
            LoginPathFile.defaultPath(environment: { ["HOME": "/home/ops", "MYSQL_TEST_LOGIN_FILE": "/tmp/t.cnf"][$0] })
                == "/tmp/t.cnf"
        )
        #expect(
            LoginPathFile.defaultPath(environment: { ["MYSQL_TEST_LOGIN_FILE": "", "HOME": "/h"][$0] })
                == "/h/.mylogin.cnf")
        #expect(LoginPathFile.defaultPath(environment: { _ in nil }) == nil)
    }

    @Test("descriptions and dumps never show a password")
    func noPasswordInOutput() throws {
        let file = try Self.fixture("mylogin-mysql8.cnf")
        let aurora = try file.loginPath(named: "aurora")
        for text in [
            aurora.description, aurora.debugDescription, String(reflecting: aurora), dumped(aurora), "\(aurora)",
            file.description, dumped(file), String(reflecting: file),
        ] {
            #expect(!text.contains(auroraPassword), "\(text)")
            #expect(!text.contains("client pw"), "\(text)")
        }
        #expect(
            aurora.description
                == "[aurora] admin@aurora-cluster.cluster-abc123.eu-west-1.rds.amazonaws.com:3306 (password set)")
        #expect(try file.loginPath(named: "sixteen-bytes").description.hasSuffix("(password set)"))
        #expect(LoginPath(name: "x", user: "u").description == "[x] u@<default host> (no password)")
        #expect(LoginPath(name: "x", user: "u", socket: "/s").description == "[x] u@unix:/s (no password)")
        #expect(dumped(aurora).contains("<redacted>"))
    }
}

@Suite("Configuration from a login path")
struct LoginPathConfigurationTests {
    @Test("endpoint mapping: socket, remote host, localhost, nothing")
    func endpoints() throws {
        typealias Endpoint = MariaDBConnection.Configuration.Endpoint
        let cases: [(LoginPath, Endpoint)] = [
            (LoginPath(name: "a", user: "u", socket: "/run/s.sock"), .unixSocket(path: "/run/s.sock")),
            (
                LoginPath(name: "a", host: "localhost", user: "u", socket: "/run/s.sock"),
                .unixSocket(path: "/run/s.sock")
            ),
            (LoginPath(name: "a", host: "LOCALHOST", port: 3307, user: "u", socket: "/s"), .unixSocket(path: "/s")),
            (
                LoginPath(name: "a", host: "db.example", user: "u", socket: "/ignored"),
                .tcp(host: "db.example", port: 3306)
            ),
            (LoginPath(name: "a", host: "db.example", port: 3310, user: "u"), .tcp(host: "db.example", port: 3310)),
            (LoginPath(name: "a", host: "localhost", port: 3311, user: "u"), .tcp(host: "127.0.0.1", port: 3311)),
            (LoginPath(name: "a", user: "u"), .tcp(host: "127.0.0.1", port: 3306)),
            (LoginPath(name: "a", user: "u", socket: ""), .tcp(host: "127.0.0.1", port: 3306)),
        ]
        for (loginPath, endpoint) in cases {
            #expect(try loginPath.configuration().endpoint == endpoint, "\(loginPath)")
        }
        let configuration = try LoginPath(name: "a", user: "u", password: "p").configuration(database: "shop")
        #expect(configuration.user == "u")
        #expect(configuration.password == "p")
        #expect(configuration.database == "shop")
        #expect(try LoginPath(name: "a", user: "u").configuration().password == nil)
    }

    @Test("a login path without a user is an error")
    func noUser() {
        for loginPath in [LoginPath(name: "a", password: "secret-pw"), LoginPath(name: "a", user: "")] {
            let error = mariaDBError { _ = try loginPath.configuration() }
            #expect(error?.code == .loginPath)
            #expect(error?.description.contains("[a] has no user") == true)
            #expect(error?.description.contains("secret-pw") == false)
        }
    }

    @Test("fromLoginPath reads the file, merges [client] and checks the result")
    func fromLoginPath() throws {
        try TestFiles.withTemporaryDirectory { (directory: URL) throws in
            let path = directory.appendingPathComponent("login.cnf").path
            try LoginPathFile(loginPaths: mysql8Paths).write(to: path)
            let aurora = try MariaDBConnection.Configuration.fromLoginPath("aurora", file: path, database: "app")
            #expect(
                aurora.endpoint == .tcp(host: "aurora-cluster.cluster-abc123.eu-west-1.rds.amazonaws.com", port: 3306))
            #expect(aurora.user == "admin")
            #expect(aurora.password == auroraPassword)
            #expect(aurora.database == "app")
            #expect(!aurora.description.contains(auroraPassword))
            let local = try MariaDBConnection.Configuration.fromLoginPath("local", file: path)
            #expect(
                local.endpoint == .tcp(host: "db.internal", port: 3307), "[client]'s host wins over [local]'s socket")
            let missing = mariaDBError { _ = try MariaDBConnection.Configuration.fromLoginPath("nope", file: path) }
            #expect(missing?.code == .loginPath)
            let noFile = mariaDBError {
                _ = try MariaDBConnection.Configuration.fromLoginPath("aurora", file: path + ".missing")
            }
            #expect(noFile?.description.contains("does not exist") == true)
        }
    }
}
