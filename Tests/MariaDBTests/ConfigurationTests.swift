import Foundation
import Testing

@testable import MariaDB

@Suite("MariaDBConnection.Configuration")
struct ConfigurationTests {
    typealias Configuration = MariaDBConnection.Configuration

    static let password = "s3cr3t-Pa55w0rd"

    static var valid: Configuration {
        var configuration = Configuration(
            host: "127.0.0.1", port: 3306, user: "root", password: password, database: "shop")
        configuration.tls = .init(certificateAuthorityFile: "/ca.pem", certificateFile: "/c.pem", keyFile: "/k.pem")
        configuration.optionFile = .init(path: "/etc/my.cnf", group: "migrate")
        return configuration
    }

    @Test("defaults")
    func defaults() {
        let configuration = Configuration(host: "127.0.0.1", user: "root")
        #expect(configuration.endpoint == .tcp(host: "127.0.0.1", port: 3306))
        #expect(configuration.password == nil)
        #expect(configuration.database == nil)
        #expect(configuration.connectTimeout == .seconds(5))
        #expect(configuration.readTimeout == .seconds(300))
        #expect(configuration.writeTimeout == .seconds(60))
        #expect(configuration.characterSet == "utf8mb4")
        #expect(configuration.quoting == .server)
        #expect(configuration.tls == nil)
        #expect(configuration.optionFile == nil)
        #expect(configuration.programName == "migrate-cli")
        #expect(Configuration.TLS().verifyServerCertificate)
    }

    @Test("a valid configuration passes, also over a socket and without timeouts")
    func validConfigurations() throws {
        try Self.valid.validate()
        var socket = Configuration(endpoint: .unixSocket(path: "/run/mysqld/mysqld.sock"), user: "root")
        socket.readTimeout = nil
        socket.writeTimeout = nil
        try socket.validate()
        for port in [1, 65535] {
            try Configuration(host: "::1", port: port, user: "u").validate()
        }
        var latin1 = Self.valid
        latin1.characterSet = "latin1"
        try latin1.validate()
    }

    static let invalidCases: [(String, @Sendable (inout Configuration) -> Void)] = [
        ("host is empty", { $0.endpoint = .tcp(host: "", port: 3306) }),
        ("port 0 is outside 1...65535", { $0.endpoint = .tcp(host: "h", port: 0) }),
        ("port 65536 is outside 1...65535", { $0.endpoint = .tcp(host: "h", port: 65536) }),
        ("port -1 is outside 1...65535", { $0.endpoint = .tcp(host: "h", port: -1) }),
        ("socket path is empty", { $0.endpoint = .unixSocket(path: "") }),
        ("user is empty", { $0.user = "" }),
        ("connect timeout must be positive", { $0.connectTimeout = .zero }),
        ("connect timeout must be positive", { $0.connectTimeout = .seconds(-1) }),
        ("read timeout must be positive", { $0.readTimeout = .zero }),
        ("write timeout must be positive", { $0.writeTimeout = .milliseconds(-5) }),
        ("character set is empty", { $0.characterSet = "" }),
        ("character set GBK is not supported", { $0.characterSet = "GBK" }),
        ("character set sjis is not supported", { $0.characterSet = "sjis" }),
        ("character set big5 is not supported", { $0.characterSet = "big5" }),
        ("character set cp932 is not supported", { $0.characterSet = "cp932" }),
        ("character set gb18030 is not supported", { $0.characterSet = "gb18030" }),
        ("character set utf16 is not supported", { $0.characterSet = "utf16" }),
        ("character set ucs2 is not supported", { $0.characterSet = "ucs2" }),
        ("character set utf32 is not supported", { $0.characterSet = "utf32" }),
        ("TLS certificate file and key file must be given together", { $0.tls?.keyFile = nil }),
        ("TLS certificate file and key file must be given together", { $0.tls?.certificateFile = nil }),
        ("host contains a NUL character", { $0.endpoint = .tcp(host: "good.example\0evil", port: 3306) }),
        ("socket path contains a NUL character", { $0.endpoint = .unixSocket(path: "/tmp/s\0") }),
        ("user contains a NUL character", { $0.user = "root\0x" }),
        ("password contains a NUL character", { $0.password = "pw\0" }),
        ("database contains a NUL character", { $0.database = "d\0" }),
        ("character set contains a NUL character", { $0.characterSet = "utf8mb4\0" }),
        ("program name contains a NUL character", { $0.programName = "p\0" }),
        ("TLS CA file contains a NUL character", { $0.tls?.certificateAuthorityFile = "/ca\0" }),
        ("TLS certificate file contains a NUL character", { $0.tls?.certificateFile = "/c\0" }),
        ("TLS key file contains a NUL character", { $0.tls?.keyFile = "/k\0" }),
        ("option file path contains a NUL character", { $0.optionFile?.path = "/etc/my.cnf\0" }),
        ("option file group contains a NUL character", { $0.optionFile?.group = "g\0" }),
    ]

    @Test("every rule of validate()", arguments: 0..<invalidCases.count)
    func invalid(index: Int) {
        let (expected, mutate) = Self.invalidCases[index]
        var configuration = Self.valid
        mutate(&configuration)
        let error = mariaDBError { try configuration.validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message?.hasPrefix(expected) == true, "\(String(describing: error?.message)) for \(expected)")
        #expect(error?.description.contains(Self.password) == false)
    }

    @Test("description, debugDescription and dump never contain the password")
    func noPasswordShown() {
        let configuration = Self.valid
        #expect(configuration.description == "root@127.0.0.1:3306/shop")
        #expect(
            configuration.debugDescription == "Configuration(root@127.0.0.1:3306/shop, password: <redacted>, tls: true)"
        )
        for text in [
            configuration.description, configuration.debugDescription, String(reflecting: configuration),
            dumped(configuration), "\(configuration)",
        ] {
            #expect(!text.contains(Self.password), "\(text)")
        }
        #expect(dumped(configuration).contains("<redacted>"))
        #expect(dumped(configuration).contains("migrate-cli"))
        #expect(Configuration(host: "h", user: "u").debugDescription.contains("password: none"))
    }

    @Test("endpoint descriptions")
    func endpointDescriptions() {
        #expect(Configuration.Endpoint.tcp(host: "10.0.0.1", port: 3306).description == "10.0.0.1:3306")
        #expect(Configuration.Endpoint.tcp(host: "::1", port: 3307).description == "[::1]:3307")
        #expect(Configuration.Endpoint.unixSocket(path: "/run/s.sock").description == "unix:/run/s.sock")
    }

    @Test("timeouts become whole seconds, rounded up, at least 1, without overflow")
    func durationRounding() {
        #expect(Duration.zero.wholeSecondsRoundedUp == 1)
        #expect(Duration.nanoseconds(1).wholeSecondsRoundedUp == 1)
        #expect(Duration.milliseconds(999).wholeSecondsRoundedUp == 1)
        #expect(Duration.seconds(1).wholeSecondsRoundedUp == 1)
        #expect(Duration.milliseconds(1001).wholeSecondsRoundedUp == 2)
        #expect(Duration.seconds(5).wholeSecondsRoundedUp == 5)
        #expect(Duration.seconds(-3).wholeSecondsRoundedUp == 1)
        #expect(Duration.seconds(Int64(UInt32.max) + 10).wholeSecondsRoundedUp == UInt32.max)
        #expect(Duration.seconds(Int64.max).wholeSecondsRoundedUp == UInt32.max)
        #expect((Duration.seconds(Int64.max) + .nanoseconds(1)).wholeSecondsRoundedUp == UInt32.max)
        #expect(Duration.milliseconds(1500).timeInterval == 1.5)
        #expect(Duration.nanoseconds(1).timeInterval == 1e-9)
    }

    @Test("the password handed to libmariadb: explicit, from the option file, or empty (never MYSQL_PWD)")
    func passwordForConnect() throws {
        try TestFiles.withTemporaryDirectory { (directory: URL) throws in
            func configuration(_ text: String?, group: String? = nil, password: String? = nil) throws -> Configuration {
                var configuration = Configuration(host: "127.0.0.1", user: "u", password: password)
                let url = directory.appendingPathComponent(UUID().uuidString + ".cnf")
                if let text { try TestFiles.write(text, to: url) }
                configuration.optionFile = .init(path: url.path, group: group)
                return configuration
            }
            #expect(Configuration(host: "h", user: "u").passwordForConnect() == "")
            #expect(Configuration(host: "h", user: "u", password: "x").passwordForConnect() == "x")
            #expect(
                try configuration("[client]\npassword=p\n", password: "explicit").passwordForConnect() == "explicit")
            #expect(try configuration("[client]\npassword=p\n").passwordForConnect() == nil)
            #expect(try configuration("[client-mariadb]\npassword=p\n").passwordForConnect() == nil)
            #expect(try configuration("[migrate]\npassword=p\n", group: "migrate").passwordForConnect() == nil)
            #expect(try configuration("[migrate]\npassword=p\n").passwordForConnect() == "")
            #expect(try configuration("[mysqld]\npassword=p\n").passwordForConnect() == "")
            #expect(try configuration("[client]\nuser=x\n").passwordForConnect() == "")
            #expect(try configuration("[client]\n!include /elsewhere.cnf\n").passwordForConnect() == nil)
            #expect(try configuration(nil).passwordForConnect() == "", "a missing file provides nothing")
        }
    }
}
