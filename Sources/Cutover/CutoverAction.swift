/// What the runner must do next: an action of a cut-over or failback, decided by the state machine and performed by
/// a ``CutoverExecutor``, which answers with a ``CutoverEvent``.
public enum CutoverAction: Sendable, Hashable {
    /// Check what must hold before anything changes (replication health, lag, long transactions, ...).
    case runGuards(CutoverOperation)
    /// Change ProxySQL variables for the window and report their previous values.
    case prepareProxy(disableQueryRetries: Bool, relaxAutoIncrementPin: Bool)
    /// After the pin was relaxed and before the window opens: let the auto-increment pins that sessions took
    /// before run out while traffic still flows. Read which sessions hold a backend connection to the server
    /// (`stats_mysql_processlist`), then poll every `interval` until each has let go of it, or until
    /// `timeout`. Never fails: it only shortens the drain that follows.
    case settleAutoIncrementPins(RoutedServer, timeout: Duration, interval: Duration)
    /// Last before the window opens, while writes still flow: read `source`'s current position and wait on
    /// `role` until it has executed it, again and again, until one wait returns within `threshold`, or until
    /// `timeout`. Report what it saw (``ReplicationSettleObservation``); the machine decides.
    case settleReplication(DatabaseRole, source: DatabaseRole, threshold: Duration, timeout: Duration)
    /// Set a server's status on every ProxySQL node and `LOAD MYSQL SERVERS TO RUNTIME` (one LOAD per call).
    case setStatus(RoutedServer, RoutingStatus)
    /// Right after the new writer's `ONLINE` took effect (#14 item 8): read every node's runtime status of `role`'s
    /// writer row every `interval`, for `watch` (up to `recovery` once a node shows it `SHUNNED`); where it is
    /// `SHUNNED` and a fresh login to it succeeds, `LOAD MYSQL SERVERS TO RUNTIME` (rows unchanged) on those nodes, at
    /// most `maximumReloads` times (``ShunnedWriterRecovery/Watch``). Never fails: it reports what it saw.
    case watchNewWriter(DatabaseRole, watch: Duration, recovery: Duration, interval: Duration, maximumReloads: Int)
    /// Poll the server's `ConnUsed` until 0, or until `timeout`; report the sessions that hold on.
    case pollDrain(RoutedServer, timeout: Duration, interval: Duration)
    /// Close the application sessions still attached to the old writer (on the server and on ProxySQL).
    case closeSessions(DatabaseRole)
    /// Make the database read-only against clients that bypass ProxySQL, bounded by `timeout`.
    case fence(DatabaseRole, timeout: Duration)
    /// Undo ``fence(_:timeout:)``.
    case liftFence(DatabaseRole)
    /// Read the binlog position (and GTID state) of a database.
    case readPosition(DatabaseRole)
    /// Read `role`'s position again and prove the fence held: it must still equal `atFence`, the final position
    /// read at the fence (``FenceProof``). Answered by ``CutoverEvent/positionRead(_:_:at:)`` when it held, by a failure
    /// naming the extra transactions when it did not.
    case proveFenceHeld(DatabaseRole, atFence: ReplicationCoordinate)
    /// Wait until `role` has executed `coordinate` as a replica, bounded by `timeout`.
    case waitForCatchUp(DatabaseRole, coordinate: ReplicationCoordinate, timeout: Duration)
    /// Stop and reset replication on `role` (it is the new writer and must no longer follow the old one).
    case stopReplication(DatabaseRole)
    /// Make `role` a replica of `source` from `coordinate` and start it (reverse replication for a way back).
    case startReplication(DatabaseRole, source: DatabaseRole, coordinate: ReplicationCoordinate)
    /// Check that replication on `role` runs without errors.
    case verifyReplication(DatabaseRole)
    /// Set `read_only` on `role` on (the old writer, after the point of no return) or off (a failback's new
    /// writer) and keep it across a restart where the server can (`SET PERSIST`); report what the option file
    /// needs otherwise.
    case persistReadOnly(DatabaseRole, readOnly: Bool)
    /// Put the ProxySQL variables changed by ``prepareProxy(disableQueryRetries:relaxAutoIncrementPin:)`` back.
    case restoreProxySettings(ProxySettingsSnapshot)
    /// `SAVE MYSQL SERVERS TO DISK` on every ProxySQL node.
    case saveProxyConfiguration
    /// Nothing new to start: keep waiting for the action in flight.
    case wait
    /// The run is over.
    case finish(CutoverOutcome)
}

/// What happened: the answer of a ``CutoverExecutor`` to a ``CutoverAction`` (or the runner's report of a shutdown
/// request), fed back to the state machine.
public enum CutoverEvent: Sendable, Hashable {
    /// The guards ran; empty `blockingReasons` means the run may proceed. `pinnedSessions` lists the sessions
    /// ProxySQL pinned to the old server when the guards looked (information: they hold the drain), nil when not
    /// read. `proxySettings` holds the current values of the ProxySQL variables the window will change (nil when
    /// none will be, or they could not be read): the rollback restores them if the run dies after changing them
    /// but before journaling how.
    case guardsFinished(
        blockingReasons: [BlockingReason], pinnedSessions: [SessionHolder]? = nil,
        proxySettings: ProxySettingsSnapshot? = nil, autoIncrementPin: AutoIncrementPinDecision? = nil)
    /// ProxySQL's variables were changed for the window; the snapshot holds their previous values.
    case proxyPrepared(ProxySettingsSnapshot)
    /// The settle after relaxing the auto-increment pin ended. `stillHeld`: sessions that held the server when
    /// it started and still did at its end (0: all let go; nil: ProxySQL's processlist could not be read, so it
    /// waited its whole bound).
    case autoIncrementPinsSettled(RoutedServer, stillHeld: Int?, at: Duration)
    /// The replication settle on the new writer ended, settled or not (the observation says which, with
    /// ``ReplicationSettleObservation/verdict(threshold:deadline:at:)``).
    case replicationSettleEnded(DatabaseRole, ReplicationSettleObservation, at: Duration)
    /// A status was set and loaded on every node, at the given offset.
    case statusSet(RoutedServer, RoutingStatus, at: Duration)
    /// The watch right after the new writer's `ONLINE` ended (what it saw and did).
    case newWriterWatched(DatabaseRole, ShunnedWriterWatch, at: Duration)
    /// Nothing holds the server any more.
    case drained(RoutedServer, at: Duration)
    /// Only idle pins (an auto-increment insert pin, a session variable, a lock) held the server, read twice
    /// (``DrainClassifier``): under ``PinnedSessionPolicy/cut`` the drain ends and `OFFLINE_HARD` cuts them.
    case drainEndedWithIdlePins(RoutedServer, holders: [ClassifiedHolder], at: Duration)
    /// The drain deadline passed with `holders` still on the server.
    case drainDeadlinePassed(RoutedServer, holders: [SessionHolder], at: Duration)
    /// The drain wait was ended before its deadline because the operator asked the run to stop (after
    /// ``gracefulShutdownRequested``), with `holders` still on the server. Before the point of no return the run
    /// then rolls back at once instead of waiting out the drain deadline.
    case drainStopped(RoutedServer, holders: [SessionHolder], at: Duration)
    /// The catch-up wait was ended before the replica executed the final position because the operator asked
    /// the run to stop (after ``gracefulShutdownRequested``): the run rolls back at once.
    case catchUpStopped(DatabaseRole, at: Duration)
    /// `count` sessions were closed on the database.
    case sessionsClosed(DatabaseRole, count: Int, at: Duration)
    /// The database was made read-only.
    case fenced(DatabaseRole, at: Duration)
    /// The database's read-only fence was lifted.
    case fenceLifted(DatabaseRole)
    /// The database's binlog position was read.
    case positionRead(DatabaseRole, ReplicationCoordinate, at: Duration)
    /// The database executed the coordinate it was waiting for.
    case caughtUp(DatabaseRole, at: Duration)
    /// Replication on the database was stopped and reset.
    case replicationStopped(DatabaseRole)
    /// Replication on the database was configured and started.
    case replicationStarted(DatabaseRole)
    /// Replication on the database runs without errors.
    case replicationVerified(DatabaseRole)
    /// `read_only` was set on the database, made durable as far as the server allows.
    case readOnlyPersisted(DatabaseRole, ReadOnlyDurability)
    /// ProxySQL's variables are back to their previous values.
    case proxySettingsRestored
    /// `SAVE MYSQL SERVERS TO DISK` succeeded on every node.
    case proxyConfigurationSaved
    /// The action failed (the failure says whether it may have taken effect).
    case stepFailed(StepFailure, at: Duration)
    /// The operator asked the run to stop (SIGINT, SIGTERM).
    case gracefulShutdownRequested
}
