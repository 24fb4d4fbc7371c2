import HarkStore
import Logging

/// What a node is started with and never changes: its configuration, home, identity, store,
/// logger and clock. A value held by `Node`; `Store` is a class whose connections carry their
/// own locks and a `NodeClock` is thread-safe, so the environment may be read from any task.
struct NodeEnvironment: Sendable {
    let configuration: NodeConfiguration
    let home: NodeHome
    let identity: NodeIdentity
    let store: Store
    let logger: Logger
    /// Wall and monotonic time, and the sleeps of the node's timers (`NodeConfiguration.clock`).
    let clock: any NodeClock
}
