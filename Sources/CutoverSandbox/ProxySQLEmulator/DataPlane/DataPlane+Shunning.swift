import Foundation
import Logging
import Synchronization
import NIOCore

/// Automatic `SHUNNED`, as ProxySQL 2.7.1 does it (#14 item 7), read in its sources (`lib/MySrvC.cpp`
/// `MySrvC::connect_error`, `lib/MyHGC.cpp` `MyHGC::get_random_MySrvC`, `lib/MySQL_HostGroups_Manager.cpp`
/// `commit`, `lib/MySQL_Session.cpp` `handler_again___status_CONNECTING_SERVER`):
///
/// - Only errors **opening** a backend connection count (a refused connect, a timeout, the server's ERR at login such
///   as 1040 `Too many connections`), except client-side ones (1044/1045 access denied, 1048–1052, 1054–1075,
///   1099–1104, 1106–1113, 1116–1118, 1120, 1136, 1138–1149, 1203, 1226, 3118, 1007, 1008). Errors of statements on
///   an open connection (a `KILL`, `read_only`'s 1290, a 2013 at OFFLINE_HARD) never count.
/// - Errors are counted per wall-clock second (`time(NULL)`): the first one of a new second resets the count to 1;
///   when a later one in the same second brings it to `min(mysql-shun_on_failures, mysql-connect_retries_on_failure
///   + 1)`, an `ONLINE` server becomes `SHUNNED` (automatically). Other statuses are never shunned.
/// - Recovery is lazy, when a session picks a server in that hostgroup: an automatically shunned server whose last
///   error is more than `recoveryWait` whole seconds old goes back `ONLINE` and is used at once; when the hostgroup
///   has no usable server at all, a shorter "desperate" wait applies (at least 1 s).
/// - Any `LOAD MYSQL SERVERS TO RUNTIME` puts a shunned server whose configured status is `ONLINE` back `ONLINE`
///   (the LOAD compares the incoming rows with the live statuses).
enum ShunRules {
    /// Whether a failed connect with MySQL error `code` counts towards shunning (`MySrvC::connect_error`).
    static func counts(errorCode code: Int) -> Bool {
        switch code {
        case 1048...1052, 1054...1075, 1099...1104, 1106...1113, 1116...1118, 1136, 1138...1149: false
        case 1007, 1008, 1044, 1045, 1120, 1203, 1226, 3118: false
        default: true
        }
    }

    /// The query errors on an **open** backend connection that ProxySQL 2.7.1 counts like failed connects
    /// (`MySQL_Session::handler_minus1_HandleErrorCodes` calls `MySrvC::connect_error` for them): 1047 (WSREP not
    /// ready; MySQL's "Unknown command") and 1053 (`Server shutdown in progress`). Every other query error (1290
    /// `read_only`, 1317 interrupted, 1205 lock wait) and every client-library error on an open connection (2006,
    /// 2013: `handler_minus1_ClientLibraryError`) never counts.
    static func countsOnOpenConnection(errorCode code: Int) -> Bool {
        code == 1047 || code == 1053
    }

    /// How many errors within one second shun a server.
    static func threshold(_ variables: RuntimeVariables) -> Int {
        min(variables.shunOnFailures, variables.connectRetriesOnFailure + 1)
    }

    /// Whole seconds that must have passed since the last error (strictly more) before a shunned server is tried
    /// again: `min(shun_recovery_time_sec, connect_timeout_server_max/1000 − 1)`, at least 1; with `desperate`
    /// (the hostgroup has no usable server) a tenth of it. Nil: never (recovery off, `shun_recovery_time_sec` 0,
    /// outside the desperate path).
    static func recoveryWait(_ variables: RuntimeVariables, desperate: Bool) -> Int? {
        let recovery = variables.shunRecoveryTimeSec
        let maximum = variables.connectTimeoutServerMax
        let wait: Int
        if desperate {
            wait = recovery * 1000 >= maximum ? maximum / 10_000 - 1 : recovery / 10
        } else {
            guard recovery > 0 else { return nil }
            wait = recovery * 1000 >= maximum ? maximum / 1000 - 1 : recovery
        }
        return max(1, wait)
    }

    /// The wall-clock second ProxySQL counts in (`time(NULL)`).
    static func currentSecond() -> Int { Int(Date().timeIntervalSince1970) }
}

/// Where the emulator reads the second that shunning counts errors in and measures recovery waits against.
/// ProxySQL reads the wall clock (`time(NULL)`), and so does ``wallClock``, the only one the shipped emulator uses. A
/// test can hold the second still (every error of a statement then falls in one second, however slowly a loaded
/// machine runs it) and move it on when it wants recovery to become due: the rules are the same, only their clock
/// is the test's (`ShunRulesTests` prove the per-second arithmetic itself).
struct ShunClock: Sendable {
    let second: @Sendable () -> Int

    static let wallClock = ShunClock { ShunRules.currentSecond() }
}

/// A server's error count for shunning (ProxySQL's `time_last_detected_error`, `connect_ERR_at_time_last_detected_error`
/// and `shunned_automatic`).
struct ShunCounter: Sendable, Equatable {
    var lastErrorSecond = 0
    var errorsInSecond = 0
    /// Shunned by errors (recovers by itself), not by a configured `SHUNNED`.
    var automatic = false

    /// Records a counted connect error at wall-clock `second`; returns whether the server must now be shunned.
    mutating func record(second: Int, threshold: Int) -> Bool {
        if second > lastErrorSecond {
            lastErrorSecond = second
            errorsInSecond = 1
            return false
        }
        if second < lastErrorSecond { return false }
        errorsInSecond += 1
        return errorsInSecond >= threshold
    }

    /// Whether an automatically shunned server may be tried again at `second` after waiting `wait` seconds.
    func mayRecover(second: Int, wait: Int?) -> Bool {
        guard automatic, let wait else { return false }
        return second > lastErrorSecond && second - lastErrorSecond > wait
    }
}

/// Why a backend connection could not be opened, as the MySQL error a ProxySQL client gets once the retries are
/// spent (ProxySQL forwards the backend's `mysql_errno`/`mysql_sqlstate`/`mysql_error`).
struct BackendConnectError: Error, Sendable, CustomStringConvertible {
    var code: UInt16
    var sqlState: String
    var message: String
    /// The attempt was abandoned at its deadline (no connection, or no greeting and login, in time): ProxySQL's
    /// `ASYNC_CONNECT_TIMEOUT`, which leaves no MySQL error number.
    var timedOut = false

    init(code: UInt16, sqlState: String, message: String, timedOut: Bool = false) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.timedOut = timedOut
    }

    /// The error the backend sent instead of a greeting or at login.
    init(_ packet: ERRPacket) {
        self.init(code: packet.code, sqlState: packet.sqlState, message: packet.message)
    }

    /// What libmariadb would report for `error` while connecting to `server`.
    init(_ error: any Error, server: ServerKey) {
        if let known = error as? BackendConnectError {
            self = known
            return
        }
        let text = String(describing: error)
        if error is BackendLostError {
            self.init(
                code: 2013, sqlState: "HY000",
                message: "Lost connection to server at 'handshake: reading initial communication packet', system error: 110",
                timedOut: text.contains("timed out")
            )
        } else {
            var timedOut = text.localizedCaseInsensitiveContains("time")
            if case ChannelError.connectTimeout = error { timedOut = true }
            let errno = text.localizedCaseInsensitiveContains("refused") ? " (111)" : timedOut ? " (110)" : ""
            self.init(
                code: 2003, sqlState: "HY000", message: "Can't connect to MySQL server on '\(server.host)'\(errno)",
                timedOut: timedOut)
        }
    }

    var description: String { "\(code) (\(sqlState)) \(message)" }
}

extension DataPlane {
    /// Records a failed connection attempt to `server` with MySQL error `errorCode`; shuns an ONLINE server at
    /// ProxySQL's threshold. Returns whether this failure shunned it. `openingConnection` false: the error came on an
    /// open connection (1047/1053, ``ShunRules/countsOnOpenConnection(errorCode:)``), which ProxySQL passes to the
    /// same `MySrvC::connect_error` (so `ConnERR` counts it too).
    @discardableResult
    func connectFailed(_ server: ServerKey, errorCode: Int, second: Int? = nil, openingConnection: Bool = true) -> Bool {
        let second = second ?? shunClock.second()
        return state.withLock { state in
            guard var record = state.servers[server] else { return false }
            if openingConnection { record.connecting -= 1 }
            record.connectionsFailed += 1
            var shunned = false
            if ShunRules.counts(errorCode: errorCode),
                record.shun.record(second: second, threshold: ShunRules.threshold(state.variables)),
                record.inRuntime, record.config.status == .online
            {
                record.config.status = .shunned
                record.shun.automatic = true
                shunned = true
            }
            state.servers[server] = record
            if shunned {
                logger.info(
                    "server shunned",
                    metadata: ["proxysql.server": "\(server)", "proxysql.errors_per_second": "\(record.shun.errorsInSecond)"]
                )
            }
            return shunned
        }
    }

    /// Puts back ONLINE the automatically shunned servers of `hostgroup` whose wait is over (a session is picking a
    /// server there, as in `MyHGC::get_random_MySrvC`). Returns how many came back.
    @discardableResult
    static func recoverShunned(hostgroup: Int, desperate: Bool, second: Int, state: inout State) -> Int {
        let wait = ShunRules.recoveryWait(state.variables, desperate: desperate)
        var recovered = 0
        for key in state.serverOrder where key.hostgroup == hostgroup {
            guard var record = state.servers[key], record.inRuntime, record.config.status == .shunned,
                record.shun.mayRecover(second: second, wait: wait)
            else { continue }
            record.config.status = .online
            record.shun = ShunCounter()
            state.servers[key] = record
            recovered += 1
        }
        return recovered
    }

    /// Wakes the statements waiting for a usable server when an automatically shunned server may be tried again
    /// (the desperate wait is over): ProxySQL's waiting sessions re-check every `mysql-connect_retries_delay` ms and
    /// find it; the emulator's sleep until a runtime change, so the idle-timer sweep wakes them.
    func wakeWaitersIfShunRecoveryDue(second: Int? = nil) {
        let second = second ?? shunClock.second()
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            let wait = ShunRules.recoveryWait(state.variables, desperate: true)
            let due = state.servers.values.contains {
                $0.inRuntime && $0.config.status == .shunned && $0.shun.mayRecover(second: second, wait: wait)
            }
            guard due, !state.waiters.isEmpty else { return [] }
            state.generation &+= 1
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How many statements wait for a usable server (each until a runtime change or its deadline).
    func waitingStatementCount() -> Int { state.withLock { $0.waiters.count } }

    /// The live status of every server in the runtime (`SHUNNED` included), for `runtime_mysql_servers`.
    func liveStatuses() -> [ServerKey: EmulatedServerStatus] {
        state.withLock { state in
            var statuses: [ServerKey: EmulatedServerStatus] = [:]
            for (key, record) in state.servers where record.inRuntime { statuses[key] = record.config.status }
            return statuses
        }
    }
}
