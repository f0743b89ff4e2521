import ReplicationControl
import Testing

@testable import Cutover

/// Issue #13, item 2: which proof of catch-up a replica gets.
@Suite("Catch-up proof (#13)")
struct CatchUpProofTests {
    let mariaDB = ReplicationCoordinate(file: "mysql-bin.000003", offset: 1_234, gtidSet: "0-1-100,1-2-7")
    let mysql = ReplicationCoordinate(
        file: "binlog.000003", offset: 1_234, gtidSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77")

    @Test("GTIDs when the replica positions itself by GTID in the same dialect")
    func gtid() throws {
        let mariaDBTarget = try CatchUpProof.target(for: mariaDB, replica: .init(isMariaDB: true, tracksGTIDs: true))
        #expect(mariaDBTarget == .mariaDBGTIDPosition(try MariaDBGTIDPosition(parsing: "0-1-100,1-2-7")))
        let mysqlTarget = try CatchUpProof.target(for: mysql, replica: .init(isMariaDB: false, tracksGTIDs: true))
        #expect(mysqlTarget == .mysqlGTIDSet(try MySQLGTIDSet(parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77")))
    }

    @Test("file and position when GTIDs are off on either side, or in another dialect")
    func position() throws {
        let byPosition = CatchUpTarget.position(try BinlogPosition(file: "mysql-bin.000003", offset: 1_234))
        #expect(try CatchUpProof.target(for: mariaDB, replica: .init(isMariaDB: true, tracksGTIDs: false)) == byPosition)
        // A MariaDB source's GTIDs mean nothing to a MySQL replica (Aurora).
        #expect(try CatchUpProof.target(for: mariaDB, replica: .init(isMariaDB: false, tracksGTIDs: true)) == byPosition)
        var noGTID = mariaDB
        noGTID.gtidSet = nil
        #expect(try CatchUpProof.target(for: noGTID, replica: .init(isMariaDB: true, tracksGTIDs: true)) == byPosition)
        noGTID.gtidSet = ""
        #expect(try CatchUpProof.target(for: noGTID, replica: .init(isMariaDB: true, tracksGTIDs: true)) == byPosition)
    }

    @Test("the replica status decides: auto-position with an executed GTID set (MySQL), Using_Gtid (MariaDB)")
    func fromStatus() throws {
        var status = ReplicaStatus(ioThread: .running, sqlThread: .running)
        status.gtid.executedSet = try MySQLGTIDSet(parsing: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77")
        #expect(!CatchUpProof.ReplicaGTIDs(status: status, isMariaDB: false).tracksGTIDs)  // started at a position
        status.gtid.mode = .autoPosition
        #expect(CatchUpProof.ReplicaGTIDs(status: status, isMariaDB: false).tracksGTIDs)
        var mariaDBStatus = ReplicaStatus(ioThread: .running, sqlThread: .running)
        #expect(!CatchUpProof.ReplicaGTIDs(status: mariaDBStatus, isMariaDB: true).tracksGTIDs)  // Using_Gtid: No
        mariaDBStatus.gtid.mode = .mariaDBSlavePos
        #expect(CatchUpProof.ReplicaGTIDs(status: mariaDBStatus, isMariaDB: true).tracksGTIDs)
    }
}
