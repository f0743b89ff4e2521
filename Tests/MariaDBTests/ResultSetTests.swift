import Testing

@testable import MariaDB

@Suite("SQLValue")
struct SQLValueTests {
    @Test("NULL is distinct from the empty string")
    func nullVersusEmpty() {
        #expect(SQLValue.null.isNull)
        #expect(SQLValue(nil).isNull)
        #expect(SQLValue.null.string == nil)
        #expect(SQLValue.null.description == "NULL")
        let empty = SQLValue("")
        #expect(!empty.isNull)
        #expect(empty.string == "")
        #expect(empty.bytes == [])
        #expect(empty != .null)
        #expect(SQLValue("NULL") != .null)
        #expect(SQLValue("NULL").description == "NULL", "the text NULL, not SQL NULL: only isNull tells")
    }

    @Test("integers")
    func integers() {
        #expect(SQLValue("42").int == 42)
        #expect(SQLValue(" -7 ").int64 == -7)
        #expect(SQLValue("+5").int == 5)
        #expect(SQLValue("18446744073709551615").uint64 == UInt64.max)
        #expect(SQLValue("18446744073709551615").int64 == nil)
        #expect(SQLValue("-1").uint64 == nil)
        #expect(SQLValue("1.5").int == nil)
        #expect(SQLValue("").int == nil)
        #expect(SQLValue("abc").int == nil)
        #expect(SQLValue.null.int == nil)
        #expect(SQLValue("9223372036854775807").int64 == Int64.max)
        #expect(SQLValue("9223372036854775808").int64 == nil)
    }

    @Test("doubles")
    func doubles() {
        #expect(SQLValue("1.5").double == 1.5)
        #expect(SQLValue("-2e3").double == -2000)
        #expect(SQLValue("x").double == nil)
        #expect(SQLValue.null.double == nil)
    }

    @Test("booleans: 1/0, Yes/No, ON/OFF, true/false in any case, other integers")
    func booleans() {
        for text in ["1", "Yes", "YES", "yes", "ON", "On", "true", "TRUE", " Yes ", "2", "-1"] {
            #expect(SQLValue(text).bool == true, "\(text)")
        }
        for text in ["0", "No", "NO", "OFF", "off", "false", "False", "00"] {
            #expect(SQLValue(text).bool == false, "\(text)")
        }
        for text in ["", "Connecting", "maybe", "y", "1.0"] {
            #expect(SQLValue(text).bool == nil, "\(text)")
        }
        #expect(SQLValue.null.bool == nil)
    }

    @Test("binary data and invalid UTF-8")
    func binary() {
        let value = SQLValue(bytes: [0x00, 0xFF, 0x41])
        #expect(value.bytes == [0x00, 0xFF, 0x41])
        #expect(value.string == "\u{0}\u{FFFD}A")
        #expect([UInt8](sqlValue: value) == [0x00, 0xFF, 0x41])
    }

    @Test("SQLValueDecodable conformances")
    func decodables() {
        #expect(String(sqlValue: SQLValue("x")) == "x")
        #expect(Int(sqlValue: SQLValue("3")) == 3)
        #expect(Int64(sqlValue: SQLValue("-3")) == -3)
        #expect(UInt64(sqlValue: SQLValue("3")) == 3)
        #expect(UInt32(sqlValue: SQLValue("4294967295")) == UInt32.max)
        #expect(UInt32(sqlValue: SQLValue("4294967296")) == nil)
        #expect(Double(sqlValue: SQLValue("0.25")) == 0.25)
        #expect(Bool(sqlValue: SQLValue("ON")) == true)
        #expect(Bool(sqlValue: SQLValue("x")) == nil)
        #expect(String(sqlValue: .null) == nil)
    }
}

@Suite("ResultSet and Row")
struct ResultSetTests {
    static let replicaStatus = ResultSet(
        columnNames: [
            "Slave_IO_Running", "Seconds_Behind_Master", "Last_IO_Error", "Master_Log_File", "slave_io_running",
        ],
        rows: [
            ["Yes", "0", "", "mysql-bin.000042", "first-wins"],
            ["Connecting", nil, "error connecting", nil, "x"],
        ]
    )

    @Test("rows by index and by name, case-insensitively, the first duplicate winning")
    func access() throws {
        let set = Self.replicaStatus
        #expect(set.count == 2)
        #expect(set.rows.count == 2)
        #expect(set.columns.map(\.name).first == "Slave_IO_Running")
        #expect(set.columnIndex(named: "SLAVE_IO_RUNNING") == 0)
        #expect(set.columnIndex(named: "nope") == nil)
        let first = set[0]
        #expect(first.count == 5)
        #expect(first["Slave_IO_Running"]?.string == "Yes")
        #expect(first["slave_io_running"]?.string == "Yes", "duplicates: the first column wins")
        #expect(first[4].string == "first-wins")
        #expect(first["seconds_behind_master"]?.int == 0)
        #expect(first["Last_IO_Error"]?.string == "")
        #expect(first["Last_IO_Error"]?.isNull == false)
        #expect(first["Missing"] == nil)
        #expect(first.hasColumn("MASTER_LOG_FILE"))
        #expect(!first.hasColumn("Relay_Master_Log_File"))
        let second = set[1]
        #expect(second["Seconds_Behind_Master"] == .null)
        #expect(second["Seconds_Behind_Master"]?.isNull == true)
        #expect(second[3].isNull)
        #expect(second.fields.map(\.name) == set.columns.map(\.name))
        #expect(second.description.contains("Seconds_Behind_Master: NULL"))
        #expect(Array(set.map { $0[0].string ?? "" }) == ["Yes", "Connecting"])
    }

    @Test("decode and decodeIfPresent")
    func decoding() throws {
        let first = Self.replicaStatus[0]
        let second = Self.replicaStatus[1]
        #expect(try first.decode(Int.self, "Seconds_Behind_Master") == 0)
        #expect(try first.decode(Bool.self, "slave_io_running") == true)
        #expect(try first.decode(String.self, "Last_IO_Error") == "")
        #expect(try first.decodeIfPresent(Int.self, "Seconds_Behind_Master") == 0)
        #expect(try second.decodeIfPresent(Int.self, "Seconds_Behind_Master") == nil)
        #expect(try second.decodeIfPresent(String.self, "Master_Log_File") == nil)
    }

    @Test("decoding errors: missing column, NULL, wrong type; the value is never shown")
    func decodingErrors() throws {
        let second = Self.replicaStatus[1]
        let missing = try #require(mariaDBError { _ = try second.decode(Int.self, "Exec_Master_Log_Pos") })
        #expect(missing.code == .decoding)
        #expect(missing.message == "no column named Exec_Master_Log_Pos")
        #expect(missing.file.hasSuffix("ResultSetTests.swift"))

        let null = try #require(mariaDBError { _ = try second.decode(Int.self, "Seconds_Behind_Master") })
        #expect(null.code == .decoding)
        #expect(null.message == "column Seconds_Behind_Master is NULL")

        let wrongType = try #require(mariaDBError { _ = try second.decode(Int.self, "Last_IO_Error") })
        #expect(wrongType.code == .decoding)
        #expect(wrongType.message == "column Last_IO_Error does not hold a Int")
        #expect(!wrongType.description.contains("error connecting"))

        #expect(mariaDBError { _ = try second.decodeIfPresent(Int.self, "Nope") }?.code == .decoding)
        #expect(mariaDBError { _ = try second.decodeIfPresent(Bool.self, "Last_IO_Error") }?.code == .decoding)
    }

    @Test("typed columns and empty results")
    func typedColumnsAndEmpty() {
        let columns = [
            ColumnMetadata(name: "id", table: "t", type: .longLong),
            ColumnMetadata(name: "payload", table: "t", type: .blob, isBinary: true),
        ]
        let set = ResultSet(
            columns: columns, rows: [[SQLValue("1"), SQLValue(bytes: [0, 1])], [SQLValue("2"), .null]])
        #expect(set.count == 2)
        #expect(set[1][1].isNull)
        #expect(set[0][1].bytes == [0, 1])
        #expect(set.columns[0].type.isInteger)
        #expect(!set.columns[1].type.isInteger)
        #expect(ColumnType.year.isInteger)
        #expect(!ColumnType.newDecimal.isInteger)
        #expect(ColumnType(rawValue: 253) == .varString)
        #expect(ColumnMetadata(name: "x").type == .varString)

        let empty = ResultSet(columnNames: ["a"], rows: [])
        #expect(empty.isEmpty)
        #expect(empty.rows.isEmpty)
        #expect(ResultSet(columnNames: [], rows: []).isEmpty)
    }

    @Test("SQLResult: rows of the first result set, several result sets, status")
    func sqlResult() {
        let first = ResultSet(columnNames: ["Message"], rows: [["Slave running normally."]])
        let second = ResultSet(columnNames: ["a", "b"], rows: [["1", "2"], ["3", nil]])
        let result = SQLResult(resultSets: [first, second], affectedRows: 0, lastInsertID: 7, warningCount: 1)
        #expect(result.rows.count == 1)
        #expect(result.rows[0]["message"]?.string == "Slave running normally.")
        #expect(result.resultSets[1].count == 2)
        #expect(result.lastInsertID == 7)
        #expect(result.warningCount == 1)
        #expect(SQLResult().rows.isEmpty)
        #expect(SQLResult().affectedRows == 0)
    }
}
