public import MariaDB
public import ProxySQLAdmin

/// Polls a ProxySQL admin interface's `runtime_mysql_servers` every `interval` until `server`'s row (its hostgroup
/// and port) shows `SHUNNED`, and returns when that was first read: the moment a test or benchmark that made the server
/// refuse connections (``ConnectionHog``) times its next move from. Nil when `deadline` passes or the task is
/// cancelled first. Each statement and the connection are bounded by 5 s; the connection is closed on every way out.
///
/// - Throws: the connection's or a statement's error.
public func firstShun(
    of server: BackendServer.Key, admin: MariaDBConnection.Configuration, deadline: ContinuousClock.Instant,
    interval: Duration = .milliseconds(5)
) async throws -> ContinuousClock.Instant? {
    var configuration = admin
    configuration.connectTimeout = .seconds(5)
    let connection = try await MariaDBConnection.connect(configuration: configuration)
    let query = SQLStatement(
        unsafeRaw: "SELECT status FROM runtime_mysql_servers WHERE hostgroup_id = \(server.hostgroup.rawValue) "
            + "AND port = \(server.endpoint.port)")
    do {
        while !Task.isCancelled, ContinuousClock.now < deadline {
            if try await connection.queryFirst(query, timeout: .seconds(5))?[0].string == "SHUNNED" {
                await connection.close()
                return ContinuousClock.now
            }
            try await Task.sleep(for: interval)
        }
    } catch {
        await connection.close()
        if Task.isCancelled { return nil }
        throw error
    }
    await connection.close()
    return nil
}
