import HarkControl

#if canImport(Glibc)
import Glibc
#endif

/// What a client of a node talks to: a node running in this process, through its typed API
/// (no JSON, no socket), or a node of another process, through the home's control socket
/// (docs/CONTROL.md). A `hark send` without a daemon runs its own node (`inProcess`), or borrows
/// the node of a parallel send (`socket`).
///
/// Both answer alike, so a caller has one path: every failure comes as
/// `ControlClient.ClientError`, the in-process node's errors as the socket would give them: a
/// `ControlErrorBody` as `.remote` (same code, same message), and a node that is stopping (handed
/// over to a starting daemon, or ended) as `.connectionClosed`, which is
/// `ClientError.isConnectionLost`: the caller finds whatever serves the home next.
///
/// Not thread-safe in the `socket` case (a `ControlClient` has one owner); `inProcess` calls
/// may come from any task.
public enum NodeEndpoint {
    /// A node this process runs (its `run()` is in progress).
    case inProcess(Node)
    /// A node of another process, through a connection to its control socket.
    case socket(ControlClient)

    /// How often, ms, an in-process wait looks whether its node is stopping.
    static let stopCheckMs = 50

    /// `send`: writes a message to `group` (name, ID or `@peer`); mentions resolved.
    /// In-process, nothing is written once the node is stopping: its answer is then
    /// `.connectionClosed`, as a socket closed before the request was read, so that the caller
    /// sends it again on the next node (never twice).
    /// - Throws: `ControlClient.ClientError` (see the type).
    public func send(group: String, text: String, replyTo: String?) async throws(ControlClient.ClientError) -> MessageView {
        switch self {
        case .socket(let client):
            return try Self.call(client, ControlMethods.send, SendParams(group: group, text: text, replyTo: replyTo))
        case .inProcess(let node):
            let view: MessageView?
            do { view = try await Self.sendUnlessStopping(node, group: group, text: text, replyTo: replyTo) } catch {
                throw .remote(error)
            }
            guard let view else { throw .connectionClosed }
            return view
        }
    }

    /// `receipts.wait`: waits until the receipts of `message` in `group` meet `goal`, or
    /// `timeoutMs` (ms) passes. Over a socket, a node without `receipts.wait` (an older hark)
    /// is polled with `receipts` (every 20 ms, doubling up to 200 ms). In-process, the wait ends
    /// as `.connectionClosed` once the node is stopping (looked at every `stopCheckMs`), as the
    /// socket of a stopping node closes with the wait unanswered.
    /// - Returns: the receipts and whether `goal` was met (false: the timeout passed first).
    /// - Throws: `ControlClient.ClientError` (see the type).
    public func waitForReceipts(group: String, message: String, goal: ReceiptGoal,
                                timeoutMs: Int64) async throws(ControlClient.ClientError) -> ReceiptsWaitResult {
        switch self {
        case .socket(let client):
            return try Self.waitForReceipts(client: client, group: group, message: message, goal: goal, timeoutMs: timeoutMs)
        case .inProcess(let node):
            let outcome: ReceiptsWaitResult?
            do {
                outcome = try await withThrowingTaskGroup(of: ReceiptsWaitResult?.self) { tasks in
                    tasks.addTask { try await node.waitForReceipts(group: group, message: message, goal: goal, timeoutMs: timeoutMs) }
                    tasks.addTask {
                        await Self.untilStopping(node)
                        return nil
                    }
                    defer { tasks.cancelAll() }
                    return try await tasks.next() ?? nil
                }
            } catch {
                throw .remote(Node.controlError(error))
            }
            guard let outcome else { throw .connectionClosed }
            return outcome
        }
    }

    /// `receipts.wait` over a control socket, blocking; falls back to polling `receipts` when the
    /// node does not know the method (an older hark).
    /// - Throws: `ControlClient.ClientError` as it comes.
    public static func waitForReceipts(client: ControlClient, group: String, message: String, goal: ReceiptGoal,
                                       timeoutMs: Int64) throws(ControlClient.ClientError) -> ReceiptsWaitResult {
        do {
            return try call(client, ControlMethods.receiptsWait,
                            ReceiptsWaitParams(group: group, message: message, goal: goal, timeoutMs: max(0, timeoutMs)))
        } catch .remote(let body) where body.code == .unknownMethod {
            return try pollReceipts(client: client, group: group, message: message, goal: goal, timeoutMs: timeoutMs)
        }
    }

    /// Polls `receipts` until `goal` is reached or `timeoutMs` passes (a node without
    /// `receipts.wait`): every 20 ms, doubling up to 200 ms.
    private static func pollReceipts(client: ControlClient, group: String, message: String, goal: ReceiptGoal,
                                     timeoutMs: Int64) throws(ControlClient.ClientError) -> ReceiptsWaitResult {
        let deadline = ControlClient.monotonicMs() + max(0, timeoutMs)
        var pollMs: useconds_t = 20_000
        while true {
            let r = try call(client, ControlMethods.receipts, ReceiptsParams(group: group, message: message))
            if goal.isReached(by: r) { return ReceiptsWaitResult(reached: true, receipts: r) }
            if ControlClient.monotonicMs() >= deadline { return ReceiptsWaitResult(reached: false, receipts: r) }
            usleep(pollMs)
            pollMs = min(pollMs * 2, 200_000)
        }
    }

    /// One blocking call on the socket. A request that cannot be encoded (never for these
    /// types) comes as `.protocolError`.
    private static func call<P, R>(_ client: ControlClient, _ method: ControlMethod<P, R>,
                                   _ params: P) throws(ControlClient.ClientError) -> R {
        do { return try client.call(method, params) } catch let e as ControlClient.ClientError { throw e } catch {
            throw .protocolError("\(error)")
        }
    }

    /// The typed `send`, on the node's actor, unless the node is stopping (then nil). One turn
    /// of the actor: a message written here is in the store before the node's shutdown begins,
    /// so before it releases the home's lock.
    private static func sendUnlessStopping(_ node: isolated Node, group: String, text: String,
                                           replyTo: String?) throws(ControlErrorBody) -> MessageView? {
        guard !node.isStopping else { return nil }
        return try node.sendMessage(group: group, text: text, replyTo: replyTo)
    }

    /// Returns once `node` is stopping, or when the calling task is cancelled.
    private static func untilStopping(_ node: Node) async {
        while !Task.isCancelled {
            if await node.isStopping { return }
            try? await Task.sleep(for: .milliseconds(stopCheckMs))
        }
    }
}
