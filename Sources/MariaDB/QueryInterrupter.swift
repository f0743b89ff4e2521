internal import CMariaDB
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Interrupts one running statement on behalf of a cancelled task or a passed deadline.
///
/// It sends `KILL QUERY <id>` over a short-lived side connection. If the statement has not returned a second
/// later (the server is unreachable, or it is a ProxySQL admin interface without `KILL QUERY`), it shuts the
/// socket down with `mariadb_cancel`, which breaks the connection for good. ``finished()`` waits for an
/// interruption in flight, so a late `KILL QUERY` can never hit the connection's next statement.
final class QueryInterrupter: Sendable {
    enum Reason: Sendable { case cancelled, deadline }

    private struct State {
        var running = false
        var done = false
        var reason: Reason?
        var socketCancelled = false
    }

    private let state = Mutex(State())

    private let inFlight = DispatchGroup()
    private let configuration: MariaDBConnection.Configuration
    private let connectionID: UInt64
    private let handle: MariaDBConnection.Handle

    init(configuration: MariaDBConnection.Configuration, connectionID: UInt64, handle: MariaDBConnection.Handle) {
        self.configuration = configuration
        self.connectionID = connectionID
        self.handle = handle
    }

    func schedule(after timeout: Duration) {
        // Weak: once the statement is over nothing else holds the interrupter, and a long deadline must not keep
        // the connection's handle (and socket) alive until it passes.
        DispatchQueue(label: "mariadb.deadline").asyncAfter(deadline: .now() + timeout.timeInterval) { [weak self] in
            self?.fire(.deadline)
        }
    }

    func started() {
        state.withLock { $0.running = true }
    }

    /// Records `reason` and interrupts the statement if it is still running (or about to run).
    func fire(_ reason: Reason) {
        let shouldInterrupt = state.withLock { state -> Bool in
            guard !state.done, state.reason == nil else { return false }
            state.reason = reason
            inFlight.enter()
            return true
        }
        guard shouldInterrupt else { return }
        // The socket fallback runs on its own clock: a server that does not even answer the side connection
        // (frozen, unreachable) must not delay it by the side connection's own timeouts.
        // Timers and side connections run on private serial queues, created only when an interruption fires: a
        // serial queue gets a thread of its own even when the global pool (two threads on a two-core machine) is
        // busy with other blocking work, which would otherwise delay a cancellation by as long as that work takes.
        let fallbackQueue = DispatchQueue(label: "mariadb.interrupter.fallback")
        let queue = DispatchQueue(label: "mariadb.interrupter")
        fallbackQueue.asyncAfter(deadline: .now() + 1.0) { [self] in
            state.withLock { state in
                // Under the lock, so that `finished()` cannot return, and the handle run another statement, while
                // the socket is being shut down.
                guard !state.done else { return }
                state.socketCancelled = true
                _ = mariadb_cancel(handle.pointer)
            }
        }
        queue.async { [self] in
            defer { inFlight.leave() }
            // If the query has not started yet, `runOnQueue` will see the reason when it finishes; still kill so a
            // statement that starts in the meantime does not run long.
            killOnServer()
        }
    }

    /// Marks the statement finished and waits for a `KILL QUERY` in flight (so it cannot hit the connection's
    /// next statement); returns the reason, if any. When the socket was shut down there is no next statement, so
    /// it does not wait for a side connection that may hang on an unresponsive server.
    func finished() -> (reason: Reason?, socketCancelled: Bool) {
        let socketCancelled = state.withLock { state -> Bool in
            state.done = true
            return state.socketCancelled
        }
        if !socketCancelled { inFlight.wait() }
        return state.withLock { ($0.reason, $0.socketCancelled) }
    }

    /// Sends `KILL QUERY` over a side connection with a short connect timeout; errors are ignored (the
    /// socket fallback follows).
    private func killOnServer() {
        guard let side = mysql_init(nil) else { return }
        defer { mysql_close(side) }
        _ = cmariadb_set_uint_option(side, MYSQL_OPT_CONNECT_TIMEOUT, 2)
        _ = cmariadb_set_uint_option(side, MYSQL_OPT_READ_TIMEOUT, 2)
        _ = cmariadb_set_uint_option(side, MYSQL_OPT_WRITE_TIMEOUT, 2)
        if let optionFile = configuration.optionFile {
            _ = cmariadb_set_string_option(side, MYSQL_READ_DEFAULT_FILE, optionFile.path)
            _ = cmariadb_set_string_option(side, MYSQL_READ_DEFAULT_GROUP, optionFile.group ?? "client")
        }
        if let tls = configuration.tls {
            if let ca = tls.certificateAuthorityFile { _ = cmariadb_set_string_option(side, MYSQL_OPT_SSL_CA, ca) }
            if let cert = tls.certificateFile { _ = cmariadb_set_string_option(side, MYSQL_OPT_SSL_CERT, cert) }
            if let key = tls.keyFile { _ = cmariadb_set_string_option(side, MYSQL_OPT_SSL_KEY, key) }
            // As on the main connection: never send the credentials without TLS when TLS is configured.
            _ = cmariadb_set_bool_option(side, MYSQL_OPT_SSL_ENFORCE, 1)
            _ = cmariadb_set_bool_option(side, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, tls.verifyServerCertificate ? 1 : 0)
        }
        let host: String
        let port: UInt32
        var socket: String?
        switch configuration.endpoint {
        case .tcp(let tcpHost, let tcpPort):
            host = tcpHost
            port = UInt32(tcpPort)
            var protocolValue = UInt32(MYSQL_PROTOCOL_TCP.rawValue)
            _ = withUnsafePointer(to: &protocolValue) { mysql_options(side, MYSQL_OPT_PROTOCOL, $0) }
        case .unixSocket(let path):
            host = "localhost"
            port = 0
            socket = path
        }
        guard
            mysql_real_connect(side, host, configuration.user, configuration.passwordForConnect(), nil, port, socket, 0)
                != nil
        else { return }
        let kill = "KILL QUERY \(connectionID)"
        _ = mysql_real_query(side, kill, UInt(kill.utf8.count))
    }
}
