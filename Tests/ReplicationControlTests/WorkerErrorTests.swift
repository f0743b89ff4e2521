import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

/// A multi-threaded MySQL applier: `SHOW REPLICA STATUS` carries the coordinator's summary, the worker's own error
/// comes from `performance_schema.replication_applier_status_by_worker` (#12).
@Suite("Worker errors of a multi-threaded MySQL applier (scripted)")
struct WorkerErrorTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let target = try! BinlogPosition(file: "mysql-bin.000003", offset: 2000)
    static let coordinator =
        "Coordinator stopped because there were error(s) in the worker(s). The most recent failure being: Worker 1 "
        + "failed executing transaction 'ANONYMOUS' at source log mysql-bin.000003, end_log_pos 1900. See error log "
        + "and/or performance_schema.replication_applier_status_by_worker table for more details about this failure "
        + "or others, if any."
    static let workerQuery =
        "SELECT LAST_ERROR_NUMBER, LAST_ERROR_MESSAGE, LAST_ERROR_TIMESTAMP FROM performance_schema.replication_applier_status_by_worker WHERE CHANNEL_NAME = '' AND LAST_ERROR_NUMBER <> 0 ORDER BY LAST_ERROR_NUMBER = 3030, LAST_ERROR_TIMESTAMP, WORKER_ID LIMIT 1"
    static let duplicate =
        "Worker 1 failed executing transaction 'ANONYMOUS' at source log mysql-bin.000003, end_log_pos 1900; Could not "
        + "execute Write_rows event on table app.items; Duplicate entry '11' for key 'items.PRIMARY', Error_code: 1062"

    func waiter(_ session: ScriptedSQLSession) -> CatchUpWaiter {
        CatchUpWaiter(
            session: session, dialect: Dialects.mysql84,
            options: .init(strategy: .polling, slice: .milliseconds(500), pollInterval: .milliseconds(1)))
    }

    @Test func theWorkersErrorReplacesTheCoordinatorsSummary() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW REPLICA STATUS", result: StatusRow.sqlError(1062, Self.coordinator).modern)
        session.expect(
            .exact(Self.workerQuery),
            columns: ["LAST_ERROR_NUMBER", "LAST_ERROR_MESSAGE", "LAST_ERROR_TIMESTAMP"],
            rows: [["1062", Self.duplicate, "2026-12-06 10:00:00.123456"]])
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session).waitUntilExecuted(
                .position(target), deadline: .now.advanced(by: .seconds(30)), logger: logger)
        }
        #expect(error.code == .replicationFailed)
        #expect(error.sqlThreadError?.number == 1062)
        #expect(error.sqlThreadError?.message.contains("Duplicate entry '11'") == true)
        #expect(error.sqlThreadError?.timestamp == "2026-12-06 10:00:00.123456")
        try session.verifyAllConsumed()
    }

    @Test func withoutAccessToTheTableTheCoordinatorsErrorStays() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW REPLICA STATUS", result: StatusRow.sqlError(3030, Self.coordinator).modern)
        session.expect(
            .exact(Self.workerQuery), failingWith: 1142,
            message: "SELECT command denied to user 'admin'@'%' for table 'replication_applier_status_by_worker'")
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session).waitUntilExecuted(
                .position(target), deadline: .now.advanced(by: .seconds(30)), logger: logger)
        }
        #expect(error.code == .replicationFailed)
        #expect(error.sqlThreadError?.number == 3030)
        #expect(error.sqlThreadError?.message.hasPrefix(ReplicaStatus.coordinatorErrorPrefix) == true)
        try session.verifyAllConsumed()
    }

    @Test func anErrorThatIsNotTheCoordinatorsIsNotLookedUp() async throws {
        let session = ScriptedSQLSession()
        session.expect("SHOW REPLICA STATUS", result: StatusRow.sqlError(1146, "Table 'mysql.rds_heartbeat2' doesn't exist").modern)
        let error = try await #require(throws: ReplicationError.self) {
            try await waiter(session).waitUntilExecuted(
                .position(target), deadline: .now.advanced(by: .seconds(30)), logger: logger)
        }
        #expect(error.sqlThreadError?.number == 1146)
        try session.verifyAllConsumed()
    }
}
