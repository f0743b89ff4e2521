import Cutover
public import CutoverSandbox
public import Logging
public import MariaDB
import ProxySQLAdmin
import Synchronization

// A fleet of ProxySQL emulator nodes in front of one rehearsal (issue #16): every node gets the same rows, the load
// spreads its clients over their writer ports, and the cut-over's cluster holds one admin session per node.
extension Rehearsal {
    /// The largest fleet a rehearsal starts (each node is a set of listeners and backend pools in this process).
    public static let maximumProxyNodes = 128

    /// The journal and topology name of node `index` (0-based): ``proxyNodeName`` for the first, then
    /// `proxysql-emulator-2`, `proxysql-emulator-3`, ...
    public static func proxyNodeName(_ index: Int) -> String {
        index == 0 ? proxyNodeName : "\(proxyNodeName)-\(index + 1)"
    }

    /// The names of a fleet of `count` nodes.
    public static func proxyNodeNames(count: Int) -> [String] { (0..<count).map(proxyNodeName) }

    /// The names of this rehearsal's nodes, in the order of ``emulators``.
    public var proxyNodeNames: [String] { Self.proxyNodeNames(count: emulators.count) }

    /// The application's writer endpoint on every node (the hostgroup-10 port of each), in node order.
    public var writerEndpoints: [MariaDBConnection.Configuration] {
        emulators.map { $0.dataConfiguration(hostgroup: Int(Self.writerHostgroup.rawValue), user: applicationAccount)! }
    }

    /// The application's reader endpoint on every node (the hostgroup-11 port of each), in node order.
    public var readerEndpoints: [MariaDBConnection.Configuration] {
        emulators.map { $0.dataConfiguration(hostgroup: Int(Self.readerHostgroup.rawValue), user: applicationAccount)! }
    }

    /// A load configuration whose clients are spread over every node's writer port (client `i` on node
    /// `i % nodes`), as an application with one ProxySQL per host would be.
    public func fleetLoadConfiguration(
        clients: Int,
        workload: WriteLoadWorkload = .clientKeys
    ) -> WriteLoad.Configuration {
        var configuration = WriteLoad.Configuration(endpoint: writerEndpoint, clients: clients, workload: workload)
        configuration.additionalEndpoints = Array(writerEndpoints.dropFirst())
        return configuration
    }

    /// Starts `count` emulators with `configuration` in parallel; on a failure stops those that started.
    static func startEmulators(
        count: Int,
        configuration: ProxySQLEmulator.Configuration,
        logger: Logger
    ) async throws -> [ProxySQLEmulator] {
        guard (1...maximumProxyNodes).contains(count) else {
            throw ProxySQLEmulatorError(
                code: .invalidConfiguration,
                message: "proxy nodes must be in 1...\(maximumProxyNodes), not \(count)"
            )
        }
        // Each child stores its own result; the group returns nothing. The earlier form (child tasks returning
        // `(Int, Result<ProxySQLEmulator, any Error>)`, collected in the group's body) trapped in every release
        // build of the benchmark with Swift 6.3.1 (an index read back from the child's result outside `0..<count`:
        // "index out of range" on the one-element array, before a single emulator ran); debug builds were fine.
        let collected = StartedSlots<ProxySQLEmulator>(count: count)
        await withDiscardingTaskGroup { group in
            for index in 0..<count {
                group.addTask {
                    do {
                        collected.store(try await ProxySQLEmulator.start(configuration: configuration, logger: logger), at: index)
                    } catch {
                        collected.fail(error)
                    }
                }
            }
        }
        let started = collected.values
        let failure = collected.failure
        if let failure {
            await stopEmulators(started.compactMap { $0 })
            throw failure
        }
        return started.map { $0! }
    }

    /// Stops every emulator, in parallel.
    static func stopEmulators(_ emulators: [ProxySQLEmulator]) async {
        await withDiscardingTaskGroup { group in
            for emulator in emulators { group.addTask { await emulator.stop() } }
        }
    }

    /// Writes the topology's four rows to every node (source ONLINE, "Aurora" OFFLINE_HARD), loads and saves them, then
    /// installs the read/write split's query rules (``installReadWriteSplit(on:logger:)``).
    static func configureServerRows(
        on emulators: [ProxySQLEmulator],
        topology: CutoverTopology,
        logger: Logger
    ) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for emulator in emulators {
                group.addTask {
                    let admin = try await ProxySQLAdminClient.connect(configuration: emulator.adminConfiguration, logger: logger)
                    do {
                        for (key, status, comment) in [
                            (topology.source.writer, BackendStatus.online, "source-writer"),
                            (topology.source.reader!, .online, "source-reader"),
                            (topology.target.writer, .offlineHard, "aurora-writer"),
                            (topology.target.reader!, .offlineHard, "aurora-reader"),
                        ] {
                            try await admin.addServer(
                                BackendServer(hostgroup: key.hostgroup, endpoint: key.endpoint, status: status, comment: comment),
                                logger: logger
                            )
                        }
                        try await admin.loadServersToRuntime(logger: logger)
                        try await admin.saveServersToDisk(logger: logger)
                    } catch {
                        await admin.close()
                        throw error
                    }
                    await admin.close()
                    try await installReadWriteSplit(on: emulator, logger: logger)
                }
            }
        }
    }

    /// One reconnecting admin session per node, opened in parallel, in node order.
    func connectAdmins(logger: Logger) async throws -> [ReconnectingSQLSession] {
        // As in `startEmulators`: each child stores its own result (the release-build trap).
        let collected = StartedSlots<ReconnectingSQLSession>(count: emulators.count)
        await withDiscardingTaskGroup { group in
            for (index, emulator) in emulators.enumerated() {
                group.addTask {
                    do {
                        collected.store(
                            try await ReconnectingSQLSession.connect(configuration: emulator.adminConfiguration, logger: logger),
                            at: index)
                    } catch {
                        collected.fail(error)
                    }
                }
            }
        }
        let sessions = collected.values
        let failure = collected.failure
        if let failure {
            for session in sessions.compactMap({ $0 }) { await session.close() }
            throw failure
        }
        return sessions.map { $0! }
    }
}

/// Results of parallel starts, stored by each child task at its own index, and the first failure.
private final class StartedSlots<Value: Sendable>: Sendable {
    private let slots: Mutex<[Value?]>
    private let firstFailure = Mutex<(any Error)?>(nil)

    init(count: Int) { slots = Mutex([Value?](repeating: nil, count: count)) }

    func store(_ value: Value, at index: Int) { slots.withLock { $0[index] = value } }
    func fail(_ error: any Error) { firstFailure.withLock { $0 = $0 ?? error } }

    var values: [Value?] { slots.withLock { $0 } }
    var failure: (any Error)? { firstFailure.withLock { $0 } }
}
