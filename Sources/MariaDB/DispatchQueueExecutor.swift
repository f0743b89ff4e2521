import Dispatch

/// A serial executor backed by a private dispatch queue, so that an actor's blocking C calls run on a thread of
/// their own and never on Swift's cooperative pool (GRDB's `DispatchQueueActor` pattern).
final class DispatchQueueExecutor: SerialExecutor, @unchecked Sendable {
    let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unownedJob = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            unownedJob.runSynchronously(on: executor)
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
