public import ReplicationControl

/// What the writer switch's safety checks read about one database (issue #13): whether it can take writes, and who it
/// is (to prove that the new writer replicates from the old one, not from a server that only has the same host name).
public struct DatabaseSafetyFacts: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `@@read_only`, nil when not read.
    public var readOnly: Bool?
    /// `@@super_read_only` (MySQL), nil where it does not exist.
    public var superReadOnly: Bool?
    /// `@@innodb_read_only` (on for an Aurora reader instance; cannot change without a restart), nil when unknown.
    public var innodbReadOnly: Bool?
    /// `@@server_id`.
    public var serverID: UInt32?
    /// `@@server_uuid` (MySQL, Aurora), nil on MariaDB.
    public var serverUUID: String?
    /// `@@gtid_binlog_state` (MariaDB: the last GTID of every domain and server in its binlog), nil elsewhere; it
    /// tells the server's own transactions from replicated ones (the fence proof of a failback).
    public var gtidBinlogState: String?

    /// Creates facts.
    public init(
        readOnly: Bool? = nil, superReadOnly: Bool? = nil, innodbReadOnly: Bool? = nil, serverID: UInt32? = nil,
        serverUUID: String? = nil, gtidBinlogState: String? = nil
    ) {
        self.readOnly = readOnly
        self.superReadOnly = superReadOnly
        self.innodbReadOnly = innodbReadOnly
        self.serverID = serverID
        self.serverUUID = serverUUID
        self.gtidBinlogState = gtidBinlogState
    }

    /// The read-only switches that are on, by name (`read_only`, `super_read_only`, `innodb_read_only`).
    public var readOnlySwitchesOn: [String] {
        [("read_only", readOnly), ("super_read_only", superReadOnly), ("innodb_read_only", innodbReadOnly)]
            .compactMap { $0.1 == true ? $0.0 : nil }
    }

    public var description: String {
        func show(_ flag: Bool?) -> String { flag.map { $0 ? "ON" : "OFF" } ?? "n/a" }
        return "read_only=\(show(readOnly)) super_read_only=\(show(superReadOnly)) "
            + "innodb_read_only=\(show(innodbReadOnly)) server_id=\(serverID.map(String.init) ?? "?")"
            + (serverUUID.map { " server_uuid=\($0)" } ?? "")
    }
}

extension ReplicaStatus.Filters {
    /// The schemas a filter may ignore without dropping application data.
    static let systemSchemas: Set<String> = ["mysql", "sys", "performance_schema", "information_schema"]

    /// Whether a table or LIKE pattern (`mysql.rds\_%`, `mysql.%`) names only tables of a system schema.
    static func namesSystemTable(_ pattern: String) -> Bool {
        guard let dot = pattern.firstIndex(of: ".") else { return false }
        let schema = pattern[..<dot].lowercased()
        return systemSchemas.contains(schema)
    }

    /// The filters that can drop application transactions, as `Replicate_X: value` texts (empty when none): every
    /// "do" filter (it drops everything it does not name), every "ignore" filter naming something outside the system
    /// schemas, any rewrite, any server-id or domain-id filter.
    public var applicationDroppingFilters: [String] {
        var found: [String] = []
        func add(_ name: String, _ values: [String]) {
            if !values.isEmpty { found.append("\(name): \(values.joined(separator: ","))") }
        }
        add("Replicate_Do_DB", doDatabases)
        add("Replicate_Ignore_DB", ignoreDatabases.filter { !Self.systemSchemas.contains($0.lowercased()) })
        add("Replicate_Do_Table", doTables)
        add("Replicate_Ignore_Table", ignoreTables.filter { !Self.namesSystemTable($0) })
        add("Replicate_Wild_Do_Table", wildDoTables)
        add("Replicate_Wild_Ignore_Table", wildIgnoreTables.filter { !Self.namesSystemTable($0) })
        if let rewrite = rewriteDatabases, !rewrite.isEmpty { found.append("Replicate_Rewrite_DB: \(rewrite)") }
        add("Replicate_Ignore_Server_Ids", ignoreServerIDs.map(String.init))
        add("Replicate_Do_Domain_Ids", doDomainIDs.map(String.init))
        add("Replicate_Ignore_Domain_Ids", ignoreDomainIDs.map(String.init))
        return found
    }
}

/// The writer switch's safety decisions of issue #13, pure: facts in, blocking reasons out. The live executor reads
/// the facts (``CutoverDatabase/safetyFacts(logger:)``, ``CutoverDatabase/replicaHealth(logger:)``) in its guards.
public enum WriterSafetyGuards {
    /// A new writer that cannot take writes refuses the switch: after it, every application write would fail with
    /// 1290 (`--read-only`). `innodb_read_only` (an Aurora reader instance) never changes at runtime; `read_only` /
    /// `super_read_only` are accepted only when the run itself lifts them (`runLiftsFence`: a failback onto the
    /// source it fenced, which it can set writable).
    ///
    /// - Returns: a ``BlockingReason`` with check `target.writable`, or nil.
    public static func newWriterWritable(_ facts: DatabaseSafetyFacts, name: String, runLiftsFence: Bool)
        -> BlockingReason?
    {
        if facts.innodbReadOnly == true {
            return BlockingReason(
                check: "target.writable",
                message: "\(name) has innodb_read_only=ON (an Aurora reader instance, or a server started read-only): "
                    + "after the switch every application write would fail with error 1290",
                remedy: "point the configuration at the writer (cluster) endpoint, or restart the server without "
                    + "innodb_read_only, then run again"
            )
        }
        let switches = [("read_only", facts.readOnly), ("super_read_only", facts.superReadOnly)]
            .compactMap { $0.1 == true ? $0.0 : nil }
        guard !switches.isEmpty, !runLiftsFence else { return nil }
        return BlockingReason(
            check: "target.writable",
            message: "\(name) has \(switches.map { "\($0)=ON" }.joined(separator: " ")): after the switch every "
                + "application write would fail with error 1290, and this run does not lift it",
            remedy: "turn it off on \(name) (`SET GLOBAL read_only = OFF`, or read_only = 0 in Aurora's DB cluster "
                + "parameter group), check with `migrate-cli preflight`, then run again"
        )
    }

    /// The new writer must replicate **from the old writer**, proved by the server identity its replica status
    /// names (`Master_Server_Id` / `Source_UUID`), not by host text: a proxy, a DNS alias or a second server on the
    /// same name would otherwise let catch-up be "proved" against another server's binlog.
    ///
    /// - Parameters:
    ///   - replica: the new writer's replica health (with the identity of its source).
    ///   - old: the old writer's identity.
    /// - Returns: a ``BlockingReason`` with check `replication.source-identity`, or nil.
    public static func replicatesFromOldWriter(
        _ replica: ReplicaHealth, old: DatabaseSafetyFacts, oldName: String, newName: String
    ) -> BlockingReason? {
        let remedy =
            "point replication on \(newName) at \(oldName) (the writer being replaced), or fix the configuration's "
            + "endpoints, then run again"
        if let wanted = old.serverUUID, let seen = replica.sourceUUID, !seen.isEmpty,
            wanted.lowercased() != seen.lowercased()
        {
            return BlockingReason(
                check: "replication.source-identity",
                message: "\(newName) replicates from the server with UUID \(seen), but \(oldName) has server_uuid "
                    + "\(wanted): it does not replicate from the old writer, so catch-up could not be proved",
                remedy: remedy)
        }
        guard let wantedID = old.serverID else { return nil }
        guard let seenID = replica.sourceServerID, seenID != 0 else {
            return BlockingReason(
                check: "replication.source-identity",
                message: "\(newName)'s replica status names no source server_id (its IO thread has not connected "
                    + "yet?), so it cannot be proved to replicate from \(oldName) (server_id \(wantedID))",
                remedy: "let the IO thread connect (see `migrate-cli status`), then run again")
        }
        guard seenID == wantedID else {
            return BlockingReason(
                check: "replication.source-identity",
                message: "\(newName) replicates from the server with server_id \(seenID), but \(oldName) has "
                    + "server_id \(wantedID): it does not replicate from the old writer, so catch-up could not be "
                    + "proved",
                remedy: remedy)
        }
        return nil
    }

    /// Reverse replication makes the old writer a replica of the new one, and reconfiguring it resets (`RESET REPLICA
    /// ALL`) whatever replication the old writer had. When the old writer already replicates from a third server (an
    /// upstream link: it is itself a replica, or part of a chain), that link would be wiped without a word: refuse,
    /// and let the operator remove it knowingly. A link from the new writer itself is fine (reverse replication
    /// already set up: it is kept as it is).
    ///
    /// - Parameters:
    ///   - oldReplica: the old writer's replica health, nil when it replicates from nobody.
    ///   - new: the new writer's identity.
    /// - Returns: a ``BlockingReason`` with check `reverse.upstream-link`, or nil.
    public static func oldWriterUpstreamLink(
        _ oldReplica: ReplicaHealth?, new: DatabaseSafetyFacts, oldName: String, newName: String
    ) -> BlockingReason? {
        guard let oldReplica else { return nil }
        if let id = oldReplica.sourceServerID, let newID = new.serverID, id == newID { return nil }
        if let uuid = oldReplica.sourceUUID, let newUUID = new.serverUUID, uuid.lowercased() == newUUID.lowercased() {
            return nil
        }
        let upstream = oldReplica.sourceEndpoint ?? "an unknown server"
        let id = oldReplica.sourceServerID.map { " (server_id \($0))" } ?? ""
        return BlockingReason(
            check: "reverse.upstream-link",
            message: "\(oldName) replicates from \(upstream)\(id), not from \(newName): starting reverse replication "
                + "after the switch would stop and reset (RESET REPLICA ALL) that link",
            remedy: "if that link is no longer needed, stop and reset it on \(oldName) yourself (STOP REPLICA; RESET "
                + "REPLICA ALL, or the channel's FOR CHANNEL form), then run again; if it is, keep \(oldName) out of "
                + "the reverse direction"
        )
    }

    /// Replication filters on the forward channel that could drop application transactions: the new writer would
    /// "catch up" while missing rows.
    ///
    /// - Returns: a ``BlockingReason`` with check `replication.filters`, or nil.
    public static func forwardFilters(_ filters: ReplicaStatus.Filters, newName: String) -> BlockingReason? {
        let dropping = filters.applicationDroppingFilters
        guard !dropping.isEmpty else { return nil }
        return BlockingReason(
            check: "replication.filters",
            message: "replication into \(newName) has filters that can drop application transactions: "
                + dropping.joined(separator: "; ") + "; after the switch those rows would be missing",
            remedy: "remove the filters (CHANGE REPLICATION FILTER, the replicate-* options, or Aurora's "
                + "replicate-* cluster parameters); filters on the system schemas (mysql.rds_*) are fine"
        )
    }
}
