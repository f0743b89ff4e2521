// The headline benchmark (issue #7): whole writer cut-overs on the local sandbox (two MariaDB servers, the Aurora
// stand-in, the ProxySQL emulator) under a steady write load through the emulator, against the published
// fixed-sleep procedure in the same run. Prints Markdown tables.
//
//   cd Benchmarks && swift run -c release cutover-window [--runs 10] [--only headline baseline ...]
//
// Why an executable and not a package-benchmark target: package-benchmark times one closure over many iterations
// and reports statistics of that timing. A cut-over sample is not the duration of a closure: it needs a write
// load spanning all samples, alternating operations (cut-over, failback), the window and its components from the
// run's own timeline, the clients' longest gap, a floor computed from the clients' records and the timed
// statements, and a lost-write check over the whole load afterwards; and the baseline must run in the same process
// against the same sandbox so the ratio is fair. None of that fits the iteration model.

import ArgumentParser
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging

@main
struct CutoverWindowBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cutover-window",
        abstract: "Measures the write window of whole writer cut-overs on the sandbox against the fixed-sleep procedure."
    )

    @Option(help: "Writer switches per scenario (alternating cut-over and failback; rounded up to an even number).")
    var runs = 10

    @Option(parsing: .upToNextOption, help: "Run only these scenarios (ids from --list).")
    var only: [String] = []

    @Flag(help: "List the scenarios and exit.")
    var list = false

    @Option(help: "Write-load clients.")
    var clients = 8

    @Option(help: "Pause of each client after each transaction, in milliseconds (7 ms gives about 1 000 writes/s).")
    var thinkTimeMilliseconds = 7

    @Option(help: "Log level of the library (trace, debug, info, notice, warning, error, critical).")
    var logLevel = "error"

    @Flag(help: "Add a table with every run.")
    var details = false

    @Option(help: "Write every timed statement of every run to this file (for profiling).")
    var trace: String?

    @Option(help: "Also write the tables to this file.")
    var output: String?

    @Option(
        help: """
            Directory for the runs' journals (one file per scenario, written and flushed as migrate-cli does; \
            removed at the end). Use a directory on the disk a real run would journal to.
            """
    )
    var journalDirectory = "/tmp"

    @Flag(help: "Run without a journal (the window without the fsync'd journal writes).")
    var noJournal = false

    @Flag(help: "One canary per ProxySQL node (through each node's writer port; the worst node is the headline) instead of one through the first node's.")
    var canaryPerNode = false

    @Option(
        help: """
            When a run stops, write what explains it here: both servers' process lists and GTID state at the stop, \
            the old writer's binary log decoded from the final position, the load's ledger and the run's statements \
            (one directory per scenario).
            """
    )
    var evidenceDirectory: String?

    @Option(
        help: """
            The emulator's admin latencies: realistic (a real ProxySQL 2.7.1's, the default), fast (no padding), \
            or both (every scenario once per profile, in one run).
            """
    )
    var adminLatency = "realistic"

    @Option(
        help: """
            The sandbox's servers: mariadb (MariaDB 10.11, the default), mysql (MySQL 9.7 as source and Aurora \
            stand-in, installed by `migrate-cli sandbox install-mysql`), or both (every scenario once per kind, in \
            one run).
            """
    )
    var server = "mariadb"

    /// The journal of `scenario`'s runs, removed first so every run of the benchmark starts from an empty one.
    private func journalPath(for scenario: Scenario) -> String? {
        if noJournal { return nil }
        let path = "\(journalDirectory)/cutover-window-\(getpid())-\(scenario.id).jsonl"
        unlink(path)
        unlink(path + ".lock")
        return path
    }

    /// Removes the journals `journalPath(for:)` named.
    private func removeJournals(_ scenarios: [Scenario]) {
        for scenario in scenarios {
            guard let path = journalPath(for: scenario) else { continue }
            unlink(path)
            unlink(path + ".lock")
        }
    }

    mutating func run() async throws {
        if list {
            for scenario in Scenario.all { print("\(scenario.id)\t\(scenario.label)") }
            return
        }
        let unknown = only.filter { id in !Scenario.all.contains { $0.id == id } }
        guard unknown.isEmpty else {
            throw ValidationError("unknown scenario(s): \(unknown.joined(separator: ", ")); see --list")
        }
        let scenarios = Scenario.all.filter { only.isEmpty || only.contains($0.id) }
        let profiles: [AdminLatencyProfile]
        switch adminLatency.lowercased() {
        case "both": profiles = [.realistic, .fast]
        default:
            guard let profile = AdminLatencyProfile(named: adminLatency) else {
                throw ValidationError("--admin-latency must be realistic, fast or both")
            }
            profiles = [profile]
        }
        let serverKinds: [SandboxServerKind]
        switch server.lowercased() {
        case "both": serverKinds = [.mariadb, .mysql]
        case "mariadb": serverKinds = [.mariadb]
        case "mysql": serverKinds = [.mysql]
        default: throw ValidationError("--server must be mariadb, mysql or both")
        }
        for kind in serverKinds { try MariaDBSandbox.requireServerBinaries(kind: kind) }
        let runs = max(2, runs + runs % 2)
        let level = Logger.Level(rawValue: logLevel) ?? .error
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "cutover-window")

        let header = Self.machineDescription() + "\n"
            + (noJournal
                ? "- journal: none (--no-journal)"
                : "- journal: one file per scenario in \(journalDirectory), written and flushed as migrate-cli does")
            + "\n- emulator admin latency profile: " + profiles.map(\.name).joined(separator: ", then ")
            + " (realistic: a real ProxySQL 2.7.1's LOAD ≈2.0 ms, pool stats ≈2.5–3 ms, runtime tables ≈1.2 ms; "
            + "fast: no padding)"
            + "\n- servers: " + serverKinds.map(Self.serverDescription).joined(separator: ", then ")
        print(header)
        print("")
        var renderedTables: [String] = []
        var allResults: [ScenarioResult] = []
        for kind in serverKinds {
        for profile in profiles {
            var results: [ScenarioResult] = []
            // One rehearsal per (Aurora delays, ProxySQL nodes), in the order the scenarios are listed.
            var topologies: [(delays: Bool, nodes: Int)] = []
            for scenario in scenarios where !topologies.contains(where: { $0 == (scenario.auroraDelays, scenario.proxyNodes) }) {
                topologies.append((scenario.auroraDelays, scenario.proxyNodes))
            }
            topologies.sort { !$0.delays && $1.delays }
            for (delays, nodes) in topologies {
                let group = scenarios.filter { $0.auroraDelays == delays && $0.proxyNodes == nodes }
                guard !group.isEmpty else { continue }
                printError("starting the rehearsal topology (\(kind), Aurora delays \(delays ? "on" : "off"), \(nodes) ProxySQL node(s), admin latency \(profile))")
                let clients = clients
                let thinkTime = Duration.milliseconds(thinkTimeMilliseconds)
                let groupResults = try await withRehearsal(
                    // The 30 s catch-up deadline makes a worst-case window of 32.6 s: ProxySQL must let clients wait
                    // that long, or the guards refuse (`proxysql.window-settings`).
                    options: {
                        var options = Rehearsal.Options(
                            simulateAuroraDelays: delays, proxyVariables: ["mysql-connect_timeout_server_max": "60000"],
                            adminLatency: profile, serverKind: kind)
                        options.proxyNodes = nodes
                        return options
                    }(),
                    logger: logger
                ) { rehearsal -> [ScenarioResult] in
                    let burst = try await BurstWriter.prepare(rehearsal, logger: logger)
                    var collected: [ScenarioResult] = []
                    do {
                        var brokenBy: String?
                        for scenario in group {
                            if let brokenBy {
                                printError("scenario \(scenario.id): skipped (\(brokenBy) left the topology in an unknown state)")
                                collected.append(ScenarioResult(skipped: scenario, reason: "skipped: `\(brokenBy)` left the topology in an unknown state"))
                                continue
                            }
                            printError("scenario \(scenario.id): \(scenario.label)")
                            let result = try await ScenarioRunner(
                                scenario: scenario,
                                runs: runs,
                                clients: clients,
                                thinkTime: thinkTime,
                                rehearsal: rehearsal,
                                burst: burst,
                                logger: logger,
                                journalPath: journalPath(for: scenario),
                                evidenceDirectory: evidenceDirectory.map { "\($0)/\(scenario.id)-\(getpid())" },
                                canaryPerNode: canaryPerNode,
                                progress: { printError($0) }
                            ).run()
                            collected.append(result)
                            if let failure = result.failure {
                                printError("scenario \(scenario.id) stopped: \(failure)")
                                brokenBy = scenario.id
                            }
                        }
                    } catch {
                        await burst.close()
                        throw error
                    }
                    await burst.close()
                    return collected
                }
                results += groupResults
            }
            let profileTables = "### Servers: \(Self.serverDescription(kind)); emulator admin latency profile: \(profile)\n\n"
                + Report(results: results, details: details).render()
            print(profileTables)
            renderedTables.append(profileTables)
            allResults += results
        }
        }
        removeJournals(scenarios)
        let tables = renderedTables.joined(separator: "\n\n")
        let results = allResults
        if let trace {
            var lines: [String] = []
            for result in results {
                for analysis in result.analyses {
                    let record = analysis.record
                    let origin = record.windowOpened ?? record.started
                    lines.append("# \(result.scenario.id) #\(record.index + 1) \(record.operation) window \(Report.ms(record.window)) ms")
                    for statement in record.statements {
                        let offset = (statement.start - origin).inMilliseconds
                        lines.append(
                            String(format: "%9.2f %8.2f ms ", offset, statement.duration.inMilliseconds)
                                + "[\(statement.endpoint)] \(statement.text.prefix(160))"
                        )
                    }
                }
            }
            try lines.joined(separator: "\n").write(toFile: trace, atomically: true, encoding: .utf8)
        }
        if let output {
            try (header + "\n\n" + tables + "\n").write(toFile: output, atomically: true, encoding: .utf8)
        }
    }

    /// The servers of one kind, as the tables' headings name them.
    static func serverDescription(_ kind: SandboxServerKind) -> String {
        switch kind {
        case .mariadb: "MariaDB 10.11 (source and Aurora stand-in)"
        case .mysql: "MySQL 9.7 (source and Aurora stand-in, GTIDs on, 4 parallel appliers)"
        }
    }

    static func machineDescription() -> String {
        var lines = ["## Cut-over window benchmark"]
        let formatter = ISO8601DateFormatter()
        lines.append("- date: \(formatter.string(from: Date()))")
        var system = utsname()
        uname(&system)
        let machine = withUnsafeBytes(of: &system.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let release = withUnsafeBytes(of: &system.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        lines.append("- machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB, Linux \(release) \(machine)")
        if let loadavg = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
            lines.append("- load average at start: \(loadavg.split(separator: " ").prefix(3).joined(separator: " "))")
        }
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let model = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
        {
            lines.append("- cpu: \(model.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?")")
        }
        return lines.joined(separator: "\n")
    }
}

/// Progress goes to standard error so standard output holds only the report.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
