import Cutover
@testable import CutoverRehearsal
@_spi(Testing) import CutoverSandbox
import Logging
import MariaDB
import Testing

/// The canary per ProxySQL node (#14 item 9) on a 2-node fleet of emulators: one writer through each node's writer
/// port during a real writer cut-over, each node reported on its own, the worst node as the headline, and every
/// acknowledged heartbeat of each node on the new writer.
@Suite("Canary per node: a 2-node fleet", .integration, .serialized)
struct CanaryPerNodeIntegrationTests {
    let logger = Logger(label: "canary-per-node", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("a writer cut-over through 2 nodes: two node reports, the headline is the worst, each node's acknowledged rows are on the new writer")
    func twoNodes() async throws {
        guard try IntegrationGate.skipIfUnavailable() else { return }
        var options = Rehearsal.Options(adminLatency: .fast)
        options.proxyNodes = 2
        try await withRehearsal(options: options, logger: logger) { rehearsal in
            let (environment, close) = try await rehearsal.makeEnvironment(logger: logger)
            let endpoints = try await RehearsalScript.prepareCanary(rehearsal, perNode: true, logger: logger)
            #expect(endpoints.map(\.node) == ["proxysql-emulator", "proxysql-emulator-2"])
            #expect(Set(endpoints.map { "\($0.endpoint.endpoint)" }).count == 2, "one writer port per node")
            let change: RehearsalScript.Switch
            do {
                change = try await RehearsalScript.runSwitch(
                    .writerCutover, environment: environment, policy: RehearsalScript.Options.defaultPolicy(for: .clientKeys),
                    logger: logger, canaryEndpoints: endpoints, progress: { _ in }
                )
            } catch {
                await close()
                throw error
            }
            await close()
            #expect(change.report.outcome == .completed, "\(change.report.outcome)")
            let canary = try #require(change.canary)
            #expect(canary.nodes.map(\.node) == ["proxysql-emulator", "proxysql-emulator-2"])
            let worst = try #require(canary.nodes.max { $0.report.longestGap < $1.report.longestGap })
            #expect(canary.longestGap == worst.report.longestGap)
            #expect(canary.worstNode == canary.nodes.first { $0.report.longestGap == worst.report.longestGap }?.node)
            #expect(canary.acknowledged == canary.nodes.reduce(0) { $0 + $1.report.acknowledged })
            for node in canary.nodes {
                #expect(node.report.acknowledged > 0, "\(node.node): \(node.report)")
                #expect(node.report.longestGap <= node.report.span)
            }
            // Each node's heartbeats carry their own run id ending in the node's name: every acknowledged one is on
            // the new writer ("Aurora": forward replication carried the ones before the switch).
            let target = try await rehearsal.target.connectAsRoot(logger: logger)
            let rows = try await target.query(
                "SELECT run, COUNT(*) FROM \(identifier: rehearsal.options.schema.database).\(identifier: CanaryProxyWriter.defaultTable) GROUP BY run"
            )
            await target.close()
            var counts: [String: Int] = [:]
            for row in rows { counts[row[0].string ?? ""] = Int(row[1].string ?? "") ?? -1 }
            for node in canary.nodes {
                let run = try #require(counts.keys.first { $0.hasSuffix("-" + node.node) }, "\(counts)")
                #expect(counts[run]! >= node.report.acknowledged, "\(node.node): \(counts[run]!) rows, \(node.report.acknowledged) acknowledged")
            }
        }
    }
}
