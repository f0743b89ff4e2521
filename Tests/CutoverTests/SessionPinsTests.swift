import CutoverTestSupport
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization
import Testing

@testable import Cutover

private let logger = Logger(label: "session-pins-tests")
private let sourceEndpoint = ExecutorFixture.sourceEndpoint
private let targetEndpoint = ExecutorFixture.targetEndpoint
private let sourceWriter = ExecutorFixture.sourceWriter
private let targetWriter = ExecutorFixture.targetWriter
private let topology = ExecutorFixture.topology(proxyNodes: ["p1"])

/// The columns of ProxySQL 2.7's `stats_mysql_processlist`, in its order.
private let processlistColumns = [
    "ThreadID", "SessionID", "user", "db", "cli_host", "cli_port", "hostgroup", "l_srv_host", "l_srv_port", "srv_host",
    "srv_port", "command", "time_ms", "info", "status_flags", "extended_info",
]

/// One processlist row as ProxySQL answers it (every value as text; the backend columns NULL without a backend).
private func processlistRow(
    session: Int, user: String = "app", clientPort: Int = 51234, backend: ServerEndpoint? = sourceEndpoint,
    command: String = "Sleep", milliseconds: Int, info: String? = nil, flags: Int?
) -> [String?] {
    [
        "1", String(session), user, "shop", "10.1.0.7", String(clientPort), "10", backend.map { _ in "10.0.0.9" },
        backend.map { _ in "40000" }, backend?.host, backend.map { String($0.port) }, command, String(milliseconds),
        info, flags.map(String.init), nil,
    ]
}

/// A ProxySQL admin client whose session answers the scripted statements.
private func scriptedNode(_ name: String) -> (ProxySQLAdminClient, ScriptedSQLSession) {
    let session = ScriptedSQLSession(dialect: .proxySQLAdmin, endpointDescription: name)
    return (ProxySQLAdminClient(session: session, name: name, statementTimeout: nil), session)
}

private let processlistStatement =
    "SELECT * FROM stats_mysql_processlist WHERE srv_host = '10.0.0.5' AND srv_port = 3306 AND hostgroup = 10 "
    + "ORDER BY SessionID"

@Suite("What pins sessions (stats_mysql_processlist)")
struct SessionPinsTests {
    @Test(
        "the status flags name the pin; without flags the statement text or the possibilities",
        arguments: [
            (
                ProcesslistEntry(sessionID: 1, hostgroup: 10, backendEndpoint: sourceEndpoint, statusFlags: 0x4),
                SessionPins.Cause.sessionLong, "a session variable (@)"
            ),
            (
                ProcesslistEntry(sessionID: 2, hostgroup: 10, backendEndpoint: sourceEndpoint, statusFlags: 0x40),
                .sessionLong, "a GET_LOCK"
            ),
            (
                ProcesslistEntry(sessionID: 3, hostgroup: 10, backendEndpoint: sourceEndpoint, statusFlags: 0x1),
                .transaction, "an open transaction"
            ),
            (
                ProcesslistEntry(sessionID: 4, hostgroup: 10, backendEndpoint: sourceEndpoint, statusFlags: 0),
                .autoIncrementOrDelayed, "auto-increment insert pin"
            ),
            (
                ProcesslistEntry(
                    sessionID: 5, hostgroup: 10, backendEndpoint: sourceEndpoint, info: "LOCK TABLES t WRITE"),
                .sessionLong, "LOCK TABLES"
            ),
            (
                ProcesslistEntry(sessionID: 6, hostgroup: 10, backendEndpoint: sourceEndpoint),
                .unknown, "an open transaction, a session variable (@), a lock, or an auto-increment insert pin"
            ),
            (
                ProcesslistEntry(
                    sessionID: 7, hostgroup: 10, backendEndpoint: sourceEndpoint, command: "Query",
                    timeMilliseconds: 40,
                    statusFlags: 0x1),
                .runningStatement, "running a statement for 40 ms"
            ),
        ])
    func causes(entry: ProcesslistEntry, cause: SessionPins.Cause, text: String) {
        #expect(SessionPins.cause(of: entry) == cause)
        #expect(SessionPins.reason(entry).contains(text), "\(SessionPins.reason(entry))")
    }

    @Test("only sessions idle on their backend are pinned; the stubborn ones are session-long or idle past a limit")
    func pinnedAndStubborn() {
        let pins = SessionPins(
            server: sourceWriter,
            sessions: [
                (
                    "p1",
                    ProcesslistEntry(sessionID: 1, hostgroup: 10, backendEndpoint: sourceEndpoint, command: "Query")
                ),
                (
                    "p1",
                    ProcesslistEntry(
                        sessionID: 2, hostgroup: 10, backendEndpoint: sourceEndpoint, timeMilliseconds: 20,
                        statusFlags: 0x1)
                ),
                (
                    "p1",
                    ProcesslistEntry(
                        sessionID: 3, hostgroup: 10, backendEndpoint: sourceEndpoint, timeMilliseconds: 9_000,
                        statusFlags: 0x1)
                ),
                (
                    "p2",
                    ProcesslistEntry(
                        sessionID: 4, hostgroup: 10, backendEndpoint: sourceEndpoint, timeMilliseconds: 5,
                        statusFlags: 0x4)
                ),
            ]
        )
        #expect(pins.pinned.map(\.entry.sessionID) == [2, 3, 4])
        #expect(pins.stubborn(idleLimit: .seconds(3)).map(\.entry.sessionID) == [3, 4])
        #expect(pins.causes == [.transaction, .sessionLong])
        #expect(pins.holders.count == 4)
        #expect(pins.pinnedHolders.map(\.clientAddress) == ["?:? via p1", "?:? via p1", "?:? via p2"])
        #expect(pins.summary?.hasPrefix("3 session(s) pinned to 10/10.0.0.5:3306") == true, "\(pins.summary ?? "")")
    }

    @Test("the remedy names the knob for the cause: relax the auto-increment pin, find the client, the deadline")
    func remedies() {
        func pins(_ flags: UInt64?) -> SessionPins {
            SessionPins(
                server: sourceWriter,
                sessions: [
                    (
                        "p1",
                        ProcesslistEntry(
                            sessionID: 9, hostgroup: 10, backendEndpoint: sourceEndpoint, statusFlags: flags)
                    )
                ]
            )
        }
        let autoIncrement = pins(0).remedy(policy: CutoverPolicy())
        #expect(autoIncrement.contains("policy.auto-increment-pin: relax"))
        #expect(!autoIncrement.contains("KILL CONNECTION"))
        var relaxed = CutoverPolicy()
        relaxed.autoIncrementPin = .relax
        #expect(pins(0).remedy(policy: relaxed).contains("already relaxed"))
        let sessionLong = pins(0x4).remedy(policy: CutoverPolicy())
        #expect(sessionLong.contains("KILL CONNECTION <SessionID>") && sessionLong.contains("session 9 on p1"))
        #expect(sessionLong.contains("policy.drain-deadline-policy: force"))
        #expect(sessionLong.contains("mysql-keep_multiplexing_variables"))
        let transaction = pins(0x1).remedy(policy: CutoverPolicy())
        #expect(transaction.contains("policy.drain-deadline"))
        #expect(!transaction.contains("auto-increment"))
    }

    @Test("the processlist is read on every node through the admin client, status_flags included")
    func readsEveryNode() async throws {
        let (first, firstSession) = scriptedNode("p1")
        let (second, secondSession) = scriptedNode("p2")
        firstSession.expect(
            .exact(processlistStatement), columns: processlistColumns,
            rows: [processlistRow(session: 17, milliseconds: 830, flags: 4)])
        secondSession.expect(
            .exact(processlistStatement), columns: processlistColumns,
            rows: [processlistRow(session: 3, command: "Query", milliseconds: 2, info: "UPDATE t SET x = 1", flags: 1)])
        let pins = await SessionPins.read(
            on: sourceWriter, proxies: ProxySQLCluster(nodes: [first, second], nodeDeadline: .seconds(5)),
            logger: logger)
        #expect(pins.failures.isEmpty)
        #expect(pins.sessions.map(\.node) == ["p1", "p2"])
        #expect(pins.pinned.map(\.entry.sessionID) == [17])
        #expect(pins.pinnedHolders.first?.clientAddress == "10.1.0.7:51234 via p1")
        #expect(
            pins.pinnedHolders.first?.reason.contains("a session variable (@): pinned for the whole session") == true)
        try firstSession.verifyAllConsumed()
        try secondSession.verifyAllConsumed()
    }

    @Test("an event journaled before pinnedSessions existed still decodes")
    func oldEventDecodes() throws {
        let json = #"{"guardsFinished":{"blockingReasons":[]}}"#
        let event = try JournalPayloadTests.decodeEvent(Data(json.utf8))
        #expect(event == .guardsFinished(blockingReasons: [], pinnedSessions: nil))
        let holder = SessionHolder(
            sessionID: 1, user: "app", clientAddress: "h:1 via p1", command: "Sleep", timeMilliseconds: 5, reason: "x")
        let roundTrip = try JournalPayloadTests.roundTrip(
            CutoverEvent.guardsFinished(blockingReasons: [], pinnedSessions: [holder]))
        #expect(roundTrip == .guardsFinished(blockingReasons: [], pinnedSessions: [holder]))
    }
}

/// The writer switch's guards with a ProxySQL node scripted statement by statement.
@Suite("Guards: what pins sessions right now")
struct GuardsPinnedSessionsTests {
    /// Scripts the guards' ProxySQL statements on one node (rows present, runtime as at the start, no replication
    /// hostgroup pair) and then the processlist read.
    func scriptGuards(_ session: ScriptedSQLSession, processlist: ScriptedSQLSession.Reply) {
        let serverColumns = [
            "hostgroup_id", "hostname", "port", "gtid_port", "status", "weight", "compression", "max_connections",
            "max_replication_lag", "use_ssl", "max_latency_ms", "comment",
        ]
        func row(_ endpoint: ServerEndpoint, _ status: String) -> [String?] {
            ["10", endpoint.host, String(endpoint.port), "0", status, "1", "0", "1000", "0", "0", "0", ""]
        }
        session.expect(
            .prefix(
                "SELECT hostgroup_id, hostname, port, gtid_port, status, weight, compression, max_connections, "
                    + "max_replication_lag, use_ssl, max_latency_ms, comment FROM runtime_mysql_servers"),
            columns: serverColumns, rows: [row(sourceEndpoint, "ONLINE")])
        session.expect(
            .prefix(
                "SELECT hostgroup_id, hostname, port, gtid_port, status, weight, compression, max_connections, "
                    + "max_replication_lag, use_ssl, max_latency_ms, comment FROM mysql_servers"),
            columns: serverColumns, rows: [row(sourceEndpoint, "ONLINE"), row(targetEndpoint, "OFFLINE_HARD")])
        for table in ["mysql_replication_hostgroups", "runtime_mysql_replication_hostgroups"] {
            session.expect(
                .exact("SELECT * FROM \(table) ORDER BY writer_hostgroup"),
                columns: ["writer_hostgroup", "reader_hostgroup", "check_type", "comment"], rows: [])
        }
        // The routing audit (#13 item 6): every row of both layers, query rules, users, the monitor-managed
        // hostgroup tables (none here), the old writer's replication hostgroup pairs.
        session.expect(
            .prefix(
                "SELECT hostgroup_id, hostname, port, gtid_port, status, weight, compression, max_connections, "
                    + "max_replication_lag, use_ssl, max_latency_ms, comment FROM mysql_servers ORDER BY"),
            columns: serverColumns, rows: [row(sourceEndpoint, "ONLINE"), row(targetEndpoint, "OFFLINE_HARD")])
        session.expect(
            .prefix(
                "SELECT hostgroup_id, hostname, port, gtid_port, status, weight, compression, max_connections, "
                    + "max_replication_lag, use_ssl, max_latency_ms, comment FROM runtime_mysql_servers ORDER BY"),
            columns: serverColumns, rows: [row(sourceEndpoint, "ONLINE")])
        session.expect(.prefix("SELECT rule_id"), columns: ["rule_id"], rows: [])
        session.expect(.prefix("SELECT username"), columns: ["username"], rows: [])
        for _ in 0..<6 {
            session.expect(.prefix("SELECT writer_hostgroup"), columns: ["writer_hostgroup"], rows: [])
        }
        for table in ["mysql_replication_hostgroups", "runtime_mysql_replication_hostgroups"] {
            session.expect(
                .exact("SELECT * FROM \(table) ORDER BY writer_hostgroup"),
                columns: ["writer_hostgroup", "reader_hostgroup", "check_type", "comment"], rows: [])
        }
        session.expect(.exact(processlistStatement), reply: processlist)
        // The ProxySQL settings that stretch the window (``ProxyWindowSettings``), at their defaults.
        for (name, value) in [("mysql-connect_retries_delay", "1"), ("mysql-connect_timeout_server_max", "10000")] {
            session.expect(
                .prefix("SELECT variable_name, variable_value FROM runtime_global_variables"),
                columns: ["variable_name", "variable_value"], rows: [[name, value]])
        }
    }

    /// The guards under the policy before issue #18 (pin kept, pinned sessions waited for) unless told otherwise.
    func guards(_ node: ProxySQLAdminClient, policy: CutoverPolicy = CutoverPolicy(autoIncrementPin: .keep, pinnedSessions: .wait)) async
        -> (event: CutoverEvent, notes: [String])
    {
        let executor = LiveCutoverExecutor(
            environment: CutoverEnvironment(
                topology: topology,
                source: FakeCutoverDatabase(name: "source (10.0.0.5:3306)", health: nil),
                target: FakeCutoverDatabase(
                    name: "aurora",
                    health: ReplicaHealth(
                        ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
                        sourceEndpoint: "10.0.0.5:3306")),
                proxies: ProxySQLCluster(nodes: [node], nodeDeadline: .seconds(10)),
                forwardReplicationPassword: "x",
                reverseReplicationPassword: "y"
            )
        )
        let notes = Mutex<[String]>([])
        let context = CutoverExecutionContext(
            elapsed: { .zero },
            report: { progress in if case .note(let text) = progress { notes.withLock { $0.append(text) } } },
            logger: logger,
            policy: policy
        )
        let result = await executor.perform(.runGuards(.writerCutover), context: context)
        return (result.event, notes.withLock { $0 })
    }

    /// The ProxySQL reasons (the fake source database refuses the long-transaction read, which blocks too).
    func proxyReasons(_ reasons: [BlockingReason]) -> [BlockingReason] {
        reasons.filter { $0.check.hasPrefix("proxysql.") }
    }

    func rows(_ rows: [[String?]]) -> ScriptedSQLSession.Reply {
        .result(SQLResult(resultSets: [ResultSet(columnNames: processlistColumns, rows: rows)]))
    }

    @Test("a session pinned by SET @x blocks under roll-back with pinned-sessions wait: it would hold the drain until the deadline")
    func sessionVariableBlocks() async throws {
        let (node, session) = scriptedNode("p1")
        scriptGuards(session, processlist: rows([processlistRow(session: 17, milliseconds: 120, flags: 0x4)]))
        let (event, notes) = await guards(node)
        guard case .guardsFinished(let reasons, let pinned, _, _) = event else {
            Issue.record("expected the guards' answer, got \(event)")
            return
        }
        let reason = try #require(reasons.first { $0.check == "proxysql.pinned-sessions" }, "\(reasons)")
        #expect(proxyReasons(reasons).count == 1, "\(reasons)")
        #expect(reason.message.contains("session 17 (app@10.1.0.7:51234 via p1, Sleep 120 ms)"), "\(reason.message)")
        #expect(reason.message.contains("roll the writer-cutover back"))
        #expect(reason.remedy.contains("KILL CONNECTION <SessionID>"))
        #expect(pinned?.map(\.sessionID) == [17])
        #expect(notes.contains { $0.hasPrefix("guards: 1 session(s) pinned to 10/10.0.0.5:3306") }, "\(notes)")
        try session.verifyAllConsumed()
    }

    @Test("under force the same session is only reported: it will be cut at OFFLINE_HARD")
    func forceOnlyReports() async throws {
        let (node, session) = scriptedNode("p1")
        scriptGuards(session, processlist: rows([processlistRow(session: 17, milliseconds: 120, flags: 0x4)]))
        var policy = CutoverPolicy(autoIncrementPin: .keep, pinnedSessions: .wait)
        policy.drainDeadlinePolicy = .force
        let (event, notes) = await guards(node, policy: policy)
        guard case .guardsFinished(let reasons, let pinned, _, _) = event else {
            Issue.record("expected the guards' answer, got \(event)")
            return
        }
        #expect(proxyReasons(reasons).isEmpty, "\(reasons)")
        #expect(pinned?.first?.reason.contains("a session variable (@)") == true)
        #expect(notes.count == 1)
        #expect(CutoverRunner.describe(event).hasSuffix("(1 session(s) pinned to the old server)"))
        try session.verifyAllConsumed()
    }

    @Test("#18 under the default pinned-sessions cut, a session pinned by SET @x is only reported: the drain cuts it at OFFLINE_HARD")
    func cutPolicyOnlyReports() async throws {
        let (node, session) = scriptedNode("p1")
        scriptGuards(session, processlist: rows([processlistRow(session: 17, milliseconds: 120, flags: 0x4)]))
        let (event, _) = await guards(node, policy: CutoverPolicy(autoIncrementPin: .keep))
        guard case .guardsFinished(let reasons, let pinned, _, _) = event else {
            Issue.record("expected the guards' answer, got \(event)")
            return
        }
        #expect(proxyReasons(reasons).isEmpty, "\(reasons)")
        #expect(pinned?.map(\.sessionID) == [17])
        try session.verifyAllConsumed()

        // An idle open transaction still blocks: the drain waits for transactions.
        let (again, longSession) = scriptedNode("p1")
        scriptGuards(longSession, processlist: rows([processlistRow(session: 5, milliseconds: 4_000, flags: 0x1)]))
        let (blocked, _) = await guards(again, policy: CutoverPolicy(autoIncrementPin: .keep))
        guard case .guardsFinished(let longReasons, _, _, _) = blocked else {
            Issue.record("expected the guards' answer, got \(blocked)")
            return
        }
        #expect(proxyReasons(longReasons).map(\.check) == ["proxysql.pinned-sessions"])
    }

    @Test("a short transaction or an auto-increment pin is reported, not blocking; a long idle one blocks")
    func transientPins() async throws {
        let (node, session) = scriptedNode("p1")
        scriptGuards(
            session,
            processlist: rows([
                processlistRow(session: 5, clientPort: 1, milliseconds: 15, flags: 0x1),
                processlistRow(session: 6, clientPort: 2, milliseconds: 40, flags: 0),
                processlistRow(session: 7, clientPort: 3, command: "Query", milliseconds: 3, flags: 0x1),
                processlistRow(session: 8, clientPort: 4, backend: nil, milliseconds: 60_000, flags: 0),
            ]))
        let (event, _) = await guards(node)
        guard case .guardsFinished(let reasons, let pinned, _, _) = event else {
            Issue.record("expected the guards' answer, got \(event)")
            return
        }
        #expect(proxyReasons(reasons).isEmpty, "\(reasons)")
        // The session running a statement is not pinned; the one without a backend is not the source's.
        #expect(pinned?.map(\.sessionID) == [5, 6])
        try session.verifyAllConsumed()

        let (again, longSession) = scriptedNode("p1")
        scriptGuards(longSession, processlist: rows([processlistRow(session: 5, milliseconds: 4_000, flags: 0x1)]))
        let (blocked, _) = await guards(again)
        guard case .guardsFinished(let longReasons, _, _, _) = blocked else {
            Issue.record("expected the guards' answer, got \(blocked)")
            return
        }
        #expect(proxyReasons(longReasons).map(\.check) == ["proxysql.pinned-sessions"])
        #expect(proxyReasons(longReasons).first?.remedy.contains("transaction left open") == true)
    }

    @Test("a processlist that cannot be read blocks the guards, naming the node")
    func unreadableProcesslist() async throws {
        let (node, session) = scriptedNode("p1")
        scriptGuards(
            session,
            processlist: .error(
                MariaDBError(
                    code: .server, serverErrorNumber: 1045, sqlState: "28000",
                    message: "ProxySQL Admin Error: no such table: stats_mysql_processlist")))
        let (event, _) = await guards(node)
        guard case .guardsFinished(let reasons, _, _, _) = event else {
            Issue.record("expected the guards' answer, got \(event)")
            return
        }
        #expect(proxyReasons(reasons).map(\.check) == ["proxysql.processlist"])
        #expect(proxyReasons(reasons).first?.message.hasPrefix("p1: cannot read stats_mysql_processlist") == true)
    }
}

/// The preflight check `proxysql.pinned-sessions` over scripted admin sessions.
@Suite("Preflight: pinned sessions")
struct PreflightPinnedSessionsTests {
    func check(_ sessions: [String: [[String?]]], policy: CutoverPolicy = CutoverPolicy()) async throws
        -> Preflight.Outcome
    {
        var fixture = PreflightFixture()
        fixture.policy = policy
        var nodes: [any ProxySQLAdministering] = []
        var scripted: [ScriptedSQLSession] = []
        for name in ["proxy-1", "proxy-2"] {
            let (node, session) = scriptedNode(name)
            for key in [PreflightFixture.sourceWriter, PreflightFixture.sourceReader] {
                session.expect(
                    .exact(
                        "SELECT * FROM stats_mysql_processlist WHERE srv_host = 'source-db' AND srv_port = 3306 AND "
                            + "hostgroup = \(key.hostgroup) ORDER BY SessionID"),
                    columns: processlistColumns,
                    rows: key == PreflightFixture.sourceWriter ? sessions[name] ?? [] : [])
            }
            nodes.append(node)
            scripted.append(session)
        }
        fixture.proxyNodes = nodes
        let outcome = try await fixture.preflight.checkPinnedSessions(logger)
        for session in scripted { try session.verifyAllConsumed() }
        return outcome
    }

    @Test("no pinned session passes; a session running a statement is not a pin")
    func none() async throws {
        let outcome = try await check([
            "proxy-1": [
                processlistRow(
                    session: 3, backend: ServerEndpoint(host: "source-db", port: 3306), command: "Query",
                    milliseconds: 1, flags: 0)
            ]
        ])
        #expect(outcome.status == .pass)
        #expect(outcome.detail.contains("proxy-1: no session pinned to 10/source-db:3306 (1 running a statement)"))
    }

    @Test("an auto-increment pin warns with the policy knob that helps; a session-long pin says the guards refuse")
    func warns() async throws {
        let source = ServerEndpoint(host: "source-db", port: 3306)
        let outcome = try await check([
            "proxy-1": [processlistRow(session: 11, backend: source, milliseconds: 30, flags: 0)],
            "proxy-2": [processlistRow(session: 12, backend: source, milliseconds: 30, flags: 0x4)],
        ])
        #expect(outcome.status == .warn)
        #expect(outcome.detail.contains("proxy-1: 10/source-db:3306 is held by session 11"))
        #expect(outcome.detail.contains("auto-increment insert pin"))
        // The default (pinned-sessions cut) says what the switch will do with each session, and why (issue #18).
        #expect(outcome.detail.contains("session 12") && outcome.detail.contains("an idle session-pin: the switch cuts it at OFFLINE_HARD without waiting"), "\(outcome.detail)")
        #expect(outcome.detail.contains("an idle auto-increment-pin: the switch cuts it at OFFLINE_HARD"))
        #expect(outcome.remedy?.contains("policy.auto-increment-pin: relax") == true)
        let waiting = try await check(
            ["proxy-2": [processlistRow(session: 12, backend: source, milliseconds: 30, flags: 0x4)]],
            policy: CutoverPolicy(pinnedSessions: .wait))
        #expect(waiting.detail.contains("session 12") && waiting.detail.contains("guards refuse while it stays"))
        #expect(outcome.remedy?.contains("KILL CONNECTION <SessionID>") == true)

        var force = CutoverPolicy(pinnedSessions: .wait)
        force.drainDeadlinePolicy = .force
        let forced = try await check(
            ["proxy-2": [processlistRow(session: 12, backend: source, milliseconds: 30, flags: 0x4)]], policy: force)
        #expect(forced.status == .warn)
        #expect(!forced.detail.contains("guards refuse"))
    }
}
