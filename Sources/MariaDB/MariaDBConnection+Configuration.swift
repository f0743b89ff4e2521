extension MariaDBConnection {
    /// Everything needed to open a connection. The password never appears in ``description`` or in a dump.
    public struct Configuration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// Where the server listens.
        public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
            /// TCP. Use `127.0.0.1` rather than `localhost`: libmariadb turns `localhost` into the Unix socket.
            case tcp(host: String, port: Int)
            /// A Unix socket path.
            case unixSocket(path: String)

            public var description: String {
                switch self {
                case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                case .unixSocket(let path): "unix:\(path)"
                }
            }
        }

        /// TLS settings. Files are PEM paths.
        public struct TLS: Sendable, Hashable {
            public var certificateAuthorityFile: String?
            public var certificateFile: String?
            public var keyFile: String?
            /// Check the server certificate against the CA and the host name.
            public var verifyServerCertificate: Bool

            public init(
                certificateAuthorityFile: String? = nil,
                certificateFile: String? = nil,
                keyFile: String? = nil,
                verifyServerCertificate: Bool = true
            ) {
                self.certificateAuthorityFile = certificateAuthorityFile
                self.certificateFile = certificateFile
                self.keyFile = keyFile
                self.verifyServerCertificate = verifyServerCertificate
            }
        }

        /// A `[client]`-style option file read by libmariadb at connect time; explicit fields override it.
        public struct OptionFile: Sendable, Hashable {
            public var path: String
            /// The group to read besides `[client]` (for example `migrate`); nil reads `[client]` only.
            public var group: String?

            public init(path: String, group: String? = nil) {
                self.path = path
                self.group = group
            }
        }

        /// How literals are quoted on this connection.
        public enum Quoting: Sendable, Hashable {
            /// MySQL/MariaDB rules, following the server's `NO_BACKSLASH_ESCAPES` status.
            case server
            /// ProxySQL admin rules (SQLite: quotes doubled, backslash literal).
            case proxySQLAdmin
        }

        public var endpoint: Endpoint
        public var user: String
        public var password: String?
        public var database: String?
        /// Bound on establishing the connection (TCP and handshake).
        public var connectTimeout: Duration
        /// Bound on each network read; nil for none. Long server-side waits need a per-call `timeout` instead.
        public var readTimeout: Duration?
        /// Bound on each network write; nil for none.
        public var writeTimeout: Duration?
        public var tls: TLS?
        /// The connection character set. Only ASCII-compatible sets are accepted (quoting is byte-based).
        public var characterSet: String
        public var optionFile: OptionFile?
        public var quoting: Quoting
        /// A name the server shows for this client in `performance_schema` / process lists, when supported.
        public var programName: String?

        /// Creates a TCP configuration.
        public init(
            host: String,
            port: Int = 3306,
            user: String,
            password: String? = nil,
            database: String? = nil
        ) {
            self.init(endpoint: .tcp(host: host, port: port), user: user, password: password, database: database)
        }

        /// Creates a configuration for any endpoint.
        public init(endpoint: Endpoint, user: String, password: String? = nil, database: String? = nil) {
            self.endpoint = endpoint
            self.user = user
            self.password = password
            self.database = database
            self.connectTimeout = .seconds(5)
            self.readTimeout = .seconds(300)
            self.writeTimeout = .seconds(60)
            self.tls = nil
            self.characterSet = "utf8mb4"
            self.optionFile = nil
            self.quoting = .server
            self.programName = "migrate-cli"
        }

        /// Character sets whose multi-byte sequences may contain the byte of `\` or `'`; quoting is not safe with them.
        static let unsafeCharacterSets: Set<String> = ["big5", "cp932", "gbk", "gb18030", "sjis"]

        /// Checks the fields that can be checked without a server.
        ///
        /// - Throws: ``MariaDBError`` (``MariaDBError/Code/invalidConfiguration``) naming the field.
        public func validate() throws {
            func invalid(_ message: String) -> MariaDBError {
                MariaDBError(code: .invalidConfiguration, message: message, endpoint: endpoint.description)
            }
            switch endpoint {
            case .tcp(let host, let port):
                if host.isEmpty { throw invalid("host is empty") }
                if !(1...65535).contains(port) { throw invalid("port \(port) is outside 1...65535") }
            case .unixSocket(let path):
                if path.isEmpty { throw invalid("socket path is empty") }
            }
            if user.isEmpty { throw invalid("user is empty") }
            if connectTimeout <= .zero { throw invalid("connect timeout must be positive") }
            if let readTimeout, readTimeout <= .zero { throw invalid("read timeout must be positive") }
            if let writeTimeout, writeTimeout <= .zero { throw invalid("write timeout must be positive") }
            if Self.unsafeCharacterSets.contains(characterSet.lowercased()) {
                throw invalid("character set \(characterSet) is not supported (use utf8mb4)")
            }
            for value in [user, password ?? "", database ?? "", characterSet] where value.utf8.contains(0) {
                throw invalid("a field contains a NUL character")
            }
        }

        public var description: String {
            var text = "\(user)@\(endpoint)"
            if let database { text += "/\(database)" }
            return text
        }

        public var debugDescription: String {
            "Configuration(\(description), password: \(password == nil ? "none" : "<redacted>"), tls: \(tls != nil))"
        }

        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "endpoint": endpoint, "user": user, "password": password == nil ? "none" : "<redacted>",
                    "database": database as Any, "connectTimeout": connectTimeout, "readTimeout": readTimeout as Any,
                    "writeTimeout": writeTimeout as Any, "tls": tls as Any, "characterSet": characterSet,
                    "optionFile": optionFile as Any, "quoting": quoting,
                ],
                displayStyle: .struct
            )
        }
    }
}

extension Duration {
    /// Whole seconds, rounded up, at least 1 (libmariadb's timeouts are in seconds).
    var wholeSecondsRoundedUp: UInt32 {
        let (seconds, attoseconds) = components
        let total = seconds + (attoseconds > 0 ? 1 : 0)
        return UInt32(clamping: max(1, total))
    }

    var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
