import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The durable audit trail of runs: one JSON object per line, appended before the next action starts (and
/// `fsync`ed when it must survive a power loss, see ``append(_:durable:)``), so that a run killed at any instant can
/// be inspected and resumed.
///
/// Opening a journal for writing takes a lock: an exclusive `flock(2)` on `<path>.lock`, which also holds the owner's
/// pid for messages. A second run while one is in progress is refused with a message naming the journal and that
/// pid. The kernel releases the lock when its process ends, however it ends (SIGKILL, a crash), so a dead process's
/// lock never blocks `resume`, even when its pid has since been reused (a container's PID 1 restarted) or the
/// process is an unreaped zombie. A lock file left behind is simply taken over.
public actor CutoverJournal {
    /// The journal's file.
    public nonisolated let path: String
    private let descriptor: Int32
    private let lockDescriptor: Int32
    private var sequence: Int
    private var locked: Bool
    /// Whether entries were written since the last `fsync`.
    private var unsynced = false
    private let didAppend: (@Sendable (JournalRecord) -> Void)?
    /// The `run-started` entry of the run that was unfinished when the journal was opened (see
    /// ``unfinishedRun(in:)``), nil when every run in it had finished. A new run must not start over it.
    public nonisolated let unfinishedRunAtOpen: JournalRecord?
    /// Why the end of that run cannot be read by this version (its `run-finished` entry's payload), nil when it has
    /// no such end or it reads: such a run is not known to have finished, and `resume` refuses it.
    public nonisolated let unfinishedRunEndUnreadable: String?
    /// What the journal held when it was opened, for the guards: the last writer switch of an earlier run, whose
    /// fence a switch back must prove (issue #13, item 1).
    public nonisolated let historyAtOpen: JournalHistory
    /// Makes appends fail as a full disk would (tests: the rollback must run without a journal).
    let writeFault: (@Sendable (JournalRecord) -> Int32?)?

    /// Opens (creating if needed) the journal at `path` for appending, taking its lock.
    ///
    /// - Parameters:
    ///   - path: the journal's file.
    ///   - didAppend: called with each entry once it is in the file (and flushed to disk when durable), before
    ///     ``append(_:)`` returns, on the journal's actor: for observers such as mirrors, and for tests that stop the
    ///     process at an exact entry. Keep it short; it must not call back into the journal.
    /// - Throws: ``CutoverError`` ``CutoverError/Code/journalLocked`` when another live process (or another journal
    ///   of this process) holds the lock, ``CutoverError/Code/journalUnreadable`` when the file cannot be opened or
    ///   parsed.
    public init(path: String, didAppend: (@Sendable (JournalRecord) -> Void)? = nil) throws {
        try self.init(path: path, didAppend: didAppend, writeFault: nil)
    }

    /// Opens the journal with a write fault: `writeFault` is asked before each append and, when it returns an
    /// `errno` value, the append fails with it as a full disk would (`ENOSPC`), writing nothing.
    init(
        path: String,
        didAppend: (@Sendable (JournalRecord) -> Void)?,
        writeFault: (@Sendable (JournalRecord) -> Int32?)?
    ) throws {
        let lockDescriptor = try Self.takeLock(path: path)
        let existing: [JournalRecord]
        do {
            existing = try Self.read(path: path)
        } catch {
            Self.releaseLock(path: path, descriptor: lockDescriptor)
            throw error
        }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            Self.releaseLock(path: path, descriptor: lockDescriptor)
            throw CutoverError(
                code: .journalUnreadable,
                message: "cannot open journal \(path) for writing: \(reason)",
                remedy: "check the directory exists and is writable"
            )
        }
        self.path = path
        self.descriptor = descriptor
        self.lockDescriptor = lockDescriptor
        self.sequence = existing.last?.sequence ?? 0
        self.locked = true
        self.didAppend = didAppend
        self.writeFault = writeFault
        let unfinished = Self.unfinishedRun(in: existing)
        self.unfinishedRunAtOpen = unfinished?.first
        self.unfinishedRunEndUnreadable = unfinished?.last(where: { $0.kind == .runFinished })?.unreadablePayload
        self.historyAtOpen = JournalHistory(path: path, entries: existing)
    }

    deinit {
        // A journal dropped without ``close()``: release the file and the lock all the same.
        if locked {
            Glibc.close(descriptor)
            Self.releaseLock(path: path, descriptor: lockDescriptor)
        }
    }

    /// Appends `entry` (its sequence number is assigned here) and, when `durable`, flushes the file to disk.
    ///
    /// Every entry is written to the file before this returns, so a process that dies (SIGKILL, a crash) leaves it
    /// for `resume`. `durable` is about the machine dying: an entry appended with `durable: false` reaches the disk
    /// with the next durable append (`fsync` flushes the whole file, in order) or ``close()``. The runner makes the
    /// entries durable that must survive a power loss: the intent of each action that changes a server (before
    /// it runs) and the end of a run; losing the tail after the last durable entry is the same as a crash just
    /// after it, which `resume` handles.
    ///
    /// - Throws: ``CutoverError`` (``CutoverError/Code/journalUnreadable``) when the write fails.
    @discardableResult
    public func append(_ entry: JournalRecord, durable: Bool = true) throws -> JournalRecord {
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
        if let fault = writeFault?(entry) {
            sequence -= 1
            throw CutoverError(
                code: .journalUnreadable,
                message: "cannot write journal \(path): \(String(cString: strerror(fault)))",
                remedy: "free disk space or fix permissions, then run `migrate-cli resume`"
            )
        }
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
        guard written, !durable || fsync(descriptor) == 0 else {
            throw CutoverError(
                code: .journalUnreadable,
                message: "cannot write journal \(path): \(String(cString: strerror(errno)))",
                remedy: "free disk space or fix permissions, then run `migrate-cli resume`"
            )
        }
        // A durable append flushed everything before it too.
        unsynced = !durable
        didAppend?(entry)
        return entry
    }

    /// Flushes entries appended with `durable: false` (if any), closes the file and releases the lock.
    public func close() {
        guard locked else { return }
        if unsynced {
            _ = fsync(descriptor)
            unsynced = false
        }
        Glibc.close(descriptor)
        Self.releaseLock(path: path, descriptor: lockDescriptor)
        locked = false
    }

    /// Reads every entry of the journal at `path` (an absent file is an empty journal).
    ///
    /// - Throws: ``CutoverError``: ``CutoverError/Code/journalUnreadable`` naming the line that does not parse (a
    ///   torn last line, a crash in the middle of a write, is ignored), ``CutoverError/Code/unsupportedJournalVersion``
    ///   naming a line written by a later format version.
    public static func read(path: String) throws -> [JournalRecord] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CutoverError(code: .journalUnreadable, message: "cannot read journal \(path)")
        }
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
        let decoder = JSONDecoder()
        var entries: [JournalRecord] = []
        for (index, line) in lines.enumerated() {
            // The version first: a line of a later format is refused as such, whatever the rest of it holds.
            if let version = (try? decoder.decode(JournalRecord.VersionProbe.self, from: Data(line)))?.formatVersion,
                version > JournalRecord.currentFormatVersion
            {
                throw JournalReplay.unsupportedVersion(version, line: index + 1, path: path)
            }
            do {
                entries.append(try decoder.decode(JournalRecord.self, from: Data(line)))
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
    public static func unfinishedRun(in entries: [JournalRecord]) -> [JournalRecord]? {
        guard let start = entries.lastIndex(where: { $0.kind == .runStarted }) else { return nil }
        let run = Array(entries[start...]).filter { $0.runID == entries[start].runID }
        guard let finished = run.last(where: { $0.kind == .runFinished }) else { return run }
        // Entries after the last `run-finished`: a resume was interrupted.
        if run.last?.kind != .runFinished { return run }
        if case .stoppedAfterPointOfNoReturn? = finished.outcome { return run }
        // An end this version cannot read: not known to be finished; `resume` refuses it as a mismatch.
        if finished.outcomePayload?.isUnreadable == true { return run }
        return nil
    }

    // MARK: Lock

    static func lockPath(_ path: String) -> String { path + ".lock" }

    /// Opens `<path>.lock` and takes an exclusive `flock` on it, then writes this process's pid into it (for the
    /// message another run gets). Returns the descriptor that holds the lock.
    private static func takeLock(path: String) throws -> Int32 {
        let lock = lockPath(path)
        for _ in 0..<8 {
            let descriptor = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw CutoverError(
                    code: .journalUnreadable,
                    message: "cannot create lock \(lock): \(String(cString: strerror(errno)))",
                    remedy: "check the journal's directory exists and is writable"
                )
            }
            if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                let failure = errno
                let owner = readOwner(descriptor)
                Glibc.close(descriptor)
                guard failure == EWOULDBLOCK else {
                    throw CutoverError(
                        code: .journalUnreadable,
                        message: "cannot lock \(lock): \(String(cString: strerror(failure)))",
                        remedy: "put the journal on a local file system that supports flock(2)"
                    )
                }
                throw CutoverError(
                    code: .journalLocked,
                    message: "another run\(owner.map { " (pid \($0))" } ?? "") is using the journal \(path)",
                    remedy: "wait for it to finish, or check `migrate-cli status`; the lock goes away by itself when "
                        + "that process ends, however it ends"
                )
            }
            // The owner before us may have removed the file between our open and our flock: then the lock we hold is
            // on a file nobody else will open. Lock the file that is at the path now.
            var held = stat()
            var current = stat()
            guard fstat(descriptor, &held) == 0, stat(lock, &current) == 0, held.st_ino == current.st_ino,
                held.st_dev == current.st_dev
            else {
                Glibc.close(descriptor)
                continue
            }
            // A file left by a dead process (SIGKILL, crash) still names it: replace that with this process's pid.
            let pid = "\(getpid())\n"
            _ = ftruncate(descriptor, 0)
            _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
            return descriptor
        }
        throw CutoverError(
            code: .journalLocked,
            message: "could not take the lock \(lock): it was replaced repeatedly",
            remedy: "check that no other process is starting runs on the journal \(path)"
        )
    }

    /// The pid written in a lock file, if it holds one.
    private static func readOwner(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Removes the lock file, then releases the lock (in that order, so that a run waiting on the old file sees it
    /// was replaced).
    private static func releaseLock(path: String, descriptor: Int32) {
        unlink(lockPath(path))
        Glibc.close(descriptor)
    }
}

extension JournalRecord {
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
