import Cutover
import CutoverRehearsal
import CutoverSandbox
import Testing

/// Issue #16 item 3: which failed reads a rehearsal accepts. Pure.
@Suite("Rehearsal: the reads' verdict")
struct RehearsalReadVerdictTests {
    let origin = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { origin + .milliseconds(milliseconds) }

    func failure(_ milliseconds: Int) -> ReadLoad.Failure {
        ReadLoad.Failure(at: at(milliseconds), endpoint: "127.0.0.1:6033", error: "2013 lost connection")
    }

    @Test("a read cut during a writer switch is the fence's (expected); before, between, after or in a reader switch it is not")
    func judged() {
        let switches: [(operation: CutoverOperation, started: ContinuousClock.Instant, ended: ContinuousClock.Instant)] = [
            (.readerCutover, at(100), at(200)),
            (.writerCutover, at(300), at(400)),
            (.writerFailback, at(500), at(600)),
        ]
        let verdict = RehearsalScript.judge(
            [failure(50), failure(150), failure(300), failure(350), failure(450), failure(600), failure(700)],
            switches: switches)
        #expect(verdict.duringWriterSwitch == 3)
        #expect(verdict.unexpected.map(\.at) == [at(50), at(150), at(450), at(700)])
    }

    @Test("no switch: every failed read is unexpected; no failure: a clean verdict")
    func edges() {
        #expect(RehearsalScript.judge([failure(10)], switches: []).unexpected.count == 1)
        let clean = RehearsalScript.judge([], switches: [(.writerCutover, at(0), at(100))])
        #expect(clean.unexpected.isEmpty && clean.duringWriterSwitch == 0)
    }
}
