import HarkControl
import HarkLog

/// The streams control clients hold open: `log --follow` followers and `watch` watchers
/// (NodeWatch.swift). Held by `Node`; isolated to it; finished on shutdown.
struct Subscribers {
    var followers: [Int: (group: EventID, continuation: AsyncStream<MessageView>.Continuation)] = [:]
    var nextFollowerID = 1
    var watchers: [Int: Watcher] = [:]
}
