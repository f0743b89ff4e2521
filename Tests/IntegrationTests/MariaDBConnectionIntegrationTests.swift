import CutoverSandbox
import MariaDB
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The MariaDB module against a real server: connecting, results, errors, cancellation, deadlines.
@Suite(.integration, .mariaDBSandbox(servers: 1))
struct MariaDBConnectionIntegrationTests {
    // MARK: Connecting

    @Test func connectsAndReadsTheServerIdentity() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()

        #expect(connection.identity.flavor == .mariaDB)
        #expect(connection.identity.version >= ServerVersion(10, 0))
        #expect(connection.identity.versionString.contains("MariaDB"))
        let row = try #require(try await connection.queryFirst("SELECT CONNECTION_ID() AS id, @@port AS port"))
        #expect(try row.decode(UInt64.self, "id") == connection.connectionID)
        #expect(try row.decode(Int.self, "port") == server.port)
        try await connection.ping()
        #expect(await connection.isUsable)
        #expect(await connection.dialect == .mysql(noBackslashEscapes: false))
    }

    @Test func wrongPasswordIsAccessDenied() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let wrongPassword = "not-the-password-\(UInt32.random(in: 0...UInt32.max))"
        let error = try await #require(throws: MariaDBError.self) {
            _ = try await MariaDBConnection.connect(
                configuration: server.configuration(user: "root", password: wrongPassword))
        }
        #expect(error.code == .connectionFailed)
        #expect(error.isAccessDenied)
        #expect(error.serverErrorNumber == 1045)
        #expect(error.sqlState == "28000")
        #expect(!error.description.contains(wrongPassword))
        #expect(!error.debugDescription.contains(wrongPassword))
    }

    @Test func unknownUserIsAccessDenied() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let error = try await #require(throws: MariaDBError.self) {
            _ = try await MariaDBConnection.connect(configuration: server.configuration(user: "nobody", password: "x"))
        }
        #expect(error.code == .connectionFailed)
        #expect(error.isAccessDenied)
    }

    @Test func closedPortFailsWithinTheConnectTimeout() async throws {
        let port = try Listener.closedPort()
        var configuration = MariaDBConnection.Configuration(host: "127.0.0.1", port: port, user: "root", password: "x")
        configuration.connectTimeout = .seconds(2)
        let clock = ContinuousClock()
        let started = clock.now
        let error = try await #require(throws: MariaDBError.self) {
            _ = try await MariaDBConnection.connect(configuration: configuration)
        }
        #expect(clock.now - started < .seconds(4))
        #expect(error.code == .connectionFailed)
        #expect(error.serverErrorNumber == 2002 || error.serverErrorNumber == 2003)
        #expect(!error.isAccessDenied)
    }

    @Test func silentServerFailsWithinTheConnectTimeout() async throws {
        // Accepts TCP connections (the kernel completes the handshake) but never sends the server greeting.
        let listener = try Listener()
        defer { listener.close() }
        var configuration = MariaDBConnection.Configuration(
            host: "127.0.0.1",
            port: listener.port,
            user: "root",
            password: "x"
        )
        configuration.connectTimeout = .seconds(2)
        let clock = ContinuousClock()
        let started = clock.now
        let error = try await #require(throws: MariaDBError.self) {
            _ = try await MariaDBConnection.connect(configuration: configuration)
        }
        #expect(clock.now - started < .seconds(4))
        #expect(error.code == .connectionFailed)
    }

    // MARK: Results

    @Test func storedProcedureReturnsBothResultSetsAndTheFinalStatus() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let (connection, _) = try await server.connectToFreshDatabase(prefix: "procedure")
        try await connection.run("CREATE TABLE t (id INT PRIMARY KEY)")
        try await connection.run(
            """
            CREATE PROCEDURE two_sets()
            BEGIN
                SELECT 1 AS first_value, 'one' AS first_text;
                SELECT 'a' AS letter UNION ALL SELECT 'b' UNION ALL SELECT NULL;
                INSERT INTO t VALUES (1), (2), (3);
            END
            """
        )

        let result = try await connection.execute("CALL two_sets()")

        try #require(result.resultSets.count == 2)
        let first = result.resultSets[0]
        #expect(first.columns.map(\.name) == ["first_value", "first_text"])
        #expect(first.count == 1)
        #expect(first[0]["first_value"]?.int == 1)
        #expect(first[0]["first_text"]?.string == "one")
        let second = result.resultSets[1]
        #expect(second.columns.map(\.name) == ["letter"])
        #expect(second.map { $0[0].string } == ["a", "b", nil])
        #expect(result.affectedRows == 3)
        #expect(result.rows.count == 1)
        // The connection is in a clean state afterwards.
        #expect(try await connection.queryFirst("SELECT COUNT(*) AS n FROM t")?["n"]?.int == 3)
    }

    @Test func nullIsDistinctFromTheEmptyString() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let (connection, _) = try await server.connectToFreshDatabase(prefix: "nulls")

        let row = try #require(try await connection.queryFirst("SELECT NULL AS n, '' AS e, 'NULL' AS s, 0 AS z"))
        #expect(row["n"]?.isNull == true)
        #expect(row["n"]?.string == nil)
        #expect(row["e"]?.isNull == false)
        #expect(row["e"]?.string == "")
        #expect(row["s"]?.string == "NULL")
        #expect(row["z"]?.int == 0)

        try await connection.run("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10) NULL)")
        try await connection.run("INSERT INTO t VALUES (1, \(nil as String?)), (2, \("")), (3, \("x"))")
        let rows = try await connection.query("SELECT id, v, v IS NULL AS is_null FROM t ORDER BY id")
        #expect(rows.map { $0["v"]?.string } == [nil, "", "x"])
        #expect(rows.map { try? $0.decodeIfPresent(String.self, "v") } == [.some(nil), "", "x"])
        #expect(rows.map { $0["is_null"]?.bool } == [true, false, false])
    }

    @Test func binaryDataRoundTrips() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let (connection, _) = try await server.connectToFreshDatabase(prefix: "binary")
        let allBytes = (0...255).map { UInt8($0) }
        let reversed = Array(allBytes.reversed())

        let selected = try #require(try await connection.queryFirst("SELECT \(literal: .bytes(allBytes)) AS b"))
        #expect(selected["b"]?.bytes == allBytes)
        #expect(selected.columns[0].isBinary)

        try await connection.run("CREATE TABLE blobs (id INT PRIMARY KEY, b BLOB, vb VARBINARY(300))")
        try await connection.run(
            "INSERT INTO blobs VALUES (1, \(literal: .bytes(allBytes)), \(literal: .bytes(reversed))), (2, \(literal: .bytes([])), NULL)"
        )
        let rows = try await connection.query("SELECT b, vb, LENGTH(b) AS n FROM blobs ORDER BY id")
        try #require(rows.count == 2)
        #expect(rows[0]["b"]?.bytes == allBytes)
        #expect(try rows[0].decode([UInt8].self, "vb") == reversed)
        #expect(rows[0]["n"]?.int == 256)
        #expect(rows[1]["b"]?.bytes == [])
        #expect(rows[1]["vb"]?.isNull == true)
        // The server sees the same bytes (not a re-encoded text).
        let hex = try await connection.queryFirst("SELECT HEX(b) AS h FROM blobs WHERE id = 1")?["h"]?.string
        #expect(hex == allBytes.map { String(format2Hex: $0) }.joined())
    }

    @Test func largeResultOf100000Rows() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let (connection, _) = try await server.connectToFreshDatabase(prefix: "large")

        let result = try await connection.execute(
            "SELECT seq AS n, CONCAT('row-', seq) AS label, IF(seq % 10 = 0, NULL, seq * 2) AS maybe FROM seq_1_to_100000"
        )

        try #require(result.resultSets.count == 1)
        let rows = result.resultSets[0]
        #expect(rows.count == 100_000)
        #expect(rows[0]["n"]?.int == 1)
        #expect(rows[99_999]["n"]?.int == 100_000)
        #expect(rows[99_999]["label"]?.string == "row-100000")
        var sum = 0
        var nulls = 0
        for row in rows {
            sum += row[0].int ?? 0
            if row[2].isNull { nulls += 1 }
        }
        #expect(sum == 100_000 * 100_001 / 2)
        #expect(nulls == 10_000)
    }

    // MARK: Cancellation and deadlines

    @Test func cancellingARunningQueryReturnsPromptlyAndKeepsTheConnection() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        let observer = try await server.connectAsRoot()

        let query = Task { try await connection.query("SELECT SLEEP(30) AS slept") }
        try await waitUntilRunning(connectionID: connection.connectionID, on: observer, statementPrefix: "SELECT SLEEP")
        let clock = ContinuousClock()
        let cancelled = clock.now
        query.cancel()
        let outcome = await query.result
        let elapsed = clock.now - cancelled

        #expect(elapsed < .seconds(5), "cancel took \(elapsed)")  // far below the 30 s sleep; generous for a loaded machine
        let error = try #require(outcome.failureAsMariaDBError)
        #expect(error.code == .cancelled)
        #expect(error.isInterrupted)
        // KILL QUERY interrupted the statement on the server; the session itself survived.
        #expect(await connection.isUsable)
        #expect(
            try await connection.queryFirst("SELECT CONNECTION_ID() AS id")?["id"]?.uint64 == connection.connectionID)
        let stillRunning = try await observer.query(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE ID = \(connection.connectionID) AND INFO LIKE 'SELECT SLEEP%'"
        )
        #expect(stillRunning.isEmpty)
    }

    @Test func perCallTimeoutInterruptsTheStatement() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        let clock = ContinuousClock()
        let started = clock.now

        let error = try await #require(throws: MariaDBError.self) {
            _ = try await connection.query("SELECT SLEEP(30)", timeout: .milliseconds(300))
        }

        let elapsed = clock.now - started
        #expect(error.code == .deadlineExceeded)
        #expect(elapsed >= .milliseconds(300))
        // Far below the 30 s sleep: the statement was interrupted (a generous bound for a loaded 2-core machine).
        #expect(elapsed < .seconds(5), "timeout took \(elapsed)")
        #expect(await connection.isUsable)
        #expect(try await connection.queryFirst("SELECT 1 AS one")?["one"]?.int == 1)
    }

    @Test func killQueryOfAnIdleConnectionDoesNotHitItsNextStatement() async throws {
        // The interrupter may deliver KILL QUERY just after the statement ended; the next one must not suffer.
        let server = try SuiteSandbox.require().servers[0]
        let idle = try await server.connectAsRoot()
        let killer = try await server.connectAsRoot()
        try await killer.run("KILL QUERY \(idle.connectionID)")
        #expect(try await idle.queryFirst("SELECT SLEEP(0.2) AS slept")?["slept"]?.int == 0)
        #expect(await idle.isUsable)
    }

    @Test func timeoutThatDoesNotExpireChangesNothing() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()

        let row = try await connection.queryFirst("SELECT SLEEP(0.1) AS slept", timeout: .seconds(5))
        #expect(row?["slept"]?.int == 0)
        // A late deadline must not hit the next statement.
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await connection.queryFirst("SELECT 2 AS two")?["two"]?.int == 2)
    }

    // MARK: Lost connections

    @Test func killedIdleConnectionIsLostAndStaysUnusable() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let victim = try await server.connectAsRoot()
        let killer = try await server.connectAsRoot()

        try await killer.run("KILL \(victim.connectionID)")

        let error = try await #require(throws: MariaDBError.self) {
            _ = try await victim.query("SELECT 1")
        }
        #expect(error.code == .connectionLost)
        #expect(error.isConnectionLost)
        #expect(await victim.isUsable == false)
        // No silent reconnect: every later call fails too.
        let again = try await #require(throws: MariaDBError.self) {
            _ = try await victim.query("SELECT 1")
        }
        #expect(again.code == .connectionClosed)
        await #expect(throws: MariaDBError.self) { try await victim.ping() }
    }

    @Test func connectionKilledDuringAQueryIsLost() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let victim = try await server.connectAsRoot()
        let killer = try await server.connectAsRoot()

        let query = Task { try await victim.query("SELECT SLEEP(30)") }
        try await waitUntilRunning(connectionID: victim.connectionID, on: killer, statementPrefix: "SELECT SLEEP")
        try await killer.run("KILL CONNECTION \(victim.connectionID)")
        let outcome = await query.result

        let error = try #require(outcome.failureAsMariaDBError)
        #expect(error.code == .connectionLost)
        #expect(await victim.isUsable == false)
        let again = try await #require(throws: MariaDBError.self) { _ = try await victim.query("SELECT 1") }
        #expect(again.code == .connectionClosed)
    }

    // MARK: Status

    @Test func affectedRowsLastInsertIDAndWarnings() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let (connection, _) = try await server.connectToFreshDatabase(prefix: "status")
        try await connection.run(
            "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) AUTO_INCREMENT = 100")

        let insert = try await connection.execute("INSERT INTO t (v) VALUES (1), (2), (3)")
        #expect(insert.affectedRows == 3)
        #expect(insert.lastInsertID == 100)  // the first id of a multi-row insert, like LAST_INSERT_ID()
        #expect(insert.warningCount == 0)
        #expect(insert.resultSets.isEmpty)

        let single = try await connection.execute("INSERT INTO t (v) VALUES (4)")
        #expect(single.lastInsertID == 103)

        let update = try await connection.execute("UPDATE t SET v = 2 WHERE v IN (1, 2)")
        #expect(update.affectedRows == 1)  // changed rows, not matched rows
        let delete = try await connection.execute("DELETE FROM t WHERE v >= 3")
        #expect(delete.affectedRows == 2)
        let none = try await connection.execute("UPDATE t SET v = 9 WHERE id = -1")
        #expect(none.affectedRows == 0)

        let division = try await connection.execute("SELECT 1 / 0 AS q")
        #expect(division.warningCount == 1)
        #expect(division.rows.first?["q"]?.isNull == true)
        let twoWarnings = try await connection.execute("SELECT CAST('1x' AS INTEGER) AS a, CAST('2y' AS INTEGER) AS b")
        #expect(twoWarnings.warningCount == 2)
        let select = try await connection.execute("SELECT COUNT(*) AS n FROM t")
        #expect(select.warningCount == 0)
        #expect(select.rows.first?["n"]?.int == 2)
    }

    @Test func serverErrorsCarryNumberAndState() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()

        let syntax = try await #require(throws: MariaDBError.self) {
            _ = try await connection.query("SELEC 'secret-literal' FROM nowhere")
        }
        #expect(syntax.code == .server)
        #expect(syntax.isSyntaxError)
        #expect(syntax.serverErrorNumber == 1064)
        #expect(syntax.sqlState == "42000")
        #expect(!syntax.description.contains("secret-literal"))

        let missing = try await #require(throws: MariaDBError.self) {
            _ = try await connection.query("SELECT * FROM mysql.no_such_table")
        }
        #expect(missing.serverCode == .noSuchTable)
        let variable = try await #require(throws: MariaDBError.self) {
            _ = try await connection.query("SELECT @@no_such_variable")
        }
        #expect(variable.isUnknownVariable)
        // A server error leaves the connection usable.
        #expect(await connection.isUsable)
        #expect(try await connection.queryFirst("SELECT 3 AS three")?["three"]?.int == 3)
    }

    @Test func multipleStatementsInOneCallAreRefused() async throws {
        let server = try SuiteSandbox.require().servers[0]
        let connection = try await server.connectAsRoot()
        let error = try await #require(throws: MariaDBError.self) {
            _ = try await connection.query("SELECT 1; SELECT 2")
        }
        #expect(error.isSyntaxError)
        #expect(await connection.isUsable)
    }
}

// MARK: Helpers

/// Waits (up to 5 s) until `connectionID` is running a statement that starts with `statementPrefix`.
func waitUntilRunning(
    connectionID: UInt64,
    on observer: MariaDBConnection,
    statementPrefix: String,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while ContinuousClock.now < deadline {
        let rows = try await observer.query(
            "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = \(connectionID)"
        )
        if let info = rows.first?["INFO"]?.string, info.hasPrefix(statementPrefix) { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("connection \(connectionID) never ran \(statementPrefix)", sourceLocation: sourceLocation)
}

extension Result {
    /// The failure as a ``MariaDBError``, nil on success or another error type.
    var failureAsMariaDBError: MariaDBError? {
        if case .failure(let error) = self { error as? MariaDBError } else { nil }
    }
}

extension String {
    /// Two uppercase hexadecimal digits.
    init(format2Hex byte: UInt8) {
        let digits = Array("0123456789ABCDEF")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}

/// A TCP socket on 127.0.0.1 that listens but never accepts (connections complete and then hear nothing).
final class Listener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        (descriptor, port) = try Self.bound()
        guard listen(descriptor, 16) == 0 else {
            Glibc.close(descriptor)
            throw ListenerError()
        }
    }

    func close() { _ = Glibc.close(descriptor) }

    /// A port nothing listens on (bound, then closed).
    static func closedPort() throws -> Int {
        let (descriptor, port) = try bound()
        Glibc.close(descriptor)
        return port
    }

    private static func bound() throws -> (Int32, Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ListenerError() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard ok else {
            Glibc.close(descriptor)
            throw ListenerError()
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    struct ListenerError: Error {}
}
