import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A data directory prepared once per process by `mariadb-install-db` (MySQL: `mysqld --initialize-insecure`),
/// copied for every sandbox server.
///
/// It holds the system tables and the root accounts (`root@localhost` and `root@127.0.0.1`, all privileges,
/// a random password made for this process). It is prepared with the binary log off, so the copies start with
/// empty binary logs and no GTID history.
struct DataDirectoryTemplate: Sendable {
    /// The template's own directory (`<root>/template-<pid>-<random>`), with an owner file.
    var directory: String
    /// The prepared data directory inside it.
    var dataDirectory: String
    /// The root password of every server copied from it.
    var rootPassword: String
    /// How long `mariadb-install-db` took.
    var preparationDuration: Duration
}

/// Prepares the template once per (root, binaries) and hands it to every caller; concurrent callers wait for the
/// one preparation in progress.
actor DataDirectoryTemplateStore {
    static let shared = DataDirectoryTemplateStore()

    private struct Key: Hashable {
        var root: String
        var binaries: ServerBinaries
    }

    private var ready: [Key: DataDirectoryTemplate] = [:]
    private var waiting: [Key: [CheckedContinuation<DataDirectoryTemplate, any Error>]] = [:]

    /// Returns the template for `binaries` under `root`, preparing it on first use.
    func template(
        root: String,
        binaries: ServerBinaries,
        timeout: Duration,
        logger: Logger
    ) async throws -> DataDirectoryTemplate {
        let key = Key(root: root, binaries: binaries)
        if let template = ready[key] { return template }
        if waiting[key] != nil {
            return try await withCheckedThrowingContinuation { continuation in
                waiting[key, default: []].append(continuation)
            }
        }
        waiting[key] = []
        let result: Result<DataDirectoryTemplate, any Error>
        do {
            result = .success(try await Self.prepare(root: root, binaries: binaries, timeout: timeout, logger: logger))
        } catch {
            result = .failure(error)
        }
        let waiters = waiting.removeValue(forKey: key) ?? []
        if case .success(let template) = result { ready[key] = template }
        for waiter in waiters { waiter.resume(with: result) }
        return try result.get()
    }

    /// Runs `mariadb-install-db` into a new template directory.
    private static func prepare(
        root: String,
        binaries: ServerBinaries,
        timeout: Duration,
        logger: Logger
    ) async throws -> DataDirectoryTemplate {
        let started = ContinuousClock.now
        let directory = "\(root)/template-\(getpid())-\(randomToken(length: 8))"
        try SandboxFiles.createDirectory(directory, mode: 0o700)
        SandboxRegistry.shared.registerDirectory(directory)
        try SandboxFiles.writeOwnerFile(in: directory)
        let dataDirectory = "\(directory)/data"
        let temporaryDirectory = "\(directory)/tmp"
        try SandboxFiles.createDirectory(temporaryDirectory)
        let password = randomToken(length: 24)

        let bootstrapPath = "\(directory)/bootstrap.sql"
        var arguments = ["--no-defaults"]
        arguments += ServerSettings.userArguments
        switch binaries.kind {
        case .mariadb:
            // Runs inside `mariadbd --bootstrap`, where the grant tables must be loaded before account statements.
            try SandboxFiles.write(
                """
                FLUSH PRIVILEGES;
                CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY '\(password)';
                GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
                ALTER USER 'root'@'localhost' IDENTIFIED BY '\(password)';
                DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1');
                DELETE FROM mysql.proxies_priv WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1');
                FLUSH PRIVILEGES;

                """,
                to: bootstrapPath,
                mode: 0o600
            )
            arguments += [
                "--datadir=\(dataDirectory)",
                "--tmpdir=\(temporaryDirectory)",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--extra-file=\(bootstrapPath)",
                "--skip-log-bin",
            ]
            arguments += ServerSettings.storageArguments
        case .mysql:
            // Run by `mysqld --initialize-insecure` (`--init-file`) once the system tables exist. `root@localhost`
            // cannot log in over TCP with `--skip-name-resolve`: the sandbox uses `root@127.0.0.1`.
            try SandboxFiles.write(
                """
                CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY '\(password)';
                GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
                ALTER USER 'root'@'localhost' IDENTIFIED BY '\(password)';

                """,
                to: bootstrapPath,
                mode: 0o600
            )
            arguments += [
                "--initialize-insecure",
                "--datadir=\(dataDirectory)",
                "--tmpdir=\(temporaryDirectory)",
                "--init-file=\(bootstrapPath)",
                "--disable-log-bin",
            ]
            arguments += ServerSettings.mysqlCommonArguments + ServerSettings.mysqlStorageArguments
        }
        defer { unlink(bootstrapPath) }

        let logPath = "\(directory)/install.log"
        let initializerName = binaries.kind == .mariadb ? "mariadb-install-db" : "mysqld --initialize-insecure"
        logger.debug("preparing template data directory", metadata: ["sandbox.directory": "\(directory)"])
        let process = try ChildProcess.launch(
            executable: binaries.installDatabase,
            arguments: arguments,
            environment: ServerSettings.environment,
            outputPath: logPath
        )
        SandboxRegistry.shared.registerProcessGroup(process.pid)
        defer { SandboxRegistry.shared.unregisterProcessGroup(process.pid) }
        let termination = await process.waitForExit(timeout: timeout)
        guard let termination else {
            process.sendToGroup(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(5))
            throw SandboxError(
                code: .dataDirectoryPreparationFailed,
                message: "\(initializerName) did not finish within \(timeout)",
                logTail: SandboxFiles.tail(logPath)
            )
        }
        guard termination == .exited(0) else {
            throw SandboxError(
                code: .dataDirectoryPreparationFailed,
                message: "\(initializerName) failed (\(termination)); see \(logPath)",
                logTail: SandboxFiles.tail(logPath)
            )
        }
        let duration = ContinuousClock.now - started
        logger.info(
            "prepared template data directory",
            metadata: [
                "sandbox.directory": "\(directory)",
                "sandbox.duration_ms": "\(duration.milliseconds)",
            ]
        )
        return DataDirectoryTemplate(
            directory: directory,
            dataDirectory: dataDirectory,
            rootPassword: password,
            preparationDuration: duration
        )
    }
}

/// A random string of ASCII letters and digits.
func randomToken(length: Int) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    var generator = SystemRandomNumberGenerator()
    return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
}

extension Duration {
    /// The duration in whole milliseconds.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
