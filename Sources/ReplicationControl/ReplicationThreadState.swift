/// The state of a replica's IO (receiver) or SQL (applier) thread.
public enum ReplicationThreadState: String, Sendable, Hashable, CaseIterable, CustomStringConvertible, Codable {
    /// The thread runs (`Yes`).
    case running
    /// The thread is stopped (`No`), by request or by an error.
    case stopped
    /// The IO thread is started but not connected to the source yet, or reconnecting (`Connecting`, and MariaDB's
    /// transient `Preparing` while the thread initialises).
    case connecting
    /// The replica has no source configured (an empty replica status).
    case notConfigured

    /// Reads the text of a `*_IO_Running` / `*_SQL_Running` column: `Yes`, `No`, `Connecting` or `Preparing`
    /// (any case).
    ///
    /// - Returns: nil for any other text.
    public init?(statusText text: some StringProtocol) {
        switch text.lowercased() {
        case "yes": self = .running
        case "no": self = .stopped
        case "connecting", "preparing": self = .connecting
        default: return nil
        }
    }

    public var description: String { rawValue }
}
