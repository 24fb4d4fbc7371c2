import Foundation
import HarkDiscovery
import HarkProto
import HarkWire

/// Channel liveness after an address change (PROTOCOL.md §3.2, "Probe"): the node probes a
/// channel when discovery reports the peer at addresses the channel does not use, or when the
/// same device opens a second channel from another address; a probe unanswered within
/// `ChannelProbe.answerWithinMs` closes the channel, and the peer is redialled (a discovered
/// peer through `closeSession`, a static one by its dial loop). A channel whose own local
/// address is gone (removed, or its interface down) is closed at once.
extension Node {
    /// Probes `session` now (no-op while a probe is in flight) and closes it if the answer does
    /// not come within `ChannelProbe.answerWithinMs`.
    func probe(_ session: PeerSession, reason: String) {
        guard !session.isClosed, let nonce = session.startProbe(nowMs: Self.monotonicMs()) else { return }
        logger.info("probing channel", metadata: ["peer.id": "\(session.peerID)", "reason": "\(reason)"])
        var frame = Hark_V1_Frame()
        var ping = Hark_V1_Ping()
        ping.nonce = nonce
        frame.ping = ping
        session.send(frame)
        Task {
            try? await Task.sleep(for: .milliseconds(ChannelProbe.answerWithinMs + 20))
            if session.probeVerdict(nowMs: Self.monotonicMs()) == .dead && !session.isClosed {
                self.logger.info("probe unanswered; closing the channel", metadata: ["peer.id": "\(session.peerID)"])
                session.close()
            }
        }
    }

    /// A `Ping` arrived: answers a probe request, or records a probe's answer.
    nonisolated func receivePing(_ ping: Hark_V1_Ping, from session: PeerSession) {
        if ChannelProbe.isRequest(ping.nonce) {
            var frame = Hark_V1_Frame()
            var echo = Hark_V1_Ping()
            echo.nonce = ChannelProbe.echo(of: ping.nonce)
            frame.ping = echo
            session.send(frame)
        } else if ChannelProbe.isEcho(ping.nonce) {
            _ = session.probeAnswered(nonce: ping.nonce)
        }
    }

    /// Discovery saw `sighting`, the device of an open channel: probe the channel when it uses
    /// none of the advertised addresses.
    func probeIfMoved(token: [UInt8], sighting: ServiceSighting) {
        let advertised = Set(sighting.addresses.map { LocalAddresses.normalized($0.ip) })
        guard !advertised.isEmpty else { return }
        for s in sessions.values where s.hello.instanceToken == token {
            if let ip = s.remoteIP, !advertised.contains(ip) { probe(s, reason: "peer advertises a new address") }
        }
    }

    /// Before a second channel from one device is judged: when the open one runs to another
    /// address, probe it and wait (at most `answerWithinMs` + 100 ms) for the verdict, so a
    /// channel left dead by an address change gives way to the new one.
    nonisolated func settleMovedDuplicate(hello: PeerHello, remoteIP: String?) async {
        guard let remoteIP = remoteIP.map(LocalAddresses.normalized),
              let existing = await existingMovedSession(hello: hello, remoteIP: remoteIP) else { return }
        await probe(existing, reason: "the device connected again from another address")
        let deadline = Self.monotonicMs() + ChannelProbe.answerWithinMs + 100
        while Self.monotonicMs() < deadline {   // bounded by the deadline
            if existing.isClosed || existing.probeVerdict(nowMs: Self.monotonicMs()) == .idle { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    func existingMovedSession(hello: PeerHello, remoteIP: String) -> PeerSession? {
        let device = DeviceKey(peer: hello.peerID, token: hello.instanceToken)
        guard let id = sessionByDevice[device], let s = sessions[id], !s.isClosed, let ip = s.remoteIP, ip != remoteIP else { return nil }
        return s
    }

    /// Every `LocalAddresses.pollIntervalMs`: closes channels whose local address is gone.
    nonisolated func watchLocalAddresses() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(LocalAddresses.pollIntervalMs))
            guard let held = LocalAddresses.held() else { continue }
            await closeStranded(held: held)
        }
    }

    func closeStranded(held: Set<String>) {
        let channels = sessions.values.map { (id: $0.id, localIP: $0.localSocketAddress?.ipAddress) }
        for id in LocalAddresses.stranded(channels: channels, held: held) {
            guard let s = sessions[id], !s.isClosed else { continue }
            logger.info("local address of the channel is gone; closing it", metadata: ["peer.id": "\(s.peerID)"])
            s.close()
        }
    }
}
