import CutoverSandbox
import Foundation
import MariaDB
import Testing

/// Helpers shared by the emulator tests.
enum EmulatorTestSupport {
    static let adminPassword = "admin-\(UInt32.random(in: 1000...9999))"
    static let appUser = ProxySQLEmulator.Configuration.User(username: "app", password: "app-secret-\(UInt32.random(in: 1000...9999))")

    static func configuration(
        dataDirectory: String? = nil,
        users: [ProxySQLEmulator.Configuration.User] = [appUser],
        variables: [String: String] = [:]
    ) -> ProxySQLEmulator.Configuration {
        var configuration = ProxySQLEmulator.Configuration(
            adminPassword: adminPassword,
            frontendUsers: users,
            hostgroupPorts: [10: 0, 11: 0],
            dataDirectory: dataDirectory,
            initialVariables: variables
        )
        configuration.adminLatency = .fast  // unit speed; AdminLatencyProfileTests states the realistic one
        return configuration
    }

    static func withEmulator<Result: Sendable>(
        dataDirectory: String? = nil,
        users: [ProxySQLEmulator.Configuration.User] = [appUser],
        variables: [String: String] = [:],
        _ body: (ProxySQLEmulator, MariaDBConnection) async throws -> Result
    ) async throws -> Result {
        try await withProxySQLEmulator(configuration: configuration(dataDirectory: dataDirectory, users: users, variables: variables)) {
            emulator in
            let admin = try await MariaDBConnection.connect(configuration: patientAdmin(emulator))
            return try await body(emulator, admin)
        }
    }

    /// The emulator's admin configuration with a connect timeout for a machine loaded by the whole suite (a greeting
    /// took over 5 s there, the library's default).
    static func patientAdmin(_ emulator: ProxySQLEmulator) -> MariaDBConnection.Configuration {
        var configuration = emulator.adminConfiguration
        configuration.connectTimeout = .seconds(30)
        return configuration
    }

    /// The error `body` throws, as a `MariaDBError`.
    static func mariaDBError(_ body: () async throws -> Void) async -> MariaDBError? {
        do {
            try await body()
            return nil
        } catch let error as MariaDBError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    /// Runs the stock `mariadb` client (batch mode, no column names) with the password in `MYSQL_PWD`.
    static func runCLI(port: Int, user: String, password: String, database: String? = nil, sql: String) async throws -> (
        status: Int32, output: String, error: String
    ) {
        // Off Swift's cooperative pool: the emulator under test needs those threads to answer the client we wait on.
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "mariadb-cli").async {
                continuation.resume(with: Swift.Result { try runCLIBlocking(port: port, user: user, password: password, database: database, sql: sql) })
            }
        }
    }

    static func runCLIBlocking(port: Int, user: String, password: String, database: String?, sql: String) throws -> (
        status: Int32, output: String, error: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mariadb")
        var arguments = [
            "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", String(port), "-u", user, "--batch",
            "--skip-column-names", "--connect-timeout=5",
        ]
        if let database { arguments += ["-D", database] }
        arguments += ["-e", sql]
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MYSQL_PWD"] = password
        process.environment = environment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    static var cliAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/mariadb") }
}
