import HarkLog

/// Plumtree epidemic broadcast for one group (Leitão, Pereira, Rodrigues, "Epidemic Broadcast
/// Trees", SRDS 2007): docs/PROTOCOL.md §6.4.
///
/// Every peer on a channel that shares the group and speaks §6.4 is either **eager** (new events
/// are pushed to it whole) or **lazy** (it gets only their IDs, batched, in `IHave` frames). A
/// peer starts eager. An event pushed by a peer that already held it is a duplicate: that link
/// leaves the tree (`Prune`, both ends make it lazy). An ID announced for an event that does not
/// arrive within `graftTimeoutMs` is asked for with `Graft` from the first peer that announced
/// it, which puts that link back in the tree; the next announcer is asked `regraftTimeoutMs`
/// later if that fails too. The eager links thus converge on a spanning tree, and a lost push is
/// repaired within about one timeout.
///
/// Lazy announcements go to at most `lazyFanout` lazy peers per event (picked at random, as
/// gossipsub's `D_lazy`), plus the peers named in `alsoAnnounceTo` that do not get the push (the
/// event's author, so that delivery receipts stay direct, §4.8: this also acknowledges a push from
/// the author), so an event costs O(members) frames whatever the size of the group. Reconciliation (§6.3) stays the safety net for anything this misses.
///
/// A pure state machine: time (milliseconds on any monotonic clock) and randomness are passed
/// in, and it returns what to send; the caller owns the channels, the store and the events, and
/// calls `tick` at or after `nextDeadlineMs`. Value type; not thread-safe to mutate concurrently
/// (keep it in the node's actor).
public struct EpidemicBroadcast<Peer: Hashable & Comparable & Sendable>: Sendable {
    /// Timers and bounds. Defaults are for a LAN (round trips of a few ms, a loaded machine).
    public struct Configuration: Sendable, Equatable {
        /// Wait for an announced event's eager push before grafting (ms).
        public var graftTimeoutMs: Int64 = 1000
        /// Wait before asking the next announcer when a graft brought nothing (ms).
        public var regraftTimeoutMs: Int64 = 500
        /// Lazy peers announced to per event, besides `alsoAnnounceTo`.
        public var lazyFanout = 4
        /// How long an announcement may wait to be batched with later ones (ms).
        public var announceDelayMs: Int64 = 200
        /// IDs in one announcement or graft (the §6.4 frame limit).
        public var maxIDsPerFrame = 1024
        /// Announced events awaited at once; announcements beyond it are ignored
        /// (reconciliation fetches those).
        public var maxMissing = 8192
        /// Announcers remembered per awaited event.
        public var maxAnnouncersPerEvent = 8

        public init() {}
    }

    /// A frame to send.
    public enum Action: Sendable, Equatable {
        /// Send these events, whole (an eager push, or the answer to a graft).
        case push([EventID], to: Peer)
        /// Send an `IHave` with these IDs.
        case announce([EventID], to: Peer)
        /// Send a `Graft` for these IDs.
        case graft([EventID], to: Peer)
        /// Send a `Prune`.
        case prune(to: Peer)
    }

    private struct Awaited: Sendable {
        var announcers: [Peer]
        var deadlineMs: Int64
    }

    private struct Queue: Sendable {
        var sinceMs: Int64
        var ids: [EventID]
    }

    public let configuration: Configuration
    /// Peers new events are pushed to whole.
    public private(set) var eager: Set<Peer> = []
    /// Peers that get IDs only.
    public private(set) var lazy: Set<Peer> = []
    private var awaited: [EventID: Awaited] = [:]
    private var queued: [Peer: Queue] = [:]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Every peer, eager or lazy.
    public var peers: Set<Peer> { eager.union(lazy) }

    /// Events announced but neither received nor given up on.
    public var awaitedCount: Int { awaited.count }

    /// The earliest time `tick` has something to do, if any (ms).
    public var nextDeadlineMs: Int64? {
        let a = awaited.values.lazy.map(\.deadlineMs).min()
        let q = queued.values.lazy.map { $0.sinceMs + configuration.announceDelayMs }.min()
        switch (a, q) {
        case let (x?, y?): return Swift.min(x, y)
        case let (x?, nil): return x
        case let (nil, y?): return y
        case (nil, nil): return nil
        }
    }

    /// A channel to `peer` now shares the group: it starts eager (the tree forms by pruning).
    public mutating func addPeer(_ peer: Peer) {
        guard !lazy.contains(peer) else { return }
        eager.insert(peer)
    }

    /// The channel to `peer` closed, or stopped sharing the group.
    public mutating func removePeer(_ peer: Peer) {
        eager.remove(peer)
        lazy.remove(peer)
        queued.removeValue(forKey: peer)
        for (id, var a) in awaited {
            a.announcers.removeAll { $0 == peer }
            awaited[id] = a.announcers.isEmpty ? nil : a
        }
    }

    /// Events newly delivered here, in the order to send them: written here (`source` nil), or
    /// received from `source` (a push when `pushed`, else a sync or graft answer).
    /// - Parameters:
    ///   - alsoAnnounceTo: peers that get the IDs whatever the fanout, unless they get the push
    ///     (so `source` may be one).
    ///   - rng: picks the lazy peers.
    /// - Returns: pushes to the eager peers but `source`; announcements are queued (see `tick`).
    public mutating func delivered(_ ids: [EventID], from source: Peer?, pushed: Bool, alsoAnnounceTo: Set<Peer> = [],
                                   nowMs: Int64, rng: inout some RandomNumberGenerator) -> [Action] {
        guard !ids.isEmpty else { return [] }
        for id in ids { awaited.removeValue(forKey: id) }
        // A peer that pushes to us holds us eager: keep the link symmetric.
        if pushed, let source, lazy.remove(source) != nil { eager.insert(source) }
        var actions: [Action] = []
        for p in eager.sorted() where p != source { actions.append(.push(ids, to: p)) }
        let candidates = lazy.filter { $0 != source }.sorted()
        var targets = Set(candidates.count <= configuration.lazyFanout
            ? candidates : Array(candidates.shuffled(using: &rng).prefix(configuration.lazyFanout)))
        // The author always hears that this node holds the events (its delivery receipts, §4.8),
        // whatever the link: an eager author may get only a push it already holds, which it
        // treats as a duplicate.
        targets.formUnion(alsoAnnounceTo.filter { peers.contains($0) })
        for p in targets.sorted() {
            var q = queued[p] ?? Queue(sinceMs: nowMs, ids: [])
            q.ids.append(contentsOf: ids)
            queued[p] = q
        }
        return actions
    }

    /// A push from `peer` brought only events already held: that link leaves the tree.
    public mutating func duplicate(from peer: Peer) -> [Action] {
        guard eager.remove(peer) != nil else { return [] }
        lazy.insert(peer)
        return [.prune(to: peer)]
    }

    /// `peer` announced `ids`; `isHeld` says which this node holds (or waits on the parents of).
    /// Starts a graft timer for each one not held and not awaited yet.
    public mutating func announced(_ ids: [EventID], from peer: Peer, nowMs: Int64, isHeld: (EventID) -> Bool) {
        guard peers.contains(peer) else { return }
        for id in ids where !isHeld(id) {
            if var a = awaited[id] {
                if !a.announcers.contains(peer), a.announcers.count < configuration.maxAnnouncersPerEvent {
                    a.announcers.append(peer)
                    awaited[id] = a
                }
            } else if awaited.count < configuration.maxMissing {
                awaited[id] = Awaited(announcers: [peer], deadlineMs: nowMs + configuration.graftTimeoutMs)
            }
        }
    }

    /// `peer` asked for `ids` with a graft: its link joins the tree; push them (the caller sends
    /// those it holds).
    public mutating func grafted(_ ids: [EventID], from peer: Peer) -> [Action] {
        guard peers.contains(peer) else { return [] }
        lazy.remove(peer)
        eager.insert(peer)
        return ids.isEmpty ? [] : [.push(ids, to: peer)]
    }

    /// `peer` pruned its link to us: it gets IDs only from now on.
    public mutating func pruned(by peer: Peer) {
        guard eager.remove(peer) != nil else { return }
        lazy.insert(peer)
    }

    /// Due work at `nowMs`: grafts for announced events that did not arrive in time (the link
    /// to the announcer joins the tree), and announcements that waited `announceDelayMs`.
    public mutating func tick(nowMs: Int64) -> [Action] {
        var grafts: [Peer: [EventID]] = [:]
        for (id, var a) in awaited where a.deadlineMs <= nowMs {
            let peer = a.announcers.removeFirst()
            grafts[peer, default: []].append(id)
            a.deadlineMs = nowMs + configuration.regraftTimeoutMs
            awaited[id] = a.announcers.isEmpty ? nil : a
        }
        var actions: [Action] = []
        for (peer, ids) in grafts.sorted(by: { $0.key < $1.key }) {
            lazy.remove(peer)
            eager.insert(peer)
            for chunk in ids.sorted().chunked(configuration.maxIDsPerFrame) { actions.append(.graft(chunk, to: peer)) }
        }
        for (peer, q) in queued.sorted(by: { $0.key < $1.key }) where q.sinceMs + configuration.announceDelayMs <= nowMs {
            queued.removeValue(forKey: peer)
            for chunk in q.ids.chunked(configuration.maxIDsPerFrame) { actions.append(.announce(chunk, to: peer)) }
        }
        return actions
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    fileprivate func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
