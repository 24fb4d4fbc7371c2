import HarkLog

/// Plumtree epidemic broadcast for one group (Leitão, Pereira, Rodrigues, "Epidemic Broadcast
/// Trees", SRDS 2007): docs/PROTOCOL.md §6.4.
///
/// Every peer on a channel that shares the group and speaks §6.4 is either **eager** (events it
/// relays are pushed to it whole) or **lazy** (it gets only their IDs, batched, in `IHave`
/// frames). A peer starts lazy. A node's own new events are pushed to every peer, eager or lazy:
/// each event's tree is rooted at its author, and on a LAN where every member has a channel to
/// every other that tree is a star — one hop, one copy per member, nothing to relay. (One shared
/// tree for all authors would put most members several relays away from most authors; on a
/// loaded machine each relay adds queueing delay, announcements then overtake pushes, and the
/// grafts they cause keep re-adding links the tree prunes again.) An event pushed by a peer that
/// already held it is a duplicate: that link leaves the tree (`Prune`, both ends make it lazy),
/// so relays die out wherever authors reach members directly and remain where they do not. An ID announced for an event that does not
/// arrive within `graftTimeoutMs` is asked for with `Graft` from the first peer that announced
/// it, which puts that link back in the tree; the next announcer is asked one timeout later if
/// that fails too. The eager links thus converge on a spanning tree, and a lost push is repaired
/// within about one timeout. With `eagerPerAuthor`, each author's events have their own tree: a
/// graft makes the answering end relay only the grafted events' authors on that link, and
/// the grafting end, downstream in those trees, relays nothing back.
///
/// The timeout adapts to how late pushes come: a push that arrives after its announcement is a
/// sample of that lag (ms), and the timeout is the larger of `graftTimeoutMs` and twice the
/// lag's moving average (at most `maxGraftTimeoutMs`). On a loaded machine pushes come seconds
/// late; a fixed timer would then graft links the tree prunes again, each costing a duplicate
/// push.
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
        /// Wait for an announced event's eager push before grafting, at least (ms).
        public var graftTimeoutMs: Int64 = 1000
        /// The adaptive timeout's ceiling (ms); reconciliation (§6.3) covers what takes longer.
        public var maxGraftTimeoutMs: Int64 = 8000
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
        /// Whether a new link starts eager, as in the paper (the tree then forms by pruning
        /// duplicates). Off: it starts lazy, and only grafts make links eager.
        public var newLinksEager = false
        /// Whether a graft makes the answering side relay only the grafted events' authors on
        /// that link (each author's events have their own tree, rooted at the author), and the
        /// grafting side leave its own end lazy. Off: a graft makes the link eager for every
        /// author at both ends, as in the paper's one shared tree.
        public var eagerPerAuthor = false

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
        /// When it was first announced (ms).
        var sinceMs: Int64
        /// The announcers a graft for it was sent to, in order.
        var asked: [Peer] = []
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
    /// Lazy peers that grafted some authors' events (`eagerPerAuthor`): those authors' events
    /// are pushed to them whole. Authors by their key bytes (32 B).
    public private(set) var eagerAuthors: [Peer: Set<[UInt8]>] = [:]
    private var awaited: [EventID: Awaited] = [:]
    private var queued: [Peer: Queue] = [:]
    /// When a prune last went to each peer (ms).
    private var prunedAtMs: [Peer: Int64] = [:]
    /// Moving average (weight 1/8) of how long after its first announcement a push arrived (ms).
    public private(set) var pushLagMs: Int64 = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Every peer, eager or lazy.
    public var peers: Set<Peer> { eager.union(lazy) }

    /// Events announced but neither received nor given up on.
    public var awaitedCount: Int { awaited.count }

    /// How long an announced event may take to come by push before it is grafted (ms):
    /// `graftTimeoutMs`, or twice the push lag if more, at most `maxGraftTimeoutMs`.
    public var graftTimeoutMs: Int64 {
        Swift.min(configuration.maxGraftTimeoutMs, Swift.max(configuration.graftTimeoutMs, 2 * pushLagMs))
    }

    /// The earliest time `tick` has something to do, if any (ms). O(awaited + queued); plain
    /// loops (a key path here is instantiated at run time on every call, which cost more than
    /// the rest of the node's idle work).
    public var nextDeadlineMs: Int64? {
        var earliest: Int64?
        for a in awaited.values where earliest.map({ a.deadlineMs < $0 }) ?? true { earliest = a.deadlineMs }
        for q in queued.values {
            let due = q.sinceMs + configuration.announceDelayMs
            if earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        return earliest
    }

    /// A channel to `peer` now shares the group: it starts lazy (unless `newLinksEager`). Authors push their own events on
    /// every link, so where every member has a channel to every author nothing needs relaying;
    /// where one does not, its first announcement of a missed event grafts the link (one graft
    /// timeout later), and the link stays eager while it brings what no author pushes directly.
    public mutating func addPeer(_ peer: Peer) {
        guard !eager.contains(peer), !lazy.contains(peer) else { return }
        if configuration.newLinksEager { eager.insert(peer) } else { lazy.insert(peer) }
    }

    /// The channel to `peer` closed, or stopped sharing the group.
    public mutating func removePeer(_ peer: Peer) {
        eager.remove(peer)
        lazy.remove(peer)
        eagerAuthors.removeValue(forKey: peer)
        queued.removeValue(forKey: peer)
        prunedAtMs.removeValue(forKey: peer)
        for (id, var a) in awaited {
            a.announcers.removeAll { $0 == peer }
            awaited[id] = a.announcers.isEmpty ? nil : a
        }
    }

    /// Events newly delivered here, in the order to send them: written here (`source` nil), or
    /// received from `source` (a push when `pushed`, else a sync or graft answer).
    /// - Parameters:
    ///   - authoredBySource: every one of `ids` was written by `source` itself. Its push says
    ///     nothing about the tree between the two (an author pushes its own events to every peer),
    ///     so it leaves the link's state as it is.
    ///   - alsoAnnounceTo: peers that get the IDs whatever the fanout, unless they get the push
    ///     (so `source` may be one).
    ///   - authorsArePeers: every one of `ids` was written by a peer with a link in this group:
    ///     its author pushes it here itself. A graft's answer of such events only made up for a
    ///     late or lost push, so that link goes back to lazy (`Prune`) instead of staying in a
    ///     relay tree nobody needs.
    ///   - authorOf: each event's author (key bytes), for the peers that grafted some authors
    ///     only (`eagerAuthors`); an event not in it is pushed to none of them.
    ///   - rng: picks the lazy peers.
    /// - Returns: pushes (own events to every peer; received ones to the eager peers but
    ///   `source`, and to each peer in `eagerAuthors` those of its authors), and a prune after a
    ///   graft's answer as above; announcements of what a peer was not pushed are queued (see
    ///   `tick`).
    public mutating func delivered(_ ids: [EventID], from source: Peer?, pushed: Bool, authoredBySource: Bool = false,
                                   authorsArePeers: Bool = false, alsoAnnounceTo: Set<Peer> = [],
                                   authorOf: [EventID: [UInt8]] = [:],
                                   nowMs: Int64, rng: inout some RandomNumberGenerator) -> [Action] {
        guard !ids.isEmpty else { return [] }
        var answersGraft = false
        for id in ids {
            guard let a = awaited.removeValue(forKey: id) else { continue }
            // A push that beat the graft timer, or came in spite of a graft to another link: a
            // sample of how late pushes are. (A graft's answer is not one: it was asked for.)
            if pushed, let source, !a.asked.contains(source) {
                pushLagMs += (Swift.max(0, nowMs - a.sinceMs) - pushLagMs) / 8
            } else if pushed, let source, a.asked.contains(source) {
                answersGraft = true
            }
        }
        var actions: [Action] = []
        if pushed, !authoredBySource, let source, peers.contains(source) {
            if answersGraft, authorsArePeers {
                // The authors reach this node directly: no relay needed on this link.
                eager.remove(source)
                lazy.insert(source)
                prunedAtMs[source] = nowMs
                actions.append(.prune(to: source))
            } else if configuration.eagerPerAuthor {
                // The source is upstream in these authors' trees: nothing flows back to it.
            } else if lazy.remove(source) != nil {
                // A peer that relays to us holds us eager: keep the link symmetric.
                eager.insert(source)
            }
        }
        // Written here: the root of its own tree, pushed to every peer.
        if source == nil { return peers.sorted().map { .push(ids, to: $0) } }
        var pushes: [(to: Peer, ids: [EventID])] = eager.filter { $0 != source }.map { ($0, ids) }
        // Peers that grafted some authors: those authors' events, whole; the rest announced.
        var partly: [Peer: [EventID]] = [:]
        for (p, authors) in eagerAuthors where p != source && !eager.contains(p) {
            let wanted = ids.filter { authorOf[$0].map(authors.contains) ?? false }
            guard !wanted.isEmpty else { continue }
            pushes.append((p, wanted))
            partly[p] = wanted
        }
        for push in pushes.sorted(by: { $0.to < $1.to }) { actions.append(.push(push.ids, to: push.to)) }
        let candidates = lazy.filter { $0 != source && partly[$0]?.count != ids.count }.sorted()
        var targets = Set(candidates.count <= configuration.lazyFanout
            ? candidates : Array(candidates.shuffled(using: &rng).prefix(configuration.lazyFanout)))
        // The author always hears that this node holds the events (its delivery receipts, §4.8),
        // whatever the link: an eager author may get only a push it already holds, which it
        // treats as a duplicate.
        targets.formUnion(alsoAnnounceTo.filter { peers.contains($0) })
        for p in targets.sorted() {
            let unpushed = partly[p].map { got in ids.filter { !got.contains($0) } } ?? ids
            guard !unpushed.isEmpty else { continue }
            var q = queued[p] ?? Queue(sinceMs: nowMs, ids: [])
            q.ids.append(contentsOf: unpushed)
            queued[p] = q
        }
        return actions
    }

    /// A push from `peer` brought an event already held: that link leaves the tree. `peer` holds
    /// the link eager whatever this end thinks (it pushed), so a link already lazy here is pruned
    /// again too, unless a prune went to `peer` less than `graftTimeoutMs` ago (pushes it sent
    /// before that prune reached it are still arriving).
    public mutating func duplicate(from peer: Peer, nowMs: Int64) -> [Action] {
        guard peers.contains(peer) else { return [] }
        let wasEager = eager.remove(peer) != nil
        lazy.insert(peer)
        eagerAuthors.removeValue(forKey: peer)
        if !wasEager, let last = prunedAtMs[peer], nowMs - last < graftTimeoutMs { return [] }
        prunedAtMs[peer] = nowMs
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
                awaited[id] = Awaited(announcers: [peer], deadlineMs: nowMs + graftTimeoutMs, sinceMs: nowMs)
            }
        }
    }

    /// `peer` asked for `ids` with a graft: its link joins the tree (with `eagerPerAuthor` and
    /// `authors`, the authors of `ids` held here: only those authors' trees); push them (the
    /// caller sends those it holds).
    public mutating func grafted(_ ids: [EventID], from peer: Peer, authors: Set<[UInt8]>? = nil) -> [Action] {
        guard peers.contains(peer) else { return [] }
        if configuration.eagerPerAuthor, let authors {
            if !eager.contains(peer), !authors.isEmpty { eagerAuthors[peer, default: []].formUnion(authors) }
            return ids.isEmpty ? [] : [.push(ids, to: peer)]
        }
        lazy.remove(peer)
        eager.insert(peer)
        eagerAuthors.removeValue(forKey: peer)
        return ids.isEmpty ? [] : [.push(ids, to: peer)]
    }

    /// `peer` pruned its link to us: it gets IDs only from now on.
    public mutating func pruned(by peer: Peer) {
        eagerAuthors.removeValue(forKey: peer)
        guard eager.remove(peer) != nil else { return }
        lazy.insert(peer)
    }

    /// Due work at `nowMs`: grafts for announced events that did not arrive in time (the link
    /// to the announcer joins the tree), and announcements that waited `announceDelayMs`. An
    /// event is asked of one announcer at a time: the next is asked only a full timeout later,
    /// and the event stays awaited (without further grafts) a last timeout after the last
    /// announcer was asked, so a late push still counts as a lag sample.
    public mutating func tick(nowMs: Int64) -> [Action] {
        var grafts: [Peer: [EventID]] = [:]
        let timeout = graftTimeoutMs
        for (id, var a) in awaited where a.deadlineMs <= nowMs {
            guard !a.announcers.isEmpty else { awaited[id] = nil; continue }
            let peer = a.announcers.removeFirst()
            grafts[peer, default: []].append(id)
            a.deadlineMs = nowMs + timeout
            a.asked.append(peer)
            awaited[id] = a
        }
        var actions: [Action] = []
        for (peer, ids) in grafts.sorted(by: { $0.key < $1.key }) {
            if !configuration.eagerPerAuthor {
                // One shared tree: the link is in it both ways. (Per author, the announcer is
                // upstream of this node in the trees of the events asked for; nothing flows back.)
                lazy.remove(peer)
                eager.insert(peer)
            }
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
