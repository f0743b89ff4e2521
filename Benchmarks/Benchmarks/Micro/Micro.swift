// Micro benchmarks of the pure hot paths: replica-status parsing, GTID sets and positions, binlog positions, the
// cut-over state machine and SQL statement rendering. No server is needed.
//
// Metrics: wall clock (local runs only) and `.mallocCountTotal`, whose p90 is committed under `Thresholds/` and
// checked by `swift package --disable-sandbox benchmark thresholds check --target Micro` (see
// Documentation/benchmarks.md). Issue #3 target: one replica-status row parses in under 20 µs.
//
// Names contain no space and no `/`: package-benchmark 1.38 writes threshold files with those replaced by `_` but
// looks them up by the raw name, so such a benchmark would silently go unchecked. A benchmark without a threshold
// file is not checked either: run `thresholds update` after adding one.

import Benchmark
@_spi(Benchmarks) import Cutover
import CutoverTestSupport
import Foundation
import MariaDB
import ReplicationControl

/// Inputs built once, outside the measured loops.
enum Inputs {
    /// `Tests/ReplicationControlTests/Fixtures/replica-status/<name>.txt`, read from the source tree.
    static func replicaStatusFixture(_ name: String) -> ResultSet {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Micro
            .deletingLastPathComponent()  // Benchmarks (targets)
            .deletingLastPathComponent()  // Benchmarks (package)
            .deletingLastPathComponent()  // repository
        let url = root.appendingPathComponent("Tests/ReplicationControlTests/Fixtures/replica-status/\(name).txt")
        do {
            let text = try String(contentsOf: url, encoding: .utf8)
            return try VerticalResultText.parse(text)
        } catch {
            fatalError("cannot read the fixture \(url.path): \(error)")
        }
    }

    static let mariaDBRow = replicaStatusFixture("mariadb-10.11-running-gtid")
    /// The old source's fence made durable with `SET PERSIST` (nothing left for the operator, so no follow-up text).
    static let durableFence = ReadOnlyDurability(
        database: "source", readOnly: true, persisted: true, optionFileLines: [])
    static let mysql80Row = replicaStatusFixture("mysql-8.0-show-replica-status")

    /// A realistic MySQL `gtid_executed` after a few failovers: three sources, gaps, one tagged source (8.4).
    static let gtidText =
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18:23-1000042,"
        + "4c0fd8a1-2b55-11ef-a0d4-0242ac120002:1-77,"
        + "7f3a2b10-9a4c-11ee-8c90-0242ac120002:1-3:5-9,"
        + "7f3a2b10-9a4c-11ee-8c90-0242ac120002:cutover:1-4"
    static let gtidSet = try! MySQLGTIDSet(parsing: gtidText)
    static let gtidOther = try! MySQLGTIDSet(
        parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-1000050,9d1b6e6e-0a0f-11f0-a111-0242ac120003:1-12"
    )
    static let gtidSubset = try! MySQLGTIDSet(
        parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:12-18:900000-1000000,4c0fd8a1-2b55-11ef-a0d4-0242ac120002:77"
    )

    static let mariaDBPositionText = "0-1-100245,1-2-5,7-3-88812"
    static let mariaDBTarget = try! MariaDBGTIDPosition(parsing: "0-1-100240,7-3-88812")

    static let binlogTexts = ["mysql-bin.000009:1234", "mysql-bin.000010:4", "mysql-bin-changelog.000123:98765"]

    static let coordinate = ReplicationCoordinate(file: "mysql-bin.000003", offset: 1_234, gtidSet: "1-1-40")
    static let targetCoordinate = ReplicationCoordinate(file: "mysql-bin-changelog.000007", offset: 99)
}

/// A complete writer cut-over fed through the pure state machine, as the runner would (events in, actions out).
/// Returns the window so the work cannot be optimised away.
@inline(never)
func writerCutoverTranscript(policy: CutoverPolicy) -> Duration? {
    var machine = BenchmarkedStateMachine()
    var action = machine.started(operation: .writerCutover, policy: policy)
    let snapshot = ProxySettingsSnapshot(previousValues: ["proxysql-1": ["mysql-query_retries_on_failure": "1"]])
    var offset = Duration.milliseconds(5)
    while true {
        offset += .milliseconds(2)
        let event: CutoverEvent
        switch action {
        case .finish:
            return machine.timeline.window
        case .runGuards:
            event = .guardsFinished(blockingReasons: [])
        case .prepareProxy:
            event = .proxyPrepared(snapshot)
        case .settleAutoIncrementPins(let server, _, _):
            event = .autoIncrementPinsSettled(server, stillHeld: 0, at: offset)
        case .settleReplication(let role, _, _, _):
            var observation = ReplicationSettleObservation(startedAt: offset - .milliseconds(1))
            observation.recordWait(.milliseconds(1), for: Inputs.coordinate)
            event = .replicationSettleEnded(role, observation, at: offset)
        case .setStatus(let server, let status):
            event = .statusSet(server, status, at: offset)
        case .watchNewWriter(let role, _, _, _, _):
            event = .newWriterWatched(role, ShunnedWriterWatch(), at: offset)
        case .pollDrain(let server, _, _):
            event = .drained(server, at: offset)
        case .closeSessions(let role):
            event = .sessionsClosed(role, count: 2, at: offset)
        case .fence(let role, _):
            event = .fenced(role, at: offset)
        case .liftFence(let role):
            event = .fenceLifted(role)
        case .readPosition(let role):
            event = .positionRead(role, role == .source ? Inputs.coordinate : Inputs.targetCoordinate, at: offset)
        case .proveFenceHeld(let role, let atFence):
            event = .positionRead(role, atFence, at: offset)
        case .waitForCatchUp(let role, _, _):
            event = .caughtUp(role, at: offset)
        case .stopReplication(let role):
            event = .replicationStopped(role)
        case .startReplication(let role, _, _):
            event = .replicationStarted(role)
        case .verifyReplication(let role):
            event = .replicationVerified(role)
        case .persistReadOnly(let role, let readOnly):
            var durability = Inputs.durableFence
            durability.readOnly = readOnly
            event = .readOnlyPersisted(role, durability)
        case .restoreProxySettings:
            event = .proxySettingsRestored
        case .saveProxyConfiguration:
            event = .proxyConfigurationSaved
        case .wait:
            fatalError("the machine waited with nothing in flight")
        }
        action = machine.receive(event)
    }
}

let benchmarks: @Sendable () -> Void = {
    // Allocation counts of pure code are deterministic: a small relative tolerance catches real regressions.
    // Wall clock is noisy on shared machines and is never gated.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 100,
        maxDuration: .seconds(2),
        maxIterations: 100_000,
        thresholds: [
            .mallocCountTotal: .init(relative: [.p90: 5.0], absolute: [.p90: 2]),
            .wallClock: .none,
        ]
    )

    // MARK: Replica status

    Benchmark("ReplicaStatus.parse.MariaDB-10.11-row") { benchmark in
        let rows = Inputs.mariaDBRow
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try ReplicaStatus.parse(rows))
        }
    }

    Benchmark("ReplicaStatus.parse.MySQL-8.0-row") { benchmark in
        let rows = Inputs.mysql80Row
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try ReplicaStatus.parse(rows))
        }
    }

    // MARK: GTIDs

    Benchmark("MySQLGTIDSet.parse.4-sources") { benchmark in
        let text = Inputs.gtidText
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try MySQLGTIDSet(parsing: text))
        }
    }

    Benchmark("MySQLGTIDSet.union") { benchmark in
        let (left, right) = (Inputs.gtidSet, Inputs.gtidOther)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(left.union(right))
        }
    }

    Benchmark("MySQLGTIDSet.contains") { benchmark in
        let (set, subset) = (Inputs.gtidSet, Inputs.gtidSubset)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(set.contains(subset))
        }
    }

    Benchmark("MariaDBGTIDPosition.parse+hasReached") { benchmark in
        let (text, target) = (Inputs.mariaDBPositionText, Inputs.mariaDBTarget)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try MariaDBGTIDPosition(parsing: text).hasReached(target))
        }
    }

    // MARK: Binlog positions

    Benchmark("BinlogPosition.parse+compare.3-positions") { benchmark in
        let texts = Inputs.binlogTexts
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let a = try BinlogPosition(parsing: texts[0])
            let b = try BinlogPosition(parsing: texts[1])
            let c = try BinlogPosition(parsing: texts[2])
            // Positions in binlogs of different base names are incomparable (issue #13): a and b compare, c does not.
            blackHole(try a.isBefore(b) && c.distance(from: a) == nil)
        }
    }

    // MARK: State machine

    Benchmark("CutoverStateMachine.writer-cutover-transcript") { benchmark in
        var policy = CutoverPolicy()
        policy.autoIncrementPin = .relax
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(writerCutoverTranscript(policy: policy))
        }
    }

    // MARK: SQL statements

    Benchmark("SQLStatement.rendered.admin-UPDATE") { benchmark in
        let host = "10.0.0.5"
        let port = 3306
        let hostgroup = 10
        let status = "OFFLINE_SOFT"
        let admin = SQLDialect.proxySQLAdmin
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let statement: SQLStatement = """
                UPDATE mysql_servers SET status = \(status) \
                WHERE hostgroup_id = \(hostgroup) AND hostname = \(host) AND port = \(port)
                """
            blackHole(statement.rendered(for: admin))
        }
    }

    Benchmark("SQLStatement.rendered.CHANGE-MASTER-with-secret") { benchmark in
        let host = "aurora-cluster.cluster-abc.eu-west-1.rds.amazonaws.com"
        let password = "p'a\\ss\"word"
        let file = "mysql-bin-changelog.000123"
        let offset: UInt64 = 98_765
        let dialect: SQLDialect = .mysql(noBackslashEscapes: false)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let statement: SQLStatement = """
                CHANGE MASTER TO MASTER_HOST = \(host), MASTER_PORT = \(3306), MASTER_USER = \("repl_reverse"), \
                MASTER_PASSWORD = \(secret: password), MASTER_LOG_FILE = \(file), MASTER_LOG_POS = \(offset)
                """
            blackHole(statement.rendered(for: dialect))
        }
    }
}
