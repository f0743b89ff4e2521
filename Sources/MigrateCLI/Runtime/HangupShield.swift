import Foundation

/// Ignores SIGHUP while a journaled run is in progress, and puts the previous disposition back afterwards.
///
/// An operator's SSH session that drops sends SIGHUP to the foreground process group; its default action would kill
/// `migrate-cli` between two steps, possibly inside the write window. Ignored, the run goes on to its end (or its
/// rollback); the journal records the outcome and `migrate-cli status` shows it. (A disposition of `SIG_IGN` is kept
/// by nothing else: Dispatch relays only SIGINT and SIGTERM here.)
final class HangupShield {
    private let previous: (@convention(c) (Int32) -> Void)?

    init() {
        previous = signal(SIGHUP, SIG_IGN)
    }

    /// Puts the disposition found at creation back.
    func restore() {
        signal(SIGHUP, previous)
    }
}
