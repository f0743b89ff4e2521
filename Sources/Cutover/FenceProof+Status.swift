public import Logging
public import MariaDB
public import ReplicationControl

/// The fence proof after the run (issue #13, item 1): `migrate-cli status` (and anyone holding the journal) checks
/// that the old writer of the journal's last writer switch has written nothing of its own since its final position
/// was read at the fence.
extension FenceProof {
    /// What the check concluded.
    public enum LaterVerdict: Sendable, Hashable {
        /// Nothing of its own written since the fence.
        case held
        /// Transactions of its own written since the fence; the text names them.
        case diverged(String)
        /// It cannot be told (no GTIDs, and reverse replication writes into the same binlog); the text says why.
        case unprovable(String)
    }

    /// What the journal's last run says the check needs.
    public struct JournalFacts: Sendable, Hashable {
        /// The old writer of the switch.
        public var oldWriter: DatabaseRole
        /// The final position read at the fence (the last one read: a resume may read it again).
        public var atFence: ReplicationCoordinate
        /// Whether reverse replication into the old writer was started (it then also holds the new writer's
        /// transactions, which are not leaks).
        public var reverseReplicationStarted: Bool
    }

    /// The facts of `run` (one run's entries), nil when it is not a writer switch past the point of no return with a
    /// final position read (a rolled-back run lifted the fence: nothing to prove).
    public static func journalFacts(run: [CutoverJournalEntry]) -> JournalFacts? {
        guard let operation = run.first(where: { $0.kind == .runStarted })?.operation, operation.movesWriter else {
            return nil
        }
        let finished = run.last { $0.kind == .runFinished }?.outcome
        let past = finished?.isPastPointOfNoReturn == true || run.contains { $0.pastPointOfNoReturn == true }
        guard past else { return nil }
        var atFence: ReplicationCoordinate?
        var reverse = false
        for entry in run where entry.kind == .event {
            switch entry.event {
            case .positionRead(let role, let coordinate, _)? where role == operation.from
                && entry.step == "readFinalPosition":
                atFence = coordinate
            case .replicationStarted(let role)? where role == operation.from:
                reverse = true
            default:
                break
            }
        }
        guard let atFence else { return nil }
        return JournalFacts(oldWriter: operation.from, atFence: atFence, reverseReplicationStarted: reverse)
    }

    /// Compares the old writer now with the final position read at the fence. Before reverse replication starts,
    /// any change is a leak (``compare(atFence:now:)``). After it, only the old writer's **own** transactions are:
    /// MySQL GTIDs of its `server_uuid` outside the fence's set; MariaDB `gtid_binlog_state` entries of its
    /// `server_id` past the fence's sequence number in their domain. Without GTIDs it cannot be told.
    ///
    /// - Parameters:
    ///   - atFence: the final position journaled at the fence.
    ///   - now: the old writer's coordinate now.
    ///   - mariaDBBinlogState: its `@@gtid_binlog_state` (MariaDB: the last GTID of every domain and server).
    ///   - serverID: its `server_id`.
    ///   - serverUUID: its `server_uuid` (MySQL).
    public static func laterVerdict(
        atFence: ReplicationCoordinate, now: ReplicationCoordinate, reverseReplicationStarted: Bool,
        mariaDBBinlogState: String?, serverID: UInt32?, serverUUID: String?
    ) -> LaterVerdict {
        guard reverseReplicationStarted else {
            switch compare(atFence: atFence, now: now) {
            case .held: return .held
            case .diverged(let extra): return .diverged(extra)
            }
        }
        let fenceText = atFence.gtidSet ?? ""
        if let uuid = serverUUID?.lowercased(), !uuid.isEmpty, let fence = try? MySQLGTIDSet(parsing: fenceText),
            let after = try? MySQLGTIDSet(parsing: now.gtidSet ?? "")
        {
            let extra = after.subtracting(fence)
            let own = extra.description.split(separator: ",").map { String($0.filter { $0 != " " && $0 != "\n" }) }
                .filter { $0.lowercased().hasPrefix(uuid + ":") }
            guard !own.isEmpty, let ownSet = try? MySQLGTIDSet(parsing: own.joined(separator: ",")) else { return .held }
            return .diverged("extra GTIDs \(ownSet) (\(ownSet.count) transaction(s)) of its own server_uuid")
        }
        if let serverID, let state = mariaDBBinlogState, let fence = try? MariaDBGTIDPosition(parsing: fenceText) {
            var extra: [String] = []
            for item in state.split(separator: ",") {
                guard let gtid = try? MariaDBGTID(parsing: String(item.filter { $0 != " " && $0 != "\n" })),
                    gtid.server == serverID
                else { continue }
                let had = fence[domain: gtid.domain]?.sequence ?? 0
                if gtid.sequence > had {
                    extra.append("\(gtid.domain)-\(gtid.server)-\(had + 1)..\(gtid) (up to \(gtid.sequence - had) transactions)")
                }
            }
            return extra.isEmpty ? .held : .diverged("extra GTIDs of its own server_id " + extra.joined(separator: ", "))
        }
        return .unprovable(
            "the old writer has no GTIDs to tell its own transactions from those reverse replication applied (binlog "
                + "\(atFence.file):\(atFence.offset) at the fence, \(now.file):\(now.offset) now)")
    }

    /// Reads the old writer over `session` and checks it against `facts` (``laterVerdict(atFence:now:reverseReplicationStarted:mariaDBBinlogState:serverID:serverUUID:)``).
    ///
    /// - Throws: `ReplicationError` or `MariaDBError` when the server cannot be read.
    public static func check(_ facts: JournalFacts, session: any SQLSession, logger: Logger) async throws
        -> LaterVerdict
    {
        let controller = try await SourceController.detecting(on: session, logger: logger)
        let status = try await controller.sourceStatus(logger: logger)
        let now = ReplicationCoordinate(
            file: status.position.file, offset: status.position.offset, gtidSet: status.gtid?.description)
        let result = try await session.execute(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('gtid_binlog_state', 'server_id', 'server_uuid')",
            timeout: .seconds(10))
        var values: [String: String] = [:]
        for row in result.resultSets.first?.rows ?? [] where row.count >= 2 {
            if let name = row[0].string, let value = row[1].string { values[name.lowercased()] = value }
        }
        return laterVerdict(
            atFence: facts.atFence, now: now, reverseReplicationStarted: facts.reverseReplicationStarted,
            mariaDBBinlogState: values["gtid_binlog_state"], serverID: values["server_id"].flatMap { UInt32($0) },
            serverUUID: values["server_uuid"])
    }
}
