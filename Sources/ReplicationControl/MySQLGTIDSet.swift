/// A MySQL GTID set (`3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,4a6d…:1-3`), as in `@@gtid_executed`,
/// `Executed_Gtid_Set` and `WAIT_FOR_EXECUTED_GTID_SET`.
///
/// The set is kept normalised: source UUIDs in lower case and sorted, intervals sorted and merged, so equal sets
/// compare equal and ``description`` is canonical. Tagged GTIDs (MySQL 8.3+, `uuid:tag:1-5`) are supported.
/// Whitespace and newlines between elements are ignored, as MySQL prints a newline after each comma.
public struct MySQLGTIDSet: Sendable, Hashable, CustomStringConvertible, Codable {
    /// Identifies the transactions of one source: its server UUID and an optional tag.
    public struct SourceID: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The server UUID, lower case with dashes.
        public let uuid: String
        /// The tag (MySQL 8.3+), lower case; nil for untagged GTIDs.
        public let tag: String?

        /// Creates a source identifier.
        ///
        /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedGTID``) for a malformed UUID or tag.
        public init(uuid: String, tag: String? = nil) throws {
            guard let normalized = MySQLGTIDSet.normalizedUUID(uuid) else {
                throw ReplicationError(code: .malformedGTID, message: "'\(uuid.prefix(64))' is not a UUID")
            }
            if let tag, !MySQLGTIDSet.isValidTag(tag) {
                throw ReplicationError(code: .malformedGTID, message: "'\(tag.prefix(64))' is not a GTID tag")
            }
            self.uuid = normalized
            self.tag = tag?.lowercased()
        }

        init(trustedUUID: String, tag: String?) {
            self.uuid = trustedUUID
            self.tag = tag
        }

        public static func < (lhs: SourceID, rhs: SourceID) -> Bool {
            if lhs.uuid != rhs.uuid { return lhs.uuid < rhs.uuid }
            switch (lhs.tag, rhs.tag) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let left?, let right?): return left < right
            }
        }

        public var description: String { tag.map { "\(uuid):\($0)" } ?? uuid }
    }

    /// Transaction numbers per source, each list sorted, merged and non-empty.
    public private(set) var intervals: [SourceID: [ClosedRange<UInt64>]]

    /// The empty set.
    public init() {
        intervals = [:]
    }

    /// Parses a GTID set. The empty string (and only whitespace) is the empty set.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedGTID``) for malformed text, a transaction
    ///   number of 0, or an interval whose end is before its start.
    public init(parsing text: some StringProtocol) throws {
        intervals = [:]
        if text.allSatisfy(\.isWhitespace) { return }
        for element in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = element.trimmingWhitespace()
            guard !trimmed.isEmpty else {
                throw ReplicationError(code: .malformedGTID, message: "empty element in GTID set '\(Self.excerpt(text))'")
            }
            try parseElement(trimmed, in: text)
        }
    }

    /// Creates a set from one source's intervals.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedGTID``) for a malformed UUID or tag, or an
    ///   interval containing 0.
    public init(uuid: String, tag: String? = nil, intervals ranges: [ClosedRange<UInt64>]) throws {
        intervals = [:]
        let source = try SourceID(uuid: uuid, tag: tag)
        for range in ranges {
            guard range.lowerBound > 0 else {
                throw ReplicationError(code: .malformedGTID, message: "GTID transaction numbers start at 1")
            }
            insert(range, for: source)
        }
    }

    private mutating func parseElement(_ element: Substring, in text: some StringProtocol) throws {
        var parts = element.split(separator: ":", omittingEmptySubsequences: false).makeIterator()
        guard let uuidPart = parts.next(), let uuid = Self.normalizedUUID(uuidPart.trimmingWhitespace()) else {
            throw ReplicationError(code: .malformedGTID, message: "'\(Self.excerpt(element))' does not start with a UUID")
        }
        var tag: String?
        var needsInterval = true
        while let rawPart = parts.next() {
            let part = rawPart.trimmingWhitespace()
            if let first = part.utf8.first, Self.isTagStart(first) {
                guard Self.isValidTag(part), !needsInterval || tag == nil else {
                    throw ReplicationError(code: .malformedGTID, message: "'\(Self.excerpt(part))' is not a GTID tag here")
                }
                tag = part.lowercased()
                needsInterval = true
                continue
            }
            guard let range = Self.parseInterval(part) else {
                throw ReplicationError(
                    code: .malformedGTID,
                    message: "'\(Self.excerpt(part))' in GTID set '\(Self.excerpt(text))' is not an interval like 1-5"
                )
            }
            insert(range, for: SourceID(trustedUUID: uuid, tag: tag))
            needsInterval = false
        }
        guard !needsInterval else {
            throw ReplicationError(code: .malformedGTID, message: "'\(Self.excerpt(element))' has no transaction interval")
        }
    }

    // MARK: Queries

    /// Whether the set holds no transaction.
    public var isEmpty: Bool { intervals.isEmpty }

    /// The number of transactions in the set (saturating at `UInt64.max`).
    public var count: UInt64 {
        var total: UInt64 = 0
        for ranges in intervals.values {
            for range in ranges {
                let (sum, overflow) = total.addingReportingOverflow(range.upperBound - range.lowerBound + 1)
                if overflow { return .max }
                total = sum
            }
        }
        return total
    }

    /// Whether transaction `number` of `source` is in the set.
    public func contains(_ source: SourceID, _ number: UInt64) -> Bool {
        guard let ranges = intervals[source] else { return false }
        return Self.index(of: number, in: ranges) != nil
    }

    /// Whether every transaction of `self` is also in `other`.
    public func isSubset(of other: MySQLGTIDSet) -> Bool {
        for (source, ranges) in intervals {
            guard let theirs = other.intervals[source] else { return false }
            for range in ranges where !Self.covers(theirs, range) { return false }
        }
        return true
    }

    /// Whether every transaction of `other` is also in `self` (`self` has executed all of `other`).
    public func contains(_ other: MySQLGTIDSet) -> Bool { other.isSubset(of: self) }

    /// The transactions in either set.
    public func union(_ other: MySQLGTIDSet) -> MySQLGTIDSet {
        var result = self
        result.formUnion(other)
        return result
    }

    /// Adds the transactions of `other`.
    public mutating func formUnion(_ other: MySQLGTIDSet) {
        for (source, ranges) in other.intervals {
            for range in ranges { insert(range, for: source) }
        }
    }

    /// The transactions of `self` that are not in `other` (for example, what a replica still misses).
    public func subtracting(_ other: MySQLGTIDSet) -> MySQLGTIDSet {
        var result = MySQLGTIDSet()
        for (source, ranges) in intervals {
            guard let theirs = other.intervals[source] else {
                result.intervals[source] = ranges
                continue
            }
            var remaining: [ClosedRange<UInt64>] = []
            for range in ranges {
                var pieces = [range]
                for cut in theirs where cut.overlaps(range) {
                    pieces = pieces.flatMap { piece -> [ClosedRange<UInt64>] in
                        guard piece.overlaps(cut) else { return [piece] }
                        var out: [ClosedRange<UInt64>] = []
                        if piece.lowerBound < cut.lowerBound { out.append(piece.lowerBound...(cut.lowerBound - 1)) }
                        if piece.upperBound > cut.upperBound { out.append((cut.upperBound + 1)...piece.upperBound) }
                        return out
                    }
                }
                remaining += pieces
            }
            if !remaining.isEmpty { result.intervals[source] = remaining }
        }
        return result
    }

    /// The canonical text: sources sorted, untagged intervals first, `uuid:1-5:7,uuid2:1-3`.
    public var description: String {
        var out = ""
        var previousUUID: String?
        for source in intervals.keys.sorted() {
            if source.uuid != previousUUID {
                if previousUUID != nil { out += "," }
                out += source.uuid
                previousUUID = source.uuid
            }
            if let tag = source.tag { out += ":" + tag }
            for range in intervals[source]! {
                out += range.lowerBound == range.upperBound ? ":\(range.lowerBound)" : ":\(range.lowerBound)-\(range.upperBound)"
            }
        }
        return out
    }

    // MARK: Codable as text

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    // MARK: Internals

    private mutating func insert(_ range: ClosedRange<UInt64>, for source: SourceID) {
        var ranges = intervals[source] ?? []
        var lower = range.lowerBound
        var upper = range.upperBound
        // Skip the ranges that end more than one number before `lower` (no overlap, not adjacent).
        var index = 0
        while index < ranges.count, ranges[index].upperBound < lower - 1 {
            index += 1
        }
        // Merge every range that overlaps or touches [lower, upper].
        var end = index
        while end < ranges.count, upper == .max || ranges[end].lowerBound <= upper + 1 {
            lower = min(lower, ranges[end].lowerBound)
            upper = max(upper, ranges[end].upperBound)
            end += 1
        }
        ranges.replaceSubrange(index..<end, with: [lower...upper])
        intervals[source] = ranges
    }

    private static func index(of number: UInt64, in ranges: [ClosedRange<UInt64>]) -> Int? {
        var low = 0
        var high = ranges.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < number {
                low = middle + 1
            } else if ranges[middle].lowerBound > number {
                high = middle - 1
            } else {
                return middle
            }
        }
        return nil
    }

    private static func covers(_ ranges: [ClosedRange<UInt64>], _ range: ClosedRange<UInt64>) -> Bool {
        // Normalised ranges never touch, so one range must hold all of `range`.
        guard let index = index(of: range.lowerBound, in: ranges) else { return false }
        return ranges[index].upperBound >= range.upperBound
    }

    static func parseInterval(_ text: Substring) -> ClosedRange<UInt64>? {
        let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count == 1 || pieces.count == 2 else { return nil }
        guard let start = parseNumber(pieces[0]), start > 0 else { return nil }
        if pieces.count == 1 { return start...start }
        guard let end = parseNumber(pieces[1]), end >= start else { return nil }
        return start...end
    }

    private static func parseNumber(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }

    /// Lower-cases a UUID given with or without dashes, or returns nil when it is not 32 hex digits.
    static func normalizedUUID(_ text: some StringProtocol) -> String? {
        var hex: [UInt8] = []
        hex.reserveCapacity(32)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): hex.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): hex.append(byte + 32)
            case UInt8(ascii: "-"): continue
            default: return nil
            }
        }
        guard hex.count == 32 else { return nil }
        // Dashes, when present, must be at the canonical places.
        let dashes = text.utf8.enumerated().filter { $0.element == UInt8(ascii: "-") }.map(\.offset)
        guard dashes.isEmpty || dashes == [8, 13, 18, 23] else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (index, byte) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isTagStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_")
    }

    /// A tag is a letter or underscore followed by up to 31 letters, digits or underscores.
    static func isValidTag(_ text: some StringProtocol) -> Bool {
        let utf8 = Array(text.utf8)
        guard let first = utf8.first, isTagStart(first), utf8.count <= 32 else { return false }
        return utf8.dropFirst().allSatisfy { isTagStart($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
    }

    static func excerpt(_ text: some StringProtocol) -> String {
        text.count > 80 ? String(text.prefix(80)) + "…" : String(text)
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (spaces, tabs, newlines).
    func trimmingWhitespace() -> Substring {
        let text = Substring(self)
        guard let start = text.firstIndex(where: { !$0.isWhitespace }) else { return text[text.endIndex...] }
        let end = text.lastIndex(where: { !$0.isWhitespace })!
        return text[start...end]
    }
}
