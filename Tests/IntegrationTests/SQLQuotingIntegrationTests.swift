import CutoverSandbox
import MariaDB
import Testing

/// Hostile values quoted by `SQLStatement` come back from a real server byte for byte, with backslash escapes on
/// and under `NO_BACKSLASH_ESCAPES`.
@Suite(.integration, .mariaDBSandbox(servers: 1))
struct SQLQuotingIntegrationTests {
    static let hostileValues: [String] = [
        "",
        "plain",
        "it's",
        "''",
        "\"double\" quotes",
        "back\\slash",
        "trailing backslash\\",
        "\\'",
        "\\\\'",
        "x\\' OR 1=1 --",
        "x' OR '1'='1",
        "'; DROP TABLE t; --",
        "nul\0inside",
        "\0",
        "tab\tnew\nline\rcarriage",
        "ctrl-z \u{1A} end",
        "bell \u{07} escape \u{1B} delete \u{7F}",
        "percent % underscore _",
        "Grüße, 日本語, עברית, Ελληνικά",
        "emoji 🚀👩‍💻🏳️‍🌈",
        "mixed \\0 \\n \\Z literal escapes",
        "`backticks` and $dollars$",
        "/* comment */ -- dash # hash",
        String(repeating: "'\\", count: 500),
    ]

    enum Mode: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case backslashEscapes
        case noBackslashEscapes

        var testDescription: String { rawValue }
    }

    /// A connection in `mode`, with a fresh table `t (id INT, v LONGTEXT)` in its own database.
    private func connection(in mode: Mode) async throws -> MariaDBConnection {
        let server = try SuiteSandbox.require().servers[0]
        let (connection, _) = try await server.connectToFreshDatabase(prefix: "quoting_\(mode.rawValue)")
        switch mode {
        case .backslashEscapes:
            #expect(await connection.dialect == .mysql(noBackslashEscapes: false))
        case .noBackslashEscapes:
            try await connection.run("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'")
            // The dialect follows the server's status flag from the OK packet of that SET.
            #expect(await connection.dialect == .mysql(noBackslashEscapes: true))
        }
        try await connection.run(
            "CREATE TABLE t (id INT PRIMARY KEY, v LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL)"
        )
        return connection
    }

    @Test(arguments: Mode.allCases)
    func hostileLiteralsRoundTripThroughSelect(mode: Mode) async throws {
        let connection = try await connection(in: mode)
        for value in Self.hostileValues {
            let row = try await connection.queryFirst("SELECT \(value) AS v, LENGTH(\(value)) AS n")
            #expect(row?["v"]?.bytes == Array(value.utf8), "value \(value.debugDescription)")
            #expect(row?["n"]?.int == value.utf8.count, "value \(value.debugDescription)")
        }
    }

    @Test(arguments: Mode.allCases)
    func hostileLiteralsRoundTripThroughInsertAndWhere(mode: Mode) async throws {
        let connection = try await connection(in: mode)
        for (id, value) in Self.hostileValues.enumerated() {
            try await connection.run("INSERT INTO t (id, v) VALUES (\(id), \(value))")
        }
        let rows = try await connection.query("SELECT id, v FROM t ORDER BY id")
        #expect(rows.count == Self.hostileValues.count)
        for row in rows {
            let id = try row.decode(Int.self, "id")
            #expect(
                row["v"]?.bytes == Array(Self.hostileValues[id].utf8),
                "value \(Self.hostileValues[id].debugDescription)")
        }
        // Each value, used in a WHERE clause, finds exactly its own row and nothing else.
        for (id, value) in Self.hostileValues.enumerated() {
            let matches = try await connection.query("SELECT id FROM t WHERE v = \(value)")
            #expect(matches.map { $0["id"]?.int } == [id], "value \(value.debugDescription)")
        }
        #expect(try await connection.queryFirst("SELECT COUNT(*) AS n FROM t")?["n"]?.int == Self.hostileValues.count)
    }

    @Test func dialectFollowsSQLModeBothWays() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        #expect(await connection.dialect == .mysql(noBackslashEscapes: false))
        try await connection.run("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
        #expect(await connection.dialect == .mysql(noBackslashEscapes: true))
        let value = "a\\'b"
        #expect(try await connection.queryFirst("SELECT \(value) AS v")?["v"]?.string == value)
        try await connection.run("SET SESSION sql_mode = DEFAULT")
        #expect(await connection.dialect == .mysql(noBackslashEscapes: false))
        #expect(try await connection.queryFirst("SELECT \(value) AS v")?["v"]?.string == value)
    }

    @Test func identifiersWithBackticksAndOddCharacters() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let (connection, database) = try await server.connectToFreshDatabase(prefix: "identifiers")
        let table = "we`ird ta``ble 'name\" ü"
        let column = "col`umn; DROP TABLE x; --"

        try await connection.run(
            "CREATE TABLE \(identifier: database).\(identifier: table) (\(identifier: column) INT)")
        try await connection.run("INSERT INTO \(identifier: table) (\(identifier: column)) VALUES (42)")

        let row = try await connection.queryFirst("SELECT \(identifier: column) FROM \(identifier: table)")
        #expect(row?.columns.first?.name == column)
        #expect(row?[column]?.int == 42)
        let tables = try await connection.query(
            "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(database)"
        )
        #expect(tables.map { $0["name"]?.string } == [table])
        let columns = try await connection.query(
            "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = \(database) AND TABLE_NAME = \(table)"
        )
        #expect(columns.map { $0["name"]?.string } == [column])
    }
}
