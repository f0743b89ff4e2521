@_spi(Testing) import CutoverSandbox
import Logging
import MariaDB
import Testing

/// Gives a whole suite one sandbox: started before the suite's first test, stopped after its last one (also when
/// tests fail), and reachable from every test of the suite through ``SuiteSandbox/current``.
///
/// ```swift
/// @Suite(.integration, .mariaDBSandbox(servers: 2))
/// struct SomeTests {
///     @Test func something() async throws {
///         let sandbox = try SuiteSandbox.require()
///     }
/// }
/// ```
struct SuiteSandboxTrait: SuiteTrait, TestScoping {
    var servers: Int
    var options: MariaDBSandbox.Options

    var isRecursive: Bool { false }

    @concurrent
    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @concurrent @Sendable () async throws -> Void
    ) async throws {
        // Without mariadbd the `.integration` condition skips the tests; with REQUIRE_INTEGRATION=1 this throws.
        guard try IntegrationGate.skipIfUnavailable() else {
            try await function()
            return
        }
        try await withMariaDBSandbox(servers: servers, options: options, logger: .integrationTests) { sandbox in
            try await SuiteSandbox.$current.withValue(sandbox) {
                try await function()
            }
        }
    }
}

extension Trait where Self == SuiteSandboxTrait {
    /// One sandbox of `servers` servers for the whole suite.
    static func mariaDBSandbox(servers: Int = 1, options: MariaDBSandbox.Options = .init()) -> Self {
        SuiteSandboxTrait(servers: servers, options: options)
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the suite only where `mariadbd` is installed, or when `REQUIRE_INTEGRATION=1` demands it (then a
    /// missing server fails the suite with a message naming the apt package).
    static var integration: Self {
        .enabled(if: IntegrationGate.shouldRun, "needs mariadbd: apt-get install mariadb-server")
    }
}

/// The sandbox of the running suite.
enum SuiteSandbox {
    @TaskLocal static var current: MariaDBSandbox?

    /// The suite's sandbox.
    ///
    /// - Throws: when the suite lacks the ``SuiteSandboxTrait`` (a bug in the test).
    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> MariaDBSandbox {
        try #require(current, "the suite needs the .mariaDBSandbox trait", sourceLocation: sourceLocation)
    }
}

extension Logger {
    /// Integration tests log the sandbox's `info` records (start-up times) to standard error.
    static let integrationTests: Logger = {
        var logger = Logger(label: "integration-tests", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .info
        return logger
    }()
}

extension SandboxServer {
    /// A root connection to a fresh database (utf8mb4, binary collation) of this server whose name starts with
    /// `prefix`, and the database's name. The database goes away with the sandbox.
    func connectToFreshDatabase(prefix: String) async throws -> (MariaDBConnection, String) {
        let connection = try await connectAsRoot()
        let name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        try await connection.run("CREATE DATABASE \(identifier: name) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        try await connection.run("USE \(identifier: name)")
        return (connection, name)
    }
}
