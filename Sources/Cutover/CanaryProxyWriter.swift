public import MariaDB

/// The canary's heartbeats over the MySQL protocol, through one ProxySQL data port, as an application account.
///
/// The table has no AUTO_INCREMENT column on purpose: ProxySQL pins a session that inserts into one for the next
/// five statements, and a canary that pinned itself would hold the old writer's drain open. Its key is the run's
/// identifier and the heartbeat's sequence. `prepare()` creates it through the proxy (so on the current writer,
/// replicated to the other side); `cleanUp()` drops it the same way (on the writer of the moment).
///
/// The account needs `CREATE`, `DROP` and `INSERT` on the canary table (preflight checks them when the canary is on).
public actor CanaryProxyWriter: CanaryWriting {
    /// The connection the heartbeats use (the proxy's data port, the canary account, the canary's schema).
    public let configuration: MariaDBConnection.Configuration
    /// The table's name (in the configuration's database).
    public let table: String
    /// The run the rows belong to (so two canaries sharing a table never collide).
    public let runID: String
    /// Whether ``prepare()`` creates the table and ``cleanUp()`` drops it (false: someone else does, once).
    public let managesTable: Bool
    private var connection: MariaDBConnection?

    /// The default table name.
    public static let defaultTable = "cutover_canary"

    /// Creates a writer; nothing is connected before the first call.
    public init(
        configuration: MariaDBConnection.Configuration,
        table: String = defaultTable,
        runID: String,
        managesTable: Bool = true
    ) {
        var configuration = configuration
        // A heartbeat must never wait longer than the canary allows: bounded reads, bounded connects.
        configuration.connectTimeout = min(configuration.connectTimeout, .seconds(5))
        self.configuration = configuration
        self.table = table
        self.runID = runID
        self.managesTable = managesTable
    }

    /// The statement that creates the canary's table in the connection's database.
    public static func createTableStatement(_ table: String = defaultTable) -> SQLStatement {
        """
        CREATE TABLE IF NOT EXISTS \(identifier: table) (run VARCHAR(64) NOT NULL, seq BIGINT NOT NULL, \
        written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (run, seq))
        """
    }

    public func prepare() async throws {
        guard managesTable else { return }
        _ = try await session().run(Self.createTableStatement(table))
    }

    public func write(sequence: Int, timeout: Duration) async throws {
        do {
            _ = try await session().run(
                "INSERT INTO \(identifier: table) (run, seq) VALUES (\(runID), \(sequence))",
                timeout: timeout
            )
        } catch {
            // The proxy may have closed the client connection (a 2013 at OFFLINE_HARD does): start afresh.
            await connection?.close()
            connection = nil
            throw error
        }
    }

    public func cleanUp() async throws {
        defer { connection = nil }
        guard managesTable else {
            await connection?.close()
            return
        }
        do {
            _ = try await session().run("DROP TABLE IF EXISTS \(identifier: table)", timeout: .seconds(10))
        } catch {
            await connection?.close()
            throw error
        }
        await connection?.close()
    }

    /// Closes the connection, if one is open, without touching the table (a refused run: nothing was created).
    public func close() async {
        await connection?.close()
        connection = nil
    }

    /// The canary account's grants, read through the proxy (`SHOW GRANTS`, answered by the current writer).
    public func grants() async throws -> [String] {
        let rows = try await session().query("SHOW GRANTS", timeout: .seconds(10))
        return rows.compactMap { $0.first?.string }
    }

    private func session() async throws -> MariaDBConnection {
        if let connection { return connection }
        let opened = try await MariaDBConnection.connect(configuration: configuration)
        connection = opened
        return opened
    }
}
