import CutoverTestSupport
import Logging
import MariaDB
import ReplicationControl
import Testing

/// `KILL CONNECTION` only marks a thread: a statement past its last kill check still commits. The closer returns
/// only once the sessions it killed have left the process list, so the final position read after it includes what
/// they committed (a benchmark failback stopped past the point of no return before: one transaction on the old
/// writer after its final position).
@Suite("SessionCloser (scripted)")
struct SessionCloserTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func listing(_ session: ScriptedSQLSession, ids: [String]) {
        session.expect(
            .exact(SessionCloser.selectSessions(users: []).rendered(for: .mysql)),
            columns: ["ID", "USER"], rows: ids.map { [$0, "app"] })
    }

    func remaining(_ session: ScriptedSQLSession, of ids: [UInt64], still: [String]) {
        session.expect(
            .exact(SessionCloser.selectRemaining(ids).rendered(for: .mysql)), columns: ["ID"], rows: still.map { [$0] })
    }

    @Test("the closer waits until every killed session has left the process list")
    func waitsForKilledSessionsToEnd() async throws {
        let session = ScriptedSQLSession()
        listing(session, ids: ["5", "7"])
        session.expect("KILL CONNECTION 5")
        session.expect("KILL CONNECTION 7")
        remaining(session, of: [5, 7], still: ["5", "7"])  // both marked, still finishing
        remaining(session, of: [5, 7], still: ["7"])  // 7 is committing its last statement
        remaining(session, of: [5, 7], still: [])
        let closer = SessionCloser(session: session, dialect: Dialects.mariaDB, exitTimeout: .seconds(60))
        let closed = try await closer.closeSessions(users: [], logger: logger)
        #expect(closed == [5, 7])
        try session.verifyAllConsumed()
    }

    @Test("killed sessions still running at the exit timeout are an error naming them (the run rolls back before the final position is read)")
    func sessionsThatDoNotEndAreAnError() async throws {
        let session = ScriptedSQLSession()
        listing(session, ids: ["9"])
        session.expect("KILL CONNECTION 9")
        remaining(session, of: [9], still: ["9"])
        let closer = SessionCloser(session: session, dialect: Dialects.mariaDB, exitTimeout: .zero)
        let error = await #expect(throws: ReplicationError.self) {
            _ = try await closer.closeSessions(users: [], logger: logger)
        }
        #expect(error?.message.contains("session(s) 9 still running") == true, "\(String(describing: error))")
        try session.verifyAllConsumed()
    }

    @Test("nothing to close: no kill and no wait")
    func nothingToClose() async throws {
        let session = ScriptedSQLSession()
        listing(session, ids: [])
        let closed = try await SessionCloser(session: session, dialect: Dialects.mariaDB).closeSessions(users: [], logger: logger)
        #expect(closed.isEmpty)
        try session.verifyAllConsumed()
    }
}
