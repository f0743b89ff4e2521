public import Cutover
import Foundation
import CutoverSandbox
public import Logging
import MariaDB
public import ReplicationControl

/// The first steps of a migration on the sandbox: a consistent copy of the source with its coordinates, taken and
/// restored with the stock client tools, then forward replication started from the copy's header exactly as
/// `migrate-cli replication start-forward --from-dump` does (pre-checks, the procedures, the proof).
extension Rehearsal {
    /// The copy that seeded "Aurora".
    public struct SourceCopy: Sendable {
        /// The dump file (in the source's sandbox directory, removed with the sandbox).
        public var path: String
        /// Its header's coordinates.
        public var coordinates: DumpCoordinates
        public var dumpDuration: Duration
        public var restoreDuration: Duration
    }

    /// Dumps the application's schema from the source (`mariadb-dump --single-transaction --master-data=2 --gtid`,
    /// or `mysqldump --source-data=2` on MySQL), restores it into the empty "Aurora", and creates the application
    /// account there (what `migrate-cli accounts copy` does on a real migration).
    ///
    /// - Throws: `SandboxError` when a tool fails, `ReplicationError` when the header has no coordinates.
    public func copySourceToTarget(logger: Logger) async throws -> SourceCopy {
        let path = source.directory + "/rehearsal-copy.sql"
        let dumpStart = ContinuousClock.now
        try await source.dump(databases: [options.schema.database], to: path)
        let dumpDuration = ContinuousClock.now - dumpStart
        let coordinates = try DumpCoordinates.parse(
            try SandboxFile.prefix(of: path, bytes: 1 << 20), trailer: try SandboxFile.suffix(of: path, bytes: 65_536))
        let restoreStart = ContinuousClock.now
        try await target.restore(from: path)
        let targetRoot = try await target.connectAsRoot(logger: logger)
        do {
            try await options.schema.createApplicationAccount(
                on: [targetRoot], user: options.applicationUser, password: applicationAccount.password)
        } catch {
            await targetRoot.close()
            throw error
        }
        await targetRoot.close()
        return SourceCopy(
            path: path, coordinates: coordinates, dumpDuration: dumpDuration,
            restoreDuration: ContinuousClock.now - restoreStart)
    }

    /// What `replication start-forward --from-dump` found and proved.
    public struct ForwardStart: Sendable {
        public var verdict: ForwardSetup.Verdict
        public var proof: ForwardSetup.Proof
        public var samples: Int
    }

    /// Starts forward replication from `coordinates` through the procedures as the restricted admin, after the
    /// pre-checks, and proves it runs.
    ///
    /// - Throws: `ReplicationError` / `MariaDBError`; a refusal by the pre-checks or a failed proof is a result.
    public func startForwardReplication(from coordinates: DumpCoordinates, logger: Logger) async throws -> ForwardStart {
        let sourceRoot = try await source.connectAsRoot(logger: logger)
        let admin: MariaDBConnection
        do {
            admin = try await MariaDBConnection.connect(configuration: auroraShim.adminConfiguration, logger: logger)
        } catch {
            await sourceRoot.close()
            throw error
        }
        do {
            let login = await ForwardSetup.checkLogin(
                source.configuration(user: Self.forwardReplicationUser, password: forwardReplicationPassword), logger: logger)
            let (facts, dialect) = try await ForwardSetup.readFacts(source: sourceRoot, target: admin, login: login, logger: logger)
            let verdict = ForwardSetup.verdict(for: .dump(coordinates), facts: facts)
            guard verdict.canProceed, let startPoint = verdict.startPoint else {
                await sourceRoot.close()
                await admin.close()
                return ForwardStart(verdict: verdict, proof: .failed("refused by the pre-checks"), samples: 0)
            }
            let replica = try ForwardSetup.replicaController(on: admin, dialect: dialect, kind: facts.targetKind)
            try await replica.configureSource(
                ReplicationSource(
                    host: "127.0.0.1", port: source.port, user: Self.forwardReplicationUser,
                    password: forwardReplicationPassword, startPoint: startPoint),
                logger: logger)
            _ = try await replica.startReplication(logger: logger)
            let (proof, samples) = try await ForwardSetup.prove(
                replica: replica, source: try await SourceController.detecting(on: sourceRoot, logger: logger),
                timeout: .seconds(30), interval: .milliseconds(100), logger: logger)
            await sourceRoot.close()
            await admin.close()
            return ForwardStart(verdict: verdict, proof: proof, samples: samples.count)
        } catch {
            await sourceRoot.close()
            await admin.close()
            throw error
        }
    }
}

/// Reading the beginning of a file (a dump's header) without reading all of it.
enum SandboxFile {
    static func prefix(of path: String, bytes: Int) throws -> String {
        guard let file = fopen(path, "r") else {
            throw ReplicationError(code: .invalidArgument, message: "cannot open \(path)")
        }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: bytes)
        let count = fread(&buffer, 1, bytes, file)
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    static func suffix(of path: String, bytes: Int) throws -> String {
        guard let file = fopen(path, "r") else {
            throw ReplicationError(code: .invalidArgument, message: "cannot open \(path)")
        }
        defer { fclose(file) }
        fseek(file, 0, SEEK_END)
        let size = ftell(file)
        fseek(file, max(0, size - bytes), SEEK_SET)
        var buffer = [UInt8](repeating: 0, count: bytes)
        let count = fread(&buffer, 1, bytes, file)
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
