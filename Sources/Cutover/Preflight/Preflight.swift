import Foundation
public import Logging
public import ProxySQLAdmin
public import ReplicationControl

/// Read-only checks that a writer (or reader) cut-over from the source to the target can start, each reported
/// as pass / warn / fail with a remedy (see `Documentation/adr/0004-preflight.md` for the list and the choices).
///
/// ```swift
/// let preflight = Preflight(
///     topology: topology, policy: policy,
///     source: ServerInspector(session: sourceConnection, name: "source"),
///     target: ServerInspector(session: targetConnection, name: "target"),
///     targetDatabase: targetDatabase,            // replication health into the target
///     proxies: ProxySQLCluster(nodes: [admin1, admin2], nodeDeadline: .seconds(2))
/// )
/// let report = await preflight.run(logger: logger)
/// if !report.canProceed { print(report) }
/// ```
///
/// Checks run one after the other; each is independent (one that fails or throws does not stop the others: a
/// thrown error becomes a `fail` with the error's text and the check's remedy) and bounded by
/// ``Options/checkTimeout``. Nothing is changed anywhere: the source and target get `SELECT`, `SHOW` and
/// `CALL mysql.rds_show_configuration`; ProxySQL nodes get `SELECT`s.
public struct Preflight: Sendable {
    /// Knobs of a preflight.
    public struct Options: Sendable, Hashable, Codable {
        /// Bound on each check. A check past it is a `fail` ("did not finish within ..."). A check that ignores
        /// cancellation delays the report until it returns, but is still reported as timed out.
        public var checkTimeout: Duration
        /// Monitor log rows older than this do not count as proof that a ProxySQL node reaches the target.
        public var monitorLogMaxAge: Duration
        /// How many rows of each monitor log are read per node and endpoint.
        public var monitorLogRows: Int
        /// The target's binary-log retention (`binlog retention hours`, or its expiry) below this fails (reverse
        /// replication must find the binlogs it needs after a pause).
        public var minimumBinlogRetentionHours: Int

        /// Creates options.
        public init(
            checkTimeout: Duration = .seconds(10),
            monitorLogMaxAge: Duration = .seconds(300),
            monitorLogRows: Int = 5,
            minimumBinlogRetentionHours: Int = 24
        ) {
            self.checkTimeout = checkTimeout
            self.monitorLogMaxAge = monitorLogMaxAge
            self.monitorLogRows = monitorLogRows
            self.minimumBinlogRetentionHours = minimumBinlogRetentionHours
        }
    }

    /// Which rows and accounts are whose.
    public let topology: CutoverTopology
    /// The run's knobs: the lag budget and the long-transaction limit are checked here.
    public let policy: CutoverPolicy
    /// The source database (the current writer).
    public let source: any ServerInspecting
    /// The target database (Aurora's writer endpoint).
    public let target: any ServerInspecting
    /// The target as the cut-over sees it: its replication health from the source.
    public let targetDatabase: any CutoverDatabase
    /// Every ProxySQL node; each admin statement is bounded by the policy's ``CutoverPolicy/adminStatementTimeout``,
    /// and each node's work by the cluster's `nodeDeadline`.
    public let proxies: ProxySQLCluster
    /// Timeouts and thresholds of the checks.
    public let options: Options
    /// How `reverse-replication.login` logs in with the reverse-replication account; nil: not probed (a warning).
    public var replicationLogin: ReplicationLogin?
    let sleep: @Sendable (Duration) async throws -> Void
    /// Wall-clock time in microseconds since the Unix epoch, to judge the age of monitor log rows (written with
    /// the ProxySQL node's clock).
    let wallClockMicroseconds: @Sendable () -> UInt64

    /// Creates a preflight whose timeouts run on the continuous clock.
    public init(
        topology: CutoverTopology,
        policy: CutoverPolicy,
        source: any ServerInspecting,
        target: any ServerInspecting,
        targetDatabase: any CutoverDatabase,
        proxies: ProxySQLCluster,
        options: Options = Options()
    ) {
        self.init(
            topology: topology, policy: policy, source: source, target: target, targetDatabase: targetDatabase,
            proxies: proxies, options: options, clock: ContinuousClock(),
            wallClockMicroseconds: { UInt64(max(0, Date().timeIntervalSince1970 * 1_000_000)) }
        )
    }

    /// Creates a preflight whose timeouts run on `clock` and which reads the wall clock with
    /// `wallClockMicroseconds` (tests pass fixed values).
    public init<C: Clock>(
        topology: CutoverTopology,
        policy: CutoverPolicy,
        source: any ServerInspecting,
        target: any ServerInspecting,
        targetDatabase: any CutoverDatabase,
        proxies: ProxySQLCluster,
        options: Options = Options(),
        clock: C,
        wallClockMicroseconds: @escaping @Sendable () -> UInt64
    ) where C.Duration == Duration {
        self.topology = topology
        self.policy = policy
        self.source = source
        self.target = target
        self.targetDatabase = targetDatabase
        self.proxies = proxies.boundingEachStatement(by: policy.adminStatementTimeout)
        self.options = options
        self.sleep = { try await clock.sleep(for: $0) }
        self.wallClockMicroseconds = wallClockMicroseconds
    }

    /// Runs every check and reports.
    public func run(logger: Logger) async -> PreflightReport {
        let facts = Facts()
        var results: [PreflightCheck] = []
        for definition in Self.definitions {
            var checkLogger = logger
            checkLogger[metadataKey: "cutover.preflight_check"] = "\(definition.id)"
            let result = await run(definition, facts: facts, logger: checkLogger)
            checkLogger.debug("preflight check finished", metadata: ["cutover.preflight_status": "\(result.status)"])
            results.append(result)
        }
        return PreflightReport(checks: results)
    }

    /// The identifiers of the checks, in the order they run.
    public static var checkIDs: [String] { definitions.map(\.id) }

    /// One check: its body, bounded by the timeout; a throw or a timeout becomes a `fail`.
    func run(_ definition: Definition, facts: Facts, logger: Logger) async -> PreflightCheck {
        let timeout = options.checkTimeout
        let sleep = sleep
        let body = definition.body
        let outcome: Outcome = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    return try await body(self, facts, logger)
                } catch {
                    return .fail("the check could not run: \(error)", remedy: definition.remedyOnError(self))
                }
            }
            group.addTask {
                do {
                    try await sleep(timeout)
                } catch {
                    return nil  // cancelled: the check finished first
                }
                return .fail(
                    "the check did not finish within \(timeout)",
                    remedy: definition.remedyOnError(self)
                )
            }
            var outcome: Outcome?
            while outcome == nil, let next = await group.next() {
                outcome = next
            }
            group.cancelAll()
            return outcome ?? .fail("the check was cancelled", remedy: definition.remedyOnError(self))
        }
        return PreflightCheck(
            id: definition.id,
            title: definition.title,
            status: outcome.status,
            detail: outcome.detail,
            remedy: outcome.status == .pass ? nil : outcome.remedy
        )
    }

    // MARK: Building blocks

    /// A check's definition: identifier, title, body, and the remedy when it cannot run.
    struct Definition: Sendable {
        var id: String
        var title: String
        var remedyOnError: @Sendable (Preflight) -> String
        var body: @Sendable (Preflight, Facts, Logger) async throws -> Outcome
    }

    /// What a check found.
    struct Outcome: Sendable {
        var status: PreflightCheck.Status
        var detail: String
        var remedy: String?

        static func pass(_ detail: String) -> Outcome { Outcome(status: .pass, detail: detail) }
        static func warn(_ detail: String, remedy: String) -> Outcome {
            Outcome(status: .warn, detail: detail, remedy: remedy)
        }
        static func fail(_ detail: String, remedy: String) -> Outcome {
            Outcome(status: .fail, detail: detail, remedy: remedy)
        }
    }

    /// Several findings of one check (one per node, per schema, ...), combined into one outcome: the worst status,
    /// every finding's text, and the remedies of the findings that are not a pass.
    struct Findings {
        private var items: [(status: PreflightCheck.Status, text: String, remedy: String?)] = []

        mutating func pass(_ text: String) { items.append((.pass, text, nil)) }
        mutating func warn(_ text: String, remedy: String) { items.append((.warn, text, remedy)) }
        mutating func fail(_ text: String, remedy: String) { items.append((.fail, text, remedy)) }

        var isEmpty: Bool { items.isEmpty }

        func outcome(ifEmpty empty: Outcome) -> Outcome {
            guard !items.isEmpty else { return empty }
            let status = items.map(\.status).max() ?? .pass
            // The worst findings first, then the others, each group in the order found.
            let ordered = items.enumerated().sorted { lhs, rhs in
                lhs.element.status != rhs.element.status
                    ? lhs.element.status > rhs.element.status : lhs.offset < rhs.offset
            }.map(\.element)
            var remedies: [String] = []
            for item in ordered where item.status != .pass {
                if let remedy = item.remedy, !remedies.contains(remedy) { remedies.append(remedy) }
            }
            return Outcome(
                status: status,
                detail: ordered.map(\.text).joined(separator: "\n"),
                remedy: remedies.isEmpty ? nil : remedies.joined(separator: "\n")
            )
        }
    }

    /// Values read once per run and shared by the checks that need them (the identity of a server, its binlog
    /// settings, ...). Failures are not kept: the next check that needs the value asks again.
    actor Facts {
        private var values: [String: any Sendable] = [:]

        func value<T: Sendable>(_ key: String, _ fetch: @Sendable () async throws -> T) async throws -> T {
            if let cached = values[key] as? T { return cached }
            let value = try await fetch()
            values[key] = value
            return value
        }
    }
}

extension Preflight.Definition {
    /// A check whose body is one of the preflight's checks reading through the logger alone.
    init(
        id: String,
        title: String,
        remedyOnError: @escaping @Sendable (Preflight) -> String,
        check: @escaping @Sendable (Preflight) -> (Logger) async throws -> Preflight.Outcome
    ) {
        self.init(id: id, title: title, remedyOnError: remedyOnError) { preflight, _, logger in
            try await check(preflight)(logger)
        }
    }

    /// A check whose body is one of the preflight's checks using the run's shared facts.
    init(
        id: String,
        title: String,
        remedyOnError: @escaping @Sendable (Preflight) -> String,
        check: @escaping @Sendable (Preflight) -> (Preflight.Facts, Logger) async throws -> Preflight.Outcome
    ) {
        self.init(id: id, title: title, remedyOnError: remedyOnError) { preflight, facts, logger in
            try await check(preflight)(facts, logger)
        }
    }
}
