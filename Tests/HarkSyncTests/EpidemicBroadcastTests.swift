import HarkLog
import HarkSync
import Testing

/// A deterministic generator (SplitMix64) so that lazy picks repeat from run to run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A full mesh of `EpidemicBroadcast` state machines with a simulated network (latency, drops,
/// time in ms) — the channels, not the protocol, are faked.
struct BroadcastMesh {
    enum Kind: Equatable { case push, announce, graft, prune }
    struct Message { let at: Int64; let from: Int; let to: Int; let kind: Kind; let ids: [EventID] }

    var nodes: [EpidemicBroadcast<Int>]
    var held: [Set<EventID>]
    var deliveries: [[EventID]]   // per node, in delivery order (duplicates would show here)
    var author: [EventID: Int] = [:]
    /// Pushes that brought only events already held, per receiving node.
    var duplicates = 0
    var inFlight: [Message] = []
    var now: Int64 = 0
    var latencyMs: Int64 = 2
    var rng = SplitMix64(state: 42)
    /// Frames sent, per kind.
    var sent: [Kind: Int] = [:]
    /// Decides whether a message is lost on the wire.
    var drop: (Message) -> Bool = { _ in false }
    /// Extra delay (ms) of a message, by sender, receiver and kind (a loaded receiver, a slow link).
    var delay: (Int, Int, Kind) -> Int64 = { _, _, _ in 0 }

    init(size: Int, configuration: EpidemicBroadcast<Int>.Configuration = .init()) {
        nodes = (0..<size).map { _ in EpidemicBroadcast(configuration: configuration) }
        for i in 0..<size { for j in 0..<size where j != i { nodes[i].addPeer(j) } }
        held = Array(repeating: [], count: size)
        deliveries = Array(repeating: [], count: size)
    }

    mutating func send(_ actions: [EpidemicBroadcast<Int>.Action], from node: Int) {
        for a in actions {
            let m: Message
            switch a {
            case let .push(ids, to): m = Message(at: now + latencyMs, from: node, to: to, kind: .push, ids: ids.filter { held[node].contains($0) })
            case let .announce(ids, to): m = Message(at: now + latencyMs, from: node, to: to, kind: .announce, ids: ids)
            case let .graft(ids, to): m = Message(at: now + latencyMs, from: node, to: to, kind: .graft, ids: ids)
            case let .prune(to): m = Message(at: now + latencyMs, from: node, to: to, kind: .prune, ids: [])
            }
            sent[m.kind, default: 0] += 1
            let late = Message(at: m.at + delay(m.from, m.to, m.kind), from: m.from, to: m.to, kind: m.kind, ids: m.ids)
            if !drop(late) { inFlight.append(late) }
        }
    }

    mutating func write(_ id: EventID, at node: Int) {
        held[node].insert(id)
        deliveries[node].append(id)
        author[id] = node
        let actions = nodes[node].delivered([id], from: nil, pushed: false, nowMs: now, rng: &rng)
        send(actions, from: node)
    }

    mutating func receive(_ m: Message) {
        let n = m.to
        switch m.kind {
        case .push:
            let new = m.ids.filter { !held[n].contains($0) }
            if new.isEmpty {
                duplicates += 1
                send(nodes[n].duplicate(from: m.from, nowMs: now), from: n)
            } else {
                for id in new { held[n].insert(id); deliveries[n].append(id) }
                let byAuthor = new.allSatisfy { author[$0] == m.from }
                let authorsArePeers = new.allSatisfy { id in author[id].map { nodes[n].peers.contains($0) } ?? false }
                send(nodes[n].delivered(new, from: m.from, pushed: true, authoredBySource: byAuthor, authorsArePeers: authorsArePeers,
                                        authorOf: authorKeys(new), nowMs: now, rng: &rng), from: n)
            }
        case .announce:
            let h = held[n]
            nodes[n].announced(m.ids, from: m.from, nowMs: now, isHeld: { h.contains($0) })
        case .graft:
            let known = m.ids.filter { held[n].contains($0) }
            send(nodes[n].grafted(m.ids, from: m.from, authors: Set(authorKeys(known).values)), from: n)
        case .prune:
            nodes[n].pruned(by: m.from)
        }
    }

    /// Each event's author as key bytes (node i: [i]).
    func authorKeys(_ ids: [EventID]) -> [EventID: [UInt8]] {
        Dictionary(ids.compactMap { id in author[id].map { (id, [UInt8(truncatingIfNeeded: $0)]) } }, uniquingKeysWith: { a, _ in a })
    }

    /// Runs the network for `ms` milliseconds in 1 ms steps.
    mutating func run(ms: Int64) {
        let end = now + ms
        while now < end {
            now += 1
            let due = inFlight.filter { $0.at <= now }
            inFlight.removeAll { $0.at <= now }
            for m in due { receive(m) }
            for i in nodes.indices { send(nodes[i].tick(nowMs: now), from: i) }
        }
    }

    /// Writes the events numbered `range` in turn, event i authored by node i mod the mesh's size,
    /// and runs the network `gapMs` ms after each.
    mutating func writeInTurn(_ range: Range<Int>, gapMs: Int64 = 5) {
        for i in range {
            write(EpidemicBroadcastTests.id(i), at: i % nodes.count)
            run(ms: gapMs)
        }
    }

    /// Undirected links both ends keep eager.
    var treeEdges: Int {
        var n = 0
        for i in nodes.indices { for j in nodes[i].eager where j > i && nodes[j].eager.contains(i) { n += 1 } }
        return n
    }
}

@Suite struct EpidemicBroadcastTests {
    /// A state machine whose new links start eager, as in the paper: for the tests of pruning
    /// and grafting on links that are in the tree.
    static func eagerStart() -> EpidemicBroadcast<Int> {
        var c = EpidemicBroadcast<Int>.Configuration()
        c.newLinksEager = true
        return EpidemicBroadcast(configuration: c)
    }

    static func id(_ i: Int) -> EventID {
        var b = [UInt8](repeating: 0xE0, count: 32)
        withUnsafeBytes(of: UInt64(i).littleEndian) { for (k, x) in $0.enumerated() { b[k] = x } }
        return try! EventID(bytes: b)
    }

    @Test func newPeersStartLazyAndOwnEventsArePushedToAll() {
        var b = EpidemicBroadcast<Int>()
        var rng = SplitMix64(state: 1)
        for p in 1...3 { b.addPeer(p) }
        #expect(b.lazy == [1, 2, 3] && b.eager.isEmpty)
        let actions = b.delivered([Self.id(1)], from: nil, pushed: false, nowMs: 0, rng: &rng)
        #expect(actions == [.push([Self.id(1)], to: 1), .push([Self.id(1)], to: 2), .push([Self.id(1)], to: 3)])
        #expect(b.tick(nowMs: 1000).isEmpty)   // pushed to everyone: nothing to announce
    }

    @Test func aReceivedEventIsAnnouncedNotRelayedOnNewLinks() {
        var b = EpidemicBroadcast<Int>()
        var rng = SplitMix64(state: 1)
        for p in 1...3 { b.addPeer(p) }
        // From its author 1: nobody gets it relayed whole; the others (and the author, for its
        // receipts) get the ID.
        let actions = b.delivered([Self.id(1)], from: 1, pushed: true, authoredBySource: true, alsoAnnounceTo: [1], nowMs: 0, rng: &rng)
        #expect(actions.isEmpty)
        #expect(b.tick(nowMs: 200) == [.announce([Self.id(1)], to: 1), .announce([Self.id(1)], to: 2), .announce([Self.id(1)], to: 3)])
        #expect(b.lazy == [1, 2, 3])
    }

    @Test func eagerStartAsInThePaperIsStillAvailable() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        for p in 1...3 { b.addPeer(p) }
        #expect(b.eager == [1, 2, 3])
        #expect(b.delivered([Self.id(1)], from: 1, pushed: true, nowMs: 0, rng: &rng)
            == [.push([Self.id(1)], to: 2), .push([Self.id(1)], to: 3)])
    }

    @Test func aDuplicatePushPrunesTheLinkAndLaterEventsAreOnlyAnnouncedThere() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        #expect(b.duplicate(from: 2, nowMs: 0) == [.prune(to: 2)])
        #expect(b.duplicate(from: 2, nowMs: 500).isEmpty)   // once per graft timeout: pushes sent before the prune arrived
        #expect(b.duplicate(from: 2, nowMs: 1000) == [.prune(to: 2)], "2 still pushes: it holds the link eager")
        #expect(b.eager == [1] && b.lazy == [2])
        let actions = b.delivered([Self.id(7)], from: 1, pushed: true, nowMs: 1000, rng: &rng)
        #expect(actions.isEmpty)   // the source does not get its own event back, 2 is lazy
        #expect(b.tick(nowMs: 1150).isEmpty)   // batched for announceDelayMs
        #expect(b.tick(nowMs: 1200) == [.announce([Self.id(7)], to: 2)])
        #expect(b.tick(nowMs: 1300).isEmpty)
    }

    @Test func ownEventsArePushedToLazyPeersToo() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        _ = b.duplicate(from: 2, nowMs: 0)
        #expect(b.delivered([Self.id(1)], from: nil, pushed: false, nowMs: 0, rng: &rng)
            == [.push([Self.id(1)], to: 1), .push([Self.id(1)], to: 2)])
        #expect(b.tick(nowMs: 1000).isEmpty)   // pushed to all: nothing to announce
        #expect(b.lazy == [2])   // and the link stays as it was for relays
    }

    @Test func anAuthorsPushOfItsOwnEventLeavesTheLinkAsItIs() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        b.pruned(by: 1)
        _ = b.delivered([Self.id(1)], from: 1, pushed: true, authoredBySource: true, nowMs: 0, rng: &rng)
        #expect(b.lazy == [1], "the author pushes to every peer: not a sign that it holds this link eager")
        _ = b.delivered([Self.id(2)], from: 1, pushed: true, authoredBySource: false, nowMs: 10, rng: &rng)
        #expect(b.eager == [1, 2], "a relay is")
    }

    @Test func announcementsAreBatchedPerPeer() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        _ = b.duplicate(from: 1, nowMs: 0)
        for i in 0..<5 { _ = b.delivered([Self.id(i)], from: 2, pushed: true, nowMs: Int64(10 * i), rng: &rng) }
        #expect(b.nextDeadlineMs == 200)
        #expect(b.tick(nowMs: 200) == [.announce((0..<5).map(Self.id), to: 1)])
    }

    @Test func aPrunedPeerThatPushesAgainIsEagerAgain() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        b.pruned(by: 1)
        #expect(b.lazy == [1])
        _ = b.delivered([Self.id(1)], from: 1, pushed: true, nowMs: 0, rng: &rng)
        #expect(b.eager == [1, 2])
    }

    @Test func anAnnouncedEventThatDoesNotArriveIsGraftedFromTheAnnouncerThenTheNext() {
        var b = Self.eagerStart()
        b.addPeer(1); b.addPeer(2); b.addPeer(3)
        _ = b.duplicate(from: 2, nowMs: 0); _ = b.duplicate(from: 3, nowMs: 0)
        let x = Self.id(9)
        b.announced([x, Self.id(10)], from: 2, nowMs: 0, isHeld: { $0 == Self.id(10) })
        b.announced([x], from: 3, nowMs: 50, isHeld: { _ in false })
        #expect(b.awaitedCount == 1)
        #expect(b.nextDeadlineMs == 1000)
        #expect(b.tick(nowMs: 999).isEmpty)
        #expect(b.tick(nowMs: 1000) == [.graft([x], to: 2)])
        #expect(b.eager.contains(2))   // the graft put the link back in the tree
        // The next announcer only a full timeout later: the first graft's answer may be on its way.
        #expect(b.tick(nowMs: 1999).isEmpty)
        #expect(b.tick(nowMs: 2000) == [.graft([x], to: 3)])
        #expect(b.awaitedCount == 1)   // no announcer left, but a late push still counts as a lag sample
        #expect(b.tick(nowMs: 3000).isEmpty)
        #expect(b.awaitedCount == 0)   // reconciliation's job now
    }

    @Test func latePushesLengthenTheGraftTimeout() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        _ = b.duplicate(from: 2, nowMs: 0)
        #expect(b.graftTimeoutMs == 1000)
        // Pushes on the tree come 1.5 s after lazy announcements (a saturated machine).
        for i in 0..<40 {
            let t = Int64(i) * 100
            b.announced([Self.id(i)], from: 2, nowMs: t, isHeld: { _ in false })
            _ = b.delivered([Self.id(i)], from: 1, pushed: true, nowMs: t + 1500, rng: &rng)
        }
        #expect(b.pushLagMs > 1300 && b.pushLagMs <= 1500)
        #expect(b.graftTimeoutMs == 2 * b.pushLagMs)
        b.announced([Self.id(100)], from: 2, nowMs: 10_000, isHeld: { _ in false })
        #expect(b.tick(nowMs: 11_000).filter { if case .graft = $0 { true } else { false } }.isEmpty)
        #expect(b.tick(nowMs: 10_000 + b.graftTimeoutMs) == [.graft([Self.id(100)], to: 2)])
        // Bounded: reconciliation covers longer delays.
        for i in 200..<400 {
            let t = Int64(i) * 100
            b.announced([Self.id(i)], from: 2, nowMs: t, isHeld: { _ in false })
            _ = b.delivered([Self.id(i)], from: 1, pushed: true, nowMs: t + 60_000, rng: &rng)
        }
        #expect(b.graftTimeoutMs == b.configuration.maxGraftTimeoutMs)
    }

    @Test func aGraftAnswerIsNotALagSampleButALatePushIs() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        _ = b.duplicate(from: 2, nowMs: 0)
        b.announced([Self.id(1)], from: 2, nowMs: 0, isHeld: { _ in false })
        #expect(b.tick(nowMs: 1000) == [.graft([Self.id(1)], to: 2)])
        _ = b.delivered([Self.id(1)], from: 2, pushed: true, nowMs: 1100, rng: &rng)   // the answer
        #expect(b.pushLagMs == 0)
        b.announced([Self.id(2)], from: 2, nowMs: 2000, isHeld: { _ in false })
        #expect(b.tick(nowMs: 3000) == [.graft([Self.id(2)], to: 2)])
        _ = b.delivered([Self.id(2)], from: 1, pushed: true, nowMs: 3800, rng: &rng)   // the tree's push, late
        #expect(b.pushLagMs == 1800 / 8)
    }

    @Test func anEventThatArrivesInTimeCancelsTheGraft() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        _ = b.duplicate(from: 2, nowMs: 0)
        b.announced([Self.id(3)], from: 2, nowMs: 0, isHeld: { _ in false })
        _ = b.delivered([Self.id(3)], from: 1, pushed: true, nowMs: 100, rng: &rng)
        let actions = b.tick(nowMs: 1000)
        #expect(!actions.contains { if case .graft = $0 { return true } else { return false } })
    }

    @Test func aGraftJoinsTheTreeAndAsksForThePush() {
        var b = Self.eagerStart()
        b.addPeer(1)
        _ = b.duplicate(from: 1, nowMs: 0)
        #expect(b.grafted([Self.id(4)], from: 1) == [.push([Self.id(4)], to: 1)])
        #expect(b.eager == [1])
        #expect(b.grafted([Self.id(4)], from: 99).isEmpty)   // not a peer of this group
    }

    @Test func lazyAnnouncementsAreBoundedByTheFanoutPlusTheAuthor() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 7)
        for p in 1...30 { b.addPeer(p); _ = b.duplicate(from: p, nowMs: 0) }
        func announced(at ms: Int64) -> [Int] {
            b.tick(nowMs: ms).compactMap { a -> Int? in if case let .announce(_, to) = a { return to } else { return nil } }
        }
        _ = b.delivered([Self.id(1)], from: 6, pushed: false, alsoAnnounceTo: [17], nowMs: 0, rng: &rng)
        let first = announced(at: 200)
        #expect(first.count <= 5 && first.count >= 4)
        #expect(first.contains(17))
        #expect(!first.contains(6))   // the fanout never picks the source
        // The author is told even when it is the source: that acknowledges its push.
        _ = b.delivered([Self.id(2)], from: 5, pushed: true, alsoAnnounceTo: [5], nowMs: 300, rng: &rng)
        let second = announced(at: 500)
        #expect(second.contains(5))
        #expect(second.count <= 5)
    }

    @Test func removingAPeerForgetsItsQueueAndAnnouncements() {
        var b = Self.eagerStart()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        _ = b.duplicate(from: 2, nowMs: 0)
        _ = b.delivered([Self.id(1)], from: nil, pushed: false, nowMs: 0, rng: &rng)
        b.announced([Self.id(2)], from: 2, nowMs: 0, isHeld: { _ in false })
        b.removePeer(2)
        #expect(b.peers == [1])
        #expect(b.awaitedCount == 0)
        #expect(b.tick(nowMs: 10_000).isEmpty)
    }

    @Test func aSingleSourceReachesEveryoneOnceWithOnePushPerMember() {
        var mesh = BroadcastMesh(size: 12)
        for i in 0..<40 {
            mesh.write(Self.id(i), at: 0)
            mesh.run(ms: 20)
        }
        mesh.run(ms: 2000)
        for n in 0..<12 {
            #expect(mesh.held[n].count == 40)
            #expect(mesh.deliveries[n].count == 40)   // no event delivered twice
        }
        // The author reaches everyone directly: no link is in a relay tree, nothing was
        // pushed twice, and no graft was needed.
        #expect(mesh.treeEdges == 0)
        #expect(mesh.duplicates == 0 && mesh.sent[.graft, default: 0] == 0)
        // An event costs n − 1 pushes, not n(n − 1).
        let before = mesh.sent[.push, default: 0]
        mesh.write(Self.id(1000), at: 0)
        mesh.run(ms: 2000)
        #expect(mesh.sent[.push, default: 0] - before == 11)
        #expect(mesh.held.allSatisfy { $0.contains(Self.id(1000)) })
    }

    @Test func manySendersStillReachEveryoneExactlyOnce() {
        var mesh = BroadcastMesh(size: 10)
        mesh.writeInTurn(0..<100)
        mesh.run(ms: 3000)
        for n in 0..<10 {
            #expect(mesh.held[n].count == 100)
            #expect(mesh.deliveries[n].count == 100)
        }
        // Every member reaches every other directly: each author's tree is a star, and no relay
        // link is left in any tree.
        #expect(mesh.treeEdges == 0)
        #expect(mesh.nodes.allSatisfy { $0.awaitedCount == 0 })
    }

    @Test func withEveryoneSendingEachEventCrossesOneLinkPerMember() {
        var mesh = BroadcastMesh(size: 10)
        // Warm-up (with links that started eager, the first events would flood until duplicates
        // pruned the relays; lazy links carry only announcements from the start).
        mesh.writeInTurn(0..<50)
        mesh.run(ms: 2000)
        let pushes = mesh.sent[.push, default: 0], duplicates = mesh.duplicates, grafts = mesh.sent[.graft, default: 0]
        mesh.writeInTurn(50..<250)
        mesh.run(ms: 3000)
        for n in 0..<10 { #expect(mesh.held[n].count == 250 && mesh.deliveries[n].count == 250) }
        // 200 events, each pushed by its author to the 9 others and relayed by no one.
        #expect(mesh.sent[.push, default: 0] - pushes == 200 * 9)
        #expect(mesh.duplicates == duplicates)
        #expect(mesh.sent[.graft, default: 0] == grafts)
    }

    @Test func aMemberTheAuthorCannotReachGetsItsEventsRelayed() {
        var mesh = BroadcastMesh(size: 6)
        // No channel between 0 and 5 (a firewall): 5 hears of 0's events only through the others.
        mesh.nodes[0].removePeer(5); mesh.nodes[5].removePeer(0)
        for i in 0..<40 {
            mesh.write(Self.id(i), at: 0)
            mesh.run(ms: 20)
        }
        mesh.run(ms: 5000)
        #expect(mesh.held[5].count == 40)
        #expect(mesh.deliveries[5].count == 40)
        #expect(mesh.nodes[5].eager.count >= 1, "a relay to 5 stays in the tree")
    }

    @Test func aLostEagerPushIsRepairedThroughAnnouncementAndGraft() {
        var mesh = BroadcastMesh(size: 8)
        for i in 0..<30 {
            mesh.write(Self.id(i), at: 0)
            mesh.run(ms: 20)
        }
        mesh.run(ms: 1000)
        #expect(mesh.held.allSatisfy { $0.count == 30 })
        // Every push to node 5 is now lost: only IHave → Graft → push (which gets through once
        // the drop rule ends) can bring it the next event.
        mesh.drop = { m in m.kind == .push && m.to == 5 }
        let x = Self.id(500)
        mesh.write(x, at: 0)
        mesh.run(ms: 50)
        #expect(!mesh.held[5].contains(x))
        mesh.drop = { _ in false }
        let grafts = mesh.sent[.graft, default: 0]
        mesh.run(ms: 3000)
        #expect(mesh.held[5].contains(x))
        #expect(mesh.sent[.graft, default: 0] > grafts)   // it came through a graft
        #expect(mesh.deliveries[5].filter { $0 == x }.count == 1)
    }
    @Test func aGraftAnswerOfEventsWhoseAuthorsArePeersPrunesTheLinkAgain() {
        var b = EpidemicBroadcast<Int>()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        b.announced([Self.id(1)], from: 2, nowMs: 0, isHeld: { _ in false })
        #expect(b.tick(nowMs: 1000) == [.graft([Self.id(1)], to: 2)])
        #expect(b.eager == [2])
        // The answer brings an event by 1, a peer of ours: its own push was only late.
        let actions = b.delivered([Self.id(1)], from: 2, pushed: true, authorsArePeers: true, nowMs: 1010, rng: &rng)
        #expect(actions == [.prune(to: 2)])
        #expect(b.eager.isEmpty && b.lazy == [1, 2])
        // The same answer of events whose author is not a peer keeps the link in the tree.
        b.announced([Self.id(2)], from: 2, nowMs: 2000, isHeld: { _ in false })
        #expect(b.tick(nowMs: 3000).contains(.graft([Self.id(2)], to: 2)))   // (and the first event's IHave to 1)
        #expect(b.delivered([Self.id(2)], from: 2, pushed: true, authorsArePeers: false, nowMs: 3010, rng: &rng).isEmpty)
        #expect(b.eager == [2])
    }

    @Test func latePushesToOneMemberLeaveNoRelayTreeBehind() {
        // Every push to node 3 takes 1.5 s (a loaded machine): announcements overtake them and 3
        // grafts. Everyone still gets every event once, and no grafted link stays in a relay
        // tree once the load is over (duplicates and graft answers prune them).
        var mesh = BroadcastMesh(size: 8)
        mesh.delay = { from, to, kind in kind == .push && to == 3 ? 1500 : 0 }
        mesh.writeInTurn(0..<80, gapMs: 20)
        mesh.run(ms: 10_000)
        for n in 0..<8 { #expect(mesh.held[n].count == 80 && mesh.deliveries[n].count == 80) }
        #expect(mesh.sent[.graft, default: 0] > 0, "the delay made 3 graft")
        #expect(mesh.treeEdges == 0, "no link stayed in a relay tree")
        // Pushes: 80 events × 7 by their authors, plus graft answers and the few relays made
        // while a graft's link was eager; far from flooding (80 × 7 × 6).
        #expect(mesh.sent[.push, default: 0] < 80 * 7 * 2)
    }

    static func perAuthor() -> EpidemicBroadcast<Int> {
        var c = EpidemicBroadcast<Int>.Configuration()
        c.eagerPerAuthor = true
        return EpidemicBroadcast(configuration: c)
    }

    @Test func aGraftMakesTheLinkEagerOnlyForTheGraftedEventsAuthors() {
        var b = Self.perAuthor()
        var rng = SplitMix64(state: 1)
        for p in 1...3 { b.addPeer(p) }
        let x = Self.id(1), y = Self.id(2), z = Self.id(3)
        #expect(b.grafted([x], from: 2, authors: [[7]]) == [.push([x], to: 2)])
        #expect(b.eager.isEmpty && b.eagerAuthors[2] == [[7]])
        // y by author 7 goes whole to 2; z by author 8 is only announced there.
        let actions = b.delivered([y, z], from: 1, pushed: true, authorOf: [y: [7], z: [8]], nowMs: 0, rng: &rng)
        #expect(actions == [.push([y], to: 2)])
        #expect(b.tick(nowMs: 200) == [.announce([z], to: 2), .announce([y, z], to: 3)])
        // A prune ends it: 7's events are then only announced to 2.
        b.pruned(by: 2)
        #expect(b.eagerAuthors.isEmpty)
        #expect(b.delivered([Self.id(4)], from: 1, pushed: true, authorOf: [Self.id(4): [7]], nowMs: 300, rng: &rng).isEmpty)
    }

    @Test func theGraftingEndRelaysNothingBack() {
        var b = Self.perAuthor()
        var rng = SplitMix64(state: 1)
        b.addPeer(1); b.addPeer(2)
        let x = Self.id(1)
        b.announced([x], from: 2, nowMs: 0, isHeld: { _ in false })
        #expect(b.tick(nowMs: 1000) == [.graft([x], to: 2)])
        #expect(b.eager.isEmpty, "this end is downstream: its end of the link stays lazy")
        #expect(b.delivered([x], from: 2, pushed: true, authorOf: [x: [9]], nowMs: 1010, rng: &rng).isEmpty)
        #expect(b.eager.isEmpty && b.eagerAuthors.isEmpty)
        // A later event from peer 1 is not relayed to 2.
        #expect(b.delivered([Self.id(2)], from: 1, pushed: true, authorOf: [Self.id(2): [9]], nowMs: 1020, rng: &rng).isEmpty)
    }

    @Test func aMemberWithoutOneAuthorsChannelGetsOnlyThatAuthorRelayed() {
        // Node 5 has no channel to node 0; everyone writes. Per author, 5's relays carry 0's
        // events only: every other author reaches it directly.
        var c = EpidemicBroadcast<Int>.Configuration()
        c.eagerPerAuthor = true
        var mesh = BroadcastMesh(size: 8, configuration: c)
        mesh.nodes[0].removePeer(5); mesh.nodes[5].removePeer(0)
        mesh.writeInTurn(0..<80, gapMs: 20)
        mesh.run(ms: 5000)
        for n in 0..<8 { #expect(mesh.held[n].count == 80 && mesh.deliveries[n].count == 80) }
        let relayedTo5 = mesh.nodes.indices.filter { $0 != 5 }.flatMap { mesh.nodes[$0].eagerAuthors[5] ?? [] }
        #expect(!relayedTo5.isEmpty, "a relay to 5 stays in 0's tree")
        #expect(Set(relayedTo5) == [[0]], "and only in 0's tree")
        // Pushes: 70 events by authors with a link to all 7 others, 10 by 0 to 6 of them, plus
        // relays of 0's events to 5 and the graft answers: below 80 × 7 + 80.
        #expect(mesh.sent[.push, default: 0] < 80 * 7 + 80)
    }
}
