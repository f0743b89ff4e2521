import Cutover
import Logging

extension InspectionWiring {
    /// `status`'s fence proof (issue #13, item 1): the old writer of the journal's last writer switch must have
    /// written nothing of its own since its final position was read at the fence. A difference is an alarm naming the
    /// extra transactions; what cannot be read or proved is a note.
    static func fenceProof(_ facts: FenceProof.JournalFacts, scope: ConnectionScope, logger: Logger) async
        -> (alarm: BlockingReason?, note: String?)
    {
        let endpoint = facts.oldWriter.endpointName
        let name = "\(facts.oldWriter) (\(scope.address(of: endpoint)))"
        do {
            let connection = try await scope.connect(endpoint)
            switch try await FenceProof.check(facts, session: connection, logger: logger) {
            case .held:
                return (nil, "\(name): the fence held (nothing of its own written since its final position \(facts.atFence))")
            case .diverged(let extra):
                return (
                    BlockingReason(
                        check: "fence.diverged",
                        message: "THE FENCE DID NOT HOLD: \(name) wrote transactions of its own after its final "
                            + "position \(facts.atFence) was read at the fence: \(extra). They are not on the new writer",
                        remedy: "find who wrote them (sessions that bypass ProxySQL with SUPER / READ ONLY ADMIN), apply "
                            + "them to the new writer or decide to discard them, and do not fail back before that"
                    ), nil
                )
            case .unprovable(let why):
                return (nil, "\(name): the fence cannot be proved: \(why)")
            }
        } catch {
            return (nil, "\(name): cannot check that the fence held: \(error)")
        }
    }
}
