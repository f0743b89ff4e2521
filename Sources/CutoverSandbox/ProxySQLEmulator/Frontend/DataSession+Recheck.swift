extension DataSession {
    /// When a statement that began waiting for a usable server at `started` looks again, as ProxySQL does: its
    /// re-checks fall every `every` (`mysql-connect_retries_delay`) after `started`, so a runtime change at `now` is
    /// seen at the first re-check at or after it. Nil when `every` is zero (it sees the change at once).
    static func nextRecheck(started: ContinuousClock.Instant, now: ContinuousClock.Instant, every: Duration)
        -> ContinuousClock.Instant?
    {
        guard every > .zero else { return nil }
        let periods = max(1, Int(((now - started) / every).rounded(.up)))
        return started + every * periods
    }
}
