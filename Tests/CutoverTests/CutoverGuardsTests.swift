import CutoverTestSupport
import Logging
import MariaDB
import ProxySQLAdmin
import Testing

@testable import Cutover

/// Issue #17: the switch guards decided in pure code. Each story starts from a writer cut-over whose facts are all
/// clear, changes one fact (it passes, it fails, it could not be read), and reads the verdict.
@Suite("Switch guards, pure (#17)")
struct CutoverGuardsTests {
    static let topology = ExecutorFixture.topology(proxyNodes: ["p1"])
    static let oldKey = ExecutorFixture.sourceWriter
    static let newKey = ExecutorFixture.targetWriter
    static let source = "source (10.0.0.5:3306)"
    static let aurora = "aurora (aurora.example:3306)"

    static let replicating = ReplicaHealth(
        ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
        sourceEndpoint: "10.0.0.5:3306", sourceServerID: 1)

    /// A ProxySQL node that answered `value`.
    static func answered<Value>(_ value: Value, node: String = "p1") -> ClusterResult<Value> {
        ClusterResult(outcomes: [.init(node: node, result: .success(value))])
    }

    /// A ProxySQL node that did not answer.
    static func unanswered<Value>(_ node: String = "p1") -> ClusterResult<Value> {
        ClusterResult(outcomes: [.init(node: node, result: .failure(Self.adminError))])
    }

    static let adminError = ProxySQLAdminError(code: .connectionFailed, message: "admin port refused")

    /// The facts of a writer cut-over with nothing in the way: Aurora replicates cleanly from the source by
    /// server_id, both writers report their identities, the source replicates from nobody, no long transaction,
    /// node p1 routes to the source with both rows configured, no monitor pair, no pinned session, the window
    /// settings at ProxySQL's defaults, no earlier switch in the journal, and digests without LAST_INSERT_ID().
    static func clearCutover() -> CutoverGuards.Facts {
        var facts = CutoverGuards.Facts(
            operation: .writerCutover, oldName: source, newName: aurora, oldCanFence: true, newCanFence: false,
            newReplication: .read(replicating))
        facts.writerSafety = CutoverGuards.WriterSafety(
            identities: .read(
                CutoverGuards.Identities(
                    new: DatabaseSafetyFacts(readOnly: false, innodbReadOnly: false, serverID: 2),
                    old: DatabaseSafetyFacts(readOnly: false, serverID: 1))),
            oldUpstream: .read(nil))
        facts.longTransactions = .read([])
        facts.proxy = CutoverGuards.Proxy(
            oldKey: oldKey, newKey: newKey, runtimeMismatches: [],
            configured: answered([
                BackendServer(hostgroup: 10, endpoint: oldKey.endpoint, status: .online),
                BackendServer(hostgroup: 10, endpoint: newKey.endpoint, status: .offlineHard),
            ]),
            monitorExposure: answered([]), routing: ClusterResult(outcomes: []),
            pins: SessionPins(server: oldKey, sessions: []))
        facts.windowSettings = answered(
            ProxyWindowSettings(node: "p1", connectRetriesDelay: 1, connectTimeoutServerMax: 1_000_000))
        facts.autoIncrementEvidence = LastInsertIDEvidence(digestsRead: 12, lastInsertIDDigests: [])
        return facts
    }

    static func evaluate(_ facts: CutoverGuards.Facts, policy: CutoverPolicy = CutoverPolicy())
        -> CutoverGuards.Verdicts
    {
        CutoverGuards.evaluate(facts, policy: policy, topology: topology)
    }

    static func checks(_ verdicts: CutoverGuards.Verdicts) -> [String] { verdicts.blockingReasons.map(\.check) }

    // MARK: All clear

    @Test("all clear: the cut-over may start, the pin is relaxed on evidence, and the window's variables are journaled")
    func allClear() {
        let verdicts = Self.evaluate(Self.clearCutover())
        #expect(verdicts.blockingReasons == [])
        #expect(verdicts.pinnedSessions == [])
        #expect(verdicts.autoIncrementPin?.relax == true)
        #expect(verdicts.notes.count == 1)
        #expect(verdicts.notes.first?.hasPrefix("auto-increment pin: relaxed: none of 12 query digests") == true)
        #expect(verdicts.variablesToSnapshot == [.autoIncrementDelayMultiplex, .queryRetriesOnFailure].sorted())
        #expect(verdicts.earlierFenceDiverged == nil)
    }

    @Test("any refusal: nothing is journaled for the window (it will not open)")
    func refusalSnapshotsNothing() {
        var facts = Self.clearCutover()
        facts.longTransactions = .unreadable("PROCESS denied")
        #expect(Self.evaluate(facts).variablesToSnapshot == [])
    }

    @Test("replication TLS required against a new writer that offers none blocks (reverse.tls), as in the hook switch's guards (#15)")
    func replicationTLS() {
        var facts = Self.clearCutover()
        var prerequisites = ReversePrerequisitesTests.facts(newVariables: ["have_ssl": "DISABLED"])
        prerequisites.tls = .required
        facts.reversePrerequisites = .read(prerequisites)
        #expect(Self.checks(Self.evaluate(facts)) == ["reverse.tls"])
        prerequisites.tls = .disabled
        facts.reversePrerequisites = .read(prerequisites)
        #expect(Self.checks(Self.evaluate(facts)) == [])
    }

    // MARK: Replication into the new server

    @Test("replication: clean passes; stopped, an error, over the budget, not configured and unreadable each block")
    func replication() {
        var facts = Self.clearCutover()
        var stopped = Self.replicating
        stopped.sqlThreadRunning = false
        facts.newReplication = .read(stopped)
        #expect(Self.checks(Self.evaluate(facts)) == ["replication.running"])

        var broken = Self.replicating
        broken.lastError = "Duplicate entry '7' for key 'PRIMARY'"
        facts.newReplication = .read(broken)
        let running = Self.evaluate(facts).blockingReasons
        #expect(running.map(\.check) == ["replication.running"])
        #expect(running.first?.message.contains("Duplicate entry") == true)

        var behind = Self.replicating
        behind.secondsBehind = 30
        facts.newReplication = .read(behind)
        var policy = CutoverPolicy()
        policy.lagBudget = .seconds(5)
        let lag = Self.evaluate(facts, policy: policy).blockingReasons
        #expect(lag.map(\.check) == ["replication.lag"])
        #expect(lag.first?.message == "\(Self.aurora) is 30 s behind, over the budget of 5.0 seconds")
        policy.lagBudget = .seconds(30)
        #expect(Self.evaluate(facts, policy: policy).blockingReasons == [], "30 s is within a 30 s budget")

        facts.newReplication = .read(nil)
        #expect(Self.checks(Self.evaluate(facts)) == ["replication.configured"])

        facts.newReplication = .unreadable("Access denied; you need the REPLICATION CLIENT privilege")
        let unreadable = Self.evaluate(facts).blockingReasons
        #expect(unreadable.map(\.check) == ["replication.readable"])
        #expect(unreadable.first?.message.contains("REPLICATION CLIENT") == true)
    }

    @Test("a reader switch onto the database that takes the writes needs no replication; onto another one it does")
    func readerOntoThePrimary() {
        var facts = Self.clearCutover()
        facts.operation = .readerFailback
        facts.writerSafety = nil
        facts.longTransactions = nil
        facts.windowSettings = nil
        facts.newReplication = .read(nil)
        facts.newServesWrites = true
        let verdicts = Self.evaluate(facts)
        #expect(verdicts.blockingReasons == [])
        #expect(verdicts.autoIncrementPin == nil, "a reader switch takes no pin decision")
        #expect(verdicts.variablesToSnapshot == [], "a reader switch changes no variable")
        facts.newServesWrites = false
        #expect(Self.checks(Self.evaluate(facts)) == ["replication.configured"])
    }

    // MARK: Writer safety (#13)

    @Test("writer safety: a read-only new writer, a wrong source and an upstream link block; unreadable identities block once")
    func writerSafety() {
        var facts = Self.clearCutover()
        facts.writerSafety?.identities = .read(
            CutoverGuards.Identities(
                new: DatabaseSafetyFacts(readOnly: true, innodbReadOnly: false, serverID: 2),
                old: DatabaseSafetyFacts(readOnly: false, serverID: 1)))
        #expect(Self.checks(Self.evaluate(facts)) == ["target.writable"])

        facts = Self.clearCutover()
        var elsewhere = Self.replicating
        elsewhere.sourceServerID = 7
        facts.newReplication = .read(elsewhere)
        #expect(Self.checks(Self.evaluate(facts)) == ["replication.source-identity"])

        facts = Self.clearCutover()
        facts.writerSafety?.oldUpstream = .read(
            ReplicaHealth(
                ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
                sourceEndpoint: "10.0.0.9:3306", sourceServerID: 9))
        #expect(Self.checks(Self.evaluate(facts)) == ["reverse.upstream-link"])
        facts.writerSafety?.oldUpstream = .unreadable("Access denied")
        let upstream = Self.evaluate(facts).blockingReasons
        #expect(upstream.map(\.check) == ["reverse.upstream-link"])
        #expect(upstream.first?.message.hasPrefix("cannot read the replica status of \(Self.source)") == true)

        // Identities that cannot be read: one refusal, and the identity checks that need them do not run (the
        // wrong source below would otherwise be named too).
        facts = Self.clearCutover()
        facts.newReplication = .read(elsewhere)
        facts.writerSafety?.identities = .unreadable("Lost connection")
        let unreadable = Self.evaluate(facts).blockingReasons
        #expect(unreadable.map(\.check) == ["target.writable"])
        #expect(unreadable.first?.message.hasPrefix("cannot read read_only / server_id of \(Self.aurora) or") == true)

        // A database that cannot report its identity (nil) is not checked.
        facts.writerSafety = CutoverGuards.WriterSafety(identities: .read(CutoverGuards.Identities(new: nil, old: nil)))
        #expect(Self.evaluate(facts).blockingReasons == [])
    }

    @Test("a failback onto a read-only source it can unfence passes; one it cannot unfence is refused")
    func failbackLiftsFence() {
        var facts = Self.clearCutover()
        facts.operation = .writerFailback
        (facts.oldName, facts.newName) = (Self.aurora, Self.source)
        facts.newReplication = .read(
            ReplicaHealth(
                ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
                sourceEndpoint: "aurora.example:3306", sourceServerID: 2))
        facts.writerSafety = CutoverGuards.WriterSafety(
            identities: .read(
                CutoverGuards.Identities(
                    new: DatabaseSafetyFacts(readOnly: true, serverID: 1),
                    old: DatabaseSafetyFacts(readOnly: false, serverID: 2))),
            oldUpstream: .read(nil))
        facts.newCanFence = true
        facts.oldCanFence = false
        #expect(Self.evaluate(facts).blockingReasons == [])
        facts.newCanFence = false
        #expect(Self.checks(Self.evaluate(facts)) == ["target.writable"])
    }

    // MARK: The old writer

    @Test("the old writer: unfenceable under fence-old-writer blocks, long transactions block, unreadable ones block")
    func oldWriter() {
        var facts = Self.clearCutover()
        facts.oldCanFence = false
        #expect(Self.checks(Self.evaluate(facts)) == ["source.fence"])
        var policy = CutoverPolicy()
        policy.fenceOldWriter = false
        #expect(Self.evaluate(facts, policy: policy).blockingReasons == [])

        facts = Self.clearCutover()
        facts.longTransactions = .read([LongTransaction(connectionID: 41, user: "app", seconds: 90, rowsModified: 3)])
        let long = Self.evaluate(facts).blockingReasons
        #expect(long.map(\.check) == ["source.long-transactions"])
        #expect(long.first?.message.hasPrefix("1 write transaction(s) on \(Self.source) open longer than") == true)
        facts.longTransactions = .unreadable("PROCESS denied")
        let unreadable = Self.evaluate(facts).blockingReasons
        #expect(unreadable.map(\.check) == ["source.long-transactions"])
        #expect(unreadable.first?.remedy == "grant PROCESS to the cut-over account")
    }

    // MARK: ProxySQL

    @Test("ProxySQL: a node off the starting state, a missing row, a monitor pair and an unreadable node each block")
    func proxy() {
        var facts = Self.clearCutover()
        facts.proxy?.runtimeMismatches = [("p1", Self.adminError)]
        #expect(Self.checks(Self.evaluate(facts)) == ["proxysql.runtime"])

        facts = Self.clearCutover()
        facts.proxy?.configured = Self.answered([BackendServer(hostgroup: 10, endpoint: Self.oldKey.endpoint, status: .online)])
        let rows = Self.evaluate(facts).blockingReasons
        #expect(rows.map(\.check) == ["proxysql.rows"])
        #expect(rows.first?.message == "p1: mysql_servers has no row \(Self.newKey) (target writer)")
        // A node whose configuration cannot be read is not a missing row (the runtime check blocks on it).
        facts.proxy?.configured = Self.unanswered()
        #expect(Self.evaluate(facts).blockingReasons == [])

        facts = Self.clearCutover()
        let pair = ReplicationHostgroupPair(writerHostgroup: 10, readerHostgroup: 11)
        facts.proxy?.monitorExposure = Self.answered([
            MonitorExposure(endpoint: Self.newKey.endpoint, pair: pair, layer: .runtime, servers: [])
        ])
        #expect(Self.checks(Self.evaluate(facts)) == ["proxysql.replication-hostgroups"])
        facts.proxy?.monitorExposure = Self.unanswered()
        #expect(Self.checks(Self.evaluate(facts)) == ["proxysql.replication-hostgroups"])

        facts = Self.clearCutover()
        facts.proxy?.routing = Self.unanswered()
        #expect(Self.checks(Self.evaluate(facts)) == ["proxysql.staged-rows"])

        facts = Self.clearCutover()
        facts.proxy?.pins = SessionPins(server: Self.oldKey, sessions: [], failures: [("p1", Self.adminError)])
        #expect(Self.checks(Self.evaluate(facts)) == ["proxysql.processlist"])
    }

    @Test("a topology without both rows of the switch's kind blocks, and no pinned sessions are reported")
    func noRows() {
        var facts = Self.clearCutover()
        facts.proxy = nil
        let verdicts = Self.evaluate(facts)
        #expect(Self.checks(verdicts) == ["topology"])
        #expect(verdicts.pinnedSessions == nil)
    }

    @Test("window settings: a long retries delay blocks, a moderate one is a note, an unreadable node is a note")
    func windowSettings() {
        var facts = Self.clearCutover()
        facts.windowSettings = Self.answered(
            ProxyWindowSettings(node: "p1", connectRetriesDelay: 1_000, connectTimeoutServerMax: 1_000_000))
        #expect(Self.checks(Self.evaluate(facts)) == ["proxysql.window-settings"])

        facts.windowSettings = Self.answered(
            ProxyWindowSettings(node: "p1", connectRetriesDelay: 50, connectTimeoutServerMax: 1_000_000))
        let warned = Self.evaluate(facts)
        #expect(warned.blockingReasons == [])
        #expect(warned.notes.first?.hasPrefix("guards: p1: mysql-connect_retries_delay is 50 ms") == true)

        facts.windowSettings = Self.unanswered()
        let unreadable = Self.evaluate(facts)
        #expect(unreadable.blockingReasons == [])
        #expect(unreadable.notes.first?.hasPrefix("guards: p1: cannot read the window settings:") == true)
    }

    // MARK: The earlier fence (#13 item 1)

    static let atFence = ReplicationCoordinate(file: "mysql-bin.000003", offset: 1_234, gtidSet: "0-1-100")
    static let earlier = FenceProof.JournalFacts(oldWriter: .source, atFence: atFence, reverseReplicationStarted: false)

    @Test("the earlier fence: held is a note, a divergence blocks and is flagged for the log, unreadable blocks, unprovable warns")
    func earlierFence() {
        var facts = Self.clearCutover()
        facts.operation = .writerFailback
        facts.earlierFence = .check(
            Self.earlier, now: .read(.init(position: Self.atFence, identity: nil)), journalPath: "/var/cutover.jsonl")
        let held = Self.evaluate(facts)
        #expect(!held.blockingReasons.contains { $0.check == "fence.diverged" })
        #expect(held.notes.contains { $0.hasPrefix("guards: the fence of the earlier switch held") })
        #expect(held.earlierFenceDiverged == nil)

        let later = ReplicationCoordinate(file: "mysql-bin.000003", offset: 2_900, gtidSet: "0-1-103")
        facts.earlierFence = .check(Self.earlier, now: .read(.init(position: later, identity: nil)), journalPath: nil)
        let diverged = Self.evaluate(facts)
        let refusal = diverged.blockingReasons.first { $0.check == "fence.diverged" }
        #expect(refusal?.message.hasPrefix("THE FENCE DID NOT HOLD: \(Self.aurora)") == true)
        #expect(diverged.earlierFenceDiverged == refusal)

        facts.earlierFence = .check(Self.earlier, now: .unreadable("Lost connection"), journalPath: nil)
        let unreadable = Self.evaluate(facts)
        #expect(unreadable.blockingReasons.first { $0.check == "fence.diverged" }?.message.hasPrefix("cannot read") == true)
        #expect(unreadable.earlierFenceDiverged == nil, "not a divergence: nothing was read")

        facts.earlierFence = .cannotProve("this run has no journal")
        let unprovable = Self.evaluate(facts)
        #expect(!unprovable.blockingReasons.contains { $0.check == "fence.diverged" })
        #expect(unprovable.notes.contains("guards: WARNING: this run has no journal"))
    }

    // MARK: The auto-increment pin (#18)

    @Test("the pin: kept on LAST_INSERT_ID() evidence or without evidence, not decided under keep, relaxed under relax")
    func autoIncrementPin() {
        var facts = Self.clearCutover()
        facts.autoIncrementEvidence = LastInsertIDEvidence(digestsRead: 5, lastInsertIDDigests: ["SELECT LAST_INSERT_ID()"])
        let kept = Self.evaluate(facts)
        #expect(kept.autoIncrementPin?.relax == false)
        #expect(kept.variablesToSnapshot == [.queryRetriesOnFailure])
        facts.autoIncrementEvidence = nil
        #expect(Self.evaluate(facts).autoIncrementPin?.reason.contains("not read") == true)

        var policy = CutoverPolicy()
        policy.autoIncrementPin = .keep
        let keep = Self.evaluate(facts, policy: policy)
        #expect(keep.autoIncrementPin == nil)
        #expect(keep.notes == [])
        policy.autoIncrementPin = .relax
        policy.disableQueryRetries = false
        let relax = Self.evaluate(facts, policy: policy)
        #expect(relax.autoIncrementPin?.relax == true)
        #expect(relax.variablesToSnapshot == [.autoIncrementDelayMultiplex])
    }

    @Test("the order of the reasons is the guards' order, whatever fails at once")
    func order() {
        var facts = Self.clearCutover()
        facts.newReplication = .unreadable("x")
        facts.oldCanFence = false
        facts.proxy?.runtimeMismatches = [("p1", Self.adminError)]
        facts.windowSettings = Self.answered(
            ProxyWindowSettings(node: "p1", connectRetriesDelay: 1_000, connectTimeoutServerMax: 1_000_000))
        facts.earlierFence = .check(Self.earlier, now: .unreadable("y"), journalPath: nil)
        #expect(
            Self.checks(Self.evaluate(facts))
                == ["replication.readable", "source.fence", "proxysql.runtime", "proxysql.window-settings", "fence.diverged"])
    }
}

/// The executor's part of the guards: it reads the facts and decides nothing.
@Suite("Switch guards, reading (#17)")
struct CutoverGuardsReadingTests {
    @Test("an unreadable replica status becomes a fact, not an error; a reader switch reads no writer facts")
    func reading() async {
        let target = FakeCutoverDatabase(name: CutoverGuardsTests.aurora, health: nil)
        target.setHealth(.failure(MariaDBError(code: .connectionLost, message: "lost")))
        let step = LiveCutoverStep(
            environment: CutoverEnvironment(
                topology: ExecutorFixture.topology(proxyNodes: ["p1"]),
                source: FakeCutoverDatabase(name: CutoverGuardsTests.source, health: nil),
                target: target,
                proxies: ProxySQLCluster(nodes: [ExecutorFixture.startingNode("p1")], nodeDeadline: .seconds(10)),
                forwardReplicationPassword: "x", reverseReplicationPassword: "y"),
            context: CutoverExecutionContext(
                elapsed: { .zero }, report: { _ in }, logger: Logger(label: "test"), policy: CutoverPolicy()))
        let context = CutoverExecutionContext(
            elapsed: { .zero }, report: { _ in }, logger: Logger(label: "test"), policy: CutoverPolicy())
        let facts = await step.readGuardFacts(for: .readerCutover, context: context)
        guard case .unreadable = facts.newReplication else {
            Issue.record("expected an unreadable replica status, got \(facts.newReplication)")
            return
        }
        #expect(facts.newServesWrites == nil, "read only when the new database replicates from nobody")
        #expect(facts.writerSafety == nil && facts.longTransactions == nil && facts.windowSettings == nil)
        #expect(facts.autoIncrementEvidence == nil)
        #expect(facts.proxy == nil, "the fixture's topology has no reader rows")
    }
}
