/// One line of the journal (JSON Lines): the journal's own, versioned on-disk record.
///
/// Its action, event and outcome are stored in the journal's own payload types (`JournalPayload.swift`), coded
/// field by field, not in the state machine's enums; ``action``, ``event`` and ``outcome`` map them to the machine's
/// values, and ``unreadablePayload`` says when this version cannot.
///
/// Its ``formatVersion`` says which version of the format wrote it: ``currentFormatVersion`` for this one, absent in
/// journals written before the field existed (read as version 1, the same format). A journal is outside input: it is
/// read with ``CutoverJournal/read(path:)``, which refuses a line of a later format with
/// ``CutoverError/Code/unsupportedJournalVersion``, and replayed through ``JournalReplay``, which refuses an event that
/// does not answer its action with ``CutoverError/Code/journalMismatch`` instead of stopping the process.
public struct JournalRecord: Sendable, Codable, Hashable {
    /// The version of the format this library writes and reads. Version 1 is the format written since the first
    /// release (lines without a `version` field are version 1).
    public static let currentFormatVersion = 1

    /// What a journal line records.
    public enum Kind: String, Sendable, Codable, Hashable {
        /// The start of a run: operation, policy, topology fingerprint.
        case runStarted = "run-started"
        /// An action, written before it is performed.
        case action
        /// The event an action produced, with the statements it sent.
        case event
        /// The end of a run: outcome and timeline.
        case runFinished = "run-finished"
    }

    /// The version of the format that wrote the line (nil: written before the field existed, version 1).
    public var formatVersion: Int?
    /// Position in the file, from 1.
    public var sequence: Int
    /// The run this line belongs to.
    public var runID: String
    /// What the line records.
    public var kind: Kind
    /// Wall-clock time (ISO 8601, UTC).
    public var time: String
    /// Offset from the start of the run, in microseconds.
    public var elapsedMicroseconds: Int64
    /// The operation (on `run-started`).
    public var operation: CutoverOperation?
    /// The policy (on `run-started`). A resume runs under this policy, not the current configuration's.
    public var policy: CutoverPolicy?
    /// Identifies the topology (endpoints and rows) the run was planned for; a resume must match it.
    public var topologyFingerprint: String?
    /// The step the action or event belongs to (`offlineSoftOld`, `rollback.onlineOld`).
    public var step: StepID?
    /// The action (on `action` lines), in the journal's own form (``action`` is the machine's).
    var actionPayload: JournalActionPayload?
    /// The event (on `event` lines), in the journal's own form (``event`` is the machine's).
    var eventPayload: JournalEventPayload?
    /// The statements the action sent, redacted (on `event` lines).
    public var statements: [ExecutedStatement]?
    /// Whether the run was past the point of no return when the action started (on `action` lines).
    public var pastPointOfNoReturn: Bool?
    /// How the run ended (on `run-finished`), in the journal's own form (``outcome`` is the machine's).
    var outcomePayload: JournalOutcomePayload?
    /// The measured moments of the run (on `run-finished`).
    public var timeline: CutoverTimeline?
    /// A switch without ProxySQL's direction, action or event (``HookSwitchRun``; such a run has no ``operation``).
    public var hookSwitch: HookSwitchJournalPayload?

    /// The version that wrote the line: ``formatVersion``, or 1 for a line written before the field existed.
    public var effectiveFormatVersion: Int { formatVersion ?? 1 }

    /// Creates an entry of the current format; the optional fields are set afterwards.
    public init(sequence: Int, runID: String, kind: Kind, time: String, elapsedMicroseconds: Int64) {
        self.formatVersion = Self.currentFormatVersion
        self.sequence = sequence
        self.runID = runID
        self.kind = kind
        self.time = time
        self.elapsedMicroseconds = elapsedMicroseconds
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "version"
        case sequence, runID, kind, time, elapsedMicroseconds, operation, policy, topologyFingerprint, step
        case actionPayload = "action"
        case eventPayload = "event"
        case outcomePayload = "outcome"
        case statements, pastPointOfNoReturn, timeline, hookSwitch
    }

    /// Only the version of a line, read before the rest so that a line of a later format is refused as such even
    /// when the rest of it does not decode with this version's types.
    struct VersionProbe: Decodable {
        var formatVersion: Int?

        enum CodingKeys: String, CodingKey {
            case formatVersion = "version"
        }
    }
}

/// The name of ``JournalRecord`` before the journal had its own versioned format.
public typealias CutoverJournalEntry = JournalRecord
