import Cutover
import Foundation
import MariaDB
import Synchronization

/// Whether the long fault variants run (`LONG_TESTS=1`).
enum LongTests {
    static var enabled: Bool { ProcessInfo.processInfo.environment["LONG_TESTS"] == "1" }
}

/// A step of a writer (or reader) operation, named like the state machine's steps, recognised from the action the
/// runner hands to the executor. Rollback actions are not matched (they are recognised separately).
enum FaultPoint: String, CaseIterable, Sendable, CustomStringConvertible {
    case guards
    case prepareProxy
    case offlineSoftOld
    case drain
    case offlineHardOld
    case closeSessions
    case fence
    case readFinalPosition
    case catchUp
    case readNewWriterPosition
    case unfenceNew
    case onlineNew
    case stopForwardReplication
    /// The fence proof: the old writer's position read again (its second `readPosition`).
    case proveFenceOld
    case startReverseReplication
    case verifyReverseReplication
    case confirmFenceOld
    case persistUnfenceNew
    case restoreProxy
    case saveConfiguration

    var description: String { rawValue }

    /// Whether `action` performs this step of `operation`.
    func matches(_ action: CutoverAction, operation: CutoverOperation) -> Bool {
        let old = operation.from
        let new = operation.to
        switch (self, action) {
        case (.guards, .runGuards): return true
        case (.prepareProxy, .prepareProxy): return true
        case (.offlineSoftOld, .setStatus(let server, .offlineSoft)): return server.role == old
        case (.drain, .pollDrain): return true
        case (.offlineHardOld, .setStatus(let server, .offlineHard)): return server.role == old
        case (.closeSessions, .closeSessions): return true
        case (.fence, .fence(let role, _)): return role == old
        case (.confirmFenceOld, .persistReadOnly(let role, true)): return role == old
        case (.persistUnfenceNew, .persistReadOnly(let role, false)): return role == new
        case (.readFinalPosition, .readPosition(let role)): return role == old
        case (.catchUp, .waitForCatchUp): return true
        case (.readNewWriterPosition, .readPosition(let role)): return role == new
        case (.unfenceNew, .liftFence(let role)): return role == new
        case (.onlineNew, .setStatus(let server, .online)): return server.role == new
        case (.stopForwardReplication, .stopReplication): return true
        case (.proveFenceOld, .proveFenceHeld(let role, _)): return role == old
        case (.startReverseReplication, .startReplication): return true
        case (.verifyReverseReplication, .verifyReplication): return true
        case (.restoreProxy, .restoreProxySettings): return true
        case (.saveConfiguration, .saveProxyConfiguration): return true
        default: return false
        }
    }

    /// The steps of a writer cut-over with the default policy, in order.
    static let writerCutoverSteps: [FaultPoint] = [
        .guards, .prepareProxy, .offlineSoftOld, .drain, .offlineHardOld, .closeSessions, .fence, .readFinalPosition,
        .catchUp, .readNewWriterPosition, .onlineNew, .stopForwardReplication, .proveFenceOld, .startReverseReplication,
        .verifyReverseReplication, .confirmFenceOld, .restoreProxy, .saveConfiguration,
    ]

    /// The steps of a reader switch, in order (`onlineNew` is the new reader's ONLINE).
    static let readerSwitchSteps: [FaultPoint] = [
        .guards, .onlineNew, .offlineSoftOld, .drain, .offlineHardOld, .saveConfiguration,
    ]

    /// Which matching action is this step's (each step's action is its own).
    var occurrence: Int { 1 }
}

/// A fault to inject right before or right after a step's action.
struct Injection: Sendable {
    enum Moment: String, Sendable { case before, after }

    var point: FaultPoint
    var moment: Moment
    var name: String
    var fault: @Sendable () async throws -> Void

    static func before(_ point: FaultPoint, _ name: String, _ fault: @escaping @Sendable () async throws -> Void)
        -> Injection
    {
        Injection(point: point, moment: .before, name: name, fault: fault)
    }

    static func after(_ point: FaultPoint, _ name: String, _ fault: @escaping @Sendable () async throws -> Void)
        -> Injection
    {
        Injection(point: point, moment: .after, name: name, fault: fault)
    }
}

/// One action as the executor performed it.
struct PerformedAction: Sendable {
    var action: CutoverAction
    var started: ContinuousClock.Instant
    var duration: Duration
    var event: CutoverEvent
}

/// Wraps an executor: runs each injection (once) right before or after the first action of its step, and records
/// what every action did and how long it took.
final class FaultInjectingExecutor: CutoverExecutor {
    let base: any CutoverExecutor
    let operation: CutoverOperation
    let injections: [Injection]
    private let state = Mutex<
        (fired: Set<Int>, matches: [Int: Int], performed: [PerformedAction], faultErrors: [String])
    >(([], [:], [], []))

    init(base: any CutoverExecutor, operation: CutoverOperation, injections: [Injection]) {
        self.base = base
        self.operation = operation
        self.injections = injections
    }

    var performed: [PerformedAction] { state.withLock { $0.performed } }
    /// Injections that threw (a broken test, not a finding).
    var faultErrors: [String] { state.withLock { $0.faultErrors } }
    /// Names of the injections that ran.
    var firedInjections: [String] { state.withLock { state in state.fired.sorted().map { injections[$0].name } } }

    func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult {
        await inject(.before, action)
        let started = ContinuousClock.now
        let result = await base.perform(action, context: context)
        let duration = started.duration(to: .now)
        state.withLock {
            $0.performed.append(
                PerformedAction(action: action, started: started, duration: duration, event: result.event))
        }
        await inject(.after, action)
        return result
    }

    private func inject(_ moment: Injection.Moment, _ action: CutoverAction) async {
        for (index, injection) in injections.enumerated()
        where injection.moment == moment && injection.point.matches(action, operation: operation) {
            let fire = state.withLock { state in
                state.matches[index, default: 0] += 1
                return state.matches[index] == injection.point.occurrence && state.fired.insert(index).inserted
            }
            guard fire else { continue }
            do {
                try await injection.fault()
            } catch {
                state.withLock { $0.faultErrors.append("\(injection.name): \(error)") }
            }
        }
    }
}

/// Samples `runtime_mysql_servers` on every ProxySQL node every few milliseconds while a body runs, and records
/// every sample with more than one ONLINE server in the writer hostgroup, every sample without an ONLINE server in
/// the reader hostgroup, and which writers each node routed to.
final class RoutingSampler: Sendable {
    struct Violation: Sendable, CustomStringConvertible {
        var node: String
        var at: ContinuousClock.Instant
        var writers: [String]
        var description: String { "\(node): \(writers.joined(separator: ", ")) ONLINE together" }
    }

    /// A sample of a node that routed reads nowhere.
    struct ReaderGap: Sendable, CustomStringConvertible {
        var node: String
        var at: ContinuousClock.Instant
        var description: String { "\(node): no ONLINE reader" }
    }

    struct Summary: Sendable {
        var samples: [String: Int]
        var violations: [Violation]
        var readerGaps: [ReaderGap]
        /// Per node, every distinct list of ONLINE writers seen (`host:port` joined by commas).
        var writerSets: [String: Set<String>]
        var totalSamples: Int { samples.values.reduce(0, +) }
    }

    private struct State: Sendable {
        var samples: [String: Int] = [:]
        var violations: [Violation] = []
        var readerGaps: [ReaderGap] = []
        var writerSets: [String: Set<String>] = [:]
    }

    let nodes: [(name: String, configuration: MariaDBConnection.Configuration)]
    let writerHostgroup: Int
    let readerHostgroup: Int
    let interval: Duration
    private let state = Mutex(State())

    init(
        nodes: [(name: String, configuration: MariaDBConnection.Configuration)], writerHostgroup: Int = 10,
        readerHostgroup: Int = 11, interval: Duration = .milliseconds(3)
    ) {
        self.nodes = nodes
        self.writerHostgroup = writerHostgroup
        self.readerHostgroup = readerHostgroup
        self.interval = interval
    }

    var summary: Summary {
        state.withLock {
            Summary(
                samples: $0.samples, violations: $0.violations, readerGaps: $0.readerGaps, writerSets: $0.writerSets)
        }
    }

    /// Runs `body` while sampling every node.
    func sampling<R: Sendable>(_ body: () async throws -> R) async throws -> R {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes {
                group.addTask { await self.loop(node.name, node.configuration) }
            }
            // Every node sampled once before the body starts (bounded).
            let ready = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < ready,
                state.withLock({ state in nodes.contains { state.samples[$0.name, default: 0] == 0 } })
            {
                try await Task.sleep(for: .milliseconds(2))
            }
            do {
                let result = try await body()
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    private func loop(_ name: String, _ configuration: MariaDBConnection.Configuration) async {
        var connection: MariaDBConnection?
        let statement: SQLStatement = """
            SELECT hostgroup_id, hostname, port, status FROM runtime_mysql_servers \
            WHERE hostgroup_id IN (\(writerHostgroup), \(readerHostgroup)) AND status IN ('ONLINE', 'SHUNNED')
            """
        while !Task.isCancelled {
            if connection == nil {
                var configuration = configuration
                configuration.connectTimeout = .seconds(1)
                connection = try? await MariaDBConnection.connect(configuration: configuration)
                if connection == nil {
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
            }
            do {
                let rows = try await connection!.query(statement, timeout: .seconds(2))
                let at = ContinuousClock.now
                // A SHUNNED writer is still a writer: ProxySQL routes to it again once it recovers (#14 item 7).
                let writers = rows.filter { $0[0].string == "\(writerHostgroup)" }
                    .map { "\($0[1].string ?? "?"):\($0[2].string ?? "?")" }
                let readers = rows.filter { $0[0].string == "\(readerHostgroup)" && $0[3].string == "ONLINE" }.count
                state.withLock { state in
                    state.samples[name, default: 0] += 1
                    state.writerSets[name, default: []].insert(writers.joined(separator: ","))
                    if writers.count > 1 {
                        state.violations.append(Violation(node: name, at: at, writers: writers))
                    }
                    if readers == 0 { state.readerGaps.append(ReaderGap(node: name, at: at)) }
                }
            } catch {
                await connection?.close()
                connection = nil
            }
            try? await Task.sleep(for: interval)
        }
        await connection?.close()
    }
}
