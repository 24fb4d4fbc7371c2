import Foundation
import HarkControl
import HarkCrypto
import HarkNode
import HarkTesting
import Synchronization
import Testing

/// Two real nodes in this process (sockets on 127.0.0.1, static peers in place of discovery),
/// each on its own `ManualClock`: their timers run only when the test moves their clock, so
/// seconds of protocol time pass in milliseconds of real time, and a node whose clock stands
/// still sends nothing by itself (no heartbeat, no keepalive, no announcement).
@Suite(.serialized) struct InProcessClockTests {
    @Test func sendWaitDeliveredThenPresenceGoesOfflineAfterTheWindow() async throws {
        let clockA = ManualClock(), clockB = ManualClock()
        let a = try await RunningNode.start("clock-a") { $0.clock = clockA }
        let b = try await RunningNode.start("clock-b", staticPeers: ["127.0.0.1:\(a.port)"]) { $0.clock = clockB }
        try await withNodes([a, b]) {
            #expect(await until { await a.node.status().connectedPeers == 1 })
            _ = try await a.node.createGroup(name: "ops")
            let token = try await a.node.invite(group: "ops").token
            _ = try await b.node.join(token: token)
            #expect(await until { (try? await b.node.joinStatus(group: "ops"))?.state == "member" })

            // Send, and wait in the node (woken by receipt changes) for delivery to every member.
            let sent = try await a.node.sendMessage(group: "ops", text: "backup done")
            let delivered = Outcome()
            let waiter = Task {
                delivered.set(try await a.node.waitForReceipts(group: "ops", message: sent.id, goal: ReceiptGoal(state: .delivered),
                                                               timeoutMs: 60_000))
            }
            #expect(await until { (try? await b.node.log(group: "ops", limit: nil))?.contains { $0.id == sent.id } ?? false })
            // Bob tells the author he holds it in an announcement batched on his broadcast timer
            // (announceDelayMs 200, ticks of 25 ms): his clock moves 250 ms, again if that was
            // before the announcement was queued (each real-time wait twice the one before).
            // Alice's clock stands still, so her wait's 60 s cannot run out.
            for round in 0..<8 where delivered.value == nil {
                clockB.advance(by: 250)
                _ = await until(seconds: 0.02 * Double(1 << round)) { delivered.value != nil }
            }
            let result = try #require(delivered.value)
            waiter.cancel()
            #expect(result.reached)
            #expect(result.receipts.members.map(\.state) == ["delivered"])
            #expect(result.receipts.members.map(\.displayName) == ["clock-b"])

            // Presence: alice judges bob by what she last heard on the channel, on her clock.
            // Bob's clock stands still from here on: he sends nothing (a Ping without a nonce,
            // which alice's keepalive sends, is not answered).
            let bob = b.node.peerID.description
            let watch = try await a.node.watch(group: nil)
            let pushed = PresenceLog()
            let reader = Task { for await e in watch.1 { if case let .presence(p) = e { pushed.append(p) } } }
            #expect(await presence(of: bob, on: a) == "online")
            clockA.advance(by: PresenceJudge.offlineAfterMs - 1_000)
            #expect(await presence(of: bob, on: a) == "online")
            clockA.advance(by: 2_000)   // past the window and one presence tick (1 s)
            #expect(await presence(of: bob, on: a) == "offline")
            // Pushed to watchers by the presence tick that ran on alice's clock.
            #expect(await until { pushed.states(of: bob).last == "offline" })
            await a.node.unwatch(watch.0)
            reader.cancel()

            // A wait's timeout runs on the node's clock too: bob reads nothing, alice's clock
            // moves past 1 s, and the wait ends unmet.
            let unread = Outcome()
            let readWaiter = Task {
                unread.set(try await a.node.waitForReceipts(group: "ops", message: sent.id, goal: ReceiptGoal(state: .read),
                                                            timeoutMs: 1_000))
            }
            for round in 0..<8 where unread.value == nil {   // again if the wait had not begun
                clockA.advance(by: 1_000)
                _ = await until(seconds: 0.02 * Double(1 << round)) { unread.value != nil }
            }
            readWaiter.cancel()
            let timedOut = try #require(unread.value)
            #expect(!timedOut.reached)
            #expect(timedOut.receipts.members.map(\.state) == ["delivered"])
        }
    }

    /// `receipts.wait` over the control socket answers when the goal is met (a group with no
    /// other member: at once) or, unmet, once its timeout has passed on the node's clock.
    @Test func receiptsWaitOverTheControlSocketTimesOutOnTheNodesClock() async throws {
        let clock = ManualClock()
        let n = try await RunningNode.start("clock-wait") { $0.clock = clock }
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "solo")
            let alone = try await n.node.sendMessage(group: "solo", text: "note to self")
            let path = n.home.path + "/control.sock"
            let met = try await offload {
                Result { try ControlClient(socketPath: path).call(ControlMethods.receiptsWait, ReceiptsWaitParams(
                    group: "solo", message: alone.id, goal: ReceiptGoal(state: .read), timeoutMs: 60_000)) }
            }.get()
            #expect(met.reached && met.receipts.members.isEmpty)

            // A member whose node never connects: nothing is delivered, and the wait ends unmet
            // once the node's clock has moved 5 s (real time moves only milliseconds).
            _ = try await n.node.addMember(group: "solo", key: SigningKeyPair.generate().publicKey)
            let sent = try await n.node.sendMessage(group: "solo", text: "anyone?")
            let answer = Outcome()
            let call = Task.detached {
                // A blocking client, on a thread of its own (its reads are bounded at 10 s).
                let r = await offload { Result { try ControlClient(socketPath: path).call(ControlMethods.receiptsWait, ReceiptsWaitParams(
                    group: "solo", message: sent.id, goal: ReceiptGoal(state: .delivered, members: 1), timeoutMs: 5_000)) } }
                answer.set(try r.get())
            }
            for round in 0..<8 where answer.value == nil {   // again if the wait had not begun
                clock.advance(by: 5_000)
                _ = await until(seconds: 0.02 * Double(1 << round)) { answer.value != nil }
            }
            try await call.value
            let unmet = try #require(answer.value)
            #expect(!unmet.reached)
            #expect(unmet.receipts.members.map(\.state) == ["pending"])
        }
    }

    /// An invite expires on the clocks of the nodes: the joiner refuses a token its clock says
    /// is past, and the inviter refuses a redemption its clock says is late, though the joiner's
    /// clock says it is still valid. Invites last at least 1 s: real time never gets there here.
    @Test func invitesExpireOnTheNodesClocks() async throws {
        let clockA = ManualClock(), clockB = ManualClock()
        let a = try await RunningNode.start("expiry-a") { $0.clock = clockA }
        let b = try await RunningNode.start("expiry-b", staticPeers: ["127.0.0.1:\(a.port)"]) { $0.clock = clockB }
        try await withNodes([a, b]) {
            #expect(await until { await a.node.status().connectedPeers == 1 })
            _ = try await a.node.createGroup(name: "ops")

            let first = try await a.node.invite(group: "ops", expiresMs: 1_000).token
            clockB.advance(by: 1_001)
            await #expect(throws: ControlErrorBody.self) { _ = try await b.node.join(token: first) }
            await #expect(throws: ControlErrorBody.self) { _ = try await b.node.joinStatus(group: "ops") }   // nothing pending

            clockA.advance(by: 1_001)   // both clocks agree again
            let second = try await a.node.invite(group: "ops", expiresMs: 1_000).token
            clockA.advance(by: 1_001)
            _ = try await b.node.join(token: second)
            #expect(await until { (try? await b.node.joinStatus(group: "ops"))?.state == "refused" })
            #expect(try await b.node.joinStatus(group: "ops").reason?.contains("expired") == true)
        }
    }

    /// A pairing in progress lasts `pairingLifetimeMs` of the node's clock (the channel is kept
    /// open meanwhile: its idle timeout is longer than the test moves the clock).
    @Test func aPairingExpiresOnTheNodesClock() async throws {
        let clockA = ManualClock()
        let a = try await RunningNode.start("pair-a") {
            $0.clock = clockA
            $0.idleTimeoutMs = 3_600_000
        }
        let b = try await RunningNode.start("pair-b", staticPeers: ["127.0.0.1:\(a.port)"])
        try await withNodes([a, b]) {
            #expect(await until { await a.node.status().connectedPeers == 1 })
            let bob = b.node.peerID.description
            _ = try await a.node.startPairing(peer: bob)
            #expect(await until { (try? await a.node.pairingStatus(peer: bob))?.state == "compare" })
            clockA.advance(by: Node.pairingLifetimeMs - 1_000)
            #expect(try await a.node.pairingStatus(peer: bob).state == "compare")
            clockA.advance(by: 1_000)
            await #expect(throws: ControlErrorBody.self) { _ = try await a.node.pairingStatus(peer: bob) }
            #expect(await a.node.status().connectedPeers == 1)
        }
    }

    /// A `ManualClock` sleeper resumes only when its deadline is reached, and at once with
    /// `CancellationError` when its task is cancelled.
    @Test func manualClockResumesSleepersAtTheirDeadline() async throws {
        let clock = ManualClock(wallMs: 5_000, monotonicMs: 100)
        let woke = Outcome()
        let sleeper = Task {
            try await clock.sleep(ms: 1_000)
            woke.set(ReceiptsWaitResult(reached: true, receipts: ReceiptsResult(message: "", group: "", settled: false, members: [])))
        }
        #expect(await until { clock.sleepers == 1 })
        #expect(clock.nextDeadlineMs == 1_100)
        clock.advance(by: 999)
        #expect(clock.sleepers == 1)
        #expect(woke.value == nil)
        clock.advance(by: 1)
        #expect(await until { woke.value != nil })
        #expect(clock.wallMs() == 6_000)
        #expect(clock.monotonicMs() == 1_100)

        let cancelled = Task { try await clock.sleep(ms: 10_000) }
        #expect(await until { clock.sleepers == 1 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(clock.sleepers == 0)
        _ = try await sleeper.value
    }
}

/// What a task in the test produced, read by the test's polls. Thread-safe.
private final class Outcome: Sendable {
    private let box = Mutex<ReceiptsWaitResult?>(nil)
    var value: ReceiptsWaitResult? { box.withLock { $0 } }
    func set(_ v: ReceiptsWaitResult) { box.withLock { $0 = v } }
}

/// Presence events a watcher received. Thread-safe.
private final class PresenceLog: Sendable {
    private let views = Mutex<[PresenceView]>([])
    func append(_ v: PresenceView) { views.withLock { $0.append(v) } }
    func states(of peer: String) -> [String] { views.withLock { $0.filter { $0.peerId == peer }.map(\.state) } }
}

/// `peers`' presence of `peer` on node `n`.
private func presence(of peer: String, on n: RunningNode) async -> String? {
    await n.node.peers().first { $0.peerId == peer }?.presence
}

/// Polls `condition` every millisecond of real time, for at most `seconds` (a bound for a
/// loaded machine; the nodes answer in well under a millisecond each).
private func until(seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return try await condition()
}
