import Foundation
import HarkControl
import HarkCrypto
import HarkLog
import Testing

@testable import HarkNode

/// A node answers syncs from its store (`SyncAnswerer`, `Store.nextSyncPage`) and validates the
/// events a peer sends from the store (`StoreHistory`), a push and a new member's first sync
/// alike: neither serving nor taking in a history loads the group's causal graph, and the
/// replicas still agree.
@Suite(.serialized) struct StoreSyncNodeTests {
    @Test func newMemberGetsTheHistoryFromTheStoreWithoutTheServersGraph() async throws {
        let a = try await RunningNode.start("alice")
        let b = try await RunningNode.start("bob", staticPeers: ["127.0.0.1:\(a.port)"])
        try await withNodes([a, b]) {
            #expect(await eventually(10) { await a.node.status().connectedPeers == 1 })
            let group = try await a.node.createGroup(name: "ops")
            for i in 0..<300 { _ = try await a.node.sendMessage(group: "ops", text: "line \(i)") }
            let token = try await a.node.invite(group: "ops").token
            _ = try await b.node.join(token: token)
            #expect(await eventually(30) { (try? await b.node.log(group: "ops", limit: nil))?.count == 300 })
            let logA = try await a.node.log(group: "ops", limit: nil).map(\.id)
            #expect(try await b.node.log(group: "ops", limit: nil).map(\.id) == logA)
            // The new member validated hundreds of events at once (frames of up to 2,000) without it.
            #expect(await !b.node.hasLoadedGraph(try EventID(hex: group.id)), "the new member loaded the whole graph")
            // `log --ids` and `log --graph` list every event in total order without keeping a graph.
            let ids = try await b.node.eventIDs(group: "ops")
            #expect(ids.count > 300 && Set(ids).count == ids.count && Set(ids).isSuperset(of: logA))
            let rows = try await b.node.graphRows(group: "ops")   // events may arrive in between: a superset
            #expect(Set(rows.map(\.id)).isSuperset(of: ids))
            #expect(rows.map(\.lamport) == rows.map(\.lamport).sorted())
            let lamports = Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0.lamport) })
            #expect(ids.compactMap { lamports[$0] } == ids.compactMap { lamports[$0] }.sorted(), "log --ids is not in total order")
            #expect(await !b.node.hasLoadedGraph(try EventID(hex: group.id)), "log --ids or --graph kept the graph")

            // Bob's message reaches alice, validated from her store.
            let sent = try await b.node.sendMessage(group: "ops", text: "thanks")
            #expect(await eventually(10) { (try? await a.node.log(group: "ops", limit: nil))?.contains { $0.id == sent.id } ?? false })
            let id = try EventID(hex: group.id)
            #expect(await !a.node.hasLoadedGraph(id))
        }
    }
}
