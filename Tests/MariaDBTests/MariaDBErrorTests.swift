import Testing

@testable import MariaDB

@Suite("MariaDBError")
struct MariaDBErrorTests {
    static func server(_ number: UInt32, _ message: String, sqlState: String = "HY000", statement: String? = nil)
        -> MariaDBError
    {
        MariaDBError(
            code: .server, serverErrorNumber: number, sqlState: sqlState, message: message, statement: statement)
    }

    @Test("description: code, number, SQLSTATE, endpoint and message")
    func descriptionShape() {
        let error = MariaDBError(
            code: .server,
            serverErrorNumber: 1205,
            sqlState: "HY000",
            message: "Lock wait timeout exceeded; try restarting transaction",
            endpoint: "10.0.0.1:3306"
        )
        #expect(
            error.description
                == "MariaDBError.server 1205 (HY000) at 10.0.0.1:3306: Lock wait timeout exceeded; try restarting transaction"
        )
        #expect(MariaDBError(code: .cancelled).description == "MariaDBError.cancelled")
        #expect(MariaDBError(code: .loginPath, message: "m").description == "MariaDBError.loginPath: m")
    }

    @Test("the statement and any near '…' fragment stay out of description and dump")
    func noStatementInDescription() {
        let statement: SQLStatement =
            "CREATE USER \(identifier: "r") IDENTIFIED BY \(secret: "hunter2") GARBAGE \("row-data")"
        let mysql = Self.server(
            1064,
            "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'hunter2' GARBAGE 'row-data'' at line 1",
            sqlState: "42000",
            statement: statement.redacted
        )
        let admin = Self.server(1045, "ProxySQL Admin Error: near \"hunter2\": syntax error", sqlState: "28000")
        for error in [mysql, admin] {
            for text in [
                error.description, error.debugDescription, dumped(error), String(reflecting: error), "\(error)",
            ] {
                #expect(!text.contains("hunter2"), "\(text)")
                #expect(!text.contains("row-data"), "\(text)")
                #expect(!text.contains("near '"), "\(text)")
                #expect(!text.contains("near \""), "\(text)")
            }
            #expect(error.description.contains("(statement text omitted)"))
        }
        #expect(!mysql.description.contains("GARBAGE"))
        #expect(mysql.debugDescription.contains("statement: CREATE USER `r` IDENTIFIED BY '<redacted>' GARBAGE '…'"))
        #expect(mysql.debugDescription.contains("MariaDBErrorTests.swift:"))
        #expect(mysql.message?.contains("hunter2") == true, "the raw message is kept for classification")
    }

    @Test(
        "row values in duplicate-key and bad-value messages are masked",
        arguments: [
            (
                UInt32(1062), "Duplicate entry 'alice@example.com' for key 'users.email'",
                "Duplicate entry '…' for key 'users.email'"
            ),
            (1586, "Duplicate entry 'x-1' for key 'PRIMARY'", "Duplicate entry '…' for key 'PRIMARY'"),
            (
                1366, "Incorrect string value: '\\xF0\\x9F\\x94\\x91' for column `db`.`t`.`c` at row 1",
                "Incorrect string value: '…' for column `db`.`t`.`c` at row 1"
            ),
            (1292, "Truncated incorrect DOUBLE value: 'secret'", "Truncated incorrect DOUBLE value: '…'"),
            (1146, "Table 'shop.orders' doesn't exist", "Table 'shop.orders' doesn't exist"),
        ])
    func rowValuesMasked(number: UInt32, message: String, expected: String) {
        #expect(Self.server(number, message).description.hasSuffix(": " + expected))
    }

    @Test("equality compares the code only")
    func equality() {
        #expect(Self.server(1205, "a") == Self.server(1062, "b"))
        #expect(MariaDBError(code: .server) != MariaDBError(code: .connectionLost))
        #expect(MariaDBError.Code.loginPath == .loginPath)
        #expect(MariaDBError.Code.loginPath.description == "loginPath")
        #expect(Set([MariaDBError.Code.server, .server, .decoding]).count == 2)
    }

    @Test("classification helpers")
    func classification() {
        #expect(MariaDBError(code: .connectionLost).isConnectionLost)
        for number: UInt32 in [2006, 2013, 2055, 1927, 2026, 4031, 1053] {
            #expect(Self.server(number, "x").isConnectionLost, "\(number)")
        }
        #expect(!Self.server(1205, "x").isConnectionLost)
        #expect(!MariaDBError(code: .connectionClosed).isConnectionLost)

        for number: UInt32 in [1044, 1045, 1698] { #expect(Self.server(number, "Access denied").isAccessDenied) }
        #expect(
            Self.server(1045, "ProxySQL Error: Access denied for user 'admin'@'127.0.0.1' (using password: YES)")
                .isAccessDenied)
        #expect(!Self.server(1045, "ProxySQL Admin Error: no such table: x").isAccessDenied)
        #expect(!Self.server(1142, "x").isAccessDenied)

        for number: UInt32 in [1142, 1143, 1227, 1370] { #expect(Self.server(number, "x").isPermissionDenied) }
        #expect(!Self.server(1045, "x").isPermissionDenied)

        #expect(Self.server(1205, "x").isLockWaitTimeout)
        #expect(Self.server(1213, "x").isLockWaitTimeout)
        #expect(!Self.server(1317, "x").isLockWaitTimeout)

        for number: UInt32 in [1317, 3024, 1969] { #expect(Self.server(number, "x").isInterrupted) }
        #expect(MariaDBError(code: .cancelled).isInterrupted)
        #expect(MariaDBError(code: .deadlineExceeded).isInterrupted)
        #expect(!Self.server(1205, "x").isInterrupted)

        #expect(Self.server(1193, "Unknown system variable 'x'").isUnknownVariable)
        #expect(!Self.server(1194, "x").isUnknownVariable)

        #expect(Self.server(1064, "You have an error").isSyntaxError)
        #expect(Self.server(1149, "x").isSyntaxError)
        #expect(Self.server(1045, "ProxySQL Admin Error: near \"SELEC\": syntax error").isSyntaxError)
        #expect(Self.server(1045, "ProxySQL Admin Error: near \"LOAD\": syntax error").isSyntaxError)
        #expect(Self.server(1045, "ProxySQL Admin Error: unrecognized token: \"'abc\"").isSyntaxError)
        #expect(Self.server(1045, "ProxySQL Admin Error: incomplete input").isSyntaxError)
        #expect(!Self.server(1045, "ProxySQL Admin Error: no such table: x").isSyntaxError)
        #expect(!Self.server(1045, "ProxySQL Error: Access denied for user").isSyntaxError)
        #expect(!MariaDBError(code: .server).isSyntaxError)
    }

    @Test("ServerCode matches with ~= in catch clauses and switches")
    func serverCodeMatching() {
        func throwing(_ number: UInt32) throws { throw Self.server(number, "x") }
        var caught = false
        do {
            try throwing(1205)
        } catch MariaDBError.ServerCode.lockWaitTimeout {
            caught = true
        } catch {
            Issue.record("not matched: \(error)")
        }
        #expect(caught)

        let error: any Error = Self.server(1045, "denied")
        switch error {
        case MariaDBError.ServerCode.lockWaitTimeout: Issue.record("wrong match")
        case MariaDBError.ServerCode.accessDenied: break
        default: Issue.record("no match")
        }
        #expect(!(MariaDBError.ServerCode.accessDenied ~= MariaDBError(code: .server)))
        struct Other: Error {}
        #expect(!(MariaDBError.ServerCode.accessDenied ~= Other()))
        #expect(Self.server(1213, "x").serverCode == .deadlock)
        #expect(MariaDBError(code: .cancelled).serverCode == nil)
        #expect(MariaDBError.ServerCode.signal.rawValue == 1644)
        #expect(MariaDBError.ServerCode(rawValue: 2013) == .serverLost)
        #expect(MariaDBError.ServerCode.serverLost.description == "2013")
    }
}
