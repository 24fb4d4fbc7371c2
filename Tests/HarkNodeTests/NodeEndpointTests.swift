import Foundation
import HarkControl
import HarkCrypto
import HarkNode
import HarkTesting
import Synchronization
import Testing

/// `NodeEndpoint`: a node of this process called through its typed API opens no control
/// connection, fails as its control socket would, and, once stopping, writes nothing and answers
/// as a closed connection (so a `hark send` re-attaches). Real nodes on 127.0.0.1, real sockets.
@Suite(.serialized) struct NodeEndpointTests {
    /// An in-process send and wait leave `controlClientCount` at 0; the same wait over the
    /// control socket holds a connection (the probe sees it, so it can fail).
    @Test func inProcessSendAndWaitOpenNoControlConnection() async throws {
        let clock = ManualClock()
        let n = try await RunningNode.start("endpoint-in") { $0.clock = clock }
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "solo")
            // A member whose node never connects: nothing is delivered, each wait runs to its timeout.
            _ = try await n.node.addMember(group: "solo", key: SigningKeyPair.generate().publicKey)
            let node = n.node
            let (unmet, most) = try await mostControlClients(on: node) { () async throws -> ReceiptsWaitResult in
                let sent = try await NodeEndpoint.inProcess(node).send(group: "solo", text: "from this process", replyTo: nil)
                let result = Box<ReceiptsWaitResult>()
                let waiter = Task {
                    result.set(try await NodeEndpoint.inProcess(node).waitForReceipts(
                        group: "solo", message: sent.id, goal: ReceiptGoal(state: .delivered), timeoutMs: 5_000))
                }
                try await Task.sleep(for: .milliseconds(300))   // parked: the node's clock stands still
                for round in 0..<8 where result.value == nil {   // again if the wait had not begun
                    clock.advance(by: 5_000)
                    _ = await eventually(0.02 * Double(1 << round)) { result.value != nil }
                }
                try await waiter.value
                return try #require(result.value)
            }
            #expect(!unmet.reached)
            #expect(unmet.receipts.members.map(\.state) == ["pending"])
            #expect(most == 0)
            #expect(try await node.log(group: "solo", limit: nil).map(\.text) == ["from this process"])

            // The same wait through the control socket: the probe sees its connection.
            let path = n.home.path + "/control.sock"
            let message = unmet.receipts.message
            let (overSocket, socketMost) = try await mostControlClients(on: node) { () async throws -> ReceiptsWaitResult in
                let result = Box<Result<ReceiptsWaitResult, any Error>>()
                let call = Task.detached {
                    result.set(await offload {
                        Result {
                            try NodeEndpoint.waitForReceipts(client: try ControlClient(socketPath: path), group: "solo", message: message,
                                                             goal: ReceiptGoal(state: .delivered), timeoutMs: 5_000)
                        }
                    })
                }
                #expect(await eventually(10) { node.controlClientCount > 0 })
                for round in 0..<8 where result.value == nil {
                    clock.advance(by: 5_000)
                    _ = await eventually(0.02 * Double(1 << round)) { result.value != nil }
                }
                await call.value
                return try #require(result.value).get()
            }
            #expect(!overSocket.reached)
            #expect(socketMost >= 1)
        }
    }

    /// The typed API's errors come as the control socket gives them: same code, same message.
    @Test func errorsAreTheSocketsOnes() async throws {
        let n = try await RunningNode.start("endpoint-errors")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "ops")
            let node = n.node
            let path = n.home.path + "/control.sock"
            let typedSend = await remoteFailure { () async throws(ControlClient.ClientError) in
                _ = try await NodeEndpoint.inProcess(node).send(group: "nope", text: "hi", replyTo: nil)
            }
            let socketSend = await offload {
                Result { try ControlClient(socketPath: path).call(ControlMethods.send, SendParams(group: "nope", text: "hi")) }
            }
            #expect(typedSend?.code == .notFound)
            #expect(typedSend == remoteBody(socketSend))

            let unknown = String(repeating: "ab", count: 32)
            let typedWait = await remoteFailure { () async throws(ControlClient.ClientError) in
                _ = try await NodeEndpoint.inProcess(node).waitForReceipts(group: "ops", message: unknown, goal: ReceiptGoal(state: .read),
                                                                          timeoutMs: 0)
            }
            let socketWait = await offload {
                Result { try ControlClient(socketPath: path).call(ControlMethods.receiptsWait, ReceiptsWaitParams(
                    group: "ops", message: unknown, goal: ReceiptGoal(state: .read), timeoutMs: 0)) }
            }
            #expect(typedWait != nil)
            #expect(typedWait == remoteBody(socketWait))
        }
    }

    /// A wait in progress ends as a lost connection once its node stops (as a `handover` stops
    /// it); a send to the stopping node writes nothing and answers the same, so the caller
    /// sends it again on the next node.
    @Test func aStoppingNodeAnswersAsAClosedConnectionAndWritesNothing() async throws {
        let n = try await RunningNode.start("endpoint-stop")
        try await withNodes([n]) {
            _ = try await n.node.createGroup(name: "solo")
            _ = try await n.node.addMember(group: "solo", key: SigningKeyPair.generate().publicKey)
            let node = n.node
            let sent = try await NodeEndpoint.inProcess(node).send(group: "solo", text: "before", replyTo: nil)
            let waited = Task {
                try await NodeEndpoint.inProcess(node).waitForReceipts(group: "solo", message: sent.id, goal: ReceiptGoal(state: .delivered),
                                                                      timeoutMs: 60_000)
            }
            try await Task.sleep(for: .milliseconds(200))
            await node.requestStop()
            let ended = await waited.result
            guard case .failure(let error) = ended, let lost = error as? ControlClient.ClientError, case .connectionClosed = lost else {
                Issue.record("the wait on a stopping node ended with \(ended), expected connectionClosed")
                return
            }
            #expect(await node.isStopping)
            do throws(ControlClient.ClientError) {
                _ = try await NodeEndpoint.inProcess(node).send(group: "solo", text: "after", replyTo: nil)
                Issue.record("a stopping node took a message")
            } catch {
                #expect(error.isConnectionLost)
            }
            _ = try? await n.task.value
            #expect(try await node.log(group: "solo", limit: nil).map(\.text) == ["before"])
        }
    }
}

/// Runs `body` while sampling `node.controlClientCount` every millisecond; returns its result
/// and the largest count seen.
private func mostControlClients<T>(on node: Node, during body: () async throws -> T) async rethrows -> (T, Int) {
    let seen = Box<Int>()
    seen.set(node.controlClientCount)
    let sampler = Task.detached {
        while !Task.isCancelled {
            let now = node.controlClientCount
            seen.update { max($0 ?? 0, now) }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
    defer { sampler.cancel() }
    let result = try await body()
    let last = node.controlClientCount
    seen.update { max($0 ?? 0, last) }
    return (result, seen.value ?? 0)
}

/// The `ControlErrorBody` a call failed with (nil: it did not fail with one).
private func remoteFailure(_ body: () async throws(ControlClient.ClientError) -> Void) async -> ControlErrorBody? {
    do { try await body() } catch { if case .remote(let b) = error { return b } }
    return nil
}

/// The `ControlErrorBody` of a socket call's result (nil: it did not fail with one).
private func remoteBody<T>(_ result: Result<T, any Error>) -> ControlErrorBody? {
    if case .failure(let e) = result, let c = e as? ControlClient.ClientError, case .remote(let b) = c { return b }
    return nil
}

/// A value a task in the test produces, read by the test's polls. Thread-safe.
private final class Box<T: Sendable>: Sendable {
    private let box = Mutex<T?>(nil)
    var value: T? { box.withLock { $0 } }
    func set(_ v: T) { box.withLock { $0 = v } }
    func update(_ f: (T?) -> T) { box.withLock { $0 = f($0) } }
}
