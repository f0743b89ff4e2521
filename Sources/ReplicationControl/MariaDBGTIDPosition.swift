/// One MariaDB GTID: `domain-server-sequence` (`0-1-100`).
public struct MariaDBGTID: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The replication domain (`gtid_domain_id`).
    public let domain: UInt32
    /// The server that wrote the transaction (`server_id`).
    public let server: UInt32
    /// The sequence number within the domain.
    public let sequence: UInt64

    /// Creates a GTID.
    public init(domain: UInt32, server: UInt32, sequence: UInt64) {
        self.domain = domain
        self.server = server
        self.sequence = sequence
    }

    /// Parses `domain-server-sequence`.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedGTID``) when the text is malformed.
    public init(parsing text: some StringProtocol) throws {
        var scanner = ByteScanner(Array(text.utf8))
        scanner.skipWhitespace()
        let gtid = try Self.parse(&scanner, text: text)
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw Self.malformed(text) }
        self = gtid
    }

    /// `domain-server-sequence` at the scanner's position.
    static func parse(_ scanner: inout ByteScanner, text: some StringProtocol) throws -> MariaDBGTID {
        guard let domain = scanner.number().flatMap(UInt32.init(exactly:)), scanner.consume(UInt8(ascii: "-")),
            let server = scanner.number().flatMap(UInt32.init(exactly:)), scanner.consume(UInt8(ascii: "-")),
            let sequence = scanner.number()
        else {
            throw malformed(text)
        }
        return MariaDBGTID(domain: domain, server: server, sequence: sequence)
    }

    static func malformed(_ text: some StringProtocol) -> ReplicationError {
        ReplicationError(
            code: .malformedGTID,
            message: "'\(MySQLGTIDSet.excerpt(text))' is not a MariaDB GTID (domain-server-sequence)"
        )
    }

    /// `domain-server-sequence`.
    public var description: String { "\(domain)-\(server)-\(sequence)" }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A MariaDB GTID position: at most one GTID per replication domain (`0-1-100,1-2-5`), as in `@@gtid_binlog_pos`,
/// `@@gtid_slave_pos`, `Gtid_IO_Pos` and `MASTER_GTID_WAIT`.
///
/// Positions compare per domain: a replica has reached a target when, in every domain of the target, its
/// sequence number is at least the target's. That is a partial order, so the type offers ``hasReached(_:)``
/// rather than `<`.
public struct MariaDBGTIDPosition: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The GTIDs, one per domain, sorted by domain.
    public let gtids: [MariaDBGTID]

    /// The empty position.
    public init() {
        gtids = []
    }

    /// Creates a position from GTIDs.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedGTID``) when two GTIDs share a domain.
    public init(_ gtids: [MariaDBGTID]) throws {
        let sorted = gtids.sorted { $0.domain < $1.domain }
        for (left, right) in zip(sorted, sorted.dropFirst()) where left.domain == right.domain {
            throw ReplicationError(
                code: .malformedGTID,
                message: "a GTID position holds one GTID per domain; domain \(left.domain) appears twice"
            )
        }
        self.gtids = sorted
    }

    /// Parses a comma-separated list of GTIDs; the empty string is the empty position.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedGTID``) for malformed text or a domain that
    ///   appears twice.
    public init(parsing text: some StringProtocol) throws {
        var scanner = ByteScanner(Array(text.utf8))
        scanner.skipWhitespace()
        var gtids: [MariaDBGTID] = []
        if !scanner.isAtEnd {
            while true {
                gtids.append(try MariaDBGTID.parse(&scanner, text: text))
                scanner.skipWhitespace()
                if scanner.isAtEnd { break }
                guard scanner.consume(UInt8(ascii: ",")) else { throw MariaDBGTID.malformed(text) }
                scanner.skipWhitespace()
            }
        }
        try self.init(gtids)
    }

    /// Whether the position holds no GTID.
    public var isEmpty: Bool { gtids.isEmpty }

    /// The GTID of `domain`, if any.
    public subscript(domain domain: UInt32) -> MariaDBGTID? {
        gtids.first { $0.domain == domain }
    }

    /// Whether `self` has reached `target`: for every domain of `target`, `self` has a GTID of that domain with a
    /// sequence number at least as high. (The server id is not compared: it may change with a failover.)
    public func hasReached(_ target: MariaDBGTIDPosition) -> Bool {
        target.gtids.allSatisfy { wanted in
            guard let have = self[domain: wanted.domain] else { return false }
            return have.sequence >= wanted.sequence
        }
    }

    /// The domains of `target` that `self` has not reached yet, with how many sequence numbers are missing.
    public func missing(toReach target: MariaDBGTIDPosition) -> [(domain: UInt32, behindBy: UInt64)] {
        target.gtids.compactMap { wanted in
            let have = self[domain: wanted.domain]?.sequence ?? 0
            return have >= wanted.sequence ? nil : (wanted.domain, wanted.sequence - have)
        }
    }

    /// The highest GTID of each domain in either position.
    public func merging(_ other: MariaDBGTIDPosition) -> MariaDBGTIDPosition {
        var byDomain: [UInt32: MariaDBGTID] = [:]
        for gtid in gtids + other.gtids {
            if let existing = byDomain[gtid.domain], existing.sequence >= gtid.sequence { continue }
            byDomain[gtid.domain] = gtid
        }
        // Domains are unique by construction.
        return try! MariaDBGTIDPosition(Array(byDomain.values))
    }

    /// `0-1-100,1-2-5`, sorted by domain.
    public var description: String { gtids.map(\.description).joined(separator: ",") }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
