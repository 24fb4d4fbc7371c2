import HarkNode
import Synchronization

/// A node run in this process for a `hark send` without a daemon: its `run()` task, whether
/// it is ready (its control socket and peer port bound: it holds the home) and whether `run()`
/// has ended. Thread-safe.
final class NodeRun: Sendable {
    let node: Node
    let task: Task<Void, any Error>
    private let flags: Flags

    /// Set by the node's `onReady` and by the end of its task.
    final class Flags: Sendable {
        let ready = Atomic<Bool>(false)
        let done = Atomic<Bool>(false)
    }

    /// Starts `node.run()`. `flags` must be the ones whose `ready` the node's configuration
    /// (`onReady`) sets: `NodeRun.readyHook(_:)`.
    init(_ node: Node, flags: Flags) {
        self.node = node
        self.flags = flags
        self.task = Task {
            defer { flags.done.store(true, ordering: .releasing) }
            try await node.run()
        }
    }

    /// The `NodeConfiguration.onReady` that marks `flags` ready.
    static func readyHook(_ flags: Flags) -> @Sendable (Int) -> Void {
        { _ in flags.ready.store(true, ordering: .releasing) }
    }

    /// True once the node holds the home and serves it (until it stops).
    var isReady: Bool { flags.ready.load(ordering: .acquiring) }

    /// True once `run()` returned or threw.
    var isFinished: Bool { flags.done.load(ordering: .acquiring) }
}
