import ReplicationControl
import Testing

@Suite("MySQLGTIDSet")
struct MySQLGTIDSetTests {
    let a = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    let b = "4a6d1b7e-71ca-11e1-9e33-c80aa9429562"

    @Test func parsesAndNormalises() throws {
        let set = try MySQLGTIDSet(parsing: "\(b.uppercased()):1-3,\n\(a):7-9:1-5:6")
        #expect(set.description == "\(a):1-9,\(b):1-3")
        #expect(set.count == 12)
    }

    @Test func emptyTextIsTheEmptySet() throws {
        #expect(try MySQLGTIDSet(parsing: "").isEmpty)
        #expect(try MySQLGTIDSet(parsing: "  \n").isEmpty)
        #expect(try MySQLGTIDSet(parsing: "").description == "")
    }

    @Test func mergesAdjacentAndOverlappingIntervals() throws {
        let set = try MySQLGTIDSet(parsing: "\(a):1-3:4-5:10-12:11-20:22")
        #expect(set.description == "\(a):1-5:10-20:22")
        #expect(set.intervals.values.first?.count == 3)
    }

    @Test func containsAndSubset() throws {
        let executed = try MySQLGTIDSet(parsing: "\(a):1-100,\(b):1-5")
        let target = try MySQLGTIDSet(parsing: "\(a):1-90,\(b):5")
        let ahead = try MySQLGTIDSet(parsing: "\(a):1-101")
        #expect(executed.contains(target))
        #expect(target.isSubset(of: executed))
        #expect(!executed.contains(ahead))
        #expect(!executed.contains(try MySQLGTIDSet(parsing: "\(b):6")))
        #expect(executed.contains(try MySQLGTIDSet.SourceID(uuid: a), 100))
        #expect(!executed.contains(try MySQLGTIDSet.SourceID(uuid: a), 101))
        #expect(executed.contains(MySQLGTIDSet()))
    }

    @Test func unionAndSubtraction() throws {
        let left = try MySQLGTIDSet(parsing: "\(a):1-5")
        let right = try MySQLGTIDSet(parsing: "\(a):6-8,\(b):1")
        #expect(left.union(right).description == "\(a):1-8,\(b):1")
        let all = try MySQLGTIDSet(parsing: "\(a):1-20,\(b):1-3")
        let some = try MySQLGTIDSet(parsing: "\(a):5-7:10,\(b):1-3")
        #expect(all.subtracting(some).description == "\(a):1-4:8-9:11-20")
        #expect(all.subtracting(all).isEmpty)
    }

    @Test func taggedGTIDs() throws {
        let set = try MySQLGTIDSet(parsing: "\(a):1-3:Batch_1:1-2:5,\(a):batch_1:3")
        #expect(set.description == "\(a):1-3:batch_1:1-3:5")
        #expect(set.contains(try MySQLGTIDSet.SourceID(uuid: a, tag: "batch_1"), 3))
        #expect(!set.contains(try MySQLGTIDSet.SourceID(uuid: a, tag: "batch_1"), 4))
    }

    @Test(arguments: [
        "not-a-uuid:1-5", "3e11fa47-71ca-11e1-9e33-c80aa9429562", "3e11fa47-71ca-11e1-9e33-c80aa9429562:0",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-3", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-x",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,", "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1:1tag:2", "3e11fa47-71ca-11e1-9e33-c80aa942956:1",
    ])
    func malformedSetsThrow(text: String) {
        #expect(throws: ReplicationError(code: .malformedGTID, message: "")) { try MySQLGTIDSet(parsing: text) }
    }

    @Test func uuidWithoutDashesIsNormalised() throws {
        let set = try MySQLGTIDSet(parsing: "3E11FA4771CA11E19E33C80AA9429562:1")
        #expect(set.description == "\(a):1")
    }
}

@Suite("MariaDBGTIDPosition")
struct MariaDBGTIDPositionTests {
    @Test func parsesAndSortsByDomain() throws {
        let position = try MariaDBGTIDPosition(parsing: "2-2-10,0-1-100, 1-1-5")
        #expect(position.description == "0-1-100,1-1-5,2-2-10")
        #expect(position[domain: 1] == MariaDBGTID(domain: 1, server: 1, sequence: 5))
        #expect(position[domain: 7] == nil)
    }

    @Test func comparesPerDomain() throws {
        let replica = try MariaDBGTIDPosition(parsing: "0-1-100,1-2-5")
        #expect(replica.hasReached(try MariaDBGTIDPosition(parsing: "0-1-100")))
        #expect(replica.hasReached(try MariaDBGTIDPosition(parsing: "0-1-99,1-2-5")))
        #expect(!replica.hasReached(try MariaDBGTIDPosition(parsing: "0-1-101")))
        #expect(!replica.hasReached(try MariaDBGTIDPosition(parsing: "2-3-1")))
        // The server id may differ after a failover; the sequence decides.
        #expect(replica.hasReached(try MariaDBGTIDPosition(parsing: "0-9-50")))
        #expect(replica.hasReached(MariaDBGTIDPosition()))
        let missing = replica.missing(toReach: try MariaDBGTIDPosition(parsing: "0-1-104,1-2-5,2-3-2"))
        #expect(missing.map(\.domain) == [0, 2])
        #expect(missing.map(\.behindBy) == [4, 2])
    }

    @Test func merging() throws {
        let merged = try MariaDBGTIDPosition(parsing: "0-1-100,1-2-5").merging(
            try MariaDBGTIDPosition(parsing: "0-1-90,2-3-1"))
        #expect(merged.description == "0-1-100,1-2-5,2-3-1")
    }

    @Test func emptyTextIsEmpty() throws {
        #expect(try MariaDBGTIDPosition(parsing: "").isEmpty)
    }

    @Test(arguments: ["0-1", "0-1-x", "a-1-2", "0-1-2,0-2-3", "0-1-2,", "-1-2-3", "0-1-2-3", "4294967296-1-1"])
    func malformedPositionsThrow(text: String) {
        #expect(throws: ReplicationError(code: .malformedGTID, message: "")) { try MariaDBGTIDPosition(parsing: text) }
    }
}
