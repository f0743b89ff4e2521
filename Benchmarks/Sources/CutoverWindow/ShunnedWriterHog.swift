import Cutover
import CutoverRehearsal
import CutoverTestSupport
import Logging
import MariaDB
import ProxySQLAdmin
import Synchronization

/// Issue #14 item 8: a new writer that refuses connections right after its `ONLINE` (Aurora at `max_connections`),
/// made real by a ``ConnectionHog`` on the switch's new writer. Wraps the live executor: right before the old writer's
/// `OFFLINE_SOFT` (after the guards, whose replication-login probe the hog would refuse) it engages the hog, and a
/// task polls the emulator's `runtime_mysql_servers` every 5 ms until it shows the new writer `SHUNNED`, then releases
/// the hog ``releaseAfterShun`` later. What the hog changes on the server (`max_connections`, its connections) is
/// undone by ``finish()``, which the benchmark calls on every way out of a run; it is also undone before reverse
/// replication starts (the old writer's replica thread must reach the new writer), waiting for a pending release.
///
/// Every wait is bounded: engaging (the hog's own 60 s deadline), the poll (``shunDeadline`` from the engagement), the
/// release (the hog's statement timeout). Nothing here logs a password.
final class ShunnedWriterHog: CutoverExecutor {
    /// What happened to the hog in one run.
    struct Record: Sendable {
        /// When the hog was engaged (nil: never; see `error`).
        var engaged: ContinuousClock.Instant?
        /// When the poll first read the new writer `SHUNNED` in the emulator's runtime (nil: not within the
        /// deadline).
        var shunSeen: ContinuousClock.Instant?
        /// When the hog was released (max_connections back, its connections closed).
        var released: ContinuousClock.Instant?
        /// Why the hog could not be engaged or released, or the poll failed (no credentials in it).
        var error: String?
    }

    private struct State: Sendable {
        var hog: ConnectionHog?
        var poller: Task<Void, Never>?
        var record = Record()
        var engageTried = false
    }

    let base: any CutoverExecutor
    let operation: CutoverOperation
    /// The new writer's root account (the hog needs `SUPER` / `CONNECTION ADMIN`).
    let server: MariaDBConnection.Configuration
    /// The emulator's admin interface (the poll of `runtime_mysql_servers`).
    let admin: MariaDBConnection.Configuration
    /// The new writer's writer row.
    let writerKey: BackendServer.Key
    let releaseAfterShun: Duration
    let shunDeadline: Duration
    private let state = Mutex(State())
    private let quiet = Logger(label: "cutover-window.hog", factory: { _ in SwiftLogNoOpLogHandler() })

    init(
        base: any CutoverExecutor,
        operation: CutoverOperation,
        server: MariaDBConnection.Configuration,
        admin: MariaDBConnection.Configuration,
        writerKey: BackendServer.Key,
        releaseAfterShun: Duration = .milliseconds(600),
        shunDeadline: Duration = .seconds(15)
    ) {
        self.base = base
        self.operation = operation
        self.server = server
        self.admin = admin
        self.writerKey = writerKey
        self.releaseAfterShun = releaseAfterShun
        self.shunDeadline = shunDeadline
    }

    var record: Record { state.withLock { $0.record } }

    func perform(_ action: CutoverAction, context: CutoverExecutionContext) async -> CutoverStepResult {
        switch action {
        case .setStatus(let routed, .offlineSoft) where routed.role == operation.from && routed.kind == .writer:
            await engage()
        case .startReplication:
            // Reverse replication connects to the new writer: never while the hog refuses it.
            await finish()
        default:
            break
        }
        return await base.perform(action, context: context)
    }

    /// Engages the hog once, and starts the poll that releases it.
    private func engage() async {
        let first = state.withLock { state -> Bool in
            defer { state.engageTried = true }
            return !state.engageTried
        }
        guard first else { return }
        let hog: ConnectionHog
        do {
            hog = try await ConnectionHog.engage(ConnectionHog.Configuration(server: server), logger: quiet)
        } catch {
            state.withLock { $0.record.error = "hog not engaged: \(error)" }
            return
        }
        let engaged = ContinuousClock.now
        state.withLock {
            $0.hog = hog
            $0.record.engaged = engaged
        }
        let poller = Task { [admin, writerKey, releaseAfterShun, shunDeadline] in
            let deadline = engaged + shunDeadline
            var seen: ContinuousClock.Instant?
            do {
                seen = try await firstShun(of: writerKey, admin: admin, deadline: deadline)
            } catch {
                if !Task.isCancelled { self.state.withLock { $0.record.error = "poll failed: \(error)" } }
            }
            if let seen {
                self.state.withLock { $0.record.shunSeen = seen }
                // Not cancellable: once a shun is seen, the release comes `releaseAfterShun` after it.
                let release = seen + releaseAfterShun
                while ContinuousClock.now < release { try? await Task.sleep(until: release, clock: .continuous) }
            }
            await self.releaseHog()
        }
        state.withLock { $0.poller = poller }
    }

    /// Releases the hog now (idempotent): a pending release after a shun already seen is awaited (at most
    /// ``releaseAfterShun``); a poll still waiting for the shun is cancelled.
    func finish() async {
        let (poller, shunSeen) = state.withLock { ($0.poller, $0.record.shunSeen) }
        if let poller {
            if shunSeen == nil { poller.cancel() }
            await poller.value
        }
        await releaseHog()
    }

    private func releaseHog() async {
        guard let hog = state.withLock({ state -> ConnectionHog? in
            defer { state.hog = nil }
            return state.hog
        }) else { return }
        do {
            try await hog.release()
        } catch {
            // Once more (the hog retries through a fresh connection); the next run cannot be measured while it holds.
            do {
                try await hog.release()
            } catch {
                state.withLock { $0.record.error = "hog not released: \(error)" }
                return
            }
        }
        state.withLock { $0.record.released = ContinuousClock.now }
    }
}
