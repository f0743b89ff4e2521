/// The names of the `mysql.rds_*` replication procedures a server actually has.
///
/// Aurora MySQL version 2 (and RDS for MySQL up to 8.0) names them `..._master` (`rds_set_external_master`);
/// Aurora version 3 (and RDS for MySQL 8.4) `..._source` (`rds_set_external_source`). Never hard-code one
/// generation: build this value from the routines the server lists (``ReplicationDialect/detect(on:logger:)`` does),
/// and it picks the `_source` spelling when both exist.
public struct RDSProcedures: Sendable, Hashable, CustomStringConvertible {
    /// Which spelling the server uses for the external-source procedures.
    public enum Generation: String, Sendable, Hashable {
        /// `rds_set_external_master`, `rds_reset_external_master`, ... (Aurora v2, RDS for MySQL ≤ 8.0).
        case master
        /// `rds_set_external_source`, `rds_reset_external_source`, ... (Aurora v3, RDS for MySQL 8.4).
        case source
    }

    /// The spelling in use.
    public let generation: Generation
    /// Every `rds_*` procedure name the server listed, lower case.
    public let available: Set<String>

    /// `rds_set_external_source` / `rds_set_external_master` `(host, port, user, password, log_file, log_pos,
    /// ssl_encryption)`.
    public var setExternalSource: String {
        generation == .source ? "rds_set_external_source" : "rds_set_external_master"
    }
    /// `rds_set_external_source_with_auto_position` / `..._master_...` `(host, port, user, password,
    /// ssl_encryption)`, when present.
    public var setExternalSourceWithAutoPosition: String? {
        present(
            generation == .source
                ? "rds_set_external_source_with_auto_position" : "rds_set_external_master_with_auto_position")
    }
    /// `rds_reset_external_source` / `rds_reset_external_master`.
    public var resetExternalSource: String {
        generation == .source ? "rds_reset_external_source" : "rds_reset_external_master"
    }
    /// `rds_start_replication`.
    public var startReplication: String { "rds_start_replication" }
    /// `rds_stop_replication`.
    public var stopReplication: String { "rds_stop_replication" }
    /// `rds_start_replication_until(log_file, log_pos)`, when present.
    public var startReplicationUntil: String? { present("rds_start_replication_until") }
    /// `rds_start_replication_until_gtid(gtid)`, when present.
    public var startReplicationUntilGTID: String? { present("rds_start_replication_until_gtid") }
    /// `rds_skip_repl_error`, when present.
    public var skipReplicationError: String? { present("rds_skip_repl_error") }
    /// `rds_set_configuration(name, value)`, when present.
    public var setConfiguration: String? { present("rds_set_configuration") }
    /// `rds_show_configuration`, when present.
    public var showConfiguration: String? { present("rds_show_configuration") }

    /// The procedures every replica controller needs.
    static let essentialBase = ["rds_start_replication", "rds_stop_replication"]

    /// Picks the procedures from the names a server lists.
    ///
    /// - Parameter names: procedure names in schema `mysql` (any case; names not starting with `rds_` are ignored).
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/procedureMissing``) when the set/reset/start/stop
    ///   procedures are not all present in one spelling.
    public init(availableProcedures names: some Sequence<String>) throws {
        let available = Set(names.map { $0.lowercased() }.filter { $0.hasPrefix("rds_") })
        let generation: Generation
        if available.contains("rds_set_external_source"), available.contains("rds_reset_external_source") {
            generation = .source
        } else if available.contains("rds_set_external_master"), available.contains("rds_reset_external_master") {
            generation = .master
        } else {
            throw ReplicationError(
                code: .procedureMissing,
                message: "neither mysql.rds_set_external_source/rds_reset_external_source nor "
                    + "mysql.rds_set_external_master/rds_reset_external_master exist (or are visible to this account)"
            )
        }
        let missing = Self.essentialBase.filter { !available.contains($0) }
        guard missing.isEmpty else {
            throw ReplicationError(
                code: .procedureMissing,
                message: "missing RDS procedures: " + missing.map { "mysql.\($0)" }.joined(separator: ", ")
            )
        }
        self.generation = generation
        self.available = available
    }

    /// The procedure set of Aurora MySQL version 2 (MySQL 5.7 compatible), as its documentation lists it.
    public static let auroraVersion2 = try! RDSProcedures(availableProcedures: [
        "rds_set_external_master", "rds_set_external_master_with_auto_position", "rds_reset_external_master",
        "rds_start_replication", "rds_stop_replication", "rds_start_replication_until",
        "rds_start_replication_until_gtid", "rds_skip_repl_error", "rds_set_configuration", "rds_show_configuration",
        "rds_next_master_log", "rds_set_master_auto_position", "rds_skip_transaction_with_gtid",
    ])

    /// The procedure set of Aurora MySQL version 3 (MySQL 8.0 compatible), as its documentation lists it.
    public static let auroraVersion3 = try! RDSProcedures(availableProcedures: [
        "rds_set_external_source", "rds_set_external_source_with_auto_position", "rds_reset_external_source",
        "rds_start_replication", "rds_stop_replication", "rds_start_replication_until",
        "rds_start_replication_until_gtid", "rds_skip_repl_error", "rds_set_configuration", "rds_show_configuration",
        "rds_next_source_log", "rds_set_source_auto_position", "rds_skip_transaction_with_gtid",
    ])

    public var description: String { "RDS procedures (\(generation) spelling, \(available.count) present)" }

    private func present(_ name: String) -> String? {
        available.contains(name) ? name : nil
    }
}
