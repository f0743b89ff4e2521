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
        var scanner = ByteScanner(Array(text.utf8))
        scanner.skipWhitespace()
        if scanner.isAtEnd { return }
        while true {
            try parseElement(&scanner, text: text)
            scanner.skipWhitespace()
            if scanner.isAtEnd { return }
            guard scanner.consume(UInt8(ascii: ",")) else {
                throw Self.malformed("unexpected '\(scanner.excerpt)' in GTID set '\(Self.excerpt(text))'")
            }
            scanner.skipWhitespace()
            guard !scanner.isAtEnd else { throw Self.malformed("empty element in GTID set '\(Self.excerpt(text))'") }
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
            guard range.upperBound <= Self.largestTransactionNumber else {
                throw ReplicationError(
                    code: .malformedGTID,
                    message: "GTID transaction number \(range.upperBound) is above \(Self.largestTransactionNumber) (2^63-1)")
            }
            insert(range, for: source)
        }
    }

    /// The largest transaction number a MySQL GTID can carry: MySQL stores it as a signed 64-bit integer
    /// (`rpl_gno`), so 2^63-1; a text with a larger one is not a GTID set MySQL can have written.
    public static let largestTransactionNumber = UInt64(Int64.max)

    /// `uuid(:tag)?:interval(:interval|:tag:interval)*`, at the scanner's position.
    private mutating func parseElement(_ scanner: inout ByteScanner, text: some StringProtocol) throws {
        let uuidBytes = scanner.take {
            $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: ",") && !ByteScanner.isWhitespace($0)
        }
        guard let uuid = Self.normalizedUUID(bytes: uuidBytes) else {
            throw Self.malformed(
                "'\(String(decoding: uuidBytes.prefix(64), as: UTF8.self))' in GTID set '\(Self.excerpt(text))' is not a UUID"
            )
        }
        var tag: String?
        var needsInterval = true
        while true {
            scanner.skipWhitespace()
            guard scanner.consume(UInt8(ascii: ":")) else { break }
            scanner.skipWhitespace()
            guard let first = scanner.peek else { break }
            if Self.isTagStart(first) {
                let tagBytes = scanner.take {
                    Self.isTagStart($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                }
                guard tagBytes.count <= 32, !needsInterval || tag == nil else {
                    throw Self.malformed(
                        "'\(String(decoding: tagBytes.prefix(40), as: UTF8.self))' is not a GTID tag here")
                }
                tag = String(
                    decoding: tagBytes.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 },
                    as: UTF8.self)
                needsInterval = true
                continue
            }
            guard let start = scanner.number(), start > 0, start <= Self.largestTransactionNumber else {
                throw Self.malformed(
                    "'\(scanner.excerpt)' in GTID set '\(Self.excerpt(text))' is not an interval like 1-5")
            }
            var end = start
            if scanner.consume(UInt8(ascii: "-")) {
                guard let parsed = scanner.number(), parsed >= start, parsed <= Self.largestTransactionNumber else {
                    throw Self.malformed(
                        "interval starting at \(start) in GTID set '\(Self.excerpt(text))' is malformed")
                }
                end = parsed
            }
            insert(start...end, for: SourceID(trustedUUID: uuid, tag: tag))
            needsInterval = false
        }
        guard !needsInterval else {
            throw Self.malformed("'\(uuid)' in GTID set '\(Self.excerpt(text))' has no transaction interval")
        }
    }

    private static func malformed(_ message: String) -> ReplicationError {
        ReplicationError(code: .malformedGTID, message: message)
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
                out +=
                    range.lowerBound == range.upperBound
                    ? ":\(range.lowerBound)" : ":\(range.lowerBound)-\(range.upperBound)"
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

    /// Lower-cases a UUID given with or without dashes, or returns nil when it is not 32 hex digits (with dashes,
    /// if any, at the canonical places).
    static func normalizedUUID(_ text: some StringProtocol) -> String? {
        normalizedUUID(bytes: Array(text.utf8)[...])
    }

    static func normalizedUUID(bytes: ArraySlice<UInt8>) -> String? {
        let dashed = bytes.count == 36
        guard dashed || bytes.count == 32 else { return nil }
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var written = 0
            for (offset, byte) in bytes.enumerated() {
                if dashed, offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                    guard byte == UInt8(ascii: "-") else { return 0 }
                    buffer[written] = byte
                    written += 1
                    continue
                }
                if !dashed, offset == 8 || offset == 12 || offset == 16 || offset == 20 {
                    buffer[written] = UInt8(ascii: "-")
                    written += 1
                }
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"):
                    buffer[written] = byte
                case UInt8(ascii: "A")...UInt8(ascii: "F"): buffer[written] = byte + 32
                default: return 0
                }
                written += 1
            }
            return written
        }.nilIfEmpty
    }

    static func isTagStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
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

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// Walks UTF-8 bytes for the GTID parsers (ASCII syntax only, no `Character` work).
struct ByteScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index >= bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t")
            || byte == UInt8(ascii: "\r")
    }

    mutating func skipWhitespace() {
        while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// The longest run of bytes from here that satisfy `predicate`.
    mutating func take(while predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
        let start = index
        while index < bytes.count, predicate(bytes[index]) { index += 1 }
        return bytes[start..<index]
    }

    /// A decimal number that fits in 64 unsigned bits (up to 18 446 744 073 709 551 615), or nil (nothing
    /// consumed) when there is none or it does not fit.
    mutating func number() -> UInt64? {
        let start = index
        var value: UInt64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (times10, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (next, carried) = times10.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
            guard !overflowed, !carried else {
                index = start
                return nil
            }
            value = next
            index += 1
        }
        return index > start ? value : nil
    }

    /// Up to 40 bytes from here, for messages.
    var excerpt: String {
        String(decoding: bytes[min(index, bytes.count)..<min(index + 40, bytes.count)], as: UTF8.self)
    }
}
