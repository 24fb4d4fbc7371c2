import HarkCrypto

/// Per-peer token bucket for join-by-code frames (PROTOCOL.md §5.7, docs/SECURITY.md "Joining
/// by code"). Each `JoinQuery` or `JoinRequest` from a peer takes one token; a peer holds at most
/// `capacity` tokens and gets one back every `refillMs`. Pure state machine with time passed in
/// (monotonic ms); not thread-safe (owned by the node actor).
struct JoinRateLimiter: Sendable {
    /// Most frames in a burst.
    let capacity: Int
    /// One token comes back every this many ms.
    let refillMs: Int64
    /// Most peers tracked; beyond it the peer with the fullest bucket (the least recent) is dropped.
    let maxPeers: Int

    private struct Bucket: Sendable {
        var tokens: Double
        var atMs: Int64
    }
    private var buckets: [SigningPublicKey: Bucket] = [:]
    /// Per peer: the group name of its last `JoinQuery` that took a token, and when (ms).
    private var lastQuery: [SigningPublicKey: (name: String, atMs: Int64)] = [:]

    init(capacity: Int = 5, refillMs: Int64 = 12_000, maxPeers: Int = 1024) {
        precondition(capacity >= 1 && refillMs >= 1 && maxPeers >= 1)
        self.capacity = capacity; self.refillMs = refillMs; self.maxPeers = maxPeers
    }

    /// Takes a token for `peer` at `nowMs`.
    /// - Returns: nil when allowed, else the ms until the next token.
    mutating func take(_ peer: SigningPublicKey, nowMs: Int64) -> Int64? {
        var b = level(peer, nowMs: nowMs)
        guard b.tokens >= 1 else {
            buckets[peer] = b
            return max(1, Int64(((1 - b.tokens) * Double(refillMs)).rounded(.up)))
        }
        b.tokens -= 1
        if buckets[peer] == nil, buckets.count >= maxPeers,
           let oldest = buckets.min(by: { $0.value.atMs < $1.value.atMs })?.key {
            buckets.removeValue(forKey: oldest)
        }
        buckets[peer] = b
        return nil
    }

    /// Takes a token for a `JoinQuery` of `name` from `peer` at `nowMs`, except for a query that
    /// repeats the peer's last charged one within `repeatWindowMs` (a requester asks again on its
    /// other channel to the same node when the first closed unanswered): that one is free.
    /// - Returns: nil when allowed, else the ms until the next token.
    mutating func takeQuery(_ peer: SigningPublicKey, name: String, nowMs: Int64, repeatWindowMs: Int64) -> Int64? {
        if let last = lastQuery[peer], last.name == name, nowMs - last.atMs < repeatWindowMs { return nil }
        if let wait = take(peer, nowMs: nowMs) { return wait }
        if lastQuery[peer] == nil, lastQuery.count >= maxPeers,
           let oldest = lastQuery.min(by: { $0.value.atMs < $1.value.atMs })?.key {
            lastQuery.removeValue(forKey: oldest)
        }
        lastQuery[peer] = (name, nowMs)
        return nil
    }

    /// Tokens `peer` holds at `nowMs` (for tests and status).
    func tokens(_ peer: SigningPublicKey, nowMs: Int64) -> Double { level(peer, nowMs: nowMs).tokens }

    private func level(_ peer: SigningPublicKey, nowMs: Int64) -> Bucket {
        guard var b = buckets[peer] else { return Bucket(tokens: Double(capacity), atMs: nowMs) }
        let elapsed = max(0, nowMs - b.atMs)
        b.tokens = min(Double(capacity), b.tokens + Double(elapsed) / Double(refillMs))
        b.atMs = max(b.atMs, nowMs)
        return b
    }
}
