import ProxySQLAdmin
import ReplicationControl

/// The replication's TLS setting against what the new writer offers (issue #15: the guards repeat preflight's
/// `replication.tls` decision). A replica told to use TLS (`MASTER_SSL = 1`, the procedures' `ssl_encryption = 1`)
/// cannot connect to a server with `have_ssl = DISABLED`; after a writer switch that replica is started past the point
/// of no return, so the guards refuse the switch instead (`reverse.tls`).
extension ReversePrerequisites {
    /// Whether replication configured with `mode` could not connect to a server that reports `acceptsTLS`
    /// (``ServerInspection/BinlogSettings/acceptsTLS``): TLS required and the server offers none. A server whose
    /// `have_ssl` was not read is not refused. The one decision of preflight's `replication.tls` and the guards'
    /// `reverse.tls`.
    public static func tlsUnavailable(_ mode: ReplicationTLS, acceptsTLS: Bool?) -> Bool {
        mode == .required && acceptsTLS == false
    }

    /// The verdict on ``Facts/tls`` against the new writer's `have_ssl`; nil when the setting is not known.
    public static func tls(_ facts: Facts) -> Verdict? {
        guard let mode = facts.tls else { return nil }
        let new = facts.newWriter
        let key = "\(facts.configurationSection).tls"
        guard tlsUnavailable(mode, acceptsTLS: new.binlog.acceptsTLS) else {
            return Verdict(
                aspect: .tls, status: .pass,
                detail: mode == .required
                    ? "\(new.name) offers TLS (\(key): required)" : "\(key): disabled (replication in clear text)")
        }
        return Verdict(
            aspect: .tls, status: .fail,
            detail: "\(key) is required, but \(serverName(new.name, replicationEndpoint: facts.endpoint)) offers none "
                + "(have_ssl = DISABLED): the old writer's replica could not connect after the point of no return, "
                + "leaving no way back",
            remedy: "give \(new.name) a certificate (ssl_cert, ssl_key) and restart it, or set \(key): disabled on a "
                + "trusted network path; run preflight again")
    }
}
