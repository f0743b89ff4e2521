import Logging
import MariaDB

/// What one client did.
struct ClientResult: Sendable {
    var records: [WriteRecord] = []
    var events: [ConnectionEvent] = []
    var lastInsertID = LastInsertIDTally()
}

extension WriteLoad {
    /// One load client: a loop of write transactions over its own connection.
    struct Client: Sendable {
        let load: WriteLoad
        let index: Int
        /// The instant `sent_at_us` counts from.
        let origin: ContinuousClock.Instant

        private var configuration: Configuration { load.configuration }
        private var shape: ClientShape { configuration.shapes[index % configuration.shapes.count] }

        func run(connection initial: MariaDBConnection) async -> ClientResult {
            var result = ClientResult()
            var connection: MariaDBConnection? = initial
            var sequence = 0
            var rowSequence: Int64 = 0
            let rowsPerWrite = configuration.rowsPerWrite
            while !load.isStopRequested && !Task.isCancelled {
                if connection == nil {
                    connection = await reconnect(events: &result.events)
                }
                guard let current = connection else { break }
                if rowSequence + Int64(rowsPerWrite) > WriteIDScheme.maximumRowsPerClient { break }
                sequence += 1
                let firstWriteID = load.writeIDs.writeID(client: index, rowSequence: rowSequence + 1)
                rowSequence += Int64(rowsPerWrite)
                let sentAt = ContinuousClock.now
                let sentAtMicroseconds = (sentAt - origin).wholeMicroseconds
                let rows = (0..<rowsPerWrite).map { offset in
                    WriteLoadSchema.InsertedRow(
                        writeID: firstWriteID + Int64(offset),
                        client: index,
                        sequence: sequence,
                        sentAtMicroseconds: sentAtMicroseconds
                    )
                }
                let (outcome, keepConnection) = await write(rows, on: current, tally: &result.lastInsertID)
                result.records.append(
                    WriteRecord(
                        client: index,
                        sequence: sequence,
                        firstWriteID: firstWriteID,
                        rowCount: rowsPerWrite,
                        sentAt: sentAt,
                        outcome: outcome
                    )
                )
                switch outcome {
                case .acknowledged(let at):
                    load.noteAcknowledged(at: at)
                case .failed(_, let error), .ambiguous(_, let error):
                    load.loggerForClients.debug(
                        "write failed",
                        metadata: ["writeload.client": "\(index)", "writeload.error": "\(error)"]
                    )
                }
                if !keepConnection {
                    await current.close()
                    connection = nil
                    result.events.append(
                        ConnectionEvent(
                            client: index, at: ContinuousClock.now, kind: .lost(outcome.error ?? lostMarker))
                    )
                }
                let thinkTime: Duration =
                    switch shape {
                    case .idlePinned: configuration.idleTime
                    // "writes every few milliseconds" (issue #18)
                    case .pinnedAtConnect: max(configuration.thinkTime, .milliseconds(3))
                    case .plain, .lastInsertID: configuration.thinkTime
                    }
                let pause = thinkTime + (outcome.isAcknowledged ? .zero : configuration.pauseAfterFailure)
                if pause > .zero {
                    try? await Task.sleep(for: pause)
                }
            }
            await connection?.close()
            return result
        }

        private var lostMarker: WriteError { WriteError(number: nil, message: "connection unusable") }

        /// Sends one transaction; returns its outcome and whether the connection may be used again.
        private func write(
            _ rows: [WriteLoadSchema.InsertedRow],
            on connection: MariaDBConnection,
            tally: inout LastInsertIDTally
        ) async -> (WriteOutcome, Bool) {
            let schema = configuration.schema
            let workload = configuration.workload
            let runID = load.runID
            let timeout = configuration.statementTimeout
            do {
                switch configuration.transactionMode {
                case .autocommit where shape == .lastInsertID:
                    let inserted = try await connection.execute(
                        schema.insertStatement(workload: workload, runID: runID, rows: rows),
                        timeout: timeout
                    )
                    let acknowledgedAt = ContinuousClock.now
                    // The INSERT is acknowledged: whatever happens to the read, the write counts as done.
                    do {
                        let read = try await connection.execute("SELECT LAST_INSERT_ID()", timeout: timeout)
                        let value = read.resultSets.first?.rows.first.flatMap { UInt64($0[0].string ?? "") }
                        tally.record(inserted: inserted.lastInsertID, read: value)
                        return (.acknowledged(at: acknowledgedAt), true)
                    } catch {
                        tally.readErrors += 1
                        return (.acknowledged(at: acknowledgedAt), await connection.isUsable)
                    }
                case .autocommit:
                    try await connection.run(
                        schema.insertStatement(workload: workload, runID: runID, rows: rows),
                        timeout: timeout
                    )
                case .explicit:
                    try await connection.run("BEGIN", timeout: timeout)
                    for row in rows {
                        try await connection.run(
                            schema.insertStatement(workload: workload, runID: runID, rows: [row]),
                            timeout: timeout
                        )
                    }
                    if configuration.transactionHold > .zero {
                        try await Task.sleep(for: configuration.transactionHold)
                    }
                    try await connection.run("COMMIT", timeout: timeout)
                }
                return (.acknowledged(at: .now), true)
            } catch {
                let at = ContinuousClock.now
                let recorded = WriteError(error)
                guard Self.isDefiniteServerError(error), await connection.isUsable else {
                    return (.ambiguous(at: at, error: recorded), false)
                }
                // The server refused a statement: the transaction did not commit. Leave no transaction open.
                if configuration.transactionMode == .explicit {
                    do {
                        try await connection.run("ROLLBACK", timeout: timeout ?? .seconds(10))
                    } catch {
                        return (.failed(at: at, error: recorded), false)
                    }
                }
                return (.failed(at: at, error: recorded), true)
            }
        }

        /// A server's answer that refuses the statement (not a lost connection, interruption or client failure).
        static func isDefiniteServerError(_ error: any Error) -> Bool {
            guard let error = error as? MariaDBError, error.code == .server, !error.isConnectionLost else {
                return false
            }
            if error.isInterrupted { return false }
            guard let number = error.serverErrorNumber else { return false }
            return !(2000..<3000).contains(number)
        }

        /// Connects again with a doubling backoff until it works or the load stops; nil when it stopped.
        private func reconnect(events: inout [ConnectionEvent]) async -> MariaDBConnection? {
            var pause = configuration.reconnectBackoff.lowerBound
            while !load.isStopRequested && !Task.isCancelled {
                do {
                    let connection = try await MariaDBConnection.connect(
                        configuration: configuration.endpoint(forClient: index),
                        logger: load.loggerForClients
                    )
                    do {
                        for statement in shape.connectStatements {
                            _ = try await connection.execute(statement, timeout: .seconds(10))
                        }
                    } catch {
                        await connection.close()
                        throw error
                    }
                    events.append(ConnectionEvent(client: index, at: .now, kind: .reconnected))
                    return connection
                } catch {
                    events.append(ConnectionEvent(client: index, at: .now, kind: .connectFailed(WriteError(error))))
                }
                do {
                    try await Task.sleep(for: pause)
                } catch {
                    return nil
                }
                pause = min(pause * 2, configuration.reconnectBackoff.upperBound)
            }
            return nil
        }
    }
}

extension Duration {
    /// Whole microseconds (truncated).
    var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
