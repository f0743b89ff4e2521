import CutoverTestSupport
import Logging
import ProxySQLAdmin
import Testing

@Suite("RecordingProxySQLAdmin (the fake for upper layers)")
struct RecordingProxySQLAdminTests {
    let logger = Fixtures.logger
    let source = BackendServer.Key(hostgroup: 10, host: "source")
    let aurora = BackendServer.Key(hostgroup: 10, host: "aurora")

    func makeProxy() -> RecordingProxySQLAdmin {
        RecordingProxySQLAdmin(
            nodeName: "proxy-a",
            servers: [
                BackendServer(hostgroup: 10, host: "source"),
                BackendServer(hostgroup: 10, host: "aurora", status: .offlineHard),
            ]
        )
    }

    @Test("Edits stay in the configuration until LOAD; OFFLINE_HARD leaves the runtime and the pool")
    func loadSemantics() async throws {
        let proxy = makeProxy()
        #expect(proxy.runtimeServers.map(\.key) == [source])
        #expect(try await proxy.connectionPoolStats(for: source, logger: logger)?.status == .online)
        #expect(try await proxy.connectionPoolStats(for: aurora, logger: logger) == nil)

        try await proxy.setStatus(.offlineSoft, of: source, logger: logger)
        #expect(proxy.runtimeServers.first?.status == .online)
        try await proxy.loadServersToRuntime(logger: logger)
        #expect(try await proxy.connectionPoolStats(for: source, logger: logger)?.status == .offlineSoft)

        try await proxy.setStatusAndLoad(.offlineHard, of: source, logger: logger)
        try await proxy.setStatusAndLoad(.online, of: aurora, logger: logger)
        #expect(proxy.runtimeServers.map(\.key) == [aurora])
        #expect(try await proxy.connectionPoolStats(for: source, logger: logger) == nil)
        try await proxy.requireRuntime(
            [
                IntendedBackendState(key: source, status: .offlineHard),
                IntendedBackendState(key: aurora, status: .online),
            ],
            exhaustiveHostgroups: [10],
            logger: logger
        )
        #expect(proxy.maximumOnline(in: 10) == 1)
        #expect(proxy.runtimeHistory.count == 3)
    }

    @Test("Calls are recorded; changes can be read without the reads")
    func transcript() async throws {
        let proxy = makeProxy()
        try await proxy.setStatusAndLoad(.offlineSoft, of: source, logger: logger)
        _ = try await proxy.connectionPoolStats(for: source, logger: logger)
        try await proxy.setVariablesAndLoad([.queryRetriesOnFailure: "0"], logger: logger)
        try await proxy.saveServersToDisk(logger: logger)
        #expect(
            proxy.changes == [
                .setStatus(source, .offlineSoft), .loadServersToRuntime, .setVariable(.queryRetriesOnFailure, "0"),
                .loadVariablesToRuntime, .saveServersToDisk,
            ])
        #expect(proxy.calls.count == 6)
        #expect(proxy.changes.map(\.description).first == "set 10/source:3306 OFFLINE_SOFT")
        #expect(proxy.savedServers?.map(\.status) == [.offlineHard, .offlineSoft])
        #expect(proxy.runtimeVariables[.queryRetriesOnFailure] == "0")
    }

    @Test("Scripted ConnUsed values drain, the last one repeating")
    func scriptedDrain() async throws {
        let proxy = makeProxy()
        proxy.scriptConnectionsUsed([3, 1, 0], for: source)
        var seen: [UInt64] = []
        for _ in 0..<4 {
            seen.append(try await proxy.connectionPoolStats(for: source, logger: logger)?.connectionsUsed ?? 99)
        }
        #expect(seen == [3, 1, 0, 0])
    }

    @Test("Missing rows are notFound, as on the real interface")
    func notFound() async throws {
        let proxy = makeProxy()
        let ghost = BackendServer.Key(hostgroup: 10, host: "ghost")
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await proxy.setStatus(.online, of: ghost, logger: logger)
        }
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await proxy.removeServer(ghost, logger: logger)
        }
        await #expect(throws: ProxySQLAdminError(code: .notFound)) { try await proxy.killSession(1, logger: logger) }
        await #expect(throws: ProxySQLAdminError(code: .notFound)) {
            try await proxy.variable("mysql-nope", logger: logger)
        }
        await #expect(throws: ProxySQLAdminError(code: .alreadyExists)) {
            try await proxy.addServer(BackendServer(hostgroup: 10, host: "source"), logger: logger)
        }
    }

    @Test("Sessions are listed per backend and killed by SessionID")
    func sessions() async throws {
        let proxy = makeProxy()
        proxy.setProcesslist([
            ProcesslistEntry(sessionID: 7, hostgroup: 10, backendEndpoint: source.endpoint),
            ProcesslistEntry(sessionID: 8, hostgroup: 10),
        ])
        #expect(try await proxy.processlist(attachedTo: source, logger: logger).map(\.sessionID) == [7])
        try await proxy.killSession(7, logger: logger)
        #expect(try await proxy.processlist(attachedTo: source, logger: logger).isEmpty)
    }

    @Test("Injected failures hit the matching calls, the set number of times")
    func failures() async throws {
        let proxy = makeProxy()
        proxy.injectFailure(ProxySQLAdminError(code: .connectionLost), times: 1) { $0 == .loadServersToRuntime }
        try await proxy.setStatus(.offlineSoft, of: source, logger: logger)
        let error = await #expect(throws: ProxySQLAdminError.self) {
            try await proxy.loadServersToRuntime(logger: logger)
        }
        #expect(error?.code == .connectionLost)
        #expect(error?.node == "proxy-a")
        try await proxy.loadServersToRuntime(logger: logger)
        #expect(proxy.changes.filter { $0 == .loadServersToRuntime }.count == 2)
    }

    @Test("Two writers live at once shows in maximumOnline")
    func twoWriters() async throws {
        let proxy = makeProxy()
        try await proxy.setStatus(.online, of: aurora, logger: logger)
        try await proxy.loadServersToRuntime(logger: logger)
        #expect(proxy.maximumOnline(in: 10) == 2)
    }

    @Test("Monitor exposure and clusters work over the fake")
    func overTheProtocol() async throws {
        let a = makeProxy()
        let b = RecordingProxySQLAdmin(
            nodeName: "proxy-b", servers: [BackendServer(hostgroup: 11, host: "aurora")],
            replicationHostgroups: [ReplicationHostgroupPair(writerHostgroup: 10, readerHostgroup: 11)])
        #expect(try await a.monitorExposure(of: aurora.endpoint, logger: logger).isEmpty)
        #expect(
            try await b.monitorExposure(of: aurora.endpoint, logger: logger).map(\.layer) == [.configured, .runtime])

        let cluster = ProxySQLCluster(nodes: [a, b])
        let result = await cluster.apply([IntendedBackendState(key: source, status: .offlineSoft)], logger: logger)
        #expect(result.succeededNodes == ["proxy-a"])
        #expect(result[node: "proxy-b"]?.error?.code == .notFound)
    }
}
