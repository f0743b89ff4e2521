@testable import CutoverSandbox
import NIOCore
import Testing

/// Pure parts of the emulator: SHA-1 and the native-password token, packet framing, statement analysis.
@Suite("ProxySQL emulator: pure parts")
struct ProxySQLEmulatorUnitTests {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test("SHA-1 matches the FIPS 180 test vectors", arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        (String(repeating: "a", count: 1000), "291e9a6c66994949b57ba5e650361e98fc36b1ba"),
    ])
    func sha1(input: String, digest: String) {
        #expect(hex(SHA1.hash(Array(input.utf8))) == digest)
    }

    @Test("the native-password token verifies only with the right password and scramble")
    func nativePassword() {
        let scramble = NativePassword.makeScramble()
        #expect(scramble.count == 20 && !scramble.contains(0))
        let token = NativePassword.token(password: "s3cret", scramble: scramble)
        #expect(token.count == 20)
        #expect(NativePassword.verify(token: token, password: "s3cret", scramble: scramble))
        #expect(!NativePassword.verify(token: token, password: "s3cret!", scramble: scramble))
        #expect(!NativePassword.verify(token: token, password: "s3cret", scramble: NativePassword.makeScramble()))
        #expect(NativePassword.token(password: "", scramble: scramble).isEmpty)
        #expect(NativePassword.verify(token: [], password: "", scramble: scramble))
        #expect(!NativePassword.verify(token: [], password: "x", scramble: scramble))
    }

    @Test("length-encoded integers round-trip at every size boundary", arguments: [
        UInt64(0), 250, 251, 65535, 65536, 16_777_215, 16_777_216, UInt64.max,
    ])
    func lengthEncodedIntegers(value: UInt64) {
        var buffer = ByteBuffer()
        buffer.writeLengthEncodedInteger(value)
        #expect(buffer.readLengthEncodedInteger() == value)
        #expect(buffer.readableBytes == 0)
    }

    @Test("OK, ERR and EOF packets parse back")
    func packets() {
        let ok = OKPacket(MySQLPackets.ok(affectedRows: 3, lastInsertID: 70000, status: [.autocommit, .inTransaction], warnings: 2))
        #expect(ok?.affectedRows == 3)
        #expect(ok?.lastInsertID == 70000)
        #expect(ok?.status == [.autocommit, .inTransaction])
        #expect(ok?.warnings == 2)
        let error = ERRPacket(MySQLPackets.error(code: 9001, sqlState: "HY000", message: "Max connect timeout"))
        #expect(error?.code == 9001 && error?.sqlState == "HY000" && error?.message == "Max connect timeout")
        let eof = EOFPacket(MySQLPackets.eof(status: .moreResultsExist))
        #expect(eof?.status == .moreResultsExist)
        // A row whose first value is 8-byte length-encoded starts with 0xFE too but is longer.
        #expect(!EOFPacket.matches(ByteBuffer(bytes: [0xFE] + Array(repeating: 0, count: 9))))
    }

    private func analyze(_ sql: String, keep: Set<String> = ["tx_isolation", "transaction_isolation", "version"])
        -> StatementAnalysis
    {
        StatementAnalyzer.analyze(sql, keepMultiplexingVariables: keep)
    }

    @Test("statements that pin, as ProxySQL decides from the digest (literals and comments do not count)")
    func pins() {
        #expect(analyze("SET @x = 1").addsPins == .userVariable)
        #expect(analyze("SELECT @x").addsPins == .userVariable)
        #expect(analyze("SELECT @@server_id").addsPins == .userVariable)
        #expect(analyze("SELECT @@version").addsPins == [])
        #expect(analyze("select @@session.tx_isolation, @@version").addsPins == [])
        #expect(analyze("UPDATE t SET v = @@version").addsPins == .userVariable, "only SELECTs may keep multiplexing")
        #expect(analyze("SELECT 'a@b.com', \"c@d\" /* @x */ -- @y\n").addsPins == [])
        #expect(analyze("SELECT GET_LOCK('l', 1)").addsPins == .getLock)
        #expect(analyze("SELECT get_lock ('l', 1)").addsPins == .getLock)
        #expect(analyze("SELECT RELEASE_LOCK('l')").addsPins == [])
        #expect(analyze("SELECT 'GET_LOCK(' FROM t").addsPins == [])
        #expect(analyze("LOCK TABLES t WRITE").addsPins == .lockTables)
        #expect(analyze("UNLOCK TABLES").releasesPins == .lockTables)
        #expect(analyze("FLUSH TABLES WITH READ LOCK").addsPins == .lockTables)
        #expect(analyze("CREATE TEMPORARY TABLE x (a INT)").addsPins == .temporaryTable)
        #expect(analyze("SELECT SQL_CALC_FOUND_ROWS * FROM t").addsPins == .foundRows)
        #expect(analyze("SAVEPOINT s").addsPins == .hasSavepoint)
        #expect(analyze("BEGIN").beginsTransaction)
        #expect(analyze("START TRANSACTION READ ONLY").beginsTransaction)
        #expect(analyze("COMMIT").endsTransaction)
        #expect(!analyze("ROLLBACK TO SAVEPOINT s").endsTransaction)
        #expect(analyze("SELECT @@version_comment LIMIT 1").kind == .versionComment)
        #expect(analyze("USE `my db`").kind == .use("my db"))
    }

    @Test("SET: tracked variables are answered locally, others pin the session")
    func setStatements() {
        guard case .trackedSet(let assignments) = analyze("SET autocommit = 0, SESSION sql_mode = 'ANSI', NAMES utf8mb4").kind
        else {
            Issue.record("not tracked")
            return
        }
        #expect(assignments.map(\.name) == ["autocommit", "sql_mode", "names"])
        #expect(assignments[0].autocommit == false)
        #expect(assignments[1].clause == "sql_mode = 'ANSI'")
        #expect(assignments[2].clause == "NAMES utf8mb4")
        if case .trackedSet(let tracked) = analyze("SET @@session.time_zone = '+00:00'").kind {
            #expect(tracked.first?.name == "time_zone")
        } else {
            Issue.record("@@session.time_zone should be tracked")
        }
        #expect(analyze("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED").kind != .forwarded)
        #expect(analyze("SET sql_log_bin = 0").addsPins == .sqlLogBin0)
        #expect(analyze("SET GLOBAL read_only = 1").addsPins == .noMultiplex)
        #expect(analyze("SET GLOBAL read_only = 1").kind == .forwarded)
        #expect(analyze("SET some_unknown_variable = 1").addsPins == .noMultiplex)
        #expect(analyze("SET @a = 1, sql_mode = ''").addsPins.contains(.userVariable))
        #expect(analyze("SET autocommit = maybe").addsPins == .noMultiplex)
    }
}
