/// The outcome of one preflight check: what was looked at, what was found, and what an operator can do about it.
public struct PreflightCheck: Sendable, Hashable, Codable, Identifiable, CustomStringConvertible {
    /// How a check came out. Ordered: `pass < warn < fail`.
    public enum Status: String, Sendable, Hashable, Codable, Comparable, CaseIterable, CustomStringConvertible {
        /// Nothing to do.
        case pass
        /// The cut-over can run, but something deserves a look (a difference, or a fact that could not be
        /// confirmed).
        case warn
        /// The cut-over must not run until this is fixed: the check becomes a ``BlockingReason``.
        case fail

        private var rank: Int {
            switch self {
            case .pass: 0
            case .warn: 1
            case .fail: 2
            }
        }

        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }

        public var description: String { rawValue }
    }

    /// A stable identifier (`replication.target`, `proxysql.replication-hostgroups`), also used in
    /// ``BlockingReason/check``.
    public var id: String
    /// What the check verifies, in a few words.
    public var title: String
    /// How it came out.
    public var status: Status
    /// What was found (values of both sides for a comparison, the error text when the check could not run).
    public var detail: String
    /// What to do about a `warn` or `fail`: a command or a setting. Nil for a `pass`.
    public var remedy: String?

    /// Creates a check result.
    public init(id: String, title: String, status: Status, detail: String, remedy: String? = nil) {
        self.id = id
        self.title = title
        self.status = status
        self.detail = detail
        self.remedy = remedy
    }

    /// `fail replication.target: target does not replicate — remedy`.
    public var description: String {
        "\(status) \(id): \(detail)" + (remedy.map { " — \($0)" } ?? "")
    }
}
