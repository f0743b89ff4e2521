import CutoverRehearsal
import Foundation
@_spi(Testing) import CutoverSandbox
import Logging
import MariaDB
import Testing

/// The fault rows that run on both server kinds (#12): a suite whose trait lists several kinds
/// (`.faultBed(kinds: SandboxServerKind.allCases)`) gets one bed per kind, the first started with the suite, the
/// others at their first test case; a row takes the kind as its argument (`@Test(arguments: FaultBed.kinds)`) and
/// asks for that bed with `FaultBed.inStartingState(kind)`. The MySQL case is skipped with a message where MySQL is
/// not installed, and fails instead under `REQUIRE_MYSQL=1`.
actor FaultBedPool {
    @TaskLocal static var current: FaultBedPool?

    let secondNode: Bool
    let fleetNodes: Int
    let kinds: [SandboxServerKind]
    private var starting: [SandboxServerKind: Task<FaultBed, any Error>] = [:]

    init(secondNode: Bool, fleetNodes: Int, kinds: [SandboxServerKind]) {
        self.secondNode = secondNode
        self.fleetNodes = fleetNodes
        self.kinds = kinds
    }

    /// The bed of `kind`, started at the first call (a failed start is the answer of every later call too).
    func bed(_ kind: SandboxServerKind) async throws -> FaultBed {
        if let task = starting[kind] { return try await task.value }
        let (secondNode, fleetNodes) = (self.secondNode, self.fleetNodes)
        let task = Task {
            try await FaultBed.start(
                secondNode: secondNode, fleetNodes: fleetNodes, kind: kind, logger: .integrationTests)
        }
        starting[kind] = task
        return try await task.value
    }

    /// Stops every bed that started.
    func stop() async {
        for task in starting.values {
            if let bed = try? await task.value { await bed.stop() }
        }
        starting = [:]
    }
}

extension FaultBed {
    /// The kinds a row of the fault matrix runs on when it means the same on MariaDB and MySQL.
    static let kinds = SandboxServerKind.allCases

    /// The suite's bed of `kind`, checked to be in the starting state; nil where that kind's tests are skipped.
    static func inStartingState(_ kind: SandboxServerKind, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> FaultBed?
    {
        guard let bed = try await available(kind, sourceLocation: sourceLocation) else { return nil }
        try await bed.expectStartingState("before", sourceLocation: sourceLocation)
        return bed
    }

    /// The suite's bed of `kind` (started now if it is the first test case of that kind); nil where that kind's
    /// tests are skipped.
    static func available(_ kind: SandboxServerKind, sourceLocation: SourceLocation = #_sourceLocation) async throws
        -> FaultBed?
    {
        guard try IntegrationGate.skipIfUnavailable(kind) else { return nil }
        let pool = try #require(FaultBedPool.current, "the suite needs the .faultBed trait", sourceLocation: sourceLocation)
        try #require(
            pool.kinds.contains(kind), "the suite's .faultBed trait does not list \(kind)", sourceLocation: sourceLocation)
        return try await pool.bed(kind)
    }

    /// The statements of the fault injections that differ between the bed's servers.
    var sql: FaultSQL { FaultSQL(kind: kind) }
}

extension SandboxServerKind {
    /// The name of a fault-matrix row on this kind: MariaDB's rows keep their names, MySQL's say `MySQL: `.
    func faultRow(_ name: String) -> String { self == .mysql ? "MySQL: \(name)" : name }
}

/// The few statements the fault rows send themselves that MariaDB 10.11 and MySQL 9.7 spell differently (the
/// library's own statements come from its ``ReplicationDialect``; these are the tests' injections and checks).
struct FaultSQL: Sendable {
    let kind: SandboxServerKind

    /// The replica's status (MySQL 8.0.22+ spells its columns `Replica_*` / `Source_*`, MariaDB `Slave_*` / `Master_*`).
    var showReplicaStatus: SQLStatement { kind == .mysql ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS" }
    /// The source's binlog coordinates (`SHOW MASTER STATUS` answers 1064 on MySQL 8.4+).
    var showSourceStatus: SQLStatement { kind == .mysql ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS" }

    /// Starts or stops the replica's threads (`thread` is `SQL_THREAD`, `IO_THREAD`, or empty for both).
    func startReplica(_ thread: String = "") -> SQLStatement {
        SQLStatement(unsafeRaw: "START \(replicaWord) \(thread)".trimmingTrailingSpace)
    }
    func stopReplica(_ thread: String = "") -> SQLStatement {
        SQLStatement(unsafeRaw: "STOP \(replicaWord) \(thread)".trimmingTrailingSpace)
    }
    private var replicaWord: String { kind == .mysql ? "REPLICA" : "SLAVE" }

    /// Waits up to `seconds` until the replica executed the source up to `file:position`.
    func sourcePositionWait(file: String, position: Int64, seconds: Int) -> SQLStatement {
        kind == .mysql
            ? "SELECT SOURCE_POS_WAIT(\(file), \(position), \(seconds))"
            : "SELECT MASTER_POS_WAIT(\(file), \(position), \(seconds))"
    }

    /// A column of the replica status, by its MySQL 8.0.22+ name (`Source_Log_File`, `Read_Source_Log_Pos`, ...).
    func replicaColumn(_ mySQLName: String) -> String {
        guard kind == .mariadb else { return mySQLName }
        return mySQLName.replacingOccurrences(of: "Replica", with: "Slave")
            .replacingOccurrences(of: "Source", with: "Master")
    }

    /// What root sends before a write that must land on the source behind the cut-over's fence: nothing on MariaDB
    /// (root's SUPER / READ_ONLY ADMIN ignores `read_only`), `super_read_only` off on MySQL (it stops root too; the
    /// run's rollback lifts the fence anyway).
    var letRootWritePastTheFence: [SQLStatement] { kind == .mysql ? ["SET GLOBAL super_read_only = OFF"] : [] }
}

extension String {
    fileprivate var trimmingTrailingSpace: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

extension FaultBed {
    /// Creates `cutover_load.fault_marker` on the source (if missing) and waits until Aurora has it: a table for
    /// writes a fault row makes itself, outside the load's table.
    func createMarkerTable() async throws {
        let setup = try await source.connectAsRoot()
        try await setup.run(
            "CREATE TABLE IF NOT EXISTS cutover_load.fault_marker (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64))")
        await setup.close()
        try await waitForReplica(target, of: source)
    }

    /// One root write into `cutover_load.fault_marker` on `server`, bypassing ProxySQL (a transaction the server's
    /// replicas must apply).
    func writeMarker(on server: SandboxServer) async throws {
        let connection = try await server.connectAsRoot()
        try await connection.run("INSERT INTO cutover_load.fault_marker (note) VALUES ('fault row')")
        await connection.close()
    }
}

extension FaultBed {
    /// Sets Aurora's `binlog retention hours` to 24 through the stand-in's procedure, as the admin account (the
    /// preflight fails a target that keeps no binlogs for reverse replication; the bed starts without the setting).
    func setBinlogRetention() async throws {
        let admin = try await MariaDBConnection.connect(configuration: rehearsal.auroraShim.adminConfiguration)
        try await admin.run("CALL mysql.rds_set_configuration('binlog retention hours', 24)")
        await admin.close()
    }
}
