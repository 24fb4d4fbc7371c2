/// Where a node is in its run: the port it listens on, whether it is stopping, the home's lock
/// and the way to end `run()`. Held by `Node`; isolated to it.
struct NodeLifecycle {
    /// The TCP port peers dial, 0 until bound.
    var listenPort: Int = 0
    /// Set once shutdown begins: nothing is dialled or re-dialled after it.
    var stopped = false
    /// The home's lock, held from `bindControlSocket` until `run()` ends (HomeLock.swift).
    var homeLock: HomeLock?
    /// Ends `run()` when yielded to (`requestStop`, a `handover` request).
    var stopRequest: AsyncStream<Void>.Continuation?
}
