import HarkCrypto
import HarkControl
import HarkStore

/// The node's side of `LocalReader`: the same handlers as the control socket, without network.
extension Node {
    func answerLocally(head: RequestHead, line: [UInt8]) -> [UInt8] {
        loadKnownPeers()
        return dispatch(head: head, line: line)
    }

    /// Peers as last stored (names, addresses, last sighting): what `peers` shows without a
    /// daemon. Loaded once; none is connected.
    func loadKnownPeers() {
        guard peerTable.info.isEmpty else { return }
        for r in (try? store.peers()) ?? [] where r.key != identity.signing.publicKey {
            peerTable.info[PeerID(r.key)] = PeerInfo(displayName: r.displayName, address: r.lastAddress, source: "known", lastSeenMs: r.lastSeenMs)
        }
    }
}
