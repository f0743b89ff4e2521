import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decides whether integration tests that need real MariaDB servers run on this machine.
///
/// They run when `mariadbd` is installed. When it is not, they are skipped with a message naming the apt
/// package, unless the environment sets `REQUIRE_INTEGRATION=1` (as CI does), which turns the skip into a failure
/// so that a run can never pass on zero integration tests.
///
/// ```swift
/// @Suite(.enabled(if: IntegrationGate.shouldRun, "needs mariadbd (apt-get install mariadb-server)"))
/// struct MyIntegrationTests {
///     @Test func something() async throws {
///         guard try IntegrationGate.skipIfUnavailable() else { return }
///         ...
///     }
/// }
/// ```
@_spi(Testing) public enum IntegrationGate {
    /// The environment variable that turns a missing server into a failure.
    public static let requireVariable = "REQUIRE_INTEGRATION"

    /// Whether `REQUIRE_INTEGRATION=1` is set.
    public static var isRequired: Bool {
        getenv(requireVariable).map { String(cString: $0) } == "1"
    }

    /// Whether the server binaries are installed.
    public static var serverBinariesAvailable: Bool {
        (try? MariaDBSandbox.requireServerBinaries()) != nil
    }

    /// Whether integration tests should run: the binaries are there, or they are required (then the tests run and
    /// fail with a ``SandboxError`` naming the apt package). For Swift Testing's `.enabled(if:)` trait.
    public static var shouldRun: Bool { isRequired || serverBinariesAvailable }

    /// Why integration tests were skipped, once ``skipIfUnavailable()`` returned false; nil otherwise.
    public static var skipReason: String? { recordedReason.withLock { $0 } }

    private static let recordedReason = Mutex<String?>(nil)

    /// Returns true when the integration tests can run; returns false, and records why, when `mariadbd` is
    /// missing and `REQUIRE_INTEGRATION` is not `1`.
    ///
    /// The reason is written once per process to standard error and kept in ``skipReason``.
    ///
    /// - Throws: ``SandboxError`` (``SandboxError/Code/serverBinariesMissing``) when the binaries are missing and
    ///   `REQUIRE_INTEGRATION=1`.
    public static func skipIfUnavailable() throws -> Bool {
        do {
            try MariaDBSandbox.requireServerBinaries()
            return true
        } catch let error as SandboxError {
            if isRequired { throw error }
            let reason = "integration tests skipped: \(error.message) (set \(requireVariable)=1 to make this a failure)"
            let isFirst = recordedReason.withLock { recorded in
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
