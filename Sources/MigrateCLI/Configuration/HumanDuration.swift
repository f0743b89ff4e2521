import Foundation

/// Durations as operators write them: `500ms`, `2s`, `1m`, `1m30s`, `1.5s`, `250us`, `1h`.
///
/// A number without a unit is refused (is `5` five seconds or five milliseconds?), so is a negative value.
enum HumanDuration {
    private static let units: [(suffix: String, attoseconds: Double)] = [
        ("ms", 1e15), ("us", 1e12), ("µs", 1e12), ("ns", 1e9), ("h", 3600e18), ("m", 60e18), ("s", 1e18),
    ]

    /// Parses `text`; nil when it is not a duration.
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        var rest = Substring(trimmed)
        var total = Duration.zero
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, number.filter({ $0 == "." }).count <= 1, let value = Double(number) else {
                return nil
            }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }) else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            let attoseconds = value * unit.attoseconds
            guard attoseconds.isFinite, attoseconds < 1e30 else { return nil }
            let seconds = (attoseconds / 1e18).rounded(.down)
            total += Duration(
                secondsComponent: Int64(seconds),
                attosecondsComponent: Int64((attoseconds - seconds * 1e18).rounded())
            )
        }
        return total
    }

    /// The shortest exact spelling with one unit when possible: `500ms`, `2s`, `1m`, `1m30s`, `1.5ms`.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if duration == .zero { return "0s" }
        if attoseconds == 0 {
            if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
            if seconds % 60 == 0 { return "\(seconds / 60)m" }
            if seconds >= 60 { return "\(seconds / 60)m\(seconds % 60)s" }
            return "\(seconds)s"
        }
        let totalNanoseconds = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        if seconds == 0 && attoseconds % 1_000_000_000_000_000 == 0 && totalNanoseconds < 1e9 {
            return "\(attoseconds / 1_000_000_000_000_000)ms"
        }
        if seconds == 0 && attoseconds % 1_000_000_000_000 == 0 && totalNanoseconds < 1e6 {
            return "\(attoseconds / 1_000_000_000_000)us"
        }
        if seconds == 0 && totalNanoseconds < 1e9 {
            return trimmed(totalNanoseconds / 1e6) + "ms"
        }
        return trimmed(totalNanoseconds / 1e9) + "s"
    }

    /// Milliseconds with up to three decimals, for tables and JSON (`412.3`).
    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) * 1e3 + Double(attoseconds) / 1e15
        return (value * 1000).rounded() / 1000
    }

    /// A compact human reading for progress lines and tables: `850 µs`, `12.4 ms`, `1.27 s`, `2m05s`.
    static func readable(_ duration: Duration) -> String {
        let milliseconds = milliseconds(duration)
        if milliseconds < 1 { return "\(Int((milliseconds * 1000).rounded())) µs" }
        if milliseconds < 100 { return trimmed(milliseconds, decimals: 1) + " ms" }
        if milliseconds < 1000 { return "\(Int(milliseconds.rounded())) ms" }
        if milliseconds < 60_000 { return trimmed(milliseconds / 1000, decimals: 2) + " s" }
        let seconds = Int((milliseconds / 1000).rounded())
        let remainder = seconds % 60
        return "\(seconds / 60)m" + (remainder < 10 ? "0" : "") + "\(remainder)s"
    }

    private static func trimmed(_ value: Double, decimals: Int = 3) -> String {
        var text = String(format: "%.\(decimals)f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
