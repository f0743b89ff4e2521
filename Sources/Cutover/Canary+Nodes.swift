public import Logging

/// A canary per ProxySQL node (#14 item 9, "per node, optionally"): one heartbeat writer through each node's data
/// port, all writing at once, each summarised on its own, the worst as the headline.
///
/// A fleet's nodes apply a switch one after the other and each has its own pools, waits and shuns, so clients of
/// one node can stall while another's do not; a single canary sees one node only.
///
/// ```swift
/// let (report, canary) = try await Canary.measure(
///     nodes: [.init(name: "proxysql-1", writer: first), .init(name: "proxysql-2", writer: second)]
/// ) { try await runner.run() }
/// print(canary.worstNode, canary.longestGap, canary.nodes.map(\.report.longestGap))
/// ```
extension Canary {
    /// One node's canary writer.
    public struct Node: Sendable {
        /// The ProxySQL node's name (as in the topology).
        public var name: String
        /// Writes through that node's data port.
        public var writer: any CanaryWriting

        /// Creates a node's canary.
        public init(name: String, writer: any CanaryWriting) {
            self.name = name
            self.writer = writer
        }
    }

    /// Runs `body` while every node's writer writes heartbeats (each its own loop, all from the same start), then
    /// summarises each node and combines them (``CanaryReport/init(combining:)``).
    ///
    /// Every writer is prepared before `body` runs (in order; the first failure throws after the ones already
    /// prepared are cleaned up) and cleaned up afterwards, in reverse order, either way. With one node the report
    /// is that node's, without ``CanaryReport/nodes``.
    ///
    /// - Returns: `body`'s result and the combined report.
    public static func measure<Result: Sendable>(
        nodes: [Node],
        options: Options = Options(),
        logger: Logger = Logger(label: "cutover.canary", factory: { _ in SwiftLogNoOpLogHandler() }),
        during body: () async throws -> Result
    ) async throws -> (Result, CanaryReport) {
        precondition(!nodes.isEmpty, "a canary needs at least one node")
        if nodes.count == 1 {
            return try await measure(writer: nodes[0].writer, options: options, logger: logger, during: body)
        }
        var prepared: [Node] = []
        do {
            for node in nodes {
                try await node.writer.prepare()
                prepared.append(node)
            }
        } catch {
            for node in prepared.reversed() { try? await node.writer.cleanUp() }
            throw error
        }
        let clock = ContinuousClock()
        let origin = clock.now
        let stop = CanaryStopFlag()
        let outcome: Swift.Result<Result, any Error>
        let observations: [Int: [Observation]]
        (outcome, observations) = await withTaskGroup(of: (Int, [Observation]).self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask {
                    (index, await heartbeats(writer: node.writer, options: options, origin: origin, clock: clock, stop: stop))
                }
            }
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
            await stop.raise()
            var observations: [Int: [Observation]] = [:]
            for await (index, part) in group { observations[index, default: []] += part }
            return (outcome, observations)
        }
        let end = clock.now - origin
        for node in nodes.reversed() {
            do {
                try await node.writer.cleanUp()
            } catch {
                logger.info("canary clean-up failed", metadata: ["cutover.error": "\(error)", "proxysql.node": "\(node.name)"])
            }
        }
        let reports = nodes.enumerated().map { index, node in
            CanaryNodeReport(node: node.name, report: CanaryReport(observations: observations[index] ?? [], span: .zero...end))
        }
        return (try outcome.get(), CanaryReport(combining: reports))
    }
}

/// What one ProxySQL node's canary saw.
public struct CanaryNodeReport: Sendable, Hashable, Codable {
    /// The node's name.
    public var node: String
    /// Its canary's report.
    public var report: CanaryReport

    /// Creates a node's report.
    public init(node: String, report: CanaryReport) {
        self.node = node
        self.report = report
    }
}

extension CanaryReport {
    /// The headline of a canary per node: the **worst** node's gap (the longest; on a tie the first given), where
    /// it started and which node it was; acknowledged writes and errors summed over the nodes; the slowest write
    /// of any; the first error of the first node that had one, prefixed with its name; the longest span. Each
    /// node's own report is kept in ``nodes``. Pure.
    ///
    /// - Parameter nodes: at least one node's report; with exactly one, that report (with ``nodes`` and
    ///   ``worstNode`` set).
    public init(combining nodes: [CanaryNodeReport]) {
        precondition(!nodes.isEmpty, "a combined canary report needs at least one node")
        var worst = nodes[0]
        for node in nodes.dropFirst() where node.report.longestGap > worst.report.longestGap { worst = node }
        self = worst.report
        acknowledged = nodes.reduce(0) { $0 + $1.report.acknowledged }
        errors = nodes.reduce(0) { $0 + $1.report.errors }
        slowestWrite = nodes.compactMap(\.report.slowestWrite).max()
        firstError = nodes.first { $0.report.firstError != nil }.map { "\($0.node): \($0.report.firstError ?? "")" }
        span = nodes.map(\.report.span).max() ?? worst.report.span
        worstNode = worst.node
        self.nodes = nodes
    }
}
