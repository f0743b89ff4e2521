#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small POSIX file helpers for the option-file and login-path readers (the module does not use Foundation).
enum FileBytes {
    /// Why a file could not be read or written, phrased to follow the path in a message.
    struct Failure: Error {
        var reason: String
    }

    /// The contents of a file and its permission bits.
    struct Contents {
        var bytes: [UInt8]
        var mode: UInt32
    }

    /// Reads a whole regular file (at most 16 MiB).
    static func read(_ path: String) throws(Failure) -> Contents {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(reason: describe(errno: errno)) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Failure(reason: describe(errno: errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw Failure(reason: "is not a regular file") }
        guard info.st_size <= 16 << 20 else { throw Failure(reason: "is larger than 16 MiB") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: describe(errno: errno))
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return Contents(bytes: bytes, mode: UInt32(info.st_mode) & 0o7777)
    }

    /// Writes `bytes` to `path`, creating or truncating it, with permissions `mode` (also applied to an
    /// existing file).
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(reason: describe(errno: errno)) }
        defer { close(descriptor) }
        guard fchmod(descriptor, mode) == 0 else { throw Failure(reason: describe(errno: errno)) }
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: describe(errno: errno))
            }
            offset += count
        }
    }

    /// The value of environment variable `name`.
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    static func describe(errno code: Int32) -> String {
        switch code {
        case ENOENT: "does not exist"
        case EACCES: "cannot be accessed (permission denied)"
        case EISDIR: "is a directory"
        case ENOTDIR: "has a path component that is not a directory"
        default: "cannot be accessed (\(String(cString: strerror(code))))"
        }
    }
}

private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
