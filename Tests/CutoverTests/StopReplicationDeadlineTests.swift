import CutoverTestSupport
import Foundation
import Logging
import MariaDB
import ReplicationControl
import Testing

@testable import Cutover

private let logger = Logger(label: "stop-replication-deadline-tests")

/// Replica status rows of MariaDB's `SHOW SLAVE STATUS`, reduced to the columns these tests need.
private enum Status {
    static let columns = ["Slave_IO_Running", "Slave_SQL_Running", "Master_Host", "Master_Port"]
    static func row(_ running: String) -> SQLResult {
        SQLResult(resultSets: [ResultSet(columnNames: columns, rows: [[running, running, "source.example", "3306"]])])
    }
}

/// Issue #12: the cut-over's `stop and reset replication` is bounded by the policy's step timeout as a whole. On a
/// replica under FLUSH TABLES WITH READ LOCK, `mysql.rds_stop_replication` waited on its own bookkeeping write until
/// its 60 s call timeout (61 s past the point of no return on MySQL 9.7) and a native `STOP REPLICA` may wait for
/// the applier; the step now ends at its deadline with `stepTimedOut`, the statement interrupted.
@Suite("Stop and reset replication: one deadline over the step (#12)", .timeLimit(.minutes(1)))
struct StopReplicationDeadlineTests {
    func database(_ session: ScriptedSQLSession, rds: Bool) throws -> ReplicationControlDatabase {
        try ScriptedReplication.database(session, rds: rds, name: "aurora (aurora.example:3306)")
    }

    @Test(
        "a stop that never returns (procedure or STOP SLAVE blocked by a global read lock) ends at the step's deadline",
        arguments: [true, false])
    func blockedStop(rds: Bool) async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.row("Yes")))
        if rds {
            session.expect(.exact("CALL mysql.rds_stop_replication"), reply: .hang)
        } else {
            session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.row("Yes")))
            session.expect(.prefix("STOP SLAVE"), reply: .hang)
        }
        let database = try database(session, rds: rds)
        let started = ContinuousClock.now
        let error = await #expect(throws: ReplicationError.self) {
            try await database.stopAndResetReplication(timeout: .milliseconds(300), logger: logger)
        }
        let elapsed = started.duration(to: .now)
        #expect(error?.code == .stepTimedOut, "\(String(describing: error))")
        #expect(error?.endpoint == "aurora (aurora.example:3306)")
        #expect(error?.message.contains("stop and reset replication did not finish within") == true)
        #expect(error?.message.contains("global read lock") == true)
        // Generous: the point is that it ended at its own deadline, not at the hour the statement would hang.
        #expect(elapsed < .seconds(20), "took \(elapsed)")
        #expect(session.failures.isEmpty, "\(session.failures)")

    }

    @Test("a stop that answers in time is not affected by the deadline")
    func stopInTime() async throws {
        let session = ScriptedSQLSession()
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.row("Yes")))
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.row("Yes")))
        session.expect(.prefix("STOP SLAVE"))
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.row("No")))
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(Status.row("No")))
        session.expect(.prefix("RESET SLAVE ALL"))
        session.expect(.exact("SHOW SLAVE STATUS"), reply: .result(SQLResult(resultSets: [ResultSet(columnNames: Status.columns, rows: [])])))
        try await database(session, rds: false).stopAndResetReplication(timeout: .seconds(10), logger: logger)
        try session.verifyAllConsumed()
    }
}
