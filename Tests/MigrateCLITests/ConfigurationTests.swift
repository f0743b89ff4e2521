import Cutover
import Foundation
import ProxySQLAdmin
import Testing

@testable import MigrateCLI

@Suite("Configuration: loading, defaults, precedence")
struct ConfigurationLoadingTests {
    @Test("the example written by init loads cleanly and describes the usual layout")
    func exampleLoads() throws {
        let configuration = try Fixture.load(yaml: ExampleConfiguration.text)
        let topology = configuration.topology
        #expect(topology.problems.isEmpty)
        #expect(topology.source.writer == BackendServer.Key(hostgroup: 10, host: "10.0.0.5", port: 3306))
        #expect(topology.target.writer == BackendServer.Key(hostgroup: 10, host: "mydb.cluster-abc123xyz.eu-west-1.rds.amazonaws.com", port: 3306))
        #expect(topology.source.reader == BackendServer.Key(hostgroup: 11, host: "10.0.0.5", port: 3306))
        #expect(topology.target.reader == BackendServer.Key(hostgroup: 11, host: "mydb.cluster-ro-abc123xyz.eu-west-1.rds.amazonaws.com", port: 3306))
        #expect(topology.proxyNodes == ["proxysql-1"])
        #expect(configuration.policy == CutoverPolicy())
        #expect(configuration.journalPath.hasSuffix("/migrate-journal.jsonl"))
    }

    @Test("every field the example shows, commented out or not, is a known field")
    func exampleFieldsAreKnown() throws {
        // Uncomment the example's commented sections and load it: no unknown key may appear.
        let uncommented = ExampleConfiguration.text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("# "), let colon = trimmed.firstIndex(of: ":"),
                trimmed[trimmed.index(trimmed.startIndex, offsetBy: 2)..<colon].allSatisfy({ $0.isLetter || $0 == "-" || $0.isNumber }),
                line.hasPrefix("  ")
            else { return String(line) }
            let indent = line.prefix { $0 == " " }
            return String(indent + trimmed.dropFirst(2))
        }.joined(separator: "\n")
        #expect(uncommented != ExampleConfiguration.text)
        let issues = Fixture.issues(yaml: uncommented)
        #expect(!issues.contains { $0.message.hasPrefix("unknown key") }, "\(issues)")
    }

    @Test("a minimal file gets the documented defaults")
    func minimalDefaults() throws {
        let configuration = try Fixture.load(yaml: Fixture.minimalYAML)
        #expect(configuration.source == Address(host: "10.0.0.5", port: 3306))
        #expect(configuration.writerHostgroup == 10)
        #expect(configuration.readerHostgroup == 11)
        #expect(configuration.topology.source.reader == nil)
        #expect(configuration.topology.target.reader == nil)
        #expect(configuration.proxyNodes.first?.address == Address(host: "10.0.0.10", port: 6032))
        #expect(configuration.topology.sourceReplicationEndpoint == ServerEndpoint(host: "10.0.0.5", port: 3306))
        #expect(configuration.topology.targetReplicationEndpoint == ServerEndpoint(host: "aurora.cluster-x.eu-west-1.rds.amazonaws.com", port: 3306))
        #expect(configuration.reverseReplicationFilter == .rdsTables)
        #expect(configuration.sourceAccount.tls.mode == .disabled)
        #expect(configuration.topology.forwardReplicationTLS == .required)
        #expect(configuration.topology.reverseReplicationTLS == .required)
        #expect(configuration.sourceAccount.connectTimeout == .seconds(5))
        #expect(configuration.applicationUsers.isEmpty)
    }

    @Test("a full file: explicit rows, TLS, node order, policy durations, relative paths")
    func fullFile() throws {
        let path = try Fixture.path("full.yaml")
        let directory = (path as NSString).deletingLastPathComponent
        let configuration = try ConfigurationLoader(environment: [:], currentDirectory: "/").load(explicit: path)
        let topology = configuration.topology
        #expect(topology.source.writer == BackendServer.Key(hostgroup: 20, host: "db-primary.internal", port: 3307))
        #expect(topology.source.reader == BackendServer.Key(hostgroup: 21, host: "db-replica.internal", port: 3306))
        #expect(topology.target.writer == BackendServer.Key(hostgroup: 20, host: "aurora.cluster-x.eu-west-1.rds.amazonaws.com", port: 3306))
        #expect(topology.target.reader == BackendServer.Key(hostgroup: 21, host: "aurora.cluster-ro-x.eu-west-1.rds.amazonaws.com", port: 3306))
        #expect(topology.proxyNodes == ["proxysql-b", "proxysql-a"])
        #expect(topology.sourceReplicationEndpoint == ServerEndpoint(host: "db-primary.example.com", port: 3307))
        #expect(topology.targetReplicationEndpoint == ServerEndpoint(host: "aurora.cluster-x.eu-west-1.rds.amazonaws.com", port: 3310))
        #expect(topology.applicationUsers == ["app", "app_ro"])
        // `tls: true`, the earlier boolean spelling, reads as `required`; the reverse direction defaults to it.
        #expect(configuration.forwardReplication.tls == .required)
        #expect(topology.forwardReplicationTLS == .required)
        #expect(topology.reverseReplicationTLS == .required)
        #expect(configuration.reverseReplicationFilter == .mysqlSchema)
        #expect(configuration.sourceAccount.credentials == .file(directory + "/secrets/source.password"))
        #expect(configuration.sourceAccount.connectTimeout == .seconds(3))
        #expect(configuration.targetAccount.tls == TLSSettings(mode: .verifyIdentity, certificateAuthorityFile: directory + "/rds-global-bundle.pem"))
        #expect(configuration.proxyNodes[0].account.credentials == .optionFile(path: directory + "/proxysql-b.cnf", group: "proxysql"))
        #expect(configuration.reverseReplication.credentials == .file("/run/secrets/reverse"))
        #expect(configuration.journalPath == directory + "/state/journal.jsonl")
        let policy = configuration.policy
        #expect(policy.lagBudget == .zero)
        #expect(policy.drainDeadline == .milliseconds(1500))
        #expect(policy.drainPollInterval == .milliseconds(5))
        #expect(policy.drainDeadlinePolicy == .force)
        #expect(policy.catchUpDeadline == .seconds(90))
        #expect(policy.fenceOldWriter == false)
        #expect(policy.fenceTimeout == .milliseconds(250))
        #expect(policy.disableQueryRetries == false)
        #expect(policy.autoIncrementPin == .relax)
        #expect(policy.autoIncrementPinSettle == .milliseconds(350))
        #expect(policy.longTransactionLimit == .seconds(2))
        #expect(policy.adminStatementTimeout == .seconds(1))
        #expect(policy.replicationStepTimeout == .seconds(60))
    }

    @Test("replication TLS: required by default, disabled per direction, also by variable and flag")
    func replicationTLS() throws {
        let yaml = try Fixture.merged(Fixture.minimalYAML, "replication:\n  reverse:\n    tls: disabled\n")
        let file = try Fixture.load(yaml: yaml)
        #expect(file.topology.reverseReplicationTLS == .disabled)
        #expect(file.topology.forwardReplicationTLS == .required)
        let variable = try Fixture.load(yaml: yaml, environment: ["MIGRATE_REPLICATION_FORWARD_TLS": "off"])
        #expect(variable.topology.forwardReplicationTLS == .disabled)
        let flag = try Fixture.load(yaml: yaml, assignments: ["replication.reverse.tls=required"])
        #expect(flag.topology.reverseReplicationTLS == .required)
    }

    @Test("the auto-increment pin settle: 200ms by default, 0s accepted (no settle step)")
    func pinSettle() throws {
        #expect(try Fixture.load(yaml: Fixture.minimalYAML).policy.autoIncrementPinSettle == .milliseconds(200))
        let yaml = try Fixture.minimalYAML + "policy:\n  auto-increment-pin: relax\n  auto-increment-pin-settle: 0s\n"
        let policy = try Fixture.load(yaml: yaml).policy
        #expect(policy.autoIncrementPin == .relax)
        #expect(policy.autoIncrementPinSettle == .zero)
    }

    @Test("precedence: flag > environment > file > default")
    func precedence() throws {
        let yaml = try Fixture.minimalYAML + "policy:\n  drain-deadline: 400ms\n  catch-up-deadline: 3s\n"
        let fileOnly = try Fixture.load(yaml: yaml)
        #expect(fileOnly.policy.drainDeadline == .milliseconds(400))
        #expect(fileOnly.policy.fenceTimeout == CutoverPolicy().fenceTimeout)

        let environment = ["MIGRATE_POLICY_DRAIN_DEADLINE": "300ms", "MIGRATE_POLICY_FENCE_TIMEOUT": "1s"]
        let withEnvironment = try Fixture.load(yaml: yaml, environment: environment)
        #expect(withEnvironment.policy.drainDeadline == .milliseconds(300))
        #expect(withEnvironment.policy.fenceTimeout == .seconds(1))
        #expect(withEnvironment.policy.catchUpDeadline == .seconds(3))

        let withFlag = try Fixture.load(yaml: yaml, environment: environment, assignments: ["policy.drain-deadline=250ms"])
        #expect(withFlag.policy.drainDeadline == .milliseconds(250))
        #expect(withFlag.policy.fenceTimeout == .seconds(1))
        #expect(withFlag.values[ConfigurationKey("policy.drain-deadline")]?.origin == .flag)
        #expect(withFlag.values[ConfigurationKey("policy.fence-timeout")]?.origin == .environment("MIGRATE_POLICY_FENCE_TIMEOUT"))
        let line = try #require(yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("catch-up-deadline") }) + 1
        #expect(withFlag.values[ConfigurationKey("policy.catch-up-deadline")]?.origin.description.hasSuffix("migrate.yaml:\(line)") == true)
    }

    @Test("environment and flags reach ProxySQL nodes by name, and can add one")
    func nodeOverrides() throws {
        let yaml = try Fixture.minimalYAML
        let configuration = try Fixture.load(
            yaml: yaml,
            environment: [
                "MIGRATE_PROXYSQL_NODES_PROXYSQL_1_PORT": "6033",
                "MIGRATE_PROXYSQL_NODES_EDGE_2_HOST": "10.0.0.20",
                "MIGRATE_PROXYSQL_NODES_EDGE_2_USER": "radmin",
                "MIGRATE_PROXYSQL_NODES_EDGE_2_PASSWORD_ENV": "EDGE_PASSWORD",
            ],
            assignments: ["proxysql.nodes.edge-2.tls.mode=required"]
        )
        #expect(configuration.proxyNodes.map(\.name) == ["proxysql-1", "edge-2"])
        #expect(configuration.proxyNodes[0].address.port == 6033)
        #expect(configuration.proxyNodes[1].address == Address(host: "10.0.0.20", port: 6032))
        #expect(configuration.proxyNodes[1].account.credentials == .environment("EDGE_PASSWORD"))
        #expect(configuration.proxyNodes[1].account.tls.mode == .required)
    }

    @Test("configuration from environment and flags alone, without a file")
    func noFile() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = [
            "MIGRATE_SOURCE_HOST": "10.0.0.5", "MIGRATE_SOURCE_USER": "a", "MIGRATE_TARGET_WRITER_HOST": "10.0.0.7",
            "MIGRATE_TARGET_USER": "b", "MIGRATE_REPLICATION_FORWARD_USER": "r1", "MIGRATE_REPLICATION_FORWARD_PASSWORD_ENV": "P1",
            "MIGRATE_REPLICATION_REVERSE_USER": "r2", "MIGRATE_REPLICATION_REVERSE_PASSWORD_ENV": "P2",
            "MIGRATE_APPLICATION_USERS": "app, app_ro",
        ]
        let configuration = try ConfigurationLoader(
            environment: environment,
            assignments: ["proxysql.nodes.p1.host=10.0.0.10", "proxysql.nodes.p1.user=admin"],
            currentDirectory: directory
        ).load(explicit: nil)
        #expect(configuration.filePath == nil)
        #expect(configuration.applicationUsers == ["app", "app_ro"])
        #expect(configuration.journalPath == directory + "/migrate-journal.jsonl")
    }

    @Test("no file, no environment, no flags: says how to make one")
    func nothingAtAll() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: [:], currentDirectory: directory).load(explicit: nil)
        }
        #expect(error?.code == .fileUnreadable)
        #expect(error?.description.contains("migrate-cli init") == true)
        let missing = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: [:], currentDirectory: directory).load(explicit: "nope.yaml")
        }
        #expect(missing?.issues.first?.field == directory + "/nope.yaml")
    }

    @Test("MIGRATE_CONFIG names the file when --config does not")
    func configFromEnvironment() throws {
        let loader = ConfigurationLoader(environment: ["MIGRATE_CONFIG": "/etc/migrate/m.yaml"], currentDirectory: "/tmp")
        #expect(loader.filePath(explicit: nil) == ("/etc/migrate/m.yaml", true))
        #expect(loader.filePath(explicit: "x.yaml") == ("/tmp/x.yaml", true))
        #expect(ConfigurationLoader(environment: [:], currentDirectory: "/tmp").filePath(explicit: nil) == ("/tmp/migrate.yaml", false))
    }
}

@Suite("Configuration: every problem names its field")
struct ConfigurationValidationTests {
    /// (a change to the minimal file, the field the message must name, a fragment of the message)
    static let cases: [(String, String, String, String)] = [
        ("unknown key", "source:\n  hots: x\n", "source.hots", "did you mean source.host?"),
        ("unknown section", "sourc:\n  host: x\n", "sourc", "did you mean source?"),
        ("unknown policy key", "policy:\n  drain-deadlin: 1s\n", "policy.drain-deadlin", "did you mean policy.drain-deadline?"),
        ("bad port", "target:\n  writer:\n    port: 70000\n", "target.writer.port", "'70000' is not a TCP port"),
        ("port text", "proxysql:\n  nodes:\n    proxysql-1:\n      port: admin\n", "proxysql.nodes.proxysql-1.port", "is not a TCP port"),
        ("duration without unit", "policy:\n  drain-deadline: 5\n", "policy.drain-deadline", "a unit is required"),
        ("duration nonsense", "policy:\n  catch-up-deadline: soon\n", "policy.catch-up-deadline", "is not a duration"),
        ("zero deadline", "policy:\n  drain-deadline: 0ms\n", "policy.drain-deadline", "longer than 0"),
        ("poll slower than deadline", "policy:\n  drain-deadline: 10ms\n  drain-poll-interval: 20ms\n", "policy.drain-poll-interval", "shorter than the drain deadline"),
        ("settle too long", "policy:\n  auto-increment-pin-settle: 11s\n", "policy.auto-increment-pin-settle", "longer than 10s"),
        ("settle without unit", "policy:\n  auto-increment-pin-settle: 200\n", "policy.auto-increment-pin-settle", "a unit is required"),
        ("bad choice", "policy:\n  drain-deadline-policy: rollback\n", "policy.drain-deadline-policy", "not one of roll-back, force"),
        ("bad filter", "replication:\n  reverse:\n    filter: rds\n", "replication.reverse.filter", "did you mean rds-tables?"),
        ("bad bool", "policy:\n  fence-old-writer: maybe\n", "policy.fence-old-writer", "not true or false"),
        ("bad replication tls", "replication:\n  reverse:\n    tls: verify\n", "replication.reverse.tls", "not one of required, disabled"),
        ("negative hostgroup", "proxysql:\n  hostgroups:\n    writer: -1\n", "proxysql.hostgroups.writer", "not a hostgroup number"),
        ("same hostgroups", "proxysql:\n  hostgroups:\n    writer: 11\n", "proxysql.hostgroups.reader", "readers need their own hostgroup"),
        ("localhost", "source:\n  host: localhost\n", "source.host", "write 127.0.0.1"),
        ("url as host", "target:\n  writer:\n    host: mysql://aurora:3306\n", "target.writer.host", "write the host only"),
        ("two password sources", "source:\n  password-file: /x\n", "source.password-file", "choose one way"),
        ("password in file", "target:\n  password: hunter2\n", "target.password", "never read from the configuration file"),
        ("bad variable name", "source:\n  password-env: 1BAD-NAME\n", "source.password-env", "not an environment variable name"),
        ("tls files without tls", "source:\n  tls:\n    ca-file: /ca.pem\n", "source.tls.ca-file", "tls.mode is disabled"),
        ("verify without ca", "target:\n  tls:\n    mode: verify-identity\n", "target.tls.ca-file", "needs the CA bundle"),
        ("cert without key", "target:\n  tls:\n    mode: required\n    cert-file: /c.pem\n", "target.tls.key-file", "needs both"),
        ("bad node name", "proxysql:\n  nodes:\n    'bad name':\n      host: x\n", "proxysql.nodes.bad name", "a node name is"),
        ("node without host", "proxysql:\n  nodes:\n    proxysql-2:\n      user: radmin\n", "proxysql.nodes.proxysql-2.host", "missing"),
        ("source reader without target reader", "source:\n  reader:\n    host: 10.0.0.6\n", "source.reader.host", "no target reader"),
        ("same writer rows", "proxysql:\n  rows:\n    target:\n      writer:\n        host: 10.0.0.5\n        port: 3306\n", "proxysql.rows.source.writer", "same row"),
        ("row hostgroups differ", "proxysql:\n  rows:\n    target:\n      writer:\n        hostgroup: 30\n", "proxysql.rows.source.writer", "must share a hostgroup"),
        ("duplicate application user", "application:\n  users: [app, app]\n", "application.users", "twice"),
        ("value where a section goes", "policy: fast\n", "policy", "is a section"),
        ("section where a value goes", "source:\n  port:\n    number: 3306\n", "source.port", "not a section"),
        ("version", "version: 2\n", "version", "format version"),
    ]

    @Test("a bad value is refused with its field and what is wrong", arguments: cases)
    func refused(_ testCase: (String, String, String, String)) throws {
        let (_, change, field, fragment) = testCase
        let issues = try Fixture.issues(yaml: Fixture.merged(Fixture.minimalYAML, change))
        let matching = issues.filter { $0.field == field }
        #expect(!matching.isEmpty, "no issue for \(field) in \(issues)")
        #expect(matching.contains { $0.message.contains(fragment) }, "\(matching)")
    }

    @Test("a missing required field is named", arguments: [
        ("source:\n  host: 10.0.0.5\n", "source.user"),
        ("target:\n  user: admin\n", "target.writer.host"),
        ("replication:\n  forward:\n    user: r\n", "replication.forward.password-env"),
    ])
    func missingField(_ yaml: String, _ field: String) {
        let issues = Fixture.issues(yaml: yaml)
        #expect(issues.contains { $0.field == field && $0.message.hasPrefix("missing") }, "\(issues)")
        #expect(issues.contains { $0.field == "proxysql.nodes" })
        #expect(issues.contains { $0.field == "replication.reverse.user" })
    }

    @Test("a file with several mistakes reports them all, with lines, without echoing the password")
    func manyProblems() throws {
        let path = try Fixture.path("invalid.yaml")
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: [:], currentDirectory: "/").load(explicit: path)
        }
        let issues = try #require(error).issues
        let fields = Set(issues.map(\.field))
        #expect(fields.isSuperset(of: ["source.hots", "source.password", "target.writer.host", "target.writer.port", "policy.drain-deadline", "policy.drain-deadline-policy", "source.host"]))
        #expect(issues.first { $0.field == "source.hots" }?.origin == .file(path: path, line: 3))
        let text = try #require(error).description
        #expect(!text.contains("hunter2"))
        #expect(text.contains("did you mean source.host?"))
    }

    @Test("YAML errors give the line and do not quote the file", arguments: [
        ("duplicate-key.yaml", "line 2: key host appears twice"), ("syntax-error.yaml", "line"),
    ])
    func syntaxErrors(_ file: String, _ fragment: String) throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: [:], currentDirectory: "/").load(explicit: try Fixture.path(file))
        }
        #expect(error?.code == .syntax)
        #expect(error?.description.contains(fragment) == true, "\(String(describing: error))")
        #expect(error?.description.contains("10.0.0.5") == false)
    }

    @Test("ProxySQL nodes written as a list get a message showing the right form")
    func nodesAsList() throws {
        let issues = Fixture.issues(yaml: try String(contentsOfFile: Fixture.path("nodes-as-list.yaml"), encoding: .utf8))
        #expect(issues.contains { $0.field == "proxysql.nodes" && $0.message.contains("not as a list") })
    }

    @Test("flags: unknown keys, sections, passwords and malformed assignments are refused")
    func badFlags() throws {
        let issues = try Fixture.issues(
            yaml: Fixture.minimalYAML,
            assignments: ["policy.drain-deadlin=3ms", "source.password=hunter2", "policy", "source=x", "source.port=abc"]
        )
        #expect(issues.contains { $0.field == "policy.drain-deadlin" && $0.message.contains("did you mean policy.drain-deadline?") })
        #expect(issues.contains { $0.field == "source.password" && $0.message.contains("never accepted on the command line") })
        #expect(issues.contains { $0.field == "policy" && $0.message.contains("key=value") })
        #expect(issues.contains { $0.field == "source" && $0.message.contains("section") })
        #expect(issues.contains { $0.field == "source.port" && $0.origin == .flag })
        #expect(!issues.description.contains("hunter2"))
    }

    @Test("unknown MIGRATE_ variables are refused with a suggestion; password variables are not")
    func environmentVariables() throws {
        let yaml = try Fixture.minimalYAML.replacingOccurrences(of: "TEST_SOURCE_PASSWORD", with: "MIGRATE_SOURCE_PASSWORD")
        let issues = Fixture.issues(
            yaml: yaml,
            environment: ["MIGRATE_POLICY_DRAIN_DEADLNE": "3s", "MIGRATE_SOURCE_PASSWORD": "hunter2", "MIGRATE_CONFIG": "x", "OTHER": "y"]
        )
        #expect(issues.count == 1, "\(issues)")
        #expect(issues.first?.field == "MIGRATE_POLICY_DRAIN_DEADLNE")
        #expect(issues.first?.message.contains("did you mean MIGRATE_POLICY_DRAIN_DEADLINE?") == true)
    }
}

@Suite("Human durations")
struct HumanDurationTests {
    @Test("parses", arguments: [
        ("500ms", Duration.milliseconds(500)), ("2s", .seconds(2)), ("1m", .seconds(60)), ("1m30s", .seconds(90)),
        ("1.5s", .milliseconds(1500)), ("250us", .microseconds(250)), ("1h", .seconds(3600)), ("0s", .zero),
        (" 2ms ", .milliseconds(2)),
    ])
    func parses(_ text: String, _ expected: Duration) {
        #expect(HumanDuration.parse(text) == expected)
    }

    @Test("refuses", arguments: ["", "5", "-1s", "1.2.3s", "ms", "2 s", "1d", "1e9h"])
    func refuses(_ text: String) {
        #expect(HumanDuration.parse(text) == nil)
    }

    @Test("formats back to what parses to the same value", arguments: [
        Duration.milliseconds(500), .seconds(2), .seconds(60), .seconds(90), .milliseconds(1500), .microseconds(250),
        .seconds(3600), .milliseconds(2), .zero,
    ])
    func roundTrips(_ duration: Duration) {
        #expect(HumanDuration.parse(HumanDuration.format(duration)) == duration)
    }

    @Test("readable forms for tables")
    func readable() {
        #expect(HumanDuration.readable(.microseconds(850)) == "850 µs")
        #expect(HumanDuration.readable(.microseconds(12_400)) == "12.4 ms")
        #expect(HumanDuration.readable(.milliseconds(412)) == "412 ms")
        #expect(HumanDuration.readable(.milliseconds(1270)) == "1.27 s")
        #expect(HumanDuration.readable(.seconds(125)) == "2m05s")
    }
}
