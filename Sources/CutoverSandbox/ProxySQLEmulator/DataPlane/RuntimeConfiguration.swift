/// A server's status in `mysql_servers`.
enum EmulatedServerStatus: String, Sendable {
    case online = "ONLINE"
    case shunned = "SHUNNED"
    case offlineSoft = "OFFLINE_SOFT"
    case offlineHard = "OFFLINE_HARD"
}

/// One `mysql_servers` row as loaded into the runtime.
struct RuntimeServerConfig: Sendable, Equatable {
    var key: ServerKey
    var gtidPort: Int = 0
    var status: EmulatedServerStatus = .online
    var weight: Int = 1
    var compression: Int = 0
    var maxConnections: Int = 1000
    var maxReplicationLag: Int = 0
    var useSSL: Int = 0
    var maxLatencyMs: Int = 0
    var comment: String = ""

    static let columns = [
        "hostgroup_id", "hostname", "port", "gtid_port", "status", "weight", "compression", "max_connections",
        "max_replication_lag", "use_ssl", "max_latency_ms", "comment",
    ]

    /// Reads a row selected with ``columns`` (every value as text, as SQLite returns it to us).
    init?(row: [String?]) {
        guard row.count == Self.columns.count, let hostgroup = row[0].flatMap({ Int($0) }), let host = row[1],
            let port = row[2].flatMap({ Int($0) })
        else { return nil }
        key = ServerKey(hostgroup: hostgroup, host: host, port: port)
        gtidPort = row[3].flatMap { Int($0) } ?? 0
        status = EmulatedServerStatus(rawValue: (row[4] ?? "ONLINE").uppercased()) ?? .online
        weight = row[5].flatMap { Int($0) } ?? 1
        compression = row[6].flatMap { Int($0) } ?? 0
        maxConnections = row[7].flatMap { Int($0) } ?? 1000
        maxReplicationLag = row[8].flatMap { Int($0) } ?? 0
        useSSL = row[9].flatMap { Int($0) } ?? 0
        maxLatencyMs = row[10].flatMap { Int($0) } ?? 0
        comment = row[11] ?? ""
    }

    var row: [String?] {
        [
            String(key.hostgroup), key.host, String(key.port), String(gtidPort), status.rawValue, String(weight),
            String(compression), String(maxConnections), String(maxReplicationLag), String(useSSL),
            String(maxLatencyMs), comment,
        ]
    }
}

/// The `mysql-` variables the emulator honours, as loaded by `LOAD MYSQL VARIABLES TO RUNTIME`.
struct RuntimeVariables: Sendable, Equatable {
    var connectTimeoutServerMax = 10_000
    /// `mysql-connect_timeout_server`: how long one backend connect may take before it is abandoned and counted as a
    /// failed connect (ProxySQL 2.7.1's default is 1000 ms, `MySQL_Threads_Handler` constructor; each retry gets as
    /// long again).
    var connectTimeoutServer = 1_000
    /// `mysql-connect_retries_delay`: a statement waiting for a hostgroup with no usable server looks again only
    /// this often (ms); ProxySQL's default is 1.
    var connectRetriesDelay = 1
    /// `mysql-connect_retries_on_failure`: failed connects a statement retries before it gets the backend's error.
    var connectRetriesOnFailure = 10
    /// `mysql-shun_on_failures`: connect errors within one second that shun a server (with the retries, see
    /// ``ShunRules/threshold(_:)``).
    var shunOnFailures = 5
    /// `mysql-shun_recovery_time_sec`: how long an automatically shunned server stays out (see
    /// ``ShunRules/recoveryWait(_:desperate:)``).
    var shunRecoveryTimeSec = 10
    var queryRetriesOnFailure = 1
    var autoIncrementDelayMultiplex = 5
    var autoIncrementDelayMultiplexTimeoutMs = 10_000
    var keepMultiplexingVariables: Set<String> = ["tx_isolation", "transaction_isolation", "version"]
    var maxTransactionIdleTime = 14_400_000
    var waitTimeout = 28_800_000
    var multiplexing = true
    var serverVersion = "8.0.11"

    /// The `global_variables` rows that describe these values (names with the `mysql-` prefix).
    var rows: [(String, String)] {
        [
            ("mysql-connect_timeout_server_max", String(connectTimeoutServerMax)),
            ("mysql-connect_timeout_server", String(connectTimeoutServer)),
            ("mysql-connect_retries_delay", String(connectRetriesDelay)),
            ("mysql-connect_retries_on_failure", String(connectRetriesOnFailure)),
            ("mysql-shun_on_failures", String(shunOnFailures)),
            ("mysql-shun_recovery_time_sec", String(shunRecoveryTimeSec)),
            ("mysql-query_retries_on_failure", String(queryRetriesOnFailure)),
            ("mysql-auto_increment_delay_multiplex", String(autoIncrementDelayMultiplex)),
            ("mysql-auto_increment_delay_multiplex_timeout_ms", String(autoIncrementDelayMultiplexTimeoutMs)),
            ("mysql-keep_multiplexing_variables", keepMultiplexingVariables.sorted().joined(separator: ",")),
            ("mysql-max_transaction_idle_time", String(maxTransactionIdleTime)),
            ("mysql-wait_timeout", String(waitTimeout)),
            ("mysql-multiplexing", multiplexing ? "true" : "false"),
            ("mysql-server_version", serverVersion),
            ("mysql-monitor_enabled", "false"),
        ]
    }

    /// Applies `global_variables` rows; values that do not parse keep their previous value (ProxySQL likewise
    /// refuses invalid values at LOAD time). Returns the names refused.
    @discardableResult
    mutating func apply(_ values: [String: String]) -> [String] {
        var refused: [String] = []
        func integer(_ name: String, _ range: ClosedRange<Int>, _ assign: (Int) -> Void) {
            guard let text = values[name] else { return }
            if let value = Int(text.trimmingSpaces), range.contains(value) { assign(value) } else { refused.append(name) }
        }
        integer("mysql-connect_timeout_server_max", 10...3_600_000) { connectTimeoutServerMax = $0 }
        integer("mysql-connect_timeout_server", 10...120_000) { connectTimeoutServer = $0 }
        integer("mysql-connect_retries_delay", 0...10_000) { connectRetriesDelay = $0 }
        integer("mysql-connect_retries_on_failure", 0...1000) { connectRetriesOnFailure = $0 }
        integer("mysql-shun_on_failures", 0...10_000_000) { shunOnFailures = $0 }
        integer("mysql-shun_recovery_time_sec", 0...31_536_000) { shunRecoveryTimeSec = $0 }
        integer("mysql-query_retries_on_failure", 0...1000) { queryRetriesOnFailure = $0 }
        integer("mysql-auto_increment_delay_multiplex", 0...1_000_000) { autoIncrementDelayMultiplex = $0 }
        integer("mysql-auto_increment_delay_multiplex_timeout_ms", 0...3_600_000) {
            autoIncrementDelayMultiplexTimeoutMs = $0
        }
        integer("mysql-max_transaction_idle_time", 1000...(20 * 24 * 3_600_000)) { maxTransactionIdleTime = $0 }
        integer("mysql-wait_timeout", 0...(20 * 24 * 3_600_000)) { waitTimeout = $0 }
        if let text = values["mysql-keep_multiplexing_variables"] {
            keepMultiplexingVariables = Set(
                text.split(separator: ",").map { $0.trimmingSpaces.lowercased() }.filter { !$0.isEmpty }
            )
        }
        if let text = values["mysql-multiplexing"] {
            switch text.trimmingSpaces.lowercased() {
            case "true", "1": multiplexing = true
            case "false", "0": multiplexing = false
            default: refused.append("mysql-multiplexing")
            }
        }
        if let text = values["mysql-server_version"], !text.isEmpty { serverVersion = text }
        return refused
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        let characters = Array(self)
        var start = 0
        var end = characters.count
        while start < end, characters[start].isWhitespace { start += 1 }
        while end > start, characters[end - 1].isWhitespace { end -= 1 }
        return String(characters[start..<end])
    }
}
