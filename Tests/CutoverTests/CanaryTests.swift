@testable import Cutover
import Synchronization
import Testing

/// The canary's summary (pure) and its measurement loop with a scripted writer (#14 item 9).
@Suite("Canary")
struct CanaryTests {
    private func ms(_ value: Int) -> Duration { .milliseconds(value) }

    @Test("the longest gap is between acknowledgements, edges included; errors are counted, the first is kept")
    func summary() {
        let observations = [
            Canary.Observation(sequence: 1, sent: ms(0), answered: ms(1)),
            Canary.Observation(sequence: 2, sent: ms(5), answered: ms(6)),
            Canary.Observation(sequence: 3, sent: ms(10), answered: ms(40), error: "9001 Max connect timeout"),
            Canary.Observation(sequence: 4, sent: ms(40), answered: ms(41), error: "2013 Lost connection"),
            Canary.Observation(sequence: 5, sent: ms(41), answered: ms(90)),
            Canary.Observation(sequence: 6, sent: ms(95), answered: ms(96)),
        ]
        let report = CanaryReport(observations: observations, span: ms(0)...ms(100))
        #expect(report.acknowledged == 4)
        #expect(report.errors == 2)
        #expect(report.longestGap == ms(84))
        #expect(report.longestGapStartedAt == ms(6))
        #expect(report.slowestWrite == ms(49))
        #expect(report.firstError == "9001 Max connect timeout")
        #expect(report.span == ms(100))
        #expect(report.description == "canary: longest gap 84 ms, 4 write(s) acknowledged, 2 error(s) (first: 9001 Max connect timeout)")
    }

    @Test("a canary that was never acknowledged reports the whole span as its gap")
    func nothingAcknowledged() {
        let report = CanaryReport(
            observations: [Canary.Observation(sequence: 1, sent: ms(0), answered: ms(30), error: "refused")],
            span: ms(0)...ms(30)
        )
        #expect(report.acknowledged == 0)
        #expect(report.longestGap == ms(30))
        #expect(report.slowestWrite == nil)
    }

    /// Acknowledges every write except while `stalled` is set, when it waits until it is cleared.
    actor ScriptedWriter: CanaryWriting {
        var prepared = 0
        var cleaned = 0
        var writes: [Int] = []
        var failNext = 0
        func prepare() async throws { prepared += 1 }
        func write(sequence: Int, timeout: Duration) async throws {
            writes.append(sequence)
            if failNext > 0 {
                failNext -= 1
                struct Lost: Error, CustomStringConvertible { var description: String { "2013 lost connection" } }
                throw Lost()
            }
        }
        func cleanUp() async throws { cleaned += 1 }
        func failing(_ count: Int) { failNext = count }
    }

    @Test("measure writes heartbeats while the body runs, prepares and cleans up, and returns the body's result")
    func measureAroundBody() async throws {
        let writer = ScriptedWriter()
        let (value, report) = try await Canary.measure(writer: writer, options: .init(interval: .milliseconds(2))) {
            await writer.failing(2)
            // Until the canary has written at least 6 heartbeats (the machine may be loaded: no fixed sleep).
            let deadline = ContinuousClock.now + .seconds(60)
            while await writer.writes.count < 6, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            return 42
        }
        #expect(value == 42)
        #expect(await writer.prepared == 1)
        #expect(await writer.cleaned == 1)
        #expect(report.errors == 2)
        #expect(report.acknowledged >= 3)
        #expect(report.firstError == "2013 lost connection")
        #expect(await writer.writes.count >= 6)
        #expect(report.acknowledged + report.errors == (await writer.writes.count))
        #expect(report.longestGap <= report.span)
    }

    @Test("an error of the body is rethrown after clean-up")
    func bodyError() async {
        struct Broken: Error {}
        let writer = ScriptedWriter()
        await #expect(throws: Broken.self) {
            _ = try await Canary.measure(writer: writer) { () async throws -> Int in throw Broken() }
        }
        #expect(await writer.cleaned == 1)
    }
}
