@testable import Cutover
import ProxySQLAdmin
import ReplicationControl
import Testing

/// Issue #15: the `reverse.login` and `reverse.tls` messages named the replication endpoint a second time after a
/// server name that shows it already (`target (127.0.0.1:3306) (127.0.0.1:3306)` on the sandbox). The endpoint is
/// shown once when it is the address in the name, and labelled as the replication endpoint when it differs.
@Suite("Reverse replication messages: the replication endpoint shown once (#15)")
struct ReversePrerequisitesEndpointTests {
    /// The shared healthy facts (`target (aurora:3306)`), the replication reaching the new writer at `endpoint`.
    static func facts(
        endpoint: ServerEndpoint, login: ReversePrerequisites.Login? = nil, tls: ReplicationTLS? = nil
    ) -> ReversePrerequisites.Facts {
        var facts = ReversePrerequisitesTests.facts(newVariables: ["have_ssl": "DISABLED"], login: login)
        facts.endpoint = endpoint
        facts.tls = tls
        return facts
    }

    static func occurrences(of needle: String, in text: String) -> Int {
        var count = 0
        var rest = Substring(text)
        while let range = rest.firstRange(of: needle) {
            count += 1
            rest = rest[range.upperBound...]
        }
        return count
    }

    static let logins: [ReversePrerequisites.Login] = [
        .loggedIn(grants: ReversePrerequisitesTests.grantsBoth),
        .loggedIn(grants: [.init(privileges: ["REPLICATION CLIENT"], target: "*.*")]),
        .loggedIn(grants: [.init(privileges: ["REPLICATION SLAVE"], target: "*.*")]),
        .refused(errorNumber: 1045, message: "Access denied"),
        .hostNotAllowed(message: "Host 'tool' is not allowed"),
        .notProbed(reason: "no password"),
    ]

    @Test("reverse.login: the endpoint that is the name's address appears once", arguments: logins)
    func loginSameAddress(login: ReversePrerequisites.Login) {
        let verdict = ReversePrerequisites.login(login, facts: Self.facts(endpoint: ServerEndpoint(host: "aurora")))
        #expect(verdict.detail.contains("target (aurora:3306)"), "\(verdict.detail)")
        #expect(Self.occurrences(of: "aurora:3306", in: verdict.detail) == 1, "\(verdict.detail)")
    }

    @Test("reverse.login: another replication endpoint is shown too, labelled", arguments: logins)
    func loginOtherAddress(login: ReversePrerequisites.Login) {
        let facts = Self.facts(endpoint: ServerEndpoint(host: "aurora-repl.internal", port: 3307))
        let verdict = ReversePrerequisites.login(login, facts: facts)
        #expect(
            verdict.detail.contains("target (aurora:3306) via replication endpoint aurora-repl.internal:3307"),
            "\(verdict.detail)")
    }

    @Test("reverse.tls: the endpoint that is the name's address appears once; another one is shown too, labelled")
    func tls() throws {
        let same = try #require(ReversePrerequisites.tls(Self.facts(endpoint: ServerEndpoint(host: "aurora"), tls: .required)))
        #expect(same.status == .fail)
        #expect(same.blockingReason?.check == "reverse.tls")
        #expect(same.detail.contains("but target (aurora:3306) offers none"), "\(same.detail)")
        #expect(Self.occurrences(of: "aurora:3306", in: same.detail) == 1, "\(same.detail)")

        let other = try #require(
            ReversePrerequisites.tls(Self.facts(endpoint: ServerEndpoint(host: "10.9.0.5"), tls: .required)))
        #expect(
            other.detail.contains("but target (aurora:3306) via replication endpoint 10.9.0.5:3306 offers none"),
            "\(other.detail)")
    }
}

/// The one pure function both messages (and preflight's `replication.tls`) name the server and endpoint with.
@Suite("ReversePrerequisites.serverName: name and replication endpoint (#15)")
struct ReversePrerequisitesServerNameTests {
    @Test(
        "the address the name shows is the replication endpoint: shown once",
        arguments: [
            ("target (127.0.0.1:3306)", ServerEndpoint(host: "127.0.0.1", port: 3306)),
            ("target (Aurora.Example:3306)", ServerEndpoint(host: "aurora.example", port: 3306)),
            ("target ([::1]:3307)", ServerEndpoint(host: "::1", port: 3307)),
            ("aurora (prod) (db.internal:3306)", ServerEndpoint(host: "db.internal", port: 3306)),
        ])
    func same(name: String, endpoint: ServerEndpoint) {
        #expect(ReversePrerequisites.serverName(name, replicationEndpoint: endpoint) == name)
    }

    @Test(
        "a different replication endpoint, or a name that shows none: both shown, the endpoint labelled",
        arguments: [
            ("target (10.0.0.5:3306)", ServerEndpoint(host: "10.9.0.5", port: 3306),
                "target (10.0.0.5:3306) via replication endpoint 10.9.0.5:3306"),
            // Same host, other port; and a port the name's merely starts with.
            ("target (127.0.0.1:3306)", ServerEndpoint(host: "127.0.0.1", port: 3307),
                "target (127.0.0.1:3306) via replication endpoint 127.0.0.1:3307"),
            ("target (127.0.0.1:33061)", ServerEndpoint(host: "127.0.0.1", port: 3306),
                "target (127.0.0.1:33061) via replication endpoint 127.0.0.1:3306"),
            ("target", ServerEndpoint(host: "aurora", port: 3306), "target via replication endpoint aurora:3306"),
            ("the target ()", ServerEndpoint(host: "aurora", port: 3306),
                "the target () via replication endpoint aurora:3306"),
        ])
    func different(name: String, endpoint: ServerEndpoint, expected: String) {
        #expect(ReversePrerequisites.serverName(name, replicationEndpoint: endpoint) == expected)
    }
}
