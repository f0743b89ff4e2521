/// The error of the sandbox's write load and loss checker.
///
/// ``description`` is safe to log: the code and a short message, never a password or row data.
/// ``debugDescription`` adds the underlying error and the source location. Two errors are equal when their codes
/// are equal.
public struct WriteLoadError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New codes may be added in minor releases.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidConfiguration, connectionFailed, schemaSetupFailed, readBackFailed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A configuration value is unusable (the message says which).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A load client could not open its first connection (the endpoint is unreachable or refuses the account).
        public static let connectionFailed = Code(.connectionFailed)
        /// Creating the test schema, its triggers or the application account failed.
        public static let schemaSetupFailed = Code(.schemaSetupFailed)
        /// Reading the written rows back for the check failed, or they had an unexpected shape.
        public static let readBackFailed = Code(.readBackFailed)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, in a few words.
    public var message: String
    /// The lower-level error (usually a `MariaDBError`).
    public var underlying: (any Error)?
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var line: Int

    /// Creates an error.
    public init(code: Code, message: String, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line)
    {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// Compares the codes only.
    public static func == (lhs: WriteLoadError, rhs: WriteLoadError) -> Bool { lhs.code == rhs.code }

    /// The code and the message.
    public var description: String {
        var text = "WriteLoadError.\(code): \(message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// The description, the underlying error in detail and the source location.
    public var debugDescription: String {
        var text = "WriteLoadError.\(code): \(message)"
        if let underlying { text += "; underlying: \(String(reflecting: underlying))" }
        return text + " [\(file):\(line)]"
    }
}
