import Foundation
import Testing
import Yams

@testable import MigrateCLI

/// Test fixtures and helpers.
enum Fixture {
    /// The absolute path of `Fixtures/<name>`.
    static func path(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent(name)
        return url.path
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-cli-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Passwords for the fixtures' `password-env` fields.
    static let passwords: [String: String] = [
        "TEST_SOURCE_PASSWORD": "source-secret-1",
        "TEST_TARGET_PASSWORD": "target-secret-2",
        "TEST_PROXYSQL_PASSWORD": "proxysql-secret-3",
        "TEST_FORWARD_PASSWORD": "forward-secret-4",
        "TEST_REVERSE_PASSWORD": "reverse-secret-5",
    ]

    /// Loads `yaml` written to a temporary file.
    static func load(
        yaml: String,
        environment: [String: String] = [:],
        assignments: [String] = []
    ) throws -> MigrateConfiguration {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/migrate.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try ConfigurationLoader(environment: environment, assignments: assignments, currentDirectory: directory).load(explicit: path)
    }

    /// The issues `yaml` (plus environment and flags) produces; fails the test when it loads.
    static func issues(
        yaml: String,
        environment: [String: String] = [:],
        assignments: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [ConfigurationIssue] {
        do {
            _ = try load(yaml: yaml, environment: environment, assignments: assignments)
            Issue.record("expected the configuration to be refused", sourceLocation: sourceLocation)
            return []
        } catch let error as ConfigurationError {
            return error.issues
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            return []
        }
    }

    /// `overlay` deep-merged into `base` (mappings merge key by key; anything else replaces).
    static func merged(_ base: String, _ overlay: String) throws -> String {
        func merge(_ base: Node, _ overlay: Node) -> Node {
            guard var baseMapping = base.mapping, let overlayMapping = overlay.mapping else { return overlay }
            for (key, value) in overlayMapping {
                if let existing = baseMapping[key] {
                    baseMapping[key] = merge(existing, value)
                } else {
                    baseMapping[key] = value
                }
            }
            return .mapping(baseMapping)
        }
        guard let baseNode = try Yams.compose(yaml: base), let overlayNode = try Yams.compose(yaml: overlay) else {
            return base + overlay
        }
        return try Yams.serialize(node: merge(baseNode, overlayNode))
    }

    static var minimalYAML: String {
        get throws { try String(contentsOfFile: path("minimal.yaml"), encoding: .utf8) }
    }
}
