import Foundation
import HarkCrypto
import HarkDiscovery
import HarkWire
import HarkWireProto

/// Channel liveness after an address change (PROTOCOL.md §3.2, "Probe"): the node probes a
/// channel when discovery reports the peer at addresses the channel does not use, or when the
/// same device opens a second channel from another address; a probe unanswered within
/// `ChannelProbe.answerWithinMs` closes the channel, and the peer is redialled (a discovered
/// peer through `closeSession`, a static one by its dial loop). A channel whose own local
/// address is gone (removed, or its interface down) is closed at once.
extension Node {
    /// Probes `session` now (no-op while a probe is in flight) and closes it if the answer does
    /// not come within `ChannelProbe.answerWithinMs`, or at once if its TCP connection is stalled
    /// in retransmission backoff (`PeerSession.isStalledInRetransmission`).
    func probe(_ session: PeerSession, reason: String) {
        guard !session.isClosed, let nonce = session.startProbe() else { return }
        logger.info("probing channel", metadata: ["peer.id": "\(session.peerID)", "reason": "\(reason)"])
        var frame = Hark_V1_Frame()
        var ping = Hark_V1_Ping()
        ping.nonce = nonce
        frame.ping = ping
        session.send(frame)
        Task {
            // The ping waits behind data in retransmission backoff (a cut path that healed):
            // the channel is closed and redialled now, not after `answerWithinMs`.
            if await session.isStalledInRetransmission(), session.probeVerdict() != .idle, !session.isClosed {
                self.logger.info("channel stalled in TCP retransmission backoff; closing it", metadata: ["peer.id": "\(session.peerID)"])
                session.close()
                return
            }
            try? await self.clock.sleep(ms: ChannelProbe.answerWithinMs + 20)
            if session.probeVerdict() == .dead && !session.isClosed {
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
        for s in peerTable.sessions where s.hello.instanceToken == token {
            if let ip = s.remoteIP, !advertised.contains(ip) { probe(s, reason: "peer advertises a new address") }
        }
    }

    /// Before a second channel from one device is judged: probe the open one and wait (at most
    /// `answerWithinMs` + 100 ms) for the verdict, so a channel left dead by a cut path or an
    /// address change gives way to the new one. Probed when the open channel runs to another
    /// address, or to the same one but has been silent for more than
    /// `PresenceJudge.silenceBeforeProbeMs` (a host whose cable was pulled and plugged back keeps
    /// its IPv4 address and dials again, while this end's channel still waits in TCP
    /// retransmission back-off). Two fresh channels of a simultaneous dial are left to the
    /// duplicate rule alone.
    nonisolated func settleMovedDuplicate(hello: PeerHello, remoteIP: String?) async {
        let remoteIP = remoteIP.map(LocalAddresses.normalized)
        guard let existing = await existingSession(hello: hello) else { return }
        let moved = existing.remoteIP != nil && remoteIP != nil && existing.remoteIP != remoteIP
        let silentMs = existing.silenceMs
        guard moved || silentMs > PresenceJudge.silenceBeforeProbeMs else { return }
        await probe(existing, reason: moved ? "the device connected again from another address"
                                            : "the device connected again after \(silentMs) ms of silence")
        // Bounded by the deadline, and in count on a clock that stands still.
        let deadline = clock.monotonicMs() + ChannelProbe.answerWithinMs + 100
        for _ in 0..<((ChannelProbe.answerWithinMs + 100) / 20) where clock.monotonicMs() < deadline {
            if existing.isClosed || existing.probeVerdict() == .idle { return }
            try? await clock.sleep(ms: 20)
        }
    }

    /// The open channel to the device that `hello` names, if any.
    func existingSession(hello: PeerHello) -> PeerSession? {
        let device = DeviceKey(peer: hello.peerID, token: hello.instanceToken)
        guard let id = peerTable.byDevice[device], let s = peerTable[id], !s.isClosed else { return nil }
        return s
    }

    /// Every `LocalAddresses.pollIntervalMs`: closes channels whose local address is gone, and
    /// wakes the redial loops when an address appears (`AddressWatch`).
    nonisolated func watchLocalAddresses() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(LocalAddresses.pollIntervalMs))
            guard let held = LocalAddresses.held() else { continue }
            if addressWatch.update(held: held) { await redialStranded() }
            await closeStranded(held: held)
        }
    }

    func closeStranded(held: Set<String>) {
        let channels = peerTable.sessions.map { (id: $0.id, localIP: $0.localSocketAddress?.ipAddress) }
        for id in LocalAddresses.stranded(channels: channels, held: held) {
            guard let s = peerTable[id], !s.isClosed else { continue }
            logger.info("local address of the channel is gone; closing it", metadata: ["peer.id": "\(s.peerID)"])
            let token = Hex.encode(s.hello.instanceToken)
            if let sighting = discoveryState.sightings[token] { addressWatch.rememberStranded(token: token, sighting: sighting) }
            s.close()
        }
    }

    /// A local address appeared (a link came back): dials the discovered services whose channels
    /// were closed when it went, once each (IPv4 first; up to 3 rounds 500 ms apart while the link
    /// settles), without waiting for discovery to find them again. A service that does not answer
    /// is left to discovery.
    func redialStranded() {
        let stranded = addressWatch.takeStranded()
        guard !stranded.isEmpty else { return }
        logger.info("a local address appeared; dialling the peers its loss cut off", metadata: ["peers": "\(stranded.count)"])
        for (token, sighting) in stranded {
            Task { await self.dialStranded(token: token, sighting: sighting) }
        }
    }

    nonisolated func dialStranded(token: String, sighting: ServiceSighting) async {
        guard let t = try? Hex.decode(token) else { return }
        let ordered = sighting.addresses.sorted { !$0.isIPv6 && $1.isIPv6 }
        for round in 0..<3 {
            if round > 0 { try? await Task.sleep(for: .milliseconds(500)) }
            for a in ordered {
                guard await !isStopping, await !hasSession(instanceToken: t) else { return }
                guard let address = Self.socketAddress(a, port: Int(sighting.port)) else { continue }
                let label = a.isIPv6 ? "[\(a.ip)%\(a.scopeID)]:\(sighting.port)" : "\(a.ip):\(sighting.port)"
                if await dial(address, label: label, source: "avahi") { return }
            }
        }
    }
}
