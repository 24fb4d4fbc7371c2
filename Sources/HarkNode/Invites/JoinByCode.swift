import HarkCrypto
import HarkLog

/// Limits of joining by code (PROTOCOL.md §5.7).
enum JoinCodeLimits {
    /// How long an admin keeps a request its user has not decided on: 10 min (ms).
    static let requestLifetimeMs: Int64 = 10 * 60_000
    /// Most undecided requests an admin keeps; the oldest goes first.
    static let maxPending = 64
    /// How long a requester waits for every connected peer to answer a `JoinQuery`: 3 s (ms).
    static let queryWindowMs: Int64 = 3_000
    /// Validity of the invite an admin hands over on approval: 10 min (ms).
    static let inviteExpiryMs: Int64 = 10 * 60_000
    /// Most `--for` invites remembered for automatic approval; the oldest goes first.
    static let maxRemembered = 256
    /// Longest group name in a join frame: 64 bytes of UTF-8.
    static let maxGroupNameBytes = 64
}

/// A request to join, held by an admin until its user approves or refuses it (PROTOCOL.md §5.7).
struct IncomingJoinRequest: Sendable, Equatable {
    /// The channel the request came on; the code is bound to its handshake hash.
    let sessionID: UInt64
    let peer: PeerID
    /// The requester's display name (≤ 64 B, informational).
    let displayName: String
    let group: EventID
    let groupName: String
    /// The requester's commitment (32 B).
    let commitment: [UInt8]
    /// This node's nonce (32 B).
    let ownNonce: [UInt8]
    /// Known once the requester revealed its nonce and it matched the commitment: "123 456".
    var code: String?
    /// When it arrived: wall clock (ms since the Unix epoch) and monotonic (ms).
    let receivedMs: Int64
    let receivedMonoMs: Int64
}

/// The admin side of joining by code: requests awaiting a decision, and the `--for` invites that
/// approve a request from their peer without a code. Pure state machine with time passed in;
/// not thread-safe (owned by the node actor).
struct JoinRequestBook: Sendable {
    private(set) var requests: [IncomingJoinRequest] = []

    /// A `--for` invite this node made: a request from `peer` for `group` gets `token` at once.
    struct Remembered: Sendable {
        let group: EventID
        let peer: SigningPublicKey
        let token: String
        /// Expiry of the invite, ms since the Unix epoch.
        let expiresMs: Int64
    }
    private(set) var remembered: [Remembered] = []

    /// Adds a request; one from the same peer for the same group replaces it. Beyond
    /// `JoinCodeLimits.maxPending` the oldest is dropped.
    mutating func add(_ r: IncomingJoinRequest) {
        requests.removeAll { $0.peer == r.peer && $0.group == r.group }
        if requests.count >= JoinCodeLimits.maxPending { requests.removeFirst() }
        requests.append(r)
    }

    enum RevealOutcome: Sendable, Equatable {
        /// The nonce matched the commitment: both screens show this code.
        case code(String)
        /// It did not: the request is dropped.
        case mismatch
        /// No request awaits a reveal from this peer on this channel.
        case unknown
    }

    /// The requester revealed its nonce on channel `sessionID` (with handshake hash `handshakeHash`).
    mutating func reveal(sessionID: UInt64, peer: PeerID, groupName: String, nonce: [UInt8], handshakeHash: [UInt8]) -> RevealOutcome {
        guard let i = requests.firstIndex(where: {
            $0.sessionID == sessionID && $0.peer == peer && $0.groupName == groupName && $0.code == nil
        }) else { return .unknown }
        let r = requests[i]
        guard nonce.count == PairingCode.nonceByteCount,
              constantTimeEqual(PairingCode.commitment(handshakeHash: handshakeHash, initiatorNonce: nonce), r.commitment) else {
            requests.remove(at: i)
            return .mismatch
        }
        let code = PairingCode.code(handshakeHash: handshakeHash, initiatorNonce: nonce, responderNonce: r.ownNonce)
        requests[i].code = code
        return .code(code)
    }

    /// Drops requests older than `JoinCodeLimits.requestLifetimeMs` at monotonic `nowMonoMs`,
    /// those whose channel closed, and remembered invites expired at wall `nowMs`.
    mutating func expire(nowMonoMs: Int64, nowMs: Int64, openSessions: Set<UInt64>) {
        requests.removeAll { nowMonoMs - $0.receivedMonoMs >= JoinCodeLimits.requestLifetimeMs || !openSessions.contains($0.sessionID) }
        remembered.removeAll { $0.expiresMs < nowMs }
    }

    enum Selection: Sendable, Equatable {
        case found(IncomingJoinRequest)
        /// No request of the group shows this code (or none has a code yet).
        case noCode
        /// The group has no request from this peer.
        case noPeer
    }

    /// The request of `group` whose code is `code` (digits compared, spaces ignored), or from `peer`.
    /// Only requests with a code (the requester revealed) can be selected.
    func select(group: EventID, code: String? = nil, peer: PeerID? = nil) -> Selection {
        let ready = requests.filter { $0.group == group && $0.code != nil }
        if let code {
            let digits = code.filter(\.isNumber)
            guard let r = ready.first(where: { $0.code?.filter(\.isNumber) == digits }) else { return .noCode }
            return .found(r)
        }
        guard let peer, let r = ready.first(where: { $0.peer == peer }) else { return .noPeer }
        return .found(r)
    }

    mutating func remove(_ r: IncomingJoinRequest) {
        requests.removeAll { $0.peer == r.peer && $0.group == r.group }
    }

    /// Remembers a `--for` invite (the newest one for a peer and group wins).
    mutating func remember(_ r: Remembered) {
        remembered.removeAll { $0.group == r.group && $0.peer == r.peer }
        if remembered.count >= JoinCodeLimits.maxRemembered { remembered.removeFirst() }
        remembered.append(r)
    }

    /// The token of an unexpired `--for` invite for `peer` in `group`, taken out (used once).
    mutating func takeRemembered(group: EventID, peer: SigningPublicKey, nowMs: Int64) -> String? {
        guard let i = remembered.firstIndex(where: { $0.group == group && $0.peer == peer && $0.expiresMs >= nowMs }) else { return nil }
        return remembered.remove(at: i).token
    }
}

/// The requester side of one join by code (PROTOCOL.md §5.7). Pure state machine with time passed
/// in; not thread-safe (owned by the node actor).
struct OutgoingJoinRequest: Sendable {
    enum State: String, Sendable {
        /// Asking every connected peer whether it administers a group of the name.
        case querying
        /// The request went to the admin; waiting for its nonce.
        case asked
        /// Both screens show the code; waiting for the admin's user.
        case code
        /// Approved: the invite handed over is being redeemed (then `group.join.status`).
        case accepted
        case refused
        /// No connected node administers a group of the name (or the named admin does not).
        case notFound = "not_found"
        /// Several nodes offer a group of the name.
        case ambiguous
        /// The admin (or every admin) refused because this node asked too often.
        case rateLimited = "rate_limited"
        /// The channel closed, or the invite handed over could not be used.
        case failed
    }

    let groupName: String
    /// This node's nonce (32 B), committed to in the request.
    let nonce: [UInt8]
    var state: State
    /// The admin asked, once chosen.
    var admin: PeerID?
    var adminName: String?
    var sessionID: UInt64?
    var code: String?
    var reason: String?
    var retryAfterMs: Int64?
    /// The group's ID (hex) once an invite was handed over.
    var groupID: String?
    /// `querying`: the channels asked, and their answers (true: an admin of such a group).
    var queried: [UInt64: PeerID] = [:]
    var answers: [UInt64: Bool] = [:]
    var limitedBy: [UInt64: Int64] = [:]
    /// When the query started, monotonic ms.
    let startedMonoMs: Int64

    init(groupName: String, nonce: [UInt8], nowMonoMs: Int64) {
        self.groupName = groupName; self.nonce = nonce; self.state = .querying; self.startedMonoMs = nowMonoMs
    }

    var isFinished: Bool { ![.querying, .asked, .code].contains(state) }

    /// While querying: the admin to ask once every asked channel answered, or the query window
    /// (`JoinCodeLimits.queryWindowMs`) passed at monotonic `nowMonoMs`. Sets `notFound`,
    /// `ambiguous` or `rateLimited` when no single admin is found; `names` gives display names
    /// for the candidate list.
    /// Whether `peer` answered the query (or refused it as rate-limited) on any channel asked.
    func hasAnswer(from peer: PeerID) -> Bool {
        queried.contains { $0.value == peer && (answers[$0.key] != nil || limitedBy[$0.key] != nil) }
    }

    mutating func decide(nowMonoMs: Int64, names: [PeerID: String]) -> (session: UInt64, peer: PeerID)? {
        guard state == .querying else { return nil }
        // Counted per peer: a peer asked on two channels has answered once either channel has.
        let allAnswered = Set(queried.values).allSatisfy { hasAnswer(from: $0) }
        guard allAnswered || nowMonoMs - startedMonoMs >= JoinCodeLimits.queryWindowMs else { return nil }
        // One peer may be connected by two channels: count peers, not channels.
        var yes: [PeerID: UInt64] = [:]
        for (s, a) in answers where a {
            guard let p = queried[s] else { continue }
            if let known = yes[p], known <= s { continue }
            yes[p] = s
        }
        if yes.count == 1, let (p, s) = yes.first { return (s, p) }
        if yes.count > 1 {
            state = .ambiguous
            let list = yes.keys.sorted().map { "\(names[$0] ?? "?") (\($0.fingerprint))" }.joined(separator: "; ")
            reason = "\(yes.count) nodes offer a group named \(groupName): \(list); name one: hark group join \(groupName)@NAME"
        } else if let wait = limitedBy.values.max() {
            state = .rateLimited
            retryAfterMs = wait
            reason = "asked too often; try again in \((wait + 999) / 1000) s"
        } else {
            state = .notFound
            reason = queried.isEmpty
                ? "no peer is connected; a join by name needs an admin of \(groupName) online on the LAN"
                : "no connected node administers a group named \(groupName) (asked \(Set(queried.values).count) peers)"
        }
        return nil
    }
}
