public import Logging
public import MariaDB
public import ReplicationControl

/// Checks an old source after a writer cut-over: once it replicates from the new writer (reverse replication), it
/// must be read-only, and stay so across a restart.
///
/// A `read_only` set with `SET GLOBAL` is lost when the server restarts (MariaDB and MySQL 5.7 have no
/// `SET PERSIST`); a restarted old source then takes writes from any client that bypasses ProxySQL, and they would
/// be on it only. `migrate-cli status` runs this check; its findings say what to do.
public enum SourceFenceCheck {
    /// The findings for a database in a given state, empty when all is well.
    ///
    /// - Parameters:
    ///   - name: the database, for messages (`source (10.0.0.5:3306)`).
    ///   - dialect: its replication dialect (which option-file lines apply, whether `SET PERSIST` exists).
    ///   - setting: its read-only settings and where they came from.
    ///   - replicatesFrom: the source it replicates from (`host:port`), nil when it replicates from nobody (it is
    ///     then a primary, and nothing is checked).
    ///   - filter: the reverse-replication filter, whose option-file line is recommended with the fence.
    public static func findings(
        name: String,
        dialect: ReplicationDialect,
        setting: ReadOnlySetting,
        replicatesFrom: String?,
        filter: ReplicationFilter = .ignoreRDSTables
    ) -> [String] {
        guard let replicatesFrom else { return [] }
        let lines = (dialect.readOnlyOptionFileLines + dialect.replicationFilterOptionFileLines(filter))
            .map { "`\($0)`" }.joined(separator: ", ")
        let persist = dialect.supportsPersistedVariables ? " (or SET PERSIST read_only = ON)" : ""
        if !setting.readOnly {
            return [
                "\(name) replicates from \(replicatesFrom) (a completed writer cut-over) but is writable: a restart "
                    + "dropped its read-only fence, so a client that bypasses ProxySQL can write there alone. Run "
                    + "`SET GLOBAL read_only = ON` on it now, and add to the [mysqld] section of its option file: "
                    + lines + persist
            ]
        }
        if setting.survivesRestart == false {
            return [
                "\(name) is read-only only until its next restart (read_only was set with SET GLOBAL): add to the "
                    + "[mysqld] section of its option file: " + lines + persist
            ]
        }
        return []
    }

    /// Reads what ``findings(name:dialect:setting:replicatesFrom:filter:)`` needs over `session` (an account that
    /// may read replication status and `read_only`) and returns the findings.
    ///
    /// - Throws: `ReplicationError` or `MariaDBError` when the server cannot be read.
    public static func inspect(
        session: any SQLSession,
        name: String,
        filter: ReplicationFilter = .ignoreRDSTables,
        logger: Logger
    ) async throws -> [String] {
        let dialect = try await ReplicationDialect.detect(on: session, logger: logger)
        // Aurora and RDS cannot be fenced: nothing to check there.
        guard dialect.allowsGlobalVariables, dialect.rdsProcedures == nil else { return [] }
        let status = try await NativeReplicaController(session: session, dialect: dialect)
            .replicaStatus(logger: logger)
        let source = status.isConfigured ? status.sourceHost.map { "\($0):\(status.sourcePort ?? 3306)" } : nil
        let setting = try await SourceController(session: session, dialect: dialect).readOnlySetting(logger: logger)
        return findings(name: name, dialect: dialect, setting: setting, replicatesFrom: source, filter: filter)
    }
}
