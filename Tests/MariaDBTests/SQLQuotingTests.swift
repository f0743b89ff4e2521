import Testing

@testable import MariaDB

@Suite("SQLQuoting")
struct SQLQuotingTests {
    static let hostileValues: [String] = [
        "",
        "plain",
        "O'Reilly",
        "''",
        "'",
        "\\",
        "\\'",
        "x\\' OR 1=1 --",
        "x' OR '1'='1",
        "'; DROP TABLE mysql_servers; --",
        "\"double\" quotes",
        "back\\slash\\\\",
        "nul\0byte",
        "\0",
        "line\nfeed\r\ncarriage",
        "tab\there",
        "\u{1A}ctrl-z",
        "del\u{7F}",
        "\u{1}\u{2}\u{1F}",
        "%_ wildcards",
        "`backtick` and \"dq\"",
        "a\\0b literal backslash zero",
        "ümlaut Straße",
        "日本語のテキスト",
        "🔑🚀 emoji 👩‍👩‍👧",
        "'\u{301} OR 1=1 --",  // a quote followed by a combining mark is one Character
        "\\\u{301}'",
        String(repeating: "x'\\", count: 500),
    ]

    static let dialects: [SQLDialect] = [
        .mysql(noBackslashEscapes: false), .mysql(noBackslashEscapes: true), .proxySQLAdmin,
    ]

    static func rules(for dialect: SQLDialect) -> LiteralLexer.Rules {
        switch dialect {
        case .mysql(noBackslashEscapes: false): .mysqlBackslash
        case .mysql(noBackslashEscapes: true): .mysqlNoBackslash
        case .proxySQLAdmin: .sqlite
        }
    }

    @Test("every hostile value round-trips through the dialect's own lexer", arguments: dialects)
    func roundTrip(dialect: SQLDialect) throws {
        for value in Self.hostileValues {
            let rendered = SQLQuoting.stringLiteral(value, dialect: dialect)
            let lexed = try #require(LiteralLexer.lex(rendered, rules: Self.rules(for: dialect)), "\(rendered)")
            #expect(lexed.value == Array(value.utf8), "value \(value.debugDescription) rendered \(rendered)")
            #expect(lexed.end == rendered.utf8.count, "literal ends early: \(rendered.debugDescription)")
        }
    }

    @Test("the backslash-mode literal never ends early, even if the server runs another lexer")
    func backslashModeLiteralIsSafeUnderEveryLexer() throws {
        for value in Self.hostileValues {
            let rendered = SQLQuoting.stringLiteral(value, dialect: .mysql(noBackslashEscapes: false))
            for rules in [LiteralLexer.Rules.mysqlNoBackslash, .sqlite] {
                let lexed = try #require(LiteralLexer.lex(rendered, rules: rules))
                #expect(lexed.end == rendered.utf8.count, "breakout of \(rendered.debugDescription) under \(rules)")
            }
        }
    }

    @Test("the classic injection values render as expected")
    func knownRenderings() {
        #expect(SQLQuoting.stringLiteral("x\\' OR 1=1 --", dialect: .mysql) == "'x\\\\'' OR 1=1 --'")
        #expect(
            SQLQuoting.stringLiteral("x\\' OR 1=1 --", dialect: .mysql(noBackslashEscapes: true)) == "'x\\'' OR 1=1 --'"
        )
        #expect(SQLQuoting.stringLiteral("x\\' OR 1=1 --", dialect: .proxySQLAdmin) == "'x\\'' OR 1=1 --'")
        #expect(SQLQuoting.stringLiteral("O'Reilly", dialect: .mysql) == "'O''Reilly'")
        #expect(SQLQuoting.stringLiteral("a\0b", dialect: .mysql) == "'a\\0b'")
        #expect(SQLQuoting.stringLiteral("a\0b", dialect: .proxySQLAdmin) == "CAST(X'610062' AS TEXT)")
        #expect(SQLQuoting.stringLiteral("tab\tok", dialect: .proxySQLAdmin) == "'tab\tok'")
        #expect(SQLQuoting.stringLiteral("", dialect: .proxySQLAdmin) == "''")
        #expect(SQLQuoting.stringLiteral("é🔑", dialect: .mysql) == "'é🔑'")
    }

    @Test("a quote hidden in a grapheme cluster is still doubled", arguments: dialects)
    func combiningMarkAfterQuote(dialect: SQLDialect) {
        let value = "'\u{301} OR 1=1 --"
        #expect(value.count == value.unicodeScalars.count - 1, "precondition: the quote and mark form one Character")
        let rendered = SQLQuoting.stringLiteral(value, dialect: dialect)
        let quotes = rendered.utf8.filter { $0 == UInt8(ascii: "'") }.count
        #expect(quotes == 4, "\(rendered.debugDescription)")
    }

    @Test("identifiers: backticks for MySQL, double quotes for SQLite, doubled inside")
    func identifiers() {
        #expect(SQLQuoting.identifier("mysql_servers", dialect: .mysql) == "`mysql_servers`")
        #expect(SQLQuoting.identifier("we`ird", dialect: .mysql) == "`we``ird`")
        #expect(SQLQuoting.identifier("we`ird", dialect: .mysql(noBackslashEscapes: true)) == "`we``ird`")
        #expect(SQLQuoting.identifier("we\"ird", dialect: .proxySQLAdmin) == "\"we\"\"ird\"")
        #expect(SQLQuoting.identifier("we\"ird", dialect: .mysql) == "`we\"ird`")
        #expect(SQLQuoting.identifier("`\u{301}", dialect: .mysql) == "```\u{301}`")
        #expect(SQLQuoting.identifier("\"\u{301}", dialect: .proxySQLAdmin) == "\"\"\"\u{301}\"")
        #expect(SQLQuoting.identifier("日本", dialect: .mysql) == "`日本`")
    }

    @Test("hex literals")
    func hexLiterals() {
        #expect(SQLQuoting.hexLiteral([]) == "X''")
        #expect(SQLQuoting.hexLiteral([0x00, 0x0A, 0xFF, 0x27]) == "X'000AFF27'")
    }

    @Test("dialect descriptions")
    func dialectDescriptions() {
        #expect(SQLDialect.mysql == .mysql(noBackslashEscapes: false))
        #expect(SQLDialect.mysql.description == "mysql")
        #expect(SQLDialect.mysql(noBackslashEscapes: true).description == "mysql(NO_BACKSLASH_ESCAPES)")
        #expect(SQLDialect.proxySQLAdmin.description == "proxysql-admin")
    }
}
