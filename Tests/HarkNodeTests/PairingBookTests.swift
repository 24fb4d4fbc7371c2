import Foundation
import HarkCrypto
import HarkTesting
import HarkWireProto
import Testing
@testable import HarkNode

/// `PairingBook`, the pure state machine of `hark pair` (PROTOCOL.md §3.3): two books exchange
/// the steps they return, as two nodes would over one channel.
@Suite struct PairingBookTests {
    let alice = PeerID(Fixture.alice.publicKey), bob = PeerID(Fixture.bob.publicKey)
    let hh = [UInt8](repeating: 0x01, count: 32)
    let nonceA = [UInt8](repeating: 0x02, count: 32), nonceB = [UInt8](repeating: 0x03, count: 32)

    /// Delivers `steps` from `from` to `book` (one channel, session 7) and returns its answers.
    func deliver(_ steps: [Hark_V1_Pair.OneOf_Step], to book: inout PairingBook, from: PeerID, smaller: Bool,
                 nonce: [UInt8], nowMs: Int64 = 1_000) throws -> ([Hark_V1_Pair.OneOf_Step], [PairingBook.Note]) {
        var out: [Hark_V1_Pair.OneOf_Step] = [], notes: [PairingBook.Note] = []
        for step in steps {
            let (send, note) = try book.receive(step, from: from, sessionID: 7, handshakeHash: hh, ownKeyIsSmaller: smaller,
                                                nonce: nonce, nowMs: nowMs)
            out += send
            if let note { notes.append(note) }
        }
        return (out, notes)
    }

    @Test func bothSidesDeriveTheSameCodeAndConfirm() throws {
        var a = PairingBook(), b = PairingBook()
        let (started, first) = a.start(peer: bob, sessionID: 7, handshakeHash: hh, nonce: nonceA, nowMs: 1_000)
        #expect(started.state == "waiting")
        let commitment = try #require(first)
        let (toA, notesB) = try deliver([commitment], to: &b, from: alice, smaller: false, nonce: nonceB)
        #expect(notesB == [.requested])
        #expect(b[alice]?.role == .responder)
        let (toB, _) = try deliver(toA, to: &a, from: bob, smaller: true, nonce: nonceA)
        #expect(a[bob]?.state == "compare")
        _ = try deliver(toB, to: &b, from: alice, smaller: false, nonce: nonceB)
        // The published example: h = 32 × 0x01, n_i = 32 × 0x02, n_r = 32 × 0x03 give 394 444.
        #expect(a[bob]?.code == "394 444")
        #expect(b[alice]?.code == "394 444")

        #expect(a.checkConfirmation(peer: bob, code: "394 445") == .failure(.mismatch))
        let pending = try #require(a[bob])
        #expect(a.checkConfirmation(peer: bob, code: "394444") == .success(pending))
        let step = a.confirmed(peer: bob)
        let yes = try #require(step)
        #expect(a[bob]?.state == "confirmed")
        let (_, notes) = try deliver([yes], to: &b, from: alice, smaller: false, nonce: nonceB)
        #expect(notes == [.peerConfirmed])
        #expect(b[alice]?.peerConfirmed == true)
    }

    @Test func aNonceThatDoesNotMatchItsCommitmentFailsThePairing() throws {
        var b = PairingBook()
        let commitment = Data(PairingCode.commitment(handshakeHash: hh, initiatorNonce: nonceA))
        _ = try deliver([.commitment(commitment)], to: &b, from: alice, smaller: false, nonce: nonceB)
        let other = Data([UInt8](repeating: 0x09, count: 32))
        let (sent, notes) = try deliver([.initiatorNonce(other)], to: &b, from: alice, smaller: false, nonce: nonceB)
        #expect(sent == [.confirmed(false)])
        #expect(notes == [.failed("the peer's nonce does not match its commitment")])
        #expect(b[alice]?.state == "failed")
        #expect(b[alice]?.code == nil)
        #expect(b.checkConfirmation(peer: alice, code: "394 444") == .failure(.notReady))
    }

    @Test func whenBothStartAtOnceTheSmallerKeyStaysTheInitiator() throws {
        var a = PairingBook(), b = PairingBook()
        let (_, fromA) = a.start(peer: bob, sessionID: 7, handshakeHash: hh, nonce: nonceA, nowMs: 1_000)
        let (_, fromB) = b.start(peer: alice, sessionID: 7, handshakeHash: hh, nonce: nonceB, nowMs: 1_000)
        let aIsSmaller = alice.key < bob.key
        let (answerA, _) = try deliver([try #require(fromB)], to: &a, from: bob, smaller: aIsSmaller, nonce: nonceA)
        let (answerB, _) = try deliver([try #require(fromA)], to: &b, from: alice, smaller: !aIsSmaller, nonce: nonceB)
        // Exactly one side turned responder and answered with its nonce.
        #expect((a[bob]?.role == .responder) != (b[alice]?.role == .responder))
        #expect(answerA.count + answerB.count == 1)
    }

    @Test func stepsOfAnotherChannelAndMalformedStepsChangeNothingOrThrow() throws {
        var a = PairingBook()
        _ = a.start(peer: bob, sessionID: 7, handshakeHash: hh, nonce: nonceA, nowMs: 1_000)
        let before = a[bob]
        let (sent, notes) = try a.receive(.responderNonce(Data(nonceB)), from: bob, sessionID: 8, handshakeHash: hh,
                                          ownKeyIsSmaller: true, nonce: nonceA, nowMs: 1_000)
        #expect(sent.isEmpty && notes == nil)
        #expect(a[bob] == before)
        var copy = a
        #expect(throws: ProtocolViolation.self) {
            try copy.receive(.responderNonce(Data([1, 2, 3])), from: bob, sessionID: 7, handshakeHash: hh,
                             ownKeyIsSmaller: true, nonce: nonceA, nowMs: 1_000)
        }
        #expect(throws: ProtocolViolation.self) {
            try copy.receive(nil, from: bob, sessionID: 7, handshakeHash: hh, ownKeyIsSmaller: true, nonce: nonceA, nowMs: 1_000)
        }
    }

    @Test func aPairingEndsWithItsChannelOrAfterItsLifetime() {
        var a = PairingBook()
        _ = a.start(peer: bob, sessionID: 7, handshakeHash: hh, nonce: nonceA, nowMs: 1_000)
        a.expire(nowMs: 1_000 + PairingBook.lifetimeMs - 1) { _ in true }
        #expect(a[bob] != nil)
        a.expire(nowMs: 1_000 + PairingBook.lifetimeMs) { _ in true }
        #expect(a[bob] == nil)
        _ = a.start(peer: bob, sessionID: 7, handshakeHash: hh, nonce: nonceA, nowMs: 1_000)
        a.channelClosed(7)
        #expect(a[bob] == nil)
        _ = a.start(peer: bob, sessionID: 7, handshakeHash: hh, nonce: nonceA, nowMs: 1_000)
        a.expire(nowMs: 1_000) { $0 != 7 }
        #expect(a[bob] == nil)
        // Rejecting tells the peer; a pairing already failed keeps its first reason.
        _ = a.start(peer: bob, sessionID: 7, handshakeHash: hh, nonce: nonceA, nowMs: 1_000)
        let rejected = a.reject(peer: bob)
        #expect(rejected?.1 == .confirmed(false))
        #expect(a[bob]?.failure == "refused on this side")
        #expect(a.reject(peer: alice) == nil)
    }
}
