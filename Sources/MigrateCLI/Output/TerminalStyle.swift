import Foundation

/// How human output may look: colours and in-place progress lines only on a terminal.
struct TerminalStyle: Sendable, Hashable {
    /// ANSI colours (a terminal, and `NO_COLOR` unset).
    var colors: Bool
    /// Progress of a wait rewrites one line instead of printing a line per update.
    var interactive: Bool

    static let plain = TerminalStyle(colors: false, interactive: false)

    /// The style for standard output of this process.
    static func forStandardOutput(environment: [String: String] = ProcessInfo.processInfo.environment) -> TerminalStyle {
        let terminal = isatty(STDOUT_FILENO) == 1 && environment["TERM"] != "dumb"
        return TerminalStyle(colors: terminal && environment["NO_COLOR"] == nil, interactive: terminal)
    }

    func green(_ text: String) -> String { paint(text, "32") }
    func red(_ text: String) -> String { paint(text, "31") }
    func yellow(_ text: String) -> String { paint(text, "33") }
    func bold(_ text: String) -> String { paint(text, "1") }
    func dim(_ text: String) -> String { paint(text, "2") }

    private func paint(_ text: String, _ code: String) -> String {
        colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// A plain-text table with aligned columns (numbers right-aligned when `rightAligned` says so).
struct TextTable: Sendable {
    var headers: [String]
    var rows: [[String]]
    var rightAligned: Set<Int> = []

    func render(indent: String = "  ") -> String {
        let columns = max(headers.count, rows.map(\.count).max() ?? 0)
        var widths = [Int](repeating: 0, count: columns)
        for row in [headers] + rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ row: [String]) -> String {
            var cells: [String] = []
            for index in 0..<columns {
                let cell = index < row.count ? row[index] : ""
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                cells.append(rightAligned.contains(index) ? padding + cell : cell + padding)
            }
            return indent + cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines: [String] = []
        if !headers.isEmpty {
            lines.append(line(headers))
            lines.append(indent + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        }
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }
}
