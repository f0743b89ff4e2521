import MariaDB

/// The error a load client saw for one write: enough to classify it, nothing more.
public struct WriteError: Sendable, Hashable, CustomStringConvertible {
    /// The server's or client library's error number (`1290`, `2013`, `9001`, ...), when there was one.
    public var number: UInt32?
    /// The error's message (server text, or the kind of failure when there was no number).
    public var message: String

    /// Creates an error record.
    public init(number: UInt32?, message: String) {
        self.number = number
        self.message = message
    }

    /// Records `error` as the client saw it.
    public init(_ error: any Error) {
        if let error = error as? MariaDBError {
            self.number = error.serverErrorNumber
            self.message = error.message ?? "\(error.code)"
        } else {
            self.number = nil
            self.message = String(describing: error)
        }
    }

    /// `number: message`.
    public var description: String {
        if let number { return "\(number): \(message)" }
        return message
    }
}

/// How one write transaction ended, as its client saw it.
public enum WriteOutcome: Sendable, Hashable {
    /// The commit (or the autocommit statement) returned OK at this instant.
    case acknowledged(at: ContinuousClock.Instant)
    /// The server answered with an error (`read_only` 1290, ProxySQL 9001, a lock wait timeout, ...); the
    /// transaction was rolled back as far as the client knows.
    case failed(at: ContinuousClock.Instant, error: WriteError)
    /// The connection broke or the call was interrupted before an answer arrived (2013, 2006, a cancellation, a
    /// deadline): the write may or may not have committed.
    case ambiguous(at: ContinuousClock.Instant, error: WriteError)

    /// When the client learned the outcome.
    public var instant: ContinuousClock.Instant {
        switch self {
        case .acknowledged(let at), .failed(let at, _), .ambiguous(let at, _): at
        }
    }

    /// Whether the write was acknowledged.
    public var isAcknowledged: Bool {
        if case .acknowledged = self { true } else { false }
    }

    /// The error, for a failed or ambiguous write.
    public var error: WriteError? {
        switch self {
        case .acknowledged: nil
        case .failed(_, let error), .ambiguous(_, let error): error
        }
    }
}

/// One write transaction of a load client: which rows it inserted, when it was sent and how it ended.
public struct WriteRecord: Sendable, Hashable {
    /// The client's index (0-based).
    public var client: Int
    /// The client's transaction number (1-based, counts every attempt).
    public var sequence: Int
    /// The write id of the transaction's first row; its rows have ids `firstWriteID ..< firstWriteID + rowCount`.
    public var firstWriteID: Int64
    /// How many rows the transaction inserted.
    public var rowCount: Int
    /// When the client sent the transaction's first statement.
    public var sentAt: ContinuousClock.Instant
    /// How it ended.
    public var outcome: WriteOutcome

    /// Creates a record.
    public init(
        client: Int,
        sequence: Int,
        firstWriteID: Int64,
        rowCount: Int = 1,
        sentAt: ContinuousClock.Instant,
        outcome: WriteOutcome
    ) {
        self.client = client
        self.sequence = sequence
        self.firstWriteID = firstWriteID
        self.rowCount = rowCount
        self.sentAt = sentAt
        self.outcome = outcome
    }

    /// The write ids of the transaction's rows.
    public var writeIDs: Range<Int64> { firstWriteID..<(firstWriteID + Int64(rowCount)) }

    /// Time from sending to the outcome (the latency of an acknowledged write).
    public var latency: Duration { outcome.instant - sentAt }
}

/// Something that happened to a load client's connection.
public struct ConnectionEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// The connection broke (or became unusable) and was closed by the client.
        case lost(WriteError)
        /// A reconnection attempt failed.
        case connectFailed(WriteError)
        /// The client connected again after a loss.
        case reconnected
    }

    /// The client's index.
    public var client: Int
    /// When it happened.
    public var at: ContinuousClock.Instant
    /// What happened.
    public var kind: Kind

    /// Creates an event.
    public init(client: Int, at: ContinuousClock.Instant, kind: Kind) {
        self.client = client
        self.at = at
        self.kind = kind
    }
}

/// Builds the write ids of a run: `(runID * 1000 + client) * 10^9 + row sequence`, unique across runs and clients,
/// so rows of different runs can share a table.
public struct WriteIDScheme: Sendable, Hashable {
    /// The largest run id (keeps every write id within `BIGINT`).
    public static let maximumRunID: Int64 = 9_000_000
    /// The largest number of clients.
    public static let maximumClients = 1000
    /// The largest number of rows one client may write in a run.
    public static let maximumRowsPerClient: Int64 = 999_999_999

    /// The run id.
    public var runID: Int64

    /// Creates a scheme for `runID` (`1...maximumRunID`).
    public init(runID: Int64) {
        precondition((1...Self.maximumRunID).contains(runID), "run id \(runID) is outside 1...\(Self.maximumRunID)")
        self.runID = runID
    }

    /// The write id of a client's `rowSequence`-th row (1-based).
    public func writeID(client: Int, rowSequence: Int64) -> Int64 {
        precondition((0..<Self.maximumClients).contains(client), "client index \(client) out of range")
        precondition((1...Self.maximumRowsPerClient).contains(rowSequence), "row sequence \(rowSequence) out of range")
        return (runID * Int64(Self.maximumClients) + Int64(client)) * 1_000_000_000 + rowSequence
    }

    /// The client that a write id of this run belongs to, or nil when the id is not of this run.
    public func client(of writeID: Int64) -> Int? {
        let prefix = writeID / 1_000_000_000
        guard prefix / Int64(Self.maximumClients) == runID, writeID % 1_000_000_000 != 0 else { return nil }
        return Int(prefix % Int64(Self.maximumClients))
    }
}
