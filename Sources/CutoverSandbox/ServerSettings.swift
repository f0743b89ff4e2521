#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The options every sandbox server runs with.
enum ServerSettings {
    /// `--user=<name>` when running as root (mariadbd refuses to run as root without it), else nothing.
    static var userArguments: [String] {
        guard geteuid() == 0 else { return [] }
        let name = getpwuid(0).flatMap { $0.pointee.pw_name }.map { String(cString: $0) } ?? "root"
        return ["--user=\(name)"]
    }

    /// Storage settings shared by the template and the servers (the redo log size must match so the copies do not
    /// rebuild it): a small buffer pool and redo log for a fast start, no native AIO (many instances on one host
    /// can exhaust `aio-max-nr`), and a relaxed flush (the data is throwaway; a killed server still keeps every
    /// committed transaction, only an operating-system crash could lose the last second).
    static let storageArguments = [
        "--innodb-buffer-pool-size=16M",
        "--innodb-log-file-size=8M",
        "--innodb-use-native-aio=0",
        "--innodb-flush-log-at-trx-commit=2",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci",
    ]

    /// The environment of every server process: nothing from the caller's environment that a server or the
    /// install script could read (`MYSQL_HOME`, `MYSQL_UNIX_PORT`, ...), except the time zone.
    static var environment: [String: String] {
        var environment = [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin",
            "LC_ALL": "C",
        ]
        if let zone = getenv("TZ") { environment["TZ"] = String(cString: zone) }
        return environment
    }

    /// MySQL's storage settings, shared by the template and the servers like ``storageArguments`` (MySQL sizes
    /// its redo log with `innodb_redo_log_capacity`, 8 MB at least). `sync_binlog=0` as MariaDB's default: MySQL's
    /// default of 1 syncs the binary log at every commit, on the source and again on a replica, which left the
    /// "Aurora" replica seconds behind an 8-client load on a busy 2-core machine.
    static let mysqlStorageArguments = [
        "--sync-binlog=0",
        "--innodb-buffer-pool-size=16M",
        "--innodb-redo-log-capacity=8M",
        "--innodb-use-native-aio=0",
        "--innodb-flush-log-at-trx-commit=2",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci",
    ]

    /// What every MySQL process of the sandbox needs besides its directories: no X Plugin (its fixed port 33060
    /// would collide between servers), no `secure_file_priv` directory (the default, `/var/lib/mysql-files`, does
    /// not exist and the server aborts).
    static let mysqlCommonArguments = ["--mysqlx=OFF", "--secure-file-priv="]

    /// The `mariadbd` / `mysqld` arguments (after `--defaults-file` naming the server's own option file) of one
    /// server.
    ///
    /// MySQL runs with GTIDs on (`gtid_mode=ON`, `enforce_gtid_consistency=ON`), the binary log on (ROW is its
    /// default, `log_replica_updates` too), the relay log named `relay-bin` (else it is named after the host),
    /// and `skip_replica_start` off like MariaDB's.
    static func serverArguments(
        kind: SandboxServerKind = .mariadb,
        directory: String,
        serverID: Int,
        port: Int,
        extraOptions: [String]
    ) -> [String] {
        if kind == .mysql {
            var arguments = userArguments + mysqlCommonArguments
            arguments += [
                "--datadir=\(directory)/data",
                "--tmpdir=\(directory)/tmp",
                "--socket=\(directory)/mysqld.sock",
                "--pid-file=\(directory)/mysqld.pid",
                "--log-error=\(directory)/error.log",
                "--port=\(port)",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--server-id=\(serverID)",
                "--gtid-mode=ON",
                "--enforce-gtid-consistency=ON",
                "--log-bin=mysql-bin",
                "--relay-log=relay-bin",
                "--log-replica-updates=ON",
                // A multi-threaded applier (MySQL's default, 4 workers) moves the executed position that
                // SOURCE_POS_WAIT and SHOW REPLICA STATUS report only at checkpoints, every 300 ms by default: a
                // replica that has applied everything still looks up to ~0.3 s (under load ~1 s) behind by position.
                "--replica-checkpoint-period=1",
                "--report-host=127.0.0.1",
                "--report-port=\(port)",
            ]
            arguments += mysqlStorageArguments
            arguments += extraOptions.compactMap(commandLineOption)
            return arguments
        }
        var arguments = userArguments
        arguments += [
            "--datadir=\(directory)/data",
            "--tmpdir=\(directory)/tmp",
            "--socket=\(directory)/mysqld.sock",
            "--pid-file=\(directory)/mysqld.pid",
            "--log-error=\(directory)/error.log",
            "--port=\(port)",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--server-id=\(serverID)",
            "--gtid-domain-id=\(serverID)",
            "--log-bin=mysql-bin",
            "--relay-log=relay-bin",
            "--binlog-format=ROW",
            "--log-slave-updates=ON",
            "--report-host=127.0.0.1",
            "--report-port=\(port)",
        ]
        arguments += storageArguments
        arguments += extraOptions.compactMap(commandLineOption)
        return arguments
    }

    /// Turns a `my.cnf` line (`innodb_lock_wait_timeout = 5`, `skip-slave-start`) into a command-line option
    /// (`--innodb_lock_wait_timeout=5`); nil for blank lines, comments and group headers.
    static func commandLineOption(_ line: String) -> String? {
        let trimmed = line.trimmingSpaces()
        if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") || trimmed.hasPrefix("[") {
            return nil
        }
        let body = trimmed.hasPrefix("--") ? String(trimmed.dropFirst(2)) : trimmed
        guard let equals = body.firstIndex(of: "=") else { return "--" + body }
        let name = String(body[..<equals]).trimmingSpaces()
        var value = String(body[body.index(after: equals)...]).trimmingSpaces()
        if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
            value = String(value.dropFirst().dropLast())
        }
        return "--\(name)=\(value)"
    }

    /// A watchdog around `mariadbd`, run by `/bin/sh -c`: it starts a background loop that kills the server with
    /// `SIGKILL` once the owner process (`$1`) is gone, polling every 0.5 s, then `exec`s the server, so the
    /// process this process launched *is* the server. The loop ends by itself when the server ends.
    static let watchdogScript = """
        owner="$1"; shift
        server=$$
        ( while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
          if kill -0 "$server" 2>/dev/null; then kill -KILL "$server" 2>/dev/null; fi ) </dev/null &
        exec "$@"
        """
}

extension String {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}
