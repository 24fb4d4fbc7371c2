/// Decides which peer to ask for which chunk (PROTOCOL.md §8.4). A pure state machine: no I/O,
/// no clock (times are passed in, in milliseconds of any monotonic clock), no hashing — the
/// caller verifies each chunk (e.g. `StagedFile.write`) and reports the verdict.
///
/// Strategy: sequential with spread. Every `poll` hands each usable peer (not dropped, not
/// backing off) requests until it has `maxInFlightPerPeer` in flight, one at a time round-robin
/// across peers, each time the first chunk at or after `startChunk` (wrapping around) that is
/// missing, not in flight and held by that peer. So two peers that hold everything get
/// alternating chunks, and fetchers that start at different chunks hold different ones early
/// (they can serve each other). Rarest-first is not used; a chunk is in flight at one peer at a
/// time (no endgame duplicates). An optional rate limit paces the requests (`maxBytesPerSecond`).
///
/// Failures:
/// - timeout (`requestTimeoutMs` after the request): the chunk returns to the pool and is asked
///   from another peer if one holds it; the peer backs off exponentially (`backoffBaseMs` ×
///   2^(k−1), at most `backoffMaxMs`, k = consecutive timeouts) and is dropped as unresponsive
///   after `maxConsecutiveTimeouts`. A delivery resets k.
/// - corrupt chunk (`corrupt`): the peer is dropped for this fetch and never asked again (its
///   other requests return to the pool); the chunk is asked from another peer.
/// - source changed (`sourceChanged`): the peer is dropped for this fetch; once no other usable
///   peer holds a missing chunk the fetch fails at once (`.failed(.sourceChanged)`), without
///   waiting for sources.
/// - no usable peer holds a missing chunk, and nothing is in flight: the status becomes
///   `.waiting(untilMs:)` for `waitForSourcesMs` (a new or returning peer resumes the fetch),
///   then `.failed` — terminal. Nothing is retried in a loop: `nextDeadlineMs` says when `poll`
///   has something to do.
///
/// Chunk indices are manifest-wide (`ChunkLayout`). Cost: `poll` is O(peers × maxInFlight ×
/// scan); the scan starts at `startChunk` and is short when peers hold everything,
/// O(chunks) for a peer holding few. Value type; Sendable when `Peer` is.
public struct FetchScheduler<Peer: Hashable & Sendable>: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Most requests outstanding at one peer (≥ 1). Default 4.
        public var maxInFlightPerPeer: Int
        /// A request not answered after this long is a timeout. Default 15 000 ms.
        public var requestTimeoutMs: Int64
        /// Consecutive timeouts after which a peer is dropped as unresponsive (≥ 1). Default 3.
        public var maxConsecutiveTimeouts: Int
        /// First backoff after a timeout; doubles per consecutive timeout. Default 500 ms.
        public var backoffBaseMs: Int64
        /// Largest backoff. Default 30 000 ms.
        public var backoffMaxMs: Int64
        /// How long to wait for a peer that can serve the missing chunks before failing; 0 fails
        /// at once. Default 60 000 ms.
        public var waitForSourcesMs: Int64
        /// The fetch's rate limit, bytes per second over all peers, or nil (none, the default).
        /// Requests are paced so that the chunk bytes asked for by time t since the first request
        /// never exceed rate × t plus one chunk (token bucket with a one-chunk burst).
        public var maxBytesPerSecond: Int64?
        /// Where in the manifest-wide numbering requests start (then upward, wrapping to 0).
        /// Default 0: lowest missing chunk first. Fetchers of one file that start at different
        /// places hold different chunks early, so they can serve each other (a swarm).
        public var startChunk: Int = 0

        public init(maxInFlightPerPeer: Int = 4, requestTimeoutMs: Int64 = 15_000, maxConsecutiveTimeouts: Int = 3,
                    backoffBaseMs: Int64 = 500, backoffMaxMs: Int64 = 30_000, waitForSourcesMs: Int64 = 60_000,
                    maxBytesPerSecond: Int64? = nil) {
            precondition(maxInFlightPerPeer >= 1 && maxConsecutiveTimeouts >= 1 && requestTimeoutMs > 0)
            precondition(backoffBaseMs >= 0 && backoffMaxMs >= backoffBaseMs && waitForSourcesMs >= 0)
            precondition(maxBytesPerSecond.map { $0 > 0 } ?? true)
            self.maxBytesPerSecond = maxBytesPerSecond
            self.maxInFlightPerPeer = maxInFlightPerPeer
            self.requestTimeoutMs = requestTimeoutMs
            self.maxConsecutiveTimeouts = maxConsecutiveTimeouts
            self.backoffBaseMs = backoffBaseMs
            self.backoffMaxMs = backoffMaxMs
            self.waitForSourcesMs = waitForSourcesMs
        }
    }

    /// Which chunks a peer holds.
    public enum Holding: Sendable, Equatable {
        /// Every chunk (the offerer, or a peer that completed).
        case all
        /// These (manifest-wide) chunks; the bitmap's count must equal the layout's.
        case some(ChunkBitmap)
    }

    /// Why a peer is no longer asked.
    public enum DropReason: Sendable, Equatable {
        /// It sent a chunk that failed verification. Permanent for this fetch.
        case corrupt(chunk: Int)
        /// It reported that its file changed since the offer. Permanent for this fetch.
        case sourceChanged
        /// Too many consecutive timeouts. `addPeer` may bring it back.
        case unresponsive
        /// `removePeer` (disconnected). `addPeer` may bring it back.
        case departed
    }

    /// Ask `peer` for manifest-wide chunk `chunk`.
    public struct Request: Sendable, Equatable, CustomStringConvertible {
        public let peer: Peer
        public let chunk: Int
        public init(peer: Peer, chunk: Int) { self.peer = peer; self.chunk = chunk }
        /// "peer#chunk".
        public var description: String { "\(peer)#\(chunk)" }
    }

    public enum Failure: Sendable, Equatable {
        /// No peer that holds the `missing` chunks is left.
        case noSources(missing: Int)
        /// As `noSources`, and at least one peer said its file changed: the offer is stale.
        case sourceChanged(missing: Int)
    }

    public enum Status: Sendable, Equatable {
        /// Requests are in flight or can be made.
        case running
        /// Nobody can serve what is missing; `failed` at `untilMs` unless a peer (re)appears.
        case waiting(untilMs: Int64)
        /// Every chunk is verified. Terminal.
        case complete
        /// Terminal.
        case failed(Failure)
    }

    /// Counts for a progress display; rate = Δ`bytesDone` / Δtime, computed by the caller.
    public struct Progress: Sendable, Equatable {
        public var chunksDone: Int
        public var chunksTotal: Int
        /// Bytes of verified chunks.
        public var bytesDone: UInt64
        public var bytesTotal: UInt64
        public var inFlight: Int
        /// Peers not dropped.
        public var activePeers: Int

        public init(chunksDone: Int, chunksTotal: Int, bytesDone: UInt64, bytesTotal: UInt64, inFlight: Int, activePeers: Int) {
            self.chunksDone = chunksDone
            self.chunksTotal = chunksTotal
            self.bytesDone = bytesDone
            self.bytesTotal = bytesTotal
            self.inFlight = inFlight
            self.activePeers = activePeers
        }
    }

    struct PeerState: Sendable {
        var holding: Holding
        var inFlight: Set<Int> = []
        var consecutiveTimeouts = 0
        var pausedUntilMs: Int64 = .min
        var dropped: DropReason?
        var bytesDelivered: UInt64 = 0

        func holds(_ chunk: Int) -> Bool {
            switch holding {
            case .all: return true
            case let .some(bitmap): return bitmap.contains(chunk)
            }
        }
    }

    public let layout: ChunkLayout
    public let configuration: Configuration
    public private(set) var status: Status = .running
    private var done: ChunkBitmap
    private var bytesDone: UInt64 = 0
    private var peers: [Peer: PeerState] = [:]
    private var order: [Peer] = []          // insertion order: deterministic iteration
    private var rotation = 0                // which peer starts the next round
    private var inFlight: [Int: (peer: Peer, sentMs: Int64)] = [:]
    private var avoid: [Int: Set<Peer>] = [:]   // chunk → peers it timed out at
    private var waitingSinceMs: Int64?
    private var anySourceChanged = false
    /// Rate limit: when pacing started, and the chunk bytes requested since.
    private var paceStartMs: Int64?
    private var requestedBytes: Int64 = 0
    /// The last `assign` held a request back for the rate limit.
    private var paced = false

    /// A scheduler for the chunks of `layout`; `alreadyHave` (e.g. from resumed StagedFiles,
    /// count = layout.chunkCount) are not fetched.
    public init(layout: ChunkLayout, alreadyHave: ChunkBitmap? = nil, configuration: Configuration = Configuration()) {
        self.layout = layout
        self.configuration = configuration
        if let have = alreadyHave {
            precondition(have.count == layout.chunkCount, "bitmap size differs from the layout")
            done = have
            for i in 0..<layout.chunkCount where have.contains(i) { bytesDone += UInt64(layout.length(of: i)) }
        } else {
            done = ChunkBitmap(count: layout.chunkCount)
        }
        if done.isFull { status = .complete }
    }

    // MARK: peers

    /// Adds a peer, or updates what it holds. A peer dropped as corrupt or source-changed stays
    /// dropped (returns false); one dropped as unresponsive or departed comes back.
    @discardableResult
    public mutating func addPeer(_ peer: Peer, holding: Holding) -> Bool {
        if case let .some(bitmap) = holding { precondition(bitmap.count == layout.chunkCount, "bitmap size differs from the layout") }
        if var state = peers[peer] {
            switch state.dropped {
            case .corrupt?, .sourceChanged?: return false
            case .unresponsive?, .departed?:
                state.dropped = nil
                state.consecutiveTimeouts = 0
                state.pausedUntilMs = .min
            case nil: break
            }
            state.holding = holding
            peers[peer] = state
        } else {
            peers[peer] = PeerState(holding: holding)
            order.append(peer)
        }
        sourcesMayHaveAppeared()
        return true
    }

    /// The peer now also holds `chunk` (an incremental "have").
    public mutating func peerHas(_ peer: Peer, chunk: Int) {
        guard var state = peers[peer], chunk >= 0, chunk < layout.chunkCount else { return }
        if case var .some(bitmap) = state.holding {
            bitmap.insert(chunk)
            state.holding = bitmap.isFull ? .all : .some(bitmap)
            peers[peer] = state
            if state.dropped == nil { sourcesMayHaveAppeared() }
        }
    }

    /// The peer went away; its requests return to the pool.
    public mutating func removePeer(_ peer: Peer) {
        if peers[peer]?.dropped == nil { drop(peer, .departed) }
    }

    /// The peer answered a request with "source changed": dropped for this fetch.
    public mutating func sourceChanged(_ peer: Peer) {
        anySourceChanged = true
        drop(peer, .sourceChanged)
    }

    /// Why `peer` is not asked any more; nil while it is.
    public func dropReason(_ peer: Peer) -> DropReason? { peers[peer]?.dropped }

    /// Chunks currently requested from `peer`, ascending.
    public func inFlight(at peer: Peer) -> [Int] { (peers[peer]?.inFlight ?? []).sorted() }

    /// Bytes of verified chunks `peer` delivered.
    public func bytesDelivered(by peer: Peer) -> UInt64 { peers[peer]?.bytesDelivered ?? 0 }

    // MARK: results

    /// `peer` delivered `chunk` and it verified and was written. Accepted from anyone (also a
    /// late reply after a timeout, or from a dropped peer: a verified chunk is a good chunk).
    /// - Returns: false for a duplicate.
    @discardableResult
    public mutating func delivered(_ peer: Peer, chunk: Int) -> Bool {
        guard chunk >= 0 && chunk < layout.chunkCount, !done.contains(chunk) else { return false }
        done.insert(chunk)
        let length = UInt64(layout.length(of: chunk))
        bytesDone += length
        if let holder = inFlight.removeValue(forKey: chunk) { peers[holder.peer]?.inFlight.remove(chunk) }
        avoid[chunk] = nil
        if var state = peers[peer] {
            state.consecutiveTimeouts = 0
            state.bytesDelivered += length
            peers[peer] = state
        }
        if done.isFull {
            status = .complete
            for p in order { peers[p]?.inFlight = [] }
            inFlight = [:]
        }
        return true
    }

    /// `peer` sent `chunk` and it failed verification: the peer is dropped for this fetch and
    /// the chunk will be asked from someone else.
    public mutating func corrupt(_ peer: Peer, chunk: Int) {
        if peers[peer] == nil { peers[peer] = PeerState(holding: .some(ChunkBitmap(count: layout.chunkCount))); order.append(peer) }
        drop(peer, .corrupt(chunk: chunk))
    }

    // MARK: driving

    /// Expires timed-out requests, updates the status and returns the new requests to send.
    /// Call after any event and at `nextDeadlineMs`.
    public mutating func poll(nowMs: Int64) -> [Request] {
        switch status {
        case .complete, .failed: return []
        case .running, .waiting: break
        }
        expireTimeouts(nowMs: nowMs)
        let requests = assign(nowMs: nowMs)
        if requests.isEmpty && inFlight.isEmpty && !paced {
            // Stuck: either every holder is backing off (wait for it), or nobody holds what is missing.
            if !anyHolderPaused(nowMs: nowMs) {
                let since = waitingSinceMs ?? nowMs
                waitingSinceMs = since
                // A holder's file changed since the offer: the offer is stale, so waiting for
                // another holder would mostly wait in vain; say so at once.
                if anySourceChanged || nowMs - since >= configuration.waitForSourcesMs {
                    let missing = layout.chunkCount - done.setCount
                    status = .failed(anySourceChanged ? .sourceChanged(missing: missing) : .noSources(missing: missing))
                } else {
                    status = .waiting(untilMs: since + configuration.waitForSourcesMs)
                }
                return []
            }
        }
        waitingSinceMs = nil
        status = .running
        return requests
    }

    /// When `poll` next has work without any other event (the earliest timeout, backoff end or
    /// waiting deadline); nil when terminal or nothing is pending.
    public func nextDeadlineMs() -> Int64? {
        switch status {
        case .complete, .failed: return nil
        case let .waiting(until): return until
        case .running: break
        }
        var deadline: Int64?
        func consider(_ t: Int64) { deadline = min(deadline ?? t, t) }
        for (_, f) in inFlight { consider(f.sentMs + configuration.requestTimeoutMs) }
        if paced, let rate = configuration.maxBytesPerSecond, let start = paceStartMs, let next = done.firstMissing() {
            // When the bucket holds the next chunk's bytes again.
            let need = requestedBytes + Int64(layout.length(of: next)) - Int64(burstBytes)
            consider(start + (need * 1000 + rate - 1) / rate)
        }
        for p in order {
            if let s = peers[p], s.dropped == nil, s.pausedUntilMs != .min { consider(s.pausedUntilMs) }
        }
        return deadline
    }

    public var progress: Progress {
        Progress(chunksDone: done.setCount, chunksTotal: layout.chunkCount, bytesDone: bytesDone,
                 bytesTotal: layout.totalBytes, inFlight: inFlight.count,
                 activePeers: order.filter { peers[$0]?.dropped == nil }.count)
    }

    /// The verified chunks.
    public var verified: ChunkBitmap { done }

    // MARK: internals

    private mutating func drop(_ peer: Peer, _ reason: DropReason) {
        guard var state = peers[peer] else { return }
        if case .corrupt? = state.dropped { return }   // the strongest verdict stays
        state.dropped = reason
        for c in state.inFlight { inFlight[c] = nil }
        state.inFlight = []
        peers[peer] = state
    }

    private mutating func sourcesMayHaveAppeared() {
        waitingSinceMs = nil
        if case .waiting = status { status = .running }
    }

    private mutating func expireTimeouts(nowMs: Int64) {
        let expired = inFlight.filter { nowMs - $0.value.sentMs >= configuration.requestTimeoutMs }.keys.sorted()
        for chunk in expired {
            guard let f = inFlight.removeValue(forKey: chunk), var state = peers[f.peer] else { continue }
            state.inFlight.remove(chunk)
            avoid[chunk, default: []].insert(f.peer)
            state.consecutiveTimeouts += 1
            let k = state.consecutiveTimeouts
            if k >= configuration.maxConsecutiveTimeouts {
                peers[f.peer] = state
                drop(f.peer, .unresponsive)
                continue
            }
            let shift = Int64(min(k - 1, 40))
            let backoff = min(configuration.backoffMaxMs, configuration.backoffBaseMs << shift)
            state.pausedUntilMs = max(state.pausedUntilMs, nowMs + backoff)
            peers[f.peer] = state
        }
    }

    private func usable(_ s: PeerState, nowMs: Int64) -> Bool {
        s.dropped == nil && s.pausedUntilMs <= nowMs && s.inFlight.count < configuration.maxInFlightPerPeer
    }

    private func anyHolderPaused(nowMs: Int64) -> Bool {
        guard let first = done.firstMissing() else { return false }
        for p in order {
            guard let s = peers[p], s.dropped == nil, s.pausedUntilMs > nowMs else { continue }
            // A paused peer that holds some missing chunk: wait for its backoff to end.
            var i: Int? = first
            var steps = 0
            while let c = i, steps <= layout.chunkCount {
                if s.holds(c) { return true }
                i = done.firstMissing(from: c + 1)
                steps += 1
            }
        }
        return false
    }

    /// The rate limit's burst: one chunk of the largest size.
    private var burstBytes: Int { layout.maxChunkLength }

    /// Whether the rate limit lets `length` more bytes be asked for at `nowMs`.
    private mutating func affordable(_ length: Int, nowMs: Int64) -> Bool {
        guard let rate = configuration.maxBytesPerSecond else { return true }
        let start = paceStartMs ?? nowMs
        paceStartMs = start
        let allowance = rate * max(0, nowMs - start) / 1000 + Int64(burstBytes)
        return requestedBytes + Int64(length) <= allowance
    }

    private mutating func assign(nowMs: Int64) -> [Request] {
        paced = false
        guard !order.isEmpty else { return [] }
        var requests: [Request] = []
        let maxRounds = configuration.maxInFlightPerPeer * order.count + 1
        var rounds = 0
        var progressed = true
        while progressed && rounds < maxRounds {
            progressed = false
            rounds += 1
            for k in 0..<order.count {
                let peer = order[(rotation + k) % order.count]
                guard let state = peers[peer], usable(state, nowMs: nowMs),
                      let chunk = candidate(for: peer, state) else { continue }
                guard affordable(layout.length(of: chunk), nowMs: nowMs) else {
                    paced = true
                    break
                }
                requestedBytes += Int64(layout.length(of: chunk))
                inFlight[chunk] = (peer, nowMs)
                peers[peer]!.inFlight.insert(chunk)
                requests.append(Request(peer: peer, chunk: chunk))
                progressed = true
            }
        }
        if !requests.isEmpty { rotation = (rotation + 1) % order.count }
        return requests
    }

    /// The first missing chunk at or after `startChunk` (wrapping around to 0) that is not in
    /// flight and that `peer` holds, preferring chunks that did not time out at it; a timed-out
    /// chunk is retried at the same peer only if no other usable (not dropped) peer holds it.
    private func candidate(for peer: Peer, _ state: PeerState) -> Int? {
        let start = layout.chunkCount == 0 ? 0 : configuration.startChunk % layout.chunkCount
        for (from, end) in [(start, layout.chunkCount), (0, start)] {
            var i = done.firstMissing(from: from)
            var steps = 0
            while let c = i, c < end, steps <= layout.chunkCount {   // bounded: c grows every step
                steps += 1
                if inFlight[c] == nil, state.holds(c) {
                    if let avoided = avoid[c], avoided.contains(peer) {
                        let alternative = order.contains { other in
                            other != peer && !(avoided.contains(other)) && peers[other].map { $0.dropped == nil && $0.holds(c) } == true
                        }
                        if !alternative { return c }
                    } else {
                        return c
                    }
                }
                i = done.firstMissing(from: c + 1)
            }
        }
        return nil
    }
}
