import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl
import Testing

extension FaultTests {
    /// Bad input at the library level: wrong passwords, unknown hosts, a target not replicating, lag over budget,
    /// missing ProxySQL rows, conflicting replication hostgroups, a journal from another topology. Each is refused
    /// before anything changes, with a message naming the endpoint and the remedy and without a password.
    @Suite("Bad input", .faultBed())
    struct BadInput {
        let logger = Logger(label: "fault.bad-input", factory: { _ in SwiftLogNoOpLogHandler() })

        @Test("a wrong password: the error names the endpoint and the account, never the password")
        func wrongPassword() async throws {
            guard let bed = try FaultBed.available() else { return }
            let wrong = "Wr0ng-\(UUID().uuidString.prefix(12))"
            var database = bed.source.rootConfiguration
            database.password = wrong
            let started = ContinuousClock.now
            let databaseError = await #expect(throws: MariaDBError.self) {
                try await MariaDBConnection.connect(configuration: database)
            }
            var admin = bed.rehearsal.emulator.adminConfiguration
            admin.password = wrong
            let adminError = await #expect(throws: ProxySQLAdminError.self) {
                try await ProxySQLAdminClient.connect(configuration: admin, name: "proxysql-1", logger: logger)
            }
            #expect(started.duration(to: .now) < .seconds(5))
            let databaseText = "\(databaseError.map { String(describing: $0) } ?? "")"
            let adminText = "\(adminError.map { String(describing: $0) } ?? "")"
            #expect(databaseError?.serverErrorNumber == 1045)
            #expect(databaseText.contains("127.0.0.1:\(bed.source.port)"), "\(databaseText)")
            #expect(adminError?.code == .accessDenied)
            #expect(adminText.contains("proxysql-1"), "\(adminText)")
            for text in [
                databaseText, adminText, databaseError.map { String(reflecting: $0) } ?? "",
                adminError.map { String(reflecting: $0) } ?? "",
            ] {
                #expect(!text.contains(wrong))
            }
            FaultMatrix.record(
                "| wrong password (database, ProxySQL admin) | refused at connect: `\(databaseText.prefix(80))` / `\(adminText.prefix(80))` | - | - | - | - | - | - |"
            )
        }

        @Test("an unknown host and a closed port: refused within the connect timeout, the endpoint named")
        func unknownHost() async throws {
            guard let bed = try FaultBed.available() else { return }
            for (host, port) in [("db.does-not-exist.invalid", 3306), ("127.0.0.1", 1)] {
                var configuration = bed.source.rootConfiguration
                configuration.endpoint = .tcp(host: host, port: port)
                configuration.connectTimeout = .seconds(2)
                let started = ContinuousClock.now
                let error = await #expect(throws: MariaDBError.self) {
                    try await MariaDBConnection.connect(configuration: configuration)
                }
                #expect(started.duration(to: .now) < .seconds(4), "\(host) took \(started.duration(to: .now))")
                let text = error.map { String(describing: $0) } ?? ""
                #expect(error?.code == .connectionFailed || error?.code == .server, "\(text)")
                #expect(text.contains(host), "\(text)")
                FaultMatrix.record(
                    "| unknown host / closed port \(host):\(port) | refused at connect in \(FaultMatrix.milliseconds(started.duration(to: .now))): `\(text.prefix(90))` | - | - | - | - | - | - |"
                )
            }
        }

        @Test("a target not replicating: the guards and the preflight refuse")
        func targetNotReplicating() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let target = try await bed.target.connectAsRoot()
            try await target.run("STOP SLAVE")
            let preflight = try await bed.preflight(logger: logger)
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "target not replicating", expected: .refused("replication.running"),
                    checkReplicationAfter: false),
                on: bed
            )
            try await target.run("START SLAVE")
            await target.close()
            try await bed.reconnectReplica(bed.target)
            try await bed.waitForReplica(bed.target, of: bed.source)
            #expect(
                preflight.blockingReasons.contains { $0.check == "replication.target" },
                "\(preflight.blockingReasons.map(\.check))")
            expectNamesTarget(result, bed: bed)
            try await bed.expectStartingState("after")
        }

        @Test("lag over budget: the guards refuse")
        func lagOverBudget() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            // Block Aurora's applier while the source writes, until Seconds_Behind_Master reaches 2 s.
            let lock = try await bed.target.connectAsRoot()
            try await lock.run("FLUSH TABLES WITH READ LOCK")
            let source = try await bed.source.connectAsRoot()
            try await source.run("CREATE TABLE IF NOT EXISTS cutover_load.fault_lag (id BIGINT PRIMARY KEY)")
            let deadline = ContinuousClock.now + .seconds(10)
            var lag = 0
            while lag < 2, ContinuousClock.now < deadline {
                try await source.run("REPLACE INTO cutover_load.fault_lag (id) VALUES (1)")
                try await Task.sleep(for: .milliseconds(200))
                let status = try await bed.target.connectAsRoot()
                lag =
                    Int(try await status.queryFirst("SHOW SLAVE STATUS")?["Seconds_Behind_Master"]?.string ?? "0") ?? 0
                await status.close()
            }
            await source.close()
            #expect(lag >= 2)
            var policy = FaultPolicies.standard
            policy.lagBudget = .seconds(1)
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "replication lag over budget", policy: policy, expected: .refused("replication.lag"),
                    checkReplicationAfter: false),
                on: bed
            )
            try await lock.run("UNLOCK TABLES")
            await lock.close()
            try await bed.waitForReplica(bed.target, of: bed.source)
            expectNamesTarget(result, bed: bed)
            try await bed.expectStartingState("after")
        }

        @Test("the target's writer row missing from ProxySQL: the guards and the preflight refuse")
        func missingProxySQLRow() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let admin = try await ProxySQLAdminClient.connect(
                configuration: bed.rehearsal.emulator.adminConfiguration, logger: logger)
            let row = bed.rehearsal.topology.target.writer
            try await admin.removeServer(row, logger: logger)
            try await admin.loadServersToRuntime(logger: logger)
            let preflight = try await bed.preflight(logger: logger)
            let result = try await FaultScenario.run(
                FaultCase(name: "target writer row missing in ProxySQL", expected: .refused("proxysql.rows")),
                on: bed
            )
            try await admin.addServer(
                BackendServer(
                    hostgroup: row.hostgroup, endpoint: row.endpoint, status: .offlineHard, comment: "aurora-writer"),
                logger: logger)
            try await admin.loadServersToRuntime(logger: logger)
            await admin.close()
            #expect(
                preflight.blockingReasons.contains { $0.check == "proxysql.target-rows" },
                "\(preflight.blockingReasons.map(\.check))")
            if case .refused(let reasons) = result.report.outcome {
                #expect(
                    reasons.contains {
                        $0.check == "proxysql.rows" && $0.message.contains(Rehearsal.proxyNodeName)
                            && $0.message.contains("\(bed.target.port)")
                    }, "\(reasons)")
            }
            try await bed.expectStartingState("after")
        }

        @Test("the target in a replication-hostgroup pair: the guards and the preflight refuse")
        func conflictingReplicationHostgroups() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let admin = try await MariaDBConnection.connect(configuration: bed.rehearsal.emulator.adminConfiguration)
            try await admin.run(
                "INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup, comment) VALUES (10, 11, 'fault')"
            )
            try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            let preflight = try await bed.preflight(logger: logger)
            let result = try await FaultScenario.run(
                FaultCase(
                    name: "target in a replication-hostgroup pair",
                    expected: .refused("proxysql.replication-hostgroups")),
                on: bed
            )
            try await admin.run("DELETE FROM mysql_replication_hostgroups")
            try await admin.run("LOAD MYSQL SERVERS TO RUNTIME")
            await admin.close()
            #expect(
                preflight.blockingReasons.contains { $0.check == "proxysql.replication-hostgroups" },
                "\(preflight.blockingReasons.map(\.check))")
            if case .refused(let reasons) = result.report.outcome {
                #expect(
                    reasons.contains {
                        $0.check == "proxysql.replication-hostgroups" && $0.message.contains("\(bed.target.port)")
                    }, "\(reasons)")
            }
            try await bed.expectStartingState("after")
        }

        @Test("a journal from another topology or operation: resume refuses and changes nothing")
        func journalFromAnotherTopology() async throws {
            guard let bed = try await FaultBed.inStartingState() else { return }
            let journal = TemporaryJournal("foreign")
            defer { journal.cleanup() }
            // An unfinished run of another topology: the same rows, another ProxySQL node list.
            var foreign = bed.topology
            foreign.proxyNodes = ["proxysql-elsewhere"]
            let writer = try CutoverJournal(path: journal.path)
            var header = CutoverJournalEntry(
                sequence: 0, runID: "foreign-run", kind: .runStarted, time: "2026-01-01T00:00:00.000Z",
                elapsedMicroseconds: 0)
            header.operation = .writerCutover
            header.policy = FaultPolicies.standard
            header.topologyFingerprint = foreign.fingerprint
            try await writer.append(header)
            var action = CutoverJournalEntry(
                sequence: 0, runID: "foreign-run", kind: .action, time: "2026-01-01T00:00:00.100Z",
                elapsedMicroseconds: 100_000)
            action.step = "offlineSoftOld"
            action.action = .setStatus(.writer(.source), .offlineSoft)
            try await writer.append(action)
            await writer.close()

            let (environment, close) = try await bed.makeEnvironment(logger: logger)
            for operation in [CutoverOperation.writerCutover, .writerFailback] {
                let fingerprint = environment.topology.fingerprint
                if operation == .writerFailback {
                    // Same topology, other operation: rewrite the header's fingerprint to match.
                    let text = try String(contentsOfFile: journal.path, encoding: .utf8)
                    try text.replacingOccurrences(of: foreign.fingerprint, with: fingerprint).write(
                        toFile: journal.path, atomically: true, encoding: .utf8)
                } else {
                    #expect(fingerprint != foreign.fingerprint)
                }
                let runnerJournal = try CutoverJournal(path: journal.path)
                let runner = CutoverRunner(
                    configuration: .init(
                        operation: operation, policy: FaultPolicies.standard, topologyFingerprint: fingerprint),
                    executor: LiveCutoverExecutor(environment: environment),
                    journal: runnerJournal,
                    logger: logger
                )
                let error = await #expect(throws: CutoverError.self) {
                    try await runner.resume(from: try CutoverJournal.read(path: journal.path))
                }
                await runnerJournal.close()
                #expect(error?.code == .journalMismatch)
                #expect(error?.description.contains("foreign-run") == true, "\(String(describing: error))")
                #expect(error?.remedy?.isEmpty == false)
                FaultMatrix.record(
                    "| journal from another \(operation == .writerCutover ? "topology" : "operation") | refused: `\(error.map { String(describing: $0) }?.prefix(100) ?? "")` | - | - | - | - | - | - |"
                )
            }
            await close()
            try await bed.expectStartingState("after")
        }

        // MARK: Helpers

        func expectNamesTarget(
            _ result: FaultCaseResult, bed: FaultBed, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            guard case .refused(let reasons) = result.report.outcome else { return }
            #expect(
                reasons.contains { $0.message.contains("127.0.0.1:\(bed.target.port)") }, "\(reasons)",
                sourceLocation: sourceLocation)
        }
    }
}
