import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

@Suite("CatchUpWaiter (scripted)")
struct CatchUpWaiterTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let target = try! BinlogPosition(file: "mysql-bin.000003", offset: 2000)
    let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

    func waiter(
        _ session: ScriptedSQLSession,
        _ dialect: ReplicationDialect = Dialects.mariaDB,
        _ strategy: CatchUpWaiter.Options.Strategy = .automatic
    ) -> CatchUpWaiter {
        CatchUpWaiter(
            session: session, dialect: dialect,
            options: .init(strategy: strategy, slice: .milliseconds(500), pollInterval: .milliseconds(1)))
    }

    var later: ContinuousClock.Instant { .now.advanced(by: .seconds(30)) }

    @Test func positionWaitReachedAtOnce() async throws {
        let session = ScriptedSQLSession()
        session.expect("SELECT MASTER_POS_WAIT('mysql-bin.000003', 2000, 1) AS result", answer: single("result", "3"))
        let result = try await waiter(session).waitUntilExecuted(.position(target), deadline: later, logger: logger)
        #expect(result.method == .waitFunction("MASTER_POS_WAIT"))
        #expect(result.rounds == 1)
        #expect(result.waited < .seconds(5))
        try session.verifyAllConsumed()
    }

    @Test func slicesCheckTheStatusBetweenCalls() async throws {
        let session = ScriptedSQLSession()
        session.expect("SELECT SOURCE_POS_WAIT('mysql-bin.000003', 2000, 1) AS result", answer: single("result", "-1"))
        session.expect("SHOW REPLICA STATUS", answer: StatusRow(executedOffset: "1000", secondsBehind: "3").modern)
        session.expect("SELECT SOURCE_POS_WAIT('mysql-bin.000003', 2000, 1) AS result", answer: single("result", "0"))
        let result = try await waiter(session, Dialects.mysql84).waitUntilExecuted(
            .position(target), deadline: later, logger: logger)
        #expect(result.rounds == 2)
        try session.verifyAllConsumed()
    }

    @Test func nullMeansNotRunningAndTheStatusSaysWhy() async throws {
        let session = ScriptedSQLSession()
        session.expect("SELECT MASTER_POS_WAIT('mysql-bin.000003', 2000, 1) AS result", answer: single("result", nil))
        session.expect(
            "SHOW SLAVE STATUS", answer: StatusRow.sqlError(1062, "Duplicate entry '4' for key 'PRIMARY'").legacy)
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session).waitUntilExecuted(.position(target), deadline: later, logger: logger)
        }
        #expect(error.code == .replicationFailed)
        #expect(error.sqlThreadError?.number == 1062)
        try session.verifyAllConsumed()
    }

    @Test func nullWithAStoppedApplierWithoutError() async throws {
        let session = ScriptedSQLSession()
        session.expect("SELECT MASTER_POS_WAIT('mysql-bin.000003', 2000, 1) AS result", answer: single("result", nil))
        session.expect("SHOW SLAVE STATUS", answer: StatusRow(sql: "No", secondsBehind: nil).legacy)
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session).waitUntilExecuted(.position(target), deadline: later, logger: logger)
        }
        #expect(error.code == .replicationNotRunning)
    }

    @Test func gtidWaitOnMySQLFailsFastWhenTheApplierStops() async throws {
        let session = ScriptedSQLSession()
        let set = try MySQLGTIDSet(parsing: "\(uuid):1-77")
        session.expect("SELECT WAIT_FOR_EXECUTED_GTID_SET('\(uuid):1-77', 1) AS result", answer: single("result", "1"))
        session.expect("SHOW REPLICA STATUS", answer: StatusRow.sqlError(1146, "Table 'app.x' doesn't exist").modern)
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session, Dialects.mysql84).waitUntilExecuted(
                .mysqlGTIDSet(set), deadline: later, logger: logger)
        }
        #expect(error.code == .replicationFailed)
        #expect(error.sqlThreadError?.number == 1146)
        try session.verifyAllConsumed()
    }

    @Test func mariaDBGTIDWaitUsesFractionalSlices() async throws {
        let session = ScriptedSQLSession()
        let position = try MariaDBGTIDPosition(parsing: "0-1-5,1-1-9")
        session.expect("SELECT MASTER_GTID_WAIT('0-1-5,1-1-9', 0.5) AS result", answer: single("result", "-1"))
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.running.legacy)
        session.expect("SELECT MASTER_GTID_WAIT('0-1-5,1-1-9', 0.5) AS result", answer: single("result", "0"))
        let result = try await waiter(session).waitUntilExecuted(
            .mariaDBGTIDPosition(position), deadline: later, logger: logger)
        #expect(result.method == .waitFunction("MASTER_GTID_WAIT"))
        try session.verifyAllConsumed()
    }

    @Test func anIOThreadErrorFailsWhenTheTargetWasNotReceived() async throws {
        let session = ScriptedSQLSession()
        session.expect("SELECT MASTER_POS_WAIT('mysql-bin.000004', 10, 1) AS result", answer: single("result", "-1"))
        session.expect(
            "SHOW SLAVE STATUS",
            answer: StatusRow(io: "No", lastIOErrno: "1236", lastIOError: "Could not find first log file").legacy)
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session).waitUntilExecuted(
                .position(try BinlogPosition(file: "mysql-bin.000004", offset: 10)), deadline: later, logger: logger)
        }
        #expect(error.code == .replicationFailed)
        #expect(error.ioThreadError?.number == 1236)
    }

    @Test func anIOThreadErrorIsToleratedWhileTheRelayLogHoldsTheTarget() async throws {
        let session = ScriptedSQLSession()
        session.expect("SELECT MASTER_POS_WAIT('mysql-bin.000003', 2000, 1) AS result", answer: single("result", "-1"))
        session.expect(
            "SHOW SLAVE STATUS",
            answer: StatusRow(
                io: "No", receivedOffset: "5000", executedOffset: "100", lastIOErrno: "2013", lastIOError: "lost"
            ).legacy)
        session.expect("SELECT MASTER_POS_WAIT('mysql-bin.000003', 2000, 1) AS result", answer: single("result", "2"))
        _ = try await waiter(session).waitUntilExecuted(.position(target), deadline: later, logger: logger)
        try session.verifyAllConsumed()
    }

    @Test func deadlineInThePastTimesOutAfterOneLook() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW SLAVE STATUS", answer: StatusRow(executedOffset: "1000", secondsBehind: "12").legacy)
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session).waitUntilExecuted(.position(target), deadline: .now, logger: logger)
        }
        #expect(error.code == .catchUpTimedOut)
        #expect(error.message.contains("mysql-bin.000003:1000"))
        try session.verifyAllConsumed()
    }

    @Test func clientDeadlineDuringTheWaitIsATimeout() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact("SELECT MASTER_POS_WAIT('mysql-bin.000003', 2000, 1) AS result"),
            reply: .error(MariaDBError(code: .deadlineExceeded, message: "deadline")))
        session.expect("SHOW SLAVE STATUS", answer: StatusRow(executedOffset: "1000").legacy)
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session).waitUntilExecuted(.position(target), deadline: later, logger: logger)
        }
        #expect(error.code == .catchUpTimedOut)
        try session.verifyAllConsumed()
    }

    @Test func missingFunctionFallsBackToPolling() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact("SELECT SOURCE_POS_WAIT('mysql-bin.000003', 2000, 1) AS result"), failingWith: 1305,
            sqlState: "42000", message: "FUNCTION SOURCE_POS_WAIT does not exist")
        session.expect("SHOW REPLICA STATUS", answer: StatusRow(executedOffset: "1000").modern)
        session.expect(
            "SHOW REPLICA STATUS", answer: StatusRow(executedFile: "mysql-bin.000004", executedOffset: "4").modern)
        let result = try await waiter(session, Dialects.mysql84).waitUntilExecuted(
            .position(target), deadline: later, logger: logger)
        #expect(result.method == .polling)
        #expect(result.rounds == 2)
        try session.verifyAllConsumed()
    }

    @Test func waitFunctionOnlyDoesNotFallBack() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            .exact("SELECT SOURCE_POS_WAIT('mysql-bin.000003', 2000, 1) AS result"), failingWith: 1305,
            sqlState: "42000", message: "FUNCTION SOURCE_POS_WAIT does not exist")
        await #expect(throws: ReplicationError(code: .server, message: "")) {
            try await waiter(session, Dialects.mysql84, .waitFunction).waitUntilExecuted(
                .position(target), deadline: later, logger: logger)
        }
        await #expect(throws: ReplicationError(code: .unsupported, message: "")) {
            try await waiter(ScriptedSQLSession(), Dialects.mariaDB, .waitFunction).waitUntilExecuted(
                .mysqlGTIDSet(try MySQLGTIDSet(parsing: "\(uuid):1")), deadline: later, logger: logger)
        }
    }

    @Test func pollingByMySQLGTIDSet() async throws {
        let session = ScriptedSQLSession()
        var behind = StatusRow.running
        behind.executedGTIDSet = "\(uuid):1-70"
        var caughtUp = StatusRow.running
        caughtUp.executedGTIDSet = "\(uuid):1-80,4a6d1b7e-71ca-11e1-9e33-c80aa9429562:1-2"
        session.expect("SHOW REPLICA STATUS", answer: behind.modern)
        session.expect("SHOW REPLICA STATUS", answer: caughtUp.modern)
        let result = try await waiter(session, Dialects.mysql84, .polling).waitUntilExecuted(
            .mysqlGTIDSet(try MySQLGTIDSet(parsing: "\(uuid):1-77")), deadline: later, logger: logger)
        #expect(result.method == .polling)
        try session.verifyAllConsumed()
    }

    @Test func pollingByMariaDBGTIDAndFailingFast() async throws {
        let session = ScriptedSQLSession()
        let position = try MariaDBGTIDPosition(parsing: "0-1-10")
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.running.legacy)
        session.expect("SELECT @@GLOBAL.gtid_slave_pos AS gtid_slave_pos", answer: single("gtid_slave_pos", "0-1-9"))
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.sqlError(1062, "dup").legacy)
        session.expect("SELECT @@GLOBAL.gtid_slave_pos AS gtid_slave_pos", answer: single("gtid_slave_pos", "0-1-9"))
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session, Dialects.mariaDB, .polling).waitUntilExecuted(
                .mariaDBGTIDPosition(position), deadline: later, logger: logger)
        }
        #expect(error.code == .replicationFailed)
        try session.verifyAllConsumed()
    }

    @Test func notConfiguredFailsFast() async throws {
        let session = ScriptedSQLSession()
        session.expect("SELECT MASTER_POS_WAIT('mysql-bin.000003', 2000, 1) AS result", answer: single("result", nil))
        session.expect("SHOW SLAVE STATUS", answer: StatusRow.notConfigured)
        await #expect(throws: ReplicationError(code: .notConfigured, message: "")) {
            try await waiter(session).waitUntilExecuted(.position(target), deadline: later, logger: logger)
        }
    }

    @Test func lagMeasuresTheDistanceToTheSource() async throws {
        let session = ScriptedSQLSession()
        session.expect(
            "SHOW SLAVE STATUS",
            answer: StatusRow(receivedOffset: "2900", executedOffset: "1000", secondsBehind: "4").legacy)
        let source = SourceStatus(position: try BinlogPosition(file: "mysql-bin.000003", offset: 3000))
        let lag = try await waiter(session).lag(behind: source, logger: logger)
        #expect(lag.secondsBehindSource == 4)
        #expect(lag.executedDistance == PositionDistance(files: 0, bytes: 2000))
        #expect(lag.receivedDistance == PositionDistance(files: 0, bytes: 100))
        #expect(!lag.isCaughtUp)
        try session.verifyAllConsumed()
    }
}
