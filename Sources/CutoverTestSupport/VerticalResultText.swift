public import MariaDB

/// Reads the vertical output of the `mysql` / `mariadb` client (`SHOW SLAVE STATUS\G`) into a `ResultSet`, so
/// captured or documented output can serve as a test fixture.
///
/// - Lines before the first row marker that start with `#` are comments.
/// - `*************************** 1. row ***************************` starts a row.
/// - `   Name: value` sets a column (the padding is ignored; `Name:` alone is the empty string, and `NULL` is SQL
///   `NULL`).
/// - Any other line continues the previous value after a newline (the client prints GTID sets over several lines).
///
/// Every row must have the same columns in the same order.
public enum VerticalResultText {
    /// A malformed fixture.
    public struct ParseError: Error, CustomStringConvertible {
        /// What is wrong, with the line number.
        public let description: String

        /// Creates an error.
        public init(description: String) {
            self.description = description
        }
    }

    /// Parses vertical client output.
    ///
    /// - Throws: ``ParseError`` for a column line before any row marker, or rows with different columns.
    public static func parse(_ text: String) throws -> ResultSet {
        var columnNames: [String]?
        var rows: [[String?]] = []
        var currentNames: [String] = []
        var currentValues: [String?] = []
        var inRow = false

        func finishRow(line: Int) throws {
            guard inRow else { return }
            if let columnNames, columnNames != currentNames {
                throw ParseError(description: "line \(line): row has columns \(currentNames), expected \(columnNames)")
            }
            columnNames = currentNames
            rows.append(currentValues)
            currentNames = []
            currentValues = []
        }

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (number, rawLine) in lines.enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if !inRow, rows.isEmpty, line.hasPrefix("#") || line.allSatisfy(\.isWhitespace) { continue }
            if isRowMarker(line) {
                try finishRow(line: number + 1)
                inRow = true
                continue
            }
            if let (name, value) = field(line) {
                guard inRow else { throw ParseError(description: "line \(number + 1): column before any row marker") }
                currentNames.append(name)
                currentValues.append(value == "NULL" ? nil : value)
            } else if inRow, !currentValues.isEmpty {
                if line.isEmpty, number == lines.count - 1 { continue }
                currentValues[currentValues.count - 1] = (currentValues.last! ?? "") + "\n" + line
            } else if !line.allSatisfy(\.isWhitespace) {
                throw ParseError(description: "line \(number + 1): unexpected text '\(line.prefix(40))'")
            }
        }
        try finishRow(line: lines.count)
        return ResultSet(columnNames: columnNames ?? [], rows: rows)
    }

    private static func isRowMarker(_ line: Substring) -> Bool {
        line.hasPrefix("*") && line.hasSuffix("*") && line.contains(". row ")
    }

    /// `   Name: value` → (Name, value); nil when the line is not a column line.
    private static func field(_ line: Substring) -> (String, String)? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard let first = trimmed.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else {
            return nil
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return nil }
        let name = trimmed[..<colon]
        guard name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0 == "_" || ("0"..."9").contains($0) })
        else { return nil }
        var value = trimmed[trimmed.index(after: colon)...]
        if value.hasPrefix(" ") { value = value.dropFirst() }
        return (String(name), String(value))
    }
}
