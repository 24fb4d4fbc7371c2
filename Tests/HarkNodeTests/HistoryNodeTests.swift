import Foundation
import HarkControl
import HarkCrypto
@testable import HarkNode
import HarkLog
import HarkStore
import Testing

/// `log` pages, edits, deletes, reactions and unread counts through the node, read from the
/// store's read model (docs/HISTORY.md).
@Suite struct HistoryNodeTests {
    @Test func logPagesBeforeAndAfterAMessage() async throws {
        let n = try await RunningNode.start("pages")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            var ids: [String] = []
            for i in 0..<25 { ids.append(try await n.node.sendMessage(group: "ops", text: "m\(i)").id) }
            #expect(try await n.node.log(group: "ops", limit: 10).map(\.text) == (15..<25).map { "m\($0)" })
            #expect(try await n.node.log(group: "ops", limit: nil).count == 25)
            let before = try await n.node.log(group: "ops", limit: 10, before: String(ids[15].prefix(8)))
            #expect(before.map(\.text) == (5..<15).map { "m\($0)" })
            let after = try await n.node.log(group: "ops", limit: 3, after: ids[4])
            #expect(after.map(\.text) == ["m5", "m6", "m7"])
            #expect(try await n.node.log(group: "ops", limit: 5, before: ids[0]).isEmpty)
            await #expect(throws: ControlErrorBody.self) { try await n.node.log(group: "ops", limit: 5, before: ids[1], after: ids[0]) }
            await #expect(throws: ControlErrorBody.self) { try await n.node.log(group: "ops", limit: 5, before: "zzzzzzzz") }

            // Edit, react, delete: the page shows the result; the deleted body is purged in the store.
            _ = try await n.node.edit(group: "ops", message: ids[24], text: "m24 fixed")
            _ = try await n.node.react(group: "ops", message: ids[24], emoji: "👍", remove: false)
            var last = try await n.node.log(group: "ops", limit: 1)[0]
            #expect(last.text == "m24 fixed" && last.edited && last.reactions == [ReactionView(emoji: "👍", count: 1)])
            _ = try await n.node.react(group: "ops", message: ids[24], emoji: "👍", remove: true)
            last = try await n.node.log(group: "ops", limit: 1)[0]
            #expect(last.reactions.isEmpty)
            _ = try await n.node.delete(group: "ops", message: ids[23])
            #expect(try await n.node.log(group: "ops", limit: 2).map(\.text) == ["m22", "m24 fixed"])
            let deleted = try EventID(hex: ids[23])
            #expect(try n.node.store.event(deleted)?.body == nil)
            #expect(try n.node.store.plaintext(deleted) == nil)
            // Paging around a deleted message still works.
            #expect(try await n.node.log(group: "ops", limit: 1, after: ids[23]).map(\.text) == ["m24 fixed"])
        }
    }

    @Test func unreadCountsAndReadMarkers() async throws {
        let n = try await RunningNode.start("unread")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            _ = try await n.node.sendMessage(group: "ops", text: "mine")
            let g = try await n.node.resolveGroup("ops")
            #expect(await n.node.groupView(g).unread == 0)
            #expect(try await n.node.markRead(group: "ops").marker == nil)
            // Another member writes two messages (delivered as `import` does).
            let bob = SigningKeyPair.generate()
            _ = try await n.node.addMember(group: "ops", key: bob.publicKey)
            let store = n.node.store
            var previous: Event?
            for _ in 0..<2 {
                let parents = try store.events(try store.heads(group: g.id))
                let e = try EventAuthor.make(kind: .message, groupID: g.id, author: bob, seq: (previous?.seq ?? 0) + 1,
                                             selfParent: previous, parents: parents, wallMs: 1_000, body: SecureRandom.bytes(64))
                let result = try await n.node.importEvents([try e.signedEvent.serializedData()])
                #expect(result.imported == 1, "\(result)")
                previous = e
            }
            #expect(await n.node.groupView(g).unread == 2)
            #expect(await n.node.status().unread == 2)
            let read = try await n.node.markRead(group: "ops")
            #expect(read.marker != nil && read.newlyRead == 2)
            #expect(await n.node.groupView(g).unread == 0)
            #expect(try await n.node.markRead(group: "ops").marker == nil)
        }
    }
}
