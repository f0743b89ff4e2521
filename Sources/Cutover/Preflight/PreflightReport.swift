/// Everything a preflight found. "Cannot proceed" is data here, not a thrown error: see ``canProceed`` and
/// ``blockingReasons``.
///
/// `description` is a plain-text table for logs and simple terminals; the CLI renders its own. The JSON form
/// (``encode(to:)``) carries the checks and, for consumers that do not recompute them, `canProceed`,
/// `blockingReasons` and the counts per status.
public struct PreflightReport: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Every check, in the order they ran.
    public var checks: [PreflightCheck]

    /// Creates a report.
    public init(checks: [PreflightCheck]) {
        self.checks = checks
    }

    /// The checks that failed, as reasons for refusing to start.
    public var blockingReasons: [BlockingReason] {
        checks.filter { $0.status == .fail }.map {
            BlockingReason(check: $0.id, message: $0.detail, remedy: $0.remedy ?? "see the check's detail")
        }
    }

    /// The checks that warned.
    public var warnings: [PreflightCheck] { checks.filter { $0.status == .warn } }

    /// Whether no check failed (warnings do not block).
    public var canProceed: Bool { !checks.contains { $0.status == .fail } }

    /// The worst status (``PreflightCheck/Status/pass`` for an empty report).
    public var overallStatus: PreflightCheck.Status { checks.map(\.status).max() ?? .pass }

    /// The check called `id`, or nil.
    public subscript(id: String) -> PreflightCheck? { checks.first { $0.id == id } }

    /// How many checks came out with `status`.
    public func count(_ status: PreflightCheck.Status) -> Int { checks.filter { $0.status == status }.count }

    // MARK: Codable

    private enum CodingKeys: String, CodingKey {
        case canProceed, summary, checks, blockingReasons
    }

    private struct Summary: Codable {
        var pass: Int
        var warn: Int
        var fail: Int
    }

    /// Decodes the checks; the derived fields written by ``encode(to:)`` are ignored.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        checks = try container.decode([PreflightCheck].self, forKey: .checks)
    }

    /// Writes `canProceed`, `summary` (counts per status), `checks` and `blockingReasons`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(canProceed, forKey: .canProceed)
        try container.encode(Summary(pass: count(.pass), warn: count(.warn), fail: count(.fail)), forKey: .summary)
        try container.encode(checks, forKey: .checks)
        try container.encode(blockingReasons, forKey: .blockingReasons)
    }

    // MARK: Text

    /// A plain-text table: one line per check (status, id, detail), the remedy indented below each warn or fail,
    /// and a verdict line.
    ///
    /// ```
    /// STATUS  CHECK                DETAIL
    /// pass    source.connectivity  MariaDB 10.11.19-MariaDB
    /// FAIL    replication.target   target does not replicate from anyone
    ///                              remedy: CALL mysql.rds_set_external_source(...)
    /// ```
    public var description: String {
        let idWidth = max("CHECK".count, checks.map(\.id.count).max() ?? 0)
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        var lines = ["\(pad("STATUS", 6))  \(pad("CHECK", idWidth))  DETAIL"]
        let indent = String(repeating: " ", count: 6 + 2 + idWidth + 2)
        for check in checks {
            let status = check.status == .pass ? "pass" : check.status.rawValue.uppercased()
            let detailLines = check.detail.split(separator: "\n", omittingEmptySubsequences: false)
            lines.append("\(pad(status, 6))  \(pad(check.id, idWidth))  \(detailLines.first ?? "")")
            for more in detailLines.dropFirst() { lines.append(indent + more) }
            if check.status != .pass, let remedy = check.remedy {
                let remedyLines = remedy.split(separator: "\n", omittingEmptySubsequences: false)
                lines.append(indent + "remedy: " + (remedyLines.first ?? ""))
                for more in remedyLines.dropFirst() { lines.append(indent + "        " + more) }
            }
        }
        let verdict = canProceed ? "can proceed" : "cannot proceed"
        lines.append(
            "\(count(.pass)) pass, \(count(.warn)) warn, \(count(.fail)) fail: \(verdict)"
        )
        return lines.joined(separator: "\n")
    }
}
