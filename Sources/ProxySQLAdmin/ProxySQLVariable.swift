public import MariaDB

/// One row of `global_variables` (or `runtime_global_variables`): a ProxySQL setting and its value as text.
///
/// Edits go to `global_variables`; `LOAD MYSQL VARIABLES TO RUNTIME` applies the `mysql-` ones and
/// `SAVE MYSQL VARIABLES TO DISK` keeps them across restarts.
public struct ProxySQLVariable: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A variable name (`mysql-query_retries_on_failure`). Names are compared exactly, as ProxySQL does.
    public struct Name: RawRepresentable, Sendable, Hashable, Comparable, Codable, ExpressibleByStringLiteral,
        CustomStringConvertible
    {
        /// The full name, prefix included.
        public let rawValue: String

        /// Creates a name.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// Creates a name from a string literal.
        public init(stringLiteral value: String) {
            self.rawValue = value
        }

        /// `mysql-query_retries_on_failure` (default 1): ProxySQL re-sends an autocommit statement interrupted
        /// by a backend failure. Set to 0 for a writer switch, or an interrupted write can be applied twice.
        public static let queryRetriesOnFailure: Name = "mysql-query_retries_on_failure"
        /// `mysql-auto_increment_delay_multiplex` (default 5): statements a session stays pinned after an
        /// insert that generated an AUTO_INCREMENT value.
        public static let autoIncrementDelayMultiplex: Name = "mysql-auto_increment_delay_multiplex"
        /// `mysql-auto_increment_delay_multiplex_timeout_ms` (default 10 000): idle time that ends that pin.
        public static let autoIncrementDelayMultiplexTimeout: Name = "mysql-auto_increment_delay_multiplex_timeout_ms"
        /// `mysql-connect_timeout_server_max` (default 10 000 ms): how long a query waits for a usable server
        /// before failing with error 9001.
        public static let connectTimeoutServerMax: Name = "mysql-connect_timeout_server_max"
        /// `mysql-max_transaction_idle_time`: idle time after which a session with an open transaction is
        /// closed.
        public static let maxTransactionIdleTime: Name = "mysql-max_transaction_idle_time"
        /// `mysql-wait_timeout`: idle time after which a client session is closed.
        public static let waitTimeout: Name = "mysql-wait_timeout"
        /// `mysql-multiplexing`: whether ProxySQL multiplexes backend connections at all.
        public static let multiplexing: Name = "mysql-multiplexing"
        /// `mysql-keep_multiplexing_variables`: session variables whose use does not pin a session.
        public static let keepMultiplexingVariables: Name = "mysql-keep_multiplexing_variables"
        /// `mysql-monitor_enabled`: whether the monitor runs (it moves servers under replication hostgroups).
        public static let monitorEnabled: Name = "mysql-monitor_enabled"

        public static func < (lhs: Name, rhs: Name) -> Bool { lhs.rawValue < rhs.rawValue }

        public var description: String { rawValue }

        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    /// `variable_name`.
    public var name: Name
    /// `variable_value`, as text (ProxySQL stores every value as text; booleans are `true`/`false`).
    public var value: String

    /// Creates a variable.
    public init(name: Name, value: String) {
        self.name = name
        self.value = value
    }

    /// The value as an integer, or nil when it is not one.
    public var intValue: Int? { Int(value.trimmingSpaces()) }

    /// The value as a boolean (`true`/`false`, `1`/`0`, any case), or nil.
    public var boolValue: Bool? {
        switch value.trimmingSpaces().lowercased() {
        case "true", "1": true
        case "false", "0": false
        default: nil
        }
    }

    /// Whether two values mean the same to ProxySQL: equal text, the same integer (`0010` and `10`), or the same
    /// boolean (`1` and `true`). ProxySQL normalises values on `LOAD ... TO RUNTIME`, so compare with this.
    public static func valuesMatch(_ lhs: String, _ rhs: String) -> Bool {
        if lhs == rhs { return true }
        let left = ProxySQLVariable(name: "", value: lhs)
        let right = ProxySQLVariable(name: "", value: rhs)
        if let a = left.intValue, let b = right.intValue { return a == b }
        if let a = left.boolValue, let b = right.boolValue { return a == b }
        return false
    }

    /// Reads a row with `variable_name` and `variable_value`.
    ///
    /// - Throws: ``ProxySQLAdminError`` (``ProxySQLAdminError/Code/unexpectedResult``).
    public init(row: Row) throws {
        let reader = RowReader(row: row, table: "global_variables")
        self.init(name: Name(rawValue: try reader.string("variable_name")), value: try reader.string("variable_value"))
    }

    /// `name=value`.
    public var description: String { "\(name)=\(value)" }
}
