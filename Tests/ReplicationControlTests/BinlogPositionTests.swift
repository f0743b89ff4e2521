import Foundation
import ReplicationControl
import Testing

@Suite("BinlogPosition")
struct BinlogPositionTests {
    @Test func ordersByFileSuffixAcrossRollover() throws {
        let earlier = try BinlogPosition(file: "mysql-bin.000009", offset: 999_999)
        let later = try BinlogPosition(file: "mysql-bin.000010", offset: 4)
        #expect(try earlier.isBefore(later))
        #expect(try later.isAtOrPast(earlier))
        #expect(try later.compare(with: earlier) == .after)
    }

    @Test func ordersByOffsetWithinAFile() throws {
        let first = try BinlogPosition(file: "mysql-bin.000010", offset: 4)
        let second = try BinlogPosition(file: "mysql-bin.000010", offset: 1307)
        #expect(try first.isBefore(second))
        #expect(first != second)
        #expect(try BinlogPosition(file: "mysql-bin.000010", offset: 1307) == second)
    }

    @Test func comparesNumericallyNotLexically() throws {
        // "999999" > "1000000" as text, but not as numbers.
        let small = try BinlogPosition(file: "binlog.999999", offset: 4)
        let large = try BinlogPosition(file: "binlog.1000000", offset: 4)
        #expect(try small.isBefore(large))
        #expect(small.fileSequence == 999_999)
        #expect(large.fileSequence == 1_000_000)
    }

    @Test func auroraChangelogNames() throws {
        let position = try BinlogPosition(file: "mysql-bin-changelog.000123", offset: 120)
        #expect(position.fileSequence == 123)
        #expect(position.baseName == "mysql-bin-changelog")
        #expect(try position.isBefore(BinlogPosition(file: "mysql-bin-changelog.000124", offset: 4)))
    }

    @Test(arguments: [
        "", "mysql-bin", "mysql-bin.", ".000001", "mysql-bin.00a01", "mysql bin.000001", "mysql-bin.000001\n",
        "INVALID",
    ])
    func malformedFileNamesThrow(file: String) {
        #expect(throws: ReplicationError(code: .malformedPosition, message: "")) {
            try BinlogPosition(file: file, offset: 4)
        }
    }

    @Test(arguments: ["", "-4", "12a", "4.0", " 4", "99999999999999999999999"])
    func malformedOffsetsThrow(offset: String) {
        #expect(throws: ReplicationError(code: .malformedPosition, message: "")) {
            try BinlogPosition(file: "mysql-bin.000001", offsetText: offset)
        }
    }

    @Test func parsesAndPrintsFileColonOffset() throws {
        let position = try BinlogPosition(parsing: "mysql-bin.000010:1234")
        #expect(position.file == "mysql-bin.000010")
        #expect(position.offset == 1234)
        #expect(position.description == "mysql-bin.000010:1234")
        #expect(throws: ReplicationError.self) { try BinlogPosition(parsing: "mysql-bin.000010") }
        #expect(throws: ReplicationError.self) { try BinlogPosition(parsing: "mysql-bin.000010:") }
    }

    @Test func codableRoundTrip() throws {
        let position = try BinlogPosition(file: "mysql-bin-changelog.000002", offset: 157)
        let data = try JSONEncoder().encode(position)
        #expect(String(decoding: data, as: UTF8.self) == "\"mysql-bin-changelog.000002:157\"")
        #expect(try JSONDecoder().decode(BinlogPosition.self, from: data) == position)
        #expect(throws: ReplicationError.self) {
            try JSONDecoder().decode(BinlogPosition.self, from: Data("\"x:1\"".utf8))
        }
    }

    @Test func distance() throws {
        let source = try BinlogPosition(file: "mysql-bin.000010", offset: 5000)
        let sameFile = try BinlogPosition(file: "mysql-bin.000010", offset: 1000)
        let olderFile = try BinlogPosition(file: "mysql-bin.000008", offset: 1000)
        #expect(source.distance(from: sameFile) == PositionDistance(files: 0, bytes: 4000))
        #expect(source.distance(from: olderFile) == PositionDistance(files: 2, bytes: nil))
        #expect(source.distance(from: source)?.isZero == true)
        #expect(sameFile.distance(from: source) == nil)
    }
}
