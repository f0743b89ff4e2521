import ReplicationControl
import Testing

@testable import Cutover

/// Issue #13, item 1: the fence proof after the run, as `migrate-cli status` makes it from the journal and the old
/// writer's state now.
@Suite("Fence proof after the run (#13)")
struct FenceProofLaterTests {
    static let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    static let newUUID = "4a6d1b7e-71ca-11e1-9e33-c80aa9429562"

    @Test("before reverse replication: any change since the fence is a leak")
    func beforeReverse() {
        let fence = ReplicationCoordinate(file: "mysql-bin.000003", offset: 100, gtidSet: "0-1-100")
        #expect(FenceProof.laterVerdict(atFence: fence, now: fence, reverseReplicationStarted: false, mariaDBBinlogState: nil, serverID: 1, serverUUID: nil) == .held)
        let later = ReplicationCoordinate(file: "mysql-bin.000003", offset: 400, gtidSet: "0-1-102")
        guard case .diverged(let text) = FenceProof.laterVerdict(atFence: fence, now: later, reverseReplicationStarted: false, mariaDBBinlogState: nil, serverID: 1, serverUUID: nil) else {
            Issue.record("not diverged")
            return
        }
        #expect(text.contains("0-1-101..0-1-102"))
    }

    @Test("MySQL after reverse replication: the new writer's GTIDs are fine, the old writer's own are a leak")
    func mysqlAfterReverse() {
        let fence = ReplicationCoordinate(file: "binlog.000003", offset: 100, gtidSet: "\(Self.uuid):1-50")
        let replicated = ReplicationCoordinate(file: "binlog.000003", offset: 900, gtidSet: "\(Self.newUUID):1-30,\(Self.uuid):1-50")
        #expect(FenceProof.laterVerdict(atFence: fence, now: replicated, reverseReplicationStarted: true, mariaDBBinlogState: nil, serverID: 1, serverUUID: Self.uuid.uppercased()) == .held)
        let leaked = ReplicationCoordinate(file: "binlog.000003", offset: 990, gtidSet: "\(Self.newUUID):1-30,\(Self.uuid):1-52")
        guard case .diverged(let text) = FenceProof.laterVerdict(atFence: fence, now: leaked, reverseReplicationStarted: true, mariaDBBinlogState: nil, serverID: 1, serverUUID: Self.uuid) else {
            Issue.record("not diverged")
            return
        }
        #expect(text.contains("\(Self.uuid):51-52"), "\(text)")
        #expect(!text.contains(Self.newUUID))
    }

    @Test("MariaDB after reverse replication: gtid_binlog_state entries of its own server_id past the fence")
    func mariaDBAfterReverse() {
        let fence = ReplicationCoordinate(file: "mysql-bin.000003", offset: 100, gtidSet: "0-1-100")
        // Reverse replication applied 0-2-101..0-2-140; gtid_binlog_pos shows 0-2-140 only.
        let now = ReplicationCoordinate(file: "mysql-bin.000003", offset: 9_000, gtidSet: "0-2-140")
        #expect(FenceProof.laterVerdict(atFence: fence, now: now, reverseReplicationStarted: true, mariaDBBinlogState: "0-1-100,0-2-140", serverID: 1, serverUUID: nil) == .held)
        // A root write on the old writer between two replicated transactions: hidden in gtid_binlog_pos, not in the state.
        guard case .diverged(let text) = FenceProof.laterVerdict(atFence: fence, now: now, reverseReplicationStarted: true, mariaDBBinlogState: "0-1-121,0-2-140", serverID: 1, serverUUID: nil) else {
            Issue.record("not diverged")
            return
        }
        #expect(text.contains("0-1-101..0-1-121"), "\(text)")
        // No GTIDs: cannot be told once reverse replication writes into the same binlog.
        let plain = ReplicationCoordinate(file: "mysql-bin.000003", offset: 100)
        guard case .unprovable = FenceProof.laterVerdict(atFence: plain, now: ReplicationCoordinate(file: "mysql-bin.000003", offset: 500), reverseReplicationStarted: true, mariaDBBinlogState: nil, serverID: 1, serverUUID: nil) else {
            Issue.record("expected unprovable")
            return
        }
    }

    @Test("the journal's facts: the last final position of a writer switch past the point of no return")
    func journalFacts() {
        var entries: [CutoverJournalEntry] = []
        func add(_ kind: CutoverJournalEntry.Kind, step: StepID? = nil, event: CutoverEvent? = nil, past: Bool? = nil) {
            var entry = CutoverJournalEntry(sequence: entries.count + 1, runID: "r1", kind: kind, time: "2026-12-06T08:00:00.000Z", elapsedMicroseconds: 0)
            entry.step = step
            entry.event = event
            entry.pastPointOfNoReturn = past
            if kind == .runStarted { entry.operation = .writerCutover }
            entries.append(entry)
        }
        let first = ReplicationCoordinate(file: "mysql-bin.000003", offset: 100, gtidSet: "0-1-100")
        let again = ReplicationCoordinate(file: "mysql-bin.000003", offset: 300, gtidSet: "0-1-101")
        add(.runStarted)
        add(.event, step: "readFinalPosition", event: .positionRead(.source, first, at: .zero))
        // Not yet past the point of no return: nothing to prove.
        #expect(FenceProof.journalFacts(run: entries) == nil)
        add(.event, step: "readFinalPosition", event: .positionRead(.source, again, at: .zero))
        add(.event, step: "readNewWriterPosition", event: .positionRead(.target, first, at: .zero))
        add(.event, step: "onlineNew", event: .statusSet(.writer(.target), .online, at: .zero), past: true)
        #expect(FenceProof.journalFacts(run: entries) == FenceProof.JournalFacts(oldWriter: .source, atFence: again, reverseReplicationStarted: false))
        add(.event, step: "startReverseReplication", event: .replicationStarted(.source), past: true)
        #expect(FenceProof.journalFacts(run: entries)?.reverseReplicationStarted == true)
    }
}
