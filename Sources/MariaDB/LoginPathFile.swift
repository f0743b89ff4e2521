/// The login-path file written by `mysql_config_editor` (`~/.mylogin.cnf`), which libmariadb does not read.
///
/// The format (MySQL `client/mysql_config_editor.cc`, `mysys/my_default.cc`):
/// - 4 unused bytes (zero), then a 20-byte key buffer. The AES-128 key is those 20 bytes XOR-folded into 16
///   (byte `i` goes into `key[i % 16]`);
/// - then one record per plaintext line: a 4-byte little-endian length, then that many bytes of AES-128-ECB
///   ciphertext with PKCS#7 padding. Each line, newline included, is an option-file line: `[aurora]`,
///   `user = "admin"`, `password = "…"`, `host = "…"`, `socket = "…"`, `port = 3306`.
///
/// Values are decoded as MySQL decodes option-file values (outer quotes removed, `\"`, `\\`, `\n`… decoded; see
/// ``OptionFile``). Options other than host, port, user, password and socket are ignored. When a login path
/// appears twice, later lines win, as in MySQL.
///
/// The format is obfuscation, not encryption: the key sits in the file. Protect the file with mode 0600, as
/// MySQL requires (it ignores a login-path file that others can read).
public struct LoginPathFile: Sendable, CustomStringConvertible, CustomReflectable {
    /// Where the file was read from, if it was.
    public let path: String?
    /// The login paths, in order of first appearance.
    public let loginPaths: [LoginPath]

    /// The size of the header: 4 unused bytes and the 20-byte key buffer.
    static let headerLength = 24
    /// The length of the key buffer in the header.
    static let keyLength = 20
    /// MySQL refuses records longer than this.
    static let maximumRecordLength = 4096

    /// A file holding `loginPaths` (for writing one with ``encoded(key:)`` or ``write(to:key:)``).
    public init(loginPaths: [LoginPath]) {
        self.path = nil
        self.loginPaths = loginPaths
    }

    /// Reads and decodes the file at `path`.
    ///
    /// - Parameters:
    ///   - path: the file, usually ``defaultPath``.
    ///   - requireOwnerOnlyAccess: refuse a file that its group or others may access, or that is executable,
    ///     as MySQL clients do (they ignore such a file with a warning).
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/loginPath``) when the file is missing, unreadable, too
    ///   open, or corrupt.
    public init(contentsOf path: String, requireOwnerOnlyAccess: Bool = true) throws {
        let contents: FileBytes.Contents
        do {
            contents = try FileBytes.read(path)
        } catch {
            var message = "login path file \(path) \(error.reason)"
            if error.reason == "does not exist" {
                message +=
                    " (create it with `mysql_config_editor set --login-path=NAME --host=... --user=... --password`)"
            }
            throw MariaDBError(code: .loginPath, message: message)
        }
        if requireOwnerOnlyAccess, contents.mode & 0o177 != 0 {
            let mode = String(contents.mode, radix: 8)
            throw MariaDBError(
                code: .loginPath,
                message:
                    "login path file \(path) has mode 0\(mode): it must be readable and writable by its owner only "
                    + "(MySQL clients ignore it too); run `chmod 600 \(path)`"
            )
        }
        try self.init(bytes: contents.bytes, path: path)
    }

    /// Decodes the bytes of a login-path file.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - path: where it came from, used in messages only.
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/loginPath``) when the bytes are not a valid file.
    public init(bytes: [UInt8], path: String? = nil) throws {
        let location = "login path file \(path ?? "<bytes>")"
        let lines: [ArraySlice<UInt8>]
        do {
            lines = try Self.decryptLines(bytes)
        } catch {
            throw MariaDBError(code: .loginPath, message: "\(location) is corrupt: \(error.reason)")
        }
        let parsed: OptionFile.Parsed
        do {
            parsed = try OptionFile.parse(lines: lines, trailingComments: false)
        } catch {
            throw MariaDBError(
                code: .loginPath,
                message: "\(location) is corrupt: line \(error.line): \(error.problem)"
            )
        }
        var paths: [LoginPath] = []
        for group in parsed.groups {
            var loginPath = LoginPath(name: group.name)
            for option in group.options {
                switch option.canonicalName {
                case "host": loginPath.host = option.value
                case "user": loginPath.user = option.value
                case "password": loginPath.password = option.value
                case "socket": loginPath.socket = option.value
                case "port":
                    guard let text = option.value, let port = Int(text.trimmingASCIIWhitespace()), port >= 0 else {
                        throw MariaDBError(
                            code: .loginPath,
                            message: "\(location): login path [\(group.name)] has an invalid port"
                        )
                    }
                    loginPath.port = port
                default: continue  // mysql_config_editor writes no other options.
                }
            }
            if let index = paths.firstIndex(where: { $0.name.lowercased() == group.name.lowercased() }) {
                paths[index] = paths[index].overlaid(by: loginPath)
            } else {
                paths.append(loginPath)
            }
        }
        self.path = path
        self.loginPaths = paths
    }

    /// The login path names, in file order.
    public var names: [String] { loginPaths.map(\.name) }

    /// The settings `mysql --login-path=name` would use from this file: `[client]` first, then `[name]` over it.
    ///
    /// Unlike `mysql`, which silently falls back to `[client]`, a missing `[name]` is an error.
    ///
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/loginPath``) when there is no login path `name`; the
    ///   message lists the names there are.
    public func loginPath(named name: String) throws -> LoginPath {
        func find(_ wanted: String) -> LoginPath? {
            loginPaths.first { $0.name.lowercased() == wanted.lowercased() }
        }
        guard let named = find(name) else {
            let available = names.isEmpty ? "it has none" : "it has " + names.map { "[\($0)]" }.joined(separator: ", ")
            throw MariaDBError(
                code: .loginPath,
                message: "no login path [\(name)] in login path file \(path ?? "<bytes>"); \(available)"
            )
        }
        guard name.lowercased() != "client", let client = find("client") else { return named }
        var merged = client.overlaid(by: named)
        merged.name = named.name
        return merged
    }

    // MARK: Writing

    /// The file's bytes, written as `mysql_config_editor` (MySQL 8) writes them: one record per line, string
    /// values in double quotes.
    ///
    /// Inside quotes, `"` becomes `\"` as `mysql_config_editor` writes it; unlike it, `\` is written `\\` and a
    /// newline or carriage return `\n` or `\r`, so that every value reads back unchanged (by MySQL too).
    ///
    /// - Parameter key: the 20-byte key buffer stored in the header; nil for a random one like
    ///   `mysql_config_editor` makes (bytes below 32).
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/loginPath``) for a key of the wrong size or a login path
    ///   name that cannot be written (empty, or holding `]` or a line break).
    public func encoded(key: [UInt8]? = nil) throws -> [UInt8] {
        let fileKey = key ?? (0..<Self.keyLength).map { _ in UInt8.random(in: 0..<32) }
        guard fileKey.count == Self.keyLength else {
            throw MariaDBError(code: .loginPath, message: "a login path file key has 20 bytes, not \(fileKey.count)")
        }
        var lines: [String] = []
        for loginPath in loginPaths {
            let name = loginPath.name
            guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0 == "]" || $0 == "\n" || $0 == "\r" }) else {
                throw MariaDBError(code: .loginPath, message: "login path name [\(name)] cannot be written")
            }
            lines.append("[\(name)]")
            if let user = loginPath.user { lines.append("user = " + Self.quoted(user)) }
            if let password = loginPath.password { lines.append("password = " + Self.quoted(password)) }
            if let host = loginPath.host { lines.append("host = " + Self.quoted(host)) }
            if let socket = loginPath.socket { lines.append("socket = " + Self.quoted(socket)) }
            if let port = loginPath.port { lines.append("port = \(port)") }
        }
        return Self.encrypt(lines: lines.map { Array(($0 + "\n").utf8) }, key: fileKey)
    }

    /// Writes the file to `path` with mode 0600 (creating or replacing it).
    ///
    /// - Throws: ``MariaDBError`` (``MariaDBError/Code/loginPath``) when it cannot be encoded or written.
    public func write(to path: String, key: [UInt8]? = nil) throws {
        let bytes = try encoded(key: key)
        do {
            try FileBytes.write(bytes, to: path, mode: 0o600)
        } catch {
            throw MariaDBError(code: .loginPath, message: "login path file \(path) \(error.reason)")
        }
    }

    // MARK: Location

    /// Where MySQL clients look for the file: `$MYSQL_TEST_LOGIN_FILE` when set, else `$HOME/.mylogin.cnf`;
    /// nil when neither variable is set.
    public static var defaultPath: String? {
        defaultPath(environment: FileBytes.environment)
    }

    static func defaultPath(environment: (String) -> String?) -> String? {
        if let override = environment("MYSQL_TEST_LOGIN_FILE"), !override.isEmpty { return override }
        guard let home = environment("HOME"), !home.isEmpty else { return nil }
        return home.hasSuffix("/") ? home + ".mylogin.cnf" : home + "/.mylogin.cnf"
    }

    public var description: String {
        "LoginPathFile(\(path ?? "<bytes>"): " + names.map { "[\($0)]" }.joined(separator: ", ") + ")"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["path": path as Any, "loginPaths": loginPaths], displayStyle: .struct)
    }

    // MARK: Format

    struct FormatFailure: Error {
        var reason: String
    }

    /// The AES-128 key: the 20-byte key buffer XOR-folded into 16 bytes (MySQL's `my_aes_create_key`).
    static func aesKey(fromFileKey fileKey: some Collection<UInt8>) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: 16)
        for (index, byte) in fileKey.enumerated() { key[index % 16] ^= byte }
        return key
    }

    /// The plaintext lines of a file, without their line breaks.
    static func decryptLines(_ bytes: [UInt8]) throws(FormatFailure) -> [ArraySlice<UInt8>] {
        guard bytes.count >= headerLength else {
            throw FormatFailure(reason: "it has \(bytes.count) bytes, fewer than the 24-byte header")
        }
        let cipher = AES128(key: aesKey(fromFileKey: bytes[4..<headerLength]))
        var lines: [ArraySlice<UInt8>] = []
        var offset = headerLength
        var record = 0
        while offset < bytes.count {
            record += 1
            guard bytes.count - offset >= 4 else {
                throw FormatFailure(reason: "record \(record) is cut short in its length field")
            }
            let length = Int(
                Int32(
                    bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                        | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24))
            offset += 4
            guard length > 0, length % 16 == 0, length <= maximumRecordLength else {
                throw FormatFailure(reason: "record \(record) has an invalid length (\(length))")
            }
            guard bytes.count - offset >= length else {
                throw FormatFailure(reason: "record \(record) is cut short")
            }
            guard var plain = cipher.decryptECB(unpadding: Array(bytes[offset..<(offset + length)])) else {
                throw FormatFailure(reason: "record \(record) does not decrypt (damaged file or wrong key)")
            }
            offset += length
            // MySQL treats the plaintext as a C string.
            if let nul = plain.firstIndex(of: 0) { plain.removeSubrange(nul...) }
            let recordLines = plain.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            lines += plain.last == UInt8(ascii: "\n") ? recordLines.dropLast() : recordLines[...]
        }
        return lines
    }

    /// Encrypts each line (which should end with `\n`) as one record behind a header holding `key`.
    static func encrypt(lines: [[UInt8]], key: [UInt8]) -> [UInt8] {
        precondition(key.count == keyLength, "a login path file key has 20 bytes")
        let cipher = AES128(key: aesKey(fromFileKey: key))
        var out: [UInt8] = [0, 0, 0, 0] + key
        for line in lines {
            let encrypted = cipher.encryptECB(padding: line)
            let length = UInt32(encrypted.count)
            out += [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)]
            out += encrypted
        }
        return out
    }

    /// `value` in double quotes with `\`, `"`, newline and carriage return escaped.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
