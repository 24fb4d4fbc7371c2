#if canImport(Glibc)
import Glibc
#endif
import HarkControl
import HarkCrypto
import HarkDiscovery
import Logging
import NIOCore

extension Node {
    /// The DNS-SD instance name: display name plus the short fingerprint, so two nodes with the
    /// same display name still publish distinct names. At most 63 bytes (RFC 6763 §4.1.1).
    func advert() -> ServiceAdvert {
        var txt = TXTRecord()
        txt["v"] = "1"
        txt["tok"] = Hex.encode(instanceToken)
        txt["name"] = identity.displayName
        let suffix = " (\(peerID.shortFingerprint))"
        var name = identity.displayName
        while name.utf8.count + suffix.utf8.count > 63 { name.removeLast() }
        return ServiceAdvert(instanceName: name + suffix, port: UInt16(clamping: lifecycle.listenPort), txt: txt)
    }

    /// Publishes and browses until the node stops; dials every hark service it finds.
    nonisolated func runDiscovery() async {
        let d = AvahiDiscovery(advert: await advert(), logger: logger)
        await setDiscovery(d)
        d.start()
        for await event in d.events {
            if Task.isCancelled { break }
            await discoveryEvent(event)
        }
        d.stop()
    }

    func setDiscovery(_ d: AvahiDiscovery) { discoveryState.browser = d }

    func discoveryEvent(_ event: DiscoveryEvent) {
        switch event {
        case .available:
            discoveryState.reasonLogged = nil
            discoveryState.status = DiscoveryStatus(state: "active", instanceName: discoveryState.status.instanceName ?? advert().instanceName)
            logger.info("discovery active (avahi)")
        case let .unavailable(reason):
            discoveryState.status = DiscoveryStatus(state: "unavailable", reason: reason)
            if discoveryState.reasonLogged != reason {
                discoveryState.reasonLogged = reason
                logger.warning("discovery unavailable; static peers (--peer) still work; retrying in the background",
                               metadata: ["reason": "\(reason)"])
            }
        case let .published(name):
            discoveryState.status = DiscoveryStatus(state: "active", instanceName: name)
        case let .found(sighting):
            guard let tok = sighting.txt["tok"], tok != Hex.encode(instanceToken) else { return }
            guard sighting.txt["v"] == "1" else {
                logger.debug("ignoring service of another protocol version", metadata: ["instance": "\(sighting.instanceName)"])
                return
            }
            discoveryState.sightings[tok] = sighting
            if let token = try? Hex.decode(tok), hasSession(instanceToken: token) {
                probeIfMoved(token: token, sighting: sighting)
                return
            }
            Task { await self.dialSighting(token: tok) }
        case let .lost(name, _):
            for (tok, s) in discoveryState.sightings where s.instanceName == name { discoveryState.sightings.removeValue(forKey: tok) }
        }
    }

    /// Dials a discovered service, trying its addresses in order (IPv4 first), and redials with
    /// backoff while it is still advertised and no channel is open (the back-off ends early when a
    /// local address appears, `AddressWatch`). `fresh`: just sighted, so
    /// wait 250 ms for its other addresses first; a redial after a closed channel starts at once.
    func dialSighting(token: String, fresh: Bool = true) async {
        // Avahi resolves each address family separately: give the others a moment so IPv4 is
        // tried first when a host has both.
        if fresh { try? await Task.sleep(for: .milliseconds(250)) }
        var delayMs = configuration.redialInitialMs
        for _ in 0..<50 {
            guard !lifecycle.stopped, let sighting = discoveryState.sightings[token] else { return }
            if let t = try? Hex.decode(token), hasSession(instanceToken: t) { return }
            let ordered = sighting.addresses.sorted { !$0.isIPv6 && $1.isIPv6 }
            let epoch = addressWatch.epoch
            var connected = false
            for a in ordered {
                guard let address = Self.socketAddress(a, port: Int(sighting.port)) else { continue }
                let label = a.isIPv6 ? "[\(a.ip)%\(a.scopeID)]:\(sighting.port)" : "\(a.ip):\(sighting.port)"
                if await dial(address, label: label, source: "avahi") { connected = true; break }
            }
            if connected { delayMs = configuration.redialInitialMs } else { delayMs = min(delayMs * 2, 10_000) }
            // A local address that appears (a link back up) ends the back-off: dial at once.
            if await addressWatch.sleep(ms: delayMs, since: epoch) { delayMs = configuration.redialInitialMs }
        }
    }

    /// A socket address for a resolved address, keeping the interface index as the IPv6 scope
    /// ID (needed for fe80::/10 link-local addresses).
    nonisolated static func socketAddress(_ a: ResolvedAddress, port: Int) -> SocketAddress? {
        if !a.isIPv6 { return try? SocketAddress(ipAddress: a.ip, port: port) }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = in_port_t(UInt16(port).bigEndian)
        sin6.sin6_scope_id = a.scopeID
        guard inet_pton(AF_INET6, a.ip, &sin6.sin6_addr) == 1 else { return nil }
        return SocketAddress(sin6, host: a.ip)
    }
}
