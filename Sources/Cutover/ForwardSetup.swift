public import ReplicationControl

/// Setting up forward replication (source → Aurora) from a consistent copy: where to start, what must hold first,
/// and when replication is proved to run. Pure: facts in, verdicts out (the reading is in
/// `ForwardSetup+Live.swift`).
public enum ForwardSetup {
    /// Where the operator says the copy was taken.
    public enum Request: Sendable, Hashable, CustomStringConvertible {
        /// A binlog file and position (`--file F --position P`: a stopped RDS read replica's
        /// `Relay_Master_Log_File` / `Exec_Master_Log_Pos`, or a snapshot's event message).
        case position(BinlogPosition)
        /// GTID auto-positioning (`--gtid`): the target's own executed GTIDs say where it is.
        case gtid
        /// The header of the dump the target was restored from (`--from-dump`).
        case dump(DumpCoordinates)

        public var description: String {
            switch self {
            case .position(let position): "file/position \(position)"
            case .gtid: "GTID auto-position"
            case .dump(let coordinates): "dump header (\(coordinates))"
            }
        }
    }

    /// How the target is pointed at its source.
    public enum TargetKind: Sendable, Hashable, CustomStringConvertible {
        /// Aurora / RDS: the `mysql.rds_*` procedures of this generation.
        case rds(RDSProcedures)
        /// A server that takes `CHANGE REPLICATION SOURCE` / `CHANGE MASTER` itself.
        case native

        public var description: String {
            switch self {
            case .rds(let procedures):
                procedures.generation == .source ? "RDS procedures (rds_set_external_source, Aurora v3)"
                    : "RDS procedures (rds_set_external_master, Aurora v2)"
            case .native: "native CHANGE REPLICATION SOURCE / CHANGE MASTER"
            }
        }
    }

    /// Whether the replication account could log in to the source, tried from where the tool runs.
    public enum LoginCheck: Sendable, Hashable {
        case succeeded
        /// The source refused the login (wrong password, host pattern, missing account).
        case refused(String)
        /// The source did not answer at the replication address from here (it may from the target's network).
        case unreachable(String)
        /// Not tried (no password configured, dry run offline, ...).
        case notTried(String)
    }

    /// How long the source keeps its binary logs.
    public struct Retention: Sendable, Hashable, CustomStringConvertible {
        /// Seconds; 0 = kept until purged by hand; nil = could not be read.
        public var seconds: Int?
        /// The setting it came from (`binlog_expire_logs_seconds`, `expire_logs_days`, `binlog retention hours`).
        public var setting: String
        /// Whether the source is RDS (its retention is `mysql.rds_set_configuration`).
        public var isRDS: Bool

        public init(seconds: Int?, setting: String, isRDS: Bool = false) {
            self.seconds = seconds
            self.setting = setting
            self.isRDS = isRDS
        }

        public var description: String {
            guard let seconds else { return "unknown (\(setting))" }
            return seconds == 0 ? "never purged automatically (\(setting) = 0)" : "\(seconds / 3600) h \((seconds % 3600) / 60) min (\(setting))"
        }
    }

    /// A binary log the source still has (`SHOW BINARY LOGS`).
    public struct BinaryLog: Sendable, Hashable {
        public var name: String
        public var size: UInt64?

        public init(name: String, size: UInt64?) {
            self.name = name
            self.size = size
        }
    }

    /// What was read from both servers before anything changes.
    public struct Facts: Sendable, Hashable {
        public var sourceIsMariaDB: Bool
        public var targetIsMariaDB: Bool
        public var targetKind: TargetKind
        public var sourceServerID: UInt64?
        public var targetServerID: UInt64?
        public var sourceBinlogEnabled: Bool?
        public var sourceBinlogFormat: String?
        /// `SHOW BINARY LOGS`; nil when it could not be read (no privilege).
        public var sourceBinaryLogs: [BinaryLog]?
        public var sourceRetention: Retention
        public var sourceGTIDMode: String?
        public var targetGTIDMode: String?
        /// MySQL: the target's `@@GLOBAL.gtid_executed`; MariaDB: its `@@GLOBAL.gtid_slave_pos`. Empty = none.
        public var targetGTIDState: String?
        /// The target's replication now (nil: none configured).
        public var targetReplica: ReplicaStatus?
        public var login: LoginCheck

        public init(
            sourceIsMariaDB: Bool, targetIsMariaDB: Bool, targetKind: TargetKind, sourceServerID: UInt64?,
            targetServerID: UInt64?, sourceBinlogEnabled: Bool?, sourceBinlogFormat: String?,
            sourceBinaryLogs: [BinaryLog]?, sourceRetention: Retention, sourceGTIDMode: String? = nil,
            targetGTIDMode: String? = nil, targetGTIDState: String? = nil, targetReplica: ReplicaStatus? = nil,
            login: LoginCheck
        ) {
            self.sourceIsMariaDB = sourceIsMariaDB
            self.targetIsMariaDB = targetIsMariaDB
            self.targetKind = targetKind
            self.sourceServerID = sourceServerID
            self.targetServerID = targetServerID
            self.sourceBinlogEnabled = sourceBinlogEnabled
            self.sourceBinlogFormat = sourceBinlogFormat
            self.sourceBinaryLogs = sourceBinaryLogs
            self.sourceRetention = sourceRetention
            self.sourceGTIDMode = sourceGTIDMode
            self.targetGTIDMode = targetGTIDMode
            self.targetGTIDState = targetGTIDState
            self.targetReplica = targetReplica
            self.login = login
        }
    }

    /// The decision before `start-forward` changes anything.
    public struct Verdict: Sendable, Hashable {
        /// Where replication will start (nil when it cannot be decided: see ``blockingReasons``).
        public var startPoint: ReplicationSource.StartPoint?
        /// Each a refusal with its remedy; empty = go.
        public var blockingReasons: [BlockingReason]
        /// Worth saying, not blocking.
        public var notes: [String]

        public var canProceed: Bool { blockingReasons.isEmpty && startPoint != nil }
    }

    /// The shortest source binlog retention accepted by default: the restore, the catch-up and the migration itself
    /// must all fit in it.
    public static let defaultMinimumRetention: Duration = .seconds(24 * 3600)

    /// Decides whether `request` can start on the servers `facts` describe, and from where.
    ///
    /// - Parameter minimumRetention: the shortest source binlog retention accepted.
    public static func verdict(
        for request: Request,
        facts: Facts,
        minimumRetention: Duration = defaultMinimumRetention
    ) -> Verdict {
        var blocking: [BlockingReason] = []
        var notes: [String] = []
        let startPoint = resolveStartPoint(request, facts: facts, blocking: &blocking, notes: &notes)
        checkSourceBinlog(facts, blocking: &blocking)
        checkStartFile(startPoint, facts: facts, blocking: &blocking, notes: &notes)
        checkRetention(facts, minimumRetention: minimumRetention, blocking: &blocking, notes: &notes)
        checkLogin(facts, blocking: &blocking, notes: &notes)
        checkTargetReplica(facts, blocking: &blocking, notes: &notes)
        return Verdict(startPoint: startPoint, blockingReasons: blocking, notes: notes)
    }

    /// The source's binary log: on, in ROW format, and a server_id that is neither 0 nor the target's.
    private static func checkSourceBinlog(_ facts: Facts, blocking: inout [BlockingReason]) {
        if facts.sourceBinlogEnabled == false {
            blocking.append(BlockingReason(
                check: "forward.binlog",
                message: "the source's binary log is off: there is nothing to replicate from",
                remedy: "set log_bin (and server_id) in the source's option file and restart it, then take the copy again"))
        }
        if let format = facts.sourceBinlogFormat?.uppercased(), format != "ROW" {
            blocking.append(BlockingReason(
                check: "forward.binlog-format",
                message: "the source's binlog_format is \(format), not ROW: statement-based events can apply differently on Aurora",
                remedy: facts.sourceRetention.isRDS
                    ? "set binlog_format = ROW in the source's DB parameter group"
                    : "SET GLOBAL binlog_format = 'ROW' on the source (and in its option file); sessions started before keep the old format, so reconnect the applications"))
        }
        switch (facts.sourceServerID, facts.targetServerID) {
        case (let source?, let target?) where source == target:
            blocking.append(BlockingReason(
                check: "forward.server-id",
                message: "the source and the target both have server_id \(source): the replica would ignore every event as its own",
                remedy: "give the source another server_id (option file, restart); Aurora's cannot be changed"))
        case (0?, _):
            blocking.append(BlockingReason(
                check: "forward.server-id",
                message: "the source's server_id is 0: it refuses replicas",
                remedy: "set server_id to a unique non-zero value in the source's option file and restart it"))
        default: break
        }
    }

    /// The start file of a position start: still on the source, and the offset within it (a note when the source's
    /// binary logs cannot be listed).
    private static func checkStartFile(
        _ startPoint: ReplicationSource.StartPoint?, facts: Facts, blocking: inout [BlockingReason],
        notes: inout [String]
    ) {
        if case .position(let position)? = startPoint, let logs = facts.sourceBinaryLogs {
            if let log = logs.first(where: { $0.name == position.file }) {
                if let size = log.size, position.offset > size {
                    blocking.append(BlockingReason(
                        check: "forward.binlog-file",
                        message: "position \(position.offset) is past the end of \(position.file) (\(size) bytes) on the source",
                        remedy: "check the coordinates: they must come from this source (SHOW BINARY LOGS lists its files)"))
                }
            } else {
                let first = logs.first?.name
                blocking.append(BlockingReason(
                    check: "forward.binlog-file",
                    message: "the source no longer has \(position.file)"
                        + (first.map { " (its oldest binary log is \($0))" } ?? " (it lists no binary log)")
                        + ": the events after the copy are gone",
                    remedy: "take a new copy (dump or snapshot) and start again, with the source's binlog retention longer than the restore takes"))
            }
        } else if case .position? = startPoint, facts.sourceBinaryLogs == nil {
            notes.append("could not list the source's binary logs (SHOW BINARY LOGS needs REPLICATION CLIENT or BINLOG MONITOR): the file's presence is not checked")
        }
    }

    /// The source keeps its binary logs at least `minimumRetention` (RDS: 'binlog retention hours' set).
    private static func checkRetention(
        _ facts: Facts, minimumRetention: Duration, blocking: inout [BlockingReason], notes: inout [String]
    ) {
        if let seconds = facts.sourceRetention.seconds {
            let minimum = Int(minimumRetention.components.seconds)
            if seconds != 0, seconds < minimum {
                blocking.append(BlockingReason(
                    check: "forward.retention",
                    message: "the source keeps binary logs for \(facts.sourceRetention), less than \(minimum / 3600) h: a slow restore or a paused replica loses its events",
                    remedy: facts.sourceRetention.isRDS
                        ? "CALL mysql.rds_set_configuration('binlog retention hours', 168); on the source"
                        : facts.sourceIsMariaDB || facts.sourceRetention.setting == "expire_logs_days"
                            ? "SET GLOBAL binlog_expire_logs_seconds = 604800 (or expire_logs_days = 7) on the source, and in its option file"
                            : "SET PERSIST binlog_expire_logs_seconds = 604800 on the source"))
            }
            if seconds == 0, facts.sourceRetention.isRDS {
                blocking.append(BlockingReason(
                    check: "forward.retention",
                    message: "the RDS source's 'binlog retention hours' is not set: RDS purges binary logs within minutes",
                    remedy: "CALL mysql.rds_set_configuration('binlog retention hours', 168); on the source"))
            }
        } else {
            notes.append("could not read the source's binlog retention (\(facts.sourceRetention.setting)): check it by hand")
        }
    }

    /// The replication account's login on the source, as tried from here.
    private static func checkLogin(_ facts: Facts, blocking: inout [BlockingReason], notes: inout [String]) {
        switch facts.login {
        case .succeeded: break
        case .refused(let message):
            blocking.append(BlockingReason(
                check: "forward.login",
                message: "the replication account cannot log in to the source: \(message)",
                remedy: "create it on the source: CREATE USER '<replication.forward.user>'@'<target's address>' IDENTIFIED BY '…'; GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO it; and check replication.forward.password-env / -file"))
        case .unreachable(let message):
            notes.append("the replication address did not answer from here (\(message)); the target may still reach it, the proof after the start will tell")
        case .notTried(let why):
            notes.append("the replication account's login was not tried: \(why)")
        }
    }

    /// The target's replication: one already running is refused; a stopped one is replaced.
    private static func checkTargetReplica(_ facts: Facts, blocking: inout [BlockingReason], notes: inout [String]) {
        if let replica = facts.targetReplica, replica.isConfigured {
            if replica.ioThread == .running || replica.sqlThread == .running || replica.ioThread == .connecting {
                blocking.append(BlockingReason(
                    check: "forward.already-running",
                    message: "the target already replicates from \(replica.sourceHost ?? "?"):\(replica.sourcePort.map(String.init) ?? "?")",
                    remedy: "migrate-cli replication stop-forward (and reset-forward to forget it) before starting from new coordinates"))
            } else {
                notes.append("the target has a stopped replication from \(replica.sourceHost ?? "?"):\(replica.sourcePort.map(String.init) ?? "?"); it is replaced")
            }
        }
    }

    private static func resolveStartPoint(
        _ request: Request,
        facts: Facts,
        blocking: inout [BlockingReason],
        notes: inout [String]
    ) -> ReplicationSource.StartPoint? {
        switch request {
        case .position(let position):
            return .position(position)
        case .gtid:
            return gtidStart(facts: facts, expected: nil, blocking: &blocking)
        case .dump(let coordinates):
            if let host = coordinates.namedSourceHost {
                blocking.append(BlockingReason(
                    check: "forward.dump-replica",
                    message: "the dump's coordinates name MASTER_HOST \(host): it was taken from a replica with --dump-slave/--dump-replica, and its position is in \(host)'s binary log, not this source's",
                    remedy: "take the dump from the source with --source-data=2 / --master-data=2, or start from that host"))
                return nil
            }
            if let position = coordinates.position {
                if !coordinates.positionCommented {
                    notes.append("the dump's \(coordinates.syntax?.rawValue ?? "CHANGE MASTER TO") was not commented out (--source-data=1 / --master-data=1): restoring it ran it on the target; start-forward points the target at the configured source anyway")
                }
                if let purged = coordinates.mySQLGTIDPurged {
                    notes.append("the dump also records GTID_PURGED '\(purged)'; replication starts from the file/position, which every target accepts")
                }
                return .position(position)
            }
            if let purged = coordinates.mySQLGTIDPurged {
                return gtidStart(facts: facts, expected: purged, blocking: &blocking)
            }
            if let mariaDB = coordinates.mariaDBGTIDSlavePosition {
                return gtidStart(facts: facts, expected: mariaDB, blocking: &blocking)
            }
            return nil
        }
    }

    private static func gtidStart(facts: Facts, expected: String?, blocking: inout [BlockingReason]) -> ReplicationSource.StartPoint? {
        if case .rds(let procedures) = facts.targetKind, procedures.setExternalSourceWithAutoPosition == nil {
            blocking.append(BlockingReason(
                check: "forward.gtid",
                message: "the target has no rds_set_external_\(procedures.generation.rawValue)_with_auto_position",
                remedy: "start from a file and position (--file, --position, or --from-dump with a dump taken with --source-data=2)"))
            return nil
        }
        if !facts.targetIsMariaDB {
            for (side, mode) in [("source", facts.sourceGTIDMode), ("target", facts.targetGTIDMode)] where mode?.uppercased() != "ON" {
                blocking.append(BlockingReason(
                    check: "forward.gtid",
                    message: "the \(side)'s gtid_mode is \(mode ?? "unknown"), not ON: auto-positioning needs GTIDs on both sides",
                    remedy: side == "source"
                        ? "turn GTIDs on at the source (gtid_mode ON and enforce_gtid_consistency ON, in steps), or start from --file/--position"
                        : "set gtid-mode = ON and enforce_gtid_consistency = ON in the Aurora cluster parameter group, or start from --file/--position"))
            }
        }
        let state = (facts.targetGTIDState ?? "").filter { !$0.isWhitespace }
        if state.isEmpty {
            blocking.append(BlockingReason(
                check: "forward.gtid-state",
                message: facts.targetIsMariaDB
                    ? "the target's gtid_slave_pos is empty: auto-positioning would replay the source's whole binlog history over the restored copy"
                    : "the target's gtid_executed is empty: auto-positioning would replay the source's whole history over the restored copy",
                remedy: facts.targetIsMariaDB
                    ? "restore a dump taken with mariadb-dump --gtid --master-data=1 (it sets gtid_slave_pos), or start from --file/--position"
                    : "restore the dump with its SET @@GLOBAL.GTID_PURGED (mysqldump --set-gtid-purged=ON), or start from --file/--position"))
            return nil
        }
        if let expected {
            let wanted = expected.filter { !$0.isWhitespace }
            let contained: Bool
            if facts.targetIsMariaDB {
                contained = Set(state.split(separator: ",")).isSuperset(of: wanted.split(separator: ","))
            } else if let have = try? MySQLGTIDSet(parsing: state), let want = try? MySQLGTIDSet(parsing: wanted) {
                contained = have.contains(want)
            } else {
                contained = false
            }
            if !contained {
                blocking.append(BlockingReason(
                    check: "forward.gtid-state",
                    message: "the target's GTID state '\(state)' does not contain the dump's '\(wanted)': the dump's GTID statement was not applied, so auto-positioning would re-apply what the dump holds",
                    remedy: "restore the dump again with its GTID statement (not --set-gtid-purged=OFF), or start from the dump's file/position"))
                return nil
            }
        }
        return .autoPosition
    }

    // MARK: Proof

    /// One look at the target's replication while it starts.
    public struct Sample: Sendable, Hashable {
        /// Since the start was called.
        public var elapsed: Duration
        public var ioThread: ReplicationThreadState
        public var sqlThread: ReplicationThreadState
        public var received: BinlogPosition?
        public var executed: BinlogPosition?
        public var secondsBehind: Int?
        public var error: String?
        /// The source's own position read just before (nil: not read).
        public var sourcePosition: BinlogPosition?

        public init(
            elapsed: Duration, ioThread: ReplicationThreadState, sqlThread: ReplicationThreadState,
            received: BinlogPosition?, executed: BinlogPosition?, secondsBehind: Int?, error: String? = nil,
            sourcePosition: BinlogPosition? = nil
        ) {
            self.elapsed = elapsed
            self.ioThread = ioThread
            self.sqlThread = sqlThread
            self.received = received
            self.executed = executed
            self.secondsBehind = secondsBehind
            self.error = error
            self.sourcePosition = sourcePosition
        }

        /// The replica has received and applied everything the source had written when it was read.
        public var caughtUp: Bool {
            guard let sourcePosition, let received, let executed else { return false }
            return received == sourcePosition && executed == sourcePosition
        }
    }

    /// What the samples prove.
    public enum Proof: Sendable, Hashable, CustomStringConvertible {
        /// Both threads run, the received position moved (or already equals the source's), lag is not growing.
        case running(String)
        /// Not proved yet; look again.
        case pending(String)
        /// A thread stopped or reports an error: replication does not work.
        case failed(String)

        public var description: String {
            switch self {
            case .running(let why): "running: \(why)"
            case .pending(let why): "not proved yet: \(why)"
            case .failed(let why): "failed: \(why)"
            }
        }
    }

    /// Judges the samples taken since the start (oldest first).
    public static func proof(_ samples: [Sample]) -> Proof {
        guard let last = samples.last, let first = samples.first else { return .pending("no sample yet") }
        if let error = last.error { return .failed("replication reports an error: \(error)") }
        if last.ioThread == .stopped || last.sqlThread == .stopped || last.ioThread == .notConfigured {
            return .failed("IO thread \(last.ioThread), SQL thread \(last.sqlThread)")
        }
        guard last.ioThread == .running, last.sqlThread == .running else {
            return .pending("IO thread \(last.ioThread), SQL thread \(last.sqlThread)")
        }
        let moved = first.received != nil && last.received != nil && first.received != last.received
        let atSource = last.received != nil && last.received == last.sourcePosition
        guard moved || atSource else {
            return .pending("the received position has not moved yet (\(last.received.map(\.description) ?? "none"))")
        }
        if let lastLag = last.secondsBehind, let firstLag = samples.compactMap(\.secondsBehind).first, lastLag > firstLag, !last.caughtUp {
            return .pending("lag grew from \(firstLag) s to \(lastLag) s")
        }
        let how = last.caughtUp
            ? "caught up with the source at \(last.executed!)"
            : moved ? "received \(first.received!) → \(last.received!)" : "received everything the source has (\(last.received!))"
        return .running("IO and SQL threads running, \(how), \(last.secondsBehind.map { "\($0) s behind" } ?? "lag unknown")")
    }

    /// Whether the target is within `budget` of the source: threads running, caught up with the source's position,
    /// or `Seconds_Behind` within the budget. A budget of zero asks for everything applied: `Seconds_Behind` counts
    /// whole seconds and says 0 while events of the last second still wait in the relay log (a fresh-clone CI run found
    /// rows missing on the target after such a "within budget"), so only the positions count then.
    public static func withinBudget(_ sample: Sample, budget: Duration) -> Bool {
        guard sample.ioThread == .running, sample.sqlThread == .running, sample.error == nil else { return false }
        if sample.caughtUp { return true }
        guard budget > .zero, let lag = sample.secondsBehind else { return false }
        return Duration.seconds(lag) <= budget
    }
}
