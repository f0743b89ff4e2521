/// A dotted version number (`8.0.22`, `10.11.19`), compared numerically.
public struct ServerVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The first number.
    public var major: Int
    /// The second number (0 when absent).
    public var minor: Int
    /// The third number (0 when absent).
    public var patch: Int

    /// Creates a version.
    public init(_ major: Int, _ minor: Int = 0, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses the leading `major[.minor[.patch]]` of `text`; nil when it does not start with a number or a
    /// component does not fit in an `Int`.
    public init?(parsing text: some StringProtocol) {
        var numbers: [Int] = []
        var current = ""
        for character in text {
            if character.isASCII, character.isNumber {
                current.append(character)
            } else if character == ".", !current.isEmpty, numbers.count < 2 {
                guard let number = Int(current) else { return nil }
                numbers.append(number)
                current = ""
            } else {
                break
            }
        }
        if !current.isEmpty, numbers.count < 3 {
            guard let number = Int(current) else { return nil }
            numbers.append(number)
        }
        guard let major = numbers.first else { return nil }
        self.init(major, numbers.count > 1 ? numbers[1] : 0, numbers.count > 2 ? numbers[2] : 0)
    }

    public static func < (lhs: ServerVersion, rhs: ServerVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }
}

/// Which kind of server a connection talks to, and its version.
public struct ServerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The product behind the protocol.
    public enum Flavor: Sendable, Hashable, CustomStringConvertible {
        /// Community MySQL (or RDS for MySQL).
        case mysql
        /// MariaDB.
        case mariaDB
        /// Amazon Aurora MySQL, with its own version (`2.11.2`, `3.05.2`).
        case auroraMySQL(auroraVersion: ServerVersion)
        /// A ProxySQL admin or data interface.
        case proxySQL

        public var description: String {
            switch self {
            case .mysql: "MySQL"
            case .mariaDB: "MariaDB"
            case .auroraMySQL(let version): "Aurora MySQL \(version)"
            case .proxySQL: "ProxySQL"
            }
        }
    }

    /// The version string the server announced (`10.11.19-MariaDB-0+deb12u1`, `8.0.mysql_aurora.3.05.2`).
    public let versionString: String
    /// The MySQL-compatible version (`8.0.0` for `8.0.mysql_aurora.3.05.2`; MariaDB's own for MariaDB).
    public let version: ServerVersion
    /// The product behind the protocol.
    public let flavor: Flavor

    /// Creates an identity from its parts.
    public init(versionString: String, version: ServerVersion, flavor: Flavor) {
        self.versionString = versionString
        self.version = version
        self.flavor = flavor
    }

    /// Works out the identity from the version string of the handshake or `SELECT @@version`, optionally helped
    /// by `@@version_comment` and `@@aurora_version`.
    ///
    /// Aurora announces itself as `8.0.mysql_aurora.3.05.2` (v3) or `5.7.mysql_aurora.2.11.2` (v2); MariaDB's
    /// string contains `MariaDB` (a `5.5.5-` prefix some servers add is skipped); ProxySQL's contains `ProxySQL`.
    public static func parse(versionString: String, versionComment: String? = nil, auroraVersion: String? = nil)
        -> ServerIdentity
    {
        var text = Substring(versionString)
        if text.hasPrefix("5.5.5-") { text = text.dropFirst(6) }
        let version = ServerVersion(parsing: text) ?? ServerVersion(0)
        let lowered = versionString.lowercased()
        let flavor: Flavor
        if let auroraVersion, let parsed = ServerVersion(parsing: auroraVersion) {
            flavor = .auroraMySQL(auroraVersion: parsed)
        } else if let range = lowered.firstRange(of: "mysql_aurora.") {
            flavor = .auroraMySQL(auroraVersion: ServerVersion(parsing: lowered[range.upperBound...]) ?? ServerVersion(0))
        } else if lowered.contains("mariadb") || (versionComment?.lowercased().contains("mariadb") ?? false) {
            flavor = .mariaDB
        } else if lowered.contains("proxysql") || (versionComment?.lowercased().contains("proxysql") ?? false) {
            flavor = .proxySQL
        } else {
            flavor = .mysql
        }
        return ServerIdentity(versionString: versionString, version: version, flavor: flavor)
    }

    /// Whether the server is MariaDB.
    public var isMariaDB: Bool { flavor == .mariaDB }

    /// Whether the server is Aurora MySQL.
    public var isAurora: Bool {
        if case .auroraMySQL = flavor { true } else { false }
    }

    public var description: String { "\(flavor) \(versionString)" }
}
