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
            /// The CA bundle that signs the server certificate.
            public var certificateAuthorityFile: String?
            /// The client certificate, for servers that require one (with ``keyFile``).
            public var certificateFile: String?
            /// The client certificate's private key (with ``certificateFile``).
            public var keyFile: String?
            /// Check the server certificate against the CA and the host name.
            public var verifyServerCertificate: Bool

            /// Creates TLS settings; TLS is then required for the connection.
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
            /// The file's path.
            public var path: String
            /// The group to read besides `[client]`, `[client-server]` and `[client-mariadb]` (for example
            /// `migrate`); nil reads those three only.
            public var group: String?

            /// Names an option file and the group to read besides `[client]`.
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

        /// Where the server listens.
        public var endpoint: Endpoint
        /// The account name (required).
        public var user: String
        /// The password; nil takes it from ``optionFile`` when that file has one, else logs in without.
        public var password: String?
        /// The default database, if any.
        public var database: String?
        /// Bound on establishing the connection (TCP and handshake).
        public var connectTimeout: Duration
        /// Bound on each network read; nil for none. Long server-side waits need a per-call `timeout` instead.
        public var readTimeout: Duration?
        /// Bound on each network write; nil for none.
        public var writeTimeout: Duration?
        /// TLS settings; nil connects without TLS.
        public var tls: TLS?
        /// The connection character set. Only ASCII-compatible sets are accepted (quoting is byte-based).
        public var characterSet: String
        /// An option file libmariadb reads at connect time, if any.
        public var optionFile: OptionFile?
        /// How literals are quoted on this connection.
        public var quoting: Quoting
        /// A name the server shows for this client (the `program_name` connection attribute, in
        /// `performance_schema.session_connect_attrs`), when it supports connection attributes.
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

        /// Character sets whose multi-byte sequences may contain the byte of `\` or `'` (quoting is not safe with
        /// them), and those that are not ASCII-compatible at all (statements are sent as UTF-8).
        static let unsafeCharacterSets: Set<String> = [
            "big5", "cp932", "gbk", "gb18030", "sjis", "ucs2", "utf16", "utf16le", "utf32",
        ]

        /// Checks the fields that can be checked without a server: a non-empty host and a port in 1...65535 (or
        /// a non-empty socket path), a non-empty user, positive timeouts, an ASCII-compatible character set
        /// other than those whose multi-byte characters can hide a quote, TLS certificate and key given together,
        /// and no NUL character in any text field (C strings would cut it short, connecting to another host or
        /// as another user).
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
            if characterSet.isEmpty { throw invalid("character set is empty (use utf8mb4)") }
            if Self.unsafeCharacterSets.contains(characterSet.lowercased()) {
                throw invalid("character set \(characterSet) is not supported (use utf8mb4)")
            }
            if let tls, (tls.certificateFile == nil) != (tls.keyFile == nil) {
                throw invalid("TLS certificate file and key file must be given together")
            }
            var fields: [(name: String, value: String?)] = [
                ("user", user), ("password", password), ("database", database), ("character set", characterSet),
                ("program name", programName), ("TLS CA file", tls?.certificateAuthorityFile),
                ("TLS certificate file", tls?.certificateFile), ("TLS key file", tls?.keyFile),
                ("option file path", optionFile?.path), ("option file group", optionFile?.group),
            ]
            switch endpoint {
            case .tcp(let host, _): fields.append(("host", host))
            case .unixSocket(let path): fields.append(("socket path", path))
            }
            for field in fields where field.value?.utf8.contains(0) ?? false {
                throw invalid("\(field.name) contains a NUL character")
            }
        }

        /// The password to hand to `mysql_real_connect`.
        ///
        /// An explicit password wins. Without one, nil lets libmariadb take the password from the option file,
        /// but only when the file provides one (or includes other files we do not follow): otherwise libmariadb
        /// would fall back to the `MYSQL_PWD` environment variable, so an empty password is passed instead.
        func passwordForConnect() -> String? {
            if let password { return password }
            guard let optionFile, let parsed = try? optionFile.load() else { return "" }
            if !parsed.unsupportedDirectives.isEmpty { return nil }
            return parsed.options(inGroups: optionFile.groupsRead)["password"] == nil ? "" : nil
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
                    "optionFile": optionFile as Any, "quoting": quoting, "programName": programName as Any,
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
        // `Duration.seconds(Int64.max)` must not overflow.
        let (total, overflow) = seconds.addingReportingOverflow(attoseconds > 0 ? 1 : 0)
        return overflow ? UInt32.max : UInt32(clamping: max(1, total))
    }

    var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
