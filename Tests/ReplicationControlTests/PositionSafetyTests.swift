import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

/// Issue #13: catch-up must never be "proved" against another server's binlog, and the GTID parsers accept
/// exactly the numbers the servers can write.
@Suite("Position and GTID safety (#13)")
struct PositionSafetyTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    // MARK: Binlogs of different base names

    @Test func positionsInDifferentLogsAreIncomparable() throws {
        let source = try BinlogPosition(file: "mysql-bin.000200", offset: 4)
        let aurora = try BinlogPosition(file: "mysql-bin-changelog.000123", offset: 4)
        #expect(!source.sharesLog(with: aurora))
        #expect(throws: ReplicationError(code: .incomparablePositions, message: "")) { try source.isAtOrPast(aurora) }
        #expect(throws: ReplicationError(code: .incomparablePositions, message: "")) { try aurora.compare(with: source) }
        #expect(source.distance(from: aurora) == nil)
        #expect(aurora.distance(from: source) == nil)
    }

    @Test func positionsInOneLogOrder() throws {
        let earlier = try BinlogPosition(file: "mysql-bin.000009", offset: 999_999)
        let later = try BinlogPosition(file: "mysql-bin.000010", offset: 4)
        #expect(try later.isAtOrPast(earlier))
        #expect(try earlier.isBefore(later))
        #expect(try later.compare(with: later) == .same)
    }

    /// The polling path used to report a replica reading `mysql-bin.000200` as caught up with
    /// `mysql-bin-changelog.000123` (only the numeric suffixes were compared), even with its IO thread dead.
    @Test func pollingNeverReportsAnotherLogAsCaughtUp() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            "SHOW SLAVE STATUS",
            answer: StatusRow(
                io: "No", receivedFile: "mysql-bin.000200", receivedOffset: "4", executedFile: "mysql-bin.000200",
                executedOffset: "4", secondsBehind: nil, lastIOErrno: "1236", lastIOError: "could not find next log"
            ).legacy)
        let target = try BinlogPosition(file: "mysql-bin-changelog.000123", offset: 4)
        let waiter = CatchUpWaiter(
            session: session, dialect: Dialects.mariaDB,
            options: CatchUpWaiter.Options(strategy: .polling, pollInterval: .milliseconds(1)))
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter.waitUntilExecuted(
                .position(target), deadline: ContinuousClock.now + .seconds(30), logger: logger)
        }
        #expect(error.code == .incomparablePositions)
        #expect(error.message.contains("does not replicate from the server"))
    }

    // MARK: ReplicationLag

    @Test func aReplicaPastTheSourcePositionIsCaughtUp() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            "SHOW SLAVE STATUS", answer: StatusRow(receivedOffset: "3500", executedOffset: "3500").legacy)
        let source = SourceStatus(position: try BinlogPosition(file: "mysql-bin.000003", offset: 3000))
        let lag = try await CatchUpWaiter(session: session, dialect: Dialects.mariaDB).lag(behind: source, logger: logger)
        #expect(lag.isCaughtUp)
        #expect(lag.executedInOtherLog == false)
        #expect(lag.executedDistance == nil)
    }

    @Test func aReplicaInAnotherLogIsNotCaughtUp() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            "SHOW SLAVE STATUS",
            answer: StatusRow(receivedFile: "mysql-bin.000200", executedFile: "mysql-bin.000200").legacy)
        let source = SourceStatus(position: try BinlogPosition(file: "mysql-bin-changelog.000003", offset: 4))
        let lag = try await CatchUpWaiter(session: session, dialect: Dialects.mariaDB).lag(behind: source, logger: logger)
        #expect(!lag.isCaughtUp)
        #expect(lag.executedInOtherLog == true)
    }

    // MARK: GTID numbers

    @Test func mariaDBSequenceNumbersUseAll64Bits() throws {
        let largest = try MariaDBGTIDPosition(parsing: "0-1-18446744073709551615")
        #expect(largest[domain: 0]?.sequence == UInt64.max)
        let ten19 = try MariaDBGTIDPosition(parsing: "1-2-10000000000000000000")
        #expect(ten19[domain: 1]?.sequence == 10_000_000_000_000_000_000)
        #expect(throws: ReplicationError(code: .malformedGTID, message: "")) {
            try MariaDBGTIDPosition(parsing: "0-1-18446744073709551616")
        }
    }

    @Test(arguments: [
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:9223372036854775808",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9223372036854775808",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-18446744073709551615",
    ])
    func mySQLTransactionNumbersAbove2To63Minus1AreRefused(text: String) {
        #expect(throws: ReplicationError(code: .malformedGTID, message: "")) { try MySQLGTIDSet(parsing: text) }
    }

    @Test func mySQLLargestTransactionNumberIsAccepted() throws {
        let set = try MySQLGTIDSet(parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9223372036854775807")
        #expect(set.count == UInt64(Int64.max))
        #expect(throws: ReplicationError(code: .malformedGTID, message: "")) {
            try MySQLGTIDSet(uuid: "3e11fa47-71ca-11e1-9e33-c80aa9429562", intervals: [1...UInt64(Int64.max) + 1])
        }
    }
}
