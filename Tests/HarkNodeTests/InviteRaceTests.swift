import HarkCrypto
import HarkLog
@testable import HarkNode
import HarkEventProto
import NIOCore
import struct Foundation.Data
import Testing

extension Node {
    /// Test hook: closes every channel (a partition, as long as nobody redials).
    func closeAllChannels() { for s in peerTable.sessions { s.close() } }
    var channelCount: Int { peerTable.count }
    var lostRedeemedAdds: Int { inviteState.redeemedAdds.values.filter { $0.lostReason != nil }.count }
}

/// One invite (one use) redeemed at two admins that cannot see each other.
@Suite(.serialized) struct InviteRaceTests {
    func dial(_ from: RunningNode, to: RunningNode) {
        let address = try! SocketAddress(ipAddress: "127.0.0.1", port: to.port)
        Task { await from.node.dial(address, label: "127.0.0.1:\(to.port)", source: "test") }
    }

    @Test func theRedeemerThatLosesIsToldAndIsNotAMember() async throws {
        let owner = try await RunningNode.start("owner")
        let admin = try await RunningNode.start("admin")
        try await withNodes([owner, admin]) {
            _ = try await owner.node.createGroup(name: "ops")
            let gid = try await owner.node.resolveGroup("ops").id
            // admin joins through the owner and is made an admin.
            dial(admin, to: owner)
            #expect(await eventually(10) { await admin.node.channelCount == 1 })
            _ = try await admin.node.join(token: try await owner.node.invite(group: "ops").token)
            #expect(await eventually(10) { (try? await admin.node.joinStatus(group: gid.hex))?.state == "member" })
            let adminID = admin.node.peerID
            _ = try await owner.node.changeMember(group: "ops", peer: adminID.description, action: .role, role: "admin")
            let adminKey = adminID.key
            #expect(await eventually(10) { await admin.node.currentMembership(of: gid)?.role(of: adminKey) == .admin })
            // Partition the two admins.
            await admin.node.closeAllChannels()
            #expect(await eventually(5) { await admin.node.channelCount == 0 }, "admin still has channels")
            #expect(await eventually(5) { await owner.node.channelCount == 0 }, "owner still has channels")

            // One invite with one use, without hints: each redeemer reaches only its own admin.
            var invite = try InviteToken.decode(try await owner.node.invite(group: "ops").token)
            invite.hints = []
            let token = try InviteToken.encode(invite)
            let p1 = try await RunningNode.start("p1", staticPeers: ["127.0.0.1:\(owner.port)"])
            let p2 = try await RunningNode.start("p2", staticPeers: ["127.0.0.1:\(admin.port)"])
            try await withNodes([p1, p2]) {
                #expect(await eventually(10) { await p1.node.channelCount == 1 })
                #expect(await eventually(10) { await p2.node.channelCount == 1 })
                async let j1 = p1.node.join(token: token)
                async let j2 = p2.node.join(token: token)
                _ = try await (j1, j2)
                func state(_ n: RunningNode) async -> String { (try? await n.node.joinStatus(group: gid.hex))?.state ?? "?" }
                // Both admins accept; each redeemer sees its own ADD while the admins are apart.
                #expect(await eventually(10) {
                    let s1 = await state(p1), s2 = await state(p2)
                    return s1 == "member" && s2 == "member"
                })
                // The admins meet: the fold keeps one ADD. The other redeemer is told it lost.
                dial(admin, to: owner)
                var states: Set<String> = []
                let settled = await eventually(20) {
                    states = [await state(p1), await state(p2)]
                    return states == ["member", "lost"]
                }
                #expect(settled, "states: \(states)")
                let m = await owner.node.currentMembership(of: gid)
                let k1 = p1.node.peerID.key, k2 = p2.node.peerID.key
                #expect([k1, k2].filter { m?.isMember($0) ?? false }.count == 1, "exactly one redeemer is a member at the owner")
                let loser = await state(p1) == "lost" ? p1 : p2
                let status = try await loser.node.joinStatus(group: gid.hex)
                #expect(status.reason?.contains("ask for a new invite") == true)
                // The admin whose ADD lost has it no longer counted: it watched and flagged it.
                let lostAtOwner = await owner.node.lostRedeemedAdds
                let lostAtAdmin = await admin.node.lostRedeemedAdds
                let lostAtAdmins = lostAtOwner + lostAtAdmin
                #expect(lostAtAdmins == 1)
            }
        }
    }

    @Test func theJudgeTellsALostRaceFromOtherInertAdds() throws {
        let owner = SigningKeyPair.generate().publicKey
        let x = SigningKeyPair.generate().publicKey, y = SigningKeyPair.generate().publicKey
        let invite = [UInt8](repeating: 7, count: 16)
        func id(_ n: UInt8) throws -> EventID { try EventID(bytes: [UInt8](repeating: n, count: 32)) }
        func add(_ target: SigningPublicKey, invite: [UInt8]) -> Hark_V1_Member {
            var m = Hark_V1_Member()
            m.action = .add; m.target = Data(target.bytes); m.role = .member
            if !invite.isEmpty { m.inviteID = Data(invite); m.inviteUses = 1 }
            return m
        }
        let g = try id(1), ax = try id(2), ay = try id(3), again = try id(4)
        let events = [
            MembershipEvent(id: g, order: EventOrder(lamport: 1, id: g), author: owner, kind: .genesis, member: nil, ancestors: []),
            // Two admins' ADDs of one single-use invite, concurrent: x's comes first in total order.
            MembershipEvent(id: ax, order: EventOrder(lamport: 2, id: ax), author: owner, kind: .member, member: add(x, invite: invite), ancestors: [g]),
            MembershipEvent(id: ay, order: EventOrder(lamport: 2, id: ay), author: owner, kind: .member, member: add(y, invite: invite), ancestors: [g]),
            // An ADD of someone already a member, without an invite.
            MembershipEvent(id: again, order: EventOrder(lamport: 3, id: again), author: owner, kind: .member, member: add(x, invite: []), ancestors: [g, ax]),
        ]
        let m = Membership.fold(events)
        #expect(m.isMember(x) && !m.isMember(y))
        #expect(RedeemedAddOutcome.judge(ax, inviteID: invite, uses: 1, in: m) == .effective)
        #expect(RedeemedAddOutcome.judge(ay, inviteID: invite, uses: 1, in: m) == .lostRace)
        #expect(RedeemedAddOutcome.judge(again, inviteID: [UInt8](repeating: 9, count: 16), uses: 1, in: m) == .inert)
    }
}
