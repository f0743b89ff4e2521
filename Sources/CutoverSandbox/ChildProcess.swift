import Dispatch
import Synchronization

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

/// A process this process launched with `posix_spawn`, in a process group of its own, and reaps itself.
///
/// Every wait is bounded and polls `waitpid(WNOHANG)`, so no thread ever blocks on a child. Once the child is
/// reaped its pid is never signalled again (it could belong to someone else by then).
final class ChildProcess: Sendable {
    /// How a child ended.
    enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signalled(let signal): "signal \(signal)"
            }
        }
    }

    let pid: pid_t
    let executable: String
    private let termination = Mutex<Termination?>(nil)

    private init(pid: pid_t, executable: String) {
        self.pid = pid
        self.executable = executable
    }

    /// Launches `executable` with `arguments` (without argv[0]).
    ///
    /// The child gets `inputPath` (`/dev/null` unless given) as standard input, `outputPath` (appended to) as
    /// standard output and error, no other inherited descriptor, the given environment only, and a new process group
    /// whose id is its pid.
    static func launch(
        executable: String,
        arguments: [String],
        environment: [String: String],
        outputPath: String,
        inputPath: String = "/dev/null"
    ) throws -> ChildProcess {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, inputPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        closeInheritedDescriptors(&fileActions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own: signals sent to the test's terminal group do not reach it directly, and the whole
        // group (the server and its watchdog) can be killed at once.
        posix_spawnattr_setpgroup(&attributes, 0)
        // Default signal dispositions and an empty mask, whatever this process changed.
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        )

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer { for pointer in envp { free(pointer) } }

        var pid: pid_t = 0
        let status = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                posix_spawn(
                    &pid,
                    executable,
                    &fileActions,
                    &attributes,
                    argvBuffer.baseAddress!,
                    envpBuffer.baseAddress!
                )
            }
        }
        guard status == 0 else {
            throw SandboxError(
                code: .processLaunchFailed,
                message: "cannot launch \(executable): \(String(cString: strerror(status)))"
            )
        }
        return ChildProcess(pid: pid, executable: executable)
    }

    /// Makes the child close every descriptor above 2, so a server never holds on to this process's sockets
    /// or files: `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+, looked up at run time because the
    /// Swift overlay does not export it), else one close action per descriptor open right now.
    private static func closeInheritedDescriptors(_ fileActions: inout posix_spawn_file_actions_t) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            let addCloseFrom = unsafeBitCast(symbol, to: AddCloseFrom.self)
            if addCloseFrom(&fileActions, 3) == 0 { return }
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in entries.compactMap({ Int32($0) }) where descriptor > 2 {
            posix_spawn_file_actions_addclose(&fileActions, descriptor)
        }
    }

    /// The termination, reaping the child if it has ended; nil while it runs.
    func poll() -> Termination? {
        termination.withLock { termination in
            if let termination { return termination }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                termination = Self.decode(status)
            } else if result < 0, errno == ECHILD {
                // Reaped elsewhere (should not happen): treat as gone, never signal it again.
                termination = .exited(-1)
            }
            return termination
        }
    }

    /// Whether the child is still running.
    var isRunning: Bool { poll() == nil }

    /// Sends `signal` to the child, unless it was already reaped.
    func send(_ signal: Int32) {
        termination.withLock { termination in
            if termination == nil { _ = kill(pid, signal) }
        }
    }

    /// Sends `signal` to the child's whole process group (the child and what it started), unless the child was
    /// already reaped.
    func sendToGroup(_ signal: Int32) {
        termination.withLock { termination in
            if termination == nil { _ = kill(-pid, signal) }
        }
    }

    /// Waits until the child ends or `timeout` passes; returns the termination, nil on timeout.
    ///
    /// Not cancellable on purpose: it is used on shutdown paths that must finish even in a cancelled task.
    func waitForExit(timeout: Duration) async -> Termination? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let termination = poll() { return termination }
            if ContinuousClock.now >= deadline { return nil }
            await uncancellableSleep(.milliseconds(10))
        }
    }

    private static func decode(_ status: Int32) -> Termination {
        let signal = status & 0x7F
        if signal == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(signal)
    }
}

/// Sleeps for `duration` even when the task is cancelled (for bounded shutdown loops).
func uncancellableSleep(_ duration: Duration) async {
    let (seconds, attoseconds) = duration.components
    let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
            continuation.resume()
        }
    }
}
