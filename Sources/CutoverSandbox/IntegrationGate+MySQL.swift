import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The MySQL half of the integration tests: the suites that take a ``SandboxServerKind`` run their MySQL cases
/// when a ``MySQLDistribution`` is installed (`migrate-cli sandbox install-mysql`), skip them with a message when
/// it is not, and fail instead when `REQUIRE_MYSQL=1` (set by `.ci/run`, which installs it).
///
/// ```swift
/// @Test(arguments: SandboxServerKind.allCases)
/// func something(kind: SandboxServerKind) async throws {
///     guard try IntegrationGate.skipIfUnavailable(kind) else { return }
///     ...
/// }
/// ```
@_spi(Testing) extension IntegrationGate {
    /// The environment variable that turns a missing MySQL into a failure.
    public static let requireMySQLVariable = "REQUIRE_MYSQL"

    /// Whether `REQUIRE_MYSQL=1` is set.
    public static var isMySQLRequired: Bool {
        getenv(requireMySQLVariable).map { String(cString: $0) } == "1"
    }

    private static let mySQLReason = Mutex<String?>(nil)

    /// Why MySQL cases were skipped, once ``skipIfUnavailable(_:)`` returned false for MySQL; nil otherwise.
    public static var mySQLSkipReason: String? { mySQLReason.withLock { $0 } }

    /// Returns true when the servers of `kind` can run; for MariaDB it is ``skipIfUnavailable()``. For MySQL it
    /// returns false (and writes the reason once per process to standard error) when no ``MySQLDistribution`` is
    /// found and `REQUIRE_MYSQL` is not `1`.
    ///
    /// - Throws: ``SandboxError`` (``SandboxError/Code/serverBinariesMissing``) when the servers are missing and
    ///   required.
    public static func skipIfUnavailable(_ kind: SandboxServerKind) throws -> Bool {
        switch kind {
        case .mariadb:
            return try skipIfUnavailable()
        case .mysql:
            do {
                try MariaDBSandbox.requireServerBinaries(kind: .mysql)
                return true
            } catch let error as SandboxError {
                if isMySQLRequired { throw error }
                let reason =
                    "MySQL integration cases skipped: \(error.message) (set \(requireMySQLVariable)=1 to make this a failure)"
                let isFirst = mySQLReason.withLock { recorded in
                    defer { recorded = reason }
                    return recorded == nil
                }
                if isFirst {
                    let line = Array("note: \(reason)\n".utf8)
                    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                }
                return false
            }
        }
    }
}
