internal import CSQLite
import Synchronization

/// What one admin statement produced in SQLite.
enum AdminSQLResult: Sendable {
    /// A statement with result columns (even when it returned no row): every value as text, NULL kept.
    case rows(columns: [String], rows: [[String?]])
    /// A statement without result columns, with the number of rows it changed.
    case done(affectedRows: UInt64)
}

/// A SQLite error, with SQLite's own message (`near "SELEC": syntax error`).
struct AdminSQLError: Error, Sendable {
    let message: String
}

/// The SQLite database behind the admin interface, as in ProxySQL: `main` in memory (the configuration tables and
/// their `runtime_` copies), `disk` attached from a file (what `SAVE ... TO DISK` writes), `stats` in memory.
///
/// One connection, used by one caller at a time (a mutex); statements are quick (in memory, a handful of rows).
final class AdminDatabase: Sendable {
    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private let handle: Mutex<Handle?>

    /// Opens the in-memory database and attaches `diskPath` as `disk` (created when missing) and a memory `stats`.
    init(diskPath: String) throws {
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        guard sqlite3_open_v2(":memory:", &pointer, flags, nil) == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let pointer { sqlite3_close(pointer) }
            throw AdminSQLError(message: message)
        }
        handle = Mutex(Handle(pointer: pointer))
        let quotedPath = "'" + diskPath.emulatorReplacing("'", with: "''") + "'"
        try executeScript("ATTACH DATABASE \(quotedPath) AS disk; ATTACH DATABASE ':memory:' AS stats;")
    }

    deinit {
        handle.withLock { handle in
            if let pointer = handle?.pointer { sqlite3_close_v2(pointer) }
            handle = nil
        }
    }

    /// Runs several trusted statements (schema, copies between schemas) in one call.
    func executeScript(_ sql: String) throws {
        try handle.withLock { handle in
            guard let pointer = handle?.pointer else { throw AdminSQLError(message: "database closed") }
            var errorMessage: UnsafeMutablePointer<CChar>?
            if sqlite3_exec(pointer, sql, nil, nil, &errorMessage) != SQLITE_OK {
                let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(pointer))
                sqlite3_free(errorMessage)
                throw AdminSQLError(message: message)
            }
        }
    }

    /// Runs several trusted statements inside one transaction, rolled back when one fails.
    func transaction(_ sql: String) throws {
        try executeScript("BEGIN; " + sql)
        do {
            try executeScript("COMMIT")
        } catch {
            try? executeScript("ROLLBACK")
            throw error
        }
    }

    /// Runs the first statement of `sql` (the rest is ignored, as ProxySQL's admin does) and returns its rows
    /// as text, or the number of rows it changed.
    func execute(_ sql: String) throws -> AdminSQLResult {
        try handle.withLock { handle in
            guard let pointer = handle?.pointer else { throw AdminSQLError(message: "database closed") }
            return try Self.run(sql, on: pointer)
        }
    }

    /// Runs a trusted query with bound text parameters (used internally, never with client text).
    func query(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
        try handle.withLock { handle in
            guard let pointer = handle?.pointer else { throw AdminSQLError(message: "database closed") }
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(pointer, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                throw AdminSQLError(message: String(cString: sqlite3_errmsg(pointer)))
            }
            defer { sqlite3_finalize(statement) }
            for (index, parameter) in parameters.enumerated() {
                if let parameter {
                    sqlite3_bind_text(statement, Int32(index + 1), parameter, -1, csqlite_transient())
                } else {
                    sqlite3_bind_null(statement, Int32(index + 1))
                }
            }
            var rows: [[String?]] = []
            let columnCount = sqlite3_column_count(statement)
            while true {
                let status = sqlite3_step(statement)
                if status == SQLITE_DONE { break }
                guard status == SQLITE_ROW else { throw AdminSQLError(message: String(cString: sqlite3_errmsg(pointer))) }
                rows.append((0..<columnCount).map { Self.text(statement, $0) })
            }
            return rows
        }
    }

    /// Replaces the rows of `table` (a trusted name) with `rows`, in one transaction.
    func replaceRows(of table: String, columns: [String], rows: [[String?]]) throws {
        try handle.withLock { handle in
            guard let pointer = handle?.pointer else { throw AdminSQLError(message: "database closed") }
            _ = try Self.run("BEGIN", on: pointer)
            do {
                _ = try Self.run("DELETE FROM \(table)", on: pointer)
                let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
                let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))"
                var statement: OpaquePointer?
                guard sqlite3_prepare_v2(pointer, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                    throw AdminSQLError(message: String(cString: sqlite3_errmsg(pointer)))
                }
                defer { sqlite3_finalize(statement) }
                for row in rows {
                    sqlite3_reset(statement)
                    for (index, value) in row.enumerated() {
                        if let value {
                            sqlite3_bind_text(statement, Int32(index + 1), value, -1, csqlite_transient())
                        } else {
                            sqlite3_bind_null(statement, Int32(index + 1))
                        }
                    }
                    guard sqlite3_step(statement) == SQLITE_DONE else {
                        throw AdminSQLError(message: String(cString: sqlite3_errmsg(pointer)))
                    }
                }
                _ = try Self.run("COMMIT", on: pointer)
            } catch {
                _ = try? Self.run("ROLLBACK", on: pointer)
                throw error
            }
        }
    }

    private static func run(_ sql: String, on pointer: OpaquePointer) throws -> AdminSQLResult {
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(pointer, sql, -1, &statement, nil)
        guard prepared == SQLITE_OK else {
            throw AdminSQLError(message: String(cString: sqlite3_errmsg(pointer)))
        }
        guard let statement else {
            // Only whitespace or a comment: SQLite has nothing to run.
            return .done(affectedRows: 0)
        }
        defer { sqlite3_finalize(statement) }
        let columnCount = sqlite3_column_count(statement)
        let changesBefore = sqlite3_total_changes64(pointer)
        var rows: [[String?]] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else {
                throw AdminSQLError(message: String(cString: sqlite3_errmsg(pointer)))
            }
            rows.append((0..<columnCount).map { text(statement, $0) })
        }
        if columnCount > 0 {
            let columns = (0..<columnCount).map { String(cString: sqlite3_column_name(statement, $0)) }
            return .rows(columns: columns, rows: rows)
        }
        return .done(affectedRows: UInt64(max(0, sqlite3_total_changes64(pointer) - changesBefore)))
    }

    private static func text(_ statement: OpaquePointer, _ column: Int32) -> String? {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL, let bytes = sqlite3_column_text(statement, column)
        else { return nil }
        let length = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
}

extension String {
    func emulatorReplacing(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
