/// The error of the `Cutover` module. ``description`` names the step, the endpoint and a remedy; it never contains
/// a password. Two errors are equal when their codes are equal.
public struct CutoverError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New codes may be added in minor releases.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidPlan, journalLocked, journalUnreadable, journalMismatch, nothingToResume, executorFailed, unfinishedRun
            case unsupportedJournalVersion
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The plan or topology is inconsistent (the message names the field).
        public static let invalidPlan = Code(.invalidPlan)
        /// Another run holds the journal's lock.
        public static let journalLocked = Code(.journalLocked)
        /// The journal cannot be read or written.
        public static let journalUnreadable = Code(.journalUnreadable)
        /// The journal belongs to another topology or operation, or does not replay: an entry does not fit the run
        /// (the journal was edited, cut short, or written by another version).
        public static let journalMismatch = Code(.journalMismatch)
        /// The journal holds a line of a later format version than this library reads.
        public static let unsupportedJournalVersion = Code(.unsupportedJournalVersion)
        /// There is no unfinished run in the journal.
        public static let nothingToResume = Code(.nothingToResume)
        /// A step could not be performed.
        public static let executorFailed = Code(.executorFailed)
        /// A new run was refused because the journal holds an unfinished one (finish it with `resume` first).
        public static let unfinishedRun = Code(.unfinishedRun)

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, naming the step and the endpoint; never a password.
    public var message: String
    /// What the operator can do about it.
    public var remedy: String?
    /// A lower-level error that caused this one.
    public var underlying: (any Error)?
    /// The file of the call that raised the error (`#fileID`).
    public var file: String
    /// The line of the call that raised the error.
    public var line: Int

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        remedy: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.remedy = remedy
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public static func == (lhs: CutoverError, rhs: CutoverError) -> Bool { lhs.code == rhs.code }

    public var description: String {
        "CutoverError.\(code): \(message)" + (remedy.map { " — \($0)" } ?? "")
    }

    public var debugDescription: String {
        description + (underlying.map { "; underlying: \(String(reflecting: $0))" } ?? "") + " [\(file):\(line)]"
    }
}
