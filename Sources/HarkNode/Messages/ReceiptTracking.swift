import HarkCrypto
import HarkLog

/// What the node knows of who holds what, for delivery receipts (NodeReceipts.swift, PROTOCOL.md
/// §4.8). Held by `Node`; isolated to it.
struct ReceiptTracking {
    /// Per group and peer: the heads the peer reported holding (cache of the store's peer_holds).
    var reportedHeads: [EventID: [SigningPublicKey: [EventID]]] = [:]
    /// Which of those changed and wait to be written to the store.
    var holdsWriteBehind = HoldsWriteBehind()
    /// Messages this node wrote recently, per group, and their last emitted receipt states.
    var recentOwnMessages: [EventID: [EventID]] = [:]
    var receiptCache: [EventID: [SigningPublicKey: ReceiptState]] = [:]
    /// Tasks in `Node.waitForReceipts`, woken when receipts may have changed (ReceiptWaiters.swift).
    var waiters = ReceiptWaiters()
}
