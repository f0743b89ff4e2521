public import MariaDB

/// The exact `CALL mysql.rds_*` statements ``RDSReplicaController`` sends, for dry runs and plans. Each procedure
/// name comes from the server's own list (``RDSProcedures``); every value is an interpolated literal, and the
/// replication password a secret (sent, never shown).
extension RDSProcedures {
    /// `CALL mysql.rds_set_external_source|master(host, port, user, password, log_file, log_pos, ssl)` for a
    /// position, or `..._with_auto_position(host, port, user, password, ssl)` for GTID auto-positioning.
    ///
    /// - Throws: ``ReplicationError``: ``ReplicationError/Code/invalidArgument`` for invalid fields,
    ///   ``ReplicationError/Code/procedureMissing`` when the auto-position procedure is absent,
    ///   ``ReplicationError/Code/unsupported`` for a MariaDB GTID start point.
    public func setExternalSourceStatement(_ source: ReplicationSource) throws -> SQLStatement {
        try source.validate()
        let ssl = source.useTLS ? 1 : 0
        switch source.startPoint {
        case .position(let position):
            return
                "CALL mysql.\(unsafeRaw: setExternalSource)(\(source.host), \(source.port), \(source.user), \(secret: source.password), \(position.file), \(position.offset), \(ssl))"
        case .autoPosition:
            guard let name = setExternalSourceWithAutoPosition else {
                throw ReplicationError(
                    code: .procedureMissing,
                    message: "this server has no rds_set_external_\(generation.rawValue)_with_auto_position"
                )
            }
            return
                "CALL mysql.\(unsafeRaw: name)(\(source.host), \(source.port), \(source.user), \(secret: source.password), \(ssl))"
        case .mariaDBGTID:
            throw ReplicationError(
                code: .unsupported,
                message:
                    "the RDS procedures cannot start from an explicit MariaDB GTID position; use a binlog position or auto-position"
            )
        }
    }

    /// `CALL mysql.rds_start_replication`.
    public var startReplicationStatement: SQLStatement { "CALL mysql.\(unsafeRaw: startReplication)" }

    /// `CALL mysql.rds_stop_replication`.
    public var stopReplicationStatement: SQLStatement { "CALL mysql.\(unsafeRaw: stopReplication)" }

    /// `CALL mysql.rds_reset_external_source` / `..._master`.
    public var resetExternalSourceStatement: SQLStatement { "CALL mysql.\(unsafeRaw: resetExternalSource)" }

    /// `CALL mysql.rds_start_replication_until(file, pos)`, nil when the server has no such procedure.
    public func startReplicationUntilStatement(_ position: BinlogPosition) -> SQLStatement? {
        startReplicationUntil.map { "CALL mysql.\(unsafeRaw: $0)(\(position.file), \(position.offset))" }
    }

    /// `CALL mysql.rds_skip_repl_error`, nil when the server has no such procedure.
    public var skipReplicationErrorStatement: SQLStatement? {
        skipReplicationError.map { "CALL mysql.\(unsafeRaw: $0)" }
    }

    /// `CALL mysql.rds_show_configuration`, nil when the server has no such procedure.
    public var showConfigurationStatement: SQLStatement? {
        showConfiguration.map { "CALL mysql.\(unsafeRaw: $0)" }
    }

    /// `CALL mysql.rds_set_configuration('binlog retention hours', N)` (`NULL` clears it), nil when the server
    /// has no such procedure.
    public func setBinlogRetentionHoursStatement(_ hours: Int?) -> SQLStatement? {
        setConfiguration.map { "CALL mysql.\(unsafeRaw: $0)('binlog retention hours', \(hours))" }
    }

    /// `CALL mysql.rds_kill(id)`: closes another account's session where `KILL` needs `SUPER`.
    public static func killStatement(_ connectionID: UInt64) -> SQLStatement {
        "CALL mysql.rds_kill(\(connectionID))"
    }
}
