import CutoverTestSupport
import Foundation
import MariaDB
import ReplicationControl

/// Loads the captured or documented client output under `Fixtures/`.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // ReplicationControlTests
        .appendingPathComponent("Fixtures")

    static func text(_ path: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
    }

    static func resultSet(_ path: String) throws -> ResultSet {
        try VerticalResultText.parse(text(path))
    }

    static func replicaStatuses(_ name: String) throws -> [ReplicaStatus] {
        try ReplicaStatus.parse(resultSet("replica-status/\(name).txt"))
    }

    static func replicaStatus(_ name: String) throws -> ReplicaStatus {
        let statuses = try replicaStatuses(name)
        guard statuses.count == 1 else {
            throw VerticalResultText.ParseError(description: "\(name) has \(statuses.count) rows, expected 1")
        }
        return statuses[0]
    }

    /// Every replica-status fixture file name, without extension.
    static var allReplicaStatusNames: [String] {
        let names =
            (try? FileManager.default.contentsOfDirectory(
                atPath: directory.appendingPathComponent("replica-status").path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }.sorted()
    }
}
