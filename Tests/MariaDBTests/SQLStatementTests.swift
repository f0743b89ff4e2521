import Testing

@testable import MariaDB

@Suite("SQLStatement")
struct SQLStatementTests {
    @Test("interpolated values render per dialect")
    func renderingPerDialect() {
        let host = "db'1\\"
        let port = 3306
        let statement: SQLStatement =
            "UPDATE mysql_servers SET status = \("OFFLINE_SOFT") WHERE hostname = \(host) AND port = \(port)"
        #expect(
            statement.rendered(for: .mysql)
                == "UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostname = 'db''1\\\\' AND port = 3306"
        )
        #expect(
            statement.rendered(for: .mysql(noBackslashEscapes: true))
                == "UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostname = 'db''1\\' AND port = 3306"
        )
        #expect(
            statement.rendered(for: .proxySQLAdmin)
                == "UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostname = 'db''1\\' AND port = 3306"
        )
    }

    @Test("identifiers, NULL, optionals, doubles, bytes, unsigned and wide integers")
    func otherInterpolations() {
        let missing: String? = nil
        let present: String? = "x"
        let noNumber: Int? = nil
        let big = UInt64.max
        let negative: Int8 = -5
        let wide = Int128(UInt64.max) * 4
        let statement: SQLStatement =
            "SELECT \(identifier: "col`1") FROM \(identifier: "t") WHERE a = \(missing) AND b = \(present) AND c = \(noNumber) AND d = \(1.5) AND e = \(literal: .bytes([0xDE, 0xAD])) AND f = \(big) AND g = \(negative) AND h = \(wide)"
        #expect(
            statement.rendered(for: .mysql)
                == "SELECT `col``1` FROM `t` WHERE a = NULL AND b = 'x' AND c = NULL AND d = 1.5 AND e = X'DEAD' AND f = 18446744073709551615 AND g = -5 AND h = 73786976294838206460"
        )
        #expect(statement.rendered(for: .proxySQLAdmin).hasPrefix("SELECT \"col`1\" FROM \"t\""))
        #expect(SQLLiteral.double(.infinity).rendered(for: .mysql) == "NULL")
        #expect(SQLLiteral.double(.nan).rendered(for: .mysql) == "NULL")
        #expect(SQLLiteral.null.rendered(for: .proxySQLAdmin) == "NULL")
    }

    @Test("a secret is sent but never shown")
    func secrets() {
        let password = "S3cr3t'pw\\"
        let statement: SQLStatement = "CREATE USER \(identifier: "repl") IDENTIFIED BY \(secret: password)"
        #expect(statement.containsSecret)
        #expect(statement.rendered(for: .mysql) == "CREATE USER `repl` IDENTIFIED BY 'S3cr3t''pw\\\\'")
        #expect(statement.redacted == "CREATE USER `repl` IDENTIFIED BY '<redacted>'")
        #expect(statement.description == statement.redacted)
        #expect(String(reflecting: statement) == statement.redacted)
        #expect(!dumped(statement).contains("S3cr3t"))
        #expect(!"\(statement)".contains("S3cr3t"))
        let plain: SQLStatement = "SELECT 1"
        #expect(!plain.containsSecret)
        #expect(!(plain + "WHERE \(1)").containsSecret)
        #expect((plain + " -- \(secret: "x")").containsSecret)
    }

    @Test("redacted masks string literals and keeps numbers, NULL and identifiers")
    func redaction() {
        let statement: SQLStatement =
            "INSERT INTO \(identifier: "t") VALUES (\("row data"), \(42), \(UInt64.max), \(2.5), \(nil as String?), \(literal: .bytes([1])))"
        #expect(statement.redacted == "INSERT INTO `t` VALUES ('…', 42, 18446744073709551615, 2.5, NULL, '…')")
    }

    @Test("redacted masks quoted text inside trusted SQL too")
    func redactionOfTrustedText() {
        let raw = SQLStatement(
            unsafeRaw: "SET PASSWORD FOR `app` = PASSWORD('hunter2'), x = \"dq\", y = 'it''s', z = 'a\\'b'")
        #expect(raw.redacted == "SET PASSWORD FOR `app` = PASSWORD('…'), x = '…', y = '…', z = '…'")
        let split: SQLStatement = "SET x = '\(unsafeRaw: "hunter2")' WHERE n = \(1)"
        #expect(!split.redacted.contains("hunter2"))
        #expect(split.redacted.hasSuffix("WHERE n = 1"))
        let unterminated = SQLStatement(unsafeRaw: "SELECT 'never closed hunter2")
        #expect(unterminated.redacted == "SELECT '…'")
        let backquoted = SQLStatement(unsafeRaw: "SELECT `it's a column` FROM t")
        #expect(backquoted.redacted == "SELECT `it's a column` FROM t")
    }

    @Test("joined and + keep literals apart")
    func joining() {
        let parts: [SQLStatement] = ["\("a'")", "\(2)", "\(identifier: "c")"]
        let list = SQLStatement.joined(parts, separator: ", ")
        #expect(list.rendered(for: .mysql) == "'a''', 2, `c`")
        #expect(list.rendered(for: .proxySQLAdmin) == "'a''', 2, \"c\"")
        #expect(SQLStatement.joined([], separator: ", ").rendered(for: .mysql) == "")
        #expect(SQLStatement.joined(["\(1)"], separator: ", ").rendered(for: .mysql) == "1")
        let nested: SQLStatement = "SELECT \(list) FROM t"
        #expect(nested.rendered(for: .mysql) == "SELECT 'a''', 2, `c` FROM t")
        #expect(nested.redacted == "SELECT '…', 2, `c` FROM t")
        let combined: SQLStatement = "SELECT " + "\("x")"
        #expect(combined.rendered(for: .mysql) == "SELECT 'x'")
    }

    @Test("trusted raw text is sent verbatim")
    func unsafeRaw() {
        let keyword = "RUNTIME"
        let statement: SQLStatement = "LOAD MYSQL SERVERS TO \(unsafeRaw: keyword)"
        #expect(statement.rendered(for: .proxySQLAdmin) == "LOAD MYSQL SERVERS TO RUNTIME")
        #expect(SQLStatement(unsafeRaw: "SELECT 'a'").rendered(for: .mysql) == "SELECT 'a'")
    }

    @Test("equality and hashing follow the fragments")
    func equality() {
        let first: SQLStatement = "SELECT \(1)"
        let second: SQLStatement = "SELECT \(1)"
        let third: SQLStatement = "SELECT \("1")"
        #expect(first == second)
        #expect(first != third)
        #expect(Set([first, second, third]).count == 2)
    }
}
