import CutoverSandbox
import Testing

private let base = ContinuousClock.now
private func at(_ milliseconds: Int) -> ContinuousClock.Instant { base + .milliseconds(milliseconds) }

@Suite("Percentiles and latency summaries")
struct LatencySummaryTests {
    @Test("nearest rank on 1...100")
    func nearestRank() {
        let values = Array(1...100)
        #expect(nearestRankPercentile(0.5, of: values) == 50)
        #expect(nearestRankPercentile(0.99, of: values) == 99)
        #expect(nearestRankPercentile(1, of: values) == 100)
        #expect(nearestRankPercentile(0, of: values) == 1)
        #expect(nearestRankPercentile(0.501, of: values) == 51)
    }

    @Test("small sets: the answer is always a recorded value")
    func smallSets() {
        #expect(nearestRankPercentile(0.5, of: [Int]()) == nil)
        #expect(nearestRankPercentile(0.5, of: [7]) == 7)
        #expect(nearestRankPercentile(0.99, of: [7]) == 7)
        #expect(nearestRankPercentile(0.5, of: [1, 2, 3, 4]) == 2)
        #expect(nearestRankPercentile(0.99, of: [1, 2, 3, 4]) == 4)
    }

    @Test("a summary sorts its input")
    func summary() throws {
        let values: [Duration] = [.milliseconds(30), .milliseconds(10), .milliseconds(20), .milliseconds(500)]
        let summary = try #require(LatencySummary(values))
        #expect(summary.count == 4)
        #expect(summary.minimum == .milliseconds(10))
        #expect(summary.p50 == .milliseconds(20))
        #expect(summary.p99 == .milliseconds(500))
        #expect(summary.maximum == .milliseconds(500))
        #expect(LatencySummary([Duration]()) == nil)
        #expect(Duration.milliseconds(1500).inMilliseconds == 1500)
        #expect(Duration.microseconds(250).inMilliseconds == 0.25)
    }
}

@Suite("WriteGap.longest")
struct WriteGapTests {
    @Test("the longest interval between acknowledgements of all clients")
    func longestOverall() throws {
        // Two clients interleaved; the stall is between 40 and 340.
        let acks = [at(10), at(20), at(30), at(40), at(340), at(350), at(15), at(25)]
        let gap = try #require(WriteGap.longest(acknowledgements: acks, runStart: at(0), runEnd: at(360)))
        #expect(gap.start == at(40))
        #expect(gap.end == at(340))
        #expect(gap.duration == .milliseconds(300))
        #expect(!gap.startsAtRunStart && !gap.endsAtRunEnd)
    }

    @Test("only gaps overlapping the range count, measured whole")
    func range() throws {
        let acks = [at(10), at(100), at(110), at(150), at(160)]
        // The biggest gap (10→100) is outside the range; 110→150 straddles its start.
        let gap = try #require(
            WriteGap.longest(acknowledgements: acks, runStart: at(0), runEnd: at(170), overlapping: at(120)...at(155))
        )
        #expect(gap.start == at(110))
        #expect(gap.end == at(150))
        let whole = try #require(WriteGap.longest(acknowledgements: acks, runStart: at(0), runEnd: at(170)))
        #expect(whole.duration == .milliseconds(90))
    }

    @Test("the run's start and end bound the first and last gaps")
    func openEnds() throws {
        let first = try #require(
            WriteGap.longest(acknowledgements: [at(500), at(510)], runStart: at(0), runEnd: at(520)))
        #expect(first.startsAtRunStart)
        #expect(first.duration == .milliseconds(500))
        let last = try #require(WriteGap.longest(acknowledgements: [at(5), at(10)], runStart: at(0), runEnd: at(900)))
        #expect(last.endsAtRunEnd)
        #expect(last.start == at(10))
        #expect(last.duration == .milliseconds(890))
    }

    @Test("no acknowledgement at all: the whole run is one gap")
    func noAcknowledgements() throws {
        let gap = try #require(WriteGap.longest(acknowledgements: [], runStart: at(0), runEnd: at(250)))
        #expect(gap.duration == .milliseconds(250))
        #expect(gap.startsAtRunStart && gap.endsAtRunEnd)
    }

    @Test("a range after the run's end overlaps nothing")
    func rangeOutside() {
        let gap = WriteGap.longest(
            acknowledgements: [at(10)], runStart: at(0), runEnd: at(20), overlapping: at(100)...at(200)
        )
        #expect(gap == nil)
    }

    @Test("acknowledgements after the stop close the last gap at themselves")
    func acknowledgementsAfterStop() throws {
        let gap = try #require(WriteGap.longest(acknowledgements: [at(10), at(30)], runStart: at(0), runEnd: at(20)))
        #expect(gap.duration == .milliseconds(20))
        #expect(gap.start == at(10))
    }
}

@Suite("WriteLoadReport")
struct WriteLoadReportTests {
    private func report() -> WriteLoadReport {
        let records = [
            WriteRecord(client: 0, sequence: 1, firstWriteID: 1, sentAt: at(0), outcome: .acknowledged(at: at(2))),
            WriteRecord(client: 1, sequence: 1, firstWriteID: 2, sentAt: at(1), outcome: .acknowledged(at: at(5))),
            WriteRecord(
                client: 0, sequence: 2, firstWriteID: 3, sentAt: at(3),
                outcome: .ambiguous(at: at(200), error: WriteError(number: 2013, message: "lost"))
            ),
            WriteRecord(
                client: 1, sequence: 2, firstWriteID: 4, sentAt: at(6),
                outcome: .failed(at: at(7), error: WriteError(number: 1290, message: "read only"))
            ),
            WriteRecord(client: 1, sequence: 3, firstWriteID: 5, sentAt: at(8), outcome: .acknowledged(at: at(300))),
            WriteRecord(client: 0, sequence: 3, firstWriteID: 6, sentAt: at(301), outcome: .acknowledged(at: at(303))),
        ]
        return WriteLoadReport(
            runID: 1, workload: .clientKeys, clients: 2, startedAt: at(0), stoppedAt: at(310), finishedAt: at(311),
            records: records,
            connectionEvents: [
                ConnectionEvent(client: 0, at: at(200), kind: .lost(WriteError(number: 2013, message: "lost"))),
                ConnectionEvent(client: 0, at: at(250), kind: .reconnected),
            ]
        )
    }

    @Test("counts by outcome and by error number")
    func counts() {
        let report = report()
        #expect(report.acknowledgedCount == 4)
        #expect(report.acknowledged.map(\.firstWriteID) == [1, 2, 5, 6])
        #expect(report.failed.map(\.firstWriteID) == [4])
        #expect(report.ambiguous.map(\.firstWriteID) == [3])
        #expect(report.errorCounts == [2013: 1, 1290: 1])
        #expect(report.connectionLossCount == 1)
        #expect(report.acknowledgedPerSecond > 12.8 && report.acknowledgedPerSecond < 13.0)
    }

    @Test("the window and the latencies come from the acknowledged writes only")
    func windowAndLatency() throws {
        let report = report()
        let gap = try #require(report.longestGap())
        #expect(gap.start == at(5))
        #expect(gap.end == at(300))
        let latency = try #require(report.latencySummary())
        #expect(latency.count == 4)
        #expect(latency.p50 == .milliseconds(2))
        #expect(latency.maximum == .milliseconds(292))
        let early = try #require(report.latencySummary(sentWithin: at(0)...at(2)))
        #expect(early.count == 2)
        #expect(early.maximum == .milliseconds(4))
        #expect(report.latencySummary(sentWithin: at(1000)...at(2000)) == nil)
    }

    @Test("a record's latency and write ids")
    func record() {
        let record = WriteRecord(
            client: 3, sequence: 9, firstWriteID: 100, rowCount: 3, sentAt: at(0), outcome: .acknowledged(at: at(12)))
        #expect(Array(record.writeIDs) == [100, 101, 102])
        #expect(record.latency == .milliseconds(12))
        #expect(record.outcome.isAcknowledged)
        #expect(record.outcome.error == nil)
    }
}

@Suite("WriteLoadReport description")
struct WriteLoadReportDescriptionTests {
    @Test("states the counts, the errors and the window")
    func description() {
        let report = WriteLoadReport(
            runID: 9, workload: .autoIncrement, clients: 1, startedAt: at(0), stoppedAt: at(1000), finishedAt: at(1000),
            records: [
                WriteRecord(client: 0, sequence: 1, firstWriteID: 1, sentAt: at(0), outcome: .acknowledged(at: at(10))),
                WriteRecord(
                    client: 0, sequence: 2, firstWriteID: 2, sentAt: at(10),
                    outcome: .failed(at: at(11), error: WriteError(number: 9001, message: "Max connect timeout"))
                ),
            ]
        )
        let text = report.description
        #expect(text.contains("run 9, autoIncrement, 1 clients, 1000.0 ms"))
        #expect(text.contains("acknowledged 1 (1/s), failed 1, ambiguous 0"))
        #expect(text.contains("errors: 9001×1"))
        #expect(text.contains("longest gap without acknowledgement: 990.0 ms (to run end)"))
    }
}
