@_spi(Testing) import CutoverRehearsal
import MariaDB

extension ScenarioRunner {
    /// Empties every emulator node's `stats_mysql_query_digest` (a read of `stats_mysql_query_digest_reset`, as on
    /// ProxySQL), so that `auto-increment-pin: auto` decides from this scenario's statements only. The scenarios share
    /// one rehearsal: without it, a scenario that reads `LAST_INSERT_ID()` (`wl-last-insert-id`, `wl-mix`) left its
    /// digest to the scenarios after it, which then kept the pin they would relax on their own (issue #18: the sysbench
    /// scenarios run after `wl-mix` kept it, their idle sessions were cut, and Debian's sysbench crashed reconnecting).
    ///
    /// - Throws: `MariaDBError` when a node's admin interface cannot be reached or refuses the read.
    static func resetQueryDigests(_ rehearsal: Rehearsal) async throws {
        for emulator in rehearsal.emulators {
            let admin = try await MariaDBConnection.connect(configuration: emulator.adminConfiguration)
            do {
                _ = try await admin.query("SELECT COUNT(*) FROM stats_mysql_query_digest_reset", timeout: .seconds(10))
            } catch {
                await admin.close()
                throw error
            }
            await admin.close()
        }
    }
}
