import Cutover
import ReplicationControl
import Testing

@Suite("Forward set-up: pre-check verdicts")
struct ForwardSetupVerdictTests {
    static func facts(
        logs: [ForwardSetup.BinaryLog]? = [.init(name: "bin.000001", size: 5000), .init(name: "bin.000002", size: 900)],
        format: String = "ROW",
        serverIDs: (UInt64, UInt64) = (1, 2),
        retention: ForwardSetup.Retention = .init(seconds: 7 * 86400, setting: "binlog_expire_logs_seconds"),
        login: ForwardSetup.LoginCheck = .succeeded,
        targetIsMariaDB: Bool = false,
        gtidModes: (String?, String?) = ("ON", "ON"),
        targetGTIDState: String? = nil,
        replica: ReplicaStatus? = nil,
        kind: ForwardSetup.TargetKind = .rds(.auroraVersion3)
    ) -> ForwardSetup.Facts {
        ForwardSetup.Facts(
            sourceIsMariaDB: targetIsMariaDB, targetIsMariaDB: targetIsMariaDB, targetKind: kind,
            sourceServerID: serverIDs.0, targetServerID: serverIDs.1, sourceBinlogEnabled: true,
            sourceBinlogFormat: format, sourceBinaryLogs: logs, sourceRetention: retention,
            sourceGTIDMode: gtidModes.0, targetGTIDMode: gtidModes.1, targetGTIDState: targetGTIDState,
            targetReplica: replica, login: login)
    }

    static let position = try! BinlogPosition(file: "bin.000002", offset: 400)

    @Test func goodFactsGoFromThePosition() {
        let verdict = ForwardSetup.verdict(for: .position(Self.position), facts: Self.facts())
        #expect(verdict.canProceed)
        #expect(verdict.startPoint == .position(Self.position))
    }

    @Test func purgedBinlogFileIsRefusedWithTheRemedy() throws {
        let verdict = ForwardSetup.verdict(
            for: .position(try BinlogPosition(file: "bin.000000", offset: 4)), facts: Self.facts())
        #expect(verdict.blockingReasons.map(\.check) == ["forward.binlog-file"])
        #expect(verdict.blockingReasons[0].message.contains("oldest binary log is bin.000001"))
        #expect(verdict.blockingReasons[0].remedy.contains("new copy"))
    }

    @Test func positionPastTheFileEndIsRefused() throws {
        let verdict = ForwardSetup.verdict(
            for: .position(try BinlogPosition(file: "bin.000002", offset: 901)), facts: Self.facts())
        #expect(verdict.blockingReasons.map(\.check) == ["forward.binlog-file"])
    }

    @Test func statementFormatSameServerIDShortRetentionAndRefusedLoginEachBlock() {
        let verdict = ForwardSetup.verdict(
            for: .position(Self.position),
            facts: Self.facts(
                format: "MIXED", serverIDs: (7, 7),
                retention: .init(seconds: 3600, setting: "binlog_expire_logs_seconds"),
                login: .refused("Access denied for user 'repl'")))
        #expect(verdict.blockingReasons.map(\.check).sorted() == ["forward.binlog-format", "forward.login", "forward.retention", "forward.server-id"])
        #expect(!verdict.canProceed)
        #expect(verdict.blockingReasons.allSatisfy { !$0.remedy.isEmpty })
    }

    @Test func retentionZeroMeansKeptExceptOnRDS() {
        let kept = ForwardSetup.verdict(for: .position(Self.position), facts: Self.facts(retention: .init(seconds: 0, setting: "expire_logs_days")))
        #expect(kept.canProceed)
        let rds = ForwardSetup.verdict(for: .position(Self.position), facts: Self.facts(retention: .init(seconds: 0, setting: "binlog retention hours", isRDS: true)))
        #expect(rds.blockingReasons.map(\.check) == ["forward.retention"])
        #expect(rds.blockingReasons[0].remedy.contains("rds_set_configuration"))
    }

    @Test func unreachableReplicationAddressIsANoteNotARefusal() {
        let verdict = ForwardSetup.verdict(for: .position(Self.position), facts: Self.facts(login: .unreachable("timeout")))
        #expect(verdict.canProceed)
        #expect(verdict.notes.contains { $0.contains("did not answer") })
    }

    @Test func runningReplicaIsRefused() {
        var replica = ReplicaStatus(ioThread: .running, sqlThread: .running)
        replica.sourceHost = "10.0.0.1"
        replica.sourcePort = 3306
        let verdict = ForwardSetup.verdict(for: .position(Self.position), facts: Self.facts(replica: replica))
        #expect(verdict.blockingReasons.map(\.check) == ["forward.already-running"])
        #expect(verdict.blockingReasons[0].remedy.contains("stop-forward"))
    }

    @Test func gtidNeedsGTIDModeAndATargetState() {
        let off = ForwardSetup.verdict(for: .gtid, facts: Self.facts(gtidModes: ("OFF", "ON"), targetGTIDState: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"))
        #expect(off.blockingReasons.map(\.check) == ["forward.gtid"])
        let empty = ForwardSetup.verdict(for: .gtid, facts: Self.facts(targetGTIDState: ""))
        #expect(empty.blockingReasons.map(\.check) == ["forward.gtid-state"])
        #expect(empty.startPoint == nil)
        let good = ForwardSetup.verdict(for: .gtid, facts: Self.facts(targetGTIDState: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"))
        #expect(good.canProceed)
        #expect(good.startPoint == .autoPosition)
    }

    @Test func mariaDBGTIDUsesSlavePos() {
        let empty = ForwardSetup.verdict(for: .gtid, facts: Self.facts(targetIsMariaDB: true, gtidModes: (nil, nil), targetGTIDState: ""))
        #expect(empty.blockingReasons.map(\.check) == ["forward.gtid-state"])
        let set = ForwardSetup.verdict(for: .gtid, facts: Self.facts(targetIsMariaDB: true, gtidModes: (nil, nil), targetGTIDState: "0-1-40"))
        #expect(set.canProceed)
    }

    @Test func dumpPrefersItsPositionAndNotesTheGTIDSet() {
        let dump = DumpCoordinates(position: Self.position, syntax: .changeReplicationSource, positionCommented: true, mySQLGTIDPurged: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")
        let verdict = ForwardSetup.verdict(for: .dump(dump), facts: Self.facts())
        #expect(verdict.startPoint == .position(Self.position))
        #expect(verdict.canProceed)
        #expect(verdict.notes.contains { $0.contains("GTID_PURGED") })
    }

    @Test func dumpWithOnlyGTIDNeedsTheTargetToHaveAppliedIt() {
        let dump = DumpCoordinates(mySQLGTIDPurged: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")
        let missing = ForwardSetup.verdict(for: .dump(dump), facts: Self.facts(targetGTIDState: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3"))
        #expect(missing.blockingReasons.map(\.check) == ["forward.gtid-state"])
        let applied = ForwardSetup.verdict(for: .dump(dump), facts: Self.facts(targetGTIDState: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9"))
        #expect(applied.startPoint == .autoPosition)
        #expect(applied.canProceed)
    }

    @Test func dumpFromAReplicaIsRefused() {
        let dump = DumpCoordinates(position: Self.position, syntax: .changeMaster, namedSourceHost: "10.0.0.9")
        let verdict = ForwardSetup.verdict(for: .dump(dump), facts: Self.facts())
        #expect(verdict.blockingReasons.map(\.check) == ["forward.dump-replica"])
    }
}

@Suite("Forward set-up: proof that replication runs")
struct ForwardSetupProofTests {
    static func position(_ offset: UInt64) -> BinlogPosition { try! BinlogPosition(file: "bin.000002", offset: offset) }

    static func sample(
        _ ms: Int, io: ReplicationThreadState = .running, sql: ReplicationThreadState = .running,
        received: UInt64?, executed: UInt64? = nil, lag: Int? = 0, error: String? = nil, source: UInt64? = nil
    ) -> ForwardSetup.Sample {
        .init(
            elapsed: .milliseconds(ms), ioThread: io, sqlThread: sql, received: received.map(position),
            executed: (executed ?? received).map(position), secondsBehind: lag, error: error, sourcePosition: source.map(position))
    }

    @Test func connectingIsPendingAndAnErrorFails() {
        #expect(ForwardSetup.proof([]) == .pending("no sample yet"))
        if case .pending = ForwardSetup.proof([Self.sample(0, io: .connecting, received: nil)]) {} else { Issue.record("connecting must be pending") }
        if case .failed(let why) = ForwardSetup.proof([Self.sample(0, io: .connecting, received: nil, error: "1045: Access denied")]) {
            #expect(why.contains("1045"))
        } else {
            Issue.record("an error must fail")
        }
        if case .failed = ForwardSetup.proof([Self.sample(0, sql: .stopped, received: 10)]) {} else { Issue.record("a stopped thread must fail") }
    }

    @Test func receivedPositionMustMoveOrEqualTheSource() {
        let still = [Self.sample(0, received: 100, source: 500), Self.sample(500, received: 100, source: 600)]
        if case .pending = ForwardSetup.proof(still) {} else { Issue.record("a position that does not move proves nothing") }
        let moving = [Self.sample(0, received: 100, lag: 5, source: 500), Self.sample(500, received: 300, lag: 3, source: 600)]
        if case .running = ForwardSetup.proof(moving) {} else { Issue.record("moving and lag falling is running") }
        let idleCaughtUp = [Self.sample(0, received: 600, source: 600), Self.sample(500, received: 600, source: 600)]
        if case .running(let why) = ForwardSetup.proof(idleCaughtUp) { #expect(why.contains("caught up")) } else { Issue.record("idle and caught up is running") }
    }

    @Test func growingLagIsNotProofYet() {
        let growing = [Self.sample(0, received: 100, lag: 1, source: 900), Self.sample(500, received: 200, lag: 4, source: 1900)]
        if case .pending(let why) = ForwardSetup.proof(growing) { #expect(why.contains("lag grew")) } else { Issue.record("growing lag is pending") }
    }

    @Test func budget() {
        #expect(ForwardSetup.withinBudget(Self.sample(0, received: 600, source: 600), budget: .zero))
        // Seconds_Behind 0 while the last events are still to apply: not within a zero budget.
        #expect(!ForwardSetup.withinBudget(Self.sample(0, received: 600, executed: 580, lag: 0, source: 600), budget: .zero))
        #expect(ForwardSetup.withinBudget(Self.sample(0, received: 500, lag: 1, source: 600), budget: .seconds(1)))
        #expect(!ForwardSetup.withinBudget(Self.sample(0, received: 500, lag: 2, source: 600), budget: .seconds(1)))
        #expect(!ForwardSetup.withinBudget(Self.sample(0, received: 500, lag: nil, source: 600), budget: .seconds(100)))
        #expect(!ForwardSetup.withinBudget(Self.sample(0, io: .connecting, received: 600, source: 600), budget: .seconds(100)))
    }
}
