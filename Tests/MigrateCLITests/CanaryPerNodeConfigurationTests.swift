import Cutover
import Foundation
import Testing

@testable import MigrateCLI

/// The per-node canary's configuration (#14 item 9): `canary.per-node` and each ProxySQL node's data port
/// (`proxysql.nodes.<name>.data-host` / `data-port`), and how its reports are rendered.
@Suite("Configuration: the canary per ProxySQL node")
struct CanaryPerNodeConfigurationTests {
    static let twoNodes = """
        proxysql:
          nodes:
            proxysql-2:
              host: 10.0.0.11
              user: radmin
              password-env: TEST_PROXYSQL_PASSWORD
              data-port: 16033
        canary:
          enabled: true
          per-node: true
          user: app_canary
          password-env: TEST_CANARY_PASSWORD
          database: app
        """

    @Test("per node: every ProxySQL node's data port, its admin host and canary.port by default, data-host/-port to override; no canary.host needed")
    func everyNode() throws {
        let configuration = try Fixture.load(yaml: try Fixture.merged(Fixture.minimalYAML, Self.twoNodes))
        let canary = try #require(configuration.canary)
        #expect(canary.nodes == [
            .init(node: "proxysql-1", address: Address(host: "10.0.0.10", port: 6033)),
            .init(node: "proxysql-2", address: Address(host: "10.0.0.11", port: 16033)),
        ])
        #expect(canary.address == Address(host: "10.0.0.10", port: 6033), "the first node's port stands for canary.host")
        let moved = try Fixture.load(
            yaml: try Fixture.merged(Fixture.minimalYAML, Self.twoNodes),
            assignments: ["canary.port=7033", "proxysql.nodes.proxysql-1.data-host=10.1.0.10"]
        )
        #expect(moved.canary?.nodes.map(\.address) == [Address(host: "10.1.0.10", port: 7033), Address(host: "10.0.0.11", port: 16033)])
    }

    @Test("off by default: one canary through canary.host, no per-node addresses")
    func offByDefault() throws {
        let configuration = try Fixture.load(
            yaml: try Fixture.merged(Fixture.minimalYAML, "canary:\n  enabled: true\n  host: 10.0.0.10\n  user: c\n  password-env: X\n  database: app\n")
        )
        #expect(configuration.canary?.nodes == [])
    }

    @Test("a bad data port is named even with the canary off; per node without a canary.host still needs a database")
    func problems() throws {
        let badPort = Fixture.issues(yaml: try Fixture.merged(Fixture.minimalYAML, "proxysql:\n  nodes:\n    proxysql-1:\n      data-port: 70000\n"))
        #expect(badPort.contains { $0.field == "proxysql.nodes.proxysql-1.data-port" })
        let noDatabase = Fixture.issues(
            yaml: try Fixture.merged(Fixture.minimalYAML, "canary:\n  enabled: true\n  per-node: true\n  user: c\n"))
        #expect(noDatabase.contains { $0.field == "canary.database" })
        #expect(!noDatabase.contains { $0.field == "canary.host" }, "per node, canary.host is optional")
    }

    @Test("rendering: one canary-node event per node, then the canary headline naming the worst node; text lines per node")
    func rendering() {
        func report(gap: Int, errors: [String] = []) -> CanaryReport {
            var observations = [
                Canary.Observation(sequence: 1, sent: .zero, answered: .milliseconds(1)),
                Canary.Observation(sequence: 2, sent: .milliseconds(gap), answered: .milliseconds(gap + 1)),
            ]
            observations += errors.enumerated().map {
                Canary.Observation(sequence: 3 + $0.offset, sent: .milliseconds(2), answered: .milliseconds(3), error: $0.element)
            }
            return CanaryReport(observations: observations, span: .zero ... .milliseconds(gap + 1))
        }
        let combined = CanaryReport(combining: [
            CanaryNodeReport(node: "proxysql-1", report: report(gap: 20)),
            CanaryNodeReport(node: "proxysql-2", report: report(gap: 90, errors: ["9001 Max connect timeout"])),
        ])
        let lines = CanaryRendering.jsonLines(combined, operation: "writer-cutover").split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix(#"{"event":"canary-node","operation":"writer-cutover","node":"proxysql-1","longest_gap_ms":"#))
        #expect(lines[1].contains(#""node":"proxysql-2","longest_gap_ms":90"#))
        #expect(lines[2].hasPrefix(#"{"event":"canary","operation":"writer-cutover","longest_gap_ms":90"#))
        #expect(lines[2].contains(#""worst_node":"proxysql-2","nodes":2"#))
        #expect(lines[2].contains(#""first_error":"proxysql-2: 9001 Max connect timeout""#))
        let text = CanaryRendering.textLines(combined, prefix: "    writer-cutover: ")
        #expect(text.contains("writer-cutover: canary: longest gap 90 ms on proxysql-2 (the worst of 2 nodes)"))
        #expect(text.contains("writer-cutover:   proxysql-1: canary: longest gap 20 ms"))
        #expect(CanaryRendering.gapCell(combined) == "90 ms (1 error, worst: proxysql-2)")
        let single = report(gap: 20)
        #expect(CanaryRendering.jsonLines(single, operation: "x").split(separator: "\n").count == 1, "one writer: the headline only")
        #expect(!CanaryRendering.jsonLines(single, operation: "x").contains("worst_node"))
    }
}
