public import ArgumentParser
public import CutoverSandbox
import Foundation

extension SandboxServerKind: ExpressibleByArgument {}

extension SandboxCommand {
    /// `sandbox install-mysql [--dir DIR]`: MySQL 9.7 as files for `--server mysql` (``MySQLDistribution``).
    struct InstallMySQL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install-mysql",
            abstract: "Download MySQL 9.7 from Debian's sid suite as files, for `--server mysql` (no system change).",
            discussion: """
                Fetches Debian sid's mysql-server-core and mysql-client-core 9.7 and the runtime libraries they \
                need (about 52 packages, 56 MB) with apt-get download, using a private sources list, package \
                lists and cache inside DIR (the system's apt configuration and hooks are not used or changed), \
                unpacks them with dpkg-deb -x (nothing is installed into the system) and writes wrapper scripts \
                bin/mysqld, bin/mysql, bin/mysqldump, bin/mysqlbinlog and bin/mysqladmin that run them through \
                sid's own loader. Idempotent: an installed DIR is left as it is (remove DIR to reinstall).

                DIR defaults to $MYSQL_ROOT, else $XDG_CACHE_HOME/aurora-cutover/mysql-9.7 (or \
                ~/.cache/aurora-cutover/mysql-9.7); the sandbox, `rehearse --server mysql` and the tests look \
                there. Needs a Debian-based system (apt-get, dpkg-deb) and deb.debian.org (MYSQL_INSTALL_MIRROR \
                to use another mirror).

                Undo: remove DIR.

                Examples:
                  migrate-cli sandbox install-mysql
                  migrate-cli rehearse --server mysql
                  MYSQL_ROOT=/opt/mysql-9.7 migrate-cli sandbox install-mysql
                """
        )

        @Option(name: .customLong("dir"), help: ArgumentHelp("Where to install (default: $MYSQL_ROOT or the cache directory).", valueName: "dir"))
        var directory: String?

        func run() throws {
            let target = directory.map { absolute($0, relativeTo: FileManager.default.currentDirectoryPath) }
                ?? MySQLDistribution.configuredDirectory
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", MySQLDistribution.installScript, "install-mysql", target]
            try process.run()
            process.waitUntilExit()
            guard process.terminationReason == .exit, process.terminationStatus == 0 else {
                throw ExitCode(process.terminationStatus == 0 ? 1 : process.terminationStatus)
            }
            if target != MySQLDistribution.configuredDirectory {
                print("install-mysql: the sandbox finds it with \(MySQLDistribution.rootVariable)=\(target)")
            }
        }
    }
}
