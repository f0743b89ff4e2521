public import Cutover
public import CutoverSandbox

extension RehearsalScript {
    /// The reads through the application port, judged against the switches.
    ///
    /// A writer switch's fence closes every client session on the old writer's server (`SessionCloser`), and with
    /// `mysql-query_retries_on_failure = 0` for the window ProxySQL does not re-send a read it was running there: a
    /// read served by that server through a reader row (the rehearsal's reader rows are the writers' servers, as in
    /// a deployment that reads from its primary) fails with "lost connection" if it was in flight at that moment.
    /// Such a read is *expected* (documented in the runbook); any other failed read is not.
    public struct ReadVerdict: Sendable {
        /// Failed reads inside a writer switch (between its start and its end).
        public var duringWriterSwitch: Int
        /// Failed reads anywhere else: before, between or after the switches, or during a reader switch.
        public var unexpected: [ReadLoad.Failure]
    }

    /// Sorts `failures` by the switch (if any) they fell in.
    public static func judge(
        _ failures: [ReadLoad.Failure],
        switches: [(operation: CutoverOperation, started: ContinuousClock.Instant, ended: ContinuousClock.Instant)]
    ) -> ReadVerdict {
        var verdict = ReadVerdict(duringWriterSwitch: 0, unexpected: [])
        for failure in failures {
            if switches.contains(where: { $0.operation.movesWriter && ($0.started...$0.ended).contains(failure.at) }) {
                verdict.duringWriterSwitch += 1
            } else {
                verdict.unexpected.append(failure)
            }
        }
        return verdict
    }
}

extension RehearsalScript.Result {
    /// ``RehearsalScript/judge(_:switches:)`` of this run's reads (nil without reads).
    public var readVerdict: RehearsalScript.ReadVerdict? {
        reads.map { RehearsalScript.judge($0.failures, switches: switches.map { ($0.operation, $0.started, $0.ended) }) }
    }
}

/// Options a rehearsal cannot run with, said before anything starts.
public struct RehearsalOptionsError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
