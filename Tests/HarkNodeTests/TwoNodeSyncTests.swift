import Foundation
import HarkControl
import HarkCrypto
@testable import HarkNode
import Testing

/// Two real nodes in this process, on loopback, with real stores: the whole path from
/// `group create` to a message in the other node's log.
@Suite(.serialized) struct TwoNodeSyncTests {
    @Test func messageSentOnOneNodeAppearsInTheOthersLog() async throws {
        let a = try await RunningNode.start("alice")
        let b = try await RunningNode.start("bob", staticPeers: ["127.0.0.1:\(a.port)"])
        try await withNodes([a, b]) {

            #expect(await eventually(10) { await a.node.status().connectedPeers == 1 })
            _ = try await a.node.createGroup(name: "ops")
            let token = try await a.node.invite(group: "ops").token
            let joined = try await b.node.join(token: token)
            #expect(joined.name == "ops")
            // Redeemed with alice over the channel; messages sent before the ADD are not for bob.
            #expect(await eventually(10) { (try? await b.node.joinStatus(group: "ops"))?.state == "member" })

            let sent = try await a.node.sendMessage(group: "ops", text: "backup done")
            #expect(await eventually(10) { (try? await b.node.log(group: "ops", limit: nil))?.contains { $0.id == sent.id } ?? false })
            let onB = try await b.node.log(group: "ops", limit: nil)
            #expect(onB.map(\.text) == ["backup done"])
            #expect(onB[0].author == sent.author)
            #expect(onB[0].lamport == sent.lamport)

            // The other way, and both replicas list the same order.
            _ = try await b.node.sendMessage(group: "ops", text: "thanks")
            #expect(await eventually(10) { (try? await a.node.log(group: "ops", limit: nil))?.count == 2 })
            let logA = try await a.node.log(group: "ops", limit: nil).map(\.id)
            let logB = try await b.node.log(group: "ops", limit: nil).map(\.id)
            #expect(logA == logB)
        }
    }

    @Test func controlSocketAnswersStatusOverNDJSON() async throws {
        let a = try await RunningNode.start("carol")
        try await withNodes([a]) {
            let client = try ControlClient(socketPath: a.home.path + "/control.sock")
            let status = try client.call(ControlMethods.status, NoParams())
            #expect(status.tcpPort == a.port)
            #expect(status.displayName == "carol")
            #expect(status.discovery.state == "disabled")
            #expect(throws: ControlClient.ClientError.self) {
                try client.call(ControlMethods.send, SendParams(group: "nope", text: "x"))
            }
            // The control socket is private to the user.
            var st = stat()
            #expect(stat(a.home.path + "/control.sock", &st) == 0)
            #expect(st.st_mode & 0o077 == 0)
        }
    }

    @Test func nonMemberReceivesNoGroupEvents() async throws {
        let a = try await RunningNode.start("dave")
        let c = try await RunningNode.start("eve", staticPeers: ["127.0.0.1:\(a.port)"])
        try await withNodes([a, c]) {
            #expect(await eventually(10) { await a.node.status().connectedPeers == 1 })
            _ = try await a.node.createGroup(name: "secret")
            _ = try await a.node.sendMessage(group: "secret", text: "members only")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try c.node.store.allGroups().isEmpty)
            let aGroups = try a.node.store.allGroups()
            #expect(try c.node.store.eventCount(group: aGroups[0].id) == 0)
        }
    }
}
