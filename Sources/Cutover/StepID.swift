/// Names one step of a run: a forward step (`offlineSoftOld`) or a step of a rollback (`rollback.onlineOld`).
///
/// The journal, the progress stream and ``CutoverOutcome/stoppedAfterPointOfNoReturn(reason:failures:remainingSteps:)``
/// carry step names as this value, never as bare strings to be matched by prefix. It is encoded as the one string
/// journals have always held (`"rollback.onlineOld"`), so journals written before it read the same.
public struct StepID: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// Whether a step goes forward or undoes earlier steps.
    public enum Phase: Sendable, Hashable {
        /// A step of the operation.
        case forward
        /// A step of a rollback.
        case rollback
    }

    /// Forward or rollback.
    public let phase: Phase
    /// The step's name without its phase (`onlineOld` for `rollback.onlineOld`).
    public let name: String

    /// The text written before the name of a rollback step, read and written only here.
    private static let rollbackPrefix = "rollback."

    /// Creates the identifier of the step `name` in `phase`.
    public init(_ name: String, phase: Phase = .forward) {
        self.name = name
        self.phase = phase
    }

    /// Reads an identifier from its text (`offlineSoftOld`, `rollback.onlineOld`).
    public init(rawValue: String) {
        if rawValue.hasPrefix(Self.rollbackPrefix) {
            self.init(String(rawValue.dropFirst(Self.rollbackPrefix.count)), phase: .rollback)
        } else {
            self.init(rawValue, phase: .forward)
        }
    }

    public init(stringLiteral value: String) { self.init(rawValue: value) }

    /// The text of the identifier, as the journal holds it.
    public var rawValue: String {
        switch phase {
        case .forward: name
        case .rollback: Self.rollbackPrefix + name
        }
    }

    /// Whether this is a step of a rollback.
    public var isRollback: Bool { phase == .rollback }

    /// Whether the machine of this version has such a step (a journal from another version, or an edited one, may
    /// name others).
    public var isKnown: Bool {
        switch phase {
        case .forward: CutoverStateMachine.Step(rawValue: name) != nil
        case .rollback: CutoverStateMachine.RollbackStep(rawValue: name) != nil
        }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension StepID {
    /// The identifier of a forward step of the machine.
    init(_ step: CutoverStateMachine.Step) { self.init(step.rawValue, phase: .forward) }

    /// The identifier of a rollback step of the machine.
    init(_ step: CutoverStateMachine.RollbackStep) { self.init(step.rawValue, phase: .rollback) }
}
