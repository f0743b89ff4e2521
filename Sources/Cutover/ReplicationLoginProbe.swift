public import Logging
import MariaDB
public import ProxySQLAdmin
import ReplicationControl

/// Logs in to a server with a replication account, the way the replica that uses it will (issue #13 item 5), and
/// reads the account's grants. Tests pass fakes.
public protocol ReplicationLoginProbing: Sendable {
    /// Logs in to `endpoint` as `user` (over TLS when `tls` is ``ReplicationTLS/required``), runs `SHOW GRANTS`,
    /// and logs out. Never throws: a failed login is an outcome. Bounded by the probe's own connect and read timeouts.
    func probe(
        _ endpoint: ServerEndpoint, user: String, password: String, tls: ReplicationTLS, logger: Logger
    ) async -> ReversePrerequisites.Login
}

/// The live ``ReplicationLoginProbing``: one libmariadb connection, `SHOW GRANTS`, closed at once. The password is
/// never logged; the probe changes nothing on the server.
public struct ReplicationLoginProbe: ReplicationLoginProbing {
    /// Bound on the connection and on `SHOW GRANTS`.
    public var timeout: Duration

    /// Creates a probe bounded by `timeout`.
    public init(timeout: Duration = .seconds(5)) {
        self.timeout = timeout
    }

    public func probe(
        _ endpoint: ServerEndpoint, user: String, password: String, tls: ReplicationTLS, logger: Logger
    ) async -> ReversePrerequisites.Login {
        var configuration = MariaDBConnection.Configuration(host: endpoint.host, port: endpoint.port, user: user, password: password)
        configuration.connectTimeout = timeout
        configuration.readTimeout = timeout
        configuration.writeTimeout = timeout
        configuration.programName = "migrate-cli (replication login probe)"
        // A replica with MASTER_SSL = 1 encrypts without checking the certificate (MASTER_SSL_VERIFY_SERVER_CERT = 0).
        if tls == .required { configuration.tls = MariaDBConnection.Configuration.TLS(verifyServerCertificate: false) }
        let connection: MariaDBConnection
        do {
            connection = try await MariaDBConnection.connect(configuration: configuration, logger: logger)
        } catch let error as MariaDBError {
            return .failed(errorNumber: error.serverErrorNumber, message: error.message ?? error.code.description)
        } catch {
            return .unreachable(message: "\(error)")
        }
        do {
            let result = try await connection.execute("SHOW GRANTS", timeout: timeout)
            let grants = (result.resultSets.first?.rows ?? []).compactMap { row in
                row.count > 0 ? row[0].string.flatMap(ServerInspection.Grant.init(parsing:)) : nil
            }
            await connection.close()
            return .loggedIn(grants: grants)
        } catch let error as MariaDBError {
            await connection.close()
            return .refused(errorNumber: error.serverErrorNumber, message: "SHOW GRANTS failed: \(error.message ?? "\(error.code)")")
        } catch {
            await connection.close()
            return .unreachable(message: "SHOW GRANTS failed: \(error)")
        }
    }
}
