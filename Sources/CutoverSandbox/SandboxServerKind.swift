/// Which server the sandbox runs.
///
/// - ``mariadb``: MariaDB 10.11 from the system (`apt-get install mariadb-server`), the default.
/// - ``mysql``: MySQL 9.7 from Debian's `sid` suite, run as files from a directory that `migrate-cli sandbox
///   install-mysql` fills (see ``MySQLDistribution``): the source and the Aurora stand-in are then both MySQL,
///   with GTIDs on.
public enum SandboxServerKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// MariaDB (`mariadbd`, `mariadb-install-db`).
    case mariadb
    /// MySQL 9.7 (`mysqld` through the wrappers of ``MySQLDistribution``).
    case mysql

    public var description: String { rawValue }

    /// The server program's name in messages (`mariadbd`, `mysqld`).
    public var serverProgramName: String { self == .mariadb ? "mariadbd" : "mysqld" }

    /// Human name (`MariaDB`, `MySQL`).
    public var displayName: String { self == .mariadb ? "MariaDB" : "MySQL" }
}
