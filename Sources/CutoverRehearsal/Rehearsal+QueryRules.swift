public import CutoverSandbox
import Logging
public import MariaDB
import ProxySQLAdmin

extension Rehearsal {
    /// The query rules of the published read/write split that every rehearsal node routes its application port by:
    /// `SELECT ... FOR UPDATE` to the writers, other `SELECT`s to the readers, everything else to the user's
    /// `default_hostgroup` (the writers). `(rule_id, match_digest, destination hostgroup)`.
    public static var readWriteSplitRules: [(ruleID: Int, matchDigest: String, hostgroup: Int)] {
        [
            (1, "^SELECT.*FOR UPDATE", Int(writerHostgroup.rawValue)),
            (2, "^SELECT", Int(readerHostgroup.rawValue)),
        ]
    }

    /// The application port of every node (routing by query rules), in node order, as the application account.
    public var applicationEndpoints: [MariaDBConnection.Configuration] {
        emulators.compactMap { $0.applicationConfiguration(user: applicationAccount) }
    }

    /// Inserts ``readWriteSplitRules`` on `emulator`, loads them to runtime and saves them to disk (undo: `DELETE
    /// FROM mysql_query_rules WHERE rule_id IN (1, 2)`, then the same LOAD and SAVE).
    static func installReadWriteSplit(on emulator: ProxySQLEmulator, logger: Logger) async throws {
        let admin = try await MariaDBConnection.connect(configuration: emulator.adminConfiguration, logger: logger)
        do {
            for rule in readWriteSplitRules {
                try await admin.run(
                    "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply) VALUES (\(rule.ruleID), 1, \(rule.matchDigest), \(rule.hostgroup), 1)"
                )
            }
            try await admin.run("LOAD MYSQL QUERY RULES TO RUNTIME")
            try await admin.run("SAVE MYSQL QUERY RULES TO DISK")
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }
}
