import Foundation
import HarkControl
import HarkCrypto
import HarkLog
import HarkStore
import Testing
@testable import HarkNode

/// Replies, mentions and search through the node (docs/CONTROL.md `send`, `search`).
@Suite struct ConversationNodeTests {
    @Test func mentionBoundaries() {
        #expect(Node.text("hi @bob!", mentions: "bob"))
        #expect(Node.text("@Bob", mentions: "bob"))
        #expect(Node.text("ask @Bob Smith now", mentions: "bob smith"))
        #expect(!Node.text("hi @bobby", mentions: "bob"))
        #expect(!Node.text("hi bob", mentions: "bob"))
        #expect(Node.text("@bobby and @bob.", mentions: "bob"))
    }

    @Test func repliesMentionsAndSearch() async throws {
        let n = try await RunningNode.start("alice")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            let g = try await n.node.resolveGroup("ops")
            // Bob is a member this node knows by an alias only.
            let bob = SigningKeyPair.generate()
            _ = try await n.node.addMember(group: "ops", key: bob.publicKey)
            try n.node.store.upsertPeer(key: bob.publicKey, displayName: "bob", address: nil, seenMs: 1)
            await n.node.forgetTrustCache()
            _ = try await n.node.setPeerAlias(peer: PeerID(bob.publicKey).description, alias: "robert")

            let q = try await n.node.sendMessage(group: "ops", text: "who deploys the widget?")
            let a = try await n.node.sendMessage(group: "ops", text: "@robert and @alice, please", replyTo: String(q.id.prefix(8)))
            #expect(a.replyTo == q.id)
            #expect(a.reply == ReplyQuote(state: "message", authorName: "alice", text: "who deploys the widget?"))
            #expect(Set(a.mentions) == [PeerID(bob.publicKey).description, PeerID(n.node.identity.signing.publicKey).description])
            #expect(a.mentionsMe)
            let none = try await n.node.sendMessage(group: "ops", text: "@robert", resolveMentions: false)
            #expect(none.mentions.isEmpty)

            // A reply to a message not held yet: kept, and quoted as missing.
            let unknown = String(repeating: "ab", count: 32)
            let early = try await n.node.sendMessage(group: "ops", text: "late answer", replyTo: unknown)
            #expect(early.replyTo == unknown && early.reply?.state == "missing")
            // A full ID of an event that is not a message of the group is refused.
            await #expect(throws: ControlErrorBody.self) { try await n.node.sendMessage(group: "ops", text: "x", replyTo: g.id.hex) }
            await #expect(throws: ControlErrorBody.self) { try await n.node.sendMessage(group: "ops", text: "x", replyTo: "00000000") }

            // log shows the quote; after the original's deletion it says so.
            _ = try await n.node.delete(group: "ops", message: q.id)
            let page = try await n.node.log(group: "ops", limit: 10)
            #expect(page.first { $0.id == a.id }?.reply == ReplyQuote(state: "deleted"))

            // Search: through the same handler as the control socket.
            _ = try await n.node.sendMessage(group: "ops", text: "widget shipped")
            let found = try await n.node.search(SearchParams(group: "ops", query: "widget"))
            #expect(found.map(\.text) == ["widget shipped"], "the deleted question is not found")
            await #expect(throws: ControlErrorBody.self) { try await n.node.search(SearchParams(group: nil, query: "  ")) }
            await #expect(throws: ControlErrorBody.self) { try await n.node.search(SearchParams(group: "nope", query: "x")) }
            #expect(try await n.node.search(SearchParams(group: nil, query: "please")).map(\.id) == [a.id])
        }
    }
}
