// `status` and `peers`: the node's state and its known peers as control views. Reads actor
// state; isolated to the actor.

import Foundation
import HarkControl
import HarkCrypto
import HarkStore

#if canImport(Glibc)
import Glibc
#endif

/// The node's version, reported by `status`.
public let harkVersion = "0.1.0"

extension Node {
    func currentPresence() -> [PresenceView] {
        signalState.lastPresence.values.sorted { $0.peerId < $1.peerId }
    }

    public func status() -> StatusResult {
        var s = StatusResult(peerId: peerID.description, fingerprint: peerID.fingerprint, displayName: identity.displayName,
                             tcpPort: lifecycle.listenPort, discovery: discoveryState.status, connectedPeers: peerTable.count,
                             groups: (try? store.allGroups().count) ?? 0, home: home.path, version: harkVersion,
                             pid: Int(getpid()), staticPeers: configuration.staticPeers)
        s.udpPort = signalState.udpPort
        s.role = configuration.role.rawValue
        s.presence = signalState.ownPresence.state == .away ? "away" : "online"
        var d = DatagramCountersView()
        d.sent = signalState.datagramCounters.sent
        d.accepted = signalState.datagramCounters.accepted
        d.replayed = signalState.datagramCounters.replayed
        d.unknownKey = signalState.datagramCounters.unknownKey
        d.authenticationFailed = signalState.datagramCounters.authenticationFailed
        d.malformed = signalState.datagramCounters.malformed
        s.datagrams = d
        s.files = files.counters.withLock { $0 }
        let me = identity.signing.publicKey
        s.unread = ((try? store.allGroups()) ?? []).reduce(0) { $0 + ((try? store.unreadCount(group: $1.id, reader: me)) ?? 0) }
        s.files.activeFetches = files.allJobs.count
        return s
    }

    public func peers() -> [PeerView] {
        var out: [PeerView] = []
        let forked = equivocators()
        let byPeer = Dictionary(grouping: peerTable.sessions, by: \.peerID)
        for (id, info) in peerTable.info {
            let channels = byPeer[id] ?? []
            let session = channels.first
            out.append(PeerView(peerId: id.description, fingerprint: id.fingerprint, displayName: info.displayName,
                                connected: session != nil, address: session?.remoteAddress ?? info.address,
                                direction: session?.direction.rawValue, source: session?.source ?? info.source,
                                lastSeenMs: session != nil ? clock.wallMs() : info.lastSeenMs,
                                equivocated: forked.contains(id.key), listenPort: info.listenPort))
            let presence = presenceView(of: id, channels: channels)
            out[out.count - 1].presence = presence.state
            out[out.count - 1].statusText = presence.statusText
            out[out.count - 1].verified = isVerified(id.key)
            out[out.count - 1].warning = trustWarning(for: id.key)
            out[out.count - 1].alias = alias(of: id.key)
            out[out.count - 1].blocked = isBlocked(id.key)
        }
        // Keys the user aliased or blocked stay listed while they are away.
        let records = Dictionary(((try? store.peers()) ?? []).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for (key, local) in trustCache().local where peerTable.info[PeerID(key)] == nil {
            let id = PeerID(key)
            let rec = records[key]
            var v = PeerView(peerId: id.description, fingerprint: id.fingerprint, displayName: rec?.displayName ?? displayName(of: key),
                             connected: false, address: rec?.lastAddress, direction: nil, source: nil, lastSeenMs: rec?.lastSeenMs ?? 0)
            v.verified = isVerified(key)
            v.warning = trustWarning(for: key)
            v.alias = local.alias
            v.blocked = local.blockedMs != nil
            out.append(v)
        }
        return out.sorted { ($0.connected ? 0 : 1, $0.displayName, $0.peerId) < ($1.connected ? 0 : 1, $1.displayName, $1.peerId) }
    }
}
