public import MariaDB

/// ProxySQL's own version, as `SELECT @@version` on the admin interface reports it (`2.7.1-16-g2726c27`).
///
/// Compare ``version`` to order versions.
public struct ProxySQLVersion: Sendable, Hashable, CustomStringConvertible {
    /// The full text.
    public var versionString: String
    /// The leading `major.minor.patch`.
    public var version: ServerVersion

    /// Parses a version string; the number defaults to 0.0.0 when the text does not start with one.
    public init(versionString: String) {
        self.versionString = versionString
        self.version = ServerVersion(parsing: versionString.trimmingSpaces()) ?? ServerVersion(0)
    }

    public var description: String { versionString }
}
