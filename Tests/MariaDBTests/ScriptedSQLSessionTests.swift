import CutoverTestSupport
import MariaDB
import Testing

@Suite("ScriptedSQLSession")
struct ScriptedSQLSessionTests {
    @Test("exact, prefix and regex matchers answer in order")
    func matchers() async throws {
        let session = ScriptedSQLSession(dialect: .proxySQLAdmin, endpointDescription: "admin:6032")
        session.expect("LOAD MYSQL SERVERS TO RUNTIME")
        session.expect(.prefix("UPDATE mysql_servers SET status"), reply: .result(SQLResult(affectedRows: 2)))
        session.expect(
            .regex("^SELECT .* FROM runtime_mysql_servers WHERE hostname = 'o''brien'$"),
            columns: ["hostgroup_id", "status"],
            rows: [["10", "ONLINE"], ["11", nil]]
        )
        #expect(session.endpointDescription == "admin:6032")
        #expect(session.dialect == .proxySQLAdmin)

        try await session.run("LOAD MYSQL SERVERS TO RUNTIME")
        let changed = try await session.run(
            "UPDATE mysql_servers SET status = \("OFFLINE_SOFT") WHERE hostgroup_id = \(10)")
        #expect(changed == 2)
        let rows = try await session.query(
            "SELECT hostgroup_id, status FROM runtime_mysql_servers WHERE hostname = \("o'brien")")
        #expect(rows.count == 2)
        #expect(rows[0]["hostgroup_id"]?.int == 10)
        #expect(rows[1]["status"]?.isNull == true)

        try session.verifyAllConsumed()
        #expect(session.failures.isEmpty)
        #expect(session.pendingExpectations.isEmpty)
        #expect(
            session.receivedStatements == [
                "LOAD MYSQL SERVERS TO RUNTIME",
                "UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostgroup_id = 10",
                "SELECT hostgroup_id, status FROM runtime_mysql_servers WHERE hostname = 'o''brien'",
            ])
    }

    @Test("statements are rendered for the session's dialect")
    func renderingPerDialect() async throws {
        let mysql = ScriptedSQLSession(dialect: .mysql)
        mysql.expect("SELECT 'a\\\\b'")
        try await mysql.run("SELECT \("a\\b")")
        let admin = ScriptedSQLSession(dialect: .proxySQLAdmin)
        admin.expect("SELECT 'a\\b'")
        try await admin.run("SELECT \("a\\b")")
        try mysql.verifyAllConsumed()
        try admin.verifyAllConsumed()
    }

    @Test("a scripted error is thrown with the redacted statement")
    func scriptedError() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .prefix("CALL mysql.rds_stop_replication"), failingWith: 1644, sqlState: "45000",
            message: "Replication is not running")
        session.expect(.exact("SELECT 1"), reply: .error(MariaDBError(code: .connectionLost, serverErrorNumber: 2013)))
        do {
            try await session.run("CALL mysql.rds_stop_replication(\("secret-ish"))")
            Issue.record("expected an error")
        } catch let error as MariaDBError {
            #expect(error.code == .server)
            #expect(error.serverErrorNumber == 1644)
            #expect(error.sqlState == "45000")
            #expect(error.message == "Replication is not running")
            #expect(error.statement == "CALL mysql.rds_stop_replication('…')")
            #expect(MariaDBError.ServerCode.signal ~= error)
        }
        await #expect(throws: MariaDBError(code: .connectionLost)) { try await session.run("SELECT 1") }
        try session.verifyAllConsumed()
    }

    @Test("an unexpected statement fails the call and is recorded")
    func unexpectedStatement() async throws {
        let session = ScriptedSQLSession()
        session.expect("SELECT 1")
        session.expect("SELECT 2")
        do {
            try await session.run("SELECT 3")
            Issue.record("expected an error")
        } catch let error as MariaDBError {
            #expect(error.code == .unexpectedResult)
            #expect(error.message?.contains("unexpected statement: SELECT 3") == true)
            #expect(error.message?.contains("expected exactly \"SELECT 1\"") == true)
            #expect(error.message?.contains("ScriptedSQLSessionTests.swift") == true, "names where it was scripted")
        }
        #expect(session.failures.count == 1)
        // The mismatched expectation is consumed; the next one is still pending.
        #expect(session.pendingExpectations.count == 1)
        #expect(throws: MariaDBError.self) { try session.verifyAllConsumed() }
    }

    @Test("nothing more expected")
    func nothingMoreExpected() async {
        let session = ScriptedSQLSession()
        await #expect(throws: MariaDBError(code: .unexpectedResult)) { try await session.run("SELECT 1") }
        #expect(session.failures.first?.contains("nothing more expected") == true)
        #expect(session.receivedStatements == ["SELECT 1"])
    }

    @Test("verifyAllConsumed lists the leftovers")
    func leftovers() async throws {
        let session = ScriptedSQLSession()
        session.expect("SELECT 1")
        session.expect(.regex("^SHOW (SLAVE|REPLICA) STATUS$"))
        try await session.run("SELECT 1")
        #expect(session.pendingExpectations.count == 1)
        do {
            try session.verifyAllConsumed()
            Issue.record("expected leftovers")
        } catch let error as MariaDBError {
            #expect(error.code == .unexpectedResult)
            #expect(error.message?.contains("expected statements never arrived") == true)
            #expect(error.message?.contains("matching /^SHOW (SLAVE|REPLICA) STATUS$/") == true)
        }
        try await session.run("SHOW REPLICA STATUS")
        try session.verifyAllConsumed()
    }

    @Test("regex, prefix and exact matching rules")
    func matcherRules() async throws {
        let session = ScriptedSQLSession()
        session.expect(.regex("STATUS"))  // unanchored: contains
        session.expect(.prefix("SHOW"))
        try await session.run("SHOW SLAVE STATUS")
        try await session.run("SHOW MASTER STATUS")
        session.expect(.exact("SELECT 1"))
        await #expect(throws: MariaDBError.self) { try await session.run("SELECT 1 ") }
        session.expect(.regex("(unclosed"))
        await #expect(throws: MariaDBError.self) { try await session.run("(unclosed") }
        #expect(session.failures.count == 2)
        #expect(ScriptedSQLSession.Matcher.prefix("A").description == "starting with \"A\"")
    }

    @Test("queryFirst and execute with several result sets")
    func queryHelpers() async throws {
        let session = ScriptedSQLSession()
        let first = ResultSet(columnNames: ["Message"], rows: [["Slave running normally."]])
        let second = ResultSet(columnNames: ["x"], rows: [])
        session.expect(.prefix("CALL"), reply: .result(SQLResult(resultSets: [first, second])))
        session.expect(.prefix("SELECT"), columns: ["a"], rows: [])
        let result = try await session.execute("CALL mysql.rds_start_replication")
        #expect(result.resultSets.count == 2)
        #expect(try await session.queryFirst("SELECT 1") == nil)
        try session.verifyAllConsumed()
    }
}
