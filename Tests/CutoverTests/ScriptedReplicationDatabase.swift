import CutoverTestSupport
import ReplicationControl

@testable import Cutover

/// The replication side of a database over one scripted session, as the live cut-over builds it: MariaDB 10.11,
/// with Aurora's `mysql.rds_*` procedures when `rds` (the RDS controller) or without (the native one). Shared by the
/// suites that script a channel's statements (TLS, an existing channel, the stop's deadline).
enum ScriptedReplication {
    static func database(_ session: ScriptedSQLSession, rds: Bool, name: String) throws -> ReplicationControlDatabase {
        let dialect = rds ? DryRunExecutorTests.mariaDBWithProcedures : DryRunExecutorTests.mariaDB
        let replica: any ReplicationControlling =
            rds
            ? try RDSReplicaController(
                session: session, dialect: dialect,
                options: .init(verificationTimeout: .seconds(5), verificationInterval: .milliseconds(1)))
            : try NativeReplicaController(
                session: session, dialect: dialect,
                options: .init(verificationTimeout: .seconds(5), verificationInterval: .milliseconds(1)))
        return ReplicationControlDatabase(
            name: name, dialect: dialect, replica: replica,
            primary: SourceController(session: session, dialect: dialect),
            sessions: SessionCloser(session: session, dialect: dialect))
    }
}
