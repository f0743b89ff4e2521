/// The address of a MySQL backend as ProxySQL stores it: a host name (or IP address) and a TCP port.
///
/// The host is compared exactly, as ProxySQL does (`db1` and `DB1` are different servers to it).
public struct ServerEndpoint: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The host name or IP address, exactly as in `mysql_servers.hostname`.
    public var host: String
    /// The TCP port (0–65 535).
    public var port: Int

    /// Creates an endpoint.
    public init(host: String, port: Int = 3306) {
        self.host = host
        self.port = port
    }

    /// Whether ProxySQL would accept this endpoint: a non-empty host and a port in 0...65535.
    public var isValid: Bool { !host.isEmpty && (0...65535).contains(port) }

    public static func < (lhs: ServerEndpoint, rhs: ServerEndpoint) -> Bool {
        (lhs.host, lhs.port) < (rhs.host, rhs.port)
    }

    /// `host:port`, with an IPv6 address in brackets.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Another name for ``ServerEndpoint``.
public typealias ServerAddress = ServerEndpoint
