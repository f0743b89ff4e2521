import MariaDB

/// The single table that maps the servers' replica-status column names to ``ReplicaStatus`` fields.
///
/// MySQL before 8.0.22 and MariaDB (even under `SHOW REPLICA STATUS`) use `Slave_*` / `Master_*`; MySQL 8.0.22+
/// `SHOW REPLICA STATUS` uses `Replica_*` / `Source_*`. MariaDB adds its own columns (`Using_Gtid`, `Gtid_IO_Pos`,
/// `Connection_name`, `Gtid_Slave_Pos`, ...). Columns not listed here are ignored.
extension ReplicaStatus {
    /// A field of the status, independent of the server's spelling.
    enum Field: Int, CaseIterable, Sendable {
        case channelName
        case ioStateText
        case sqlStateText
        case sourceHost
        case sourceUser
        case sourcePort
        case sourceLogFile
        case readSourceLogPosition
        case relaySourceLogFile
        case executedSourceLogPosition
        case ioRunning
        case sqlRunning
        case replicateDoDB
        case replicateIgnoreDB
        case replicateDoTable
        case replicateIgnoreTable
        case replicateWildDoTable
        case replicateWildIgnoreTable
        case replicateRewriteDB
        case replicateIgnoreServerIDs
        case replicateDoDomainIDs
        case replicateIgnoreDomainIDs
        case skipCounter
        case untilCondition
        case secondsBehindSource
        case lastIOErrorNumber
        case lastIOError
        case lastIOErrorTimestamp
        case lastSQLErrorNumber
        case lastSQLError
        case lastSQLErrorTimestamp
        case lastErrorNumber
        case lastError
        case sourceServerID
        case sourceUUID
        case sqlDelay
        case retrievedGTIDSet
        case executedGTIDSet
        case autoPosition
        case usingGTID
        case gtidIOPosition
        case gtidSlavePosition
        case sslAllowed
    }

    /// Column name → field, for both spellings. The boolean says whether the name is the modern
    /// (`Replica_*`/`Source_*`) spelling.
    static let columnTable: [String: (field: Field, modern: Bool)] = {
        var table: [String: (Field, Bool)] = [:]
        func legacy(_ name: String, _ field: Field) { table[name] = (field, false) }
        func modern(_ name: String, _ field: Field) { table[name] = (field, true) }
        func both(_ name: String, _ field: Field) { table[name] = (field, false) }

        legacy("Connection_name", .channelName)  // MariaDB SHOW ALL SLAVES STATUS
        both("Channel_Name", .channelName)  // MySQL

        legacy("Slave_IO_State", .ioStateText)
        modern("Replica_IO_State", .ioStateText)
        legacy("Slave_SQL_Running_State", .sqlStateText)
        modern("Replica_SQL_Running_State", .sqlStateText)

        legacy("Master_Host", .sourceHost)
        modern("Source_Host", .sourceHost)
        legacy("Master_User", .sourceUser)
        modern("Source_User", .sourceUser)
        legacy("Master_Port", .sourcePort)
        modern("Source_Port", .sourcePort)

        legacy("Master_Log_File", .sourceLogFile)
        modern("Source_Log_File", .sourceLogFile)
        legacy("Read_Master_Log_Pos", .readSourceLogPosition)
        modern("Read_Source_Log_Pos", .readSourceLogPosition)
        legacy("Relay_Master_Log_File", .relaySourceLogFile)
        modern("Relay_Source_Log_File", .relaySourceLogFile)
        legacy("Exec_Master_Log_Pos", .executedSourceLogPosition)
        modern("Exec_Source_Log_Pos", .executedSourceLogPosition)

        legacy("Slave_IO_Running", .ioRunning)
        modern("Replica_IO_Running", .ioRunning)
        legacy("Slave_SQL_Running", .sqlRunning)
        modern("Replica_SQL_Running", .sqlRunning)

        both("Replicate_Do_DB", .replicateDoDB)
        both("Replicate_Ignore_DB", .replicateIgnoreDB)
        both("Replicate_Do_Table", .replicateDoTable)
        both("Replicate_Ignore_Table", .replicateIgnoreTable)
        both("Replicate_Wild_Do_Table", .replicateWildDoTable)
        both("Replicate_Wild_Ignore_Table", .replicateWildIgnoreTable)
        both("Replicate_Rewrite_DB", .replicateRewriteDB)
        both("Replicate_Ignore_Server_Ids", .replicateIgnoreServerIDs)
        legacy("Replicate_Do_Domain_Ids", .replicateDoDomainIDs)
        legacy("Replicate_Ignore_Domain_Ids", .replicateIgnoreDomainIDs)

        both("Skip_Counter", .skipCounter)
        both("Until_Condition", .untilCondition)

        legacy("Seconds_Behind_Master", .secondsBehindSource)
        modern("Seconds_Behind_Source", .secondsBehindSource)

        both("Last_IO_Errno", .lastIOErrorNumber)
        both("Last_IO_Error", .lastIOError)
        both("Last_IO_Error_Timestamp", .lastIOErrorTimestamp)
        both("Last_SQL_Errno", .lastSQLErrorNumber)
        both("Last_SQL_Error", .lastSQLError)
        both("Last_SQL_Error_Timestamp", .lastSQLErrorTimestamp)
        both("Last_Errno", .lastErrorNumber)
        both("Last_Error", .lastError)

        legacy("Master_Server_Id", .sourceServerID)
        modern("Source_Server_Id", .sourceServerID)
        legacy("Master_UUID", .sourceUUID)
        modern("Source_UUID", .sourceUUID)

        both("SQL_Delay", .sqlDelay)
        both("Retrieved_Gtid_Set", .retrievedGTIDSet)
        both("Executed_Gtid_Set", .executedGTIDSet)
        both("Auto_Position", .autoPosition)
        legacy("Using_Gtid", .usingGTID)
        legacy("Gtid_IO_Pos", .gtidIOPosition)
        legacy("Gtid_Slave_Pos", .gtidSlavePosition)
        legacy("Master_SSL_Allowed", .sslAllowed)
        modern("Source_SSL_Allowed", .sslAllowed)
        return table
    }()

    /// Where each field sits in a result set's columns; computed once per result set.
    struct ColumnLayout: Sendable {
        /// Column index per ``Field`` raw value, or -1 when the result lacks the field.
        var indices: [Int]
        var naming: ColumnNaming

        init(columns: [ColumnMetadata]) {
            var indices = [Int](repeating: -1, count: Field.allCases.count)
            var modernSeen = false
            for (position, column) in columns.enumerated() {
                // Exact spelling first (the common case); a case-insensitive lookup only for unknown spellings.
                let entry: (field: Field, modern: Bool)
                if let exact = ReplicaStatus.columnTable[column.name] {
                    entry = exact
                } else if ReplicaStatus.ignoredColumns.contains(column.name) {
                    continue
                } else if let folded = ReplicaStatus.lowercasedColumnTable[column.name.lowercased()] {
                    entry = folded
                } else {
                    continue
                }
                if indices[entry.field.rawValue] < 0 { indices[entry.field.rawValue] = position }
                if entry.modern { modernSeen = true }
            }
            self.indices = indices
            self.naming = modernSeen ? .modern : .legacy
        }

        func index(of field: Field) -> Int? {
            let index = indices[field.rawValue]
            return index < 0 ? nil : index
        }
    }

    /// Known columns that ``ReplicaStatus`` does not use, so they skip the case-insensitive lookup.
    static let ignoredColumns: Set<String> = [
        "Connect_Retry", "Relay_Log_File", "Relay_Log_Pos", "Relay_Log_Space", "Until_Log_File", "Until_Log_Pos",
        "Master_SSL_CA_File", "Master_SSL_CA_Path", "Master_SSL_Cert", "Master_SSL_Cipher",
        "Master_SSL_Key", "Master_SSL_Verify_Server_Cert", "Master_SSL_Crl", "Master_SSL_Crlpath",
        "Source_SSL_CA_File", "Source_SSL_CA_Path", "Source_SSL_Cert", "Source_SSL_Cipher",
        "Source_SSL_Key", "Source_SSL_Verify_Server_Cert", "Source_SSL_Crl", "Source_SSL_Crlpath",
        "Master_Info_File", "Source_Info_File", "SQL_Remaining_Delay", "Master_Retry_Count", "Source_Retry_Count",
        "Master_Bind", "Source_Bind", "Master_TLS_Version", "Source_TLS_Version", "Master_public_key_path",
        "Source_public_key_path", "Get_master_public_key", "Get_Source_public_key", "Network_Namespace",
        "Parallel_Mode", "Slave_DDL_Groups", "Slave_Non_Transactional_Groups", "Slave_Transactional_Groups",
        "Slave_SQL_State", "Retried_transactions", "Max_relay_log_size", "Executed_log_entries",
        "Slave_received_heartbeats", "Slave_heartbeat_period",
    ]

    static let lowercasedColumnTable: [String: (field: Field, modern: Bool)] = {
        var table: [String: (field: Field, modern: Bool)] = [:]
        for (name, entry) in columnTable { table[name.lowercased()] = entry }
        return table
    }()

    /// The column names a caller may see for a field (legacy first), for error messages.
    static func columnNames(of field: Field) -> String {
        let names = columnTable.filter { $0.value.field == field }.sorted { !$0.value.modern && $1.value.modern }.map(
            \.key)
        return names.joined(separator: "/")
    }
}
