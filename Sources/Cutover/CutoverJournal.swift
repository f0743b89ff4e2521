import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One line of the journal (JSON Lines).
public struct CutoverJournalEntry: Sendable, Codable, Hashable {
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
    /// The policy (on `run-started`).
    public var policy: CutoverPolicy?
    /// Identifies the topology (endpoints and rows) the run was planned for; a resume must match it.
    public var topologyFingerprint: String?
    /// The step the action or event belongs to (`offlineSoftOld`, `rollback.onlineOld`).
    public var step: String?
    /// The action (on `action` lines).
    public var action: CutoverStateMachine.Action?
    /// The event (on `event` lines).
    public var event: CutoverStateMachine.Event?
    /// The statements the action sent, redacted (on `event` lines).
    public var statements: [ExecutedStatement]?
    /// Whether the run was past the point of no return when the action started (on `action` lines).
    public var pastPointOfNoReturn: Bool?
    /// How the run ended (on `run-finished`).
    public var outcome: CutoverOutcome?
    /// The measured moments of the run (on `run-finished`).
    public var timeline: CutoverTimeline?

    /// Creates an entry; the optional fields are set afterwards.
    public init(sequence: Int, runID: String, kind: Kind, time: String, elapsedMicroseconds: Int64) {
        self.sequence = sequence
        self.runID = runID
        self.kind = kind
        self.time = time
        self.elapsedMicroseconds = elapsedMicroseconds
    }
}

/// The durable audit trail of runs: one JSON object per line, appended and `fsync`ed before the next action
/// starts, so that a run killed at any instant can be inspected and resumed.
///
/// Opening a journal for writing takes a lock (`<path>.lock`, holding the owner's pid): a second run while one is in
/// progress is refused with a message naming the journal. A lock left by a dead process is taken over.
public actor CutoverJournal {
    /// The journal's file.
    public nonisolated let path: String
    private let descriptor: Int32
    private var sequence: Int
    private var locked: Bool

    /// Opens (creating if needed) the journal at `path` for appending, taking its lock.
    ///
    /// - Throws: ``CutoverError`` ``CutoverError/Code/journalLocked`` when another live process holds the lock,
    ///   ``CutoverError/Code/journalUnreadable`` when the file cannot be opened or parsed.
    public init(path: String) throws {
        try Self.takeLock(path: path)
        let existing: [CutoverJournalEntry]
        do {
            existing = try Self.read(path: path)
        } catch {
            Self.releaseLock(path: path)
            throw error
        }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            Self.releaseLock(path: path)
            throw CutoverError(
                code: .journalUnreadable,
                message: "cannot open journal \(path) for writing: \(String(cString: strerror(errno)))",
                remedy: "check the directory exists and is writable"
            )
        }
        self.path = path
        self.descriptor = descriptor
        self.sequence = existing.last?.sequence ?? 0
        self.locked = true
    }

    /// Appends `entry` (its sequence number is assigned here) and flushes it to disk.
    ///
    /// - Throws: ``CutoverError`` (``CutoverError/Code/journalUnreadable``) when the write fails.
    @discardableResult
    public func append(_ entry: CutoverJournalEntry) throws -> CutoverJournalEntry {
        var entry = entry
        sequence += 1
        entry.sequence = sequence
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data: Data
        do {
            data = try encoder.encode(entry)
        } catch {
            throw CutoverError(code: .journalUnreadable, message: "cannot encode journal entry", underlying: error)
        }
        data.append(0x0A)
        let written = data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let result = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += result
            }
            return true
        }
        guard written, fsync(descriptor) == 0 else {
            throw CutoverError(
                code: .journalUnreadable,
                message: "cannot write journal \(path): \(String(cString: strerror(errno)))",
                remedy: "free disk space or fix permissions, then run `migrate-cli resume`"
            )
        }
        return entry
    }

    /// Closes the file and releases the lock.
    public func close() {
        guard locked else { return }
        Glibc.close(descriptor)
        Self.releaseLock(path: path)
        locked = false
    }

    /// Reads every entry of the journal at `path` (an absent file is an empty journal).
    ///
    /// - Throws: ``CutoverError`` (``CutoverError/Code/journalUnreadable``) naming the line that does not parse. A
    ///   torn last line (a crash in the middle of a write) is ignored.
    public static func read(path: String) throws -> [CutoverJournalEntry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CutoverError(code: .journalUnreadable, message: "cannot read journal \(path)")
        }
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
        let decoder = JSONDecoder()
        var entries: [CutoverJournalEntry] = []
        for (index, line) in lines.enumerated() {
            do {
                entries.append(try decoder.decode(CutoverJournalEntry.self, from: Data(line)))
            } catch {
                if index == lines.count - 1 && data.last != 0x0A { break }
                throw CutoverError(
                    code: .journalUnreadable,
                    message: "journal \(path) line \(index + 1) is not a journal entry",
                    remedy: "restore the journal from a backup or move it aside",
                    underlying: error
                )
            }
        }
        return entries
    }

    /// The entries of the last run in the journal if it can be resumed, or nil: a run with no `run-finished` entry
    /// (interrupted), or one whose last `run-finished` entry says it stopped after the point of no return (its
    /// remaining steps are to be finished with `resume`). A resume appends to the same run.
    public static func unfinishedRun(in entries: [CutoverJournalEntry]) -> [CutoverJournalEntry]? {
        guard let start = entries.lastIndex(where: { $0.kind == .runStarted }) else { return nil }
        let run = Array(entries[start...]).filter { $0.runID == entries[start].runID }
        guard let finished = run.last(where: { $0.kind == .runFinished }) else { return run }
        // Entries after the last `run-finished`: a resume was interrupted.
        if run.last?.kind != .runFinished { return run }
        if case .stoppedAfterPointOfNoReturn? = finished.outcome { return run }
        return nil
    }

    // MARK: Lock

    static func lockPath(_ path: String) -> String { path + ".lock" }

    private static func takeLock(path: String) throws {
        let lock = lockPath(path)
        for _ in 0..<2 {
            let descriptor = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                let pid = "\(getpid())\n"
                _ = pid.withCString { write(descriptor, $0, strlen($0)) }
                Glibc.close(descriptor)
                return
            }
            guard errno == EEXIST else {
                throw CutoverError(
                    code: .journalUnreadable,
                    message: "cannot create lock \(lock): \(String(cString: strerror(errno)))"
                )
            }
            let owner = (try? String(contentsOfFile: lock, encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if let owner, owner == getpid() || kill(owner, 0) == 0 || errno == EPERM {
                throw CutoverError(
                    code: .journalLocked,
                    message: "another run (pid \(owner)) is using the journal \(path)",
                    remedy: "wait for it to finish, or check `migrate-cli status`; if that process is gone, remove \(lock)"
                )
            }
            // A stale lock from a dead process: take it over.
            unlink(lock)
        }
        throw CutoverError(code: .journalLocked, message: "could not take the lock \(lock)")
    }

    private static func releaseLock(path: String) {
        unlink(lockPath(path))
    }
}

extension CutoverJournalEntry {
    /// The format of ``time``: ISO 8601 in UTC with milliseconds (`2026-11-21T08:51:02.123Z`), as
    /// `ISO8601DateFormatter` with `.withInternetDateTime` and `.withFractionalSeconds` wrote it before.
    ///
    /// One shared value for every entry and for ``CutoverRunner/resume(from:)``: the runner writes two entries per
    /// step, inside the write window too. A format style is a `Sendable` value, safe to use from any thread (an
    /// `ISO8601DateFormatter` is not `Sendable`, and swift-corelibs-foundation does not promise it is safe to share),
    /// and measured here the cheapest: about 4 µs per timestamp, against 30 µs for one reused
    /// `ISO8601DateFormatter` (also behind a lock) and over 100 µs for a new formatter per entry.
    static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The current time as a journal timestamp.
    static func now() -> String { timestamp(Date()) }

    /// `date` as a journal timestamp, rounded to the millisecond.
    ///
    /// The format style truncates to the millisecond, and a time read back from a timestamp (or any time with a
    /// whole number of milliseconds) is often a hair below that millisecond as a binary fraction: `…25.399` would
    /// come out as `…25.398`. Rounding first, then formatting a tenth of a millisecond above, writes the nearest
    /// millisecond whether the style truncates or rounds, so a timestamp read back formats to the same text.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        return timestampStyle.format(Date(timeIntervalSince1970: milliseconds / 1000 + 0.000_1))
    }

    /// The instant a journal timestamp names (with or without fractional seconds), nil when it is not one.
    static func date(fromTimestamp text: String) -> Date? {
        (try? timestampStyle.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
