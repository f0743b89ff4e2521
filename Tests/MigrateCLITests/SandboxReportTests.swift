import Foundation
import Testing

@testable import MigrateCLI

/// `sandbox up` / `status`: the endpoint table names the servers the sandbox runs (#12: a MySQL sandbox was listed
/// as "source (MariaDB)").
@Suite("Sandbox endpoint table")
struct SandboxReportTests {
    static func state(serverKind: String?) -> SandboxState {
        let endpoint = SandboxState.Endpoint(host: "127.0.0.1", port: 3306, user: "root", passwordFile: "secrets/x")
        var state = SandboxState(
            pid: 1, startedAt: "2026-12-06T00:00:00Z", stateDirectory: "/tmp/s", configurationFile: "/tmp/s/migrate.yaml",
            clientOptionFile: "/tmp/s/secrets/client.cnf", source: endpoint, target: endpoint, targetRoot: endpoint,
            proxysqlAdmin: endpoint, dataPorts: ["10": 6033], application: endpoint, forwardReplicationUser: "repl_forward",
            reverseReplicationUser: "repl_reverse")
        state.serverKind = serverKind
        return state
    }

    static func firstColumn(_ state: SandboxState) -> [String] {
        SandboxWiring.report(state, rehearsal: nil, running: false).sections.first?.rows.map { $0.first ?? "" } ?? []
    }

    @Test("a MySQL sandbox is listed as MySQL 9.7; MariaDB, and a state file written before the kind was recorded, as MariaDB")
    func namesTheServerKind() throws {
        let mysql = Self.firstColumn(Self.state(serverKind: "mysql"))
        #expect(mysql.prefix(2) == ["source (MySQL 9.7)", "\"Aurora\" (MySQL 9.7 + mysql.rds_* procedures)"])
        #expect(!mysql.contains { $0.contains("MariaDB") })
        for kind in ["mariadb", nil] {
            #expect(Self.firstColumn(Self.state(serverKind: kind)).first == "source (MariaDB)")
        }
        // The kind round-trips through sandbox.json; an older file without it still reads.
        let encoded = try JSONEncoder().encode(Self.state(serverKind: "mysql"))
        #expect(try JSONDecoder().decode(SandboxState.self, from: encoded).serverKind == "mysql")
        var old = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        old.removeValue(forKey: "serverKind")
        let decoded = try JSONDecoder().decode(SandboxState.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded.serverKind == nil)
        #expect(decoded.serverName == "MariaDB")
    }
}
