/// The error of the `CutoverSandbox` module.
///
/// ``description`` holds the code, the message and the tail of the server's error log when there is one (it never
/// holds a password); ``debugDescription`` adds the underlying error and the source location. Two errors are equal
/// when their codes are equal.
public struct SandboxError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New codes may be added in minor releases.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case serverBinariesMissing, invalidOptions, dataDirectoryPreparationFailed, serverStartFailed
            case serverStopFailed, serverNotRunning, fileSystem, processLaunchFailed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `mariadbd` or `mariadb-install-db` is not installed (the message names the apt package).
        public static let serverBinariesMissing = Code(.serverBinariesMissing)
        /// The sandbox options cannot be used (the message says which).
        public static let invalidOptions = Code(.invalidOptions)
        /// `mariadb-install-db` failed or timed out while preparing the template data directory.
        public static let dataDirectoryPreparationFailed = Code(.dataDirectoryPreparationFailed)
        /// A server did not start accepting connections before its deadline, or exited while starting.
        public static let serverStartFailed = Code(.serverStartFailed)
        /// A server did not stop, even after `SIGKILL`.
        public static let serverStopFailed = Code(.serverStopFailed)
        /// The operation needs a running server (or a stopped one, for ``SandboxServer/restart()``'s start).
        public static let serverNotRunning = Code(.serverNotRunning)
        /// A directory or file of the sandbox could not be created, copied or removed.
        public static let fileSystem = Code(.fileSystem)
        /// A process could not be launched.
        public static let processLaunchFailed = Code(.processLaunchFailed)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, in words.
    public var message: String
    /// The sandbox server concerned (`server1`, ...), when there is one.
    public var serverName: String?
    /// The last lines of the server's error log (or of `mariadb-install-db`'s output), when there are some.
    public var logTail: String?
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
        serverName: String? = nil,
        logTail: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.serverName = serverName
        self.logTail = logTail
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public static func == (lhs: SandboxError, rhs: SandboxError) -> Bool { lhs.code == rhs.code }

    public var description: String {
        var text = "SandboxError.\(code)"
        if let serverName { text += " (\(serverName))" }
        text += ": \(message)"
        if let logTail, !logTail.isEmpty { text += "\n--- log tail ---\n\(logTail)\n--- end of log tail ---" }
        return text
    }

    public var debugDescription: String {
        var text = description
        if let underlying { text += "\nunderlying: \(String(reflecting: underlying))" }
        text += " [\(file):\(line)]"
        return text
    }
}
