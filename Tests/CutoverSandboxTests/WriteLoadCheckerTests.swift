import CutoverSandbox
import Testing

/// Synthetic runs: instants are offsets from one base instant, write ids small integers.
private let base = ContinuousClock.now

private func at(_ milliseconds: Int) -> ContinuousClock.Instant { base + .milliseconds(milliseconds) }

private func acknowledged(_ id: Int64, sent: Int = 0, acked: Int = 1, rows: Int = 1, client: Int = 0) -> WriteRecord {
    WriteRecord(
        client: client, sequence: Int(id), firstWriteID: id, rowCount: rows, sentAt: at(sent),
        outcome: .acknowledged(at: at(acked)))
}

private func failed(_ id: Int64, sent: Int = 0, number: UInt32 = 1290, rows: Int = 1) -> WriteRecord {
    WriteRecord(
        client: 0, sequence: Int(id), firstWriteID: id, rowCount: rows, sentAt: at(sent),
        outcome: .failed(at: at(sent + 1), error: WriteError(number: number, message: "read only"))
    )
}

private func ambiguous(_ id: Int64, sent: Int = 0, rows: Int = 1) -> WriteRecord {
    WriteRecord(
        client: 0, sequence: Int(id), firstWriteID: id, rowCount: rows, sentAt: at(sent),
        outcome: .ambiguous(at: at(sent + 1), error: WriteError(number: 2013, message: "Lost connection"))
    )
}

private func rows(_ ids: [Int64], origin: UInt32? = 2) -> [WrittenRow] {
    ids.map { WrittenRow(writeID: $0, originServerID: origin) }
}

@Suite("WriteLoadChecker.check")
struct WriteLoadCheckerTests {
    @Test("every acknowledged write present once: clean")
    func clean() {
        let records = (1...5).map { acknowledged(Int64($0)) }
        let result = WriteLoadChecker.check(records: records, finalWriterRows: rows([1, 2, 3, 4, 5]))
        #expect(result.isClean)
        #expect(result.acknowledgedCount == 5)
        #expect(result.writeCount == 5)
        #expect(result.rowsOnFinalWriter == 5)
        #expect(result.lost.isEmpty)
        #expect(result.duplicated.isEmpty)
        #expect(result.rowsByOrigin == [2: 5])
    }

    @Test("an acknowledged write that is missing is lost")
    func lost() {
        let records = (1...4).map { acknowledged(Int64($0)) }
        let result = WriteLoadChecker.check(records: records, finalWriterRows: rows([1, 2, 4]))
        #expect(!result.isClean)
        #expect(result.lost.map(\.record.firstWriteID) == [3])
        #expect(result.lost.first?.missingWriteIDs == [3])
    }

    @Test("an acknowledged multi-row write with one row missing is lost, naming the row")
    func lostRowOfTransaction() {
        let records = [acknowledged(10, rows: 3)]
        let result = WriteLoadChecker.check(records: records, finalWriterRows: rows([10, 12]))
        #expect(result.lost.count == 1)
        #expect(result.lost.first?.missingWriteIDs == [11])
    }

    @Test("a write id present twice is doubled, with both origins")
    func duplicated() {
        let records = [acknowledged(1), acknowledged(2)]
        let final = rows([1, 2]) + [WrittenRow(writeID: 2, originServerID: 1)]
        let result = WriteLoadChecker.check(records: records, finalWriterRows: final)
        #expect(!result.isClean)
        #expect(result.lost.isEmpty)
        #expect(result.duplicated.count == 1)
        #expect(result.duplicated.first?.writeID == 2)
        #expect(result.duplicated.first?.rowCount == 2)
        #expect(Set(result.duplicated.first?.originServerIDs ?? []) == [1, 2])
        #expect(result.duplicated.first?.record?.firstWriteID == 2)
        #expect(result.rowsByOrigin == [2: 2, 1: 1])
    }

    @Test("failed and ambiguous writes are classified by presence")
    func classification() {
        let records = [
            acknowledged(1), failed(2), failed(3), ambiguous(4), ambiguous(5),
        ]
        let result = WriteLoadChecker.check(records: records, finalWriterRows: rows([1, 3, 5]))
        #expect(result.isClean)
        #expect(result.failedNotCommitted.map(\.firstWriteID) == [2])
        #expect(result.failedCommitted.map(\.firstWriteID) == [3])
        #expect(result.ambiguousNotCommitted.map(\.firstWriteID) == [4])
        #expect(result.ambiguousCommitted.map(\.firstWriteID) == [5])
    }

    @Test("an unacknowledged transaction with only some rows present is a broken transaction")
    func partiallyPresent() {
        let records = [ambiguous(1, rows: 2), failed(10, rows: 2)]
        let result = WriteLoadChecker.check(records: records, finalWriterRows: rows([1, 11]))
        #expect(!result.isClean)
        #expect(result.partiallyPresent.map(\.firstWriteID) == [1, 10])
        #expect(result.ambiguousCommitted.isEmpty && result.ambiguousNotCommitted.isEmpty)
    }

    @Test("a row no client sent is unknown")
    func unknownRow() {
        let records = [acknowledged(1)]
        let result = WriteLoadChecker.check(records: records, finalWriterRows: rows([1, 99]))
        #expect(!result.isClean)
        #expect(result.unknownRows == [WrittenRow(writeID: 99, originServerID: 2)])
        #expect(result.duplicated.isEmpty)
    }

    @Test("a write sent after the fence and accepted by the fenced server violates it")
    func fenceViolation() {
        let records = [
            acknowledged(1, sent: 0, acked: 5), acknowledged(2, sent: 20, acked: 25),
            acknowledged(3, sent: 30, acked: 35),
        ]
        let final = [
            WrittenRow(writeID: 1, originServerID: 1),  // old source, before the fence: fine
            WrittenRow(writeID: 2, originServerID: 1),  // old source, after the fence: violation
            WrittenRow(writeID: 3, originServerID: 2),  // new writer
        ]
        let fence = WriteFence(serverID: 1, from: at(10))
        let result = WriteLoadChecker.check(records: records, finalWriterRows: final, fences: [fence])
        #expect(!result.isClean)
        #expect(result.fenceViolations.map(\.row.writeID) == [2])
        #expect(result.fenceViolations.first?.fence == fence)
        #expect(result.lost.isEmpty)
    }

    @Test("a fence with an end: only writes acknowledged before the end count; unacknowledged ones prove nothing")
    func boundedFence() {
        let fence = WriteFence(serverID: 1, from: at(10), until: at(50))
        let records = [
            acknowledged(1, sent: 20, acked: 40),  // acknowledged by server 1 while fenced
            acknowledged(2, sent: 20, acked: 60),  // queued, landed after the failback: fine
            ambiguous(3, sent: 20),  // no acknowledgement: unknown when it landed
            acknowledged(4, sent: 60, acked: 61),  // after the fence ended
        ]
        let final = rows([1, 2, 3, 4], origin: 1)
        let result = WriteLoadChecker.check(records: records, finalWriterRows: final, fences: [fence])
        #expect(result.fenceViolations.map(\.row.writeID) == [1])
        #expect(fence.isViolated(by: WrittenRow(writeID: 1, originServerID: 1), of: records[0]))
        #expect(!fence.isViolated(by: WrittenRow(writeID: 1, originServerID: 2), of: records[0]))
    }

    @Test("with no end, an unacknowledged write that landed on the fenced server after the fence violates it")
    func openFenceAmbiguous() {
        let fence = WriteFence(serverID: 1, from: at(10))
        let records = [ambiguous(1, sent: 20)]
        let result = WriteLoadChecker.check(records: records, finalWriterRows: rows([1], origin: 1), fences: [fence])
        #expect(result.fenceViolations.count == 1)
        #expect(result.ambiguousCommitted.count == 1)
    }

    @Test("rows the old source accepted that never reached the final writer are stranded, and checked against fences")
    func oldSourceOnly() {
        let records = [acknowledged(1, sent: 0), ambiguous(2, sent: 20), acknowledged(3, sent: 30)]
        let final = [WrittenRow(writeID: 1, originServerID: 1), WrittenRow(writeID: 3, originServerID: 2)]
        let old = WriteLoadChecker.OldSource(
            serverID: 1,
            rows: [
                WrittenRow(writeID: 1, originServerID: 1),
                WrittenRow(writeID: 2, originServerID: 1),  // accepted by the old source after the fence, stranded
                WrittenRow(writeID: 3, originServerID: 2),  // came back by reverse replication
            ]
        )
        let result = WriteLoadChecker.check(
            records: records, finalWriterRows: final, oldSource: old, fences: [WriteFence(serverID: 1, from: at(10))]
        )
        #expect(!result.isClean)
        #expect(result.oldSourceOnlyRows == [WrittenRow(writeID: 2, originServerID: 1)])
        #expect(result.fenceViolations.map(\.row.writeID) == [2])
        #expect(result.ambiguousNotCommitted.map(\.firstWriteID) == [2])
        #expect(result.splitWrites.isEmpty)
        #expect(result.oldSourceServerID == 1)
    }

    @Test("an id with different origins on the two sides was accepted by both")
    func splitWrite() {
        let records = [acknowledged(1)]
        let old = WriteLoadChecker.OldSource(serverID: 1, rows: [WrittenRow(writeID: 1, originServerID: 1)])
        let result = WriteLoadChecker.check(records: records, finalWriterRows: rows([1], origin: 2), oldSource: old)
        #expect(!result.isClean)
        #expect(result.splitWrites.map(\.writeID) == [1])
        #expect(result.oldSourceOnlyRows.isEmpty)
    }

    @Test("the old source's rows of other origins that are missing on the final writer are not stranded")
    func oldSourceForeignRows() {
        let records = [acknowledged(1)]
        let old = WriteLoadChecker.OldSource(serverID: 1, rows: [WrittenRow(writeID: 1, originServerID: 2)])
        let result = WriteLoadChecker.check(records: records, finalWriterRows: [], oldSource: old)
        #expect(result.oldSourceOnlyRows.isEmpty)
        #expect(result.lost.count == 1)
    }

    @Test("the description states the verdict and the counts")
    func description() {
        let clean = WriteLoadChecker.check(records: [acknowledged(1)], finalWriterRows: rows([1]))
        #expect(clean.description.contains("verdict: clean"))
        let lost = WriteLoadChecker.check(records: [acknowledged(7)], finalWriterRows: [])
        #expect(lost.description.contains("verdict: NOT clean"))
        #expect(lost.description.contains("lost write ids: 7"))
    }
}
