public import MariaDB

/// Which table the write load writes into, and so which failure it can show.
public enum WriteLoadWorkload: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Rows keyed by the client-chosen write id (`id BIGINT PRIMARY KEY`): a write applied twice on one server
    /// fails with a duplicate key instead of showing up twice.
    case clientKeys
    /// Rows keyed by `AUTO_INCREMENT` with a non-unique `write_id`: a write applied twice shows up as two rows.
    /// Inserts that generate an auto-increment value pin ProxySQL sessions (DESIGN.md §3).
    case autoIncrement

    /// The workload's name.
    public var description: String { rawValue }
}

/// The test schema the write load writes into: one table per ``WriteLoadWorkload``, each with a `BEFORE INSERT`
/// trigger that records `@@server_id` in `origin_server_id`.
///
/// The trigger is what tells where a write was accepted: the application statement itself contains no `@` (a
/// statement with `@` pins the session on ProxySQL), and with row-based replication the trigger does not fire on a
/// replica, so the column keeps the id of the server that accepted the write. Install the schema on **every**
/// server of the topology with ``install(on:)``: a server that later becomes the writer needs the trigger too.
///
/// Tables:
/// - `keyed_writes(id BIGINT PRIMARY KEY, run_id, client, sequence, sent_at_us, origin_server_id)`
/// - `auto_increment_writes(pk BIGINT AUTO_INCREMENT PRIMARY KEY, write_id BIGINT (indexed, not unique), run_id,
///   client, sequence, sent_at_us, origin_server_id)`
///
/// `sequence` is the client's transaction number, `sent_at_us` the microseconds from the start of the run to the
/// moment the client sent the transaction's first statement.
public struct WriteLoadSchema: Sendable, Hashable {
    /// The database (schema) name.
    public var database: String

    /// The table of the client-chosen-key workload.
    public static let keyedTable = "keyed_writes"
    /// The table of the auto-increment workload.
    public static let autoIncrementTable = "auto_increment_writes"

    /// Creates a schema description; nothing is sent to a server.
    public init(database: String = "cutover_load") {
        self.database = database
    }

    /// The table a workload writes into.
    public func table(for workload: WriteLoadWorkload) -> String {
        switch workload {
        case .clientKeys: Self.keyedTable
        case .autoIncrement: Self.autoIncrementTable
        }
    }

    /// The column that holds the write id in a workload's table.
    public func writeIDColumn(for workload: WriteLoadWorkload) -> String {
        switch workload {
        case .clientKeys: "id"
        case .autoIncrement: "write_id"
        }
    }

    /// The trigger that fills `origin_server_id` on a workload's table.
    public func triggerName(for workload: WriteLoadWorkload) -> String {
        "\(table(for: workload))_origin"
    }

    /// One row the write load inserts.
    public struct InsertedRow: Sendable, Hashable {
        /// The write id.
        public var writeID: Int64
        /// The client's index.
        public var client: Int
        /// The client's transaction number.
        public var sequence: Int
        /// Microseconds from the start of the run to the moment the transaction was sent.
        public var sentAtMicroseconds: Int64

        /// Creates a row.
        public init(writeID: Int64, client: Int, sequence: Int, sentAtMicroseconds: Int64) {
            self.writeID = writeID
            self.client = client
            self.sequence = sequence
            self.sentAtMicroseconds = sentAtMicroseconds
        }
    }

    /// The application statement that inserts `rows` of run `runID` into a workload's table.
    ///
    /// It contains no `@` (ProxySQL would pin the session for good) and no function call: `origin_server_id` is
    /// filled by the trigger.
    public func insertStatement(workload: WriteLoadWorkload, runID: Int64, rows: [InsertedRow]) -> SQLStatement {
        precondition(!rows.isEmpty, "an INSERT needs at least one row")
        let values = rows.map { row -> SQLStatement in
            "(\(row.writeID), \(runID), \(row.client), \(row.sequence), \(row.sentAtMicroseconds))"
        }
        return """
            INSERT INTO \(identifier: database).\(identifier: table(for: workload)) \
            (\(identifier: writeIDColumn(for: workload)), `run_id`, `client`, `sequence`, `sent_at_us`) \
            VALUES \(SQLStatement.joined(values, separator: ", "))
            """
    }

    /// The statements ``install(on:)`` sends to each server, in order. All are idempotent.
    public var installStatements: [SQLStatement] {
        let keyed: SQLStatement = """
            CREATE TABLE IF NOT EXISTS \(identifier: database).\(identifier: Self.keyedTable) (
              `id` BIGINT NOT NULL PRIMARY KEY,
              `run_id` BIGINT NOT NULL,
              `client` INT NOT NULL,
              `sequence` BIGINT NOT NULL,
              `sent_at_us` BIGINT NOT NULL,
              `origin_server_id` INT UNSIGNED NULL,
              KEY `run_id` (`run_id`)
            ) ENGINE=InnoDB
            """
        let autoIncrement: SQLStatement = """
            CREATE TABLE IF NOT EXISTS \(identifier: database).\(identifier: Self.autoIncrementTable) (
              `pk` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
              `write_id` BIGINT NOT NULL,
              `run_id` BIGINT NOT NULL,
              `client` INT NOT NULL,
              `sequence` BIGINT NOT NULL,
              `sent_at_us` BIGINT NOT NULL,
              `origin_server_id` INT UNSIGNED NULL,
              KEY `write_id` (`write_id`),
              KEY `run_id` (`run_id`)
            ) ENGINE=InnoDB
            """
        var statements: [SQLStatement] = [
            "CREATE DATABASE IF NOT EXISTS \(identifier: database)",
            keyed,
            autoIncrement,
        ]
        for workload in WriteLoadWorkload.allCases {
            statements.append(
                """
                CREATE TRIGGER IF NOT EXISTS \(identifier: database).\(identifier: triggerName(for: workload)) \
                BEFORE INSERT ON \(identifier: database).\(identifier: table(for: workload)) \
                FOR EACH ROW SET NEW.`origin_server_id` = @@server_id
                """
            )
        }
        return statements
    }

    /// Creates the database, both tables and their triggers on every session (one per server of the topology).
    ///
    /// Safe to repeat. The statements are binary-logged like any DDL; they all use `IF NOT EXISTS`, so a server
    /// that also receives them through replication is not disturbed.
    ///
    /// - Parameter sessions: an administrative session per server (root in the sandbox).
    /// - Throws: ``WriteLoadError`` (``WriteLoadError/Code/schemaSetupFailed``) naming the server.
    public func install(on sessions: [any SQLSession]) async throws {
        for session in sessions {
            for statement in installStatements {
                do {
                    try await session.run(statement, timeout: .seconds(30))
                } catch {
                    throw WriteLoadError(
                        code: .schemaSetupFailed,
                        message: "could not create the write-load schema on \(session.endpointDescription)",
                        underlying: error
                    )
                }
            }
        }
    }

    /// Removes the rows of every run from both tables on `session` (keeps the tables and triggers).
    ///
    /// - Throws: ``WriteLoadError`` (``WriteLoadError/Code/schemaSetupFailed``).
    public func truncate(on session: any SQLSession) async throws {
        for table in [Self.keyedTable, Self.autoIncrementTable] {
            do {
                try await session.run(
                    "TRUNCATE TABLE \(identifier: database).\(identifier: table)", timeout: .seconds(30))
            } catch {
                throw WriteLoadError(
                    code: .schemaSetupFailed,
                    message: "could not truncate \(database).\(table) on \(session.endpointDescription)",
                    underlying: error
                )
            }
        }
    }

    /// The statements ``createApplicationAccount(on:user:password:host:)`` sends; the password is a secret
    /// (masked in `SQLStatement.redacted`).
    public func applicationAccountStatements(user: String, password: String, host: String = "%") -> [SQLStatement] {
        [
            "CREATE USER IF NOT EXISTS \(user)@\(host) IDENTIFIED BY \(secret: password)",
            "ALTER USER \(user)@\(host) IDENTIFIED BY \(secret: password)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON \(identifier: database).* TO \(user)@\(host)",
        ]
    }

    /// Creates (or resets the password of) a grant-limited application account on every session: `SELECT`,
    /// `INSERT`, `UPDATE`, `DELETE` on this schema only, no `SUPER`, so `read_only` fences apply to it.
    ///
    /// Call it after ``install(on:)``; the triggers run as their definer, so the account needs no other grant.
    ///
    /// - Parameters:
    ///   - sessions: an administrative session per server.
    ///   - user: the account name.
    ///   - password: its password; never logged.
    ///   - host: the account's host part (`%` by default).
    /// - Throws: ``WriteLoadError`` (``WriteLoadError/Code/schemaSetupFailed``) naming the server.
    public func createApplicationAccount(
        on sessions: [any SQLSession],
        user: String,
        password: String,
        host: String = "%"
    ) async throws {
        for session in sessions {
            for statement in applicationAccountStatements(user: user, password: password, host: host) {
                do {
                    try await session.run(statement, timeout: .seconds(30))
                } catch {
                    throw WriteLoadError(
                        code: .schemaSetupFailed,
                        message: "could not create the application account on \(session.endpointDescription)",
                        underlying: error
                    )
                }
            }
        }
    }
}
