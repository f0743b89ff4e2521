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

/// Process-wide bookkeeping of the sandbox: the ports handed out, and the process groups and directories that an
/// exit hook kills and removes if the process ends without stopping its sandboxes.
///
/// The watchdog next to every server covers a crash or `SIGKILL` of this process; the exit hook covers a normal
/// `exit()` with sandboxes still running (their directories would otherwise wait for the next run's reaper).
final class SandboxRegistry: Sendable {
    static let shared = SandboxRegistry()

    private struct State {
        var processGroups: Set<pid_t> = []
        var directories: Set<String> = []
        var reservedPorts: Set<Int> = []
        var exitHookInstalled = false
    }

    private let state = Mutex(State())

    func registerProcessGroup(_ pid: pid_t) {
        installExitHook()
        state.withLock { _ = $0.processGroups.insert(pid) }
    }

    func unregisterProcessGroup(_ pid: pid_t) {
        state.withLock { _ = $0.processGroups.remove(pid) }
    }

    func registerDirectory(_ path: String) {
        installExitHook()
        state.withLock { _ = $0.directories.insert(path) }
    }

    func unregisterDirectory(_ path: String) {
        state.withLock { _ = $0.directories.remove(path) }
    }

    /// Finds `count` distinct free TCP ports on 127.0.0.1 by binding port 0, never one handed out before in this
    /// process and not yet released. A server may still lose its port to another process before it binds it:
    /// the caller retries with a new port then.
    func reservePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        var ports: [Int] = []
        var attempts = 0
        while ports.count < count {
            attempts += 1
            if attempts > count * 20 {
                throw SandboxError(code: .fileSystem, message: "could not find \(count) free TCP ports on 127.0.0.1")
            }
            let (socket, port) = try Self.bindEphemeralPort()
            sockets.append(socket)
            let fresh = state.withLock { state -> Bool in
                guard !state.reservedPorts.contains(port) else { return false }
                state.reservedPorts.insert(port)
                return true
            }
            if fresh { ports.append(port) }
        }
        return ports
    }

    func releasePorts(_ ports: [Int]) {
        state.withLock { state in
            for port in ports { state.reservedPorts.remove(port) }
        }
    }

    /// Binds a TCP socket to 127.0.0.1:0 and returns it (still open) with the port the kernel chose.
    private static func bindEphemeralPort() throws -> (Int32, Int) {
        #if canImport(Glibc)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else {
            throw SandboxError(code: .fileSystem, message: "socket() failed: \(String(cString: strerror(errno)))")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw SandboxError(code: .fileSystem, message: "cannot bind a free port on 127.0.0.1: \(message)")
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    // MARK: Exit hook

    private func installExitHook() {
        let install = state.withLock { state -> Bool in
            defer { state.exitHookInstalled = true }
            return !state.exitHookInstalled
        }
        if install {
            atexit { SandboxRegistry.shared.cleanUpAtExit() }
        }
    }

    /// Kills every registered process group and removes every registered directory.
    private func cleanUpAtExit() {
        let (groups, directories) = state.withLock { state in
            defer {
                state.processGroups = []
                state.directories = []
            }
            return (state.processGroups, state.directories)
        }
        for group in groups { _ = kill(-group, SIGKILL) }
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
    }
}
