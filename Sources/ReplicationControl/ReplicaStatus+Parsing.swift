public import MariaDB

extension ReplicaStatus {
    /// Parses every row (one per channel) of a `SHOW SLAVE STATUS`, `SHOW REPLICA STATUS` or
    /// `SHOW ALL SLAVES STATUS` result, by column name. An empty result (no source configured) gives `[]`.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedStatus``) when a row lacks the thread-state
    ///   columns or holds a value of the wrong shape; the message names the column.
    public static func parse(_ resultSet: ResultSet) throws -> [ReplicaStatus] {
        guard !resultSet.isEmpty else { return [] }
        let layout = ColumnLayout(columns: resultSet.columns)
        var statuses: [ReplicaStatus] = []
        statuses.reserveCapacity(resultSet.count)
        for row in resultSet {
            statuses.append(try ReplicaStatus(row: row, layout: layout))
        }
        return statuses
    }

    /// Parses the first result set of `result` (see ``parse(_:)-(ResultSet)``); a result without result sets gives `[]`.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedStatus``).
    public static func parse(_ result: SQLResult) throws -> [ReplicaStatus] {
        guard let first = result.resultSets.first else { return [] }
        return try parse(first)
    }

    /// Parses one status row by column name.
    ///
    /// - Throws: ``ReplicationError`` (``ReplicationError/Code/malformedStatus``) when the row lacks the
    ///   thread-state columns or holds a value of the wrong shape.
    public init(row: Row) throws {
        try self.init(row: row, layout: ColumnLayout(columns: row.columns))
    }

    init(row: Row, layout: ColumnLayout) throws {
        let reader = FieldReader(row: row, layout: layout)
        guard let ioText = reader.text(.ioRunning), let sqlText = reader.text(.sqlRunning) else {
            let missing = reader.text(.ioRunning) == nil ? Field.ioRunning : .sqlRunning
            throw ReplicationError(
                code: .malformedStatus,
                message: "replica status has no \(ReplicaStatus.columnNames(of: missing)) value"
            )
        }
        self.init(
            ioThread: try Self.threadState(ioText, .ioRunning), sqlThread: try Self.threadState(sqlText, .sqlRunning))
        columnNaming = layout.naming
        channelName = reader.text(.channelName) ?? ""
        ioThreadStateText = reader.nonEmptyText(.ioStateText)
        sqlThreadStateText = reader.nonEmptyText(.sqlStateText)
        sourceHost = reader.nonEmptyText(.sourceHost)
        sourceUser = reader.nonEmptyText(.sourceUser)
        sourcePort = try reader.integer(.sourcePort).map(Int.init)
        receivedPosition = try reader.position(file: .sourceLogFile, offset: .readSourceLogPosition)
        executedPosition = try reader.position(file: .relaySourceLogFile, offset: .executedSourceLogPosition)
        secondsBehindSource = try reader.integer(.secondsBehindSource).map(Int.init)
        lastIOError = try reader.threadError(
            number: .lastIOErrorNumber, message: .lastIOError, timestamp: .lastIOErrorTimestamp)
        lastSQLError =
            try reader.threadError(
                number: .lastSQLErrorNumber, message: .lastSQLError, timestamp: .lastSQLErrorTimestamp)
            ?? reader.threadError(number: .lastErrorNumber, message: .lastError, timestamp: nil)
        sourceServerID = try reader.integer(.sourceServerID).map { try Self.narrow($0, .sourceServerID) }
        sourceUUID = reader.nonEmptyText(.sourceUUID)
        sqlDelay = try reader.integer(.sqlDelay).map(Int.init)
        skipCounter = try reader.integer(.skipCounter).map(Int.init)
        untilCondition = reader.nonEmptyText(.untilCondition)
        switch reader.nonEmptyText(.sslAllowed)?.lowercased() {
        case "yes"?: usesTLS = true
        case "no"?: usesTLS = false
        default: usesTLS = nil  // `Ignored` (TLS asked for, the client has none), or not shown
        }

        var filters = Filters()
        filters.doDatabases = reader.list(.replicateDoDB)
        filters.ignoreDatabases = reader.list(.replicateIgnoreDB)
        filters.doTables = reader.list(.replicateDoTable)
        filters.ignoreTables = reader.list(.replicateIgnoreTable)
        filters.wildDoTables = reader.list(.replicateWildDoTable)
        filters.wildIgnoreTables = reader.list(.replicateWildIgnoreTable)
        filters.rewriteDatabases = reader.nonEmptyText(.replicateRewriteDB)
        filters.ignoreServerIDs = try reader.numberList(.replicateIgnoreServerIDs)
        filters.doDomainIDs = try reader.numberList(.replicateDoDomainIDs)
        filters.ignoreDomainIDs = try reader.numberList(.replicateIgnoreDomainIDs)
        self.filters = filters

        var gtid = GTIDInfo()
        if let usingGTID = reader.nonEmptyText(.usingGTID) {
            switch usingGTID.lowercased() {
            case "no": gtid.mode = .off
            case "slave_pos": gtid.mode = .mariaDBSlavePos
            case "current_pos": gtid.mode = .mariaDBCurrentPos
            default:
                throw ReplicationError(
                    code: .malformedStatus, message: "Using_Gtid holds unknown mode '\(usingGTID.prefix(40))'")
            }
        } else if let autoPosition = try reader.integer(.autoPosition) {
            gtid.mode = autoPosition == 0 ? .off : .autoPosition
        }
        gtid.retrievedSet = try reader.gtidSet(.retrievedGTIDSet)
        gtid.executedSet = try reader.gtidSet(.executedGTIDSet)
        gtid.receivedPosition = try reader.mariaDBPosition(.gtidIOPosition)
        gtid.executedPosition = try reader.mariaDBPosition(.gtidSlavePosition)
        self.gtid = gtid
    }

    private static func threadState(_ text: String, _ field: Field) throws -> ReplicationThreadState {
        guard let state = ReplicationThreadState(statusText: text) else {
            throw ReplicationError(
                code: .malformedStatus,
                message:
                    "\(columnNames(of: field)) holds '\(text.prefix(40))', expected Yes, No, Connecting or Preparing"
            )
        }
        return state
    }

    private static func narrow(_ value: Int64, _ field: Field) throws -> UInt32 {
        guard let narrowed = UInt32(exactly: value) else {
            throw ReplicationError(
                code: .malformedStatus, message: "\(columnNames(of: field)) holds \(value), out of range")
        }
        return narrowed
    }
}

/// Reads fields of one status row through a ``ReplicaStatus/ColumnLayout``.
private struct FieldReader {
    let row: Row
    let layout: ReplicaStatus.ColumnLayout

    /// The cell's text; nil when the column is missing or `NULL`.
    func text(_ field: ReplicaStatus.Field) -> String? {
        guard let index = layout.index(of: field) else { return nil }
        return row[index].string
    }

    /// The cell's text; nil when the column is missing, `NULL` or empty.
    func nonEmptyText(_ field: ReplicaStatus.Field) -> String? {
        guard let text = text(field), !text.isEmpty else { return nil }
        return text
    }

    /// The cell's bytes; nil when the column is missing or `NULL`.
    func bytes(_ field: ReplicaStatus.Field) -> [UInt8]? {
        guard let index = layout.index(of: field) else { return nil }
        return row[index].bytes
    }

    /// The cell as an integer (surrounding spaces allowed); nil when missing, `NULL` or empty.
    func integer(_ field: ReplicaStatus.Field) throws -> Int64? {
        guard let bytes = bytes(field) else { return nil }
        var scanner = ByteScanner(bytes)
        scanner.skipWhitespace()
        if scanner.isAtEnd { return nil }
        let negative = scanner.consume(UInt8(ascii: "-"))
        guard let magnitude = scanner.number(), magnitude <= UInt64(Int64.max) else {
            throw malformed(field, String(decoding: bytes, as: UTF8.self), expected: "an integer")
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else {
            throw malformed(field, String(decoding: bytes, as: UTF8.self), expected: "an integer")
        }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    /// A coordinate from a file column and an offset column. An empty file name means "not known" (after a
    /// reset), and so does a file name without a numeric suffix at offset 0 (`INVALID` / `0`); any other
    /// malformed pair throws.
    func position(file fileField: ReplicaStatus.Field, offset offsetField: ReplicaStatus.Field) throws
        -> BinlogPosition?
    {
        var offset: UInt64?
        if let offsetValue = try integer(offsetField) {
            guard offsetValue >= 0 else {
                throw malformed(offsetField, String(offsetValue), expected: "a non-negative integer")
            }
            offset = UInt64(offsetValue)
        }
        guard let file = nonEmptyText(fileField) else { return nil }
        guard BinlogPosition.sequence(ofFile: file) != nil else {
            if offset == nil || offset == 0 { return nil }
            throw malformed(fileField, file, expected: "a binlog file name ending in a number")
        }
        guard let offset else {
            throw ReplicationError(
                code: .malformedStatus,
                message:
                    "\(ReplicaStatus.columnNames(of: fileField)) is set but \(ReplicaStatus.columnNames(of: offsetField)) is not"
            )
        }
        return try BinlogPosition(file: file, offset: offset)
    }

    func threadError(
        number numberField: ReplicaStatus.Field,
        message messageField: ReplicaStatus.Field,
        timestamp timestampField: ReplicaStatus.Field?
    ) throws -> ReplicaStatus.ThreadError? {
        let number = try integer(numberField) ?? 0
        let message = text(messageField) ?? ""
        guard number != 0 || !message.isEmpty else { return nil }
        guard let narrowed = UInt32(exactly: number) else {
            throw malformed(numberField, String(number), expected: "an error number")
        }
        return ReplicaStatus.ThreadError(
            number: narrowed,
            message: message,
            timestamp: timestampField.flatMap { nonEmptyText($0) }
        )
    }

    /// A comma-separated list (filters); empty when the cell is missing, `NULL` or empty.
    func list(_ field: ReplicaStatus.Field) -> [String] {
        guard let text = nonEmptyText(field) else { return [] }
        return text.split(separator: ",").map { String($0.trimmingWhitespace()) }.filter { !$0.isEmpty }
    }

    func numberList(_ field: ReplicaStatus.Field) throws -> [UInt32] {
        try list(field).map { item in
            guard let value = UInt32(item) else { throw malformed(field, item, expected: "a list of numbers") }
            return value
        }
    }

    func gtidSet(_ field: ReplicaStatus.Field) throws -> MySQLGTIDSet? {
        guard let text = text(field) else { return nil }
        do {
            return try MySQLGTIDSet(parsing: text)
        } catch let error as ReplicationError {
            throw ReplicationError(
                code: .malformedStatus,
                message: "\(ReplicaStatus.columnNames(of: field)): \(error.message)",
                underlying: error
            )
        }
    }

    func mariaDBPosition(_ field: ReplicaStatus.Field) throws -> MariaDBGTIDPosition? {
        guard let text = nonEmptyText(field) else { return nil }
        do {
            return try MariaDBGTIDPosition(parsing: text)
        } catch let error as ReplicationError {
            throw ReplicationError(
                code: .malformedStatus,
                message: "\(ReplicaStatus.columnNames(of: field)): \(error.message)",
                underlying: error
            )
        }
    }

    private func malformed(_ field: ReplicaStatus.Field, _ value: String, expected: String) -> ReplicationError {
        ReplicationError(
            code: .malformedStatus,
            message: "\(ReplicaStatus.columnNames(of: field)) holds '\(value.prefix(60))', expected \(expected)"
        )
    }
}
