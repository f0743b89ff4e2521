/// The quoting rules of the server a statement is sent to.
///
/// MySQL and MariaDB escape with backslashes unless the session runs with `NO_BACKSLASH_ESCAPES`; the ProxySQL
/// admin interface hands statements to SQLite, where a quote is doubled and a backslash is an ordinary
/// character. Escaping meant for one can break out of a literal on the other, so every literal is rendered for
/// the dialect of the session that sends it.
public enum SQLDialect: Sendable, Hashable, CustomStringConvertible {
    /// MySQL or MariaDB; `noBackslashEscapes` mirrors the server's `NO_BACKSLASH_ESCAPES` SQL mode.
    case mysql(noBackslashEscapes: Bool)
    /// The ProxySQL admin interface (SQLite rules behind the MySQL protocol).
    case proxySQLAdmin

    /// MySQL or MariaDB with the default SQL mode (backslash escapes on).
    public static var mysql: SQLDialect { .mysql(noBackslashEscapes: false) }

    public var description: String {
        switch self {
        case .mysql(let noBackslashEscapes): noBackslashEscapes ? "mysql(NO_BACKSLASH_ESCAPES)" : "mysql"
        case .proxySQLAdmin: "proxysql-admin"
        }
    }
}

/// String-literal and identifier quoting for each ``SQLDialect``.
public enum SQLQuoting {
    /// Returns `value` as a complete, quoted string literal for `dialect`.
    ///
    /// - MySQL with backslash escapes: a quote is doubled (`''`), a backslash is doubled (`\\`) and NUL is
    ///   written `\0`; every other character is literal. MySQL requires only the quote and the backslash to be
    ///   escaped. Doubling the quote (rather than `\'`) keeps the literal closed even if the server turns out to
    ///   run with `NO_BACKSLASH_ESCAPES`: a stale mode can then garble a backslash, never end the literal early.
    /// - MySQL with `NO_BACKSLASH_ESCAPES`: a quote is doubled; every other character is literal.
    /// - ProxySQL admin (SQLite): a quote is doubled, a backslash stays as it is. A value holding NUL or another
    ///   control character is written as `CAST(X'…' AS TEXT)`, because SQLite ends a statement at NUL.
    public static func stringLiteral(_ value: String, dialect: SQLDialect) -> String {
        switch dialect {
        case .mysql(noBackslashEscapes: false):
            var out = "'"
            out.reserveCapacity(value.utf8.count + 2)
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\0": out += "\\0"
                case "\\": out += "\\\\"
                case "'": out += "''"
                default: out.unicodeScalars.append(scalar)
                }
            }
            out += "'"
            return out
        case .mysql(noBackslashEscapes: true):
            return "'" + value.replacingAll("'", with: "''") + "'"
        case .proxySQLAdmin:
            if value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) {
                return "CAST(X'" + hex(Array(value.utf8)) + "' AS TEXT)"
            }
            return "'" + value.replacingAll("'", with: "''") + "'"
        }
    }

    /// Returns `name` as a quoted identifier for `dialect`: backticks for MySQL, double quotes for SQLite, with
    /// the quote character doubled inside.
    public static func identifier(_ name: String, dialect: SQLDialect) -> String {
        switch dialect {
        case .mysql: "`" + name.replacingAll("`", with: "``") + "`"
        case .proxySQLAdmin: "\"" + name.replacingAll("\"", with: "\"\"") + "\""
        }
    }

    /// Returns `bytes` as a hexadecimal literal (`X'0A1B'`), valid in every dialect.
    public static func hexLiteral(_ bytes: [UInt8]) -> String {
        "X'" + hex(bytes) + "'"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    /// Replaces every occurrence of the scalar `target`.
    ///
    /// Works on Unicode scalars, not Characters: a quote followed by a combining mark is one `Character` that is
    /// not equal to `'`, yet the server sees the quote byte. Comparing Characters would let it through unescaped.
    func replacingAll(_ target: Unicode.Scalar, with replacement: String) -> String {
        guard unicodeScalars.contains(target) else { return self }
        var out = ""
        out.reserveCapacity(utf8.count + 8)
        for scalar in unicodeScalars {
            if scalar == target { out += replacement } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}
