public import MariaDB

/// Proves, from a ``WriteLoadReport`` and the rows read back, that nothing acknowledged was lost or doubled, and
/// classifies every write that got an error as committed or not.
///
/// ``check(records:finalWriterRows:oldSource:fences:)`` is the pure core (unit-tested with synthetic data);
/// ``verify(_:finalWriter:oldSource:fences:)`` reads the rows from real servers and calls it.
public enum WriteLoadChecker {
    /// The old source's side of the check.
    public struct OldSource: Sendable {
        /// The old source's `@@server_id`.
        public var serverID: UInt32
        /// The run's rows as found on the old source.
        public var rows: [WrittenRow]

        /// Creates the old source's side.
        public init(serverID: UInt32, rows: [WrittenRow]) {
            self.serverID = serverID
            self.rows = rows
        }
    }

    /// Reads the run's rows from the final writer (and the old source, if given) and checks them.
    ///
    /// Call it once the final writer has applied everything (after the cut-over's catch-up, or a replication
    /// wait). The sessions only read; an administrative session is fine.
    ///
    /// - Parameters:
    ///   - report: the load's report.
    ///   - finalWriter: a session on the server that is the writer at the end.
    ///   - oldSource: a session on the previous writer: rows it accepted that never reached the final writer are
    ///     reported, and its `@@server_id` is read.
    ///   - fences: periods in which a server must accept no write.
    /// - Throws: ``WriteLoadError`` (``WriteLoadError/Code/readBackFailed``).
    public static func verify(
        _ report: WriteLoadReport,
        finalWriter: any SQLSession,
        oldSource: (any SQLSession)? = nil,
        fences: [WriteFence] = []
    ) async throws -> WriteLoadVerification {
        let finalRows = try await readRows(of: report, from: finalWriter)
        var old: OldSource?
        if let oldSource {
            let serverID = try await readServerID(of: oldSource)
            old = OldSource(serverID: serverID, rows: try await readRows(of: report, from: oldSource))
        }
        return check(records: report.records, finalWriterRows: finalRows, oldSource: old, fences: fences)
    }

    /// The rows of `report`'s run in its workload's table on `session`.
    ///
    /// - Throws: ``WriteLoadError`` (``WriteLoadError/Code/readBackFailed``).
    public static func readRows(of report: WriteLoadReport, from session: any SQLSession) async throws -> [WrittenRow] {
        try await readRows(runID: report.runID, workload: report.workload, schema: report.schema, from: session)
    }

    /// The rows of run `runID` in `workload`'s table of `schema` on `session`.
    ///
    /// - Throws: ``WriteLoadError`` (``WriteLoadError/Code/readBackFailed``).
    public static func readRows(
        runID: Int64,
        workload: WriteLoadWorkload,
        schema: WriteLoadSchema,
        from session: any SQLSession
    ) async throws -> [WrittenRow] {
        let statement: SQLStatement = """
            SELECT \(identifier: schema.writeIDColumn(for: workload)) AS `write_id`, `origin_server_id` \
            FROM \(identifier: schema.database).\(identifier: schema.table(for: workload)) WHERE `run_id` = \(runID)
            """
        do {
            let rows = try await session.query(statement, timeout: .seconds(120))
            return try rows.map { row in
                WrittenRow(
                    writeID: try row.decode(Int64.self, "write_id"),
                    originServerID: try row.decodeIfPresent(UInt32.self, "origin_server_id")
                )
            }
        } catch {
            throw WriteLoadError(
                code: .readBackFailed,
                message: "could not read the written rows from \(session.endpointDescription)",
                underlying: error
            )
        }
    }

    /// `@@server_id` of the server behind `session`.
    ///
    /// - Throws: ``WriteLoadError`` (``WriteLoadError/Code/readBackFailed``).
    public static func readServerID(of session: any SQLSession) async throws -> UInt32 {
        do {
            guard let row = try await session.queryFirst("SELECT @@server_id AS `server_id`", timeout: .seconds(30))
            else {
                throw WriteLoadError(code: .readBackFailed, message: "SELECT @@server_id returned no row")
            }
            return try row.decode(UInt32.self, "server_id")
        } catch let error as WriteLoadError {
            throw error
        } catch {
            throw WriteLoadError(
                code: .readBackFailed,
                message: "could not read @@server_id from \(session.endpointDescription)",
                underlying: error
            )
        }
    }

    /// The check itself: a pure function of what the clients recorded and what the servers hold.
    ///
    /// - Parameters:
    ///   - records: every write transaction of the run.
    ///   - finalWriterRows: the run's rows on the final writer.
    ///   - oldSource: the old source's server id and the run's rows there, when it is checked.
    ///   - fences: periods in which a server must accept no write (see ``WriteFence/isViolated(by:of:)``).
    public static func check(
        records: [WriteRecord],
        finalWriterRows: [WrittenRow],
        oldSource: OldSource? = nil,
        fences: [WriteFence] = []
    ) -> WriteLoadVerification {
        var finalOrigins: [Int64: [UInt32?]] = [:]
        finalOrigins.reserveCapacity(finalWriterRows.count)
        var rowsByOrigin: [UInt32?: Int] = [:]
        for row in finalWriterRows {
            finalOrigins[row.writeID, default: []].append(row.originServerID)
            rowsByOrigin[row.originServerID, default: 0] += 1
        }

        var recordByWriteID: [Int64: WriteRecord] = [:]
        recordByWriteID.reserveCapacity(records.count)
        for record in records {
            for writeID in record.writeIDs { recordByWriteID[writeID] = record }
        }

        var verification = WriteLoadVerification(
            writeCount: records.count,
            acknowledgedCount: 0,
            rowsOnFinalWriter: finalWriterRows.count,
            lost: [],
            duplicated: [],
            partiallyPresent: [],
            failedCommitted: [],
            failedNotCommitted: [],
            ambiguousCommitted: [],
            ambiguousNotCommitted: [],
            unknownRows: [],
            fenceViolations: [],
            oldSourceOnlyRows: [],
            splitWrites: [],
            rowsByOrigin: rowsByOrigin,
            oldSourceServerID: oldSource?.serverID
        )

        for record in records {
            let missing = record.writeIDs.filter { finalOrigins[$0] == nil }
            let presentCount = record.rowCount - missing.count
            switch record.outcome {
            case .acknowledged:
                verification.acknowledgedCount += 1
                if !missing.isEmpty {
                    verification.lost.append(.init(record: record, missingWriteIDs: Array(missing)))
                }
            case .failed:
                if presentCount == 0 {
                    verification.failedNotCommitted.append(record)
                } else if missing.isEmpty {
                    verification.failedCommitted.append(record)
                } else {
                    verification.partiallyPresent.append(record)
                }
            case .ambiguous:
                if presentCount == 0 {
                    verification.ambiguousNotCommitted.append(record)
                } else if missing.isEmpty {
                    verification.ambiguousCommitted.append(record)
                } else {
                    verification.partiallyPresent.append(record)
                }
            }
        }

        for (writeID, origins) in finalOrigins.sorted(by: { $0.key < $1.key }) {
            let record = recordByWriteID[writeID]
            if origins.count > 1 {
                verification.duplicated.append(
                    .init(writeID: writeID, rowCount: origins.count, originServerIDs: origins, record: record)
                )
            }
        }
        for row in finalWriterRows where recordByWriteID[row.writeID] == nil {
            verification.unknownRows.append(row)
        }
        verification.unknownRows.sort { $0.writeID < $1.writeID }

        var fenceCandidates = finalWriterRows
        if let oldSource {
            var oldOrigins: [Int64: [UInt32?]] = [:]
            for row in oldSource.rows { oldOrigins[row.writeID, default: []].append(row.originServerID) }
            for row in oldSource.rows where row.originServerID == oldSource.serverID && finalOrigins[row.writeID] == nil
            {
                verification.oldSourceOnlyRows.append(row)
                fenceCandidates.append(row)
            }
            for (writeID, oldRowOrigins) in oldOrigins.sorted(by: { $0.key < $1.key }) {
                guard let finalRowOrigins = finalOrigins[writeID] else { continue }
                if Set(oldRowOrigins) != Set(finalRowOrigins) {
                    verification.splitWrites.append(
                        .init(writeID: writeID, finalWriterOrigins: finalRowOrigins, oldSourceOrigins: oldRowOrigins)
                    )
                }
            }
            verification.oldSourceOnlyRows.sort { $0.writeID < $1.writeID }
        }

        if !fences.isEmpty {
            var seen = Set<WrittenRow>()
            for row in fenceCandidates where seen.insert(row).inserted {
                guard let record = recordByWriteID[row.writeID] else { continue }
                for fence in fences where fence.isViolated(by: row, of: record) {
                    verification.fenceViolations.append(.init(row: row, record: record, fence: fence))
                }
            }
            verification.fenceViolations.sort { $0.row.writeID < $1.row.writeID }
        }
        return verification
    }
}
