/// The outcome of one operation on every node of a ``ProxySQLCluster``: a success or a failure per node,
/// in the cluster's node order.
public struct ClusterResult<Value: Sendable>: Sendable {
    /// What happened on one node.
    public struct NodeOutcome: Sendable {
        /// The node's name (``ProxySQLAdministering/nodeName``).
        public var node: String
        /// The node's value, or why it failed (``ProxySQLAdminError/Code/deadlineExceeded`` when the node's
        /// deadline passed).
        public var result: Result<Value, ProxySQLAdminError>

        /// Creates an outcome.
        public init(node: String, result: Result<Value, ProxySQLAdminError>) {
            self.node = node
            self.result = result
        }

        /// The value, or nil when the node failed.
        public var value: Value? {
            if case .success(let value) = result { value } else { nil }
        }

        /// The error, or nil when the node succeeded.
        public var error: ProxySQLAdminError? {
            if case .failure(let error) = result { error } else { nil }
        }
    }

    /// One outcome per node, in node order.
    public var outcomes: [NodeOutcome]

    /// Creates a result.
    public init(outcomes: [NodeOutcome]) {
        self.outcomes = outcomes
    }

    /// The nodes that succeeded, with their values.
    public var successes: [(node: String, value: Value)] {
        outcomes.compactMap { outcome in outcome.value.map { (outcome.node, $0) } }
    }

    /// The nodes that failed, with their errors.
    public var failures: [(node: String, error: ProxySQLAdminError)] {
        outcomes.compactMap { outcome in outcome.error.map { (outcome.node, $0) } }
    }

    /// The names of the nodes that succeeded.
    public var succeededNodes: [String] { successes.map(\.node) }

    /// The names of the nodes that failed.
    public var failedNodes: [String] { failures.map(\.node) }

    /// Whether every node succeeded (true for a cluster of no nodes).
    public var isCompleteSuccess: Bool { outcomes.allSatisfy { $0.error == nil } }

    /// The outcome of the node called `node`, or nil.
    public subscript(node node: String) -> NodeOutcome? {
        outcomes.first { $0.node == node }
    }

    /// Every node's value, in node order.
    ///
    /// - Throws: ``ProxySQLAdminError/Code/partialFailure`` naming the failed nodes (the first failure as
    ///   ``ProxySQLAdminError/underlying``) when any node failed.
    public func get(file: String = #fileID, line: Int = #line) throws -> [Value] {
        let failures = failures
        guard failures.isEmpty else {
            let summary = failures.map { "\($0.node): \($0.error.code)" }.joined(separator: ", ")
            throw ProxySQLAdminError(
                code: .partialFailure,
                message: "\(failures.count) of \(outcomes.count) node(s) failed (\(summary))",
                detail: failures.map { "\($0.node): \(String(reflecting: $0.error))" }.joined(separator: "\n"),
                runtimeDifferences: failures.flatMap(\.error.runtimeDifferences),
                failedNodes: failures.map(\.node),
                underlying: failures.first?.error,
                file: file,
                line: line
            )
        }
        return outcomes.compactMap(\.value)
    }
}
