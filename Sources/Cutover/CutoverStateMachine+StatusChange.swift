import ProxySQLAdmin

extension CutoverStateMachine {
    /// The two rules of a ``Action/setStatus(_:_:)`` that need facts only the executor can read, decided here (no
    /// I/O): whether a reader status change may go ahead, and whether a failed status change may have taken effect
    /// (which the machine's ``StepFailure/mayHaveTakenEffect`` rule turns into rollback or forward at the new
    /// writer's ONLINE). The executor asks which facts to read, reads them, and reports the verdict.
    enum StatusChange {
        /// What the executor saw of the database that would serve the reads.
        enum ServingDatabase: Sendable, Hashable {
            /// It answers, and replicates cleanly or is no replica.
            case serving
            /// It answers, but its replication does not run cleanly (the replica health, in words).
            case notReplicatingCleanly(String)
            /// It does not answer (the error, in words).
            case unreachable(String)
        }

        /// The verdict on a reader status change.
        enum ReaderVerdict: Sendable, Hashable {
            /// The database that would serve the reads cannot (the problem, the database's name): nothing changes.
            case refused(String, database: String)
            /// Go ahead; on each node only where the other reader row is ONLINE (`requiringOtherReaderOnline`), so
            /// that no node is ever left without an ONLINE reader by the tool.
            case proceed(requiringOtherReaderOnline: Bool)
        }

        /// The database whose health decides a reader status change: the reader's own when it enters service, the
        /// other reader's when it leaves (that one serves the reads alone afterwards).
        static func servingRole(of server: RoutedServer, _ status: RoutingStatus) -> DatabaseRole {
            status == .online ? server.role : server.role.other
        }

        /// A reader row enters service only while its database serves, and leaves it only while the other reader's
        /// database serves and, on each node, the other reader row is ONLINE there.
        ///
        /// - Parameters:
        ///   - status: the status the reader row is to get.
        ///   - database: the name of the database ``servingRole(of:_:)`` names, for the message.
        ///   - reading: what the executor saw of it.
        static func readerVerdict(_ status: RoutingStatus, database: String, reading: ServingDatabase) -> ReaderVerdict {
            switch reading {
            case .notReplicatingCleanly(let health):
                return .refused("\(database) does not replicate cleanly (\(health)): reads there would go stale", database: database)
            case .unreachable(let error):
                return .refused("\(database) does not answer (\(error)): reads there would fail", database: database)
            case .serving:
                return .proceed(requiringOtherReaderOnline: status != .online)
            }
        }

        /// Whether a node's runtime, read right after the LOAD, confirms the status change: it matches the intended
        /// rows, or the only differences are rows intended `ONLINE` that ProxySQL shows `SHUNNED`. The LOAD did put
        /// those `ONLINE` (ProxySQL 2.7.1's `MySQL_HostGroups_Manager::commit` sets the incoming status on a row whose
        /// live status differs), and clients' failed connects shunned them within milliseconds: a new writer at
        /// `max_connections` or restarting (#14 item 8). Counting that as a failed ONLINE would stop a writer switch
        /// past its point of no return for what ProxySQL handles itself; the `watchNewWriter` step that follows
        /// deals with it (``ShunnedWriterRecovery``).
        static func runtimeConfirms(_ verification: RuntimeVerification) -> Bool {
            verification.differences.allSatisfy { difference in
                if case .statusMismatch(_, expected: .online, actual: .shunned) = difference { return true }
                return false
            }
        }

        /// Whether the executor must read every node's runtime before ``mayHaveTakenEffect(_:_:nodesSucceeded:absentFromEveryRuntime:)``
        /// can decide: only for a writer's ONLINE that no node confirmed.
        static func needsRuntimeReading(_ server: RoutedServer, _ status: RoutingStatus, nodesSucceeded: Int) -> Bool {
            server.kind == .writer && status == .online && nodesSucceeded == 0
        }

        /// Whether a failed status change may have taken effect. Any change that some node confirmed, or that is not
        /// a writer's ONLINE, may have; a writer's ONLINE that no node confirmed did not only when every node's
        /// runtime shows the writer absent (`absentFromEveryRuntime` true). Not read, or not shown absent
        /// everywhere (a node that does not answer, a node that shows it): it may have, and the machine goes forward
        /// rather than roll back over writes that may have landed on the new writer.
        static func mayHaveTakenEffect(
            _ server: RoutedServer, _ status: RoutingStatus, nodesSucceeded: Int, absentFromEveryRuntime: Bool?
        ) -> Bool {
            guard needsRuntimeReading(server, status, nodesSucceeded: nodesSucceeded) else { return true }
            return absentFromEveryRuntime != true
        }
    }
}
