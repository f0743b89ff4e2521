/// Which of the two databases an endpoint is: the on-premises (or RDS) MySQL `source`, or the Aurora `target`.
public enum DatabaseRole: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The live MySQL primary (on-premises or RDS) the application writes to before the migration.
    case source
    /// Aurora, the migration's destination.
    case target

    /// The other role.
    public var other: DatabaseRole { self == .source ? .target : .source }

    public var description: String { rawValue }
}

/// What a run does.
public enum CutoverOperation: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Reads move from the source reader to the target reader.
    case readerCutover = "reader-cutover"
    /// Reads move back from the target reader to the source reader.
    case readerFailback = "reader-failback"
    /// Writes move from the source writer to the target writer (the only step with a write window).
    case writerCutover = "writer-cutover"
    /// Writes move back from the target writer to the source writer.
    case writerFailback = "writer-failback"

    /// Whether the operation moves the writer.
    public var movesWriter: Bool { self == .writerCutover || self == .writerFailback }

    /// The role that serves traffic before the operation.
    public var from: DatabaseRole { self == .readerCutover || self == .writerCutover ? .source : .target }

    /// The role that serves traffic after the operation.
    public var to: DatabaseRole { from.other }

    public var description: String { rawValue }
}

/// What to do when in-flight work on the old writer has not drained by the deadline.
public enum DrainDeadlinePolicy: String, Sendable, Hashable, Codable {
    /// Put the old writer back ONLINE: nothing changes for the application.
    case rollBack = "roll-back"
    /// Go on: hard-offline the old writer, cutting the sessions that still hold it (their clients get 2013).
    case force
}

/// Whether ProxySQL's auto-increment pin is relaxed for the window (see `Documentation/adr`).
public enum AutoIncrementPinPolicy: String, Sendable, Hashable, Codable {
    /// Leave `mysql-auto_increment_delay_multiplex` as it is.
    case keep
    /// Set it to 0 for the window so sessions that inserted into AUTO_INCREMENT tables can drain per transaction.
    /// Trade-off: an application that reads `LAST_INSERT_ID()` in a separate statement may read it on another
    /// backend.
    case relax
    /// Relax it only when ProxySQL's `stats_mysql_query_digest` shows no statement calling `LAST_INSERT_ID()` (the
    /// only reads the relaxation can break: drivers that take the id from the INSERT's own answer are not
    /// affected); keep it otherwise, or when the digests cannot be read or are empty. The default (issue #18).
    case auto
}

/// The knobs of a run. Every wait has a deadline here.
public struct CutoverPolicy: Sendable, Hashable, Codable {
    /// Maximum replication lag (seconds behind) accepted by the guards: a refusal threshold, not a promise about
    /// the window. What bounds the catch-up inside the window is the replication settle before it
    /// (``replicationSettleThreshold``).
    public var lagBudget: Duration
    /// How long in-flight transactions may take to drain after OFFLINE_SOFT.
    public var drainDeadline: Duration
    /// How often drain is polled.
    public var drainPollInterval: Duration
    /// What to do when the drain deadline passes.
    public var drainDeadlinePolicy: DrainDeadlinePolicy
    /// How long the target may take to execute the final position.
    public var catchUpDeadline: Duration
    /// Whether to fence the old writer's database (`read_only`) after OFFLINE_HARD, against clients that bypass
    /// ProxySQL. Not possible on Aurora (no `SET GLOBAL`): ignored when the old writer is the target.
    public var fenceOldWriter: Bool
    /// Bound on setting the fence (it can wait behind running commits).
    public var fenceTimeout: Duration
    /// Turn ProxySQL's automatic query retry off for the window (so an interrupted write is never applied twice).
    public var disableQueryRetries: Bool
    /// Whether the auto-increment pin is relaxed for the window.
    public var autoIncrementPin: AutoIncrementPinPolicy
    /// What the drain does with sessions held on the old writer only by an idle pin (see ``PinnedSessionPolicy``).
    ///
    /// A journal written before this field existed decodes it as ``PinnedSessionPolicy/wait``: those runs waited.
    public var pinnedSessions: PinnedSessionPolicy
    /// With ``AutoIncrementPinPolicy/relax``: how long, at most, to let the pins that sessions took before the
    /// relaxation run out, after relaxing it and before the old writer goes `OFFLINE_SOFT` (outside the write
    /// window, while traffic still flows). Relaxing only stops *new* pins: a session that inserted just before keeps
    /// its backend connection for its next `mysql-auto_increment_delay_multiplex` statements, and the drain would
    /// otherwise wait for those inside the window. The settle ends as soon as every session that held a connection to
    /// the old writer when the pin was relaxed has let it go (`stats_mysql_processlist`), and at this bound
    /// otherwise. Zero skips it. Ignored with ``AutoIncrementPinPolicy/keep``.
    ///
    /// A journal written before this field existed decodes it as zero: those runs had no settle.
    public var autoIncrementPinSettle: Duration
    /// Before the window opens, while writes still flow: the new writer has *settled* when one wait on it for the
    /// old writer's current position (read just before) returns within this long. The catch-up inside the window
    /// then takes about that long too, instead of the whole replication lag. See ``replicationSettleDeadline``.
    ///
    /// A journal written before this field existed decodes it as zero: those runs had no replication settle.
    public var replicationSettleThreshold: Duration
    /// Bound on the replication settle (step `settleReplication`, outside the write window): when no wait returned
    /// within ``replicationSettleThreshold`` by then, the run rolls back before the window opens (nothing was
    /// switched; the ProxySQL variables prepared are restored) and reports the measured lag. Zero skips the settle
    /// (the catch-up inside the window then waits for the whole lag, up to ``catchUpDeadline``).
    ///
    /// A journal written before this field existed decodes it as zero: those runs had no replication settle.
    public var replicationSettleDeadline: Duration
    /// After the new writer's `ONLINE` took effect (past the point of no return, outside the window): how long to watch
    /// ProxySQL's runtime for the new writer being `SHUNNED` (clients' connects to it failed), re-loading
    /// `mysql_servers` where it is once a fresh login to it succeeds (#14 item 8, ``ShunnedWriterRecovery``). Zero
    /// skips the watch.
    ///
    /// A journal written before this field existed decodes it as zero: those runs had no watch.
    public var shunnedWriterWatch: Duration
    /// The bound on those re-LOADs per switch (0: watch and report, never re-load).
    public var shunnedWriterReloads: Int
    /// Write transactions on the old writer running longer than this block the guards. The server reports ages in
    /// whole seconds, so keep it well above a second.
    public var longTransactionLimit: Duration
    /// Bound on one admin statement (status change, LOAD, SAVE) per ProxySQL node.
    public var adminStatementTimeout: Duration
    /// Bound on off-critical-path replication steps (Aurora's procedures sleep 1–3 s each).
    public var replicationStepTimeout: Duration

    /// Creates a policy; the defaults are those of `migrate-cli`'s configuration.
    public init(
        lagBudget: Duration = .seconds(5),
        drainDeadline: Duration = .milliseconds(500),
        drainPollInterval: Duration = .milliseconds(2),
        drainDeadlinePolicy: DrainDeadlinePolicy = .rollBack,
        catchUpDeadline: Duration = .seconds(2),
        fenceOldWriter: Bool = true,
        fenceTimeout: Duration = .milliseconds(500),
        disableQueryRetries: Bool = true,
        autoIncrementPin: AutoIncrementPinPolicy = .auto,
        autoIncrementPinSettle: Duration = .milliseconds(200),
        pinnedSessions: PinnedSessionPolicy = .cut,
        replicationSettleThreshold: Duration = .milliseconds(10),
        replicationSettleDeadline: Duration = .seconds(10),
        shunnedWriterWatch: Duration = .milliseconds(500),
        shunnedWriterReloads: Int = ShunnedWriterRecovery.defaultMaximumReloads,
        longTransactionLimit: Duration = .seconds(3),
        adminStatementTimeout: Duration = .seconds(2),
        replicationStepTimeout: Duration = .seconds(30)
    ) {
        self.lagBudget = lagBudget
        self.drainDeadline = drainDeadline
        self.drainPollInterval = drainPollInterval
        self.drainDeadlinePolicy = drainDeadlinePolicy
        self.catchUpDeadline = catchUpDeadline
        self.fenceOldWriter = fenceOldWriter
        self.fenceTimeout = fenceTimeout
        self.disableQueryRetries = disableQueryRetries
        self.autoIncrementPin = autoIncrementPin
        self.autoIncrementPinSettle = autoIncrementPinSettle
        self.pinnedSessions = pinnedSessions
        self.replicationSettleThreshold = replicationSettleThreshold
        self.replicationSettleDeadline = replicationSettleDeadline
        self.shunnedWriterWatch = shunnedWriterWatch
        self.shunnedWriterReloads = shunnedWriterReloads
        self.longTransactionLimit = longTransactionLimit
        self.adminStatementTimeout = adminStatementTimeout
        self.replicationStepTimeout = replicationStepTimeout
    }

    /// Whether a run relaxes the auto-increment pin and then lets the pins taken before run out (the
    /// `settlePins` step).
    var settlesAutoIncrementPins: Bool { autoIncrementPin != .keep && autoIncrementPinSettle > .zero }

    /// Whether a writer switch settles replication before the window opens (the `settleReplication` step).
    var settlesReplication: Bool { replicationSettleDeadline > .zero && replicationSettleThreshold > .zero }

    /// Whether a writer switch watches the new writer after its `ONLINE` (the `watchNewWriter` step).
    var watchesNewWriter: Bool { shunnedWriterWatch > .zero }

    private enum CodingKeys: String, CodingKey {
        case lagBudget, drainDeadline, drainPollInterval, drainDeadlinePolicy, catchUpDeadline, fenceOldWriter,
            fenceTimeout, disableQueryRetries, autoIncrementPin, autoIncrementPinSettle, pinnedSessions,
            longTransactionLimit, adminStatementTimeout, replicationStepTimeout, replicationSettleThreshold,
            replicationSettleDeadline, shunnedWriterWatch, shunnedWriterReloads
    }

    /// Decodes a policy. A field added after a journal was written takes the value that reproduces what that run
    /// did: `autoIncrementPinSettle` absent means zero (no settle step), and so do `replicationSettleThreshold` and
    /// `replicationSettleDeadline` (no replication settle), and `shunnedWriterWatch` (no watch after the ONLINE;
    /// `shunnedWriterReloads` absent: the default bound); `pinnedSessions` absent means
    /// ``PinnedSessionPolicy/wait``; so an older journal still replays.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lagBudget = try container.decode(Duration.self, forKey: .lagBudget)
        drainDeadline = try container.decode(Duration.self, forKey: .drainDeadline)
        drainPollInterval = try container.decode(Duration.self, forKey: .drainPollInterval)
        drainDeadlinePolicy = try container.decode(DrainDeadlinePolicy.self, forKey: .drainDeadlinePolicy)
        catchUpDeadline = try container.decode(Duration.self, forKey: .catchUpDeadline)
        fenceOldWriter = try container.decode(Bool.self, forKey: .fenceOldWriter)
        fenceTimeout = try container.decode(Duration.self, forKey: .fenceTimeout)
        disableQueryRetries = try container.decode(Bool.self, forKey: .disableQueryRetries)
        autoIncrementPin = try container.decode(AutoIncrementPinPolicy.self, forKey: .autoIncrementPin)
        autoIncrementPinSettle = try container.decodeIfPresent(Duration.self, forKey: .autoIncrementPinSettle) ?? .zero
        pinnedSessions = try container.decodeIfPresent(PinnedSessionPolicy.self, forKey: .pinnedSessions) ?? .wait
        replicationSettleThreshold =
            try container.decodeIfPresent(Duration.self, forKey: .replicationSettleThreshold) ?? .zero
        replicationSettleDeadline =
            try container.decodeIfPresent(Duration.self, forKey: .replicationSettleDeadline) ?? .zero
        shunnedWriterWatch = try container.decodeIfPresent(Duration.self, forKey: .shunnedWriterWatch) ?? .zero
        shunnedWriterReloads =
            try container.decodeIfPresent(Int.self, forKey: .shunnedWriterReloads)
            ?? ShunnedWriterRecovery.defaultMaximumReloads
        longTransactionLimit = try container.decode(Duration.self, forKey: .longTransactionLimit)
        adminStatementTimeout = try container.decode(Duration.self, forKey: .adminStatementTimeout)
        replicationStepTimeout = try container.decode(Duration.self, forKey: .replicationStepTimeout)
    }
}
