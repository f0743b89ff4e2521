import CutoverTestSupport
import Foundation
import MariaDB
import ProxySQLAdmin
import Testing

/// Hostile host names and comments must produce exactly the expected SQL text and stay inside their literal
/// under SQLite's rules (quote doubled, backslash literal), which is what ProxySQL's admin interface applies.
@Suite("Hostile values on the admin interface")
struct HostileValueTests {
    /// (value, the literal it must render as on the admin interface)
    static let hostile: [(String, String)] = [
        ("x' OR 1=1 --", "'x'' OR 1=1 --'"),
        ("x\\' OR 1=1 --", "'x\\'' OR 1=1 --'"),
        ("'; DELETE FROM mysql_servers; --", "'''; DELETE FROM mysql_servers; --'"),
        ("back\\\\slash\\", "'back\\\\slash\\'"),
        ("\\", "'\\'"),
        ("''", "''''''"),
        ("a\0b' OR 1=1 --", "CAST(X'61006227204F5220313D31202D2D' AS TEXT)"),
        ("line\nbreak'", "CAST(X'6C696E650A627265616B27' AS TEXT)"),
        ("数据库-ü-🚀'", "'数据库-ü-🚀'''"),
        ("\"quoted\" `ticked`", "'\"quoted\" `ticked`'"),
        ("x\u{1A}'", "CAST(X'781A27' AS TEXT)"),
    ]

    @Test("Hostile host names render exactly in an UPDATE by key", arguments: hostile)
    func updateByKey(value: String, literal: String) async throws {
        let session = Fixtures.session()
        session.expect(
            "UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE hostgroup_id = 10 AND hostname = \(literal) AND port = 3306",
            result: SQLResult(affectedRows: 1)
        )
        let key = BackendServer.Key(hostgroup: 10, host: value, port: 3306)
        try await Fixtures.client(session).setStatus(.offlineHard, of: key, logger: Fixtures.logger)
        try session.verifyAllConsumed()
    }

    @Test("Hostile comments render exactly in an UPDATE by comment and in an INSERT", arguments: hostile)
    func commentAndInsert(value: String, literal: String) async throws {
        let session = Fixtures.session()
        session.expect(
            "UPDATE mysql_servers SET status = 'ONLINE' WHERE comment = \(literal)",
            result: SQLResult(affectedRows: 1))
        session.expect(
            "INSERT INTO mysql_servers (\(Fixtures.columnList)) VALUES (10, \(literal), 3306, 0, 'OFFLINE_HARD', 1, 0, 1000, 0, 0, 0, \(literal))",
            result: SQLResult(affectedRows: 1)
        )
        session.expect(
            "UPDATE mysql_servers SET comment = \(literal) WHERE hostgroup_id = 10 AND hostname = 'db1' AND port = 3306",
            result: SQLResult(affectedRows: 1))
        let client = Fixtures.client(session)
        try await client.setStatus(.online, ofServersWithComment: value, logger: Fixtures.logger)
        try await client.addServer(
            BackendServer(hostgroup: 10, host: value, status: .offlineHard, comment: value),
            logger: Fixtures.logger)
        try await client.setComment(value, of: Fixtures.writer, logger: Fixtures.logger)
        try session.verifyAllConsumed()
    }

    @Test("Hostile values render exactly in pool, processlist and variable statements")
    func readsAndVariables() {
        let endpoint = ServerEndpoint(host: "x' OR 1=1 --", port: 3306)
        #expect(
            ProxySQLAdminStatements.selectConnectionPool(for: BackendServer.Key(hostgroup: 10, endpoint: endpoint))
                .rendered(for: .proxySQLAdmin)
                == "SELECT * FROM stats_mysql_connection_pool WHERE hostgroup = 10 AND srv_host = 'x'' OR 1=1 --' AND srv_port = 3306"
        )
        #expect(
            ProxySQLAdminStatements.selectProcesslist(attachedTo: endpoint).rendered(for: .proxySQLAdmin)
                == "SELECT * FROM stats_mysql_processlist WHERE srv_host = 'x'' OR 1=1 --' AND srv_port = 3306 ORDER BY SessionID"
        )
        #expect(
            ProxySQLAdminStatements.updateVariable("mysql-x\\' OR 1=1 --", to: "1\\'; --").rendered(for: .proxySQLAdmin)
                == "UPDATE global_variables SET variable_value = '1\\''; --' WHERE variable_name = 'mysql-x\\'' OR 1=1 --'"
        )
    }

    // MARK: Under SQLite's own rules

    /// Three rows; the second has the hostile value as host name and as comment.
    static func seed(_ session: SQLiteAdminSession, hostile value: String) async throws {
        let client = ProxySQLAdminClient(session: session)
        for server in [
            BackendServer(hostgroup: 10, host: "db1", comment: "source"),
            BackendServer(hostgroup: 10, host: value, comment: value),
            BackendServer(hostgroup: 11, host: "db2", comment: "reader"),
        ] {
            try await client.addServer(server, logger: Fixtures.logger)
        }
    }

    @Test(
        "On SQLite, a hostile value stays inside its literal: one row changes, and it reads back byte for byte",
        .enabled(if: SQLiteLibrary.isRequired, SQLiteLibrary.skipReason),
        arguments: hostile.map(\.0)
    )
    func cannotEscapeOnSQLite(value: String) async throws {
        let session = try SQLiteAdminSession()
        try await Self.seed(session, hostile: value)
        let client = ProxySQLAdminClient(session: session)

        // Read back: the stored host name and comment are exactly the value, byte for byte (NUL included).
        let stored = try await client.configuredServers(logger: Fixtures.logger)
        #expect(stored.count == 3)
        let row = try #require(stored.first { $0.comment != "source" && $0.comment != "reader" })
        #expect(Array(row.endpoint.host.utf8) == Array(value.utf8))
        #expect(Array(row.comment.utf8) == Array(value.utf8))

        // Update by comment and by key: exactly one row each.
        #expect(try await client.setStatus(.offlineSoft, ofServersWithComment: value, logger: Fixtures.logger) == 1)
        try await client.setWeight(7, of: BackendServer.Key(hostgroup: 10, host: value), logger: Fixtures.logger)
        let after = try await client.configuredServers(logger: Fixtures.logger)
        #expect(after.filter { $0.status == .offlineSoft }.count == 1)
        #expect(after.filter { $0.weight == 7 }.count == 1)
        #expect(after.filter { $0.status == .online }.map(\.endpoint.host).sorted() == ["db1", "db2"])

        // Delete by key: one row goes, the others stay.
        try await client.removeServer(BackendServer.Key(hostgroup: 10, host: value), logger: Fixtures.logger)
        #expect(try await client.configuredServers(logger: Fixtures.logger).map(\.endpoint.host) == ["db1", "db2"])
    }

    /// Backslash escaping as `mysql_real_escape_string` does it (`\'` for a quote), which client libraries
    /// apply on the admin port when they believe backslash escapes are on.
    static func backslashEscaped(_ value: String) -> String {
        var out = "'"
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            default: out.append(character)
            }
        }
        return out + "'"
    }

    @Test(
        "Why the dialect matters: backslash escaping of x\\' OR 1=1 -- rewrites every row on SQLite",
        .enabled(if: SQLiteLibrary.isRequired, SQLiteLibrary.skipReason)
    )
    func backslashEscapingInjectsOnSQLite() async throws {
        let session = try SQLiteAdminSession()
        try await Self.seed(session, hostile: "target")
        let value = "x\\' OR 1=1 --"
        let literal = Self.backslashEscaped(value)
        #expect(literal == "'x\\\\\\' OR 1=1 --'")
        try session.direct("UPDATE mysql_servers SET status = 'OFFLINE_HARD' WHERE comment = \(literal)")
        let hijacked = try await ProxySQLAdminClient(session: session).configuredServers(logger: Fixtures.logger)
        #expect(hijacked.count == 3)
        #expect(
            hijacked.allSatisfy { $0.status == .offlineHard }, "the backslash-escaped literal ended early on SQLite")
    }

    @Test(
        "Only admin quoting matches a stored hostile value; MySQL quoting stays closed on SQLite but garbles it",
        .enabled(if: SQLiteLibrary.isRequired, SQLiteLibrary.skipReason)
    )
    func mysqlQuotingGarblesOnSQLite() async throws {
        let value = "x\\' OR 1=1 --"
        let statement = ProxySQLAdminStatements.updateServers(.comment(value), set: ServerChange(status: .offlineHard))

        let session = try SQLiteAdminSession()
        try await Self.seed(session, hostile: value)
        let mysqlText = statement.rendered(for: .mysql)
        #expect(mysqlText != statement.rendered(for: .proxySQLAdmin))
        try session.direct(mysqlText)
        let untouched = try await ProxySQLAdminClient(session: session).configuredServers(logger: Fixtures.logger)
        #expect(untouched.allSatisfy { $0.status == .online }, "MySQL quoting matched the row or escaped its literal")

        // Quoted for the admin interface, the same statement changes exactly the row holding the value.
        #expect(
            try await ProxySQLAdminClient(session: session).setStatus(
                .offlineHard, ofServersWithComment: value, logger: Fixtures.logger) == 1)
        let after = try await ProxySQLAdminClient(session: session).configuredServers(logger: Fixtures.logger)
        #expect(after.filter { $0.status == .offlineHard }.map(\.comment) == [value])
    }
}
