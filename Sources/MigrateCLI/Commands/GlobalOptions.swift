public import ArgumentParser
import Foundation
import Logging

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Options every command that reads the configuration accepts.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "The configuration file (default: $MIGRATE_CONFIG, else ./migrate.yaml).",
            valueName: "file"
        )
    )
    var configPath: String?

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Set one configuration field, overriding the file and the environment (repeatable).",
            discussion: "Example: --set policy.drain-deadline=300ms. Passwords are refused here: name a password-env or password-file instead.",
            valueName: "key=value"
        )
    )
    var assignments: [String] = []

    @Flag(name: .long, help: "Write one JSON object per line on standard output, for machines.")
    var json = false

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("How much to log on standard error.", valueName: "level")
    )
    var logLevel: Logger.Level = .warning
}

/// Options of commands that change something.
struct ChangeOptions: ParsableArguments {
    @Flag(name: [.customShort("y"), .long], help: "Do not ask for confirmation (scripts). Without it, a terminal is needed to confirm.")
    var yes = false

    @Flag(name: .customLong("dry-run"), help: "Show what would be done, with the exact statements per endpoint; change nothing.")
    var dryRun = false
}

/// What every command does around its work: load the configuration, set up logging and output, confirm, and turn
/// an outcome or error into the documented exit code (``ExitStatus``).
struct CommandRuntime: Sendable {
    let options: GlobalOptions
    let environment: [String: String]
    let style: TerminalStyle

    init(
        options: GlobalOptions,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        bootstrapsLogging: Bool = true
    ) {
        self.options = options
        self.environment = environment
        self.style = options.json ? .plain : .forStandardOutput(environment: environment)
        if bootstrapsLogging { LoggingSetup.bootstrap(level: options.logLevel, json: options.json) }
    }

    var logger: Logger { Logger(label: "migrate-cli") }

    func loader() -> ConfigurationLoader {
        ConfigurationLoader(environment: environment, assignments: options.assignments)
    }

    /// The SIGKILL test hook, when `MIGRATE_CLI_TEST_SIGKILL` is set (announced on standard error); nil otherwise.
    ///
    /// - Throws: ``ConfigurationError`` when the variable's value is malformed.
    func testKillHook() throws -> TestKillHook? {
        let hook = try TestKillHook.from(environment: environment)
        hook?.announce()
        return hook
    }

    func loadConfiguration() throws -> MigrateConfiguration {
        try loader().load(explicit: options.configPath)
    }

    func commandEnvironment(bridge: LibraryBridge = .live) throws -> CommandEnvironment {
        let configuration = try loadConfiguration()
        return CommandEnvironment(
            configuration: configuration,
            connections: ConnectionFactory(configuration: configuration, environment: environment, loginPathResolver: bridge.resolveLoginPath),
            logger: logger
        )
    }

    /// `migrate-cli resume` with the same `--config` and `--set` as this invocation.
    var resumeCommand: String {
        var parts = ["migrate-cli", "resume"]
        if let path = options.configPath { parts += ["--config", Self.shellQuoted(path)] }
        for assignment in options.assignments { parts += ["--set", Self.shellQuoted(assignment)] }
        return parts.joined(separator: " ")
    }

    var statusCommand: String {
        "migrate-cli status" + (options.configPath.map { " --config \(Self.shellQuoted($0))" } ?? "")
    }

    static func shellQuoted(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+")
        if !text.isEmpty && text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: Output

    func write(_ text: String) {
        Self.writeAll(STDOUT_FILENO, text)
    }

    func writeError(_ text: String) {
        Self.writeAll(STDERR_FILENO, text)
    }

    /// Writes every byte of `text` to `descriptor`; a reader that went away (`migrate-cli rehearse | head`) is not
    /// an error worth crashing for: the rest is dropped and the command still cleans up.
    static func writeAll(_ descriptor: Int32, _ text: String) {
        guard !text.isEmpty else { return }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

    func emit(_ report: CommandReport) {
        write(options.json ? report.json.serialized + "\n" : report.human(style: style))
    }

    // MARK: Running

    /// Runs `body`, then exits with its status; an error is printed (naming the field or endpoint) and mapped to
    /// its exit code in ``ExitStatus/of(_:)-swift.type.method``.
    func run(_ body: () async throws -> ExitStatus) async throws {
        let status: ExitStatus
        do {
            status = try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            let (mapped, message) = ExitStatus.of(error)
            report(message: message, status: mapped, error: error)
            throw ExitCode(mapped.code)
        }
        if status != .success { throw ExitCode(status.code) }
    }

    private func report(message: String, status: ExitStatus, error: any Error) {
        if options.json {
            var pairs: [(String, JSONValue)] = [
                ("event", "error"), ("exit_code", .int(Int64(status.code))), ("exit_status", .string(status.name)),
                ("message", .string(message)),
            ]
            if let error = error as? ConfigurationError {
                pairs.append(("issues", .array(error.issues.map { issue in
                    .object([("field", .string(issue.field)), ("message", .string(issue.message)), ("origin", .optional(issue.origin?.description))])
                })))
            }
            write(JSONValue.object(pairs).serialized + "\n")
        }
        let errorStyle = TerminalStyle(colors: isatty(STDERR_FILENO) == 1 && environment["NO_COLOR"] == nil, interactive: false)
        writeError(errorStyle.red("error: ") + message + "\n" + errorStyle.dim("(exit \(status.code): \(status.meaning))") + "\n")
    }

    /// Asks the operator to type `yes` before a change, unless `--yes`. Refuses without a terminal.
    ///
    /// - Throws: ``OperatorDeclined``.
    func confirm(_ question: String, change: ChangeOptions) throws {
        if change.yes || change.dryRun { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw OperatorDeclined(description: "confirmation needed but standard input is not a terminal: pass --yes to proceed (or --dry-run to see the plan); nothing was changed")
        }
        writeError(question + "\nType yes to proceed: ")
        let answer = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased()
        guard answer == "yes" else {
            throw OperatorDeclined(description: "not confirmed; nothing was changed")
        }
    }
}
