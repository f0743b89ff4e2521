/// The clock a replication controller measures its waits on and sleeps on: injected, so tests drive the waits with a
/// manual clock (`ManualClock` in CutoverTestSupport); the continuous clock by default.
///
/// Deadlines still arrive as `ContinuousClock.Instant` in the public protocols; a wait turns one into a budget once,
/// when it starts, and measures and sleeps on this clock from there.
public struct ReplicationClock: Sendable {
    /// A moment on a ``ReplicationClock``: an offset from the moment the clock was made.
    public struct Instant: Sendable, Hashable, Comparable {
        /// The offset from the clock's origin.
        public var offset: Duration

        /// The moment `duration` after this one.
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        /// The time from this moment to `other`.
        public func duration(to other: Instant) -> Duration { other.offset - offset }

        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    /// Measures and sleeps on `clock`.
    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { try await clock.sleep(for: $0) }
    }

    /// The continuous clock (the default of every controller).
    public static var continuous: ReplicationClock { ReplicationClock(ContinuousClock()) }

    /// Now.
    public var now: Instant { Instant(offset: elapsed()) }

    /// Sleeps for `duration` on this clock.
    ///
    /// - Throws: `CancellationError` when the task is cancelled.
    public func sleep(for duration: Duration) async throws { try await sleeper(duration) }

    /// The moment on this clock that is as far from now as `deadline` is on the continuous clock.
    func instant(for deadline: ContinuousClock.Instant) -> Instant {
        now.advanced(by: ContinuousClock.now.duration(to: deadline))
    }
}
