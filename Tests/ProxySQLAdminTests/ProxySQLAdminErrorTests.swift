import MariaDB
import ProxySQLAdmin
import Testing

@Suite("ProxySQLAdminError classification")
struct ProxySQLAdminErrorTests {
    static func adminError(_ text: String, code: MariaDBError.Code = .server) -> MariaDBError {
        MariaDBError(code: code, serverErrorNumber: 1045, sqlState: "28000", message: text, endpoint: "127.0.0.1:6032")
    }

    @Test(
        "1045 with the admin prefix is a refused statement, classified by SQLite's text",
        arguments: [
            ("ProxySQL Admin Error: near \"SELEC\": syntax error", ProxySQLAdminError.Code.adminStatementFailed),
            ("ProxySQL Admin Error: near \"LOAD\": syntax error", .adminStatementFailed),
            ("ProxySQL Admin Error: no such table: x", .adminStatementFailed),
            ("ProxySQL Admin Error: Unknown thread id: 99", .adminStatementFailed),
            ("ProxySQL Admin Error: CHECK constraint failed: mysql_servers", .constraintViolation),
            (
                "ProxySQL Admin Error: UNIQUE constraint failed: mysql_servers.hostgroup_id, mysql_servers.hostname, mysql_servers.port",
                .constraintViolation
            ),
            ("ProxySQL Admin Error: NOT NULL constraint failed: mysql_servers.hostname", .constraintViolation),
        ]
    )
    func adminStatements(text: String, expected: ProxySQLAdminError.Code) {
        let error = ProxySQLAdminError(classifying: Self.adminError(text), node: "proxy-a")
        #expect(error.code == expected)
        #expect(error.serverErrorNumber == 1045)
        #expect(error.sqlState == "28000")
        #expect(error.node == "proxy-a")
        #expect(error.adminMessage == String(text.dropFirst("ProxySQL Admin Error: ".count)))
    }

    @Test(
        "1045 without the admin prefix is a refused login",
        arguments: [
            "ProxySQL Error: Access denied for user 'admin'@'127.0.0.1' (using password: YES)",
            "Access denied for user 'admin'@'localhost'",
        ]
    )
    func accessDenied(text: String) {
        let onStatement = ProxySQLAdminError(classifying: Self.adminError(text))
        #expect(onStatement.code == .accessDenied)
        let onConnect = ProxySQLAdminError(classifying: Self.adminError(text, code: .connectionFailed))
        #expect(onConnect.code == .accessDenied)
        #expect(onConnect.adminMessage == nil)
        #expect(!onConnect.description.contains("admin'@"))
        #expect(onConnect.node == "127.0.0.1:6032")
    }

    @Test("Connection, deadline and cancellation codes map to their counterparts")
    func transportCodes() {
        let cases: [(MariaDBError, ProxySQLAdminError.Code)] = [
            (
                MariaDBError(code: .connectionFailed, serverErrorNumber: 2003, message: "Can't connect"),
                .connectionFailed
            ),
            (MariaDBError(code: .connectionLost, serverErrorNumber: 2013, message: "Lost connection"), .connectionLost),
            (MariaDBError(code: .connectionClosed), .connectionLost),
            (MariaDBError(code: .deadlineExceeded), .deadlineExceeded),
            (MariaDBError(code: .cancelled), .cancelled),
            (MariaDBError(code: .decoding), .unexpectedResult),
            (MariaDBError(code: .invalidConfiguration, message: "port 0 is outside 1...65535"), .invalidArgument),
            (
                MariaDBError(code: .server, serverErrorNumber: 1064, sqlState: "42000", message: "You have an error"),
                .adminStatementFailed
            ),
        ]
        for (input, expected) in cases {
            #expect(ProxySQLAdminError(classifying: input).code == expected, "\(input)")
        }
        #expect(ProxySQLAdminError(classifying: CancellationError()).code == .cancelled)
    }

    @Test("An admin error passes through classification unchanged, gaining a node")
    func passthrough() {
        let original = ProxySQLAdminError(code: .notFound, message: "no server matched")
        let classified = ProxySQLAdminError(classifying: original, node: "proxy-b")
        #expect(classified.code == .notFound)
        #expect(classified.node == "proxy-b")
        #expect(classified.message == "no server matched")
    }

    @Test("The description never shows SQL; the debug description shows the redacted statement")
    func descriptions() {
        let statement: SQLStatement = "SELEC * FROM mysql_servers WHERE comment = \("secret-ish")"
        let error = ProxySQLAdminError(
            classifying: Self.adminError("ProxySQL Admin Error: near \"SELEC\": syntax error"),
            node: "proxy-a",
            statement: statement
        )
        #expect(error.isSyntaxError)
        #expect(!error.isNoSuchTable)
        #expect(!error.description.contains("SELEC"))
        #expect(error.description.contains("syntax error"))
        #expect(error.description.hasPrefix("ProxySQLAdminError.adminStatementFailed at proxy-a 1045 (28000)"))
        #expect(error.debugDescription.contains("SELEC * FROM mysql_servers WHERE comment = '…'"))
        #expect(!error.debugDescription.contains("secret-ish"))
    }

    @Test("Errors compare by code only")
    func equality() {
        #expect(ProxySQLAdminError(code: .notFound, message: "a") == ProxySQLAdminError(code: .notFound, node: "b"))
        #expect(ProxySQLAdminError(code: .notFound) != ProxySQLAdminError(code: .accessDenied))
    }

    @Test("Unique violations are recognised")
    func unique() {
        let error = ProxySQLAdminError(
            classifying: Self.adminError("ProxySQL Admin Error: UNIQUE constraint failed: mysql_servers.hostgroup_id")
        )
        #expect(error.isUniqueViolation)
        #expect(!error.isSyntaxError)
        let noTable = ProxySQLAdminError(classifying: Self.adminError("ProxySQL Admin Error: no such table: x"))
        #expect(noTable.isNoSuchTable)
    }
}
