import ProxySQLAdmin
import Testing

@Suite("Runtime verification")
struct RuntimeVerificationTests {
    let source = BackendServer.Key(hostgroup: 10, host: "source")
    let aurora = BackendServer.Key(hostgroup: 10, host: "aurora")

    @Test("OFFLINE_HARD intended and absent from runtime is satisfied")
    func offlineHardAbsent() throws {
        let verification = try RuntimeVerification.compare(
            intended: [
                IntendedBackendState(key: source, status: .offlineHard),
                IntendedBackendState(key: aurora, status: .online),
            ],
            runtime: [BackendServer(hostgroup: 10, host: "aurora")]
        )
        #expect(verification.isSatisfied)
        #expect(verification.description == "runtime matches (2 servers)")
    }

    @Test("A runtime row that still says OFFLINE_HARD counts as absent")
    func offlineHardRowTolerated() throws {
        let verification = try RuntimeVerification.compare(
            intended: [IntendedBackendState(key: source, status: .offlineHard)],
            runtime: [BackendServer(hostgroup: 10, host: "source", status: .offlineHard)],
            exhaustiveHostgroups: [10]
        )
        #expect(verification.isSatisfied)
    }

    @Test("OFFLINE_HARD intended but live is shouldBeAbsent")
    func offlineHardPresent() throws {
        let live = BackendServer(hostgroup: 10, host: "source", status: .offlineSoft)
        let verification = try RuntimeVerification.compare(
            intended: [IntendedBackendState(key: source, status: .offlineHard)],
            runtime: [live]
        )
        #expect(verification.differences == [.shouldBeAbsent(live)])
    }

    @Test("A live status intended but absent is missing; another status is a mismatch")
    func missingAndMismatch() throws {
        let verification = try RuntimeVerification.compare(
            intended: [
                IntendedBackendState(key: source, status: .offlineSoft),
                IntendedBackendState(key: aurora, status: .online),
            ],
            runtime: [BackendServer(hostgroup: 10, host: "aurora", status: .shunned)]
        )
        #expect(
            verification.differences == [
                .statusMismatch(aurora, expected: .online, actual: .shunned),
                .missing(source, expected: .offlineSoft),
            ])
        #expect(!verification.isSatisfied)
    }

    @Test("Only the attributes given are checked")
    func attributes() throws {
        let runtime = [BackendServer(hostgroup: 10, host: "aurora", weight: 5, maxConnections: 100, comment: "new")]
        let loose = try RuntimeVerification.compare(
            intended: [IntendedBackendState(key: aurora, status: .online)], runtime: runtime
        )
        #expect(loose.isSatisfied)
        let strict = try RuntimeVerification.compare(
            intended: [
                IntendedBackendState(key: aurora, status: .online, weight: 1, maxConnections: 100, comment: "old")
            ],
            runtime: runtime
        )
        #expect(
            strict.differences == [
                .attributeMismatch(aurora, attribute: .weight, expected: "1", actual: "5"),
                .attributeMismatch(aurora, attribute: .comment, expected: "old", actual: "new"),
            ])
    }

    @Test("Exhaustive hostgroups report live servers nobody intended, e.g. a second writer")
    func exhaustive() throws {
        let stray = BackendServer(hostgroup: 10, host: "stray")
        let elsewhere = BackendServer(hostgroup: 11, host: "reader")
        let verification = try RuntimeVerification.compare(
            intended: [IntendedBackendState(key: aurora, status: .online)],
            runtime: [BackendServer(hostgroup: 10, host: "aurora"), stray, elsewhere],
            exhaustiveHostgroups: [10]
        )
        #expect(verification.differences == [.unexpected(stray)])
        #expect(verification.differences[0].description == "10/stray:3306 is live as ONLINE but not intended")
    }

    @Test("A server listed twice is an invalid argument")
    func duplicates() {
        #expect(throws: ProxySQLAdminError(code: .invalidArgument)) {
            try RuntimeVerification.compare(
                intended: [
                    IntendedBackendState(key: aurora, status: .online),
                    IntendedBackendState(key: aurora, status: .offlineHard),
                ],
                runtime: []
            )
        }
    }

    @Test("Runtime versus configuration compares every column, OFFLINE_HARD rows absent")
    func againstConfiguration() throws {
        var configured = [
            BackendServer(hostgroup: 10, host: "aurora", status: .offlineHard),
            BackendServer(hostgroup: 10, host: "source", weight: 3, comment: "w"),
            BackendServer(hostgroup: 11, host: "reader"),
        ]
        configured[1].maxLatencyMs = 20
        var runtime = [configured[1], configured[2]]
        #expect(try RuntimeVerification.compare(configured: configured, runtime: runtime).isSatisfied)

        runtime[0].maxLatencyMs = 0
        runtime.append(BackendServer(hostgroup: 11, host: "ghost"))
        let stale = try RuntimeVerification.compare(configured: configured, runtime: runtime)
        #expect(
            stale.differences == [
                .attributeMismatch(configured[1].key, attribute: .maxLatencyMs, expected: "20", actual: "0"),
                .unexpected(runtime[2]),
            ])
        // Scoped to hostgroup 10, the ghost in 11 is not looked at.
        let scoped = try RuntimeVerification.compare(configured: configured, runtime: runtime, hostgroups: [10])
        #expect(scoped.differences.count == 1)
    }

    @Test("exactly(_:) checks every column")
    func exactly() {
        var server = BackendServer(hostgroup: 10, host: "a", weight: 2, maxConnections: 3, comment: "c")
        server.gtidPort = 4
        server.compression = 1
        server.maxReplicationLag = 5
        server.useSSL = true
        server.maxLatencyMs = 6
        let state = IntendedBackendState.exactly(server)
        #expect(state.weight == 2 && state.maxConnections == 3 && state.comment == "c")
        #expect(state.gtidPort == 4 && state.compression == 1 && state.maxReplicationLag == 5)
        #expect(state.useSSL == true && state.maxLatencyMs == 6)
    }
}
