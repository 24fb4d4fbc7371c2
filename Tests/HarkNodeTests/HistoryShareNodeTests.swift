import Foundation
import HarkControl
import HarkCrypto
import HarkLog
import Testing
@testable import HarkNode

/// Shared history between two real nodes (PROTOCOL.md §5.8): a newcomer reads the messages sent
/// before it joined a shared-history group, and none of those of a joined-history group.
@Suite(.serialized) struct HistoryShareNodeTests {
    @Test func aNewcomerReadsThePastOnlyInASharedHistoryGroup() async throws {
        let a = try await RunningNode.start("alice")
        let b = try await RunningNode.start("bob", staticPeers: ["127.0.0.1:\(a.port)"])
        try await withNodes([a, b]) {
            #expect(await eventually(10) { await a.node.status().connectedPeers == 1 })
            let team = try await a.node.createGroup(name: "team")
            let quiet = try await a.node.createGroup(name: "quiet", history: "joined")
            #expect(team.history == "shared" && quiet.history == "joined")
            await #expect(throws: ControlErrorBody.self) { try await a.node.createGroup(name: "bad", history: "sometimes") }
            for g in ["team", "quiet"] {
                for i in 1...6 { _ = try await a.node.sendMessage(group: g, text: "past \(g) \(i)") }
            }
            for g in ["team", "quiet"] {
                _ = try await b.node.join(token: try await a.node.invite(group: g).token)
                #expect(await eventually(10) { (try? await b.node.joinStatus(group: g))?.state == "member" })
            }
            func texts(_ g: String) async -> (readable: [String], unreadable: Int) {
                let log = (try? await b.node.log(group: g, limit: nil)) ?? []
                return (log.filter { !$0.unreadable }.map(\.text), log.filter(\.unreadable).count)
            }
            #expect(await eventually(15) { await texts("team").readable.count == 6 })
            #expect(await texts("team").readable == (1...6).map { "past team \($0)" })
            #expect(await eventually(15) { await texts("quiet").unreadable == 6 })
            #expect(await texts("quiet").readable.isEmpty)
            // What follows the join is readable in both, and the newcomer's key keeps working.
            for g in ["team", "quiet"] {
                let sent = try await a.node.sendMessage(group: g, text: "now \(g)")
                #expect(await eventually(10) { await texts(g).readable.contains("now \(g)") }, "\(sent.id)")
            }
            // The share is an event of alice's in the shared group only.
            let kinds = { (g: String) in try await a.node.graphRows(group: g).map(\.kind) }
            #expect(try await kinds("team").contains("history_key"))
            #expect(try await !kinds("quiet").contains("history_key"))
        }
    }

    /// An ADD without the newcomer's prekey (added by key, before it redeemed anything): the
    /// share waits until its PREKEY arrives, then goes out and opens the past.
    @Test func aShareWaitsForTheNewcomersPrekey() async throws {
        let a = try await RunningNode.start("alice")
        let b = try await RunningNode.start("bob", staticPeers: ["127.0.0.1:\(a.port)"])
        try await withNodes([a, b]) {
            #expect(await eventually(10) { await a.node.status().connectedPeers == 1 })
            let team = try await a.node.createGroup(name: "team")
            for i in 1...4 { _ = try await a.node.sendMessage(group: "team", text: "before \(i)") }
            let bobKey = b.node.identity.signing.publicKey
            try await a.node.addMember(group: "team", key: bobKey)
            let id = try EventID(hex: team.id)
            #expect(try a.node.store.pendingHistoryShares(group: id) == [bobKey], "owed, no prekey known yet")
            // Bob redeems an invite: he is a member already, sees his ADD and publishes his PREKEY.
            _ = try await b.node.join(token: try await a.node.invite(group: "team").token)
            #expect(await eventually(15) { (try? a.node.store.pendingHistoryShares(group: id))?.isEmpty ?? false })
            #expect(await eventually(15) {
                ((try? await b.node.log(group: "team", limit: nil)) ?? []).filter { !$0.unreadable }.map(\.text) == (1...4).map { "before \($0)" }
            })
        }
    }
}
