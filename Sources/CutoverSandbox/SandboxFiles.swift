import Logging
import NIOPosix

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// File-system chores of the sandbox: the root directory, owner files, copying, removal, log tails, and reaping
/// what crashed runs left behind.
enum SandboxFiles {
    /// The name of the file, in every run and template directory, that names the process owning it.
    static let ownerFileName = "owner"

    /// The default root: `$TMPDIR/cutover-sandbox-<uid>` (`/tmp/...` without `TMPDIR`).
    static var defaultRoot: String {
        var temporary = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        if temporary.isEmpty { temporary = "/tmp" }
        while temporary.count > 1, temporary.hasSuffix("/") { temporary.removeLast() }
        return "\(temporary)/cutover-sandbox-\(getuid())"
    }

    /// Creates `path` and its parents.
    static func createDirectory(_ path: String, mode: Int = 0o755) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: mode]
            )
        } catch {
            throw SandboxError(code: .fileSystem, message: "cannot create directory \(path)", underlying: error)
        }
    }

    /// Writes `text` to `path` with permissions `mode`, replacing it.
    static func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        else {
            throw SandboxError(code: .fileSystem, message: "cannot write \(path)")
        }
    }

    /// The contents of `path` as text, nil when it cannot be read.
    static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The last `lines` non-empty lines of the file at `path`, nil when it cannot be read.
    static func tail(_ path: String, lines: Int = 30) -> String? {
        guard let text = read(path) else { return nil }
        let all = text.split(separator: "\n", omittingEmptySubsequences: true)
        return all.suffix(lines).joined(separator: "\n")
    }

    /// Copies the directory tree `source` to `destination` (which must not exist), off Swift's cooperative pool.
    ///
    /// Regular files are copied sparsely: blocks of zeros (most of a fresh InnoDB system tablespace and redo log)
    /// become holes, which makes a data-directory copy several times faster than a plain one. Permissions are
    /// kept; symbolic links and special files are not expected in a data directory and are skipped.
    static func copyTree(_ source: String, to destination: String) async throws {
        do {
            try await NIOThreadPool.singleton.runIfActive {
                try copyTreeNow(source, to: destination)
            }
        } catch {
            throw SandboxError(
                code: .fileSystem,
                message: "cannot copy \(source) to \(destination)",
                underlying: error
            )
        }
    }

    private static func copyTreeNow(_ source: String, to destination: String) throws {
        var info = stat()
        guard lstat(source, &info) == 0 else { throw posixError("stat \(source)") }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR {
            guard mkdir(destination, info.st_mode & 0o7777) == 0 else { throw posixError("mkdir \(destination)") }
            for entry in try FileManager.default.contentsOfDirectory(atPath: source) {
                try copyTreeNow("\(source)/\(entry)", to: "\(destination)/\(entry)")
            }
        } else if type == S_IFREG {
            try copyFileSparsely(source, to: destination, mode: info.st_mode & 0o7777, size: Int(info.st_size))
        }
    }

    private static func copyFileSparsely(_ source: String, to destination: String, mode: mode_t, size: Int) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw posixError("open \(source)") }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { throw posixError("create \(destination)") }
        defer { close(output) }
        let chunk = 1 << 20
        let block = 4096
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: block)
        defer { buffer.deallocate() }
        // memcmp against zeros: a byte loop would be slow in debug builds, where the tests run.
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: block, alignment: block)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        var offset = 0
        while true {
            let count = pread(input, buffer.baseAddress, chunk, off_t(offset))
            if count < 0 {
                if errno == EINTR { continue }
                throw posixError("read \(source)")
            }
            if count == 0 { break }
            var start = 0
            while start < count {
                let length = min(block, count - start)
                let piece = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + length)])
                if memcmp(piece.baseAddress!, zeros.baseAddress!, length) != 0 {
                    var written = 0
                    while written < length {
                        let result = pwrite(
                            output,
                            piece.baseAddress! + written,
                            length - written,
                            off_t(offset + start + written)
                        )
                        if result < 0 {
                            if errno == EINTR { continue }
                            throw posixError("write \(destination)")
                        }
                        written += result
                    }
                }
                start += length
            }
            offset += count
        }
        guard ftruncate(output, off_t(max(offset, size))) == 0 else { throw posixError("truncate \(destination)") }
    }

    private static func posixError(_ what: String) -> SandboxError {
        SandboxError(code: .fileSystem, message: "\(what): \(String(cString: strerror(errno)))")
    }

    /// Removes `path` and everything below it, off Swift's cooperative pool; a missing path is not an error.
    static func removeTree(_ path: String) async throws {
        // Cleanup must finish in a cancelled task too (Ctrl-C of a rehearsal), where `runIfActive` refuses to run.
        if Task.isCancelled {
            do {
                if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            } catch {
                throw SandboxError(code: .fileSystem, message: "cannot remove \(path)", underlying: error)
            }
            return
        }
        do {
            try await NIOThreadPool.singleton.runIfActive {
                if FileManager.default.fileExists(atPath: path) {
                    try FileManager.default.removeItem(atPath: path)
                }
            }
        } catch {
            throw SandboxError(code: .fileSystem, message: "cannot remove \(path)", underlying: error)
        }
    }

    // MARK: Ownership

    /// The start time of process `pid` (field 22 of `/proc/<pid>/stat`, in clock ticks since boot), which
    /// tells a process from a later one that reused its pid; nil when the process does not exist.
    static func startTime(of pid: pid_t) -> String? {
        guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field 22 is at index 19.
        guard fields.count > 19 else { return nil }
        return String(fields[19])
    }

    /// Writes the owner file of `directory`: this process's pid and start time.
    static func writeOwnerFile(in directory: String, owner: pid_t = getpid()) throws {
        let startTime = startTime(of: owner) ?? "?"
        try write("\(owner) \(startTime)\n", to: "\(directory)/\(ownerFileName)")
    }

    /// Whether the process named by the owner file of `directory` is alive (same pid and start time).
    /// Nil when there is no readable owner file.
    static func ownerIsAlive(of directory: String) -> Bool? {
        guard let text = read("\(directory)/\(ownerFileName)") else { return nil }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, let pid = pid_t(parts[0]) else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        let recorded = String(parts[1])
        if recorded == "?" { return true }
        return startTime(of: pid) == recorded
    }

    /// The command line of process `pid` (arguments joined by spaces), nil when it does not exist.
    static func commandLine(of pid: pid_t) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// Kills and removes what earlier runs left under `root`: every `run-*` or `template-*` directory whose owner
    /// process is gone. A process is killed only if its command line mentions the directory (so a reused pid is
    /// never hit). Directories without an owner file are removed once they are a minute old.
    static func reapLeftovers(under root: String, logger: Logger) async {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: root) else { return }
        for entry in entries where entry.hasPrefix("run-") || entry.hasPrefix("template-") {
            let directory = "\(root)/\(entry)"
            switch ownerIsAlive(of: directory) {
            case true?:
                continue
            case nil:
                let attributes = try? FileManager.default.attributesOfItem(atPath: directory)
                let modified = attributes?[.modificationDate] as? Date ?? Date()
                if Date().timeIntervalSince(modified) < 60 { continue }
            case false?:
                break
            }
            let killed = killProcesses(mentioning: directory)
            if !killed.isEmpty {
                // Give the kernel a moment to tear them down before removing their files.
                for _ in 0..<100 where killed.contains(where: { kill($0, 0) == 0 && !isZombie($0) }) {
                    await uncancellableSleep(.milliseconds(10))
                }
            }
            do {
                try await removeTree(directory)
                logger.info(
                    "removed leftovers of an earlier sandbox run",
                    metadata: ["sandbox.directory": "\(directory)", "sandbox.killed_processes": "\(killed.count)"]
                )
            } catch {
                logger.debug(
                    "could not remove leftovers of an earlier sandbox run",
                    metadata: ["sandbox.directory": "\(directory)", "sandbox.error": "\(error)"]
                )
            }
        }
    }

    /// Sends `SIGKILL` to every process whose command line contains `directory` + "/"; returns their pids.
    static func killProcesses(mentioning directory: String) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let needle = directory.hasSuffix("/") ? directory : directory + "/"
        var killed: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid(), let commandLine = commandLine(of: pid) else { continue }
            if commandLine.contains(needle) {
                if kill(pid, SIGKILL) == 0 { killed.append(pid) }
            }
        }
        return killed
    }

    /// Whether `pid` is a zombie (ended, not yet reaped by its parent).
    static func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }
}
