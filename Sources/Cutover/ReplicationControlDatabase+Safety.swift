public import Logging
import MariaDB
import ReplicationControl

extension ReplicationControlDatabase {
    /// The statement the safety facts are read with (one round trip; variables a server lacks return no row).
    static let safetyFactsStatement: SQLStatement =
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('gtid_binlog_state', 'innodb_read_only', 'read_only', 'server_id', 'server_uuid', 'super_read_only')"

    /// `read_only`, `super_read_only`, `innodb_read_only`, `server_id`, `server_uuid` and `gtid_binlog_state`, in one
    /// statement.
    ///
    /// - Throws: `MariaDBError` when the statement fails.
    public func safetyFacts(logger: Logger) async throws -> DatabaseSafetyFacts? {
        guard let session = factsSession else { return nil }
        let result = try await session.execute(Self.safetyFactsStatement, timeout: .seconds(10))
        var values: [String: String] = [:]
        for row in result.resultSets.first?.rows ?? [] where row.count >= 2 {
            if let name = row[0].string, let value = row[1].string { values[name.lowercased()] = value }
        }
        return Self.safetyFacts(variables: values)
    }

    /// The facts from `SHOW GLOBAL VARIABLES` rows (name lower-cased → value).
    static func safetyFacts(variables: [String: String]) -> DatabaseSafetyFacts {
        func flag(_ name: String) -> Bool? {
            guard let value = variables[name]?.uppercased() else { return nil }
            return value == "ON" || value == "1"
        }
        return DatabaseSafetyFacts(
            readOnly: flag("read_only"),
            superReadOnly: flag("super_read_only"),
            innodbReadOnly: flag("innodb_read_only"),
            serverID: variables["server_id"].flatMap { UInt32($0) },
            serverUUID: variables["server_uuid"].flatMap { $0.isEmpty ? nil : $0 },
            gtidBinlogState: variables["gtid_binlog_state"]
        )
    }
}
