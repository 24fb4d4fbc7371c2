import Foundation
import HarkCrypto
import HarkLog
@testable import HarkNode
import HarkStore
import HarkWire
import HarkWireProto
import Testing

/// A group is sent only to its members (PROTOCOL.md §5.3): a peer that holds the group key but
/// is not a member, or no longer one, receives none of its events.
@Suite(.serialized) struct MembershipNodeTests {
    /// Frames arriving within `seconds`, opened.
    func frames(_ s: RawPeerSocket, _ records: inout RecordLayer, seconds: Double) async throws -> [Hark_V1_Frame] {
        var out: [Hark_V1_Frame] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let m = await s.nextMessage() else { break }
            if let f = try records.open(m) { out.append(f) }
        }
        return out
    }

    func carriesGroup(_ f: Hark_V1_Frame, _ g: EventID) -> Bool {
        switch f.frame {
        case let .events(e)?: return [UInt8](e.groupID) == g.bytes
        case let .heads(h)?: return [UInt8](h.groupID) == g.bytes
        case let .syncRequest(r)?: return [UInt8](r.groupID) == g.bytes
        case let .syncReply(r)?: return [UInt8](r.groupID) == g.bytes
        default: return false
        }
    }

    @Test func aKeyHolderWhoIsNotAMemberReceivesNothing() async throws {
        let n = try await RunningNode.start("members-only")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            let g = try await n.node.resolveGroup("ops")
            var (s, records) = try await memberChannel(to: n, groupKey: g.key, identity: SigningKeyPair.generate(), asMember: false)
            _ = try await n.node.sendMessage(group: "ops", text: "members only")
            let got = try await frames(s, &records, seconds: 2)
            #expect(!got.contains { carriesGroup($0, g.id) }, "a non-member got a frame of the group")
            #expect(!got.isEmpty, "the channel itself works (key, offer, pings)")
        }
    }

    @Test func aRemovedMemberStopsReceiving() async throws {
        let n = try await RunningNode.start("removal")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            let g = try await n.node.resolveGroup("ops")
            let bob = SigningKeyPair.generate()
            var (s, records) = try await memberChannel(to: n, groupKey: g.key, identity: bob)
            _ = try await n.node.sendMessage(group: "ops", text: "while a member")
            #expect(try await frames(s, &records, seconds: 1.5).contains { carriesGroup($0, g.id) })
            _ = try await n.node.changeMember(group: "ops", peer: PeerID(bob.publicKey).description, action: .remove, role: nil)
            _ = try await frames(s, &records, seconds: 0.5)   // the REMOVE itself may still go out
            _ = try await n.node.sendMessage(group: "ops", text: "after the removal")
            let later = try await frames(s, &records, seconds: 1.5)
            #expect(!later.contains { carriesGroup($0, g.id) }, "a removed member still got a frame of the group")
        }
    }
}
