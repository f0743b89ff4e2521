import Foundation

@testable import MariaDB

/// Reference lexers for string literals, written from the servers' documented rules (independent of
/// `SQLQuoting`): they read one literal from the start of the rendered bytes and report where it ended.
enum LiteralLexer {
    enum Rules {
        /// MySQL/MariaDB with backslash escapes (default SQL mode).
        case mysqlBackslash
        /// MySQL/MariaDB with `NO_BACKSLASH_ESCAPES`.
        case mysqlNoBackslash
        /// SQLite (ProxySQL admin).
        case sqlite
    }

    /// Decodes the literal at the start of `text`; returns its value and the index just past it, or nil when
    /// `text` does not start with a complete literal.
    static func lex(_ text: String, rules: Rules) -> (value: [UInt8], end: Int)? {
        let bytes = Array(text.utf8)
        if rules == .sqlite, let hex = lexSQLiteHexCast(bytes) { return hex }
        guard bytes.first == UInt8(ascii: "'") else { return nil }
        var value: [UInt8] = []
        var index = 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), rules == .mysqlBackslash, index + 1 < bytes.count {
                let next = bytes[index + 1]
                switch next {
                case UInt8(ascii: "0"): value.append(0)
                case UInt8(ascii: "n"): value.append(0x0A)
                case UInt8(ascii: "r"): value.append(0x0D)
                case UInt8(ascii: "t"): value.append(0x09)
                case UInt8(ascii: "b"): value.append(0x08)
                case UInt8(ascii: "Z"): value.append(0x1A)
                case UInt8(ascii: "%"), UInt8(ascii: "_"): value += [UInt8(ascii: "\\"), next]
                default: value.append(next)
                }
                index += 2
                continue
            }
            if byte == UInt8(ascii: "'") {
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "'") {
                    value.append(byte)
                    index += 2
                    continue
                }
                return (value, index + 1)
            }
            value.append(byte)
            index += 1
        }
        return nil
    }

    /// `CAST(X'hex' AS TEXT)`.
    private static func lexSQLiteHexCast(_ bytes: [UInt8]) -> (value: [UInt8], end: Int)? {
        let prefix = Array("CAST(X'".utf8)
        let suffix = Array("' AS TEXT)".utf8)
        guard bytes.starts(with: prefix) else { return nil }
        guard let close = bytes[prefix.count...].firstIndex(of: UInt8(ascii: "'")) else { return nil }
        let hex = bytes[prefix.count..<close]
        guard hex.count % 2 == 0, Array(bytes[close...].prefix(suffix.count)) == suffix else { return nil }
        var value: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            guard let byte = UInt8(String(decoding: hex[index..<(index + 2)], as: UTF8.self), radix: 16) else {
                return nil
            }
            value.append(byte)
            index += 2
        }
        return (value, close + suffix.count)
    }
}

/// Paths of committed fixtures and throwaway files.
enum TestFiles {
    static let fixtures: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func fixture(_ name: String) -> String {
        fixtures.appendingPathComponent(name).path
    }

    /// A fresh directory, removed when `body` returns.
    static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mariadb-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    /// Writes `text` to `url` with `permissions`.
    static func write(_ text: String, to url: URL, permissions: Int = 0o600) throws {
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: url.path)
    }
}

/// The text `dump` prints for `value`.
func dumped(_ value: some Any) -> String {
    var out = ""
    dump(value, to: &out)
    return out
}

/// The MariaDBError thrown by `body`, or nil.
func mariaDBError(_ body: () throws -> Void) -> MariaDBError? {
    do {
        try body()
        return nil
    } catch let error as MariaDBError {
        return error
    } catch {
        return nil
    }
}
