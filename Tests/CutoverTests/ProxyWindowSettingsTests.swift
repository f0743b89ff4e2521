import CutoverTestSupport
import Logging
import ProxySQLAdmin
import Synchronization
import Testing

@testable import Cutover

@Suite("ProxySQL settings that stretch the window")
struct ProxyWindowSettingsTests {
    private static func findings(retriesDelay: Int?, timeoutMax: Int?, policy: CutoverPolicy = CutoverPolicy())
        -> [ProxyWindowSettings.Finding]
    {
        ProxyWindowSettings(node: "p1", connectRetriesDelay: retriesDelay, connectTimeoutServerMax: timeoutMax)
            .findings(policy: policy)
    }

    @Test("the worst-case window: drain + catch-up deadlines, the fence when fencing, admin round trips")
    func worstCase() {
        #expect(ProxyWindowSettings.worstCaseWindow(CutoverPolicy()) == .milliseconds(500 + 2_000 + 500 + 100))
        var unfenced = CutoverPolicy()
        unfenced.fenceOldWriter = false
        #expect(ProxyWindowSettings.worstCaseWindow(unfenced) == .milliseconds(2_600))
    }

    @Test("ProxySQL's defaults pass, naming what they add")
    func defaultsPass() {
        let verdicts = Self.findings(retriesDelay: 1, timeoutMax: 10_000)
        #expect(verdicts.map(\.status) == [.pass, .pass])
        #expect(verdicts[0].message.contains("adds at most 1 ms"))
        #expect(verdicts[1].message.contains("above the worst-case window of 3100 ms"))
    }

    @Test("connect_retries_delay: warn above 10 ms with the number it adds, refuse from 100 ms")
    func retriesDelay() {
        #expect(Self.findings(retriesDelay: 10, timeoutMax: 10_000)[0].status == .pass)
        let warned = Self.findings(retriesDelay: 50, timeoutMax: 10_000)[0]
        #expect(warned.status == .warn)
        #expect(warned.message.contains("adds up to 50 ms per client"))
        #expect(warned.remedy?.contains("'mysql-connect_retries_delay'") == true)
        let refused = Self.findings(retriesDelay: 1_000, timeoutMax: 10_000)[0]
        #expect(refused.status == .fail)
        #expect(refused.message.contains("up to 1000 ms after the window closes"))
        #expect(refused.remedy?.contains("LOAD MYSQL VARIABLES TO RUNTIME") == true)
        #expect(Self.findings(retriesDelay: nil, timeoutMax: 10_000)[0].status == .warn)
    }

    @Test("connect_timeout_server_max: refused when not above the worst-case window (clients would get 9001)")
    func timeoutMax() {
        let refused = Self.findings(retriesDelay: 1, timeoutMax: 3_000)[1]
        #expect(refused.status == .fail)
        #expect(refused.message.contains("3000 ms, not above the worst-case window of 3100 ms"))
        #expect(refused.message.contains("9001"))
        #expect(refused.remedy?.contains("above 3100 ms") == true)
        #expect(Self.findings(retriesDelay: 1, timeoutMax: 3_101)[1].status == .pass)
        // Shorter deadlines shrink the worst case.
        let short = CutoverPolicy(drainDeadline: .milliseconds(200), catchUpDeadline: .milliseconds(500))
        #expect(Self.findings(retriesDelay: 1, timeoutMax: 3_000, policy: short)[1].status == .pass)
        #expect(Self.findings(retriesDelay: 1, timeoutMax: nil)[1].status == .warn)
    }

    @Test("preflight: the check passes at the defaults and fails on a node with a long re-check delay")
    func preflightCheck() async throws {
        var fixture = PreflightFixture()
        let passed = try await fixture.check("proxysql.window-settings")
        #expect(passed.status == .pass, "\(passed)")
        fixture.nodes[1].update { $0.variables["mysql-connect_retries_delay"] = "1000" }
        let failed = try await fixture.check("proxysql.window-settings")
        #expect(failed.status == .fail)
        #expect(failed.detail.contains("proxy-2: mysql-connect_retries_delay is 1000 ms"))
        #expect(failed.remedy?.contains("on proxy-2") == true)
        let report = await fixture.run()
        #expect(report.blockingReasons.map(\.check).contains("proxysql.window-settings"))
        fixture.nodes[1].update { $0.variables["mysql-connect_retries_delay"] = "20" }
        #expect(try await fixture.check("proxysql.window-settings").status == .warn)
        fixture.policy.catchUpDeadline = .seconds(10)
        fixture.nodes[1].update { $0.variables["mysql-connect_retries_delay"] = "1" }
        let tooShort = try await fixture.check("proxysql.window-settings")
        #expect(tooShort.status == .fail)
        #expect(tooShort.detail.contains("mysql-connect_timeout_server_max is 10000 ms"))
    }

    @Test("guards: a long re-check delay blocks a writer switch; a warning is a note; readers are not concerned")
    func guards() async throws {
        func run(_ delay: String, operation: CutoverOperation = .writerCutover) async
            -> (reasons: [BlockingReason], notes: [String])
        {
            var variables = RecordingProxySQLAdmin.defaultVariables
            variables["mysql-connect_retries_delay"] = delay
            let node = RecordingProxySQLAdmin(
                nodeName: "p1",
                servers: [
                    BackendServer(hostgroup: 10, endpoint: ExecutorFixture.sourceEndpoint, status: .online),
                    BackendServer(hostgroup: 10, endpoint: ExecutorFixture.targetEndpoint, status: .offlineHard),
                ],
                variables: variables)
            let executor = LiveCutoverExecutor(
                environment: CutoverEnvironment(
                    topology: ExecutorFixture.topology(proxyNodes: ["p1"]),
                    source: FakeCutoverDatabase(name: "source", health: nil),
                    target: FakeCutoverDatabase(
                        name: "target",
                        health: ReplicaHealth(
                            ioThreadRunning: true, sqlThreadRunning: true, secondsBehind: 0, lastError: nil,
                            sourceEndpoint: "10.0.0.5:3306")),
                    proxies: ProxySQLCluster(nodes: [node], nodeDeadline: .seconds(10)),
                    forwardReplicationPassword: "x", reverseReplicationPassword: "y"))
            let notes = Mutex<[String]>([])
            let context = CutoverExecutionContext(
                elapsed: { .zero },
                report: { if case .note(let text) = $0 { notes.withLock { $0.append(text) } } },
                logger: Logger(label: "test"), policy: CutoverPolicy())
            let result = await executor.perform(.runGuards(operation), context: context)
            guard case .guardsFinished(let reasons, _, _, _) = result.event else {
                Issue.record("expected the guards' answer, got \(result.event)")
                return ([], [])
            }
            return (reasons, notes.withLock { $0 })
        }
        let blocked = await run("1000")
        let reason = try #require(blocked.reasons.first { $0.check == "proxysql.window-settings" })
        #expect(reason.message.contains("up to 1000 ms after the window closes"))
        let warned = await run("50")
        #expect(!warned.reasons.contains { $0.check == "proxysql.window-settings" })
        #expect(warned.notes.contains { $0.contains("adds up to 50 ms per client") }, "\(warned.notes)")
        let fine = await run("1")
        #expect(!fine.reasons.contains { $0.check == "proxysql.window-settings" })
        #expect(!fine.notes.contains { $0.contains("connect_retries_delay") })
        let readers = await run("1000", operation: .readerCutover)
        #expect(!readers.reasons.contains { $0.check == "proxysql.window-settings" })
    }
}
