import HarkWireProto

extension Node {
    /// The channel's keepalive: a Ping frame every `keepaliveIntervalMs`; a channel that heard
    /// nothing for `idleTimeoutMs` is closed. Both on the node's clock (`NodeConfiguration.clock`). Runs until cancelled or the channel is closed.
    nonisolated func keepalive(_ session: PeerSession) async {
        var ping = Hark_V1_Frame()
        ping.ping = Hark_V1_Ping()
        while !Task.isCancelled {
            try? await clock.sleep(ms: configuration.keepaliveIntervalMs)
            if Task.isCancelled { break }
            if session.silenceMs > configuration.idleTimeoutMs {
                logger.info("peer silent; closing the channel", metadata: ["peer.id": "\(session.peerID)"])
                session.close()
                break
            }
            session.send(ping)
        }
    }
}
