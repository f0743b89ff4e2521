#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where `mariadbd` and `mariadb-install-db` are.
struct ServerBinaries: Sendable, Hashable {
    var server: String
    var installDatabase: String

    /// The apt command that installs both.
    static let installHint = "apt-get install mariadb-server"

    /// Finds the binaries: the explicit paths when given, else `PATH` and the usual system directories.
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
