/// An error of the ProxySQL emulator (start-up and configuration; statements get MySQL error packets instead).
public struct ProxySQLEmulatorError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New codes may be added in minor releases.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidConfiguration, bindFailed, storage
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The configuration cannot work (the message says why).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A listening port could not be opened.
        public static let bindFailed = Code(.bindFailed)
        /// The admin database (SQLite) or its directory could not be set up.
        public static let storage = Code(.storage)

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed.
    public var message: String
    /// A lower-level error that caused this one.
    public var underlying: (any Error)?
    /// The file of the call that raised the error (`#fileID`).
    public var file: String
    /// The line of the call that raised the error.
    public var line: Int

    /// Creates an error.
    public init(code: Code, message: String, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public static func == (lhs: ProxySQLEmulatorError, rhs: ProxySQLEmulatorError) -> Bool { lhs.code == rhs.code }

    public var description: String { "ProxySQLEmulatorError.\(code): \(message)" }

    public var debugDescription: String {
        var text = description
        if let underlying { text += "; underlying: \(String(reflecting: underlying))" }
        return text + " [\(file):\(line)]"
    }
}
