#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the server and its data-directory initializer are: `mariadbd` and `mariadb-install-db`, or the `mysqld`
/// wrapper of a ``MySQLDistribution`` (which initializes with `--initialize-insecure` itself).
struct ServerBinaries: Sendable, Hashable {
    var kind: SandboxServerKind = .mariadb
    var server: String
    var installDatabase: String

    /// The apt command that installs MariaDB.
    static let installHint = "apt-get install mariadb-server"

    /// Finds the binaries of `kind`.
    ///
    /// - Throws: ``SandboxError/Code/serverBinariesMissing`` saying how to install them.
    static func locate(kind: SandboxServerKind, server: String? = nil, installDatabase: String? = nil) throws
        -> ServerBinaries
    {
        switch kind {
        case .mariadb:
            return try locate(server: server, installDatabase: installDatabase)
        case .mysql:
            let serverPath: String
            if let server {
                serverPath = server
            } else {
                serverPath = try MySQLDistribution.locate().server
            }
            guard access(serverPath, X_OK) == 0 else {
                throw SandboxError(
                    code: .serverBinariesMissing,
                    message: "\(serverPath) is not an executable file; install MySQL with `\(MySQLDistribution.installCommand)`"
                )
            }
            return ServerBinaries(kind: .mysql, server: serverPath, installDatabase: installDatabase ?? serverPath)
        }
    }

    /// Finds the MariaDB binaries: the explicit paths when given, else `PATH` and the usual system directories.
    ///
    /// - Throws: ``SandboxError/Code/serverBinariesMissing`` naming the apt package.
    static func locate(server: String? = nil, installDatabase: String? = nil) throws -> ServerBinaries {
        guard let serverPath = server ?? find("mariadbd") else {
            throw SandboxError(
                code: .serverBinariesMissing,
                message: "mariadbd is not installed (looked in PATH, /usr/sbin, /usr/local/sbin); "
                    + "install it with `\(installHint)`"
            )
        }
        guard let installPath = installDatabase ?? find("mariadb-install-db") else {
            throw SandboxError(
                code: .serverBinariesMissing,
                message: "mariadb-install-db is not installed; install it with `\(installHint)`"
            )
        }
        for path in [serverPath, installPath] where access(path, X_OK) != 0 {
            throw SandboxError(
                code: .serverBinariesMissing,
                message: "\(path) is not an executable file; install the server with `\(installHint)`"
            )
        }
        return ServerBinaries(server: serverPath, installDatabase: installPath)
    }

    /// The first executable named `name` in `PATH` or the usual system directories.
    static func find(_ name: String) -> String? {
        let pathVariable = getenv("PATH").map { String(cString: $0) } ?? ""
        let directories =
            pathVariable.split(separator: ":").map(String.init) + [
                "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/libexec", "/sbin", "/bin",
            ]
        for directory in directories where !directory.isEmpty {
            let candidate = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
