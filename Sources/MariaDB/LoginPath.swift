/// One login path from `~/.mylogin.cnf` (the `[aurora]` of `mysql_config_editor set --login-path=aurora`): where
/// to connect and as whom.
///
/// The password never appears in ``description``, ``debugDescription`` or a dump.
public struct LoginPath: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The login path (option group) name, such as `client` or `aurora`.
    public var name: String
    /// The `host` option.
    public var host: String?
    /// The `port` option.
    public var port: Int?
    /// The `user` option.
    public var user: String?
    /// The `password` option.
    public var password: String?
    /// The `socket` option (a Unix socket path).
    public var socket: String?

    /// Creates a login path.
    public init(
        name: String,
        host: String? = nil,
        port: Int? = nil,
        user: String? = nil,
        password: String? = nil,
        socket: String? = nil
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.socket = socket
    }

    /// Connection settings for this login path.
    ///
    /// The endpoint is chosen like this (differences from the `mysql` client are deliberate, so that a port in
    /// the file is never silently ignored):
    /// - `socket` set and `host` absent or `localhost`: ``MariaDBConnection/Configuration/Endpoint/unixSocket(path:)``;
    /// - `host` set to anything but `localhost`: TCP to that host and `port` (default 3306); a `socket` is
    ///   ignored, as `mysql` does for remote hosts;
    /// - otherwise (no host, or `localhost` without a socket): TCP to `127.0.0.1` and `port` (default 3306).
    ///   `mysql` would use its default Unix socket here and ignore the port.
    ///
    /// - Parameter database: the default database, if any.
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/loginPath``) when the login path has no user.
    public func configuration(database: String? = nil) throws -> MariaDBConnection.Configuration {
        guard let user, !user.isEmpty else {
            throw MariaDBError(code: .loginPath, message: "login path [\(name)] has no user")
        }
        let isLocal = host == nil || host?.lowercased() == "localhost"
        let endpoint: MariaDBConnection.Configuration.Endpoint
        if isLocal, let socket, !socket.isEmpty {
            endpoint = .unixSocket(path: socket)
        } else if let host, !isLocal {
            endpoint = .tcp(host: host, port: port ?? 3306)
        } else {
            endpoint = .tcp(host: "127.0.0.1", port: port ?? 3306)
        }
        return MariaDBConnection.Configuration(endpoint: endpoint, user: user, password: password, database: database)
    }

    /// This login path with every option that `other` sets taken from `other` (the name stays).
    func overlaid(by other: LoginPath) -> LoginPath {
        var result = self
        if let host = other.host { result.host = host }
        if let port = other.port { result.port = port }
        if let user = other.user { result.user = user }
        if let password = other.password { result.password = password }
        if let socket = other.socket { result.socket = socket }
        return result
    }

    public var description: String {
        var text = "[\(name)] "
        text += user ?? "<no user>"
        if let socket, host == nil || host?.lowercased() == "localhost" {
            text += "@unix:\(socket)"
        } else {
            text += "@\(host ?? "<default host>")"
            if let port { text += ":\(port)" }
        }
        text += password == nil ? " (no password)" : " (password set)"
        return text
    }

    public var debugDescription: String {
        "LoginPath(name: \(name), host: \(host ?? "nil"), port: \(port.map(String.init) ?? "nil"), "
            + "user: \(user ?? "nil"), password: \(password == nil ? "nil" : "<redacted>"), socket: \(socket ?? "nil"))"
    }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "name": name, "host": host as Any, "port": port as Any, "user": user as Any,
                "password": password == nil ? "nil" : "<redacted>", "socket": socket as Any,
            ],
            displayStyle: .struct
        )
    }
}

extension MariaDBConnection.Configuration {
    /// Connection settings from a login path in `mysql_config_editor`'s file, like `mysql --login-path=NAME`:
    /// the `[client]` login path applies first and `[NAME]` overrides it.
    ///
    /// See ``LoginPath/configuration(database:)`` for how host, socket and port become an endpoint.
    ///
    /// - Parameters:
    ///   - name: the login path, such as `aurora`.
    ///   - file: the file; nil means `$MYSQL_TEST_LOGIN_FILE` when set, else `$HOME/.mylogin.cnf`.
    ///   - database: the default database, if any.
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/loginPath``) when the file is missing, unreadable,
    ///   readable by others, corrupt, has no such login path, or the login path has no user. Messages name the
    ///   file and the login path, never the password.
    public static func fromLoginPath(_ name: String, file: String? = nil, database: String? = nil) throws -> Self {
        guard let path = file ?? LoginPathFile.defaultPath else {
            throw MariaDBError(
                code: .loginPath,
                message: "cannot locate the login path file: neither MYSQL_TEST_LOGIN_FILE nor HOME is set"
            )
        }
        return try LoginPathFile(contentsOf: path).loginPath(named: name).configuration(database: database)
    }
}
