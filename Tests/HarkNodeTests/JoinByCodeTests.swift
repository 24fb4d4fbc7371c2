import HarkCrypto
import HarkLog
import Testing
@testable import HarkNode

/// The pure parts of joining by code (PROTOCOL.md §5.7): the per-peer rate limit, the admin's
/// request book, and the requester's choice of admin.
@Suite struct JoinByCodeTests {
    let alice = SigningKeyPair.generate().publicKey
    let bob = SigningKeyPair.generate().publicKey

    // MARK: rate limit

    @Test func aBurstBeyondCapacityIsRefusedWithTheWait() {
        var l = JoinRateLimiter(capacity: 3, refillMs: 10_000)
        for _ in 0..<3 { #expect(l.take(alice, nowMs: 1_000) == nil) }
        #expect(l.take(alice, nowMs: 1_000) == 10_000)
        #expect(l.take(alice, nowMs: 6_000) == 5_000)
        // Another peer has its own bucket.
        #expect(l.take(bob, nowMs: 6_000) == nil)
    }

    @Test func aQueryRepeatedWithinTheWindowIsFree() {
        var l = JoinRateLimiter(capacity: 2, refillMs: 10_000)
        #expect(l.takeQuery(alice, name: "ops", nowMs: 0, repeatWindowMs: 3_000) == nil)
        #expect(l.takeQuery(alice, name: "ops", nowMs: 2_999, repeatWindowMs: 3_000) == nil)   // free
        #expect(l.tokens(alice, nowMs: 2_999) < 1.4)                                           // one taken, not two
        #expect(l.takeQuery(alice, name: "dev", nowMs: 3_000, repeatWindowMs: 3_000) == nil)   // another name pays
        #expect(l.takeQuery(alice, name: "dev", nowMs: 3_001, repeatWindowMs: 3_000) == nil)   // its repeat is free
        #expect(l.takeQuery(alice, name: "ops", nowMs: 3_002, repeatWindowMs: 3_000) != nil)   // no token left
    }

    @Test func tokensComeBackWithTimeUpToCapacity() {
        var l = JoinRateLimiter(capacity: 2, refillMs: 1_000)
        #expect(l.take(alice, nowMs: 0) == nil)
        #expect(l.take(alice, nowMs: 0) == nil)
        #expect(l.take(alice, nowMs: 999) != nil)
        #expect(l.take(alice, nowMs: 1_000) == nil)
        // A long silence refills to capacity, not beyond.
        #expect(l.tokens(alice, nowMs: 1_000_000) == 2)
        #expect(l.take(alice, nowMs: 1_000_000) == nil)
        #expect(l.take(alice, nowMs: 1_000_000) == nil)
        #expect(l.take(alice, nowMs: 1_000_000) != nil)
    }

    @Test func theTrackedPeersAreBounded() {
        var l = JoinRateLimiter(capacity: 1, refillMs: 60_000, maxPeers: 2)
        let keys = (0..<3).map { _ in SigningKeyPair.generate().publicKey }
        for (i, k) in keys.enumerated() { #expect(l.take(k, nowMs: Int64(i)) == nil) }
        // The first peer was dropped (the oldest), so it starts over with a full bucket.
        #expect(l.take(keys[0], nowMs: 3) == nil)
        #expect(l.take(keys[2], nowMs: 3) != nil)
    }

    // MARK: admin book

    func request(_ peer: SigningPublicKey, group: EventID, session: UInt64 = 1, hh: [UInt8], nonce: [UInt8], monoMs: Int64 = 0)
        -> IncomingJoinRequest {
        IncomingJoinRequest(sessionID: session, peer: PeerID(peer), displayName: "bob", group: group, groupName: "ops",
                            commitment: PairingCode.commitment(handshakeHash: hh, initiatorNonce: nonce),
                            ownNonce: SecureRandom.bytes(32), code: nil, receivedMs: 0, receivedMonoMs: monoMs)
    }

    let group = try! EventID(bytes: [UInt8](repeating: 7, count: 32))

    @Test func theRevealGivesThePairingCodeBothSidesCompute() throws {
        let hh = SecureRandom.bytes(32), mine = SecureRandom.bytes(32)
        var book = JoinRequestBook()
        let r = request(bob, group: group, hh: hh, nonce: mine)
        book.add(r)
        #expect(book.select(group: group, peer: PeerID(bob)) == .noPeer)   // no code yet: not selectable
        let outcome = book.reveal(sessionID: 1, peer: PeerID(bob), groupName: "ops", nonce: mine, handshakeHash: hh)
        let expected = PairingCode.code(handshakeHash: hh, initiatorNonce: mine, responderNonce: r.ownNonce)
        #expect(outcome == .code(expected))
        guard case let .found(f) = book.select(group: group, code: expected.replacingOccurrences(of: " ", with: "")) else {
            Issue.record("the request is not found by its code"); return
        }
        #expect(f.peer == PeerID(bob))
        #expect(book.select(group: group, peer: PeerID(bob)) == .found(f))
    }

    @Test func aWrongCodeSelectsNothing() {
        let hh = SecureRandom.bytes(32), mine = SecureRandom.bytes(32)
        var book = JoinRequestBook()
        book.add(request(bob, group: group, hh: hh, nonce: mine))
        guard case let .code(code) = book.reveal(sessionID: 1, peer: PeerID(bob), groupName: "ops", nonce: mine, handshakeHash: hh) else {
            Issue.record("no code"); return
        }
        let digits = Int(code.filter(\.isNumber))!
        let wrong = String(format: "%06d", (digits + 1) % 1_000_000)
        #expect(book.select(group: group, code: wrong) == .noCode)
        #expect(book.requests.count == 1)
    }

    @Test func aNonceThatMissesItsCommitmentDropsTheRequest() {
        let hh = SecureRandom.bytes(32)
        var book = JoinRequestBook()
        book.add(request(bob, group: group, hh: hh, nonce: SecureRandom.bytes(32)))
        #expect(book.reveal(sessionID: 1, peer: PeerID(bob), groupName: "ops", nonce: SecureRandom.bytes(32), handshakeHash: hh) == .mismatch)
        #expect(book.requests.isEmpty)
    }

    @Test func aRevealOnAnotherChannelIsIgnored() {
        let hh = SecureRandom.bytes(32), mine = SecureRandom.bytes(32)
        var book = JoinRequestBook()
        book.add(request(bob, group: group, session: 1, hh: hh, nonce: mine))
        #expect(book.reveal(sessionID: 2, peer: PeerID(bob), groupName: "ops", nonce: mine, handshakeHash: hh) == .unknown)
        #expect(book.reveal(sessionID: 1, peer: PeerID(alice), groupName: "ops", nonce: mine, handshakeHash: hh) == .unknown)
    }

    @Test func requestsExpireAndDieWithTheirChannel() {
        var book = JoinRequestBook()
        book.add(request(bob, group: group, session: 1, hh: SecureRandom.bytes(32), nonce: SecureRandom.bytes(32), monoMs: 0))
        book.add(request(alice, group: group, session: 2, hh: SecureRandom.bytes(32), nonce: SecureRandom.bytes(32), monoMs: 0))
        book.expire(nowMonoMs: 1_000, nowMs: 0, openSessions: [1])
        #expect(book.requests.map(\.peer) == [PeerID(bob)])
        book.expire(nowMonoMs: JoinCodeLimits.requestLifetimeMs, nowMs: 0, openSessions: [1])
        #expect(book.requests.isEmpty)
    }

    @Test func aNewRequestReplacesTheSamePeersAndTheBookIsBounded() {
        var book = JoinRequestBook()
        book.add(request(bob, group: group, hh: SecureRandom.bytes(32), nonce: SecureRandom.bytes(32)))
        book.add(request(bob, group: group, hh: SecureRandom.bytes(32), nonce: SecureRandom.bytes(32)))
        #expect(book.requests.count == 1)
        for _ in 0..<(JoinCodeLimits.maxPending + 5) {
            book.add(request(SigningKeyPair.generate().publicKey, group: group, hh: SecureRandom.bytes(32), nonce: SecureRandom.bytes(32)))
        }
        #expect(book.requests.count == JoinCodeLimits.maxPending)
    }

    @Test func aRememberedInviteIsUsedOnceAndOnlyWhileValid() {
        var book = JoinRequestBook()
        book.remember(.init(group: group, peer: bob, token: "hark1x", expiresMs: 1_000))
        #expect(book.takeRemembered(group: group, peer: alice, nowMs: 0) == nil)
        #expect(book.takeRemembered(group: group, peer: bob, nowMs: 1_001) == nil)
        #expect(book.takeRemembered(group: group, peer: bob, nowMs: 500) == "hark1x")
        #expect(book.takeRemembered(group: group, peer: bob, nowMs: 500) == nil)
    }

    // MARK: requester's choice

    @Test func exactlyOneAdminIsAsked() {
        var o = OutgoingJoinRequest(groupName: "ops", nonce: SecureRandom.bytes(32), nowMonoMs: 0)
        o.queried = [1: PeerID(alice), 2: PeerID(bob)]
        o.answers[1] = true
        #expect(o.decide(nowMonoMs: 10, names: [:]) == nil)    // bob has not answered yet
        #expect(o.state == .querying)
        o.answers[2] = false
        let choice = o.decide(nowMonoMs: 20, names: [:])
        #expect(choice?.session == 1 && choice?.peer == PeerID(alice))
    }

    @Test func twoAdminsAreAmbiguousAndListed() {
        var o = OutgoingJoinRequest(groupName: "ops", nonce: SecureRandom.bytes(32), nowMonoMs: 0)
        o.queried = [1: PeerID(alice), 2: PeerID(bob)]
        o.answers = [1: true, 2: true]
        #expect(o.decide(nowMonoMs: 10, names: [PeerID(alice): "alice", PeerID(bob): "bob"]) == nil)
        #expect(o.state == .ambiguous)
        #expect(o.reason?.contains("alice (\(PeerID(alice).fingerprint))") == true)
        #expect(o.reason?.contains("bob (\(PeerID(bob).fingerprint))") == true)
    }

    @Test func oneAdminOnTwoChannelsIsOneCandidate() {
        var o = OutgoingJoinRequest(groupName: "ops", nonce: SecureRandom.bytes(32), nowMonoMs: 0)
        o.queried = [4: PeerID(alice), 3: PeerID(alice)]
        o.answers = [3: true, 4: true]
        #expect(o.decide(nowMonoMs: 10, names: [:])?.session == 3)
    }

    @Test func aPeerReaskedOnItsOtherChannelCountsOnceAnswered() {
        // Bob's first channel closed unanswered; the query went again on his second one.
        var o = OutgoingJoinRequest(groupName: "ops", nonce: SecureRandom.bytes(32), nowMonoMs: 0)
        o.queried = [1: PeerID(alice), 2: PeerID(bob), 3: PeerID(bob)]
        o.answers = [1: true]
        #expect(!o.hasAnswer(from: PeerID(bob)))
        #expect(o.decide(nowMonoMs: 10, names: [:]) == nil)
        #expect(o.state == .querying)
        o.answers[3] = true
        #expect(o.hasAnswer(from: PeerID(bob)))
        #expect(o.decide(nowMonoMs: 20, names: [:]) == nil)
        #expect(o.state == .ambiguous)
    }

    @Test func silenceUntilTheWindowEndsIsNotFound() {
        var o = OutgoingJoinRequest(groupName: "ops", nonce: SecureRandom.bytes(32), nowMonoMs: 0)
        o.queried = [1: PeerID(alice)]
        #expect(o.decide(nowMonoMs: JoinCodeLimits.queryWindowMs - 1, names: [:]) == nil)
        #expect(o.state == .querying)
        #expect(o.decide(nowMonoMs: JoinCodeLimits.queryWindowMs, names: [:]) == nil)
        #expect(o.state == .notFound)
    }

    @Test func aRateLimitedQueryWithNoAdminSaysSo() {
        var o = OutgoingJoinRequest(groupName: "ops", nonce: SecureRandom.bytes(32), nowMonoMs: 0)
        o.queried = [1: PeerID(alice)]
        o.limitedBy[1] = 4_000
        #expect(o.decide(nowMonoMs: 1, names: [:]) == nil)
        #expect(o.state == .rateLimited)
        #expect(o.retryAfterMs == 4_000)
    }
}
