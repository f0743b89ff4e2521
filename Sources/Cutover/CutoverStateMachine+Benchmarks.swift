/// The state machine's steps alone, for the micro benchmarks (`@_spi(Benchmarks) import Cutover`), which measure
/// them without a runner: the minimum of the internal ``CutoverStateMachine`` they need. Not part of the API.
@_spi(Benchmarks)
public struct BenchmarkedStateMachine: Sendable {
    private var machine = CutoverStateMachine()

    /// Creates a machine; call ``started(operation:policy:)`` first.
    public init() {}

    /// Starts an operation; returns the first action.
    public mutating func started(operation: CutoverOperation, policy: CutoverPolicy) -> CutoverAction {
        machine.started(operation: operation, policy: policy)
    }

    /// Feeds the outcome of the last action; returns the next action.
    public mutating func receive(_ event: CutoverEvent) -> CutoverAction { machine.receive(event) }

    /// The measured phases so far.
    public var timeline: CutoverTimeline { machine.timeline }
}
