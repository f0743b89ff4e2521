#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif
import MariaDB

/// A consistent logical copy with the stock client tools (`mariadb-dump` / `mariadb`, or MySQL's `mysqldump` /
/// `mysql` of the installed distribution), as an operator takes and restores one.
extension SandboxServer {
    /// The client tools for this server's kind.
    nonisolated func clientTools() throws -> (dump: String, client: String) {
        switch kind {
        case .mariadb:
            guard let dump = ServerBinaries.find("mariadb-dump") ?? ServerBinaries.find("mysqldump"),
                let client = ServerBinaries.find("mariadb") ?? ServerBinaries.find("mysql")
            else {
                throw SandboxError(code: .serverBinariesMissing, message: "mariadb-dump / mariadb are not installed; install them with `apt-get install mariadb-client`")
            }
            return (dump, client)
        case .mysql:
            let installation = try MySQLDistribution.locate()
            return ("\(installation.directory)/bin/mysqldump", installation.client)
        }
    }

    /// An option file (0600) holding root's password, so it is never on a command line.
    nonisolated func writeClientOptionFile() throws -> String {
        let path = "\(directory)/client-\(UInt32.random(in: 0...UInt32.max)).cnf"
        var text = "[client]\nuser=root\nhost=127.0.0.1\nport=\(port)\nprotocol=TCP\n"
        if let password = rootConfiguration.password { text += "password=\(password)\n" }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw SandboxError(code: .fileSystem, message: "cannot write \(path)")
        }
        return path
    }

    /// Runs a client tool with root's option file first, waiting at most `timeout`.
    nonisolated func runClientTool(_ executable: String, _ arguments: [String], timeout: Duration) async throws {
        let options = try writeClientOptionFile()
        defer { unlink(options) }
        let log = "\(directory)/client-tool.log"
        let offset = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
        let process = try ChildProcess.launch(
            executable: executable,
            arguments: ["--defaults-extra-file=\(options)"] + arguments,
            environment: ["PATH": "/usr/bin:/bin", "HOME": directory],
            outputPath: log
        )
        guard let termination = await process.waitForExit(timeout: timeout) else {
            process.sendToGroup(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(5))
            throw SandboxError(code: .processLaunchFailed, message: "\(executable) did not finish within \(timeout)")
        }
        guard termination == .exited(0) else {
            let output = (SandboxFiles.read(log) ?? "").utf8.dropFirst(offset)
            throw SandboxError(
                code: .processLaunchFailed,
                message: "\(executable) ended with \(termination): \(String(decoding: output, as: UTF8.self).suffix(800))")
        }
    }

    /// Dumps `databases` to `path` in one consistent snapshot with the binlog coordinates in its header, commented
    /// out: `mariadb-dump --single-transaction --master-data=2 --gtid`, or `mysqldump --single-transaction
    /// --source-data=2 --set-gtid-purged=ON` on MySQL.
    ///
    /// - Throws: ``SandboxError`` when the tool is missing or fails.
    public nonisolated func dump(databases: [String], to path: String, timeout: Duration = .seconds(300)) async throws {
        let tools = try clientTools()
        let coordinates =
            kind == .mysql
            ? ["--source-data=2", "--set-gtid-purged=ON"]
            : ["--master-data=2", "--gtid"]
        try await runClientTool(
            tools.dump,
            ["--single-transaction", "--routines", "--triggers", "--events"] + coordinates
                + ["--result-file=\(path)", "--databases"] + databases,
            timeout: timeout)
    }

    /// Restores the dump at `path` with the command-line client (`source path`), as root.
    ///
    /// - Throws: ``SandboxError`` when the tool is missing or fails.
    public nonisolated func restore(from path: String, timeout: Duration = .seconds(300)) async throws {
        let tools = try clientTools()
        try await runClientTool(tools.client, ["--batch", "--execute=source \(path)"], timeout: timeout)
    }
}
