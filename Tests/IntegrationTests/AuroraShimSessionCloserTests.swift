@_spi(Testing) import CutoverSandbox
import Logging
import MariaDB
import ReplicationControl
import Testing

/// The session closer on the Aurora stand-in of each server kind (#12): the restricted admin closes every client
/// session through `mysql.rds_kill`, root's included, as Aurora's closes the master user's. On MySQL 9.7 a session
/// that logged in with `SYSTEM_USER` can be killed only by another that did, whatever the routine's definer: with the
/// sandbox's root holding it, `rds_kill` answered 1095 and a benchmark failback rolled back at "close sessions".
@Suite(.integration, .serialized)
struct AuroraShimSessionCloserTests {
    @Test(
        "the admin closes a root session on the stand-in through mysql.rds_kill, and the shim installs again",
        arguments: SandboxServerKind.allCases)
    func closerKillsRootSessions(server: SandboxServerKind) async throws {
        try await withReplicationTestbed(kind: server) { testbed in
            let logger = testbed.logger
            let victim = try await testbed.aurora.connectAsRoot()
            let victimID = try #require(try await victim.queryFirst("SELECT CONNECTION_ID() AS id")?["id"]?.uint64)
            let dialect = try await ReplicationDialect.detect(on: testbed.auroraAdmin, logger: logger)
            #expect(SessionCloser.killStatement(victimID, dialect: dialect).redacted.hasPrefix("CALL mysql.rds_kill("))

            let closer = SessionCloser(session: testbed.auroraAdmin, dialect: dialect, exitTimeout: .seconds(30))
            let closed = try await closer.closeSessions(users: [], logger: logger)
            #expect(closed.contains(victimID), "closed \(closed), root's session \(victimID)")
            // Gone from the server: its next statement finds the connection lost.
            await #expect(throws: MariaDBError.self) { try await victim.run("SELECT 1") }
            await victim.close()

            if server == .mysql {
                // The stand-in's root is like Aurora's master user: no SYSTEM_USER (the server's root@localhost keeps it).
                let root = try await testbed.aurora.connectAsRoot()
                let held = try await root.queryFirst(
                    "SELECT COUNT(*) AS n FROM mysql.global_grants WHERE CONCAT(user, '@', host) = CURRENT_USER() AND priv = 'SYSTEM_USER'")
                #expect(held?["n"]?.int64 == 0)
                await root.close()
            }
            // Installing the stand-in again (as the rehearsal may) still works with that root.
            let again = try await AuroraProcedureShim.install(on: testbed.aurora, options: .init(simulatedDelays: false), logger: logger)
            #expect(again.procedures.contains("mysql.rds_kill") || again.procedures.contains("rds_kill"), "\(again.procedures)")
        }
    }
}
