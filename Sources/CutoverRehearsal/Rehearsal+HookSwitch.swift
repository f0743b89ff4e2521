public import Cutover
@_spi(Testing) public import CutoverSandbox
import Foundation
public import Logging
import MariaDB
public import Synchronization

/// `rehearse --switch hook` (#15 item 2): the writer switch without ProxySQL practised on the sandbox. The load's
/// clients find the writer through a file the switch command rewrites, re-read it on every reconnect, and reconnect
/// on any error (1290 under the fence, 2013 for a closed session) as a well-behaved application would. Cut-over,
/// failback (the operator's `read_only` on "Aurora", which the tool cannot set), cut-over again; every acknowledged
/// write must be on the final writer.
public enum HookSwitchRehearsal {
    /// One switch of the rehearsal.
    public struct Stage: Sendable {
        public var name: String
        public var outcome: CutoverOutcome
        /// Fence → first write observed on the new writer.
        public var window: Duration?
        public var acknowledged: Int
        /// Client errors by server error number (`1290`, `2013`; `other` for errors without one).
        public var clientErrors: [String: Int]
        public var duration: Duration
    }

    /// The rehearsal's result.
    public struct Result: Sendable {
        public var stages: [Stage]
        /// Acknowledged writes missing on the final writer (ids of `hook_writes`, tokens of `hook_auto`).
        public var lost: [Int64]
        public var acknowledged: Int
        /// The rehearsal stopped before its end (a switch did not complete), and why.
        public var stoppedEarly: String?
        /// Acknowledged AUTO_INCREMENT writes found more than once on the final writer (their tokens).
        public var doubled: [Int64] = []
        /// What a client saw that must not happen (`LAST_INSERT_ID()` naming another client's row).
        public var violations: [String] = []
        /// The shapes the clients had, in order.
        public var shapes: [Shape] = [.plain]
        /// The servers.
        public var serverKind: SandboxServerKind = .mariadb
        public var succeeded: Bool { stoppedEarly == nil && lost.isEmpty && doubled.isEmpty && violations.isEmpty }
    }

    /// How a client of the rehearsal writes (`rehearse --switch hook --workload`).
    public enum Shape: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Client-chosen keys into `hook_writes` (`id` is the acknowledged value).
        case plain
        /// AUTO_INCREMENT inserts into `hook_auto`, each with a unique token (the acknowledged value).
        case autoIncrement = "auto-increment"
        /// As ``autoIncrement``, then `SELECT … WHERE id = LAST_INSERT_ID()` on the same session, which must name
        /// its own token.
        case lastInsertID = "last-insert-id"
        /// A connection that sits idle and writes once a second (a pool that does not re-resolve the writer).
        case idle = "idle-pool"

        public var description: String { rawValue }
    }

    /// The clients' shapes for `workload`, or why the workload has no meaning without a proxy.
    public static func shapes(for workload: RehearsalWorkload) -> Swift.Result<[Shape], RefusedWorkload> {
        switch workload {
        case .plain: .success([.plain])
        case .autoIncrement: .success([.autoIncrement])
        case .lastInsertID: .success([.lastInsertID])
        case .idlePool: .success([.idle])
        case .mix: .success([.plain, .autoIncrement, .lastInsertID, .idle])
        case .pinnedAtConnect:
            .failure(RefusedWorkload(workload: workload, reason: "it exercises ProxySQL's session pinning (a SELECT @@session.… at connect keeps a client on one backend); without a proxy the clients connect to the writer directly, so there is nothing to pin"))
        case .sysbenchInsert, .sysbenchInsertExplicit, .sysbenchWriteOnly:
            .failure(RefusedWorkload(workload: workload, reason: "sysbench connects to one fixed address for its whole run, so it cannot follow what the switch command changes (the rehearsal's clients re-read the writer's address at each reconnect)"))
        }
    }

    /// A workload `rehearse --switch hook` refuses, and why.
    public struct RefusedWorkload: Error, Sendable, CustomStringConvertible {
        public var workload: RehearsalWorkload
        public var reason: String
        public var description: String {
            "--workload \(workload) has no meaning with --switch hook: \(reason). Use plain, auto-increment, last-insert-id, idle-pool or mix"
        }
    }

    /// What the clients did (tests read it too: `@_spi(Testing) import CutoverRehearsal`).
    @_spi(Testing) public final class Ledger: Sendable {
        /// Acknowledged ids of `hook_writes` (``Shape/plain``).
        public let acknowledged = Mutex<[Int64]>([])
        /// Acknowledged tokens of `hook_auto` (the AUTO_INCREMENT shapes).
        public let acknowledgedTokens = Mutex<[Int64]>([])
        public let violations = Mutex<[String]>([])
        public let errors = Mutex<[String: Int]>([:])
        public let stop = Atomic<Bool>(false)

        public init() {}
    }

    static let user = "hookapp"

    /// One well-behaved client: reads the writer's port from `pointer` at each (re)connect, inserts unique ids into
    /// `hook_writes` as the `hookapp` account, and on any error closes, waits 5 ms and reconnects, until the ledger's
    /// stop is set.
    @_spi(Testing) public static func client(
        _ number: Int, shape: Shape = .plain, pointer: String, password: String, database: String, ledger: Ledger
    ) async {
        var sequence: Int64 = 0
        var connection: MariaDBConnection?
        let quiet = Logger(label: "hook-client", factory: { _ in SwiftLogNoOpLogHandler() })
        while !ledger.stop.load(ordering: .relaxed) {
            do {
                if connection == nil {
                    let text = (try? String(contentsOfFile: pointer, encoding: .utf8)) ?? ""
                    guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                        throw CutoverError(code: .executorFailed, message: "pointer file unreadable")
                    }
                    let configuration = MariaDBConnection.Configuration(
                        host: "127.0.0.1", port: port, user: user, password: password, database: database)
                    connection = try await MariaDBConnection.connect(configuration: configuration, logger: quiet)
                }
                sequence += 1
                let id = Int64(number) * 1_000_000_000 + sequence
                switch shape {
                case .plain:
                    try await connection!.run("INSERT INTO hook_writes (id, client) VALUES (\(id), \(number))", timeout: .seconds(10))
                    ledger.acknowledged.withLock { $0.append(id) }
                case .autoIncrement, .lastInsertID, .idle:
                    try await connection!.run("INSERT INTO hook_auto (token, client) VALUES (\(id), \(number))", timeout: .seconds(10))
                    ledger.acknowledgedTokens.withLock { $0.append(id) }
                    if shape == .lastInsertID {
                        let row = try await connection!.queryFirst("SELECT token FROM hook_auto WHERE id = LAST_INSERT_ID()", timeout: .seconds(10))
                        let read = row?["token"]?.int.map(Int64.init)
                        if read != id {
                            ledger.violations.withLock { $0.append("client \(number): LAST_INSERT_ID() named token \(read.map { "\($0)" } ?? "none"), not its own \(id)") }
                        }
                    }
                    if shape == .idle {
                        // Idle for a second, as a pooled connection between requests.
                        for _ in 0..<20 where !ledger.stop.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(50)) }
                    }
                }
            } catch {
                let key = (error as? MariaDBError)?.serverErrorNumber.map { "\($0)" } ?? "other"
                ledger.errors.withLock { $0[key, default: 0] += 1 }
                await connection?.close()
                connection = nil
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        await connection?.close()
    }

    /// Runs the rehearsal on a fresh sandbox (stopped at the end in every path).
    public static func run(
        clients: Int, loadBetween: Duration, workload: RehearsalWorkload = .plain, serverKind: SandboxServerKind = .mariadb,
        logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let shapes = try HookSwitchRehearsal.shapes(for: workload).get()
        return try await withRehearsal(options: Rehearsal.Options(adminLatency: .fast, serverKind: serverKind), logger: logger) { rehearsal in
            let (environment, close) = try await rehearsal.makeEnvironment(logger: logger)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hook-rehearsal-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            do {
                var result = try await body(
                    rehearsal, environment, directory: directory, clients: max(clients, shapes.count), shapes: shapes,
                    loadBetween: loadBetween, logger: logger, progress: progress)
                result.shapes = shapes
                result.serverKind = serverKind
                await close()
                return result
            } catch {
                await close()
                throw error
            }
        }
    }

    private static func body(
        _ rehearsal: Rehearsal, _ environment: CutoverEnvironment, directory: String, clients: Int, shapes: [Shape],
        loadBetween: Duration, logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let database = rehearsal.options.schema.database
        let password = UUID().uuidString
        let source = try await rehearsal.source.connectAsRoot(logger: logger)
        try await source.run("CREATE TABLE \(identifier: database).hook_writes (id BIGINT PRIMARY KEY, client INT NOT NULL)")
        // The AUTO_INCREMENT shapes: the token is not unique, so a row applied twice is seen as such.
        try await source.run("CREATE TABLE \(identifier: database).hook_auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, token BIGINT NOT NULL, client INT NOT NULL, KEY (token))")
        try await source.run("CREATE USER \(unsafeRaw: "'\(user)'@'%'") IDENTIFIED BY \(password)")
        try await source.run("GRANT SELECT, INSERT ON \(identifier: database).* TO \(unsafeRaw: "'\(user)'@'%'")")
        await source.close()
        let pointer = directory + "/writer-port"
        try "\(rehearsal.source.port)".write(toFile: pointer, atomically: true, encoding: .utf8)
        let hook = #"printf '%s' "$MIGRATE_SWITCH_NEW_PORT" > "$POINTER.tmp" && mv "$POINTER.tmp" "$POINTER" && echo "applications pointed at $MIGRATE_SWITCH_NEW_ENDPOINT""#
            .replacingOccurrences(of: "$POINTER", with: pointer)
        var policy = CutoverPolicy()
        policy.catchUpDeadline = .seconds(30)
        let run = HookSwitchRun(
            environment: environment,
            settings: HookSwitch.Settings(cutoverCommand: hook, failbackCommand: hook, commandTimeout: .seconds(30), observeTimeout: .seconds(30)),
            policy: policy)
        let journal = try CutoverJournal(path: directory + "/journal.jsonl")
        defer { Task { await journal.close() } }
        var stages: [Stage] = []
        var acknowledged: [Int64] = []
        var acknowledgedTokens: [Int64] = []
        var violations: [String] = []
        var stoppedEarly: String?
        for (index, direction) in [HookSwitch.Direction.cutover, .failback, .cutover].enumerated() {
            let target = try await rehearsal.target.connectAsRoot(logger: logger)
            // Failback: the tool cannot set read_only on "Aurora" (no SET GLOBAL for its account); the operator does,
            // as in the parameter group, and puts it back before the next cut-over.
            try await target.run(direction == .failback ? "SET GLOBAL read_only = 1" : "SET GLOBAL read_only = 0")
            await target.close()
            let ledger = Ledger()
            let started = ContinuousClock.now
            let result = try await withThrowingTaskGroup(of: HookSwitchRun.Result?.self) { group in
                for number in 0..<clients {
                    group.addTask {
                        await client(
                            index * 1_000 + number + 1, shape: shapes[number % shapes.count], pointer: pointer, password: password,
                            database: database, ledger: ledger)
                        return nil
                    }
                }
                try await Task.sleep(for: loadBetween)
                let result = try await run.run(direction: direction, journal: journal, logger: logger)
                try await Task.sleep(for: loadBetween)
                ledger.stop.store(true, ordering: .relaxed)
                for try await _ in group {}
                return result
            }
            let stage = Stage(
                name: "writer-\(direction)", outcome: result.outcome, window: result.report.window,
                acknowledged: ledger.acknowledged.withLock { $0.count } + ledger.acknowledgedTokens.withLock { $0.count },
                clientErrors: ledger.errors.withLock { $0 }, duration: ContinuousClock.now - started)
            acknowledged += ledger.acknowledged.withLock { $0 }
            acknowledgedTokens += ledger.acknowledgedTokens.withLock { $0 }
            violations += ledger.violations.withLock { $0 }
            stages.append(stage)
            progress("\(stage.name): \(result.outcome == .completed ? "completed" : "\(result.outcome)"), window \(stage.window.map { "\($0)" } ?? "none"), \(stage.acknowledged) write(s) acknowledged, client errors \(stage.clientErrors.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))")
            guard result.outcome == .completed else {
                stoppedEarly = "\(stage.name): \(result.outcome)"
                break
            }
        }
        // The final writer: the source after a failback, "Aurora" after a cut-over.
        let lastCompleted = stages.last { $0.outcome == .completed }
        let finalWriter = lastCompleted?.name == "writer-cutover" ? rehearsal.target : rehearsal.source
        let root = try await finalWriter.connectAsRoot(logger: logger)
        let rows = try await root.query("SELECT id FROM \(identifier: database).hook_writes")
        let tokenRows = try await root.query("SELECT token, COUNT(*) AS n FROM \(identifier: database).hook_auto GROUP BY token")
        await root.close()
        let present = Set(rows.compactMap { $0["id"]?.int.map(Int64.init) })
        var counts: [Int64: Int] = [:]
        for row in tokenRows {
            if let token = row["token"]?.int.map(Int64.init), let count = row["n"]?.int { counts[token] = count }
        }
        let lost = (acknowledged.filter { !present.contains($0) } + acknowledgedTokens.filter { counts[$0] == nil }).sorted()
        let doubled = acknowledgedTokens.filter { (counts[$0] ?? 0) > 1 }.sorted()
        return Result(
            stages: stages, lost: lost, acknowledged: acknowledged.count + acknowledgedTokens.count, stoppedEarly: stoppedEarly,
            doubled: doubled, violations: violations)
    }
}
