#if canImport(Glibc)
    import Glibc
#endif
import Testing

/// A loopback port held by this test process for its whole life, so that no other test's server can take it.
///
/// - `refusing`: bound and never listening: connects are refused (ECONNREFUSED), like a server that is down.
/// - `silent`: bound and listening but never accepting: the kernel completes the TCP handshake into the backlog and
///   no greeting ever comes, like a server too busy to answer.
///
/// The descriptor is left open on purpose (one per call): a port merely closed again was reused by a sandbox server in
/// the whole suite, which then answered 1045.
enum LoopbackPort {
    enum Behaviour { case refusing, silent }

    static func reserve(_ behaviour: Behaviour) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        if behaviour == .silent { try #require(listen(fd, 16) == 0) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        try #require(named == 0)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
