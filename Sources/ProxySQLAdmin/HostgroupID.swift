/// A ProxySQL hostgroup number (`hostgroup_id` in `mysql_servers`, `hostgroup` in the stats tables).
///
/// ProxySQL accepts any integer ≥ 0; writer hostgroup 10 and reader hostgroup 11 are the usual layout.
public struct HostgroupID: RawRepresentable, Sendable, Hashable, Comparable, Codable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    /// The hostgroup number.
    public let rawValue: Int

    /// Creates a hostgroup id. Values below 0 are representable but refused by every operation that sends them.
    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    /// Creates a hostgroup id.
    public init(_ value: Int) {
        self.rawValue = value
    }

    /// Creates a hostgroup id from an integer literal (`let writer: HostgroupID = 10`).
    public init(integerLiteral value: Int) {
        self.rawValue = value
    }

    /// Whether ProxySQL accepts this number (`CHECK (hostgroup_id >= 0)`).
    public var isValid: Bool { rawValue >= 0 }

    public static func < (lhs: HostgroupID, rhs: HostgroupID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
