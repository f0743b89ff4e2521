import Cutover
import CutoverSandbox
import ReplicationControl

/// One configuration of the suite: which procedure switches the writer, under which load, with how much lag.
struct Scenario: Sendable, Hashable {
    /// Who switches the writer.
    enum Procedure: String, Sendable, Hashable {
        /// This library's `CutoverRunner` with `LiveCutoverExecutor`.
        case ours
        /// The published fixed-sleep procedure, reproduced with our library calls.
        case baseline
    }

    /// Replication lag at the switch, made by a burst of writes on the current writer just before the run.
    enum Lag: String, Sendable, Hashable {
        case zero = "0"
        case small
        case larger

        /// Rows written by the burst (in statements of ``Scenario/burstChunk`` rows).
        var burstRows: Int {
            switch self {
            case .zero: 0
            case .small: 20_000
            case .larger: 100_000
            }
        }
    }

    static let burstChunk = 10_000

    /// Short identifier (`--only` takes these).
    var id: String
    /// Table section.
    var group: String
    var procedure: Procedure
    var workload: WriteLoadWorkload
    var transactionMode: WriteLoad.TransactionMode
    /// Explicit transactions: time between the INSERT and the COMMIT (the in-flight transaction length).
    var hold: Duration
    var lag: Lag
    var strategy: CatchUpWaiter.Options.Strategy
    /// Whether the Aurora stand-in's procedures sleep like Aurora's (1 s before, 2 s after start/stop).
    var auroraDelays: Bool
    /// Diagnostic: relax ProxySQL's auto-increment pin (`mysql-auto_increment_delay_multiplex` = 0) before the load
    /// starts, so no session carries a pin from before the cut-over's own relaxation.
    var relaxPinBeforeLoad: Bool
    /// Write-load clients and think time for this scenario (nil: the command's `--clients` and
    /// `--think-time-milliseconds`).
    var clients: Int?
    var thinkTime: Duration?
    /// Whether the benchmark itself brings the new writer level before each run (its own loop of position waits
    /// until one takes under 5 ms). Off for our procedure: the tool's replication settle does it (issue #19), and
    /// its time is reported outside the window. On for the baseline, which has no settle of its own.
    var preSettle: Bool
    /// Whether our procedure runs its replication settle (`policy.replication-settle-*`); off only to measure the
    /// window without it.
    var toolSettle: Bool
    /// The shapes of the load's clients (issue #18): `[.plain]` for the scenarios before it.
    var shapes: [WriteLoad.ClientShape]
    /// sysbench run beside the load (one client of ours then), or nil.
    var sysbench: SysbenchLoad.Workload?
    /// Policy overrides (nil: the scenario's default: the tool's defaults, except `auto-increment` relaxing the pin).
    var pinnedSessions: PinnedSessionPolicy?
    var autoIncrementPin: AutoIncrementPinPolicy?
    /// ProxySQL emulator nodes in front of the servers (a fleet, issue #16): the load spreads over their writer
    /// ports and every switch is applied to and verified on each. Scenarios with the same count share a rehearsal.
    var proxyNodes = 1
    /// How late the last node of the fleet answers every admin statement (zero: on time).
    var lateNodeDelay: Duration = .zero
    /// Issue #14 item 8: the switch's new writer refuses every new connection (``ShunnedWriterHog``) from right
    /// before the old writer's `OFFLINE_SOFT` until 600 ms after the emulator first shows it `SHUNNED`, on every
    /// switch (cut-overs and failbacks alike); ProxySQL's default shun variables.
    var hogNewWriter = false
    /// `policy.shunned-writer-reloads` (nil: the tool's default).
    var shunnedWriterReloads: Int?

    init(
        id: String,
        group: String,
        procedure: Procedure = .ours,
        workload: WriteLoadWorkload = .clientKeys,
        transactionMode: WriteLoad.TransactionMode = .autocommit,
        hold: Duration = .zero,
        lag: Lag = .zero,
        strategy: CatchUpWaiter.Options.Strategy = .waitFunction,
        auroraDelays: Bool = false,
        relaxPinBeforeLoad: Bool = false,
        clients: Int? = nil,
        thinkTime: Duration? = nil,
        preSettle: Bool? = nil,
        toolSettle: Bool = true,
        shapes: [WriteLoad.ClientShape] = [.plain],
        sysbench: SysbenchLoad.Workload? = nil,
        pinnedSessions: PinnedSessionPolicy? = nil,
        autoIncrementPin: AutoIncrementPinPolicy? = nil
    ) {
        self.shapes = shapes
        self.sysbench = sysbench
        self.pinnedSessions = pinnedSessions
        self.autoIncrementPin = autoIncrementPin
        self.clients = clients
        self.thinkTime = thinkTime
        self.preSettle = preSettle ?? (procedure == .baseline)
        self.toolSettle = toolSettle
        self.id = id
        self.group = group
        self.procedure = procedure
        self.workload = workload
        self.transactionMode = transactionMode
        self.hold = hold
        self.lag = lag
        self.strategy = strategy
        self.auroraDelays = auroraDelays
        self.relaxPinBeforeLoad = relaxPinBeforeLoad
    }

    /// A human description for the tables.
    var label: String {
        var parts: [String] = [procedure == .ours ? "ours" : "fixed-sleep baseline"]
        parts.append(workload == .clientKeys ? "client keys" : "auto-increment")
        if shapes != [.plain] { parts.append("shapes " + shapes.map(\.rawValue).joined(separator: "+")) }
        if let sysbench { parts.append("\(sysbench) beside 1 client") }
        if let pinnedSessions { parts.append("pinned-sessions \(pinnedSessions.rawValue)") }
        if let autoIncrementPin { parts.append("auto-increment-pin \(autoIncrementPin.rawValue)") }
        if relaxPinBeforeLoad { parts.append("pin relaxed before the load") }
        if transactionMode == .explicit {
            parts.append("tx hold \(Int(hold.inMilliseconds)) ms")
        }
        if lag != .zero { parts.append("lag \(lag.rawValue) (\(lag.burstRows / 1000)k-row burst)") }
        if let clients { parts.append("\(clients) clients, think \(Int((thinkTime ?? .zero).inMilliseconds)) ms") }
        if procedure == .ours {
            parts.append(toolSettle ? "settle" : "no settle")
            if preSettle { parts.append("pre-settled by the benchmark") }
        }
        if procedure == .ours {
            parts.append(strategy == .polling ? "polling" : "wait function")
        }
        parts.append(auroraDelays ? "Aurora delays ON" : "delays off")
        if proxyNodes > 1 { parts.append("\(proxyNodes) ProxySQL nodes") }
        if lateNodeDelay > .zero { parts.append("one node \(Int(lateNodeDelay.inMilliseconds)) ms late") }
        if hogNewWriter {
            parts.append("new writer refuses connections from OFFLINE_SOFT to 600 ms after SHUNNED, every switch")
            let reloads = shunnedWriterReloads ?? CutoverPolicy().shunnedWriterReloads
            parts.append(reloads == 0 ? "watch without re-LOAD" : "re-LOAD up to \(reloads)×")
        }
        return parts.joined(separator: ", ")
    }

    /// The whole suite, in run order (all scenarios without Aurora delays share one rehearsal, the others another).
    static let all: [Scenario] = [
        Scenario(id: "headline", group: "headline"),
        Scenario(id: "auto-increment", group: "workload", workload: .autoIncrement),
        Scenario(id: "auto-increment-prerelaxed", group: "workload", workload: .autoIncrement, relaxPinBeforeLoad: true),
        Scenario(id: "hold-0", group: "drain", transactionMode: .explicit, hold: .zero),
        Scenario(id: "hold-50", group: "drain", transactionMode: .explicit, hold: .milliseconds(50)),
        Scenario(id: "hold-200", group: "drain", transactionMode: .explicit, hold: .milliseconds(200)),
        Scenario(id: "lag-small", group: "catch-up", lag: .small),
        Scenario(id: "lag-larger", group: "catch-up", lag: .larger),
        Scenario(id: "poll-lag-0", group: "catch-up", strategy: .polling),
        Scenario(id: "poll-lag-small", group: "catch-up", lag: .small, strategy: .polling),
        Scenario(id: "poll-lag-larger", group: "catch-up", lag: .larger, strategy: .polling),
        // Issue #19: a write rate at which the single-threaded applier is a few ms to a few hundred ms behind, and the
        // highest rate the sandbox sustains; the zero-lag reference is the same rate with the benchmark's own
        // pre-settle and no settle in the tool (what the benchmark measured before).
        Scenario(id: "busy", group: "busy system", clients: 8, thinkTime: .milliseconds(2)),
        Scenario(
            id: "busy-zero-lag", group: "busy system", clients: 8, thinkTime: .milliseconds(2), preSettle: true,
            toolSettle: false),
        Scenario(id: "busy-no-settle", group: "busy system", clients: 8, thinkTime: .milliseconds(2), toolSettle: false),
        Scenario(id: "busiest", group: "busy system", clients: 16, thinkTime: .zero),
        Scenario(
            id: "busiest-zero-lag", group: "busy system", clients: 16, thinkTime: .zero, preSettle: true,
            toolSettle: false),
        // Issue #18: the workloads of ordinary applications, with the tool's default policy (pinned-sessions cut,
        // auto-increment-pin auto), and the mix with the policy before #18 (wait, keep) for comparison. The mix runs
        // as `migrate-cli rehearse` runs it: 8 clients (two of each shape) without think time.
        Scenario(id: "wl-client-keys", group: "workloads"),
        Scenario(id: "wl-last-insert-id", group: "workloads", workload: .autoIncrement, shapes: [.lastInsertID]),
        Scenario(id: "wl-pinned-at-connect", group: "workloads", workload: .autoIncrement, shapes: [.pinnedAtConnect]),
        Scenario(id: "wl-idle-pool", group: "workloads", workload: .autoIncrement, shapes: [.idlePinned]),
        Scenario(
            id: "wl-mix", group: "workloads", workload: .autoIncrement, clients: 8, thinkTime: .zero,
            shapes: WriteLoad.mixedShapes),
        Scenario(id: "wl-sysbench-insert", group: "workloads", clients: 1, sysbench: .insertGenerated),
        Scenario(id: "wl-sysbench-insert-explicit", group: "workloads", clients: 1, sysbench: .insertExplicit),
        Scenario(id: "wl-sysbench-write-only", group: "workloads", clients: 1, sysbench: .writeOnly),
        // Last of the workloads: the guards refuse its first cut-over (sessions pinned for life would hold the drain
        // past its deadline), and a scenario that stops makes the benchmark skip the ones after it in the rehearsal.
        Scenario(
            id: "wl-mix-wait-keep", group: "workloads", workload: .autoIncrement, clients: 8, thinkTime: .zero,
            shapes: WriteLoad.mixedShapes,
            pinnedSessions: .wait, autoIncrementPin: .keep),
        Scenario(id: "baseline", group: "baseline", procedure: .baseline),
        Scenario(id: "baseline-auto-increment", group: "baseline", procedure: .baseline, workload: .autoIncrement),
        // Issue #16: the headline workload in front of 1, 4, 16 and 64 ProxySQL nodes, and 16 with one node late.
        .fleet(1), .fleet(4), .fleet(16), .fleet(64), .fleet(16, lateNode: .milliseconds(200)),
        // Issue #14 item 8: the new writer refuses connections at its ONLINE and is shunned; the watch re-LOADs it
        // once it accepts again (the tool's default), against the watch without re-LOAD (ProxySQL's own re-try). Last
        // of the single-node rehearsal: a stop here skips nothing else.
        .shunnedWriter(reloads: nil), .shunnedWriter(reloads: 0),
        Scenario(id: "delays", group: "aurora delays", auroraDelays: true),
        Scenario(id: "baseline-delays", group: "aurora delays", procedure: .baseline, auroraDelays: true),
    ]
}

extension Scenario {
    /// The headline workload in front of `nodes` ProxySQL nodes, optionally with the last one answering late.
    static func fleet(_ nodes: Int, lateNode delay: Duration = .zero) -> Scenario {
        var scenario = Scenario(
            id: delay > .zero ? "fleet-\(nodes)-late-node" : "fleet-\(nodes)",
            group: "fleet"
        )
        scenario.proxyNodes = nodes
        scenario.lateNodeDelay = delay
        return scenario
    }
}

extension Scenario {
    /// The headline workload with the new writer hogged on every switch (issue #14 item 8).
    static func shunnedWriter(reloads: Int?) -> Scenario {
        var scenario = Scenario(
            id: reloads == 0 ? "shunned-writer-no-reload" : "shunned-writer",
            group: "shunned writer"
        )
        scenario.hogNewWriter = true
        scenario.shunnedWriterReloads = reloads
        return scenario
    }
}

extension Duration {
    /// Whole microseconds, never negative.
    var clampedMicroseconds: UInt64 {
        let (seconds, attoseconds) = components
        let value = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return value > 0 ? UInt64(value) : 0
    }
}
