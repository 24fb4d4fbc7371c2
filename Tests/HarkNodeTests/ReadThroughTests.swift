import Foundation
import HarkControl
import HarkCrypto
@testable import HarkNode
import HarkLog
import HarkStore
import Testing

/// `read` with `through`: a client that has shown messages up to one of them moves the read
/// marker only when no message by another member sorts after it (docs/CONTROL.md, `read`).
@Suite struct ReadThroughTests {
    @Test func aMarkerNeverCoversAMessageAfterTheOneShown() async throws {
        let n = try await RunningNode.start("through")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            let g = try await n.node.resolveGroup("ops")
            let bob = SigningKeyPair.generate()
            _ = try await n.node.addMember(group: "ops", key: bob.publicKey)
            let store = n.node.store
            var previous: Event?
            var ids: [String] = []
            for _ in 0..<3 {
                let parents = try store.events(try store.heads(group: g.id))
                let e = try EventAuthor.make(kind: .message, groupID: g.id, author: bob, seq: (previous?.seq ?? 0) + 1,
                                             selfParent: previous, parents: parents, wallMs: 1_000, body: SecureRandom.bytes(64))
                #expect(try await n.node.importEvents([try e.signedEvent.serializedData()]).imported == 1)
                previous = e
                ids.append(e.id.hex)
            }
            #expect(await n.node.groupView(g).unread == 3)
            // Shown up to the second: the third is unseen, so no marker.
            let early = try await n.node.markRead(group: "ops", through: String(ids[1].prefix(12)))
            #expect(early.marker == nil && early.newlyRead == 0)
            #expect(await n.node.groupView(g).unread == 3)
            await #expect(throws: ControlErrorBody.self) { try await n.node.markRead(group: "ops", through: "zzzzzzzz") }
            // Own messages after the one shown do not hold the marker back.
            _ = try await n.node.sendMessage(group: "ops", text: "mine")
            let all = try await n.node.markRead(group: "ops", through: ids[2])
            #expect(all.marker != nil && all.newlyRead == 3)
            #expect(await n.node.groupView(g).unread == 0)
        }
    }
}
