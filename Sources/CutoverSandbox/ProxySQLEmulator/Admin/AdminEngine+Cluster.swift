import Foundation
import Logging
import MariaDB
import Synchronization

// ProxySQL Cluster, the part a cut-over meets (issue #16): the sync of `mysql_servers` between nodes listed in
// `proxysql_servers`. Written from reading ProxySQL's `lib/ProxySQL_Cluster.cpp` and `include/ProxySQL_Cluster.hpp`
// (v2.7 branch); none of its code is copied. What it reproduces:
//
// - every `admin-cluster_check_interval_ms` (1000) each node reads each peer's `runtime_checksums_values`, when
//   `admin-cluster_username` is set (an empty user name: no monitoring at all, as in ProxySQL);
// - per peer and module, `diff_check` is 1 when the peer's checksum changes, grows by one at each further check
//   with the same (different) checksum, and drops to 0 whenever the peer's checksum equals the node's own;
// - `mysql_servers_v2` is pulled when the peer's version is above 1, and the node just booted (own version 1) or
//   the peer's epoch is newer than the node's own, and `diff_check >= admin-cluster_mysql_servers_diffs_before_sync`
//   (3; 0 turns the sync off); the source is the peer with version above 1 and the largest epoch; equal epochs with
//   different checksums are a conflict and nothing is pulled;
// - the pulled rows exclude `OFFLINE_HARD` ones (`... WHERE status<>'OFFLINE_HARD'`) and turn `SHUNNED` into
//   `ONLINE`; they replace `mysql_servers`, are loaded to runtime with the peer's epoch, and saved to disk when
//   `admin-cluster_mysql_servers_save_to_disk` is true (the default).
//
// What differs: only `mysql_servers` is synced (users, query rules, variables and `proxysql_servers` are not); the
// pull reads the peer's `runtime_mysql_servers` (the same rows as ProxySQL's `mysql_servers_v2` snapshot unless a
// row's configured status was SHUNNED); checksums are the emulator's own hash, and the pulled rows are not
// re-checksummed before they are applied; `stats_proxysql_servers_checksums` stays empty; a peer is reached with
// the node's cluster credentials, which the peer must accept as its admin account.
extension AdminEngine {
    /// The `admin-cluster_*` variables of ProxySQL 2.7 this emulator reads, with ProxySQL's defaults.
    static let clusterVariableDefaults: [(String, String)] = [
        ("admin-cluster_username", ""),
        ("admin-cluster_password", ""),
        ("admin-cluster_check_interval_ms", "1000"),
        ("admin-cluster_check_status_frequency", "10"),
        ("admin-cluster_mysql_servers_diffs_before_sync", "3"),
        ("admin-cluster_mysql_servers_save_to_disk", "true"),
        ("admin-cluster_mysql_servers_sync_algorithm", "1"),
        ("admin-cluster_mysql_query_rules_diffs_before_sync", "3"),
        ("admin-cluster_mysql_users_diffs_before_sync", "3"),
        ("admin-cluster_proxysql_servers_diffs_before_sync", "3"),
    ]

    /// What the node knows of one peer's `mysql_servers_v2` checksum.
    struct PeerChecksum: Sendable, Equatable {
        var version: Int
        var epoch: Int
        var checksum: String
        var diffCheck: Int
    }

    /// The cluster settings in the runtime.
    struct ClusterSettings: Sendable {
        var username = ""
        var password = ""
        var checkInterval = Duration.milliseconds(1000)
        var diffsBeforeSync = 3
        var saveToDisk = true
    }

    func clusterSettings() -> ClusterSettings {
        let rows = (try? database.query(
            "SELECT variable_name, variable_value FROM main.runtime_global_variables WHERE variable_name LIKE 'admin-cluster_%'"
        )) ?? []
        var values: [String: String] = [:]
        for row in rows { if let name = row[0] { values[name] = row[1] ?? "" } }
        var settings = ClusterSettings()
        settings.username = values["admin-cluster_username"] ?? ""
        settings.password = values["admin-cluster_password"] ?? ""
        if let ms = values["admin-cluster_check_interval_ms"].flatMap(Int.init), ms >= 10 {
            settings.checkInterval = .milliseconds(ms)
        }
        if let diffs = values["admin-cluster_mysql_servers_diffs_before_sync"].flatMap(Int.init), diffs >= 0 {
            settings.diffsBeforeSync = diffs
        }
        settings.saveToDisk = !["false", "0"].contains((values["admin-cluster_mysql_servers_save_to_disk"] ?? "true").lowercased())
        return settings
    }

    /// The peers in `runtime_proxysql_servers`, without this node (`host:port` of its admin interface).
    func clusterPeers(ownAdminPort: Int) -> [ServerAddress] {
        let rows = (try? database.query("SELECT hostname, port FROM main.runtime_proxysql_servers ORDER BY hostname, port")) ?? []
        return rows.compactMap { row in
            guard let host = row[0], let port = row[1].flatMap(Int.init) else { return nil }
            let local = ["127.0.0.1", "localhost", "::1"].contains(host.lowercased())
            return local && port == ownAdminPort ? nil : ServerAddress(host: host, port: port)
        }
    }

    /// `host:port` of a peer's admin interface.
    struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
        var host: String
        var port: Int
        var description: String { "\(host):\(port)" }
    }

    /// The rule of `ProxySQL_Cluster::Update_Node_Checksums` for one peer: the new `diff_check`.
    static func nextDiffCheck(previous: PeerChecksum?, peerChecksum: String, ownChecksum: String) -> Int {
        var diffCheck: Int
        if let previous, previous.checksum == peerChecksum {
            diffCheck = previous.diffCheck + 1
        } else {
            diffCheck = 1
        }
        if peerChecksum == ownChecksum { diffCheck = 0 }
        return diffCheck
    }

    /// The rule of `ProxySQL_Node_Entry::set_checksums` and `get_peer_to_sync_mysql_servers_v2`: the peer to pull
    /// `mysql_servers_v2` from now, or nil.
    static func peerToSync(
        peers: [ServerAddress: PeerChecksum],
        own: RuntimeChecksum,
        diffsBeforeSync: Int
    ) -> ServerAddress? {
        guard diffsBeforeSync > 0 else { return nil }
        let ready = peers.contains { _, peer in
            peer.version > 1 && (own.version == 1 || peer.epoch > own.epoch) && peer.diffCheck >= diffsBeforeSync
        }
        guard ready else { return nil }
        return peers.filter { $0.value.version > 1 }
            .max { ($0.value.epoch, $1.key.description) < ($1.value.epoch, $0.key.description) }?.key
    }

    /// Runs the cluster monitor of this node until cancelled: checks every peer each interval, pulls
    /// `mysql_servers` by ProxySQL's rule.
    func runClusterSync(ownAdminPort: Int) async {
        var known: [ServerAddress: PeerChecksum] = [:]
        var connections: [ServerAddress: MariaDBConnection] = [:]
        while !Task.isCancelled {
            let settings = clusterSettings()
            do { try await Task.sleep(for: settings.checkInterval) } catch { break }
            guard !settings.username.isEmpty else { continue }
            let peers = clusterPeers(ownAdminPort: ownAdminPort)
            for address in Array(connections.keys) where !peers.contains(address) {
                await connections.removeValue(forKey: address)?.close()
                known[address] = nil
            }
            let own = checksums.withLock { $0["mysql_servers_v2"] } ?? RuntimeChecksum(version: 0, epoch: 0, checksum: "")
            for address in peers {
                guard let connection = await connection(to: address, settings: settings, cache: &connections) else {
                    continue
                }
                do {
                    let rows = try await connection.query(
                        "SELECT version, epoch, checksum FROM runtime_checksums_values WHERE name = 'mysql_servers_v2'",
                        timeout: .seconds(2)
                    )
                    guard let row = rows.first, let version = row[0].string.flatMap(Int.init),
                        let epoch = row[1].string.flatMap(Int.init), let checksum = row[2].string
                    else { continue }
                    let diffCheck = Self.nextDiffCheck(previous: known[address], peerChecksum: checksum, ownChecksum: own.checksum)
                    known[address] = PeerChecksum(version: version, epoch: epoch, checksum: checksum, diffCheck: diffCheck)
                } catch {
                    await connections.removeValue(forKey: address)?.close()
                }
            }
            guard let source = Self.peerToSync(peers: known, own: own, diffsBeforeSync: settings.diffsBeforeSync),
                let peer = known[source],
                let connection = await connection(to: source, settings: settings, cache: &connections)
            else { continue }
            do {
                try await pullServers(from: connection, epoch: peer.epoch, saveToDisk: settings.saveToDisk)
                logger.info(
                    "cluster: pulled mysql_servers",
                    metadata: ["proxysql.peer": "\(source)", "proxysql.epoch": "\(peer.epoch)"]
                )
                for address in Array(known.keys) { known[address]?.diffCheck = 0 }
            } catch {
                logger.info("cluster: pull failed", metadata: ["proxysql.peer": "\(source)", "proxysql.error": "\(error)"])
                await connections.removeValue(forKey: source)?.close()
            }
        }
        for connection in connections.values { await connection.close() }
    }

    private func connection(
        to address: ServerAddress,
        settings: ClusterSettings,
        cache: inout [ServerAddress: MariaDBConnection]
    ) async -> MariaDBConnection? {
        if let open = cache[address] { return open }
        var configuration = MariaDBConnection.Configuration(
            host: address.host,
            port: address.port,
            user: settings.username,
            password: settings.password
        )
        configuration.quoting = .proxySQLAdmin
        configuration.connectTimeout = .seconds(1)
        guard let connection = try? await MariaDBConnection.connect(configuration: configuration) else { return nil }
        cache[address] = connection
        return connection
    }

    /// `pull_mysql_servers_v2_from_peer`: the peer's servers without the OFFLINE_HARD ones (SHUNNED as ONLINE)
    /// replace `mysql_servers`, are loaded with the peer's epoch, and saved when the setting says so.
    private func pullServers(from peer: MariaDBConnection, epoch: Int, saveToDisk: Bool) async throws {
        let columns = RuntimeServerConfig.columns
        let rows = try await peer.query(
            "SELECT \(unsafeRaw: columns.joined(separator: ", ")) FROM runtime_mysql_servers WHERE status<>'OFFLINE_HARD' "
                + "ORDER BY hostgroup_id, hostname, port",
            timeout: .seconds(2)
        )
        let statusIndex = columns.firstIndex(of: "status")
        try database.transaction("DELETE FROM main.mysql_servers;")
        for row in rows {
            var values = (0..<columns.count).map { row[$0].string }
            if let statusIndex, values[statusIndex] == "SHUNNED" { values[statusIndex] = "ONLINE" }
            let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
            _ = try database.query(
                "INSERT INTO main.mysql_servers (\(columns.joined(separator: ", "))) VALUES (\(placeholders))",
                values
            )
        }
        try loadServersToRuntime()
        // The pulled configuration keeps the peer's epoch (ProxySQL loads it with the epoch it pulled).
        checksums.withLock { values in
            for name in ["mysql_servers", "mysql_servers_v2"] { values[name]?.epoch = epoch }
        }
        try refreshChecksumRows()
        if saveToDisk {
            for table in AdminSchema.serverTables {
                try database.transaction("DELETE FROM disk.\(table); INSERT INTO disk.\(table) SELECT * FROM main.\(table);")
            }
        }
    }

    /// Rewrites `runtime_checksums_values` from ``checksums``.
    func refreshChecksumRows() throws {
        let rows = checksums.withLock { values in
            Self.checksumNames.map { name -> [String?] in
                let value = values[name] ?? RuntimeChecksum(version: 0, epoch: 0, checksum: "")
                return [name, String(value.version), String(value.epoch), value.checksum]
            }
        }
        try database.replaceRows(
            of: "main.runtime_checksums_values",
            columns: ["name", "version", "epoch", "checksum"],
            rows: rows
        )
    }
}
