public import ProxySQLAdmin

/// What `migrate-cli status` concludes from what it read: the phase of the journal's last run derived from the
/// journal **and** ProxySQL's runtime, and alarms about the writer hostgroup. Pure: facts in, verdict out.
///
/// A crash during the new writer's `ONLINE` leaves a journal whose last action is that `ONLINE`, with no outcome:
/// the journal alone says "not past the point of no return", while ProxySQL may already route writes to the new
/// writer. Runtime is the truth about routing; the journal is the truth about intent. Both are shown.
public struct StatusAssessment: Sendable, Hashable {
    /// The runtime writer-hostgroup rows of one ProxySQL node.
    public struct NodeWriters: Sendable, Hashable {
        /// The node's name.
        public var node: String
        /// The endpoints `ONLINE` in the writer hostgroup at runtime (`runtime_mysql_servers`).
        public var online: [ServerEndpoint]

        /// Creates the rows of a node.
        public init(node: String, online: [ServerEndpoint]) {
            self.node = node
            self.online = online
        }
    }

    /// Whether the last run is past its point of no return, and why.
    public enum Phase: Sendable, Hashable {
        /// No run in the journal.
        case noRun
        /// Not past the point of no return.
        case before
        /// Past it; `evidence` says what shows it (the journal, runtime, or both).
        case past(evidence: String)
    }

    /// The phase of the last run.
    public var phase: Phase
    /// Conditions that need the operator now (no writer, two writers, nodes that disagree).
    public var alarms: [BlockingReason]

    /// Assesses what `status` read.
    ///
    /// - Parameters:
    ///   - run: the entries of the journal's last run (empty: none).
    ///   - writers: the runtime writer rows of every node that could be read.
    ///   - topology: the configured rows of both databases.
    public static func assess(
        run: [JournalRecord], writers: [NodeWriters], topology: CutoverTopology
    ) -> StatusAssessment {
        var alarms: [BlockingReason] = []
        let writerHostgroup = topology.source.writer.hostgroup
        for node in writers {
            let online = Array(Set(node.online.map(Self.normalized))).sorted()
            if online.isEmpty {
                alarms.append(BlockingReason(
                    check: "routing.no-writer",
                    message: "\(node.node): no server is ONLINE in writer hostgroup \(writerHostgroup) at runtime: writes wait, then fail (9001)",
                    remedy: "if a run is unfinished, `migrate-cli resume`; otherwise set the intended writer ONLINE on that node and LOAD MYSQL SERVERS TO RUNTIME"
                ))
            } else if online.count > 1 {
                alarms.append(BlockingReason(
                    check: "routing.two-writers",
                    message: "\(node.node): \(online.count) servers are ONLINE in writer hostgroup \(writerHostgroup) at runtime (\(online.map(\.description).joined(separator: ", "))): writes can land on both",
                    remedy: "set every writer but the intended one OFFLINE_HARD on that node and LOAD MYSQL SERVERS TO RUNTIME now, then check replication both ways"
                ))
            }
        }
        let sole = Set(writers.compactMap { $0.online.count == 1 ? Self.normalized($0.online[0]) : nil })
        if sole.count > 1 {
            alarms.append(BlockingReason(
                check: "routing.nodes-disagree",
                message: "the ProxySQL nodes route writes to different servers (\(writers.filter { $0.online.count == 1 }.map { "\($0.node): \($0.online[0])" }.joined(separator: ", ")))",
                remedy: "make every node route to the same writer (resume an unfinished run, or set the rows by hand and LOAD on each node)"
            ))
        }
        return StatusAssessment(phase: phase(run: run, writers: writers, topology: topology), alarms: alarms)
    }

    static func phase(run: [JournalRecord], writers: [NodeWriters], topology: CutoverTopology) -> Phase {
        guard let header = run.first(where: { $0.kind == .runStarted }), let operation = header.operation else {
            return .noRun
        }
        var evidence: [String] = []
        let finished = run.last { $0.kind == .runFinished }?.outcome
        if finished?.isPastPointOfNoReturn == true || run.contains(where: { $0.pastPointOfNoReturn == true }) {
            evidence.append("journal")
        } else if finished == nil, let last = run.last(where: { $0.kind == .action }),
            case .setStatus(let server, .online)? = last.action, server.role == operation.to,
            !run.contains(where: { $0.kind == .event && $0.sequence > last.sequence && $0.step == last.step })
        {
            // The process stopped while the new server's ONLINE was in flight: it may have taken effect, and
            // `resume` goes forward from there.
            evidence.append("journal: the run stopped during the ONLINE of the \(server)")
        }
        if finished == nil || finished?.isPastPointOfNoReturn == true, operation.movesWriter {
            let newWriter = Self.normalized(topology.routing(operation.to).writer.endpoint)
            let nodes = writers.filter { $0.online.map(Self.normalized).contains(newWriter) }.map(\.node)
            if !nodes.isEmpty {
                evidence.append("runtime: the \(operation.to) writer is ONLINE on \(nodes.joined(separator: ", "))")
            }
        }
        if finished == nil, !operation.movesWriter {
            // Nothing more to derive for a reader switch: its point of no return is the old reader's OFFLINE_HARD.
        }
        return evidence.isEmpty ? .before : .past(evidence: evidence.joined(separator: "; "))
    }

    /// `endpoint` with its host compared case-insensitively and without a trailing dot.
    static func normalized(_ endpoint: ServerEndpoint) -> ServerEndpoint {
        var host = endpoint.host.lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        return ServerEndpoint(host: host, port: endpoint.port)
    }
}
