import Cutover
import CutoverRehearsal
import CutoverSandbox
import Foundation
import Logging
import MariaDB
import ProxySQLAdmin
import ReplicationControl

/// What `sandbox up` leaves for `sandbox status|down` and for the operator: where everything is. Holds no password
/// (those are in the secrets directory, 0600 files).
struct SandboxState: Codable, Sendable {
    struct Endpoint: Codable, Sendable {
        var host: String
        var port: Int
        var user: String
        /// The file holding the password, relative to the state directory.
        var passwordFile: String
    }

    var pid: Int32
    var startedAt: String
    var stateDirectory: String
    var configurationFile: String
    var clientOptionFile: String
    var source: Endpoint
    var target: Endpoint
    var targetRoot: Endpoint
    var proxysqlAdmin: Endpoint
    /// Hostgroup → data port of the emulator.
    var dataPorts: [String: Int]
    var application: Endpoint
    var forwardReplicationUser: String
    var reverseReplicationUser: String
    /// The ProxySQL nodes after the first, when `sandbox up --proxysql-nodes N` started a fleet (issue #16); nil
    /// or empty for one node (and in state files of earlier versions).
    var additionalProxyNodes: [ProxyNode]? = nil
    /// The emulator's application port, routing by the read/write split's query rules (issue #16); nil in state
    /// files of earlier versions.
    var applicationPort: Int? = nil
    /// The servers' kind (`mariadb`, `mysql`: `sandbox up --server`, #12); nil in state files of earlier versions,
    /// which were all MariaDB.
    var serverKind: String? = nil

    /// How the endpoint table names the servers: `MySQL 9.7` or `MariaDB`.
    var serverName: String { serverKind == SandboxServerKind.mysql.rawValue ? "MySQL 9.7" : "MariaDB" }

    static let fileName = "sandbox.json"
}

/// `sandbox up|status|down`.
enum SandboxWiring {
    static func statePath(_ directory: String) -> String { directory + "/" + SandboxState.fileName }

    static func readState(_ directory: String) throws -> SandboxState? {
        let path = statePath(directory)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(SandboxState.self, from: data)
        } catch {
            throw ConfigurationError(code: .invalid, field: path, "is not a sandbox state file: \(error)")
        }
    }

    static func isRunning(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Writes `text` to `path` readable by its owner only.
    static func writePrivate(_ text: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else {
            throw ConfigurationError(code: .fileUnreadable, field: path, "cannot write: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        fchmod(descriptor, 0o600)
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else {
            throw ConfigurationError(code: .fileUnreadable, field: path, "short write")
        }
    }

    // MARK: up

    /// Starts the sandbox, writes its state, configuration and secrets, prints its endpoints (`output`), then
    /// waits for SIGINT/SIGTERM (or `sandbox down`) and stops everything.
    static func up(_ request: SandboxRequest, output: @escaping @Sendable (CommandReport) -> Void) async throws -> CommandReport {
        let directory = request.stateDirectory
        if let existing = try readState(directory) {
            if isRunning(existing.pid) {
                throw OperatorDeclined(description: "a sandbox already runs (pid \(existing.pid), state \(statePath(directory))); stop it with `migrate-cli sandbox down --state-dir \(directory)` first")
            }
            removeFiles(directory)
        }
        try FileManager.default.createDirectory(atPath: directory + "/secrets", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(directory + "/secrets", 0o700)

        let relay = await SignalRelay.install(signals: [SIGINT, SIGTERM]) { _ in SandboxSignal.shared.fire() }
        defer { relay.cancel() }
        var rehearsalOptions = Rehearsal.Options(simulateAuroraDelays: request.auroraDelays, serverKind: request.serverKind)
        rehearsalOptions.proxyNodes = request.proxyNodes
        let rehearsal = try await Rehearsal.start(options: rehearsalOptions, logger: request.logger)
        do {
            try await prepareTarget(rehearsal, logger: request.logger)
            let state = try writeFiles(rehearsal, directory: directory)
            output(report(state, rehearsal: rehearsal, running: true))
            await SandboxSignal.shared.wait()
        } catch {
            await rehearsal.stop()
            removeFiles(directory)
            throw error
        }
        await rehearsal.stop()
        removeFiles(directory)
        return CommandReport(command: "sandbox up", notes: ["sandbox stopped; its servers, data and files are removed"])
    }

    /// Binlog retention on the "Aurora", as the runbook sets it before a cut-over.
    static func prepareTarget(_ rehearsal: Rehearsal, logger: Logger) async throws {
        let admin = try await MariaDBConnection.connect(configuration: rehearsal.auroraShim.adminConfiguration, logger: logger)
        do {
            try await RDSReplicaController.detecting(on: admin, logger: logger).setBinlogRetentionHours(24, logger: logger)
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }

    static func writeFiles(_ rehearsal: Rehearsal, directory: String) throws -> SandboxState {
        let secrets: [(String, String)] = [
            ("source.password", rehearsal.source.rootConfiguration.password ?? ""),
            ("target.password", rehearsal.auroraShim.adminPassword),
            ("target-root.password", rehearsal.target.rootConfiguration.password ?? ""),
            ("proxysql-admin.password", rehearsal.emulator.configuration.adminPassword),
            ("forward.password", rehearsal.forwardReplicationPassword),
            ("reverse.password", rehearsal.reverseReplicationPassword),
            ("app.password", rehearsal.applicationAccount.password),
        ]
        for (name, value) in secrets { try writePrivate(value + "\n", to: "\(directory)/secrets/\(name)") }
        let writerPort = rehearsal.emulator.dataPort(hostgroup: Int(Rehearsal.writerHostgroup.rawValue)) ?? 0
        let readerPort = rehearsal.emulator.dataPort(hostgroup: Int(Rehearsal.readerHostgroup.rawValue)) ?? 0
        var state = SandboxState(
            pid: getpid(),
            startedAt: ISO8601DateFormatter().string(from: Date()),
            stateDirectory: directory,
            configurationFile: directory + "/migrate.yaml",
            clientOptionFile: directory + "/secrets/client.cnf",
            source: .init(host: "127.0.0.1", port: rehearsal.source.port, user: "root", passwordFile: "secrets/source.password"),
            target: .init(host: "127.0.0.1", port: rehearsal.target.port, user: rehearsal.auroraShim.adminUser, passwordFile: "secrets/target.password"),
            targetRoot: .init(host: "127.0.0.1", port: rehearsal.target.port, user: "root", passwordFile: "secrets/target-root.password"),
            proxysqlAdmin: .init(host: "127.0.0.1", port: rehearsal.emulator.adminPort, user: rehearsal.emulator.configuration.adminUser, passwordFile: "secrets/proxysql-admin.password"),
            dataPorts: ["\(Rehearsal.writerHostgroup.rawValue)": writerPort, "\(Rehearsal.readerHostgroup.rawValue)": readerPort],
            application: .init(host: "127.0.0.1", port: writerPort, user: rehearsal.applicationAccount.username, passwordFile: "secrets/app.password"),
            forwardReplicationUser: Rehearsal.forwardReplicationUser,
            reverseReplicationUser: Rehearsal.reverseReplicationUser
        )
        state.additionalProxyNodes = additionalProxyNodes(rehearsal)
        state.applicationPort = rehearsal.emulator.applicationPort
        state.serverKind = rehearsal.options.serverKind.rawValue
        // A client option file for the stock `mariadb` client: one group per endpoint.
        var options = "# migrate-cli sandbox: mariadb --defaults-extra-file=\(state.clientOptionFile) --defaults-group-suffix=_source\n"
        for (suffix, endpoint, password) in [
            ("source", state.source, secrets[0].1), ("aurora", state.target, secrets[1].1), ("aurora_root", state.targetRoot, secrets[2].1),
            ("proxysql_admin", state.proxysqlAdmin, secrets[3].1), ("app_writer", state.application, secrets[6].1),
        ] {
            options += "\n[client_\(suffix)]\nhost=\(endpoint.host)\nport=\(endpoint.port)\nuser=\(endpoint.user)\npassword=\(password)\nprotocol=TCP\n"
        }
        options += "\n[client_app_reader]\nhost=127.0.0.1\nport=\(readerPort)\nuser=\(state.application.user)\npassword=\(secrets[6].1)\nprotocol=TCP\n"
        if let port = state.applicationPort {
            options += "\n[client_app]\nhost=127.0.0.1\nport=\(port)\nuser=\(state.application.user)\npassword=\(secrets[6].1)\nprotocol=TCP\n"
        }
        try writePrivate(options, to: state.clientOptionFile)
        try configurationText(state, node: Rehearsal.proxyNodeName, additionalNodes: state.additionalProxyNodes ?? []).write(toFile: state.configurationFile, atomically: true, encoding: .utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(state)
        try writePrivate(String(decoding: data, as: UTF8.self) + "\n", to: statePath(directory))
        return state
    }

    /// A configuration for `migrate-cli --config` pointing at the sandbox (passwords by file).
    static func configurationText(_ state: SandboxState, node: String, additionalNodes: [SandboxState.ProxyNode] = []) -> String {
        """
        # Written by `migrate-cli sandbox up` (pid \(state.pid)) for the local sandbox; removed by `sandbox down`.
        # Try: migrate-cli --config \(state.configurationFile) preflight | plan writer-cutover | cutover writers
        version: 1
        source:
          host: \(state.source.host)
          port: \(state.source.port)
          user: \(state.source.user)
          password-file: \(state.source.passwordFile)
          reader:
            host: \(state.source.host)
            port: \(state.source.port)
        target:
          writer:
            host: \(state.target.host)
            port: \(state.target.port)
          reader:
            host: \(state.target.host)
            port: \(state.target.port)
          user: \(state.target.user)
          password-file: \(state.target.passwordFile)
        proxysql:
          hostgroups:
            writer: \(Rehearsal.writerHostgroup.rawValue)
            reader: \(Rehearsal.readerHostgroup.rawValue)
          nodes:
            \(node):
              host: \(state.proxysqlAdmin.host)
              port: \(state.proxysqlAdmin.port)
              user: \(state.proxysqlAdmin.user)
              password-file: \(state.proxysqlAdmin.passwordFile)
        \(additionalNodesText(additionalNodes))replication:
          forward:
            user: \(state.forwardReplicationUser)
            password-file: secrets/forward.password
            tls: disabled            # the sandbox's servers have no certificates; loopback only
          reverse:
            user: \(state.reverseReplicationUser)
            password-file: secrets/reverse.password
            tls: disabled
        policy:
          drain-deadline: 2s
          catch-up-deadline: 5s
        journal:
          path: migrate-journal.jsonl
        application:
          users: [\(state.application.user)]

        """
    }

    static func removeFiles(_ directory: String) {
        for name in [SandboxState.fileName, "migrate.yaml", "migrate-journal.jsonl", "migrate-journal.jsonl.lock", "secrets"] {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        try? FileManager.default.removeItem(atPath: directory)  // only when empty
    }

    static func report(_ state: SandboxState, rehearsal: Rehearsal?, running: Bool) -> CommandReport {
        let rows: [[String]] = [
            ["source (\(state.serverName))", "127.0.0.1:\(state.source.port)", state.source.user, state.source.passwordFile],
            ["\"Aurora\" (\(state.serverName) + mysql.rds_* procedures)", "127.0.0.1:\(state.target.port)", "\(state.target.user) (no SUPER; procedures only)", state.target.passwordFile],
            ["\"Aurora\" as root (DBA)", "127.0.0.1:\(state.targetRoot.port)", state.targetRoot.user, state.targetRoot.passwordFile],
            ["ProxySQL emulator admin", "127.0.0.1:\(state.proxysqlAdmin.port)", state.proxysqlAdmin.user, state.proxysqlAdmin.passwordFile],
        ] + state.dataPorts.sorted { $0.key < $1.key }.map { hostgroup, port in
            ["ProxySQL emulator data, hostgroup \(hostgroup)", "127.0.0.1:\(port)", state.application.user, state.application.passwordFile]
        } + (state.applicationPort.map { port in
            [["ProxySQL emulator application port (query rules: SELECT to hostgroup \(Rehearsal.readerHostgroup.rawValue), the rest to \(Rehearsal.writerHostgroup.rawValue))", "127.0.0.1:\(port)", state.application.user, state.application.passwordFile]]
        } ?? []) + additionalNodeRows(state) + [
            ["forward replication (Aurora ← source)", "-", state.forwardReplicationUser, "secrets/forward.password"],
            ["reverse replication (source ← Aurora)", "-", state.reverseReplicationUser, "secrets/reverse.password"],
        ]
        var notes = [
            "state: \(statePath(state.stateDirectory)); passwords only in \(state.stateDirectory)/secrets/ (0600), never printed",
            "configuration: \(state.configurationFile)",
            "  migrate-cli --config \(state.configurationFile) preflight",
            "  migrate-cli --config \(state.configurationFile) plan writer-cutover",
            "  migrate-cli --config \(state.configurationFile) cutover writers",
            "stock client: mariadb --defaults-extra-file=\(state.clientOptionFile) --defaults-group-suffix=_source   (or _aurora, _aurora_root, _proxysql_admin, _app_writer, _app_reader, _app)",
        ]
        if running {
            notes.append("sandbox up (pid \(state.pid)): running until Ctrl-C, SIGTERM or `migrate-cli sandbox down --state-dir \(state.stateDirectory)`")
        }
        return CommandReport(
            command: "sandbox",
            sections: [.init(title: "Sandbox endpoints", headers: ["endpoint", "address", "account", "password file"], rows: rows)],
            notes: notes
        )
    }

    // MARK: status

    static func status(_ request: SandboxRequest) async throws -> CommandReport {
        guard let state = try readState(request.stateDirectory) else {
            return CommandReport(
                command: "sandbox status",
                blockingReasons: [BlockingReason(check: "sandbox.running", message: "no sandbox state at \(statePath(request.stateDirectory))", remedy: "migrate-cli sandbox up")]
            )
        }
        let running = isRunning(state.pid)
        var rows: [[String]] = [["sandbox up", "pid \(state.pid)", "-", running ? "running" : "NOT running (stale state)"]]
        var blocking: [BlockingReason] = []
        if !running {
            blocking.append(BlockingReason(check: "sandbox.process", message: "process \(state.pid) is gone but its state remains", remedy: "migrate-cli sandbox down --state-dir \(state.stateDirectory) (cleans up), then sandbox up"))
        }
        let endpoints: [(String, SandboxState.Endpoint, MariaDBConnection.Configuration.Quoting)] = [
            ("source", state.source, .server),
            ("\"Aurora\"", state.target, .server),
            ("ProxySQL emulator admin", state.proxysqlAdmin, .proxySQLAdmin),
            ("ProxySQL emulator writer port", state.application, .server),
        ]
        for (name, endpoint, quoting) in endpoints {
            let address = "\(endpoint.host):\(endpoint.port)"
            do {
                let password = try ConnectionFactory.readPasswordFile(state.stateDirectory + "/" + endpoint.passwordFile, field: name)
                var configuration = MariaDBConnection.Configuration(host: endpoint.host, port: endpoint.port, user: endpoint.user, password: password.reveal())
                configuration.connectTimeout = .seconds(2)
                configuration.quoting = quoting
                let connection = try await MariaDBConnection.connect(configuration: configuration, logger: request.logger)
                let version = try await connection.queryFirst("SELECT @@version")?[0].string ?? "?"
                await connection.close()
                rows.append([name, address, endpoint.user, "ok (\(version))"])
            } catch {
                rows.append([name, address, endpoint.user, "FAILED: \(error)"])
                blocking.append(BlockingReason(check: "sandbox.\(name)", message: "\(name) at \(address) does not answer: \(error)", remedy: "migrate-cli sandbox down, then sandbox up"))
            }
        }
        var report = Self.report(state, rehearsal: nil, running: false)
        report.command = "sandbox status"
        report.sections.insert(.init(title: "Sandbox health", headers: ["endpoint", "address", "account", "state"], rows: rows), at: 0)
        report.blockingReasons = blocking
        return report
    }

    // MARK: down

    static func down(_ request: SandboxRequest) async throws -> CommandReport {
        guard let state = try readState(request.stateDirectory) else {
            return CommandReport(command: "sandbox down", notes: ["no sandbox state at \(statePath(request.stateDirectory)): nothing to stop"])
        }
        var notes: [String] = []
        if isRunning(state.pid) {
            kill(state.pid, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(60)
            while isRunning(state.pid), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            if isRunning(state.pid) {
                throw CutoverError(code: .executorFailed, message: "sandbox process \(state.pid) did not stop within 60 s after SIGTERM", remedy: "kill \(state.pid) (its servers stop with it)")
            }
            notes.append("stopped sandbox process \(state.pid): its servers are stopped and their data removed")
        } else {
            notes.append("process \(state.pid) was gone already (its servers stop with it); removed the stale state")
        }
        removeFiles(request.stateDirectory)
        return CommandReport(command: "sandbox down", notes: notes)
    }
}

/// The signal that ends `sandbox up`, fired by SIGINT/SIGTERM.
final class SandboxSignal: Sendable {
    static let shared = SandboxSignal()
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    private init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func fire() { continuation.yield() }

    func wait() async {
        for await _ in stream { return }
    }
}
